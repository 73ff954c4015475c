"""The hardening issue's repros, as an attacker sent them, against one real `mediajet serve`: each gets
a clean 4xx (or a failed job with a documented kind), the server keeps serving, its memory stays under
a ceiling, and a restart afterwards finds every other job as it was."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import Server

pytestmark = pytest.mark.slow

PEAK_RSS_CEILING_MB = 400  # the server process (ffmpeg children excluded); it idles at ~80 MB


def nested(depth: int) -> str:
    """`{"a":{"a":…1}}` as JSON text (json.dumps itself gives up long before 5000 levels)."""
    return '{"a":' * depth + "1" + "}" * depth


def raw(server: Server, data: bytes, *, send_more: int = 0) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        try:
            for _ in range(send_more):  # keep streaming, as the 1 GB attack did, until the server hangs up
                sock.sendall(b"a" * 65536)
        except OSError:
            pass
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except OSError:
            pass
    return b"".join(chunks)


def peak_rss_mb(server: Server) -> float:
    assert server.proc is not None
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


@pytest.fixture(scope="module")
def hardened(tmp_path_factory: pytest.TempPathFactory, media_server: str) -> Server:
    srv = Server(tmp_path_factory.mktemp("hardening") / "data")
    srv.data_dir.mkdir()
    srv.start()
    yield srv
    srv.kill(signal.SIGTERM)


def test_every_repro_is_refused_and_a_restart_finds_the_other_jobs_intact(hardened: Server, media_server: str) -> None:
    api = hardened.session()
    good = api.post(f"{hardened.url}/jobs", json={"input": f"{media_server}/interview.mp3", "kind": "audio",
                                                 "options": {"format": "mp3"}, "metadata": {"order": "42"}},
                    timeout=10).json()
    assert hardened.wait(good["id"])["status"] == "succeeded"

    # 1. Deep nesting, through every JSON body (200 levels once bricked the data dir; 256-990 gave a 500).
    for depth in (200, 256, 990, 5000):
        job = api.post(f"{hardened.url}/jobs", timeout=10, data=(
            f'{{"input": "{media_server}/interview.mp3", "kind": "audio", "metadata": {nested(depth)}}}'))
        assert job.status_code == 400 and job.json()["kind"], (depth, job.text)
        task = api.post(f"{hardened.url}/tasks", timeout=10, data=(
            f'{{"kind": "audio", "input": {{"url": "{media_server}/interview.mp3", "x": {nested(depth)}}}}}'))
        assert task.status_code == 400 and task.json()["kind"], (depth, task.text)

    # 2. A chunk size of -1, then 64 MB more: refused at once, nothing buffered, no key needed.
    reply = raw(hardened, b"POST /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", send_more=1024)
    assert reply.startswith(b"HTTP/1.1 400")

    # 3. The upscaling bomb: refused before any pixel is made.
    bomb = api.post(f"{hardened.url}/jobs", timeout=10, json={
        "input": f"{media_server}/upload.mov", "kind": "video", "options": {"width": 8192, "height": 8192}})
    assert bomb.status_code == 400 and bomb.json()["kind"] == "resolution_too_large", bomb.text

    # 5. Numbers in the HTTP layer.
    for target in ("/files/jobs/x/a.mp4?expires=%C2%B2&signature=x",
                   "/files/jobs/x/a.mp4?expires=" + "9" * 5000 + "&signature=x"):
        assert requests.get(hardened.url + target, timeout=10).status_code == 403
    assert raw(hardened, b"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: \xb2\r\n\r\n").startswith(b"HTTP/1.1 400")

    # 6. Framing: one answer to one request; a bad request line is answered.
    smuggle = (b"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\n{}"
               b"GET /jobs HTTP/1.1\r\nHost: x\r\n\r\n")
    assert raw(hardened, smuggle).count(b"HTTP/1.1 ") == 1
    assert raw(hardened, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400")

    # 7. Big metadata, many times over: refused, so no page can grow to 100 MB.
    huge = api.post(f"{hardened.url}/jobs", timeout=10, json={
        "input": f"{media_server}/interview.mp3", "kind": "audio", "metadata": {"blob": "x" * 900_000}})
    assert huge.status_code in (400, 413), huge.text

    # 9. Validation gaps: 400 at create, not a failed job.
    for options, kind in (({"end": 1e300}, "video"), ({"end": 1e-9}, "audio"), ({"background": "black\n"}, "video")):
        bad = api.post(f"{hardened.url}/jobs", timeout=10, json={
            "input": f"{media_server}/upload.mov", "kind": kind, "options": options})
        assert bad.status_code == 400, (options, bad.text)

    listed = api.get(f"{hardened.url}/jobs?limit=100", timeout=10)
    assert listed.status_code == 200 and good["id"] in {job["id"] for job in listed.json()}
    assert peak_rss_mb(hardened) < PEAK_RSS_CEILING_MB

    hardened.kill(signal.SIGTERM)
    hardened.start()
    again = hardened.session().get(f"{hardened.url}/jobs/{good['id']}", timeout=10).json()
    assert again["status"] == "succeeded" and again["metadata"] == {"order": "42"}
    assert hardened.session().get(f"{hardened.url}/jobs", timeout=10).status_code == 200


def test_sigterm_stops_the_servers_encoders_and_their_job_resumes(hardened: Server, media_server: str) -> None:
    from tests.integration.test_shutdown import alive, wait_for_encoder

    api = hardened.session()
    job = api.post(f"{hardened.url}/jobs", timeout=10, json={
        "input": f"{media_server}/long.mp4", "kind": "video", "options": {"format": "webm", "width": 320}}).json()
    assert hardened.proc is not None
    encoder = wait_for_encoder(hardened.proc.pid)
    hardened.kill(signal.SIGTERM)  # waits for the server to exit
    assert hardened.proc.returncode == 0
    assert not alive(encoder), "the encoder outlived the server"
    assert "stopped; unfinished jobs resume" in hardened.tail()

    hardened.start()
    done = hardened.wait(job["id"], timeout=240)
    assert done["status"] == "succeeded", done["error"]
