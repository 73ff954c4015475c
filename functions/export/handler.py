"""Lambda entry point: pipeline step export."""

from typing import Any

from mediajet.aws import handlers

handlers.prepare("export")  # on Lambda: built in the init phase, on a whole vCPU


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.export(event, context)
