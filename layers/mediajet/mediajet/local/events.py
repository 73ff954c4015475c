"""An HTTP request as an API Gateway HTTP API (payload v2) event, and a resolver's result back as
status, headers and body: the embedded server runs exactly the handler API Gateway → Lambda runs."""

from __future__ import annotations

import base64
import datetime as dt
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


def to_event(method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes, *,
             source_ip: str, request_id: str | None = None) -> dict[str, Any]:
    """The payload v2 event for one request (`headers` may repeat names: they are joined by commas)."""
    parts = urlsplit(target)
    raw_path = parts.path or "/"
    merged: dict[str, str] = {}
    for name, value in headers:
        lname = name.lower()
        merged[lname] = f"{merged[lname]},{value}" if lname in merged else value
    query = {name: ",".join(values) for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": parts.query,
        "headers": merged,
        "requestContext": {
            "accountId": "local",
            "apiId": "mediajet",
            "domainName": merged.get("host", "localhost").split(":")[0],
            "domainPrefix": "mediajet",
            "http": {"method": method, "path": unquote(raw_path), "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": merged.get("user-agent", "")},
            "requestId": request_id or uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "time": dt.datetime.fromtimestamp(now, dt.UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if "cookie" in merged:
        event["cookies"] = [c.strip() for c in merged["cookie"].split(";") if c.strip()]
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def response_parts(result: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """A resolver result (payload v2 or v1 shape) → status, header lines (repeats allowed), body."""
    status = int(result.get("statusCode", 200))
    lines: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    for name, values in multi.items():
        lines.extend((name, str(v)) for v in values)
    for name, value in (result.get("headers") or {}).items():
        if name not in multi:
            lines.append((name, str(value)))
    lines.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or ())
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return status, lines, body
