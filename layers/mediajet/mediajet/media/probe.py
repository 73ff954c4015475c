"""Describe a local media file as a File object (spec §1.10): ffprobe, with Pillow for stills
(JPEG, PNG, WebP and AVIF are described by Pillow alone: no ffprobe runs for them).

ffprobe reads only the headers (`-show_format -show_streams`, no decoding), through the same
input guard as every encode. Stills are sized by Pillow, which reads the header lazily without
decoding: this ffmpeg build has no PNG decoder, sees one tile of an AVIF grid, and ignores EXIF
orientation. Sizes are as the picture is shown: rotation and EXIF orientation applied.
Anything unreadable becomes `unsupported_media` with the reason; a stuck ffprobe becomes `timeout`.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from mediajet.errors import ProcessFailed, ProcessingError
from mediajet.media import containers, runner, still_probe
from mediajet.media.inputs import LOCAL, Access, Readable, input_args
from mediajet.models.file import Codecs, File
from mediajet.settings import Settings, get_settings

# ffprobe demuxer name → the format a user knows. The mov family, Matroska/WebM, Ogg and image2
# need a closer look (see _format).
DEMUXER_FORMATS = {
    "mp3": "mp3", "aac": "aac", "wav": "wav", "w64": "wav", "flac": "flac", "mpegts": "ts", "gif": "gif",
    "jpeg_pipe": "jpeg", "png_pipe": "png", "apng": "png", "webp_pipe": "webp", "bmp_pipe": "bmp",
    "tiff_pipe": "tiff", "ppm_pipe": "ppm", "avi": "avi", "flv": "flv", "mxf": "mxf", "asf": "asf",
    "mpeg": "mpeg", "aiff": "aiff", "caf": "caf", "amr": "amr", "ac3": "ac3", "eac3": "eac3", "wv": "wv",
    "au": "au", "ivf": "ivf", "nut": "nut", "m4v": "m4v", "h264": "h264", "hevc": "h265", "hls": "hls",
}
# ISO BMFF major brand (lower case, spaces stripped) → format.
BRANDS = {"qt": "mov", "m4a": "m4a", "m4b": "m4a", "m4p": "m4a", "avif": "avif", "avis": "avif",
          "heic": "heic", "heix": "heic", "mif1": "heic", "msf1": "heic"}
IMAGE2_CODECS = {"mjpeg": "jpeg", "png": "png", "webp": "webp", "bmp": "bmp", "tiff": "tiff", "gif": "gif"}
STILL_FORMATS = frozenset({"jpeg", "png", "webp", "avif", "heic", "bmp", "tiff", "ppm"})
CODEC_NAMES = {"hevc": "h265"}
_WHITELIST_REFUSAL = "its container format is not one this server accepts"
_LOG_PREFIX = re.compile(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*")


def probe_argv(path: Path | str, access: Access = LOCAL) -> list[str]:
    return ["ffprobe", "-hide_banner", "-loglevel", "error", "-print_format", "json",
            "-show_format", "-show_streams", *input_args(path, access=access)]


@dataclass(frozen=True)
class _LocalFile:
    path: Path
    size: int
    access: Access = LOCAL

    @property
    def arg(self) -> str:
        return str(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    def open(self) -> BinaryIO:
        return self.path.open("rb")


def probe(path: Path, *, url: str | None = None, timeout: float = 60, stop: threading.Event | None = None,
          settings: Settings | None = None) -> File:
    """`settings`: the step's (`ctx.settings`); None means this process's (tests, the CLI)."""
    path = Path(path).absolute()  # ffprobe runs in a private working directory
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ProcessingError(f"the input file could not be opened ({exc.strerror})",
                              kind="input_unreachable") from exc
    return probe_readable(_LocalFile(path, size), url=url or path.as_uri(), timeout=timeout, stop=stop,
                          settings=settings)


def probe_readable(source: Readable, *, url: str, timeout: float = 60, stop: threading.Event | None = None,
                   settings: Settings | None = None) -> File:
    """`probe` of a file read where it is stored (ranged reads), not copied first."""
    settings = settings or get_settings()
    if source.size == 0:
        raise ProcessingError("the input is empty (0 bytes); check that the URL serves the whole file",
                              kind="unsupported_media")
    found = still_probe.describe(source, url, settings) if still_probe.pillow_describes(source) else None
    if found is None:
        try:
            data = _ffprobe(source, timeout, stop)
        except ProcessingError as failure:
            if failure.kind != "unsupported_media":
                raise
            found = still_probe.describe(source, url, settings)  # some stills only Pillow can parse
            if found is None:
                raise
        else:
            found = _describe(data, source, url, settings)
    _refuse_truncated(source, found.format)
    return found


def _ffprobe(source: Readable, timeout: float, stop: threading.Event | None) -> dict[str, Any]:
    try:
        result = runner.run(probe_argv(source.arg, source.access), timeout=timeout, capture_stdout=True, stop=stop,
                            error_kind="unsupported_media", what="ffprobe")
    except ProcessFailed as exc:
        if exc.kind in ("resolution_too_large", "out_of_memory"):
            raise ProcessingError(exc.message, kind=exc.kind) from exc
        if exc.kind == "timeout":
            raise ProcessingError(
                f"reading the input's media information took longer than {timeout:g} s; "
                "the file may be damaged or unusually structured",
                kind="timeout",
            ) from exc
        raise ProcessingError(
            f"the input is not a media file this server can read ({_reason(exc.stderr_tail, source.arg)}); "
            "send a complete video, audio or image file",
            kind="unsupported_media",
        ) from exc
    try:
        data = json.loads(result.stdout.decode("utf-8", "replace"))
    except ValueError as exc:
        raise ProcessingError("ffprobe returned unreadable output for the input",
                              kind="unsupported_media") from exc
    return data if isinstance(data, dict) else {}


def _reason(stderr_tail: str, path: str) -> str:
    """ffprobe's own words, without log prefixes, our working paths or the whole demuxer whitelist."""
    lines = [_LOG_PREFIX.sub("", line).replace(f"{path}: ", "").replace(str(path), "the file")
             for line in stderr_tail.splitlines() if line.strip()]
    lines = [_WHITELIST_REFUSAL if line.startswith("Format not on whitelist") else line for line in lines]
    if _WHITELIST_REFUSAL in lines:
        lines = [line for line in lines if line != "Invalid argument"]
    return "; ".join(dict.fromkeys(lines)) or "no details"


def _describe(data: dict[str, Any], source: Readable, url: str, settings: Settings) -> File:
    streams = [s for s in data.get("streams") or [] if isinstance(s, dict)]
    fmt_info = data.get("format") or {}
    pictures = [s for s in streams if s.get("codec_type") == "video"
                and not (s.get("disposition") or {}).get("attached_pic")]
    sounds = [s for s in streams if s.get("codec_type") == "audio"]
    if not pictures and not sounds:
        raise ProcessingError("the input has no audio, video or image stream", kind="unsupported_media")
    picture = max(pictures, key=lambda s: (s.get("width") or 0) * (s.get("height") or 0), default=None)
    sound = sounds[0] if sounds else None
    fmt = _format(fmt_info, source, picture, sounds)
    codecs = Codecs(video=_codec(picture), audio=_codec(sound))
    duration = _number(fmt_info.get("duration")) or max(
        (_number(s.get("duration")) or 0.0 for s in streams), default=0.0) or None

    if picture is not None and _is_still(fmt, picture, duration) and not sounds:
        still = still_probe.describe(source, url, settings)  # also knows the EXIF orientation
        if still is not None:
            return still
        if fmt in ("png", "avif") or not picture.get("width"):
            raise ProcessingError(f"the input looks like an image ({fmt}) but its picture data is not valid",
                                  kind="unsupported_media")
        width, height = _display_size(picture)
        return File(kind="image", url=url, format=fmt, width=width, height=height, codecs=codecs,
                    filesize=source.size)

    width, height = _display_size(picture) if picture is not None else (None, None)
    if picture is not None and not (width and height):
        raise ProcessingError("the input's video track has no picture size; the file may be damaged",
                              kind="unsupported_media")
    bitrate = _integer(fmt_info.get("bit_rate"))
    if bitrate is None and duration:
        bitrate = int(source.size * 8 / duration)
    return File(kind="video" if picture is not None else "audio", url=url, format=fmt, width=width,
                height=height, duration=round(duration, 3) if duration else None, codecs=codecs,
                filesize=source.size, fps=_fps(picture), bitrate=bitrate)


def _format(fmt_info: dict[str, Any], source: Readable, picture: dict[str, Any] | None,
            sounds: list[dict[str, Any]]) -> str:
    name = str(fmt_info.get("format_name") or "")
    if name.startswith("mov,mp4"):
        tags = fmt_info.get("tags") or {}
        brand = str(tags.get("major_brand") or "").strip().lower()
        compatible = str(tags.get("compatible_brands") or "").lower()
        if brand in BRANDS:
            return "avif" if BRANDS[brand] == "heic" and "avif" in compatible else BRANDS[brand]
        if brand.startswith(("3gp", "3g2")):
            return brand[:3]
        if not brand:  # classic QuickTime files have no ftyp box
            return "mp4" if source.name.lower().endswith((".mp4", ".m4v")) else "mov"
        return "mp4"
    if name.startswith("matroska"):
        with source.open() as f:
            return "webm" if containers.is_webm_header(f.read(64)) else "mkv"
    if name == "ogg":
        return "opus" if sounds and all(s.get("codec_name") == "opus" for s in sounds) else "ogg"
    if name == "image2":
        return IMAGE2_CODECS.get(str((picture or {}).get("codec_name")), "image2")
    return DEMUXER_FORMATS.get(name, name.split(",")[0] or "unknown")


def _is_still(fmt: str, picture: dict[str, Any], duration: float | None) -> bool:
    if fmt in STILL_FORMATS:
        return True
    if fmt == "gif":  # one frame is a picture; more is an animation
        frames = _integer(picture.get("nb_frames"))
        return frames == 1 or (frames is None and not duration)
    return False


def _codec(stream: dict[str, Any] | None) -> str | None:
    if stream is None or not stream.get("codec_name"):
        return None
    name = str(stream["codec_name"])
    return CODEC_NAMES.get(name, name)


def _display_size(stream: dict[str, Any]) -> tuple[int | None, int | None]:
    """Coded size turned the way players show it: a 90° or 270° rotation swaps the sides."""
    width, height = _integer(stream.get("width")) or None, _integer(stream.get("height")) or None
    rotation = 0.0
    for side in stream.get("side_data_list") or []:
        if isinstance(side, dict) and "rotation" in side:
            rotation = _number(side["rotation"]) or 0.0
    if not rotation:
        rotation = _number((stream.get("tags") or {}).get("rotate")) or 0.0
    if round(abs(rotation)) % 180 == 90:
        width, height = height, width
    return width, height


def _fps(stream: dict[str, Any] | None) -> float | None:
    if stream is None:
        return None
    for key in ("avg_frame_rate", "r_frame_rate"):
        num, _, den = str(stream.get(key) or "").partition("/")
        try:
            rate = float(num) / float(den or 1)
        except (ValueError, ZeroDivisionError):
            continue
        if 0 < rate <= 1000:
            return round(rate, 3)
    return None


def _refuse_truncated(source: Readable, fmt: str | None) -> None:
    with source.open() as f:
        reason = containers.truncation_of(f, source.size, fmt or "")
    if reason:
        raise ProcessingError(f"the input is incomplete: {reason}; the upload or download was probably cut off",
                              kind="unsupported_media")


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _integer(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None
