"""Webhooks end to end, as an integration sees them: a receiver on loopback verifies every POST with the
`standardwebhooks` library and the secret the API hands out, sees exactly one delivery per finished job (deduped
by `webhook-id`), sees the retries after it answers 500 twice, and gets every pending delivery after the server
is killed with -9 and started again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import API_KEY, Server
from tests.webhook_receiver import Receiver

FAST_RETRIES = {"MEDIAJET_WEBHOOK_RETRY_S": "0.3,0.3,0.3,0.3"}


@pytest.fixture
def hooked(tmp_path) -> Iterator[Server]:
    srv = Server(tmp_path / "data", env=FAST_RETRIES)
    srv.data_dir.mkdir()
    srv.start()
    yield srv
    srv.kill(signal.SIGTERM)


def _secret(srv: Server) -> str:
    answer = srv.session().get(f"{srv.url}/webhooks/secret", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["secret"]


def _job(srv: Server, media_server: str, webhook_url: str) -> dict:
    answer = srv.session().post(f"{srv.url}/jobs", timeout=10, json={
        "input": f"{media_server}/upload.mov", "kind": "image", "options": {"width": 160},
        "webhook_url": webhook_url})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_one_signed_delivery_per_finished_job(hooked: Server, receiver: Receiver, media_server: str) -> None:
    jobs = [_job(hooked, media_server, receiver.url) for _ in range(2)]
    finished = [hooked.wait(job["id"]) for job in jobs]
    receiver.wait_for(2)
    time.sleep(1)  # anything extra would arrive now
    delivered = receiver.verified(_secret(hooked))
    assert len(receiver.seen) == 2
    assert sorted(body["id"] for body in delivered.values()) == sorted(job["id"] for job in jobs)
    for body in delivered.values():
        shown = next(f for f in finished if f["id"] == body["id"])
        assert body["status"] == "succeeded" == shown["status"] and body["kind"] == "image"
        assert body["input"] == shown["input"] and body["output"].startswith(hooked.url)


def test_retries_after_the_receiver_answers_500_twice(hooked: Server, receiver: Receiver, media_server: str) -> None:
    receiver.answers = [500, 500]
    job = _job(hooked, media_server, receiver.url)
    hooked.wait(job["id"])
    deadline = time.monotonic() + 30
    while len(receiver.seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(receiver.seen) == 3
    [(event_id, body)] = receiver.verified(_secret(hooked)).items()
    assert body["id"] == job["id"]
    event = hooked.session().get(f"{hooked.url}/events/{event_id}", timeout=10).json()
    assert event["kind"] == "job.succeeded"
    [sent] = event["deliveries"]
    assert sent["status"] == "succeeded" and [a["status_code"] for a in sent["attempts"]] == [500, 500, 200]


def test_pending_deliveries_survive_kill_9(tmp_path, media_server: str) -> None:
    receiver = Receiver()  # not listening yet: every attempt fails to connect
    srv = Server(tmp_path / "data", env={"MEDIAJET_WEBHOOK_RETRY_S": "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1"})
    srv.data_dir.mkdir()
    srv.start()
    try:
        jobs = [_job(srv, media_server, receiver.url) for _ in range(3)]
        for job in jobs:
            srv.wait(job["id"])
        secret = _secret(srv)
        srv.kill()  # SIGKILL: pending deliveries are only in the database
        receiver.start()
        srv.start()
        receiver.wait_for(3)
        delivered = receiver.verified(secret)
        assert sorted(body["id"] for body in delivered.values()) == sorted(job["id"] for job in jobs)
    finally:
        receiver.stop()
        srv.kill(signal.SIGTERM)


def test_standalone_tasks_report_in_the_shape_they_were_created_in(hooked: Server, receiver: Receiver,
                                                                  media_server: str) -> None:
    session = hooked.session()
    source = f"{media_server}/upload.mov"
    jobs_api = session.post(f"{hooked.url}/tasks", timeout=10, json={
        "kind": "image", "input": {"url": source}, "options": {"width": 160}, "webhook_url": receiver.url}).json()
    dated = session.post(f"{hooked.url}/tasks", timeout=10, headers={"Accept-Version": "2025-08-20"}, json={
        "kind": "image", "url": source, "width": 160, "webhook_url": receiver.url}).json()
    receiver.wait_for(2)
    by_id = {body["id"]: body for body in receiver.verified(_secret(hooked)).values()}
    assert set(by_id) == {jobs_api["id"], dated["id"]}
    shown = session.get(f"{hooked.url}/tasks/{dated['id']}", timeout=10, headers={"Accept-Version": "2025-08-20"})
    assert by_id[dated["id"]]["status"] == shown.json()["status"] and "created" in by_id[dated["id"]]  # ISO fields
    assert by_id[jobs_api["id"]]["status"] == "succeeded" and "created_at" in by_id[jobs_api["id"]]


def test_the_cli_asks_for_a_webhook_with_webhook_url(hooked: Server, receiver: Receiver, media_server: str) -> None:
    env = {**os.environ, "MEDIAJET_API_URL": hooked.url, "MEDIAJET_API_KEY": API_KEY}
    done = subprocess.run([sys.executable, "-m", "mediajet.cli.main", "image", "-i", f"{media_server}/upload.mov",
                           "--width", "160", "--webhook_url", receiver.url, "--json"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    finished = json.loads(done.stdout.strip().splitlines()[-1])
    receiver.wait_for(1)
    [body] = receiver.verified(_secret(hooked)).values()
    assert body["id"] == finished["id"] and body["status"] == "succeeded"
