"""The `mediajet` command line: its commands, their flags and help (the Ittybit CLI's, spec §2), and unknown
flags named with the closest known ones."""

from __future__ import annotations

import argparse
from typing import Any

from mediajet.cli.options import KIND_COMMANDS, add_option_flags
from mediajet.cli.webhooks import add_parsers as add_webhook_parsers
from mediajet.models.job import TASK_KINDS


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--input", required=True,
                        help="path, http(s):// or s3:// URL (task: JSON); without --local a path is uploaded first")
    parser.add_argument("-o", "--output",
                        help="output path (without --local: downloaded there when the job succeeds), or s3:// URL")
    parser.add_argument("--local", action="store_true", help="run with ffmpeg on this machine")
    parser.add_argument("--async", dest="run_async", action="store_true", help="return without waiting")
    parser.add_argument("--json", action="store_true", help="JSON Lines output")
    parser.add_argument("--tty", action="store_true", help="human-readable output")
    parser.add_argument("--debug", action="store_true", help="print each ffmpeg command and its stderr")
    parser.add_argument("--connection", help="name of the S3 connection (remote mode)")
    parser.add_argument("--webhook_url", "--webhook-url", dest="webhook_url",
                        help="the server POSTs the job (task) there, signed, when it ends (remote mode)")
    add_option_flags(parser)


DESCRIPTION = """Process media with ffmpeg, here or on a server.

With --local, a command runs the whole job on this machine. Without it, the job runs on the server at
MEDIAJET_API_URL (default http://127.0.0.1:8080, e.g. `mediajet serve`) with the key in MEDIAJET_API_KEY
(or ITTYBIT_API_KEY); a local -i file is uploaded first and a local -o receives the result."""
JOB_HELP = {"video": "a video", "audio": "an audio", "image": "an image (a still)", "animation": "an animation (GIF, WebP)",
            "adaptive": "an adaptive (HLS) video"}


class Parser(argparse.ArgumentParser):
    """Unknown flags are named with the closest known ones, in the usage of the command they were given to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: dict[str, argparse.ArgumentParser] = {}  # filled by build_parser

    def parse_args(self, args: Any = None, namespace: Any = None) -> argparse.Namespace:  # type: ignore[override]
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            command = self.commands.get(getattr(parsed, "command", None) or "", self)
            command.error(unknown_flags(extra, command))
        return parsed


def unknown_flags(extra: list[str], parser: argparse.ArgumentParser) -> str:
    import difflib

    known = [flag for action in parser._actions for flag in action.option_strings]
    parts = []
    for arg in extra:
        close = difflib.get_close_matches(arg.split("=", 1)[0], known, n=1) if arg.startswith("-") else []
        parts.append(f"{arg} (did you mean {close[0]}?)" if close else arg)
    return "unrecognized arguments: " + " ".join(parts)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="mediajet", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=argparse.ArgumentParser)
    commands = parser.commands
    for name in KIND_COMMANDS:
        commands[name] = sub.add_parser(name, help=f"create {JOB_HELP[name]} job")
        _common(commands[name])
    task = sub.add_parser("task", help="run one task: probe, import, an encode kind, export")
    task.add_argument("kind", choices=TASK_KINDS)
    _common(task)
    commands["task"] = task

    jobs = sub.add_parser("jobs", help="list jobs, show one, or `jobs create --body JSON`")
    jobs.add_argument("job_id", nargs="?")
    jobs.add_argument("--body", help="raw JSON body for `jobs create` (- reads stdin)")
    jobs.add_argument("--kind")
    jobs.add_argument("--status")
    jobs.add_argument("--limit", type=int, default=10)
    jobs.add_argument("--before")
    jobs.add_argument("--after")
    jobs.add_argument("--json", action="store_true")

    serve = sub.add_parser("serve", help="run the Jobs API on this machine (SQLite + local files)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--data-dir")
    serve.add_argument("--workers", type=int)

    keys = sub.add_parser("keys", help="manage API keys of the local server")
    keys.add_argument("action", choices=["create"])
    keys.add_argument("--data-dir")
    keys.add_argument("--project", default="prj_default")

    conns = sub.add_parser("connections", help="S3 connections: list, create (or add s3), delete NAME")
    conns.add_argument("action", choices=["list", "create", "add", "delete"])
    conns.add_argument("target", nargs="*", help="add: the kind (s3); delete: the connection's name or id")
    conns.add_argument("--name")
    conns.add_argument("--endpoint", help="S3-compatible service URL (R2, MinIO, GCS); leave out for AWS S3")
    conns.add_argument("--region", help="e.g. us-east-1; auto for R2 and MinIO")
    conns.add_argument("--access-key-id")
    conns.add_argument("--secret-access-key")
    conns.add_argument("--default", dest="is_default", action="store_true", default=None,
                       help="make it the project's default (its first connection is)")
    conns.add_argument("--no-default", dest="is_default", action="store_false")
    conns.add_argument("--local", action="store_true", help="the local server's data dir, not the API")
    conns.add_argument("--data-dir")
    conns.add_argument("--project", default="prj_default", help="--local: the project (default prj_default)")
    conns.add_argument("--json", action="store_true")
    commands["connections"] = conns

    commands.update(add_webhook_parsers(sub))  # webhooks, events (cli/webhooks.py)

    sub.add_parser("health", help="report the ffmpeg and ffprobe in use")

    sample = sub.add_parser("sample", help="write a test clip (colour bars and a tone) to try things with")
    sample.add_argument("-o", "--output", default="sample.mp4")
    sample.add_argument("--seconds", type=float, default=5)
    sample.add_argument("--size", default="1280x720")
    return parser
