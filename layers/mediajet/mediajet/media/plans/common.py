"""What the plans share: the quality table, the ffmpeg head, trimming, and input checks.

Every function is pure; the plan modules assemble them into one argv list. An argv starts with the
symbolic program name "ffmpeg" (or "ffprobe"); media/runner.py puts the binary's path there when it
runs it (media/binaries.py), so a plan never looks up a binary.

The quality table below is the only one: stills, animation, video, audio and HLS read it, and
README's "Quality levels" is checked against it (tests/unit/test_quality_table.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from mediajet.errors import ProcessingError
from mediajet.models.file import File

QUALITY_LEVELS = ("very_low", "low", "medium", "high", "very_high")

# --- the quality table (`auto` = medium; an explicit `bitrate` replaces it) -------------------------
# Constant-quality values per video codec: lower is better and bigger. One scale across codecs: h264's
# row (x264's default 23 at `medium`) is the reference, and every other codec's value at a level is the
# integer CRF whose VMAF (vmaf_v0.6.1, mean over the frames) comes closest to h264's at that level,
# averaged over two real clips (Big Buck Bunny 720p, an animated film; OpenCV's vtest.avi, street camera),
# with the pipeline's own argv and speed settings. Chosen by
# `.venv/bin/python -m tests.benchmarks.bench_quality --calibrate`; the measured VMAF (mean and 1st
# percentile) and kbit/s per codec and level are in BENCHMARKS.md. `medium` scores ~95.5 VMAF there
# for every codec, within ±0.3 of h264 on the clip average (on each clip alone VP9 is +1.3 on the film
# and -1.2 on the camera clip). AV1's VMAF moves slowly with CRF, hence its wide spread.
VIDEO_CRF: dict[str, dict[str, int]] = {
    "h264": {"very_low": 30, "low": 26, "medium": 23, "high": 20, "very_high": 18},
    "h265": {"very_low": 31, "low": 26, "medium": 23, "high": 19, "very_high": 17},
    "vp9": {"very_low": 43, "low": 34, "medium": 29, "high": 24, "very_high": 19},
    "av1": {"very_low": 51, "low": 39, "medium": 29, "high": 18, "very_high": 13},
}
# Audio bitrates (bit/s) for the codecs that are driven by bitrate. Native AAC's VBR mode is
# experimental, so AAC is constant bitrate; Opus is VBR around the target.
AAC_BITRATE = {"very_low": 64_000, "low": 96_000, "medium": 128_000, "high": 192_000, "very_high": 256_000}
OPUS_BITRATE = {"very_low": 48_000, "low": 64_000, "medium": 96_000, "high": 128_000, "very_high": 160_000}
# LAME VBR presets V7/V5/V4/V2/V0: about 100/130/165/190/245 kbit/s on stereo music.
MP3_VBR = {"very_low": 7, "low": 5, "medium": 4, "high": 2, "very_high": 0}
# ffmpeg's native Vorbis encoder only understands a quality scale (it ignores -b:a). Measured on
# 48 kHz stereo pink noise: q1 ≈ 46, q2 ≈ 90, q3 ≈ 125, q5 ≈ 178, q8 ≈ 233 kbit/s.
VORBIS_Q = {"very_low": 1, "low": 2, "medium": 3, "high": 5, "very_high": 8}
VORBIS_Q_KBPS = {1: 46, 2: 90, 3: 125, 4: 153, 5: 178, 6: 200, 8: 233, 10: 257}
# Pillow quality of a still (and of animated WebP: the webp row), chosen so that each level looks
# alike across formats; AVIF reaches the look of a given JPEG quality at a lower number.
STILL_QUALITY: dict[str, dict[str, int]] = {
    "jpeg": {"very_low": 40, "low": 60, "medium": 75, "high": 85, "very_high": 92},
    "webp": {"very_low": 40, "low": 60, "medium": 75, "high": 85, "very_high": 95},
    "avif": {"very_low": 30, "low": 45, "medium": 60, "high": 75, "very_high": 88},
}
# PNG is lossless at every level (a palette-reduced PNG would surprise); only zlib's effort is set.
PNG_COMPRESS_LEVEL = 6
# GIF: (palette colours, ffmpeg paletteuse dither). Fewer colours and ordered (bayer) dithering
# compress much better in GIF's LZW; error diffusion looks smoother but costs bytes.
GIF_PALETTE: dict[str, tuple[int, str]] = {
    "very_low": (32, "bayer:bayer_scale=5"),
    "low": (64, "bayer:bayer_scale=4"),
    "medium": (128, "bayer:bayer_scale=3"),
    "high": (256, "sierra2_4a"),
    "very_high": (256, "floyd_steinberg"),
}

# Video codecs this ffmpeg build can demux but not decode: no dav1d/libaom (the native av1 decoder
# only drives hardware), no PNG/APNG decoder. Probing them works; encoding from them cannot.
UNDECODABLE_VIDEO = {"av1": "AV1", "png": "PNG", "apng": "animated PNG"}


def ffmpeg_head() -> list[str]:
    """Quiet logs, no stdin, and machine-readable `-progress` on stderr, where the runner reads it.
    "ffmpeg" is symbolic: the runner replaces it with the binary's path."""
    return ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:2", "-nostats"]


def seconds(value: float) -> str:
    """An ffmpeg time argument: millisecond precision, no trailing zeros ("1.5", "2")."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def kbps(bits_per_second: int) -> str:
    """A bitrate argument; whole kbit/s keep argv lists short and readable ("128k")."""
    if bits_per_second % 1000 == 0:
        return f"{bits_per_second // 1000}k"
    return str(bits_per_second)


@dataclass(frozen=True)
class Trim:
    """The part of the input to encode. `pre` goes before `-i` (a fast, still frame-exact seek when
    re-encoding); `post` limits the output length; `duration` is what progress is measured against."""

    pre: list[str]
    post: list[str]
    duration: float | None


def trim(start: float | None, end: float | None, source: File) -> Trim:
    begin = start or 0.0
    if source.duration and begin >= source.duration:
        raise ProcessingError(
            f"start={seconds(begin)} s is at or past the end of the input ({seconds(source.duration)} s); "
            "choose a start time inside the input",
            kind="invalid_option",
        )
    stop = end
    if stop is not None and source.duration:
        stop = min(stop, source.duration)
    pre = ["-ss", seconds(begin)] if begin > 0 else []
    post = ["-t", seconds(end - begin)] if end is not None else []
    if stop is not None:
        length: float | None = stop - begin
    elif source.duration:
        length = source.duration - begin
    else:
        length = None
    return Trim(pre, post, length)


def require_decodable_video(source: File, what: str) -> None:
    """Fail before ffmpeg runs when it cannot read the picture, with a reason the user can act on."""
    if not source.has_video or source.kind == "audio":
        raise ProcessingError(
            f"the input has no video track to make {what} from; send a video file",
            kind="unsupported_media",
        )
    codec = (source.codecs.video if source.codecs else None) or ""
    if codec in UNDECODABLE_VIDEO:
        raise ProcessingError(
            f"{UNDECODABLE_VIDEO[codec]} video input cannot be decoded by this server's ffmpeg build; "
            "send H.264, H.265 or VP9 video instead",
            kind="unsupported_media",
        )
    if source.format == "webp" and source.kind == "video":
        raise ProcessingError(
            "animated WebP input cannot be decoded by this server's ffmpeg build; send a GIF or a video",
            kind="unsupported_media",
        )
