"""Lambda entry point: pipeline step import."""

from typing import Any

from mediajet.aws import handlers

handlers.prepare("import")  # on Lambda: built in the init phase, on a whole vCPU


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.import_(event, context)
