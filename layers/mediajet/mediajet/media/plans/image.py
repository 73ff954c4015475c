"""kind `image`: one still, from an image or from a video frame.

- Image input: Pillow alone (the static ffmpeg cannot decode PNG); `argv` is empty. Animated
  PNG/WebP/AVIF, which ffmpeg cannot decode either, also go to Pillow and give their first frame.
- Video input: ffmpeg seeks to `start` (`-ss` before `-i`: a fast seek that is still frame-exact
  when decoding) and pipes one frame as PPM; Pillow then resizes and encodes it, so stills from
  images and from videos share one resize and one set of encoders (transparent padding included).
- `start` past the end, or within its last half second, gives the last frame (a thumbnail job for
  many uploads should not fail on the short ones): ffmpeg reads the final seconds (`-sseof`) and keeps overwriting one
  PPM file (`-update 1`), which ends as the last decodable frame.
- Default format: the input's own (jpeg/png/webp/avif; gif, even animated, → png: the lossless
  still format with transparency), jpeg for a video or any other input. The file is `output.jpg`
  for jpeg.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from mediajet.errors import ProcessingError
from mediajet.media.inputs import input_args
from mediajet.media.plans import Plan
from mediajet.media.plans.common import ffmpeg_head, require_decodable_video, seconds
from mediajet.models.file import File
from mediajet.models.options import ImageOptions
from mediajet.settings import Settings

if TYPE_CHECKING:
    from PIL.Image import Image

EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}
# Input format (as probe names it) → default output format.
_SAME_FORMAT = {"jpeg": "jpeg", "png": "png", "webp": "webp", "avif": "avif", "gif": "png"}
# Formats Pillow decodes and this ffmpeg build cannot, even when animated (probe: kind video).
_PILLOW_ONLY = frozenset({"png", "webp", "avif"})
LAST_FRAME_FILE = ".last-frame.ppm"
# How much of the end ffmpeg reads to find the last frame; covers a video track that stops a
# little before the container's duration (audio running longer).
LAST_FRAME_WINDOW_S = 2.0
# A start this close to the end (or two frame intervals, if longer) takes the last frame: the
# video track often stops a frame or two before the container's duration (audio runs longer), and
# a frame up to half a second late at the very end beats a failed job.
END_MARGIN_S = 0.5


def plan(options: ImageOptions, source: File, src: Path, out_dir: Path, settings: Settings) -> Plan:
    """`settings` bound the picture Pillow opens (max_pixels, max_dimension). `finish` is a partial of a
    module-level function, so the server can run it in a worker process (`cpu_bound`)."""
    fmt = options.format or default_format(source)
    out = out_dir / f"output.{EXTENSIONS[fmt]}"
    if uses_pillow(source):
        return Plan(output=out, finish=partial(_finish_file, src, options, fmt, out, settings, True), cpu_bound=True)
    require_decodable_video(source, "an image")
    start = options.start or 0.0
    if past_last_frame(start, source):
        last = out_dir / LAST_FRAME_FILE
        return Plan(output=out, argv=last_frame_argv(src, last),
                    finish=partial(_finish_file, last, options, fmt, out, settings, False), cpu_bound=True)
    return Plan(output=out, argv=frame_argv(src, start), capture_stdout=True,
                finish=partial(_finish_frame, options, fmt, out, start, settings), cpu_bound=True)


def default_format(source: File) -> str:
    return _SAME_FORMAT.get(source.format or "", "jpeg")


def uses_pillow(source: File) -> bool:
    return source.kind == "image" or source.format in _PILLOW_ONLY


def past_last_frame(start: float, source: File) -> bool:
    if not source.duration:
        return False
    margin = max(END_MARGIN_S, 2 / source.fps) if source.fps else END_MARGIN_S
    return start > source.duration - margin


def frame_argv(src: Path, start: float) -> list[str]:
    pre = ["-ss", seconds(start)] if start > 0 else []
    return [*ffmpeg_head(), *input_args(src, pre=pre), "-map", "0:v:0", "-frames:v", "1",
            "-f", "image2pipe", "-c:v", "ppm", "pipe:1"]


def last_frame_argv(src: Path, target: Path) -> list[str]:
    return [*ffmpeg_head(), *input_args(src, pre=["-sseof", f"-{seconds(LAST_FRAME_WINDOW_S)}"]),
            "-map", "0:v:0", "-update", "1", "-f", "image2", "-c:v", "ppm", str(target)]


def _finish_file(path: Path, options: ImageOptions, fmt: str, out: Path, settings: Settings, keep: bool,
                 _stdout: bytes) -> File:
    return _render_file(path, options, fmt, out, settings, keep=keep)


def _finish_frame(options: ImageOptions, fmt: str, out: Path, start: float, settings: Settings,
                  stdout: bytes) -> File:
    return _render_frame(stdout, options, fmt, out, start, settings)


def _render_frame(stdout: bytes, options: ImageOptions, fmt: str, out: Path, start: float,
                  settings: Settings) -> File:
    from mediajet.media import stills

    if not stdout:
        # Only when the video track ends before the container does and `start` falls in between.
        raise ProcessingError(
            f"the video has no frame at or after start={seconds(start)} s; use an earlier start",
            kind="invalid_option", field="start",
        )
    return _render(stills.open_frame(stdout, settings), options, fmt, out, settings)


def _render_file(path: Path, options: ImageOptions, fmt: str, out: Path, settings: Settings, *,
                 keep: bool) -> File:
    from mediajet.media import stills

    if not keep and not path.exists():
        raise ProcessingError("no frame could be decoded near the end of the video", kind="unsupported_media")
    try:
        return _render(stills.open_image(path, settings), options, fmt, out, settings)
    finally:
        if not keep:
            path.unlink(missing_ok=True)  # scratch inside out_dir must not be exported


def _render(image: Image, options: ImageOptions, fmt: str, out: Path, settings: Settings) -> File:
    """Writes the still; its File comes from what was written (the server's worker process returns it, so
    the job does not open the result again to describe it)."""
    from mediajet.media import still_probe, stills

    geom = stills.geometry(stills.upright_size(image), options.width, options.height, options.effective_fit,
                           options.position)
    background = stills.parse_color(options.background, fmt)
    picture = stills.decode(image, settings, at_least=(geom.scale_w, geom.scale_h))
    result = stills.apply(picture, geom, background)
    stills.save(result, out, fmt, options.level, background=background)
    return still_probe.written(out, fmt, result.size)
