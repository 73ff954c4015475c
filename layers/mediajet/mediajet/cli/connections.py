"""`mediajet connections list | create (add s3) | delete NAME` (Ittybit CLI §2.3): through the API by default,
or with `--local` straight in a data dir's store (what `mediajet serve --data-dir` uses), encrypted with that
data dir's key."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from mediajet.errors import InvalidRequest

FLAGS = {"name": "name", "endpoint": "endpoint", "region": "region", "access_key_id": "access_key_id",
         "secret_access_key": "secret_access_key", "is_default": "is_default"}


def body_from(args: argparse.Namespace) -> dict[str, Any]:
    if args.action == "add" and args.target not in ([], ["s3"]):
        raise InvalidRequest("connections add takes the kind s3: `connections add s3 --name … --access-key-id … "
                             "--secret-access-key …`", kind="invalid_kind", field="kind")
    body: dict[str, Any] = {"kind": "s3"}
    body.update({field: getattr(args, attr) for field, attr in FLAGS.items() if getattr(args, attr) is not None})
    return body


def run(args: argparse.Namespace, settings: Callable[[], Any]) -> int:
    if args.action == "delete" and len(args.target) != 1:
        raise InvalidRequest("connections delete takes one connection name (or id)", kind="request_invalid")
    ops = _Local(settings(), args) if args.local else _Remote(settings())
    if args.action == "list":
        found = ops.list()
        if args.json or not sys.stdout.isatty():
            print(json.dumps(found, indent=2))
        else:
            for c in found:
                mark = "*" if c["is_default"] else " "
                print(f"{mark} {c['id']}  {c['name']:<20} {c.get('endpoint') or 'aws'}  {c.get('region') or ''}")
        return 0
    if args.action in ("create", "add"):
        print(json.dumps(ops.create(body_from(args)), indent=2))
        return 0
    print(json.dumps(ops.delete(args.target[0]), indent=2))
    return 0


class _Remote:
    def __init__(self, settings: Any) -> None:
        from mediajet.cli.remote import Client

        self.client = Client(settings.api_url, settings.api_key)

    def list(self) -> list[dict[str, Any]]:
        return self.client.list_connections()

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.client.create_connection(body)

    def delete(self, ref: str) -> dict[str, Any]:
        return self.client.delete_connection(ref)


class _Local:
    def __init__(self, settings: Any, args: argparse.Namespace) -> None:
        from mediajet.local.runtime import LocalRuntime

        self.settings, self.project = settings, args.project
        self.runtime = LocalRuntime.open(settings, args.data_dir)

    def list(self) -> list[dict[str, Any]]:
        from mediajet.api.connections import connection_view
        from mediajet.connections import service

        return [connection_view(c) for c in service.all_of(self.runtime.jobs, self.project)]

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        from mediajet.api.connections import connection_view
        from mediajet.connections import service

        data = service.parse_input(body, create=True)
        made, _ = service.create(self.runtime.jobs, self.runtime.cipher, self.settings, self.project, data)
        return connection_view(made, data.secret_access_key)

    def delete(self, ref: str) -> dict[str, Any]:
        from mediajet.api.connections import connection_view
        from mediajet.connections import service

        return {**connection_view(service.delete(self.runtime.jobs, self.project, ref)), "deleted": True}
