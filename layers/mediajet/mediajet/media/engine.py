"""Encode one input for one kind: build the plan (pure), run it through the runner, finish it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediajet.media import runner
from mediajet.media.plans import Plan
from mediajet.models.file import File
from mediajet.models.options import MediaOptions
from mediajet.settings import Settings, get_settings

if TYPE_CHECKING:
    from mediajet.media.pillow_pool import PillowPool


def build(kind: str, options: MediaOptions, source: File, src: Path, out_dir: Path,
          settings: Settings | None = None) -> Plan:
    """`settings`: the step's (`ctx.settings`); None means this process's (tests, benchmarks)."""
    if kind == "image":
        from mediajet.media.plans.image import plan as image_plan

        return image_plan(options, source, src, out_dir, settings or get_settings())  # type: ignore[arg-type]
    if kind == "video":
        from mediajet.media.plans.video import plan as build_plan
    elif kind == "audio":
        from mediajet.media.plans.audio import plan as build_plan
    elif kind == "animation":
        from mediajet.media.plans.animation import plan as build_plan
    elif kind == "adaptive_video":
        from mediajet.media.plans.hls import plan as build_plan
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return build_plan(options, source, src, out_dir)  # type: ignore[arg-type]


def plan(kind: str, options: MediaOptions, source: File, src: Path, out_dir: Path) -> list[str]:
    """The ffmpeg argv an encode runs (benchmarks time it bare)."""
    return build(kind, options, source, src, out_dir).argv


def encode_described(
    kind: str,
    options: MediaOptions,
    source: File,
    src: Path,
    out_dir: Path,
    *,
    timeout: float,
    on_progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
    stop: threading.Event | None = None,
    settings: Settings | None = None,
    pillow: PillowPool | None = None,
) -> tuple[Path, File | None]:
    """Run the plan; returns the main output file (inside `out_dir`) and, for a still, its File as the
    finish that wrote it knows it (else None: the caller probes). `pillow`: where a `cpu_bound` finish runs
    (the server's worker processes); None runs it in this thread."""
    # The runner starts ffmpeg in a private temporary directory, so relative paths would point there.
    src, out_dir = Path(src).resolve(), Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    todo = build(kind, options, source, src, out_dir, settings)
    stdout, described = b"", None
    if todo.argv:
        result = runner.run(todo.argv, timeout=timeout, duration=todo.duration, on_progress=on_progress,
                            cancel=cancel, stop=stop, capture_stdout=todo.capture_stdout)
        stdout = result.stdout
    if todo.finish is not None and todo.cpu_bound and pillow is not None:
        remaining = max(1.0, timeout - (time.monotonic() - started))
        described = pillow.run(todo.finish, stdout, timeout=remaining, cancel=cancel, stop=stop)
    elif todo.finish is not None:
        described = todo.finish(stdout)
    if on_progress is not None:
        on_progress(100)
    return todo.output, described


def encode(kind: str, options: MediaOptions, source: File, src: Path, out_dir: Path, **kwargs: Any) -> Path:
    """`encode_described`'s output file alone."""
    return encode_described(kind, options, source, src, out_dir, **kwargs)[0]
