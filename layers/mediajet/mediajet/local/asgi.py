"""The embedded HTTP server: uvicorn (httptools) in front of a small ASGI app that feeds API-Gateway-shaped
events to the same API handler the API Lambda runs, and answers signed downloads (local/downloads.py).

HTTP itself (framing, chunked bodies, header limits, keep-alive, slow clients) is uvicorn's and llhttp's:
parsing it by hand is how a chunk size of -1 once lifted the body limit.

- Bodies over `max_body_bytes` are refused with 413 before they are read: by their Content-Length
  (no `100 Continue` is sent, so curl does not even send them) or, for chunked bodies, as soon as
  the running total passes the limit.
- Uploads (`PUT /uploads/…`, local/uploads.py) stream to a file under their own, larger limit.
- Powertools' resolver keeps the current event in class attributes, so calls to `resolve` run one at
  a time on one thread; reading bodies, writing responses and streaming files happen on the event
  loop, where a slow client only delays itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mediajet.local.downloads import Download, is_download, is_legacy_link, reply, reply_json
from mediajet.local.events import response_parts, to_event
from mediajet.local.uploads import Uploads, is_upload
from mediajet.storage.local import LocalBlobStore

log = logging.getLogger("mediajet.http")

Resolve = Callable[[dict[str, Any], Any], dict[str, Any]]
IDLE_TIMEOUT_S = 75  # a keep-alive connection left idle this long is closed
MAX_CONNECTIONS = 1000  # beyond this many open connections new requests get 503 at once
SHUTDOWN_WAIT_S = 30


class PayloadTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


class EmbeddedApp:
    """The ASGI application: `/downloads/…` (and signed links from before, under /files/) are signed
    downloads, `/uploads/…` uploads (local/uploads.py), everything else is the API."""

    def __init__(self, resolve: Resolve, files: LocalBlobStore, max_body_bytes: int,
                 uploads: Uploads | None = None) -> None:
        self.resolve, self.files, self.max_body_bytes, self.uploads = resolve, files, max_body_bytes, uploads
        self._api_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mediajet-api")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        sent: list[int] = []

        async def tracked_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                sent.append(message["status"])
            await send(message)

        try:
            if _header(scope, b"transfer-encoding") is not None and _header(scope, b"content-length") is not None:
                # RFC 9112 §6.3: a sign of request smuggling; answer once and close the connection.
                await reply_json(tracked_send, 400, "request_invalid", "the request has both Content-Length and "
                                 "Transfer-Encoding, so its length is ambiguous; send one of them",
                                 [("Connection", "close")])
            elif is_download(scope["path"]) or is_legacy_link(scope["method"], scope["path"],
                                                               scope["query_string"].decode("latin-1")):
                await self._download(scope, tracked_send)
            elif self.uploads is not None and is_upload(scope["path"]):
                # streamed to a file under its own size limit (MEDIAJET_MAX_UPLOAD_BYTES), not the JSON body's
                await self.uploads.respond(scope, receive, tracked_send)
            else:
                await self._api(scope, receive, tracked_send)
        except Exception:
            log.exception("request %s %s failed", scope["method"], scope["path"])
            if not sent:
                await reply_json(tracked_send, 500, "internal_error",
                                 "An unexpected error occurred; it has been logged.")
        log.info("%s %s %d %.1fms", scope["method"], scope["path"], sent[0] if sent else 0,
                 (time.perf_counter() - started) * 1000)

    async def _download(self, scope: dict[str, Any], send: Any) -> None:
        download = Download(self.files, scope["method"], scope["path"], scope["query_string"].decode("latin-1"),
                            _header(scope, b"range"))
        await download.respond(send)

    async def _api(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body = await self._read_body(scope, receive)
        except PayloadTooLarge:
            await reply_json(send, 413, "payload_too_large", f"the request body is larger than "
                             f"{self.max_body_bytes} bytes", [("Connection", "close")])
            return
        except ClientGone:
            return
        target = scope["raw_path"].decode("latin-1") or "/"
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
        client = scope.get("client") or ("127.0.0.1", 0)
        event = to_event(scope["method"], target, headers, body, source_ip=client[0])
        result = await asyncio.get_running_loop().run_in_executor(self._api_thread, self.resolve, event, None)
        status, lines, payload = response_parts(result)
        await reply(send, status, lines, payload, head=scope["method"] == "HEAD")

    async def _read_body(self, scope: dict[str, Any], receive: Any) -> bytes:
        declared = _header(scope, b"content-length")
        # llhttp has refused a Content-Length that is not a number; still, never int() a header unchecked
        if declared is not None and (not declared.isascii() or not declared.isdigit() or len(declared) > 18
                                     or int(declared) > self.max_body_bytes):
            raise PayloadTooLarge
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                # the client left, or its framing broke mid-body (the parser answered 400 and closed): a
                # request whose body never arrived is not run, not even with the part that did
                raise ClientGone
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_body_bytes:
                raise PayloadTooLarge
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


class JsonErrorsHttpTools(HttpToolsProtocol):
    """uvicorn's httptools (llhttp) protocol, with its protocol-level 400s (bad request line, bad
    framing, bad numbers in headers) answered as `{kind, message}` JSON like every other error.
    llhttp rather than h11: the same strictness, about 20% more requests per second here (BENCHMARKS.md)."""

    def send_400_response(self, msg: str) -> None:
        body = json.dumps({"kind": "request_invalid", "message": msg}).encode()
        head = (b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: "
                + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n")
        self.transport.write(head + body)
        self.transport.close()


class EmbeddedServer:
    """Binds at once (port 0 picks a free port: see `.url`); `serve_forever()` answers until `shutdown()`."""

    def __init__(self, app: EmbeddedApp, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # proto must say TCP: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say so, and with
        # Nagle on every answer sent as headers + body waited ~40 ms for the client's delayed ACK.
        self.socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.socket.set_inheritable(True)
        self.server_address = self.socket.getsockname()
        config = uvicorn.Config(app, lifespan="off", http=JsonErrorsHttpTools, ws="none", log_config=None,
                                access_log=False, server_header=False, timeout_keep_alive=IDLE_TIMEOUT_S,
                                limit_concurrency=MAX_CONNECTIONS, backlog=1024, log_level="warning",
                                timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)
        self._serving, self._stopped = threading.Event(), threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def started(self) -> bool:
        return self._server.started

    def serve_forever(self) -> None:
        self._serving.set()
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop serving (from any thread); returns once open requests have been answered."""
        self._server.should_exit = True
        if self._serving.is_set():
            self._stopped.wait(SHUTDOWN_WAIT_S)

    def server_close(self) -> None:
        self.socket.close()


def serve_http(resolve: Resolve, host: str, port: int, *, files: LocalBlobStore, max_body_bytes: int,
               uploads: Uploads | None = None) -> EmbeddedServer:
    return EmbeddedServer(EmbeddedApp(resolve, files, max_body_bytes, uploads), host, port)
