"""Lambda entry point: pipeline step export."""

from typing import Any

from mediajet.aws import handlers


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.export(event, context)
