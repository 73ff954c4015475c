"""Lambda entry point: the HTTP API (API Gateway HTTP API events)."""

from typing import Any

from mediajet.aws import handlers


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.api(event, context)
