"""Signed downloads of stored outputs (`/downloads/<key>?expires=…&signature=…`, no API key).

Links issued before the Files API took `/files/` (`/files/<key>?expires=…&signature=…`) still work: a
GET or HEAD under /files/ that carries both `expires` and `signature` is such a link (`is_legacy_link`);
its signature covers the old path, so it is checked against that.

- Downloads answer Range requests (206, `Content-Range`), send the media type players expect and
  allow any origin (a signed link is a capability; hls.js and <video> need CORS).
- HLS: a link is signed for one key, and a player resolves the playlist's relative URIs against the
  playlist URL, which drops its query string. So a playlist fetched through a valid link is rewritten
  on the way out: each relative URI inside it that stays under the playlist's own folder gets its own
  signature with the same expiry (`720p/stream.m3u8?expires=…&signature=…`). Signing stays per key,
  links keep working through any number of playlist levels and expire together, and no other file
  becomes reachable. URIs that leave the folder, are absolute, or already carry a query are left as
  they are. The link checks and the playlist rewriting are shared with the API Lambda's downloads
  (storage/links.py, aws/downloads.py).
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import anyio

from mediajet.storage.links import (
    CORS,
    DOWNLOADS_ROUTE,
    LEGACY_DOWNLOADS_ROUTE,
    MAX_PLAYLIST_BYTES,
    PREFLIGHT,
    is_playlist,
    media_type,
    query_string,
    refusal,
    rewrite_playlist,
)
from mediajet.storage.local import LocalBlobStore

__all__ = ["CORS", "PREFLIGHT", "Download", "byte_range", "is_download", "is_legacy_link", "media_type",
           "sign_playlist"]

CHUNK_BYTES = 256 * 1024
# ASCII digits only (`\d` also matches "²" and other digits int() refuses), and no more than a file
# size can have: a 5000-digit number is not a range.
_RANGE = re.compile(r"bytes=([0-9]{0,19})-([0-9]{0,19})")


def is_download(path: str) -> bool:
    return path.startswith(DOWNLOADS_ROUTE)


def is_legacy_link(method: str, path: str, query: str) -> bool:
    """A signed link from before the move to /downloads/ (a Files API request never carries both)."""
    if method not in ("GET", "HEAD") or not path.startswith(LEGACY_DOWNLOADS_ROUTE):
        return False
    params = parse_qs(query)
    return "expires" in params and "signature" in params


def sign_playlist(text: str, key: str, expires: int, secret: bytes, route: str = DOWNLOADS_ROUTE) -> str:
    """Give each relative URI in an HLS playlist under `key`'s folder its own signature (same expiry)."""
    return rewrite_playlist(text, key, lambda target, uri: f"{uri}?{query_string(secret, target, expires, route)}")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """(first, last) for a single satisfiable range; None to send the whole file (no Range, a syntax
    error or several ranges, which a server may ignore); "unsatisfiable" for a 416."""
    match = _RANGE.fullmatch(header.strip()) if header else None
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return "unsatisfiable"
    return start, end


class Download:
    """One request under /downloads/ (or a legacy /files/ link): checks the link, then answers with the file
    (or its playlist, signed)."""

    def __init__(self, files: LocalBlobStore, method: str, path: str, query: str, range_header: str | None) -> None:
        self.files, self.method, self.range_header = files, method, range_header
        self.route = DOWNLOADS_ROUTE if path.startswith(DOWNLOADS_ROUTE) else LEGACY_DOWNLOADS_ROUTE
        self.key = unquote(path[len(self.route):])
        params = parse_qs(query)
        self.expires, self.signature = params.get("expires", [""])[0], params.get("signature", [""])[0]

    async def respond(self, send: Any) -> int:
        if self.method == "OPTIONS":
            return await reply(send, 204, PREFLIGHT, b"")
        if self.method not in ("GET", "HEAD"):
            return await reply_json(send, 405, "method_not_allowed", f"{self.method} is not allowed on files; "
                                    "use GET or HEAD", [("Allow", "GET, HEAD, OPTIONS")])
        refused = self._refusal()
        if refused:
            return await reply_json(send, 403, *refused, CORS)
        path = self.files.path(self.key)
        if not path.is_file():
            return await reply_json(send, 404, "not_found", "no file at this link (it may have been deleted)", CORS)
        if is_playlist(self.key) and path.stat().st_size <= MAX_PLAYLIST_BYTES:
            text = sign_playlist(path.read_text(encoding="utf-8", errors="replace"), self.key, int(self.expires),
                                 self.files.secret, self.route)
            return await self._send_bytes(send, text.encode())
        return await self._send_file(send, path)

    def _refusal(self) -> tuple[str, str] | None:
        return refusal(self.expires, self.signature, lambda expires: self.files.verify_signature(
            self.key, expires, self.signature, route=self.route))

    async def _send_bytes(self, send: Any, data: bytes) -> int:
        headers = [("Content-Type", media_type(self.key)), ("Accept-Ranges", "bytes"), ("Cache-Control", "no-store"),
                   *CORS]
        span = byte_range(self.range_header, len(data))
        if span == "unsatisfiable":
            return await reply(send, 416, [*headers, ("Content-Range", f"bytes */{len(data)}")], b"")
        if span is None:
            return await reply(send, 200, headers, data, head=self.method == "HEAD")
        first, last = span
        return await reply(send, 206, [*headers, ("Content-Range", f"bytes {first}-{last}/{len(data)}")],
                           data[first:last + 1], head=self.method == "HEAD")

    async def _send_file(self, send: Any, path: Path) -> int:
        async with await anyio.open_file(path, "rb") as fh:
            stat = path.stat()
            size = stat.st_size
            headers = [("Content-Type", media_type(self.key)), ("Accept-Ranges", "bytes"),
                       ("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True)),
                       ("ETag", f'"{stat.st_mtime_ns:x}-{size:x}"'), *CORS]
            span = byte_range(self.range_header, size)
            if span == "unsatisfiable":
                return await reply(send, 416, [*headers, ("Content-Range", f"bytes */{size}")], b"")
            first, last = (0, size - 1) if span is None else span
            status = 200 if span is None else 206
            if span is not None:
                headers.append(("Content-Range", f"bytes {first}-{last}/{size}"))
            remaining = max(0, last - first + 1)
            await send({"type": "http.response.start", "status": status,
                        "headers": _raw([*headers, ("Content-Length", str(remaining))])})
            if self.method == "HEAD":
                remaining = 0
            await fh.seek(first)
            while remaining:
                # `send` waits while the client is slow to read: only this download waits with it.
                chunk = await fh.read(min(CHUNK_BYTES, remaining))
                if not chunk:
                    break  # the file shrank under us; the client sees a short body
                remaining -= len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": bool(remaining)})
            if remaining or self.method == "HEAD" or size == 0:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            return status


async def reply(send: Any, status: int, headers: Sequence[tuple[str, str]], body: bytes, *, head: bool = False) -> int:
    named = {name.lower() for name, _ in headers}
    extra = [] if "content-length" in named else [("Content-Length", str(len(body)))]
    await send({"type": "http.response.start", "status": status, "headers": _raw([*headers, *extra])})
    await send({"type": "http.response.body", "body": b"" if head else body})
    return status


async def reply_json(send: Any, status: int, kind: str, message: str, headers: Sequence[tuple[str, str]] = ()) -> int:
    body = json.dumps({"kind": kind, "message": message}, separators=(",", ":")).encode()
    return await reply(send, status, [("Content-Type", "application/json"), *headers], body)


def _raw(headers: Sequence[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
