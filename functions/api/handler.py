"""Lambda entry point: the HTTP API (API Gateway HTTP API events)."""

from typing import Any

from mediajet.aws import coldstart, handlers

cold = coldstart.ColdStart()  # no garbage collection until the first request is answered
handlers.prepare("api")  # on Lambda: built in the init phase, on a whole vCPU


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return cold.call(handlers.api, event, context)
