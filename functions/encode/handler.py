"""Lambda entry point: pipeline step encode; also standalone tasks."""

from typing import Any

from mediajet.aws import handlers

handlers.prepare("encode")  # on Lambda: built in the init phase, on a whole vCPU


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.encode(event, context)
