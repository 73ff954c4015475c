"""Request bodies: size limit, then JSON. Read by the handlers themselves (not declared as a Powertools
Body parameter) so that any Content-Type is accepted — `curl -d` without `-H Content-Type` sends
form-encoded headers with a JSON body — and so each field error keeps its Ittybit kind."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from mediajet.errors import InvalidRequest, PayloadTooLarge


def raw_body(event: BaseProxyEvent, max_bytes: int) -> bytes:
    body = event.body or ""
    try:
        data = base64.b64decode(body, validate=True) if event.is_base64_encoded else body.encode()
    except (binascii.Error, UnicodeEncodeError):
        raise InvalidRequest("the request body could not be decoded", kind="request_invalid", field="body") from None
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the request body is larger than {max_bytes} bytes")
    return data


def json_body(event: BaseProxyEvent, max_bytes: int) -> Any:
    data = raw_body(event, max_bytes)
    if not data.strip():
        raise InvalidRequest("the request needs a JSON body", kind="request_invalid", field="body")
    try:
        value = json.loads(data, parse_constant=_reject, parse_float=_finite)
    except (ValueError, RecursionError):
        raise InvalidRequest("body is not valid JSON", kind="request_invalid", field="body") from None
    if b"\\u" in data:
        _check_unicode(value)
    return value


def _check_unicode(value: Any) -> None:
    """`"\\ud800"` is valid JSON but no Unicode text: it could not be stored, hashed or echoed."""
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise InvalidRequest("body has a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is not text",
                             kind="request_invalid", field="body") from None


def _reject(token: str) -> Any:
    # NaN and Infinity are not JSON; echoing them back (metadata) would produce invalid JSON.
    raise ValueError(token)


def _finite(token: str) -> float:
    value = float(token)
    if value in (float("inf"), float("-inf")):
        raise ValueError(token)
    return value
