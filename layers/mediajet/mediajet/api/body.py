"""Request bodies: size limit, then JSON, then shape limits. Read by the handlers themselves (not declared as a
Powertools Body parameter) so that any Content-Type is accepted — `curl -d` without `-H Content-Type` sends
form-encoded headers with a JSON body — and so each field error keeps its Ittybit kind.

Every JSON body is bounded here, before any model sees it, so nothing is stored that a store cannot write or
read back (README "Limits"):
- at most `max_body_bytes` (413);
- at most MAX_DEPTH levels of objects and arrays: DynamoDB refuses deeper documents, and pydantic's JSON reader
  refuses to load records much deeper than that (a stored record would be unreadable);
- numbers within ±MAX_NUMBER and, unless 0, at least MIN_MAGNITUDE in magnitude (models.requests says why).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from mediajet.errors import InvalidRequest, PayloadTooLarge
from mediajet.models.requests import MAX_NUMBER, MIN_MAGNITUDE, number_in_range

MAX_DEPTH = 32
# A longer integer literal is out of range anyway; refusing it by length keeps int() (quadratic in the digit
# count, and a ValueError past 4300 digits) from ever seeing it.
_MAX_INT_CHARS = len(str(MAX_NUMBER)) + 1
_TOO_DEEP = f"nests objects and arrays more than {MAX_DEPTH} levels deep (the limit for a request body)"
_FIELD_PART_CHARS = 40  # a field path names user keys: long ones are cut in the error
# Faults inside `options` or `input` keep the kind their models would report.
_KIND_BY_FIELD = {"options": "invalid_option", "input": "invalid_input"}


class _OutOfRange:
    """A number json.loads must not convert: reported with its path by the shape check."""

    def __init__(self, token: str) -> None:
        self.token = token


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
        value = json.loads(data, parse_constant=_reject, parse_float=_float, parse_int=_int)
    except RecursionError:  # json.loads recurses per level: hundreds of levels deep, it gives up first
        raise _invalid((), _TOO_DEEP) from None
    except ValueError:
        raise InvalidRequest("body is not valid JSON", kind="request_invalid", field="body") from None
    check_shape(value)
    if b"\\u" in data:
        _check_unicode(value)
    return value


def check_shape(value: Any) -> None:
    """Depth and number bounds, walked with an explicit stack: the check must not itself recurse as deep as
    the body goes. Children are visited in document order, so the first fault in the body is the one named."""
    stack: list[tuple[Any, tuple[str, ...], int]] = [(value, (), 1)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, dict | list) and depth > MAX_DEPTH:
            raise _invalid(path, _TOO_DEEP, whole=True)
        if isinstance(node, dict):
            stack.extend((child, (*path, str(key)), depth + 1) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((child, path, depth + 1) for child in reversed(node))
        elif not isinstance(node, bool) and isinstance(node, int | float | _OutOfRange):
            _check_number(node, path)


def _check_number(number: float | _OutOfRange, path: tuple[str, ...]) -> None:
    if isinstance(number, _OutOfRange) or abs(number) > MAX_NUMBER:
        shown = number.token if isinstance(number, _OutOfRange) else repr(number)
        raise _invalid(path, f"{_clip(shown)} is out of range: numbers must be between "
                             f"-{MAX_NUMBER} and {MAX_NUMBER}")
    if not number_in_range(number):
        raise _invalid(path, f"{number!r} is too close to zero: non-zero numbers must be at least "
                             f"{MIN_MAGNITUDE:g} in magnitude")


def _invalid(path: tuple[str, ...], problem: str, *, whole: bool = False) -> InvalidRequest:
    """`whole`: the fault is the structure under the top-level field, so the field named is that one (a path
    32 keys long would help nobody)."""
    parts = path[:1] if whole else path
    field = ".".join(_clip(part) for part in parts) or "body"
    kind = _KIND_BY_FIELD.get(path[0], "request_invalid") if path else "request_invalid"
    return InvalidRequest(f"{field}: {problem}", kind=kind, field=field)


def _clip(text: str) -> str:
    return text if len(text) <= _FIELD_PART_CHARS else text[:_FIELD_PART_CHARS] + "…"


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


def _int(token: str) -> int | _OutOfRange:
    return _OutOfRange(token) if len(token) > _MAX_INT_CHARS else int(token)


def _float(token: str) -> float | _OutOfRange:
    value = float(token)
    return _OutOfRange(token) if value in (float("inf"), float("-inf")) else value
