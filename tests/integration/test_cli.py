"""The `mediajet` CLI in local mode, as a user runs it: real processes, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mediajet.media.probe import probe
from tests.media import make_video

CLI = [sys.executable, "-m", "mediajet.cli.main"]


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "MEDIAJET_DATA_DIR": str(cwd / ".mediajet"), **(env or {})})


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("cli") / "clip.mp4", seconds=1)


def test_video_local_writes_the_output(clip: Path, tmp_path: Path) -> None:
    result = run("video", "-i", str(clip), "-o", "small.webm", "--format", "webm", "--width", "160", "--local",
                 "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[-1]["status"] == "succeeded"
    out = probe(tmp_path / "small.webm")
    assert (out.format, out.codecs.video, out.width, out.height) == ("webm", "vp9", 160, 120)
    assert not list(tmp_path.glob(".mediajet-*")), "scratch space is cleaned up"


def test_the_output_extension_sets_the_format(clip: Path, tmp_path: Path) -> None:
    """As in Ittybit's CLI: `-o out.webm --codec vp9` writes WebM (it used to refuse vp9 for mp4)."""
    result = run("video", "-i", str(clip), "-o", "out.webm", "--codec", "vp9", "--width", "96", "--local", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = probe(tmp_path / "out.webm")
    assert (out.format, out.codecs.video) == ("webm", "vp9")


def test_default_output_name_in_the_working_directory(clip: Path, tmp_path: Path) -> None:
    result = run("audio", "-i", str(clip), "--local", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert probe(tmp_path / "clip-audio.mp3").codecs.audio == "mp3"


def test_debug_prints_the_ffmpeg_commands(clip: Path, tmp_path: Path) -> None:
    result = run("image", "-i", str(clip), "-o", "poster.jpg", "--start", "0.5", "--local", "--debug", "--json",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "$ " in result.stderr and "ffprobe" in result.stderr and "-protocol_whitelist" in result.stderr
    assert (tmp_path / "poster.jpg").stat().st_size > 0


def test_bad_option_exits_2_with_kind(clip: Path, tmp_path: Path) -> None:
    result = run("video", "-i", str(clip), "-o", "x.webm", "--format", "webm", "--codec", "h264", "--local",
                 cwd=tmp_path)
    assert result.returncode == 2
    assert json.loads(result.stderr.strip().splitlines()[-1])["kind"] == "invalid_codec"


def test_a_flag_only_a_server_acts_on_is_refused_with_local_not_ignored(clip: Path, tmp_path: Path) -> None:
    result = run("video", "-i", str(clip), "-o", "x.mp4", "--connection", "backup", "--local", cwd=tmp_path)
    assert result.returncode == 2
    error = json.loads(result.stderr.strip().splitlines()[-1])
    assert error["kind"] == "invalid_option" and "--connection" in error["message"]
    assert not (tmp_path / "x.mp4").exists()


def test_missing_input_exits_2(tmp_path: Path) -> None:
    result = run("video", "-i", "nope.mp4", "--local", cwd=tmp_path)
    assert result.returncode == 2
    assert json.loads(result.stderr.strip().splitlines()[-1])["kind"] == "input_not_found"


def test_broken_file_fails_the_job_with_exit_1(tmp_path: Path) -> None:
    (tmp_path / "broken.mp4").write_text("this is not a video")
    result = run("video", "-i", "broken.mp4", "--local", "--json", cwd=tmp_path)
    assert result.returncode == 1
    final = json.loads(result.stdout.splitlines()[-1])
    assert final["status"] == "failed" and final["error"]["kind"] == "unsupported_media"
    assert final["error"]["task"] == "probe"


def test_tasks_compose_through_json(clip: Path, tmp_path: Path) -> None:
    probed = run("task", "probe", "-i", json.dumps({"url": str(clip)}), "--local", "--json", cwd=tmp_path)
    assert probed.returncode == 0, probed.stderr
    file_obj = json.loads(probed.stdout)["output"]  # one JSON document: `| jq .output` works
    assert file_obj["kind"] == "video" and file_obj["width"] == 320
    encoded = run("task", "video", "-i", json.dumps(file_obj), "--width", "96", "-o", "task.mp4", "--local",
                  "--json", cwd=tmp_path)
    assert encoded.returncode == 0, encoded.stderr
    assert json.loads(encoded.stdout)["status"] == "succeeded"
    assert probe(tmp_path / "task.mp4").width == 96


def test_health_reports_binaries(tmp_path: Path) -> None:
    result = run("health", cwd=tmp_path)
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert "ffmpeg version" in report["ffmpeg"]["version"]


def test_remote_mode_without_key_explains(tmp_path: Path) -> None:
    env = {"MEDIAJET_API_KEY": ""}
    result = run("video", "-i", "https://example.com/a.mp4", cwd=tmp_path, env=env)
    assert result.returncode == 3
    assert json.loads(result.stderr.strip())["kind"] == "token_missing"


def test_debug_prints_each_chunks_command(tmp_path: Path) -> None:
    long_clip = make_video(tmp_path / "long.mp4", seconds=12, gop=25)
    result = run("video", "-i", str(long_clip), "-o", "out.mp4", "--local", "--debug", "--json", cwd=tmp_path,
                 env={"MEDIAJET_CHUNK_MIN_DURATION": "4", "MEDIAJET_CHUNK_SECONDS": "3"})
    assert result.returncode == 0, result.stderr
    commands = [line for line in result.stderr.splitlines() if line.startswith("$ ")]
    chunks = [c for c in commands if "piece.mkv" in c and "-c:v libx264" in c]
    assert len(chunks) == 4, commands
    assert not any("-f concat" in c for c in commands), "MP4 parts are joined by their indexes, not by ffmpeg"
    assert probe(tmp_path / "out.mp4").duration == pytest.approx(12, abs=0.05)



# --- keys and jobs against a local server -------------------------------------------------------------


@contextmanager
def serving(*args: str, env: dict[str, str], cwd: Path | None = None) -> Iterator[str]:
    """`mediajet serve` (one worker) in a subprocess on a free port; yields its URL once /health answers."""
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([*CLI, "serve", "--port", str(port), "--workers", "1", *args], cwd=cwd, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "mediajet serve did not start"
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`mediajet ARGS` run by its own main() (saves a Python start per call): exit code, stdout, stderr."""
    from mediajet.cli.main import main

    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_keys_create_then_jobs_lists_shows_and_creates_with_that_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.delenv("MEDIAJET_API_KEY", raising=False)
    data = tmp_path / "server-data"
    code, out, _ = in_process(capsys, "keys", "create", "--data-dir", str(data), "--project", "prj_cli")
    key = out.strip()
    assert code == 0 and key.startswith("mj_") and len(out.splitlines()) == 1, out  # the key, alone
    other = in_process(capsys, "keys", "create", "--data-dir", str(data))[1].strip()
    assert other.startswith("mj_") and other != key

    env = {name: value for name, value in os.environ.items() if name != "MEDIAJET_API_KEY"}
    with serving("--data-dir", str(data), cwd=tmp_path, env=env) as url:
        monkeypatch.setenv("MEDIAJET_API_URL", url)
        monkeypatch.setenv("MEDIAJET_API_KEY", key)

        body = json.dumps({"input": "https://example.invalid/in.mp4", "kind": "audio"})
        code, out, err = in_process(capsys, "jobs", "create", "--body", body)
        assert code == 0, err
        job = json.loads(out)
        assert job["id"].startswith("job_") and job["kind"] == "audio", job

        code, out, err = in_process(capsys, "jobs")  # not a terminal: JSON
        assert code == 0, err
        assert [j["id"] for j in json.loads(out)] == [job["id"]]
        code, out, _ = in_process(capsys, "jobs", job["id"])
        assert code == 0 and json.loads(out)["id"] == job["id"]
        code, out, _ = in_process(capsys, "jobs", "--json", "--kind", "video")
        assert code == 0 and json.loads(out) == [], "filtered by kind"

        code, out, err = in_process(capsys, "jobs", "create", "--body", "{not json")
        assert code == 2 and out == "" and json.loads(err.strip().splitlines()[-1])["kind"] == "request_invalid"

        monkeypatch.setenv("MEDIAJET_API_KEY", other)
        code, out, _ = in_process(capsys, "jobs")
        assert code == 0 and json.loads(out) == [], "another project's key sees none of them"
        monkeypatch.setenv("MEDIAJET_API_KEY", "mj_not_a_key")
        code, out, err = in_process(capsys, "jobs")
        assert code == 3 and out == "", err
