"""Lambda entry point: S3 ObjectCreated on the inbox bucket."""

from typing import Any

from mediajet.aws import handlers

handlers.prepare("on_upload")  # on Lambda: built in the init phase, on a whole vCPU


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.on_upload(event, context)
