"""The seed pages' examples, unchanged but for the base URL, against a real `mediajet serve`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mediajet.media.binaries import ffprobe
from tests.e2e.conftest import Server

pytestmark = pytest.mark.slow


def ffprobe_json(path: Path) -> dict:
    out = subprocess.run([ffprobe(), "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                          str(path)], capture_output=True, check=True, timeout=30)
    return json.loads(out.stdout)


def download(server: Server, url: str, dest: Path) -> Path:
    import requests

    resp = requests.get(url, timeout=30)  # signed link: no API key
    assert resp.status_code == 200, resp.text
    dest.write_bytes(resp.content)
    return dest


SEED_JOBS = [
    ("video", {"width": 1280, "height": 720, "format": "mp4", "quality": "high"}, "upload.mov"),
    ("audio", {"format": "mp3", "quality": "high"}, "upload.mov"),
    ("image", {"start": 1, "format": "webp", "width": 640}, "upload.mov"),
    ("adaptive_video", {"format": "hls", "quality": "high"}, "upload.mov"),
    ("animation", {"format": "gif", "end": 1}, "upload.mov"),
]


@pytest.mark.parametrize(("kind", "options", "name"), SEED_JOBS, ids=[k for k, _, _ in SEED_JOBS])
def test_seed_job_succeeds_and_output_downloads(server: Server, media_server: str, tmp_path: Path,
                                                kind: str, options: dict, name: str) -> None:
    session = server.session()
    resp = session.post(f"{server.url}/jobs", json={"input": f"{media_server}/{name}", "kind": kind,
                                                    "options": options})
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert [t["kind"] for t in created["tasks"]] == ["probe", "import", kind, "export"]
    job = server.wait(created["id"])
    assert job["status"] == "succeeded", job["error"]
    assert all(t["status"] == "succeeded" for t in job["tasks"])
    probe_output = job["tasks"][0]["output"]
    assert probe_output["width"] == 320 and probe_output["codecs"]["video"] == "h264"
    out = download(server, job["output"], tmp_path / "out")
    if kind == "video":
        info = ffprobe_json(out)
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1280, 720)
        assert abs(float(info["format"]["duration"]) - 2) < 0.2
    elif kind == "audio":
        info = ffprobe_json(out)
        assert [s["codec_name"] for s in info["streams"]] == ["mp3"]
    elif kind == "image":
        from PIL import Image

        with Image.open(out) as img:
            assert img.format == "WEBP" and img.size == (320, 240)  # no upscaling from one dimension
    elif kind == "animation":
        from PIL import Image

        with Image.open(out) as img:
            assert img.format == "GIF" and img.n_frames >= 9
    else:
        text = out.read_text()
        assert text.startswith("#EXTM3U") and "stream.m3u8" in text


def test_standalone_tasks_compose(server: Server, media_server: str) -> None:
    """Seed 001: probe, then encode with the probe's output as input."""
    import time

    session = server.session()

    def run(body: dict) -> dict:
        resp = session.post(f"{server.url}/tasks", json=body)
        assert resp.status_code == 201, resp.text
        task = resp.json()
        assert task["status"] == "waiting" and task["output"] is None
        for _ in range(600):
            task = session.get(f"{server.url}/tasks/{task['id']}").json()
            if task["status"] in ("succeeded", "failed"):
                return task
            time.sleep(0.1)
        raise AssertionError(task)

    probed = run({"kind": "probe", "input": {"url": f"{media_server}/upload.mov"}})
    assert probed["status"] == "succeeded" and probed["output"]["duration"] == pytest.approx(2, abs=0.1)
    encoded = run({"kind": "video", "input": probed["output"], "options": {"width": 160}})
    assert encoded["status"] == "succeeded", encoded["error"]
    assert encoded["output"]["width"] == 160


def test_broken_input_fails_with_reason_and_worker_goes_on(server: Server, media_server: str) -> None:
    session = server.session()
    bad = session.post(f"{server.url}/jobs", json={"input": f"{media_server}/missing.mp4", "kind": "video"}).json()
    good = session.post(f"{server.url}/jobs", json={"input": f"{media_server}/interview.mp3",
                                                    "kind": "audio", "options": {"format": "opus"}}).json()
    failed = server.wait(bad["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["kind"] == "input_unreachable" and failed["error"]["task"] == "probe"
    assert [t["status"] for t in failed["tasks"]] == ["failed", "cancelled", "cancelled", "cancelled"]
    assert server.wait(good["id"])["status"] == "succeeded"


def test_job_survives_kill_9_while_encoding(tmp_path: Path, media_server: str) -> None:
    import time

    srv = Server(tmp_path / "data")
    srv.data_dir.mkdir()
    srv.start()
    session = srv.session()
    job = session.post(f"{srv.url}/jobs", json={"input": f"{media_server}/long.mp4", "kind": "video",
                                                "options": {"codec": "h265", "quality": "very_high"}}).json()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        current = session.get(f"{srv.url}/jobs/{job['id']}").json()
        if current["tasks"][2]["status"] == "processing":
            break
        time.sleep(0.05)
    assert current["tasks"][2]["status"] == "processing", current
    srv.kill()  # SIGKILL: no chance to clean up
    srv.start()
    finished = srv.wait(job["id"], timeout=180)
    srv.kill()
    assert finished["status"] == "succeeded", finished["error"]
    assert finished["tasks"][2]["progress"] == 100
