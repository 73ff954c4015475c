"""Lambda entry point: webhook deliveries (the table's stream, the retry queue, the sweep schedule)."""

from typing import Any

from mediajet.aws import handlers

handlers.prepare("webhooks")  # on Lambda: built in the init phase, on a whole vCPU


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.webhooks(event, context)
