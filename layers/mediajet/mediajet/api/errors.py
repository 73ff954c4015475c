"""The one mapping from exceptions to HTTP responses. Every error body is `{kind, message}` (plus
`field` when one field is at fault), whichever layer raised it: our domain errors, Powertools'
validation, an unknown route, or a bug."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from mediajet.errors import MediaJetError, error_body

logger = Logger(service="mediajet", child=True)

JSON = "application/json"

# Query parameters whose bad value has a dedicated kind; the others are `request_invalid`.
_PARAM_KINDS = {"kind": "invalid_kind"}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    # Serialised here (compact, no Powertools encoder pass) so the hot path pays one json.dumps.
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return Response(status_code=status, content_type=JSON, body=text, headers=headers or {})


def error_response(exc: MediaJetError, headers: dict[str, str] | None = None) -> Response:
    return json_response(exc.status, exc.to_dict(), headers)


def validation_body(errors: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Powertools' RequestValidationError (query, path or header parameters) → our error body."""
    err = errors[0] if errors else {}
    loc = [str(part) for part in err.get("loc", ())]
    where, field = (loc[0], ".".join(loc[1:])) if len(loc) > 1 else ("request", loc[0] if loc else "")
    if err.get("type") == "json_invalid":
        return {"kind": "request_invalid", "message": "body is not valid JSON", "field": "body"}
    kind = _PARAM_KINDS.get(field, "request_invalid")
    detail = err.get("msg", "is invalid")
    if err.get("type") == "missing":
        detail = "is required"
    body = {"kind": kind, "message": f"{where} parameter '{field}': {detail}".strip()}
    if field:
        body["field"] = field
    return body


class RouteTable:
    """Which methods a path answers to. Powertools answers 404 for a known path with the wrong method;
    this lets the not-found handler tell 405 apart. Built once, after every route is registered."""

    def __init__(self, app: APIGatewayHttpResolver) -> None:
        # Powertools keeps its routes in these two lists; there is no public accessor.
        routes = [*app._static_routes, *app._dynamic_routes]
        self._routes: list[tuple[str, re.Pattern[str]]] = [(r.method.upper(), r.rule) for r in routes]

    def allowed(self, path: str) -> list[str]:
        return sorted({method for method, rule in self._routes if rule.match(path)})


def register(app: APIGatewayHttpResolver, routes: Callable[[], RouteTable]) -> None:
    def render(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
        """The engine's `{kind, message[, field]}` in the request's wire format (api/wire)."""
        from mediajet.api.wire import GEN_A, error_generation, wire

        gen = error_generation(app.current_event)
        if gen == GEN_A:
            return json_response(status, body, headers)
        return wire(gen).error(app.current_event, status, body, headers or {})

    @app.exception_handler(MediaJetError)
    def _domain(exc: MediaJetError) -> Response:
        return render(exc.status, exc.to_dict())

    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response:
        return render(400, validation_body(list(exc.errors())))

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        path = app.current_event.path
        allowed = routes().allowed(path)
        if allowed:
            method = app.current_event.http_method.upper()
            return render(405, {"kind": "method_not_allowed",
                                "message": f"{method} is not allowed on {path}; use {', '.join(allowed)}"},
                          {"Allow": ", ".join(allowed)})
        return render(404, {"kind": "not_found", "message": f"No route matches {path}"})

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        request_id = app.current_event.request_context.request_id or ""
        method, path = app.current_event.http_method, app.current_event.path
        logger.exception(f"unhandled error in request {request_id} ({method} {path})",
                         extra={"request_id": request_id, "path": path})
        return render(500, {**error_body(exc), "request_id": request_id})
