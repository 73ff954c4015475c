"""`mediajet webhooks …` and `mediajet events`: the project's signing secret, webhook endpoints and events.

Without `--local` they ask the server at MEDIAJET_API_URL with MEDIAJET_API_KEY (the key's project); with
`--local` they read and write this machine's data directory (MEDIAJET_DATA_DIR, or `--data-dir`) directly, for
the project `--project` (default prj_default, the project `mediajet keys create` gives keys of), with the same
rules and answers as the API (webhooks/manage.py). Lists print JSON Lines with `--json` or when stdout is not a
terminal, a table otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediajet.settings import Settings

DEFAULT_PROJECT = "prj_default"
WEBHOOKS_HELP = """Manage where this project's webhooks go and how they are signed.

  mediajet webhooks secret                 print the signing secret (whsec_…) receivers verify with
  mediajet webhooks secret --rotate        a new secret; the previous one keeps signing for 24 h
  mediajet webhooks endpoints list         the endpoints and the topics they receive
  mediajet webhooks endpoints create --url https://example.com/hook --topics 'job.*,task.failed'
  mediajet webhooks endpoints delete we_…

Topics: job.created, job.updated, job.succeeded, job.failed, job.cancelled, the same for standalone tasks
(task.…), and the wildcards job.*, task.*, *."""
EVENTS_HELP = """List this project's webhook events (newest first) with their deliveries, or show one with its
subject and every delivery attempt. An event's id is the webhook-id header its receivers got."""


def _where(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--local", action="store_true",
                        help="use this machine's data directory instead of the server at MEDIAJET_API_URL")
    parser.add_argument("--data-dir", help="with --local: the data directory (default MEDIAJET_DATA_DIR)")
    parser.add_argument("--project", default=DEFAULT_PROJECT,
                        help=f"with --local: the project (default {DEFAULT_PROJECT}, as `mediajet keys create`)")
    parser.add_argument("--json", action="store_true", help="JSON Lines output (the default when piped)")
    parser.add_argument("--tty", action="store_true", help="human-readable output even when piped")


def add_parsers(sub: Any) -> dict[str, argparse.ArgumentParser]:
    """`webhooks` and `events` on the CLI's subcommands; returns their parsers by name."""
    raw = argparse.RawDescriptionHelpFormatter
    webhooks = sub.add_parser("webhooks", help="webhook signing secret and endpoints", description=WEBHOOKS_HELP,
                              formatter_class=raw)
    actions = webhooks.add_subparsers(dest="webhooks_command", required=True, metavar="{secret,endpoints}")
    secret = actions.add_parser("secret", help="print the signing secret (or rotate it)",
                                description="Print the project's Standard Webhooks signing secret.")
    secret.add_argument("--rotate", action="store_true",
                        help="make a new secret; the previous one keeps signing alongside for 24 h")
    _where(secret)

    endpoints = actions.add_parser("endpoints", help="list, create or delete webhook endpoints",
                                   description=WEBHOOKS_HELP, formatter_class=raw)
    verbs = endpoints.add_subparsers(dest="endpoints_command", required=True, metavar="{list,create,delete}")
    listing = verbs.add_parser("list", help="the project's endpoints, newest first")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (1-100)")
    _where(listing)
    create = verbs.add_parser("create", help="subscribe a URL to topics")
    create.add_argument("--url", required=True, help="https:// URL that receives the events")
    create.add_argument("--topics", required=True, help="comma-separated, e.g. 'job.*,task.failed' (quote the *)")
    create.add_argument("--description", help="a note for people")
    _where(create)
    delete = verbs.add_parser("delete", help="stop sending to an endpoint")
    delete.add_argument("endpoint_id", help="the endpoint's id (we_…)")
    _where(delete)

    events = sub.add_parser("events", help="list webhook events, or show one with its delivery attempts",
                            description=EVENTS_HELP)
    events.add_argument("event_id", nargs="?", help="an event id (evt_…): show that one in full")
    events.add_argument("--limit", type=int, default=20, help="at most this many (1-100)")
    events.add_argument("--page", type=int, default=1, help="page number, from 1")
    _where(events)
    return {"webhooks": webhooks, "events": events}


# --- where the answers come from ------------------------------------------------------------------------


class Server:
    """The API at MEDIAJET_API_URL."""

    def __init__(self, settings: Settings) -> None:
        from mediajet.cli.remote import Client

        self.client = Client(settings.api_url, settings.api_key)

    def secret(self, rotate: bool) -> dict[str, Any]:
        if rotate:
            return self.client.request("POST", "/webhooks/secret/rotate")
        return self.client.request("GET", "/webhooks/secret")

    def endpoints(self, limit: int) -> list[dict[str, Any]]:
        return self.client.request("GET", "/webhooks/endpoints", query={"limit": limit})

    def create_endpoint(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.client.request("POST", "/webhooks/endpoints", body)

    def delete_endpoint(self, endpoint_id: str) -> None:
        self.client.request("DELETE", f"/webhooks/endpoints/{endpoint_id}")

    def events(self, page: int, limit: int) -> list[dict[str, Any]]:
        return self.client.request("GET", "/events", query={"page": page, "limit": limit})

    def event(self, event_id: str) -> dict[str, Any]:
        return self.client.request("GET", f"/events/{event_id}")


@dataclass
class Local:
    """This machine's data directory, as `mediajet serve` on it would answer."""

    settings: Settings
    data_dir: str | None
    project: str

    def __post_init__(self) -> None:
        from mediajet.local.runtime import LocalRuntime

        self.runtime = LocalRuntime.open(self.settings, self.data_dir)
        self.store = self.runtime.jobs

    def secret(self, rotate: bool) -> dict[str, Any]:
        from mediajet.ids import now_ms
        from mediajet.webhooks import manage, secrets

        record = (secrets.rotate if rotate else secrets.project_secret)(self.store, self.project)
        return manage.secret_view(record, now_ms())

    def endpoints(self, limit: int) -> list[dict[str, Any]]:
        from mediajet.models.webhooks import WebhookEndpoint
        from mediajet.webhooks import manage

        return [manage.endpoint_view(e) for e in self.store.list_records(WebhookEndpoint, self.project, 1,
                                                                         _count(limit, "limit"))]

    def create_endpoint(self, body: dict[str, Any]) -> dict[str, Any]:
        from mediajet.models.webhook_requests import EndpointCreate, parse_endpoint
        from mediajet.webhooks import manage

        request = parse_endpoint(EndpointCreate, body, self.settings)
        manage.check_room(self.store, self.project)
        return manage.endpoint_view(self.store.create_record(manage.new_endpoint(self.project, request)))

    def delete_endpoint(self, endpoint_id: str) -> None:
        from mediajet.webhooks import manage

        manage.delete_endpoint(self.store, self.project, endpoint_id)

    def events(self, page: int, limit: int) -> list[dict[str, Any]]:
        from mediajet.models.webhooks import Event
        from mediajet.webhooks import manage

        found = self.store.list_records(Event, self.project, _count(page, "page", 1_000_000),
                                        _count(limit, "limit"))
        return [manage.event_view(e, self.runtime.sign_url) for e in found]

    def event(self, event_id: str) -> dict[str, Any]:
        from mediajet.models.webhooks import Event
        from mediajet.webhooks import manage

        return manage.event_view(self.store.get_record(Event, event_id, self.project), self.runtime.sign_url)


def _count(value: int, name: str, high: int = 100) -> int:
    from mediajet.errors import InvalidRequest

    if not 1 <= value <= high:
        raise InvalidRequest(f"--{name} must be from 1 to {high}", field=name)
    return value


def _source(args: argparse.Namespace, settings: Settings) -> Server | Local:
    return Local(settings, args.data_dir, args.project) if args.local else Server(settings)


# --- the commands ---------------------------------------------------------------------------------------


def cmd_webhooks(args: argparse.Namespace) -> int:
    from mediajet.settings import Settings

    source = _source(args, Settings())
    out = Output(args)
    if args.webhooks_command == "secret":
        answer = source.secret(args.rotate)
        if out.json_lines:
            out.line(answer)
        else:
            print(answer["secret"])  # alone, like `mediajet keys create`: `$(mediajet webhooks secret)` works
            if answer.get("previous_expires_at"):
                print(f"the previous secret keeps signing until {_when(answer['previous_expires_at'])}",
                      file=sys.stderr)
    elif args.endpoints_command == "list":
        out.rows(source.endpoints(args.limit), ENDPOINT_COLUMNS)
    elif args.endpoints_command == "create":
        topics = [t.strip() for t in args.topics.split(",") if t.strip()]
        body = {"url": args.url, "topics": topics,
                **({"description": args.description} if args.description is not None else {})}
        out.rows([source.create_endpoint(body)], ENDPOINT_COLUMNS)
    else:
        source.delete_endpoint(args.endpoint_id)
        if out.json_lines:
            out.line({"id": args.endpoint_id, "object": "webhook_endpoint", "deleted": True})
        else:
            print(f"{args.endpoint_id} deleted")
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    from mediajet.settings import Settings

    source = _source(args, Settings())
    out = Output(args)
    if args.event_id:
        event = source.event(args.event_id)
        if out.json_lines:
            out.line(event)
        else:
            out.rows([event], EVENT_COLUMNS)
            print()
            out.rows(event["deliveries"], DELIVERY_COLUMNS)
            attempts = [{**a, "url": d["url"]} for d in event["deliveries"] for a in d["attempts"]]
            if attempts:
                print()
                out.rows(sorted(attempts, key=lambda a: a["at"]), ATTEMPT_COLUMNS)
    else:
        out.rows(source.events(args.page, args.limit), EVENT_COLUMNS)
    return 0


# --- output ---------------------------------------------------------------------------------------------

Column = tuple[str, Callable[[dict[str, Any]], Any]]


def _when(ms: int | None) -> str:
    return "" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _deliveries(event: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for delivery in event.get("deliveries", []):
        counts[delivery["status"]] = counts.get(delivery["status"], 0) + 1
    return ", ".join(f"{n} {status}" for status, n in counts.items())


ENDPOINT_COLUMNS: list[Column] = [("ID", lambda e: e["id"]), ("STATUS", lambda e: e["status"]),
                                  ("TOPICS", lambda e: ",".join(e["topics"])), ("URL", lambda e: e["url"])]
EVENT_COLUMNS: list[Column] = [("ID", lambda e: e["id"]), ("CREATED (UTC)", lambda e: _when(e["created_at"])),
                               ("KIND", lambda e: e["kind"]), ("SUBJECT", lambda e: e["data"].get("id", "")),
                               ("DELIVERIES", _deliveries)]
DELIVERY_COLUMNS: list[Column] = [("URL", lambda d: d["url"]), ("ENDPOINT", lambda d: d["endpoint_id"] or "(webhook_url)"),
                                  ("STATUS", lambda d: d["status"]), ("ATTEMPTS", lambda d: len(d["attempts"])),
                                  ("NEXT ATTEMPT (UTC)", lambda d: _when(d["next_attempt_at"]))]
ATTEMPT_COLUMNS: list[Column] = [("AT (UTC)", lambda a: _when(a["at"])),
                                 ("STATUS", lambda a: a["status_code"] or "-"),
                                 ("MS", lambda a: a["latency_ms"]), ("URL", lambda a: a["url"]),
                                 ("ERROR", lambda a: a["error"] or "")]


class Output:
    def __init__(self, args: argparse.Namespace) -> None:
        self.json_lines = args.json or (not args.tty and not sys.stdout.isatty())

    def line(self, record: dict[str, Any]) -> None:
        print(json.dumps(record), flush=True)

    def rows(self, records: list[dict[str, Any]], columns: list[Column]) -> None:
        """One JSON line per record, or a table with a header (just the header: nothing there)."""
        if self.json_lines:
            for record in records:
                self.line(record)
            return
        cells = [[str(get(r)) for _, get in columns] for r in records]
        widths = [max([len(title), *(len(row[i]) for row in cells)]) for i, (title, _) in enumerate(columns)]
        for row in [[title for title, _ in columns], *cells]:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
