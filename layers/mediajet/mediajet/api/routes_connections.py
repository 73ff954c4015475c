"""/connections routes (spec §5.4; a MediaJet extension of the Jobs API, whose guides POST to it): the
project's S3-compatible storage connections. Errors and times are the Jobs API's whatever `Accept-Version`
says. The handlers are in api/connections.py, imported on the first connections request."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path

from mediajet.api.deps import ApiDeps
from mediajet.api.openapi import Resolver, route_doc
from mediajet.api.wire import WireContext

ID_NOTE = " `{id}` is the connection's id (`con_…`, or the guides' `conn_…` spelling of it) or its name."


def _doc(summary: str, operation: str, description: str, *codes: int) -> dict[str, Any]:
    return route_doc(summary, operation, "connections", description, *codes, extension=True, deleted=200)


def register(app: Resolver, deps: ApiDeps) -> None:
    def ctx() -> WireContext:
        return WireContext(deps, app.current_event)

    def handlers() -> Any:
        from mediajet.api import connections

        return connections

    @app.post("/connections", **_doc(
        "Create a connection", "createConnection",
        "`{kind: \"s3\", name, endpoint?, region?, access_key_id, secret_access_key, is_default?}`: credentials for "
        "your own S3-compatible storage (AWS S3, Cloudflare R2 with `region: auto`, MinIO, GCS interop…), used for "
        "`s3://` inputs and outputs by jobs and tasks that name it in `connection_id`, or by all of them when it is "
        "the default (a project's first connection is). The secret is encrypted at rest and shown in full only in "
        "this answer. An endpoint on a private or loopback address is refused unless the server allows private URLs.",
        400, 401, 409))
    def create_connection():
        return handlers().create(ctx())

    @app.get("/connections", **_doc("List connections", "listConnections",
             "Newest first, a bare array; secrets masked. `page` and `limit` (1-100, default 100).", 400, 401))
    def list_connections():
        return handlers().list_(ctx())

    @app.get("/connections/<connection_id>", **_doc("Get a connection", "getConnection",
             "The secret is masked." + ID_NOTE, 401, 404))
    def get_connection(connection_id: Annotated[str, Path()]):
        return handlers().get(ctx(), connection_id)

    @app.patch("/connections/<connection_id>", **_doc(
        "Update a connection", "updateConnection", "Changes the given fields (`endpoint` or `region` null clears "
        "them); `is_default: true` unsets the project's other default." + ID_NOTE, 400, 401, 404, 409))
    def update_connection(connection_id: Annotated[str, Path()]):
        return handlers().update(ctx(), connection_id)

    @app.delete("/connections/<connection_id>", **_doc(
        "Delete a connection", "deleteConnection", "Answers the deleted connection. Jobs that were to use it fail "
        "with connection_not_found when they reach it." + ID_NOTE, 401, 404))
    def delete_connection(connection_id: Annotated[str, Path()]):
        return handlers().delete(ctx(), connection_id)
