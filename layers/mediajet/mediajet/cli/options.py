"""CLI flags ↔ API options (spec §2.3): the same names, only the flags a user gave."""

from __future__ import annotations

import argparse
from typing import Any

KIND_COMMANDS = {"video": "video", "audio": "audio", "image": "image", "animation": "animation",
                 "adaptive": "adaptive_video"}
QUALITIES = ["very_low", "low", "medium", "high", "very_high", "auto"]


def _size(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def add_option_flags(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--format")
    add("--codec")
    add("--quality", choices=QUALITIES)
    add("--width", type=_size)
    add("--height", type=_size)
    add("--fit", choices=["contain", "cover", "fill"])
    add("--position")
    add("--background")
    add("--fps", type=float)
    add("--bitrate", type=int)
    add("--start", type=float)
    add("--end", type=float)
    add("--no-audio", "--mute", dest="mute", action="store_true", help="strip the audio track")


def options_from(args: argparse.Namespace) -> dict[str, Any]:
    names = ("format", "codec", "quality", "width", "height", "fit", "position", "background", "fps", "bitrate",
             "start", "end")
    options = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    for number in ("fps", "start", "end"):
        if number in options and float(options[number]).is_integer():
            options[number] = int(options[number])
    if getattr(args, "mute", False):
        options["mute"] = True
    return options
