"""Signed download links (`/downloads/<key>?expires=…&signature=…`, no API key), shared by the embedded
server (local/downloads.py) and the API Lambda (aws/downloads.py): checking a link, and rewriting the
URIs of an HLS playlist fetched through one.

A link is signed for one key, and a player resolves a playlist's relative URIs against the playlist's
URL, which drops its query string; so a playlist is rewritten on the way out, each relative URI inside
it that stays under the playlist's own folder being replaced by a link of its own (`rewrite_playlist`):
the embedded server signs each the same way, the API Lambda signs nested playlists the same way and
presigns media segments on S3. URIs that leave the folder, are absolute, or already carry a query are
left as they are, so no other file becomes reachable.

Only the standard library here: the API Lambda imports this on its download path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import posixpath
import re
import time
from collections.abc import Callable
from urllib.parse import quote, unquote

from mediajet.errors import InvalidRequest


def check_key(key: str, *, prefix: bool = False) -> str:
    """`key` if it is a relative POSIX path that stays under the root, else InvalidRequest.

    With `prefix`, a trailing '/' (a folder) and the empty prefix (everything) are allowed too.
    """
    if not isinstance(key, str):
        raise InvalidRequest(f"invalid storage key {key!r}", kind="invalid_key")
    body = key[:-1] if prefix and key.endswith("/") else key
    if prefix and body == "":
        return key
    if (
        not body
        or "\x00" in key
        or "\\" in key
        or body.startswith("/")
        or any(part in ("", ".", "..") for part in body.split("/"))
    ):
        raise InvalidRequest(f"invalid storage key {key!r}", kind="invalid_key")
    return key


DOWNLOADS_ROUTE = "/downloads/"
# Links issued before the Files API took /files/: their signatures cover this path, so they still verify.
LEGACY_DOWNLOADS_ROUTE = "/files/"


def sign(secret: bytes, key: str, expires: int, route: str = DOWNLOADS_ROUTE) -> str:
    """base64url HMAC-SHA256 over the path and expiry of a download link (the Ittybit signed-URL scheme,
    spec 6.7, with `expires` as the parameter name). `route` is the path the link was issued under."""
    message = f"{route}{url_path(key)}?expires={expires}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def url_path(key: str) -> str:
    return quote(key, safe="/")

MAX_PLAYLIST_BYTES = 16 * 1024 * 1024
MAX_EXPIRES_DIGITS = 12  # a Unix time in seconds has 10 digits until the year 2286
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
MEDIA_TYPES = {
    "m3u8": PLAYLIST_TYPE, "m3u": "audio/mpegurl", "ts": "video/mp2t",
    "m4s": "video/iso.segment", "mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime",
    "webm": "video/webm", "mkv": "video/x-matroska", "mp3": "audio/mpeg", "aac": "audio/aac",
    "m4a": "audio/mp4", "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg", "wav": "audio/wav",
    "flac": "audio/flac", "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
    "webp": "image/webp", "avif": "image/avif", "gif": "image/gif", "json": "application/json",
    "vtt": "text/vtt",
}
# A signed link is a capability: any origin may use it (hls.js and <video> need CORS).
CORS = [("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges")]
PREFLIGHT = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "GET, HEAD"),
             ("Access-Control-Allow-Headers", "Range"), ("Access-Control-Max-Age", "86400")]
_URI_ATTR = re.compile(r'URI="([^"]*)"')


def media_type(key: str) -> str:
    return MEDIA_TYPES.get(posixpath.splitext(key)[1].lstrip(".").lower(), "application/octet-stream")


def is_playlist(key: str) -> bool:
    return key.lower().endswith((".m3u8", ".m3u"))


def query_string(secret: bytes, key: str, expires: int, route: str = DOWNLOADS_ROUTE) -> str:
    """`expires=…&signature=…` of a link to `key` under `route`."""
    return f"expires={expires}&signature={sign(secret, key, expires, route)}"


def verify(secret: bytes | None, key: str, expires: int, signature: str, *, now: float | None = None,
           route: str = DOWNLOADS_ROUTE) -> bool:
    """Whether `signature` is ours for `key` (decoded, as stored) under `route` and the link has not expired."""
    if not secret or expires < (time.time() if now is None else now):
        return False
    try:
        check_key(key)
        given = signature.rstrip("=").encode("ascii")
    except (InvalidRequest, UnicodeEncodeError):
        return False
    return hmac.compare_digest(sign(secret, key, expires, route).encode(), given)


def refusal(expires: str, signature: str, valid: Callable[[int], bool],
            now: float | None = None) -> tuple[str, str] | None:
    """Why a download link (its raw `expires` and `signature` parameters) is refused, as (kind, message) for a
    403, or None when it is good; `valid(expires)` checks the signature."""
    if not (expires.isascii() and expires.isdigit()) or len(expires) > MAX_EXPIRES_DIGITS or not signature:
        return "signature_missing", "this link is not signed; take the output URL from the job"
    if int(expires) < (time.time() if now is None else now):
        return "link_expired", "this download link has expired; read the job again for a fresh link"
    if not valid(int(expires)):
        return "signature_invalid", "the signature of this download link does not match"
    return None


def rewrite_playlist(text: str, key: str, link: Callable[[str, str], str]) -> str:
    """`text`, the HLS playlist stored at `key`, with each relative URI that stays under `key`'s folder
    replaced by `link(target key, uri)` (segment lines and the URI="…" attributes of tags alike)."""
    folder = posixpath.dirname(key)

    def replace(uri: str) -> str:
        if not uri or "?" in uri or "#" in uri or ":" in uri.split("/", 1)[0] or uri.startswith("/"):
            return uri
        target = posixpath.normpath(posixpath.join(folder, unquote(uri)))
        if folder and not target.startswith(folder + "/"):
            return uri
        try:
            check_key(target)
        except InvalidRequest:
            return uri
        return link(target, uri)

    lines = []
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("#"):
            lines.append(_URI_ATTR.sub(lambda m: f'URI="{replace(m.group(1))}"', line))
        elif stripped:
            lines.append(line.replace(stripped, replace(stripped), 1))
        else:
            lines.append(line)
    return "".join(lines)
