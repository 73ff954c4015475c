"""Lambda entry point: pipeline step probe."""

from typing import Any

from mediajet.aws import handlers

handlers.prepare("probe")  # on Lambda: built in the init phase, on a whole vCPU


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.probe(event, context)
