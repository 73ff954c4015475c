"""Lambda entry point: pipeline step finalize."""

from typing import Any

from mediajet.aws import handlers

handlers.prepare("finalize")  # on Lambda: built in the init phase, on a whole vCPU


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.finalize(event, context)
