"""kind `adaptive_video`: HLS from one ffmpeg run (spec §1.5.5, DESIGN.md "adaptive_video").

Layout under `out_dir`: `master.m3u8`, and per rendition `<name>/stream.m3u8` + `segment-N.ts`
(6 s MPEG-TS segments, VOD playlists). The picture is decoded once, sized once
(width/height/fit/position/background), then split into one H.264 + AAC variant per rung.

The ladder is named and chosen by the short side of the output (so portrait video gets the same
rungs as landscape). The top rendition is the output itself (the input's size, or the requested
one), brought down to 1080p when larger; below it come the rungs 720/480/360/240p that are smaller,
so nothing is upscaled and there is always at least one rendition. Each rung encodes at the H.264
quality level's CRF, capped at its peak bitrate, which is also what the master playlist advertises.
Keyframes are forced every 6 s so all renditions cut their segments at the same instants and
players can switch between them at any segment.

No video track: one audio-only rendition (`audio/`). `mute`: video-only renditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mediajet.errors import ProcessingError
from mediajet.media.inputs import input_args
from mediajet.media.plans import Plan
from mediajet.media.plans.common import (
    AAC_BITRATE,
    VIDEO_CRF,
    ffmpeg_head,
    kbps,
    require_decodable_video,
    trim,
)
from mediajet.media.plans.video import SPEED
from mediajet.media.sizing import Geometry, ffmpeg_filters, fit_geometry
from mediajet.models.file import File
from mediajet.models.options import AdaptiveOptions

SEGMENT_SECONDS = 6
MASTER = "master.m3u8"
# (short side in pixels, peak video bitrate at medium quality in bit/s), largest first.
LADDER: tuple[tuple[int, int], ...] = (
    (1080, 5_000_000), (720, 2_800_000), (480, 1_400_000), (360, 800_000), (240, 400_000),
)
# A rung this close below the top rendition would look the same and cost a whole encode.
NEAR_DUPLICATE = 0.9
MIN_PEAK = 150_000
# Quality levels scale the peak bitrates; the CRF of the level decides how much of it is used.
PEAK_SCALE = {"very_low": 0.5, "low": 0.75, "medium": 1.0, "high": 1.4, "very_high": 1.8}


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int
    height: int
    peak: int  # bit/s


def plan(options: AdaptiveOptions, source: File, src: Path, out_dir: Path) -> Plan:
    has_audio = source.has_audio and not options.mute
    if source.has_video and source.kind != "audio":
        require_decodable_video(source, "adaptive video")
        geometry, renditions = renditions_for(options, source)
        streams = video_streams(geometry, options.background, renditions, options.level, has_audio)
        variants = variant_map(renditions, has_audio)
    elif has_audio:
        streams = ["-map", "0:a:0"]
        variants = "a:0,name:audio"
    elif source.has_audio:
        raise ProcessingError("the input has no video and mute removes its audio: nothing is left to stream",
                              kind="invalid_option")
    else:
        raise ProcessingError("the input has no video or audio track to stream", kind="unsupported_media")
    if has_audio:
        streams += audio_codec(options.level)
    cut = trim(options.start, options.end, source)
    root = out_dir.absolute()
    argv = [*ffmpeg_head(), *input_args(src.absolute(), pre=cut.pre), *cut.post, *streams,
            *hls_args(root, variants)]
    return Plan(output=root / MASTER, argv=argv, duration=cut.duration)


def audio_codec(level: str) -> list[str]:
    """Every variant's sound: AAC at the level's bitrate (what HLS players all decode)."""
    return ["-c:a", "aac", "-b:a", kbps(AAC_BITRATE[level])]


def variant_map(renditions: list[Rendition], with_audio: bool) -> str:
    """`-var_stream_map`: variant i is video stream i (and audio stream i), in a folder named after its rung."""
    return " ".join(f"v:{i},a:{i},name:{r.name}" if with_audio else f"v:{i},name:{r.name}"
                    for i, r in enumerate(renditions))


def renditions_for(options: AdaptiveOptions, source: File) -> tuple[Geometry, list[Rendition]]:
    geometry = _geometry(options, source)
    return geometry, ladder(geometry.out_w, geometry.out_h, options.level)


def _geometry(options: AdaptiveOptions, source: File) -> Geometry:
    if not (source.width and source.height):
        raise ProcessingError("the input's picture size is unknown, so no renditions can be sized",
                              kind="unsupported_media")
    return fit_geometry(source.width, source.height, options.width, options.height, options.effective_fit,
                        options.position, even=True)


def ladder(width: int, height: int, level: str = "medium") -> list[Rendition]:
    """The renditions for an output of `width`×`height`, largest first."""
    short = min(width, height)
    top = min(short, LADDER[0][0])
    sides = [top, *(side for side, _ in LADDER if side < top * NEAR_DUPLICATE)]
    scale = PEAK_SCALE[level]
    renditions = []
    for side in sides:
        if side == short:
            size = (width, height)
        else:
            size = (_even(width * side / short), _even(height * side / short))
        renditions.append(Rendition(f"{side}p", *size, peak=int(peak_bitrate(side) * scale) // 1000 * 1000))
    return renditions


def peak_bitrate(side: int) -> int:
    """A rung's own peak, or for an in-between size the next rung up's, scaled by the pixel count."""
    above = [(rung, peak) for rung, peak in LADDER if rung >= side]
    rung, peak = above[-1] if above else LADDER[-1]
    return max(MIN_PEAK, int(peak * (side / rung) ** 2))


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def video_streams(geometry: Geometry, background: str | None, renditions: list[Rendition], level: str,
                  with_audio: bool) -> list[str]:
    """The filter graph (size once, split, scale per rung), the maps and the per-rung encoder caps."""
    sized = ffmpeg_filters(geometry, background)
    count = len(renditions)
    scales = [f"scale={r.width}:{r.height}:flags=bicubic,setsar=1[v{i}]" for i, r in enumerate(renditions)]
    if count == 1:
        graph = "[0:v:0]" + ",".join([*sized, scales[0]])
    else:
        head = "[0:v:0]" + ",".join([*sized, f"split={count}"]) + "".join(f"[s{i}]" for i in range(count))
        graph = ";".join([head, *(f"[s{i}]{scale}" for i, scale in enumerate(scales))])
    args = ["-filter_complex", graph]
    for i in range(count):
        args += ["-map", f"[v{i}]"]
    if with_audio:
        args += ["-map", "0:a:0"] * count  # one audio copy per variant: each variant is self-contained
    args += ["-c:v", "libx264", *SPEED["h264"], "-crf", str(VIDEO_CRF["h264"][level]), "-pix_fmt", "yuv420p"]
    for i, r in enumerate(renditions):
        args += [f"-maxrate:v:{i}", kbps(r.peak), f"-bufsize:v:{i}", kbps(r.peak * 2)]
    return [*args, "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})"]


def hls_args(root: Path, var_stream_map: str) -> list[str]:
    """The muxer keeps every timestamp as encoded (no shift to make the first ones non-negative, which
    the segments' 1.4 s of mux delay make unnecessary), so an encode made in parts, whose parts start
    at non-zero times, lines up with the one pass segment for segment (media/hls_parts.py)."""
    return [
        "-avoid_negative_ts", "disabled", "-hls_segment_options", "avoid_negative_ts=disabled",
        "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod",
        "-hls_flags", "independent_segments", "-hls_segment_type", "mpegts",
        "-hls_segment_filename", str(root / "%v" / "segment-%d.ts"),
        "-master_pl_name", MASTER, "-var_stream_map", var_stream_map,
        str(root / "%v" / "stream.m3u8"),
    ]
