"""moto's server mode on loopback: for clients that moto's in-process mock cannot reach (it patches botocore,
and aws/json_client.py does not use botocore; a `mediajet serve` in another process)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def moto_server() -> Iterator[str]:
    """The server's URL. Its backends are this process's own: what a test creates there, it removes."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
