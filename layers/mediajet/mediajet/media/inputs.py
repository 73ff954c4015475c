"""How ffmpeg/ffprobe open untrusted input: the local working copy only.

`-protocol_whitelist file,pipe` stops network access; `-format_whitelist` keeps out demuxers that
open further URLs or files (hls, concat, dash, tee, image sequences with patterns, ...), which is
how a crafted "video" leaks `/etc/passwd` or an internal URL into an encode. `-max_pixels` caps every
decoder at `Settings.max_pixels` for every frame, not only the one ffprobe looked at: a stream that
switches to a huge size partway through is stopped there (media/runner.py) instead of being decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from mediajet.settings import get_settings

SAFE_DEMUXERS = (
    "mov,mp4,m4a,3gp,3g2,mj2",  # one demuxer, several names
    "matroska,webm",
    "avi", "flv", "mpegts", "mpeg", "mxf", "asf", "nut", "ivf", "m4v", "h264", "hevc", "mjpeg",
    "mp3", "aac", "ogg", "wav", "w64", "flac", "aiff", "caf", "amr", "ac3", "eac3", "wv", "au",
    "gif", "image2", "jpeg_pipe", "png_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "ppm_pipe",
    "lavfi",  # never on user input (lavfi is only reachable with -f lavfi), needed by tests and benchmarks
)
REFUSED_DEMUXERS = frozenset({"hls", "applehttp", "concat", "dash", "ffconcat", "tee", "data", "subfile",
                              "image2pipe", "libmodplug", "sdp", "rtsp", "rtp"})
PROTOCOLS = "file,pipe"
INT_MAX = 2**31 - 1  # the largest -max_pixels ffmpeg takes


@dataclass(frozen=True)
class Access:
    """How ffmpeg reaches an input: the protocols it may use and their options. Anything but a local
    file is our own loopback reader of stored media (storage/media_source.py), never a user's URL."""

    protocols: str = PROTOCOLS
    options: tuple[str, ...] = ()


LOCAL = Access()


class Readable(Protocol):
    """An input ffprobe opens as `arg` and checks read with `open()`: a local file, or stored media read
    in place (storage/media_source.py)."""

    arg: str
    access: Access
    size: int
    name: str  # the file name (its extension settles some formats)

    def open(self) -> BinaryIO: ...


def input_args(path: Path | str, *, pre: list[str] | None = None, access: Access = LOCAL) -> list[str]:
    """The input part of an argv: guard flags, then any per-input options (`-ss`), then `-i`."""
    return ["-protocol_whitelist", access.protocols, *access.options, "-format_whitelist", ",".join(SAFE_DEMUXERS),
            *decoder_cap(get_settings().max_pixels), *(pre or []), "-i", str(path)]


def decoder_cap(max_pixels: int) -> list[str]:
    """A decoder option given before `-i`: ffmpeg refuses to decode any larger frame of that input."""
    return ["-max_pixels", str(min(max_pixels, INT_MAX))]
