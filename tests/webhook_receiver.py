"""A webhook receiver on loopback for the tests: records every POST, answers with the statuses it is given (then
200), verifies deliveries as a receiver would (the `standardwebhooks` library) and dedupes them by `webhook-id`."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from dataclasses import dataclass, field

from standardwebhooks.webhooks import Webhook


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    answers: list[int] = field(default_factory=list)  # status per request, in order; then 200
    delay_s: float = 0.0  # before answering
    seen: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/mediajet"

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
                time.sleep(receiver.delay_s)
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def verified(self, secret: str) -> dict[str, dict]:
        """Every delivery that verifies, by webhook-id (a receiver's dedupe); raises on a bad signature."""
        return {headers["webhook-id"]: Webhook(secret).verify(body, headers) for headers, body in self.seen}

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len({h["webhook-id"] for h, _ in self.seen}) < count and time.monotonic() < deadline:
            time.sleep(0.1)
