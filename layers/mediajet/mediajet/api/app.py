"""The Jobs API application: `create_app(deps).resolve(event, context)` answers API Gateway HTTP API
(payload v2) events, on Lambda and behind the embedded server (local/http.py) alike.

Powertools keeps the current event in class attributes, so one resolver answers one request at a
time; the embedded server serialises calls to `resolve` (see local/http.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from mediajet import __version__
from mediajet.api import errors, openapi, routes_jobs, routes_tasks
from mediajet.api.deps import ApiDeps
from mediajet.api.errors import RouteTable, json_response

DOCS_PATH = "/docs"


def openapi_settings() -> dict[str, Any]:
    return {
        "title": openapi.TITLE,
        "version": __version__,
        "description": openapi.DESCRIPTION,
        "security_schemes": {openapi.SECURITY_SCHEME: HTTPBearer(
            description="`Authorization: Bearer <key>`; a missing key is token_missing, a bad one token_invalid",
        )},
        "security": [{openapi.SECURITY_SCHEME: []}],
    }


def create_app(deps: ApiDeps) -> APIGatewayHttpResolver:
    app = openapi.Resolver(enable_validation=True)
    settings = openapi_settings()
    # Swagger UI with the JS/CSS bundled in the Powertools package inlined into the page: no CDN.
    app.enable_swagger(path=DOCS_PATH, **settings)

    @cache
    def document() -> str:
        return app.get_openapi_json_schema(**settings)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_json():
        return Response(200, "application/json", document())

    @app.get("/health", summary="Health check", tags=["meta"], operation_id="health",
             description=openapi.EXTENSION + "No API key needed.", openapi_extensions=openapi.EXT,
             responses=openapi.ok(200, "the server is up", openapi.Health))
    def health():
        return json_response(200, {"status": "ok", "version": __version__})

    routes_jobs.register(app, deps)
    routes_tasks.register(app, deps)
    table = RouteTable(app)
    errors.register(app, lambda: table)
    return app
