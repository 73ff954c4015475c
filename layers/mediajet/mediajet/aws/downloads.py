"""Signed downloads on AWS: `GET /downloads/<key>?expires=…&signature=…` on the API Lambda (no API key:
the signature is the authorisation), the same links and checks as the embedded server's (storage/links.py).

Why: an HLS result is a tree (`master.m3u8`, `<rendition>/stream.m3u8`, segments) in a private bucket.
A presigned link to the master playlist is signed for that one object, and the player fetches the
playlist's relative URIs unsigned (403). So `adaptive_video` outputs are linked here instead
(aws/runtime.sign_url), and a playlist is answered with its URIs rewritten on the way out:

- a nested playlist (`720p/stream.m3u8`) gets a signed /downloads/ link of its own, relative and with the
  same expiry, so it is rewritten in turn when the player fetches it;
- a segment, init segment or key gets a presigned S3 GET, straight from the bucket (no Lambda per
  segment), valid until the link expires (and no longer than the role's session: presigned URLs die
  with the credentials that signed them, which is why playlists are signed per request, not stored);
- anything else (a non-playlist key) is a 302 to a presigned S3 GET.

The HMAC secret is a Secrets Manager secret made by the stack (infra/api.py), read once per container.
Responses allow any origin (hls.js needs CORS; the output bucket allows GET from any origin too).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote

from mediajet.errors import MediaJetError, NotFound, ProcessingError, TransientError
from mediajet.storage.links import (
    CORS,
    DOWNLOADS_ROUTE,
    MAX_PLAYLIST_BYTES,
    PLAYLIST_TYPE,
    PREFLIGHT,
    check_key,
    is_playlist,
    query_string,
    refusal,
    rewrite_playlist,
    verify,
)

if TYPE_CHECKING:
    from mediajet.storage.s3 import S3BlobStore

Headers = Sequence[tuple[str, str]]


def is_download(event: dict[str, Any]) -> bool:
    return str(event.get("rawPath") or "").startswith(DOWNLOADS_ROUTE)


def public_url(event: dict[str, Any]) -> str | None:
    """The API's base URL as the client called it (the `$default` stage has no path prefix)."""
    context = event.get("requestContext") or {}
    domain = context.get("domainName")
    if not domain:
        return None
    stage = context.get("stage")
    return f"https://{domain}" + ("" if stage in (None, "", "$default") else f"/{stage}")


def answer(event: dict[str, Any], links: S3Downloads | None) -> dict[str, Any]:
    """The response to a request under /downloads/ (404 when this stack signs no links)."""
    if links is None:
        return error(404, "not_found", "this server issues no download links", CORS)
    return links.respond(event)


class S3Downloads:
    """Signed /downloads/ links to `store`'s objects, and the answers to them."""

    def __init__(self, store: S3BlobStore, secret: bytes, *, now: Callable[[], float] = time.time) -> None:
        self.store, self.secret, self.now = store, secret, now

    def url(self, base_url: str, key: str, ttl_s: int) -> str:
        """A link to `key` under `base_url` that works for `ttl_s` seconds. Raises InvalidRequest for a key
        a link cannot name (check_key)."""
        check_key(key)
        expires = int(self.now()) + int(ttl_s)
        return f"{base_url.rstrip('/')}{DOWNLOADS_ROUTE}{quote(key, safe='/')}?{query_string(self.secret, key, expires)}"

    def respond(self, event: dict[str, Any]) -> dict[str, Any]:
        """The API Gateway (payload 2.0) response to a request under /downloads/."""
        method = (event.get("requestContext") or {}).get("http", {}).get("method", "GET").upper()
        if method == "OPTIONS":
            return response(204, PREFLIGHT)
        if method not in ("GET", "HEAD"):
            return error(405, "method_not_allowed", f"{method} is not allowed on downloads; use GET or HEAD",
                         [("Allow", "GET, HEAD, OPTIONS")])
        key = unquote(event["rawPath"][len(DOWNLOADS_ROUTE):])
        params = parse_qs(event.get("rawQueryString") or "")
        expires, signature = params.get("expires", [""])[0], params.get("signature", [""])[0]
        now = self.now()
        refused = refusal(expires, signature, lambda at: verify(self.secret, key, at, signature, now=now), now=now)
        if refused:
            return error(403, *refused, CORS)
        try:
            if is_playlist(key):
                text = self._playlist(key, int(expires))
                if text is not None:
                    return response(200, [("Content-Type", PLAYLIST_TYPE), ("Cache-Control", "no-store"), *CORS],
                                    "" if method == "HEAD" else text)
            return response(302, [("Location", self._presigned(key, int(expires))), ("Cache-Control", "no-store"),
                                  *CORS])
        except MediaJetError as exc:
            return failure(exc)

    def _playlist(self, key: str, expires: int) -> str | None:
        """The playlist at `key`, rewritten (None: too large to rewrite; it is then served as it is)."""
        data = self.store.read_range(key, 0, MAX_PLAYLIST_BYTES + 1)
        if len(data) > MAX_PLAYLIST_BYTES:
            return None

        def link(target: str, uri: str) -> str:  # nested playlists expire with this link
            if is_playlist(target):
                return f"{uri}?{query_string(self.secret, target, expires)}"
            return self._presigned(target, expires)

        return rewrite_playlist(data.decode("utf-8", errors="replace"), key, link)

    def _presigned(self, key: str, expires: int) -> str:
        return self.store.signed_url(key, max(1, expires - int(self.now())))


def failure(exc: MediaJetError) -> dict[str, Any]:
    """Storage errors, mapped once: a missing object is a 404, S3 busy a 503, S3 refusing a 502."""
    if isinstance(exc, NotFound):
        return error(404, "not_found", "no file at this link (it may have been deleted)", CORS)
    if isinstance(exc, TransientError):
        return error(503, "storage_unavailable", exc.message, [("Retry-After", "1"), *CORS])
    if isinstance(exc, ProcessingError):
        return error(502, exc.kind, exc.message, CORS)
    return error(exc.status, exc.kind, exc.message, CORS)


def response(status: int, headers: Headers, body: str = "") -> dict[str, Any]:
    return {"statusCode": status, "headers": dict(headers), "body": body, "isBase64Encoded": False}


def error(status: int, kind: str, message: str, headers: Headers = ()) -> dict[str, Any]:
    return response(status, [("Content-Type", "application/json"), *headers],
                    json.dumps({"kind": kind, "message": message}, separators=(",", ":")))
