"""The embedded HTTP server: the same API handler as on Lambda, plus signed downloads of outputs.

Each request becomes an API Gateway HTTP API (payload v2) event for `resolve(event, None)`, so
`mediajet serve` runs exactly the code API Gateway → Lambda runs. Requests under `/files/` are not
API calls: they stream a stored output to whoever holds a signed link (no API key).

- Bodies over `max_body_bytes` are refused with 413 before they are read (also on
  `Expect: 100-continue`, so curl does not even send them).
- Powertools' resolver keeps the current event in class attributes, so calls to `resolve` are
  serialised with a lock; reading bodies, writing responses and streaming files happen outside it.
- Downloads answer Range requests (206, `Content-Range`), send the media type players expect and
  allow any origin (a signed link is a capability; hls.js and <video> need CORS).
- HLS: a link is signed for one key, and a player resolves the playlist's relative URIs against the
  playlist URL, which drops its query string. So a playlist fetched through a valid link is rewritten
  on the way out: each relative URI inside it that stays under the playlist's own folder gets its own
  signature with the same expiry (`720p/stream.m3u8?expires=…&signature=…`). Signing stays per key,
  links keep working through any number of playlist levels and expire together, and no other file
  becomes reachable. URIs that leave the folder, are absolute, or already carry a query are left as
  they are.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import posixpath
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from mediajet.errors import InvalidRequest
from mediajet.storage.local import LocalBlobStore, check_key, sign

log = logging.getLogger("mediajet.http")

Resolve = Callable[[dict[str, Any], Any], dict[str, Any]]

FILES_PREFIX = "/files/"
MAX_PLAYLIST_BYTES = 16 * 1024 * 1024
IDLE_TIMEOUT_S = 75  # a keep-alive connection left idle this long is closed
LINGER_S = 2.0  # after a 413: how long to keep reading (and dropping) a body the client still sends
LINGER_BYTES = 256 * 1024 * 1024
API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")

MEDIA_TYPES = {
    "m3u8": "application/vnd.apple.mpegurl",
    "m3u": "audio/mpegurl",
    "ts": "video/mp2t",
    "m4s": "video/iso.segment",
    "mp4": "video/mp4",
    "m4v": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "mp3": "audio/mpeg",
    "aac": "audio/aac",
    "m4a": "audio/mp4",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/ogg",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "gif": "image/gif",
    "json": "application/json",
    "vtt": "text/vtt",
}
_URI_ATTR = re.compile(r'URI="([^"]*)"')
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def media_type(key: str) -> str:
    return MEDIA_TYPES.get(posixpath.splitext(key)[1].lstrip(".").lower(), "application/octet-stream")


# --- request → event ------------------------------------------------------------------------


def to_event(method: str, target: str, headers: Mapping[str, str] | Any, body: bytes, *,
             source_ip: str, request_id: str | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API payload v2 event for one request (`headers` may repeat names)."""
    parts = urlsplit(target)
    raw_path = parts.path or "/"
    merged: dict[str, str] = {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in items:
        lname = name.lower()
        merged[lname] = f"{merged[lname]},{value}" if lname in merged else value
    query: dict[str, str] = {}
    for name, values in parse_qs(parts.query, keep_blank_values=True).items():
        query[name] = ",".join(values)
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


# --- signed playlists -----------------------------------------------------------------------


def sign_playlist(text: str, key: str, expires: int, secret: bytes) -> str:
    """Give each relative URI in an HLS playlist under `key`'s folder its own signature (same expiry)."""
    folder = posixpath.dirname(key)

    def signed(uri: str) -> str:
        if not uri or "?" in uri or "#" in uri or ":" in uri.split("/", 1)[0] or uri.startswith("/"):
            return uri
        target = posixpath.normpath(posixpath.join(folder, unquote(uri)))
        if folder and not target.startswith(folder + "/"):
            return uri
        try:
            check_key(target)
        except InvalidRequest:
            return uri
        return f"{uri}?expires={expires}&signature={sign(secret, target, expires)}"

    lines = []
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("#"):
            lines.append(_URI_ATTR.sub(lambda m: f'URI="{signed(m.group(1))}"', line))
        elif stripped:
            lines.append(line.replace(stripped, signed(stripped), 1))
        else:
            lines.append(line)
    return "".join(lines)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """(first, last) for a single satisfiable range; None to send the whole file (no Range, a syntax
    error or several ranges, which a server may ignore); "unsatisfiable" for a 416."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
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


# --- the server -----------------------------------------------------------------------------


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], resolve: Resolve, files: LocalBlobStore, max_body_bytes: int) -> None:
        self._resolve = resolve
        self._resolve_lock = threading.Lock()
        self.files = files
        self.max_body_bytes = max_body_bytes
        super().__init__(address, Handler)

    def resolve(self, event: dict[str, Any]) -> dict[str, Any]:
        with self._resolve_lock:
            return self._resolve(event, None)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MediaJet"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stalls
    server: Server

    # BaseHTTPRequestHandler dispatches on do_<METHOD>
    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def _handle(self) -> None:
        started = time.perf_counter()
        self._status = 0
        try:
            path = urlsplit(self.path).path
            if path.startswith(FILES_PREFIX):
                self._file()
            else:
                self._api()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            log.exception("request %s %s failed", self.command, urlsplit(self.path).path)
            if not self._status:
                self._json(500, {"kind": "internal_error", "message": "An unexpected error occurred; it has been logged."})
            self.close_connection = True
        log.info("%s %s %d %.1fms", self.command, urlsplit(self.path).path, self._status,
                 (time.perf_counter() - started) * 1000)

    # --- API ----------------------------------------------------------------------------------

    def handle_expect_100(self) -> bool:
        if self._declared_length() > self.server.max_body_bytes:
            self._too_large()
            return False
        return super().handle_expect_100()

    def _declared_length(self) -> int:
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return 0

    def _too_large(self) -> None:
        self.close_connection = True  # the unread body would otherwise be taken for the next request
        self._linger = True
        self._json(413, {"kind": "payload_too_large",
                         "message": f"the request body is larger than {self.server.max_body_bytes} bytes"},
                   {"Connection": "close"})

    def _read_body(self) -> bytes | None:
        """The body, or None after answering 413/400 (the connection then closes)."""
        limit = self.server.max_body_bytes
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked(limit)
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        if not raw.strip().isdigit():
            self.close_connection = True
            self._json(400, {"kind": "request_invalid", "message": "Content-Length is not a number"},
                       {"Connection": "close"})
            return None
        length = int(raw)
        if length > limit:
            self._too_large()
            return None
        return self.rfile.read(length)

    def _read_chunked(self, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                self._json(400, {"kind": "request_invalid", "message": "malformed chunked body"},
                           {"Connection": "close"})
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > limit:
                self._too_large()
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)  # CRLF after the chunk

    def _api(self) -> None:
        body = self._read_body()
        if body is None:
            return
        event = to_event(self.command, self.path, self.headers.items(), body, source_ip=self.client_address[0])
        status, headers, payload = response_parts(self.server.resolve(event))
        self._send(status, headers, payload)

    # --- files --------------------------------------------------------------------------------

    def _file(self) -> None:
        if self.command == "OPTIONS":
            self._send(204, [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "GET, HEAD"),
                             ("Access-Control-Allow-Headers", "Range"), ("Access-Control-Max-Age", "86400")], b"")
            return
        if self.command not in ("GET", "HEAD"):
            self._json(405, {"kind": "method_not_allowed", "message": f"{self.command} is not allowed on files; "
                             "use GET or HEAD"}, {"Allow": "GET, HEAD, OPTIONS"})
            return
        parts = urlsplit(self.path)
        key = unquote(parts.path[len(FILES_PREFIX):])
        query = parse_qs(parts.query)
        expires, signature = query.get("expires", [""])[0], query.get("signature", [""])[0]
        files = self.server.files
        if not expires.isdigit() or not signature:
            self._forbidden("signature_missing", "this link is not signed; take the output URL from the job")
            return
        if int(expires) < time.time():
            self._forbidden("link_expired", "this download link has expired; read the job again for a fresh link")
            return
        if not files.verify_signature(key, int(expires), signature):
            self._forbidden("signature_invalid", "the signature of this download link does not match")
            return
        path = files.path(key)
        if not path.is_file():
            self._json(404, {"kind": "not_found", "message": "no file at this link (it may have been deleted)"},
                       _CORS)
            return
        if key.lower().endswith((".m3u8", ".m3u")) and path.stat().st_size <= MAX_PLAYLIST_BYTES:
            text = sign_playlist(path.read_text(encoding="utf-8", errors="replace"), key, int(expires), files.secret)
            self._send_bytes(text.encode(), media_type(key))
            return
        self._send_file(path, media_type(key))

    def _forbidden(self, kind: str, message: str) -> None:
        self._json(403, {"kind": kind, "message": message}, _CORS)

    def _send_bytes(self, data: bytes, content_type: str) -> None:
        span = byte_range(self.headers.get("Range"), len(data))
        headers = [("Content-Type", content_type), ("Accept-Ranges", "bytes"), ("Cache-Control", "no-store"), *_CORS.items()]
        if span == "unsatisfiable":
            self._send(416, [*headers, ("Content-Range", f"bytes */{len(data)}")], b"")
        elif span is None:
            self._send(200, headers, data)
        else:
            first, last = span
            self._send(206, [*headers, ("Content-Range", f"bytes {first}-{last}/{len(data)}")], data[first:last + 1])

    def _send_file(self, path: Path, content_type: str) -> None:
        with path.open("rb") as fh:
            stat = path.stat()
            size = stat.st_size
            span = byte_range(self.headers.get("Range"), size)
            headers = [("Content-Type", content_type), ("Accept-Ranges", "bytes"),
                       ("Last-Modified", self.date_time_string(int(stat.st_mtime))),
                       ("ETag", f'"{stat.st_mtime_ns:x}-{size:x}"'), *_CORS.items()]
            if span == "unsatisfiable":
                self._send(416, [*headers, ("Content-Range", f"bytes */{size}")], b"")
                return
            first, last = (0, size - 1) if span is None else span
            status = 200 if span is None else 206
            if span is not None:
                headers.append(("Content-Range", f"bytes {first}-{last}/{size}"))
            length = max(0, last - first + 1)
            self._start(status, [*headers, ("Content-Length", str(length))])
            if self.command != "HEAD" and length:
                self.connection.sendfile(fh, offset=first, count=length)

    # --- writing ------------------------------------------------------------------------------

    def _json(self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> None:
        self._send(status, [("Content-Type", "application/json"), *(headers or {}).items()],
                   json.dumps(body, separators=(",", ":")).encode())

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        named = {name.lower() for name, _ in headers}
        extra = [] if "content-length" in named else [("Content-Length", str(len(body)))]
        self._start(status, [*headers, *extra], body if self.command != "HEAD" else b"")

    def _start(self, status: int, headers: list[tuple[str, str]], body: bytes = b"") -> None:
        """Status line, headers and (small) body leave in one write: one syscall, one wake-up of the peer."""
        self._status = status
        self.send_response(status)
        for name, value in headers:
            if name.lower() == "connection" and value.lower() == "close":
                self.close_connection = True
            self.send_header(name, value)
        self._headers_buffer.append(b"\r\n")
        if body:
            self._headers_buffer.append(body)
        self.flush_headers()

    def finish(self) -> None:
        """After refusing a body the client may still be sending it. Closing a socket with unread data
        makes the kernel answer with a reset, and a client still writing would then lose the 413 it
        was sent; so stop writing, read and drop the rest for a moment, then close (a lingering close)."""
        if getattr(self, "_linger", False):
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_WR)
                self.connection.settimeout(LINGER_S)
                deadline = time.monotonic() + LINGER_S
                drained = 0
                while time.monotonic() < deadline and drained < LINGER_BYTES:
                    chunk = self.connection.recv(65536)
                    if not chunk:
                        break
                    drained += len(chunk)
            except OSError:
                pass
        super().finish()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors (bad request line, headers too long): JSON like every other error."""
        self.close_connection = True
        self._json(code, {"kind": "request_invalid" if code < 500 else "internal_error",
                          "message": message or self.responses.get(code, ("error",))[0]}, {"Connection": "close"})

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


_CORS = {"Access-Control-Allow-Origin": "*",
         "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges"}


def serve_http(resolve: Resolve, host: str, port: int, *, files: LocalBlobStore, max_body_bytes: int) -> Server:
    """Bind now (port 0 picks a free port: see `.server_address`/`.url`); `serve_forever()` answers."""
    return Server((host, port), resolve, files, max_body_bytes)
