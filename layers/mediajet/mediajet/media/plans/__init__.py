"""Pure plan builders, one module per kind: (options, source File, paths) → a `Plan`.

Nothing here spawns a process or touches the disk; `mediajet.media.engine` executes plans through
the one runner. Plans are compared by exact argv lists in the unit tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mediajet.models.file import File


@dataclass(frozen=True)
class Plan:
    """What one encode does.

    `argv` is the full ffmpeg command, starting with the symbolic "ffmpeg" that the runner replaces
    with the binary's path (media/binaries.py), or empty when no ffmpeg run is needed (a PNG
    input that only Pillow decodes). `finish` runs after ffmpeg with its captured stdout (when
    `capture_stdout`) or b"": the Pillow half of stills and animated WebP; it returns the File of the still
    it wrote (known without reading it back), or None. With `cpu_bound`, `finish` is
    Pillow work that may run in a worker process (media/pillow_pool.py), so it is picklable: a
    `functools.partial` of a module-level function. `output` is the main file
    the job returns (the master playlist for HLS). `duration` is the length in seconds of the media
    ffmpeg produces, which turns `-progress` into percent.
    """

    output: Path
    argv: list[str] = field(default_factory=list)
    duration: float | None = None
    capture_stdout: bool = False
    finish: Callable[[bytes], File | None] | None = None
    cpu_bound: bool = False
