"""kind `video`: one ffmpeg run, mp4/webm/mov × h264/h265/vp9/av1 (spec §1.5.1).

- Constant quality per level (common.VIDEO_CRF); a `bitrate` switches to a bitrate target with a
  peak of 1.5× and a two-second-ish buffer, so players on a fixed pipe are not starved.
- Size: width/height/fit/position/background through sizing.py, rounded to even numbers, 8-bit
  4:2:0 (`yuv420p`): the one pixel format every browser and phone decodes for all four codecs.
- Audio: AAC in mp4/mov, Opus in webm; `mute` or an input without sound gives `-an`.
- mp4/mov get `+faststart` (the index first: playback starts before the download ends) and H.265
  the `hvc1` tag (Apple players refuse the default `hev1`).
"""

from __future__ import annotations

from pathlib import Path

from mediajet.errors import ProcessingError
from mediajet.media.inputs import input_args
from mediajet.media.plans import Plan
from mediajet.media.plans.common import (
    AAC_BITRATE,
    OPUS_BITRATE,
    VIDEO_CRF,
    ffmpeg_head,
    kbps,
    require_decodable_video,
    seconds,
    trim,
)
from mediajet.media.sizing import ffmpeg_filters, fit_geometry
from mediajet.models.file import File
from mediajet.models.options import VideoOptions

ENCODERS = {"h264": "libx264", "h265": "libx265", "vp9": "libvpx-vp9", "av1": "libsvtav1"}
# Speed settings: each is the point past which going slower buys only a few percent of size.
SPEED: dict[str, list[str]] = {
    # x264 "fast": ~1.5x the speed of "medium" for ~3% more bits at the same CRF.
    "h264": ["-preset", "fast"],
    # x265 "fast": about twice as fast as "medium" and still well ahead of x264 on size. x265 logs
    # its settings to stderr unless told otherwise, which would bury ffmpeg's own error lines.
    "h265": ["-preset", "fast", "-x265-params", "log-level=error"],
    # libvpx "good" at cpu-used 4 is the usual single-pass VOD setting (0-2 are several times
    # slower); row-mt lets it use every core even for small frames.
    "vp9": ["-deadline", "good", "-cpu-used", "4", "-row-mt", "1"],
    # SVT-AV1 presets below 8 cost several times the time for a few percent; 8 keeps AV1 within
    # reach of x265 "medium" speed.
    "av1": ["-preset", "8"],
}
MOV_FAMILY = ("mp4", "mov")
MIN_SIDE = {"h265": 16}  # x265 refuses anything smaller (measured); the others go down to 2x2


def plan(options: VideoOptions, source: File, src: Path, out_dir: Path) -> Plan:
    require_decodable_video(source, "a video")
    codec = options.video_codec
    cut = trim(options.start, options.end, source)
    out = out_dir.absolute() / f"output.{options.format}"
    argv = [
        *ffmpeg_head(), *input_args(src.absolute(), pre=cut.pre), *cut.post,
        *video_filters(options, source),
        *codec_args(codec, options.level, options.bitrate),
        *audio_args(options, source),
        "-sn", "-dn",  # subtitle/data tracks (timecodes, bitmap subtitles) cannot go in every container
        *container_args(options.format),
        str(out),
    ]
    return Plan(output=out, argv=argv, duration=cut.duration)


def video_filters(options: VideoOptions, source: File) -> list[str]:
    """fps first (fewer frames to scale when it lowers the rate), then scale/crop/pad."""
    filters = [f"fps={seconds(options.fps)}"] if options.fps else []
    if not (source.width and source.height):
        if options.width is not None or options.height is not None:
            raise ProcessingError("the input's picture size is unknown, so it cannot be resized",
                                  kind="unsupported_media")
    else:
        geometry = fit_geometry(source.width, source.height, options.width, options.height,
                                options.effective_fit, options.position, even=True)
        _check_min_size(options.video_codec, geometry.out_w, geometry.out_h)
        filters += ffmpeg_filters(geometry, options.background)
    return ["-vf", ",".join(filters)] if filters else []


def _check_min_size(codec: str, width: int, height: int) -> None:
    smallest = MIN_SIDE.get(codec, 2)
    if min(width, height) < smallest:
        raise ProcessingError(
            f"{codec} cannot encode a {width}x{height} picture: each side needs at least {smallest} pixels",
            kind="invalid_option", field="width" if width < smallest else "height",
        )


def codec_args(codec: str, level: str, bitrate: int | None, *, tagged: bool = True) -> list[str]:
    """`tagged`: with the container's codec tag (a chunk's intermediate file gets it at the join)."""
    args = ["-c:v", ENCODERS[codec], *SPEED[codec]]
    if bitrate:
        args += bitrate_args(codec, bitrate)
    elif codec == "vp9":
        # -b:v 0 puts libvpx in pure constant-quality mode; otherwise CRF is only a ceiling.
        args += ["-crf", str(VIDEO_CRF[codec][level]), "-b:v", "0"]
    else:
        args += ["-crf", str(VIDEO_CRF[codec][level])]
    if codec == "h265" and tagged:
        args += ["-tag:v", "hvc1"]
    return [*args, "-pix_fmt", "yuv420p"]


def bitrate_args(codec: str, bitrate: int) -> list[str]:
    if codec == "av1":
        return ["-b:v", kbps(bitrate)]  # SVT-AV1 accepts a peak rate only in CRF mode
    return ["-b:v", kbps(bitrate), "-maxrate", kbps(bitrate * 3 // 2), "-bufsize", kbps(bitrate * 2)]


def audio_args(options: VideoOptions, source: File) -> list[str]:
    if options.mute or not source.has_audio:
        return ["-an"]
    if options.format == "webm":
        return ["-c:a", "libopus", "-b:a", kbps(OPUS_BITRATE[options.level])]
    return ["-c:a", "aac", "-b:a", kbps(AAC_BITRATE[options.level])]


def container_args(fmt: str) -> list[str]:
    if fmt in MOV_FAMILY:
        return ["-f", fmt, "-movflags", "+faststart"]
    return ["-f", fmt]
