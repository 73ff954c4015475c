"""The seed pages' examples, unchanged but for the base URL, against a real `mediajet serve`; outputs
are downloaded through their signed links and checked with ffprobe (Pillow for WebP/GIF, which the
bundled ffmpeg cannot decode)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from mediajet.media.binaries import ffprobe
from tests.e2e.conftest import API_KEY, Server
from tests.integration.test_shutdown import alive, children, gone_within
from tests.media import make_video

pytestmark = pytest.mark.slow


def ffprobe_json(target: str | Path) -> dict:
    out = subprocess.run([ffprobe(), "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                          str(target)], capture_output=True, check=True, timeout=60)
    return json.loads(out.stdout)


def download(url: str, dest: Path) -> Path:
    resp = requests.get(url, timeout=30)  # a signed link: no API key
    assert resp.status_code == 200, resp.text
    dest.write_bytes(resp.content)
    return dest


# The seed 002 examples: (kind, options, input file).
SEED_JOBS = [
    ("video", {"width": 1280, "height": 720, "format": "mp4", "quality": "high"}, "upload.mov"),
    ("audio", {"format": "mp3", "quality": "high"}, "video.mp4"),
    ("image", {"start": 5, "format": "webp", "width": 640}, "video.mp4"),
    ("adaptive_video", {"format": "hls", "quality": "high"}, "video.mp4"),
    ("animation", {"format": "gif", "end": 1}, "upload.mov"),
]


@pytest.mark.parametrize(("kind", "options", "name"), SEED_JOBS, ids=[k for k, _, _ in SEED_JOBS])
def test_seed_job_succeeds_and_its_output_downloads(server: Server, media_server: str, tmp_path: Path,
                                                   kind: str, options: dict, name: str) -> None:
    # The seed page's Python example, with the base URL changed.
    res = requests.post(f"{server.url}/jobs", headers={"Authorization": f"Bearer {API_KEY}"},
                        json={"input": f"{media_server}/{name}", "kind": kind, "options": options}, timeout=10)
    assert res.status_code == 201, res.text
    created = res.json()
    assert [t["kind"] for t in created["tasks"]] == ["probe", "import", kind, "export"]
    job = server.wait(created["id"])
    assert job["status"] == "succeeded", (job["error"], server.tail())
    assert [t["status"] for t in job["tasks"]] == ["succeeded"] * 4
    probed = job["tasks"][0]["output"]
    assert probed["object"] == "file" and probed["codecs"]["video"] == "h264"
    out = download(job["output"], tmp_path / "out")
    if kind == "video":
        info = ffprobe_json(out)
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1280, 720)
        assert abs(float(info["format"]["duration"]) - 2) < 0.2
        assert requests.get(job["output"], headers={"Range": "bytes=0-99"}, timeout=10).status_code == 206
    elif kind == "audio":
        info = ffprobe_json(out)
        assert [s["codec_name"] for s in info["streams"]] == ["mp3"]
        assert abs(float(info["format"]["duration"]) - 6) < 0.3
    elif kind == "image":
        from PIL import Image

        with Image.open(out) as img:
            assert img.format == "WEBP" and img.size == (640, 360)
    elif kind == "animation":
        from PIL import Image

        with Image.open(out) as img:
            assert img.format == "GIF" and img.n_frames >= 9
    else:
        text = out.read_text()
        assert text.startswith("#EXTM3U") and "stream.m3u8?expires=" in text
        # A player resolves relative links against the master's URL: every level must play.
        info = ffprobe_json(job["output"])
        assert float(info["format"]["duration"]) == pytest.approx(6, abs=0.5)
        assert any(s["codec_type"] == "video" for s in info["streams"])
        rendition = next(line for line in text.splitlines() if line and not line.startswith("#"))
        playlist = requests.get(urljoin(job["output"], rendition), timeout=10)
        segment = next(line for line in playlist.text.splitlines() if line and not line.startswith("#"))
        seg = requests.get(urljoin(urljoin(job["output"], rendition), segment), timeout=10)
        assert seg.status_code == 200 and seg.headers["Content-Type"] == "video/mp2t"


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_seed_curl_example_works_unchanged_but_for_the_base_url(server: Server, media_server: str) -> None:
    script = f"""
JOB='{{
  "input": "{media_server}/upload.mov",
  "kind": "audio",
  "options": {{
    "format": "mp3",
    "quality": "high"
  }}
}}'

curl -s -X POST {server.url}/jobs \\
  -H "Authorization: Bearer $ITTYBIT_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d "$JOB"
"""
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30, check=True,
                         env={**os.environ, "ITTYBIT_API_KEY": API_KEY})
    created = json.loads(out.stdout)
    assert created["object"] == "job" and created["status"] == "queued"
    assert server.wait(created["id"])["status"] == "succeeded"


def test_standalone_probe_then_encode_through_its_output(server: Server, media_server: str) -> None:
    """Seed 001: probe, then encode with the probe's output as the input."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    probe = requests.post(f"{server.url}/tasks", headers=headers, timeout=10,
                          json={"kind": "probe", "input": {"url": f"{media_server}/upload.mov"}})
    assert probe.status_code == 201, probe.text
    assert probe.json()["input"] == {"object": "external_file", "url": f"{media_server}/upload.mov"}
    probed = server.wait(probe.json()["id"], path="tasks")
    assert probed["status"] == "succeeded", probed["error"]
    assert probed["output"]["duration"] == pytest.approx(2, abs=0.1)
    assert (probed["output"]["width"], probed["output"]["height"]) == (320, 240)

    encode = requests.post(f"{server.url}/tasks", headers=headers, timeout=10,
                           json={"kind": "video", "input": probed["output"], "options": {"width": 160}})
    assert encode.status_code == 201, encode.text
    encoded = server.wait(encode.json()["id"], path="tasks")
    assert encoded["status"] == "succeeded", encoded["error"]
    info = ffprobe_json(encoded["output"]["url"])  # the signed link, straight from the server
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (160, 120)


def test_broken_input_fails_with_a_reason_and_the_worker_goes_on(server: Server, media_server: str) -> None:
    session = server.session()
    bad = session.post(f"{server.url}/jobs", json={"input": f"{media_server}/missing.mp4", "kind": "video"}).json()
    good = session.post(f"{server.url}/jobs", json={"input": f"{media_server}/interview.mp3",
                                                    "kind": "audio", "options": {"format": "opus"}}).json()
    failed = server.wait(bad["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["kind"] == "input_unreachable" and failed["error"]["task"] == "probe"
    assert [t["status"] for t in failed["tasks"]] == ["failed", "cancelled", "cancelled", "cancelled"]
    assert server.wait(good["id"])["status"] == "succeeded"


def test_cancel_stops_a_running_job(server: Server, media_server: str) -> None:
    """Cancelled while its encoder runs: the server's ffmpeg child is gone within seconds."""
    assert server.proc is not None
    session = server.session()
    job = session.post(f"{server.url}/jobs", json={"input": f"{media_server}/long.mp4", "kind": "video",
                                                   "options": {"quality": "very_high"}}).json()
    encoder = wait_for_encoder(server.proc.pid, job["id"])
    running = session.get(f"{server.url}/jobs/{job['id']}").json()
    assert running["status"] == "processing" and running["tasks"][2]["status"] == "processing", running
    assert alive(encoder)
    cancelled = session.post(f"{server.url}/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert gone_within(encoder, 5), f"ffmpeg outlived the cancel\n{server.tail()}"
    final = server.wait(job["id"], timeout=10)
    assert final["status"] == "cancelled" and final["output"] is None
    assert [t["status"] for t in final["tasks"]] == ["succeeded", "succeeded", "cancelled", "cancelled"]
    assert session.post(f"{server.url}/jobs/{job['id']}/cancel").status_code == 200


def wait_for_encoder(parent: int, job_id: str, timeout: float = 60) -> int:
    """The pid of `parent`'s ffmpeg child that encodes `job_id`'s input."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [pid for pid, cmdline in children(parent).items() if " -c:v " in cmdline and job_id in cmdline]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no encoder for {job_id} started")


def test_job_survives_kill_9_while_encoding(tmp_path: Path, media_server: str) -> None:
    srv = Server(tmp_path / "data")
    srv.data_dir.mkdir()
    srv.start()
    try:
        session = srv.session()
        job = session.post(f"{srv.url}/jobs", json={"input": f"{media_server}/long.mp4", "kind": "video",
                                                    "options": {"quality": "very_high"}}).json()
        deadline = time.monotonic() + 60
        current = job
        while time.monotonic() < deadline:
            current = session.get(f"{srv.url}/jobs/{job['id']}").json()
            if current["tasks"][2]["status"] == "processing" or current["status"] in ("succeeded", "failed"):
                break
            time.sleep(0.05)
        assert current["tasks"][2]["status"] == "processing", current
        srv.kill()  # SIGKILL: no chance to clean up
        srv.start()  # same data dir, new process
        finished = srv.wait(job["id"], timeout=300)
        assert finished["status"] == "succeeded", (finished["error"], srv.tail())
        assert finished["tasks"][2]["progress"] == 100
        info = ffprobe_json(finished["output"])
        assert float(info["format"]["duration"]) == pytest.approx(20, abs=0.5)
    finally:
        srv.kill()


def test_the_cli_runs_a_job_remotely_and_prints_its_link(server: Server, media_server: str) -> None:
    """The CLI's default mode: the job runs on the server named by MEDIAJET_API_URL; the CLI waits for it
    and prints the finished job, whose output link downloads."""
    env = {**os.environ, "MEDIAJET_API_URL": server.url, "MEDIAJET_API_KEY": API_KEY}
    done = subprocess.run([sys.executable, "-m", "mediajet.cli.main", "audio", "-i", f"{media_server}/interview.mp3",
                           "--format", "mp3"], check=False, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout.strip().splitlines()[-1])  # not a terminal: JSON lines, the last is final
    assert job["status"] == "succeeded" and job["kind"] == "audio"
    resp = requests.get(job["output"], timeout=30)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "audio/mpeg" and len(resp.content) > 1000


def mediajet(*args: str, server: Server, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MEDIAJET_API_URL": server.url, "MEDIAJET_API_KEY": API_KEY}
    return subprocess.run([sys.executable, "-m", "mediajet.cli.main", *args], check=False, env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=180)


def test_remote_mode_uploads_a_local_input_and_downloads_the_result(server: Server, tmp_path: Path) -> None:
    """Local file in, local file out, the job on the server: the input goes up through the media library
    (a signed upload), the result comes back to -o."""
    make_video(tmp_path / "clip.mp4", seconds=2)
    done = mediajet("video", "-i", "clip.mp4", "-o", "out/small.mp4", "--format", "mp4", "--width", "160",
                    server=server, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout.strip().splitlines()[-1])
    assert job["status"] == "succeeded" and job["saved"] == str(tmp_path / "out" / "small.mp4")
    info = ffprobe_json(tmp_path / "out" / "small.mp4")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], video["width"]) == ("h264", 160)
    assert float(info["format"]["duration"]) == pytest.approx(2, abs=0.1)
    assert not list((tmp_path / "out").glob(".part-*")), "no partial download left behind"


def test_remote_mode_downloads_an_hls_result_as_a_tree_that_plays_from_disk(server: Server, tmp_path: Path) -> None:
    make_video(tmp_path / "clip.mp4", seconds=2)
    done = mediajet("adaptive", "-i", "clip.mp4", "-o", "hls/master.m3u8", server=server, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    from urllib.parse import urlsplit

    job = json.loads(done.stdout.strip().splitlines()[-1])
    assert urlsplit(job["output"]).path.endswith("/master.m3u8"), "no name asked of the server: master.m3u8"
    master = tmp_path / "hls" / "master.m3u8"
    playlists = [master, *sorted(master.parent.glob("*/stream.m3u8"))]
    assert len(playlists) >= 2 and all("?" not in p.read_text() for p in playlists), \
        "the links' signatures are gone: relative paths that work from disk"
    assert list(master.parent.glob("*/segment-*.ts"))
    info = ffprobe_json(master)  # read from disk, through every playlist to the segments
    assert float(info["format"]["duration"]) == pytest.approx(2, abs=0.2)


def test_a_request_the_api_refuses_exits_2_with_its_kind_message_and_field(server: Server, tmp_path: Path) -> None:
    make_video(tmp_path / "clip.mp4", seconds=1)
    done = mediajet("video", "-i", "clip.mp4", "--fit", "cover", "--width", "160", "--position", "nowhere",
                    server=server, cwd=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr)
    refused = json.loads(done.stderr.strip().splitlines()[-1])
    assert refused["kind"] and refused["message"] and refused["field"], refused
    missing = mediajet("video", "-i", "nope.mp4", server=server, cwd=tmp_path)
    assert missing.returncode == 2 and json.loads(missing.stderr.strip().splitlines()[-1])["field"] == "input"


def test_on_a_terminal_the_bar_reaches_100_percent_then_one_final_line(server: Server, tmp_path: Path) -> None:
    """As a person sees it: the CLI under a pseudo-terminal (stdout and stderr are the terminal)."""
    import pty

    make_video(tmp_path / "clip.mp4", seconds=2)
    env = {**os.environ, "MEDIAJET_API_URL": server.url, "MEDIAJET_API_KEY": API_KEY, "COLUMNS": "120"}
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "mediajet.cli.main", "video", "-i", "clip.mp4", "-o", "out.mp4",
                             "--width", "160"], cwd=tmp_path, env=env, stdin=terminal, stdout=terminal,
                            stderr=terminal, close_fds=True)
    os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the CLI exited
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    assert proc.wait(timeout=60) == 0, seen
    text = seen.decode()
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    bar, final = lines[-2].split("\r")[-1], lines[-1]
    assert bar.startswith("[####################] 100%"), text
    assert final == f"{final.split()[0]} succeeded: {tmp_path / 'out.mp4'}", text
    assert "upload" in text and "step" in text, "the upload and the job's steps were shown on the way"


def test_every_example_of_the_openapi_document_is_accepted_as_shown(tmp_path: Path) -> None:
    """What Swagger UI's "Try it out" sends: each request body example, posted as it stands (on a server of
    its own: the jobs it creates are nobody else's business)."""
    server = Server(tmp_path / "data")
    server.data_dir.mkdir()
    server.start()
    try:
        _post_every_example(server)
    finally:
        server.kill()


def _post_every_example(server: Server) -> None:
    doc = requests.get(f"{server.url}/openapi.json", timeout=10).json()
    sent = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            examples = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {})
            for name, example in examples.get("examples", {}).items():
                resp = requests.request(method, f"{server.url}{path}", json=example["value"], timeout=30,
                                        headers={"Authorization": f"Bearer {API_KEY}"})
                assert 200 <= resp.status_code < 300, (path, name, resp.status_code, resp.text)
                sent.append((path, name))
    assert {path for path, _ in sent} >= {"/jobs", "/tasks", "/steps", "/files", "/media", "/automations",
                                          "/signatures"}, sent
    assert "<kind>" not in json.dumps(doc), "no HTML-like text that Swagger UI would swallow"
