"""`mediajet`: the Ittybit CLI's commands and flags (spec §2), plus `serve` and `keys`.

Exit codes: 0 success; 1 the job or task failed; 2 the request was wrong (bad flag, bad option,
missing input); 3 the API could not be reached or refused the key.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from mediajet.cli.options import KIND_COMMANDS, options_from, with_output_format
from mediajet.cli.parser import build_parser
from mediajet.cli.render import Renderer, error
from mediajet.cli.webhooks import cmd_events, cmd_webhooks
from mediajet.errors import InvalidRequest, MediaJetError, Unauthorized

EXIT_FAILED, EXIT_USAGE, EXIT_API = 1, 2, 3


def _settings():
    from mediajet.settings import Settings

    return Settings()


def _renderer(args: argparse.Namespace) -> Renderer:
    json_lines = getattr(args, "json", False) or (not getattr(args, "tty", False) and not sys.stdout.isatty())
    return Renderer(json_lines, progress_lines=args.command != "task")


def _finish(record: dict[str, Any], renderer: Renderer) -> int:
    renderer.finish(record)
    return 0 if record.get("status") == "succeeded" else EXIT_FAILED


def _no_webhook_here(args: argparse.Namespace) -> None:
    """Flags only a server acts on, refused with --local rather than ignored."""
    if args.local and args.webhook_url:
        raise InvalidRequest("--webhook_url is sent by a server when the job ends: drop --local (here the command "
                             "itself waits for the result)", kind="invalid_option", field="webhook_url")
    if args.local and args.connection:
        raise InvalidRequest("--connection names one of a server's S3 connections: drop --local to run the job "
                             "there, or give -o a local path", kind="invalid_option", field="connection")


def cmd_kind(args: argparse.Namespace) -> int:
    kind = KIND_COMMANDS[args.command]
    options = with_output_format(kind, options_from(args), args.output)
    renderer = _renderer(args)
    _no_webhook_here(args)
    if args.local:
        from mediajet.cli.local import run_job_locally

        return _finish(run_job_locally(kind, args.input, args.output, options, _settings(), renderer), renderer)
    from mediajet.cli import transfer

    client = _client()
    source, saved = args.input, None
    if transfer.is_local(source):  # a file here: uploaded through the media library, then read by the job
        source = transfer.upload(client, Path(source).expanduser(), renderer.transfer)["url"]
    body: dict[str, Any] = {"input": source, "kind": kind, "options": options}
    if args.output and transfer.is_local(args.output):
        saved = Path(args.output).expanduser()  # the result comes back here once the job succeeds
    elif args.output:
        body["output"] = args.output
    if _connection(args):
        body["connection_id"] = _connection(args)
    if args.webhook_url:
        body["webhook_url"] = args.webhook_url
    job = client.create_job(body)
    if args.run_async:
        print(json.dumps(job))
        return 0
    record = client.wait(lambda: client.get_job(job["id"]), renderer.update)
    if saved is not None and record.get("status") == "succeeded":
        transfer.download(record["output"], saved, renderer.transfer, timeout=client.timeout)
        record = {**record, "saved": str(saved.resolve())}
    return _finish(record, renderer)


def cmd_task(args: argparse.Namespace) -> int:
    try:
        task_input = json.loads(args.input)
    except ValueError:
        task_input = {"url": args.input}  # a bare path or URL is the common case
    if not isinstance(task_input, dict):
        raise InvalidRequest("-i must be a JSON object such as '{\"url\": \"...\"}'", kind="invalid_input")
    options = options_from(args)
    renderer = _renderer(args)
    _no_webhook_here(args)
    if args.local:
        from mediajet.cli.local import run_task_locally

        record = run_task_locally(args.kind, task_input, args.output, options, _settings(), renderer)
        return _finish(record, renderer)
    client = _client()
    if args.kind == "export" and args.output:
        options = {**options, "url": args.output}
    if _connection(args):
        options = {**options, "connection_id": _connection(args)}
    body = {"kind": args.kind, "input": task_input, "options": options}
    if args.webhook_url:
        body["webhook_url"] = args.webhook_url
    task = client.create_task(body)
    if args.run_async:
        print(json.dumps(task))
        return 0
    return _finish(client.wait(lambda: client.get_task(task["id"]), renderer.update), renderer)


def cmd_jobs(args: argparse.Namespace) -> int:
    client = _client()
    if args.job_id == "create":
        raw = sys.stdin.read() if args.body in (None, "-") else args.body
        try:
            body = json.loads(raw)
        except ValueError:
            raise InvalidRequest("--body must be JSON", kind="request_invalid") from None
        print(json.dumps(client.create_job(body), indent=2))
    elif args.job_id:
        print(json.dumps(client.get_job(args.job_id), indent=2))
    else:
        jobs = client.list_jobs(kind=args.kind, status=args.status, limit=args.limit, before=args.before,
                                after=args.after)
        if args.json or not sys.stdout.isatty():
            print(json.dumps(jobs, indent=2))
        else:
            for job in jobs:
                print(f"{job['id']}  {job['kind']:<15} {job['status']:<11} {job['input']}")
    return 0


def _connection(args: argparse.Namespace) -> str | None:
    """--connection, else MEDIAJET_CONNECTION (or ITTYBIT_CONNECTION); none: the server uses the default."""
    import os

    return args.connection or os.environ.get("MEDIAJET_CONNECTION") or os.environ.get("ITTYBIT_CONNECTION") or None


def cmd_connections(args: argparse.Namespace) -> int:
    from mediajet.cli import connections

    return connections.run(args, _settings)


def _client():
    from mediajet.cli.remote import Client

    settings = _settings()
    return Client(settings.api_url, settings.api_key)


def cmd_serve(args: argparse.Namespace) -> int:
    from mediajet.local.serve import serve

    return serve(_settings(), host=args.host, port=args.port, data_dir=args.data_dir, workers=args.workers)


def cmd_keys(args: argparse.Namespace) -> int:
    from mediajet.api.auth import create_key
    from mediajet.local.runtime import LocalRuntime

    runtime = LocalRuntime.open(_settings(), args.data_dir)
    print(create_key(runtime.jobs, args.project))
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    from mediajet.media import binaries, runner

    report = {}
    for name in ("ffmpeg", "ffprobe"):
        path = binaries.find(name)
        first = runner.run([path, "-version"], timeout=30, capture_stdout=True).stdout.decode().splitlines()[0]
        report[name] = {"path": path, "version": first}
    print(json.dumps({"status": "ok", **report}, indent=2))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from mediajet.media import binaries, runner

    argv = [binaries.ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={args.size}:rate=30:duration={args.seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={args.seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
            "-movflags", "+faststart", str(Path(args.output).resolve())]
    runner.run(argv, timeout=300)
    print(Path(args.output).resolve())
    return 0


COMMANDS = {"sample": cmd_sample, "task": cmd_task, "jobs": cmd_jobs, "serve": cmd_serve, "keys": cmd_keys, "health": cmd_health,
            "connections": cmd_connections, "webhooks": cmd_webhooks, "events": cmd_events}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "debug", False):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        media_log = logging.getLogger("mediajet.media")
        media_log.addHandler(handler)
        media_log.setLevel(logging.DEBUG)
    command = COMMANDS.get(args.command, cmd_kind)
    human = not getattr(args, "json", False) and sys.stderr.isatty()  # JSON for pipes and --json
    try:
        return command(args)
    except Unauthorized as exc:
        error(exc.to_dict(), human=human)
        return EXIT_API
    except MediaJetError as exc:
        error(exc.to_dict(), human=human)
        http_status = getattr(exc, "http_status", None)
        if http_status == 0 or http_status in (401, 403):
            return EXIT_API
        return EXIT_USAGE if exc.status < 500 and exc.status != 422 else EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
