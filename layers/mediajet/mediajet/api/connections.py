"""What the /connections routes do (spec §5.4): a few lines each over connections/service.py, answering in
the Jobs API's shape (`{kind, message, field?}` errors, Unix ms times). The secret access key is shown in full
only in the answer to the POST that sent it; every other answer masks it (`****` and its last 4 characters)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from mediajet.api import idempotency
from mediajet.api.errors import json_response
from mediajet.api.wire import WireContext
from mediajet.api.wire.v2025_08_20 import count_param
from mediajet.connections import service
from mediajet.connections.crypto import Cipher, NoCipher
from mediajet.models.connection import Connection


def connection_view(connection: Connection, secret: str | None = None) -> dict[str, Any]:
    return {"id": connection.id, "object": "storage_connection", "kind": connection.kind, "name": connection.name,
            "endpoint": connection.endpoint, "region": connection.region, "access_key_id": connection.access_key_id,
            "secret_access_key": secret if secret is not None else service.masked(connection),
            "is_default": connection.is_default, "created_at": connection.created_at,
            "updated_at": connection.updated_at}


def _cipher(ctx: WireContext) -> Cipher:
    return ctx.deps.cipher or NoCipher()


def create(ctx: WireContext) -> Response:
    project, key, body = ctx.project(), idempotency.key_from(ctx.event.headers), ctx.body()
    data = service.parse_input(body, create=True)
    connection, created = service.create(ctx.deps.jobs, _cipher(ctx), ctx.deps.settings, project, data, key=key,
                                         sent=body)
    # the secret this request sent (a replay's body matched the original's, secret included)
    return json_response(201 if created else 200, connection_view(connection, data.secret_access_key))


def list_(ctx: WireContext) -> Response:
    project, query = ctx.project(), ctx.query()
    limit = count_param(query, "limit", 1, service.MAX_CONNECTIONS, service.MAX_CONNECTIONS)
    page = count_param(query, "page", 1, 1_000_000, 1)
    found = ctx.deps.jobs.list_records(Connection, project, page, limit)
    return json_response(200, [connection_view(c) for c in found])


def get(ctx: WireContext, ref: str) -> Response:
    return json_response(200, connection_view(service.find(ctx.deps.jobs, ctx.project(), ref)))


def update(ctx: WireContext, ref: str) -> Response:
    project = ctx.project()
    data = service.parse_input(ctx.body(), create=False)
    saved = service.update(ctx.deps.jobs, _cipher(ctx), ctx.deps.settings, project, ref, data)
    return json_response(200, connection_view(saved))


def delete(ctx: WireContext, ref: str) -> Response:
    gone = service.delete(ctx.deps.jobs, ctx.project(), ref)
    return json_response(200, {**connection_view(gone), "deleted": True})
