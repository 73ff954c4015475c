"""End-to-end fixtures: a real `mediajet serve` subprocess and a local HTTP server with media."""

from __future__ import annotations

import functools
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.media import make_audio, make_video

API_KEY = "mj_test_e2e_key_0123456789"
FINAL = ("succeeded", "failed", "cancelled")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def media_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Generated inputs over plain HTTP (the seed examples' inputs are URLs)."""
    root = tmp_path_factory.mktemp("media")
    make_video(root / "upload.mov", seconds=2)
    make_video(root / "video.mp4", seconds=6, size="640x360")
    make_video(root / "long.mp4", seconds=20, size="1280x720")
    make_video(root / "wide.mp4", seconds=2, size="960x540")
    make_audio(root / "interview.mp3", seconds=2)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@dataclass
class Server:
    data_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    env: dict[str, str] = field(default_factory=dict)  # settings of this server (MEDIAJET_…)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir.parent / f"serve-{self.port}.log"

    def start(self) -> None:
        env = {**os.environ, "MEDIAJET_API_KEY": API_KEY, "MEDIAJET_ALLOW_PRIVATE_URLS": "true",
               "MEDIAJET_WORKERS": "2", **self.env}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mediajet.cli.main", "serve", "--port", str(self.port),
                 "--data-dir", str(self.data_dir)], env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mediajet serve exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if requests.get(f"{self.url}/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"mediajet serve did not start:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=30)

    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {API_KEY}"
        return session

    def wait(self, job_id: str, timeout: float = 180, path: str = "jobs") -> dict:
        session = self.session()
        deadline = time.monotonic() + timeout
        record: dict = {}
        while time.monotonic() < deadline:
            record = session.get(f"{self.url}/{path}/{job_id}", timeout=10).json()
            if record["status"] in FINAL:
                return record
            time.sleep(0.2)
        raise AssertionError(f"{path[:-1]} {job_id} did not finish in {timeout} s: {record}\n{self.tail()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("serve") / "data")
    srv.data_dir.mkdir()
    srv.start()
    yield srv
    srv.kill(signal.SIGTERM)
