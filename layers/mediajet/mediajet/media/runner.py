"""The one place that spawns processes: argv lists only, a wall-clock timeout, cancellation,
ffmpeg `-progress` parsed into 0-100 callbacks, and a typed error with the exit code and stderr tail.

Children get a minimal environment (no credentials or API keys leak into ffmpeg) and run in a
private temporary directory that is removed afterwards.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

from mediajet.errors import Cancelled, ProcessFailed

log = logging.getLogger("mediajet.media")

ProgressCallback = Callable[[int], None]
CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
_PROGRESS_KEYS = ("out_time_us=", "out_time_ms=", "progress=", "frame=", "fps=", "bitrate=", "total_size=",
                  "out_time=", "dup_frames=", "drop_frames=", "speed=", "stream_")
TAIL_LINES = 25


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int
    stdout: bytes
    stderr_tail: str
    seconds: float


class _Progress:
    """Turns `out_time_us=` lines into whole percentages, reported only when they change."""

    def __init__(self, duration: float | None, callback: ProgressCallback | None) -> None:
        self.duration = duration
        self.callback = callback
        self.last = -1

    def feed(self, line: str) -> None:
        if not (self.callback and self.duration and self.duration > 0):
            return
        if line.startswith(("out_time_us=", "out_time_ms=")):  # both are microseconds in ffmpeg
            try:
                seconds = int(line.split("=", 1)[1]) / 1_000_000
            except ValueError:
                return
            self.report(min(99, int(seconds * 100 / self.duration)))
        elif line == "progress=end":
            self.report(100)

    def report(self, percent: int) -> None:
        if percent > self.last and self.callback:
            self.last = percent
            self.callback(percent)


def _drain_stderr(stream: IO[bytes], tail: deque[str], progress: _Progress) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip()
        if line.startswith(_PROGRESS_KEYS):
            progress.feed(line)
        elif line:
            tail.append(line)


def _drain_stdout(stream: IO[bytes], sink: list[bytes]) -> None:
    sink.extend(iter(lambda: stream.read(1 << 16), b""))


def command_line(argv: Sequence[str]) -> str:
    """Shell-quoted, ready to paste (what `--debug` prints)."""
    return shlex.join(argv)


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    duration: float | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    capture_stdout: bool = False,
    error_kind: str = "encode_failed",
    what: str | None = None,
) -> ProcessResult:
    """Run `argv` to completion. Raises ProcessFailed (exit code, stderr tail), ProcessFailed with
    kind `timeout`, or Cancelled. `duration` (seconds of media) scales `-progress` into percent."""
    label = what or argv[0].rsplit("/", 1)[-1].split("-")[0]
    log.debug("$ %s", command_line(argv))
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    out: list[bytes] = []
    progress = _Progress(duration, on_progress)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mediajet-proc-") as workdir:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=workdir,
            env=CHILD_ENV,
            start_new_session=True,
        )
        readers = [threading.Thread(target=_drain_stderr, args=(proc.stderr, tail, progress), daemon=True)]
        if capture_stdout:
            readers.append(threading.Thread(target=_drain_stdout, args=(proc.stdout, out), daemon=True))
        for reader in readers:
            reader.start()
        stopped_by: str | None = None
        deadline = started + timeout
        while proc.poll() is None:
            if cancel is not None and cancel.is_set():
                stopped_by = "cancel"
            elif time.monotonic() > deadline:
                stopped_by = "timeout"
            if stopped_by:
                proc.kill()
                break
            try:
                proc.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                pass
        exit_code = proc.wait()
        for reader in readers:
            reader.join(timeout=5)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    elapsed = time.monotonic() - started
    stderr_tail = "\n".join(tail)
    if stderr_tail:
        log.debug("%s stderr (tail):\n%s", label, stderr_tail)
    if stopped_by == "cancel":
        raise Cancelled(f"{label} was stopped because the job was cancelled")
    if stopped_by == "timeout":
        raise ProcessFailed(f"{label} took longer than {timeout:.0f} s and was stopped", kind="timeout",
                            exit_code=exit_code, stderr_tail=stderr_tail)
    if exit_code != 0:
        last = tail[-1] if tail else "no error output"
        raise ProcessFailed(f"{label} failed (exit code {exit_code}): {last}", kind=error_kind,
                            exit_code=exit_code, stderr_tail=stderr_tail)
    progress.report(100)
    return ProcessResult(exit_code, b"".join(out), stderr_tail, elapsed)
