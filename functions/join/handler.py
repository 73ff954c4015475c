"""Lambda entry point: pipeline step join (the encoded parts of a chunked encode into one result)."""

from typing import Any

from mediajet.aws import handlers

handlers.prepare("join")  # on Lambda: built in the init phase, on a whole vCPU


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.join(event, context)
