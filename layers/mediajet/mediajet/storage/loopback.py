"""Stored S3 media served to ffmpeg on 127.0.0.1: each ranged read answered by a ranged GET.

The server uses this process's S3 client and credentials, so nothing is presigned and no URL leaves
the process; a random path keeps other local processes out. One server per open source, stopped
when the source closes.
"""

from __future__ import annotations

import re
import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

STREAM_BYTES = 64 * 1024  # small: a seek drops the connection, and what was read ahead is wasted
_RANGE = re.compile(r"bytes=([0-9]{1,19})-([0-9]{0,19})$")


@contextmanager
def serve(store: Any, key: str, size: int) -> Iterator[str]:
    token = secrets.token_urlsafe(16)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, *, body: bool) -> None:
            if self.path != f"/{token}":
                self.send_error(404)
                return
            start, end = 0, size - 1
            asked = _RANGE.match(self.headers.get("Range", ""))
            if asked:
                start = int(asked.group(1))
                end = min(end, int(asked.group(2))) if asked.group(2) else end
                if start >= size or end < start:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            self.send_response(206 if asked else 200)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(end - start + 1))
            if asked:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if body and end >= start:
                self._stream(start, end)

        def _stream(self, start: int, end: int) -> None:
            stream = store.open_range(key, start, end)
            try:
                while chunk := stream.read(STREAM_BYTES):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # ffmpeg seeks by dropping the connection mid-body
            finally:
                stream.close()

        def log_message(self, format: str, *args: Any) -> None:  # quiet, like the rest of the worker
            pass

    server = _QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="mediajet-source", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{token}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # ffmpeg hangs up whenever it seeks
            super().handle_error(request, client_address)
