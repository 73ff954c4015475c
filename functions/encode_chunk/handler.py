"""Lambda entry point: pipeline step encode_chunk (one part of a chunked encode, run by the Map)."""

from typing import Any

from mediajet.aws import handlers

handlers.prepare("encode_chunk")  # on Lambda: built in the init phase, on a whole vCPU


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.encode_chunk(event, context)
