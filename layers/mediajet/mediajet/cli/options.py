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
    """The job options as flags (the API's names); unset ones keep the server's defaults."""
    add = parser.add_argument
    add("--format", help="container or image format: mp4, webm, mov | mp3, aac, ogg, opus, wav, flac | jpeg, png, "
        "webp, avif | gif, webp (default: mp4 / mp3 / jpeg / gif; -o's extension when it has one)")
    add("--codec", help="video codec: h264, h265, vp9, av1 (default: the format's usual one)")
    add("--quality", choices=QUALITIES, help="quality level (default: medium)")
    add("--width", type=_size, help="output width in pixels, or a percentage like 50%%")
    add("--height", type=_size, help="output height in pixels, or a percentage like 50%%")
    add("--fit", choices=["contain", "cover", "fill"], help="how the picture fills width x height (default: contain)")
    add("--position", help="where a cover crop or contain pad sits: center, top, bottom, left, right, top_left, "
        "… (default: center)")
    add("--background", help="pad colour with --fit contain, e.g. black or #ffffff")
    add("--fps", type=float, help="output frame rate")
    add("--bitrate", type=int, help="video bitrate in bit/s (instead of the quality level)")
    add("--start", type=float, help="start at this second of the input")
    add("--end", type=float, help="end at this second of the input")
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


# An output file's extension → the format it names, where the two differ.
EXTENSION_FORMATS = {"jpg": "jpeg"}


def with_output_format(kind: str, options: dict[str, Any], output: str | None) -> dict[str, Any]:
    """`-o out.webm` without `--format` asks for WebM, as in Ittybit's CLI: the extension sets the format
    when it is one the kind makes. An explicit `--format` wins; other extensions change nothing."""
    name = (output or "").rsplit("/", 1)[-1]
    if "format" in options or "." not in name:
        return options
    ext = name.rsplit(".", 1)[-1].lower()
    wanted = EXTENSION_FORMATS.get(ext, ext)
    from mediajet.errors import InvalidRequest
    from mediajet.models.requests import parse_options

    try:
        parse_options(kind, {**options, "format": wanted})
    except InvalidRequest:
        return options  # not a format of this kind (or another option rules it out): the server decides
    return {**options, "format": wanted}
