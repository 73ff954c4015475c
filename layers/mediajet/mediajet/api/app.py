"""The Jobs API application: `create_app(deps).resolve(event, context)` answers API Gateway HTTP API
(payload v2) events, on Lambda and behind the embedded server (local/asgi.py) alike.

Powertools keeps the current event in class attributes, so one resolver answers one request at a
time; the embedded server runs calls to `resolve` one at a time (see local/asgi.py).

`/openapi.json` and `/docs` are built on their first request, not here: Powertools' OpenAPI models
(which `enable_swagger` imports when it registers its route) would add their import time to every
cold start. `/docs` is Powertools' own Swagger UI page (`generate_swagger_html`) with the JS and CSS
bundled in the Powertools package inlined, exactly what `enable_swagger()` serves: no CDN.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import aws_lambda_powertools.event_handler as powertools_event_handler
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from mediajet import __version__
from mediajet.api import (
    errors,
    openapi,
    routes_connections,
    routes_jobs,
    routes_library,
    routes_steps,
    routes_tasks,
    routes_webhooks,
)
from mediajet.api.deps import ApiDeps
from mediajet.api.errors import RouteTable, json_response

DOCS_PATH = "/docs"
SWAGGER_ASSETS = Path(powertools_event_handler.__file__).parent / "openapi" / "swagger_ui"


def openapi_settings() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {
        "title": openapi.TITLE,
        "version": __version__,
        "description": openapi.DESCRIPTION,
        "security_schemes": {openapi.SECURITY_SCHEME: HTTPBearer(
            description="`Authorization: Bearer <key>`; a missing key is token_missing, a bad one token_invalid",
        )},
        "security": [{openapi.SECURITY_SCHEME: []}],
    }


def swagger_page(spec_json: str) -> str:
    """Powertools' Swagger UI page with its bundled assets inlined (what `enable_swagger()` serves)."""
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    js = (SWAGGER_ASSETS / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (SWAGGER_ASSETS / "swagger-ui.min.css").read_text(encoding="utf-8")
    # "</" inside the inlined JSON would end the <script> element early.
    return generate_swagger_html(spec_json.replace("</", "<\\/"), js, css, None, None, False)


def create_app(deps: ApiDeps) -> APIGatewayHttpResolver:
    app = openapi.Resolver(enable_validation=True)

    @cache
    def document() -> str:
        return app.get_openapi_json_schema(**openapi_settings())

    @cache
    def docs_page() -> str:
        return swagger_page(document())

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_json():
        return Response(200, "application/json", document())

    @app.get(DOCS_PATH, include_in_schema=False)
    def docs():
        if (app.current_event.query_string_parameters or {}).get("format") == "json":
            return Response(200, "application/json", document())
        return Response(200, "text/html; charset=utf-8", docs_page())

    @app.get("/health", summary="Health check", tags=["meta"], operation_id="health",
             description=openapi.EXTENSION + "No API key needed.", openapi_extensions=openapi.EXT,
             responses=openapi.ok(200, "the server is up", openapi.Health))
    def health():
        return json_response(200, {"status": "ok", "version": __version__})

    routes_jobs.register(app, deps)
    routes_tasks.register(app, deps)
    routes_steps.register(app, deps)
    routes_library.register(app, deps)
    routes_connections.register(app, deps)
    routes_webhooks.register(app, deps)
    table = RouteTable(app)
    errors.register(app, lambda: table)
    return app
