"""Connections end to end: a real `mediajet serve` writes a job's output into an S3-compatible server on
loopback (moto's server mode) through a connection, at the templated key; the same job without a connection
is refused when it is created; seed 002's "Output to S3" job runs as written once the project has a default
connection. The secret never reaches the data dir in plaintext."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests

from mediajet.media.binaries import ffprobe
from tests.e2e.conftest import API_KEY, Server
from tests.moto_server import moto_server

pytestmark = pytest.mark.slow

SECRET = "moto-secret-key-0123456789-wxyz"


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    # moto's server mode needs its `server` extra (Flask): skipped, saying so, where it is not installed
    pytest.importorskip("flask", reason="moto's server mode needs moto[server] (flask, flask-cors)")
    with moto_server() as url:
        yield url


def s3(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key=SECRET)


def post(server: Server, path: str, body: dict) -> requests.Response:
    return requests.post(f"{server.url}{path}", headers={"Authorization": f"Bearer {API_KEY}"}, json=body, timeout=10)


def probe(path: Path) -> dict:
    out = subprocess.run([ffprobe(), "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
                          str(path)], capture_output=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_a_job_writes_its_output_through_a_connection_and_is_refused_without_one(
        server: Server, media_server: str, s3_server: str, tmp_path: Path) -> None:
    s3(s3_server).create_bucket(Bucket="customer-videos")
    job = {"input": f"{media_server}/upload.mov", "kind": "video", "options": {"width": 320},
           "output": "s3://customer-videos/videos/{id}.mp4"}

    refused = post(server, "/jobs", job)  # no connection yet: nothing could write there
    assert refused.status_code == 400, refused.text
    assert (refused.json()["kind"], refused.json()["field"]) == ("connection_required", "output")

    made = post(server, "/connections", {"kind": "s3", "name": "moto", "endpoint": s3_server, "region": "us-east-1",
                                         "access_key_id": "testing", "secret_access_key": SECRET,
                                         "is_default": False})
    assert made.status_code == 201, made.text
    connection = made.json()
    assert connection["object"] == "storage_connection" and connection["id"].startswith("con_")
    assert connection["secret_access_key"] == SECRET  # shown once, in the answer to the request that sent it
    listed = server.session().get(f"{server.url}/connections", timeout=10).json()
    assert [c["secret_access_key"] for c in listed] == ["****wxyz"]

    # the guides' conn_ spelling of the id
    created = post(server, "/jobs", {**job, "connection_id": "conn_" + connection["id"].removeprefix("con_")})
    assert created.status_code == 201, created.text
    done = server.wait(created.json()["id"])
    assert done["status"] == "succeeded", (done["error"], server.tail())
    key = f"videos/{done['id']}.mp4"
    assert done["output"] == f"s3://customer-videos/{key}"  # a customer's destination is echoed, not signed
    local = tmp_path / "out.mp4"
    s3(s3_server).download_file("customer-videos", key, str(local))
    video = next(s for s in probe(local)["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], video["width"]) == ("h264", 320)

    stored = b"".join(p.read_bytes() for p in server.data_dir.glob("mediajet.db*"))
    assert SECRET.encode() not in stored and b"connections.key" not in stored
    assert (server.data_dir / "connections.key").stat().st_mode & 0o777 == 0o600


def test_seed_002_output_to_s3_runs_as_written_with_a_default_connection(
        server: Server, media_server: str, s3_server: str, tmp_path: Path) -> None:
    s3(s3_server).create_bucket(Bucket="my-bucket")
    made = post(server, "/connections", {"kind": "s3", "name": "default-moto", "endpoint": s3_server,
                                         "region": "auto", "access_key_id": "testing",
                                         "secret_access_key": SECRET, "is_default": True})
    assert made.status_code == 201, made.text
    # seed 002's "Output to S3" example, with the base URL (and so the input's host) changed
    res = requests.post(f"{server.url}/jobs", headers={"Authorization": f"Bearer {API_KEY}"}, json={
        "input": f"{media_server}/upload.mov", "kind": "video", "output": "s3://my-bucket/processed/video.mp4"},
        timeout=10)
    assert res.status_code == 201, res.text
    done = server.wait(res.json()["id"])
    assert done["status"] == "succeeded", (done["error"], server.tail())
    assert done["output"] == "s3://my-bucket/processed/video.mp4"
    local = tmp_path / "seed.mp4"
    s3(s3_server).download_file("my-bucket", "processed/video.mp4", str(local))
    assert abs(float(probe(local)["format"]["duration"]) - 2) < 0.3
