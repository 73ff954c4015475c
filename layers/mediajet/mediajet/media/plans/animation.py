"""kind `animation`: a looping GIF or animated WebP cut from a video between `start` and `end`.

- Trim: `-ss start` before `-i` (ffmpeg seeks instead of decoding from 0) and `-t (end - start)` on
  the output, as for video (plans.common.trim). Then `fps` (default 10), then scale/crop/pad (sizing).
- gif: one ffmpeg run that builds a palette from the clip and maps it onto every frame
  (`split → palettegen → paletteuse`), looping forever (`-loop 0`). Colours and dithering per
  level: `GIF_PALETTE` in plans.common (the quality table). `diff_mode=rectangle` re-encodes only
  the changed area of a frame.
  GIF transparency is 1-bit, so `contain` pads with black unless `background` says otherwise.
- webp: the static ffmpeg has no WebP encoder, so it writes the trimmed, resized frames as raw RGB
  (RGBA when padding is transparent, the default for `contain`) into one scratch file in `out_dir`;
  Pillow then assembles the animated WebP one frame at a time (quality: the webp row of
  `STILL_QUALITY` in plans.common), 1000/fps ms per frame, looping forever, and deletes the
  scratch file.
  Raw frames rather than PPM: PPM has no alpha, and one fixed-size frame stride needs no parsing.
- Inputs: a video or a GIF (ffmpeg decodes GIF). A still image is refused with `unsupported_media`:
  looping one picture is not an animation a user wants (kind `image` converts stills); so are
  animated PNG/WebP/AVIF, which this ffmpeg cannot decode. A `start` at or past the end of the
  video is refused with `invalid_option`.
"""

from __future__ import annotations

from pathlib import Path

from mediajet.errors import ProcessingError
from mediajet.media.inputs import input_args
from mediajet.media.plans import Plan
from mediajet.media.plans.common import GIF_PALETTE, ffmpeg_head, require_decodable_video, seconds, trim
from mediajet.media.sizing import Geometry, ffmpeg_color, ffmpeg_filters, fit_geometry
from mediajet.models.file import File
from mediajet.models.options import AnimationOptions

FRAMES_FILE = ".frames.raw"
TRANSPARENT = "0x00000000"


def plan(options: AnimationOptions, source: File, src: Path, out_dir: Path) -> Plan:
    _require_motion(source)
    cut = trim(options.start, options.end, source)
    geom = _geometry(options, source)
    reading = [*input_args(src, pre=cut.pre), *cut.post]
    if options.format == "gif":
        out = out_dir / "output.gif"
        return Plan(output=out, argv=gif_argv(reading, options, geom, out), duration=cut.duration)
    out = out_dir / "output.webp"
    frames = out_dir / FRAMES_FILE
    mode = "RGBA" if _pads_transparent(options, geom) else "RGB"
    size = (geom.out_w, geom.out_h)
    return Plan(output=out, argv=webp_frames_argv(reading, options, geom, mode, frames), duration=cut.duration,
                finish=lambda _stdout: _assemble_webp(frames, size, mode, out, options))


def gif_argv(reading: list[str], options: AnimationOptions, geom: Geometry, out: Path) -> list[str]:
    colours, dither = GIF_PALETTE[options.level]
    graph = ",".join([_fps(options.fps), *ffmpeg_filters(geom, options.background)])
    graph += (f",split[a][b];[a]palettegen=max_colors={colours}[p];"
              f"[b][p]paletteuse=dither={dither}:diff_mode=rectangle")
    return [*ffmpeg_head(), *reading, "-map", "0:v:0", "-vf", graph, "-loop", "0", "-f", "gif", str(out)]


def webp_frames_argv(reading: list[str], options: AnimationOptions, geom: Geometry, mode: str,
                     frames: Path) -> list[str]:
    filters = [_fps(options.fps), *ffmpeg_filters(geom, options.background, default_bg=TRANSPARENT)]
    if mode == "RGBA":
        # pad only keeps alpha when it works in an alpha pixel format
        at = next(i for i, f in enumerate(filters) if f.startswith("pad="))
        filters.insert(at, "format=rgba")
    pix_fmt = "rgba" if mode == "RGBA" else "rgb24"
    return [*ffmpeg_head(), *reading, "-map", "0:v:0", "-vf", ",".join(filters),
            "-f", "rawvideo", "-pix_fmt", pix_fmt, str(frames)]


def _require_motion(source: File) -> None:
    if source.kind == "image" and source.format != "gif":
        raise ProcessingError(
            "animation needs a video (or GIF) input; this input is a still image. "
            "Use kind image to resize or convert a still.",
            kind="unsupported_media",
        )
    require_decodable_video(source, "an animation")


def _geometry(options: AnimationOptions, source: File) -> Geometry:
    if not (source.width and source.height):
        raise ProcessingError("the input's picture size is unknown; it may not be a playable video",
                              kind="unsupported_media")
    return fit_geometry(source.width, source.height, options.width, options.height, options.effective_fit,
                        options.position)


def _pads_transparent(options: AnimationOptions, geom: Geometry) -> bool:
    pads = geom.mode == "contain" and (geom.scale_w, geom.scale_h) != (geom.out_w, geom.out_h)
    colour = ffmpeg_color(options.background, TRANSPARENT)
    return pads and (len(colour) == 10 and not colour.lower().endswith("ff"))


def _fps(fps: float) -> str:
    return f"fps={seconds(fps)}"


def _assemble_webp(frames: Path, size: tuple[int, int], mode: str, out: Path, options: AnimationOptions) -> None:
    from mediajet.media import stills

    try:
        stills.write_animated_webp(frames, size, mode, out, fps=options.fps, level=options.level)
    finally:
        frames.unlink(missing_ok=True)  # scratch inside out_dir must not be exported
