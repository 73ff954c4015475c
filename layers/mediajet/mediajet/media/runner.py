"""The one place that spawns processes: argv lists only, a wall-clock timeout, cancellation,
ffmpeg `-progress` parsed into 0-100 callbacks, and a typed error with the exit code and stderr tail.

Children get a minimal environment (no credentials or API keys leak into ffmpeg) and run in a
private temporary directory that is removed afterwards, in a session of their own (a Ctrl-C on the
terminal reaches only us; we decide what happens to them).

What a child may cost, and how it ends:

- memory: RLIMIT_DATA (writable private memory: heap and anonymous mappings) of
  `memory_limit_mb()`; an encoder that runs out fails the job with kind `out_of_memory`.
  RLIMIT_AS would also count thread stacks, mapped files and the address space that malloc
  reserves per thread without using it, which grows with the core count, not with the job.
- pictures: every decoder runs with `-max_pixels` (media/inputs.py); the first frame above it stops
  the child at once with kind `resolution_too_large` (ffmpeg itself would skip the frame and go on).
- shutdown: when `stop` is set the child gets SIGTERM, then SIGKILL after STOP_GRACE_S, and
  `ShuttingDown` is raised so the job is left to resume. On Linux a child also dies with the thread
  that started it (PR_SET_PDEATHSIG), so even a kill -9 of the server leaves no encoder running;
  that thread always waits here for the child, so it never exits first.

The limits themselves (memory limit, the child's setup between fork and exec, /proc) are media/limits.py's.
"""

from __future__ import annotations

import logging
import os
import re
import select
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from mediajet.errors import Cancelled, ProcessFailed, ShuttingDown
from mediajet.media.child_output import Progress, ProgressCallback, Stderr, drain_stderr, drain_stdout
from mediajet.media.limits import (  # noqa: F401  (also read as runner.memory_limit_mb, runner.MB, …)
    AUTO_MEMORY_MIN_MB,
    AUTO_MEMORY_SHARE,
    MB,
    child_setup,
    crashed_at_limit,
    data_mb,
    machine_memory_mb,
    memory_limit_mb,
)
from mediajet.settings import get_settings

log = logging.getLogger("mediajet.media")

CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
POLL_S = 0.1
STOP_GRACE_S = 2.0  # ffmpeg finishes its output on SIGTERM; at shutdown nobody wants it


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int
    stdout: bytes
    stderr_tail: str
    seconds: float


def command_line(argv: Sequence[str]) -> str:
    """Shell-quoted, ready to paste (what `--debug` prints)."""
    return shlex.join(argv)


# --- stopping -----------------------------------------------------------------------------------


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    """The child leads its own session, so its group is its pid; anything it started goes too."""
    if proc.poll() is not None:  # reaped: the pid may already belong to someone else
        return
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _terminate(proc: subprocess.Popen[bytes], grace: float) -> None:
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGKILL)


# --- running ------------------------------------------------------------------------------------


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    duration: float | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    stop: threading.Event | None = None,
    capture_stdout: bool = False,
    error_kind: str = "encode_failed",
    what: str | None = None,
) -> ProcessResult:
    """Run `argv` to completion. Raises ProcessFailed (exit code, stderr tail) with `error_kind`, or
    with kind `timeout`, `resolution_too_large` or `out_of_memory`; Cancelled when `cancel` is set;
    ShuttingDown when `stop` is set (also before it starts). `duration` (seconds of media) scales
    `-progress` into percent."""
    from mediajet.media.binaries import executable_argv  # a plan's symbolic "ffmpeg"/"ffprobe" → the binary

    argv = executable_argv(argv)
    label = what or argv[0].rsplit("/", 1)[-1].split("-")[0]
    if stop is not None and stop.is_set():
        raise ShuttingDown(f"{label} was not started: this process is shutting down")
    log.debug("$ %s", command_line(argv))
    out: list[bytes] = []
    said = Stderr(Progress(duration, on_progress))
    limit_mb = memory_limit_mb(get_settings())
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
            preexec_fn=child_setup(limit_mb * MB if limit_mb else None, os.getpid()),  # noqa: PLW1509
        )
        readers = [threading.Thread(target=drain_stderr, args=(proc.stderr, said), daemon=True)]
        if capture_stdout:
            readers.append(threading.Thread(target=drain_stdout, args=(proc.stdout, out), daemon=True))
        for reader in readers:
            reader.start()
        stopped_by, peak_mb = _wait(proc, said, deadline=started + timeout, cancel=cancel, stop=stop,
                                    limit_mb=limit_mb)
        exit_code = proc.wait()
        for reader in readers:
            reader.join(timeout=5)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    elapsed = time.monotonic() - started
    stderr_tail = "\n".join(said.tail)
    if stderr_tail:
        log.debug("%s stderr (tail):\n%s", label, stderr_tail)
    if stopped_by == "stop":
        raise ShuttingDown(f"{label} was stopped because this process is shutting down")
    if stopped_by == "cancel":
        raise Cancelled(f"{label} was stopped because the job was cancelled")
    if stopped_by == "timeout":
        raise ProcessFailed(f"{label} took longer than {timeout:.0f} s and was stopped", kind="timeout",
                            exit_code=exit_code, stderr_tail=stderr_tail)
    if said.too_large is not None:  # also when the child got to exit on its own first
        raise _too_large(said.too_large, exit_code, stderr_tail)
    if exit_code != 0:
        if said.out_of_memory or crashed_at_limit(exit_code, peak_mb, limit_mb):
            raise ProcessFailed(_out_of_memory_message(label, limit_mb), kind="out_of_memory",
                                exit_code=exit_code, stderr_tail=stderr_tail)
        last = said.tail[-1] if said.tail else "no error output"
        raise ProcessFailed(f"{label} failed (exit code {exit_code}): {last}", kind=error_kind,
                            exit_code=exit_code, stderr_tail=stderr_tail)
    said.progress.report(100)
    return ProcessResult(exit_code, b"".join(out), stderr_tail, elapsed)


def _wait(proc: subprocess.Popen[bytes], said: Stderr, *, deadline: float, cancel: threading.Event | None,
          stop: threading.Event | None, limit_mb: int | None) -> tuple[str | None, int]:
    """Wait for the child, or stop it: returns what stopped it ("stop", "cancel", "timeout", "too_large"
    or None when it exited on its own) and its peak memory in MB (watched only under a limit)."""
    peak_mb = 0
    watch = _ExitWatch(proc)
    try:
        while proc.poll() is None:
            if stop is not None and stop.is_set():
                _terminate(proc, STOP_GRACE_S)
                return "stop", peak_mb
            stopped_by = None
            if cancel is not None and cancel.is_set():
                stopped_by = "cancel"
            elif time.monotonic() > deadline:
                stopped_by = "timeout"
            elif said.too_large is not None:
                stopped_by = "too_large"
            if stopped_by:
                proc.kill()
                return stopped_by, peak_mb
            if limit_mb:
                peak_mb = max(peak_mb, data_mb(proc.pid))
            watch.sleep(POLL_S)
        return None, peak_mb
    finally:
        watch.close()


class _ExitWatch:
    """Sleeps of at most `seconds` that end when the child exits. On a pidfd (Linux 5.3+) the sleep
    wakes at the exit; Popen.wait(timeout) polls with sleeps that grow to 50 ms, which added ~25 ms to
    every child (~20 ms to a 40 ms ffprobe), three or more times per job."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.poller = select.poll()  # not select(): a process with 1024 descriptors open gets higher numbers
        try:
            self.pidfd: int | None = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):  # an older kernel, or not Linux
            self.pidfd = None
        else:
            self.poller.register(self.pidfd, select.POLLIN)

    def sleep(self, seconds: float) -> None:
        if self.pidfd is not None:
            self.poller.poll(seconds * 1000)
            return
        try:
            self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


def _too_large(match: re.Match[str], exit_code: int, stderr_tail: str) -> ProcessFailed:
    width, height, limit = match.groups()
    return ProcessFailed(
        f"the input has a {width}x{height} picture ({int(width) * int(height)} pixels), over the limit of "
        f"{limit} pixels (MEDIAJET_MAX_PIXELS) that holds for every frame of a video, not only its first. "
        "Send a smaller input", kind="resolution_too_large", exit_code=exit_code, stderr_tail=stderr_tail)


def _out_of_memory_message(label: str, limit_mb: int | None) -> str:
    if limit_mb:
        return (f"{label} ran out of memory: one job may use {limit_mb} MB (MEDIAJET_MAX_JOB_MEMORY_MB). "
                "Ask for a smaller size or a cheaper codec, or raise the limit")
    return f"{label} ran out of memory on this machine. Ask for a smaller size or a cheaper codec"
