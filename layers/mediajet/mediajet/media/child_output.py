"""What a child says: ffmpeg's `-progress` lines turned into percentages, a tail of its other lines for the
error message, and the lines that give a failure its kind (media/runner.py reads both pipes with these)."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from typing import IO

ProgressCallback = Callable[[int], None]

_PROGRESS_KEYS = ("out_time_us=", "out_time_ms=", "progress=", "frame=", "fps=", "bitrate=", "total_size=",
                  "out_time=", "dup_frames=", "drop_frames=", "speed=", "stream_")
TAIL_LINES = 25
# libavutil's words when a decoder meets a picture above -max_pixels.
_DECODER_CAP = re.compile(r"Picture size (\d+)x(\d+) exceeds specified max pixel count (\d+)")
# What ffmpeg and the encoders print when an allocation fails: x264/x265 "malloc of size N failed",
# libvpx "Memory allocation error", SVT-AV1 "insufficient resources", ffmpeg ENOMEM "Out of memory".
_OUT_OF_MEMORY = re.compile(r"malloc of size|memory allocation|out of memory|cannot allocate memory|"
                            r"insufficient resources|failed to allocate", re.IGNORECASE)


class Progress:
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


class Stderr:
    """Everything ffmpeg says: progress, a tail for the error message, and the lines that give a
    failure its kind (they may be long gone from the tail by the time the child exits)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.too_large: re.Match[str] | None = None
        self.out_of_memory = False

    def feed(self, line: str) -> None:
        if line.startswith(_PROGRESS_KEYS):
            self.progress.feed(line)
            return
        if not line:
            return
        self.tail.append(line)
        if self.too_large is None:
            self.too_large = _DECODER_CAP.search(line)
        if not self.out_of_memory and _OUT_OF_MEMORY.search(line):
            self.out_of_memory = True


def drain_stderr(stream: IO[bytes], said: Stderr) -> None:
    for raw in iter(stream.readline, b""):
        said.feed(raw.decode("utf-8", "replace").rstrip())


def drain_stdout(stream: IO[bytes], sink: list[bytes]) -> None:
    sink.extend(iter(lambda: stream.read(1 << 16), b""))
