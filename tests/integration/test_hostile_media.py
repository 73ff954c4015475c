"""Crafted and malformed inputs: every job ends `failed` with a specific kind, nothing leaks into an
output, and the worker goes on to finish the next, healthy job."""

from __future__ import annotations

import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from mediajet.local.runtime import LocalRuntime
from mediajet.media.binaries import ffmpeg
from mediajet.models.job import Job
from mediajet.models.requests import build_job, parse_job_create
from mediajet.pipeline.execute import run_job
from mediajet.settings import Settings
from tests.media import make_video

PASSWD_PLAYLIST = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
METADATA_PLAYLIST = ("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n"
                     "http://169.254.169.254/latest/meta-data/iam/security-credentials/\n#EXT-X-ENDLIST\n")
MAP_PLAYLIST = '#EXTM3U\n#EXT-X-MAP:URI="file:///etc/passwd"\n#EXTINF:1.0,\nsegment.ts\n#EXT-X-ENDLIST\n'
CONCAT_LIST = "ffconcat version 1.0\nfile '/etc/passwd'\nfile 'http://169.254.169.254/'\n"


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a huge canvas in a few bytes (a decompression bomb's calling card)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def crafted(root: Path, clip: Path) -> dict[str, tuple[Path, str, str]]:
    """name → (file, job kind, the error kind the job must fail with)."""
    files: dict[str, tuple[bytes, str, str, str]] = {
        "hls playlist named .mp4": (PASSWD_PLAYLIST.encode(), "video.mp4", "video", "unsupported_media"),
        "hls playlist named .m3u8": (PASSWD_PLAYLIST.encode(), "video.m3u8", "video", "unsupported_media"),
        "playlist to the metadata service": (METADATA_PLAYLIST.encode(), "clip.m3u8", "audio", "unsupported_media"),
        "playlist with an init segment map": (MAP_PLAYLIST.encode(), "movie.mov", "image", "unsupported_media"),
        "ffconcat list": (CONCAT_LIST.encode(), "list.mp4", "video", "unsupported_media"),
        "zero bytes": (b"", "empty.mp4", "video", "unsupported_media"),
        "truncated mp4": (clip.read_bytes()[:1024], "cut.mp4", "video", "unsupported_media"),
        "text with a media extension": (b"hello, world\n" * 100, "song.mp3", "audio", "unsupported_media"),
        "random bytes": (bytes((i * 7919) % 251 for i in range(65536)), "noise.mov", "video", "unsupported_media"),
        "huge declared png": (png_header(100_000, 100_000), "bomb.png", "image", "resolution_too_large"),
    }
    out = {}
    for name, (data, filename, kind, error) in files.items():
        path = root / filename.replace(".", f"-{len(out)}.", 1)
        path.write_bytes(data)
        out[name] = (path, kind, error)
    return out


def new_job(runtime: LocalRuntime, source: Path, kind: str, **options: object) -> Job:
    request = parse_job_create({"input": "https://example.com/input", "kind": kind, "options": options})
    job = build_job(request, "prj_hostile")
    job.input = source.as_uri()
    return runtime.jobs.create_job(job)[0]


def test_crafted_inputs_fail_cleanly_and_the_worker_keeps_going(tmp_path: Path) -> None:
    runtime = LocalRuntime.open(Settings(max_dimension=8192), tmp_path / "data", allow_local_files=True)
    clip = make_video(tmp_path / "clip.mp4", seconds=1)
    wide = make_video(tmp_path / "wide.mp4", seconds=0.2, size="8200x16", audio=False)
    cases = crafted(tmp_path, clip)
    cases["wider than the limit"] = (wide, "video", "resolution_too_large")
    jobs = {name: new_job(runtime, path, kind, **({"end": 1} if kind == "animation" else {}))
            for name, (path, kind, _) in cases.items()}
    healthy = new_job(runtime, clip, "audio", format="mp3")

    worker = runtime.worker(concurrency=2)
    worker.start()
    try:
        deadline = time.monotonic() + 120
        while not worker.idle() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()

    outcomes = {name: runtime.jobs.get_job(job.id) for name, job in jobs.items()}
    wrong = {name: (job.status, job.error and job.error.kind) for name, job in outcomes.items()
             if (job.status, job.error and job.error.kind) != ("failed", cases[name][2])}
    assert not wrong, wrong
    for job in outcomes.values():
        assert job.error is not None and job.error.message and job.error.task in ("probe", "import")
        assert all(t.status in ("failed", "cancelled", "succeeded") for t in job.tasks)
        assert job.output is None
    assert runtime.jobs.get_job(healthy.id).status == "succeeded"
    leaked = [p for p in runtime.outputs.root.rglob("*") if p.is_file() and b"root:" in p.read_bytes()]
    assert not leaked


@pytest.mark.parametrize("playlist", [PASSWD_PLAYLIST, METADATA_PLAYLIST])
def test_ffprobe_never_opens_what_a_playlist_points_at(tmp_path: Path, playlist: str) -> None:
    from mediajet.errors import ProcessingError
    from mediajet.media.probe import probe

    path = tmp_path / "video.m3u8"
    path.write_text(playlist)
    with pytest.raises(ProcessingError) as caught:
        probe(path, timeout=20)
    assert caught.value.kind == "unsupported_media"
    assert "root:" not in caught.value.message


def ts_clip(path: Path, source: str) -> Path:
    """An H.264 MPEG-TS file of the lavfi `source`."""
    subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source,
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
                   check=True, capture_output=True, timeout=120)
    return path


def test_a_stream_that_grows_past_the_limit_midway_is_stopped_there(tmp_path: Path) -> None:
    """Reported: two cat-ed MPEG-TS files, 160x120 then one 9000x9000 frame (~290 KB), passed probe (which
    sees the first picture) and decoded 81-megapixel frames. Every decoder is now capped."""
    small = ts_clip(tmp_path / "small.ts", "testsrc2=size=160x120:rate=25:duration=1")
    huge = ts_clip(tmp_path / "huge.ts", "color=c=gray:size=9000x9000:rate=25:duration=0.04")  # 1 s, ~0.5 GB
    switching = tmp_path / "switching.ts"
    switching.write_bytes(small.read_bytes() + huge.read_bytes())
    runtime = LocalRuntime.open(Settings(), tmp_path / "data", allow_local_files=True)
    job = new_job(runtime, switching, "video")
    run_job(job.id, runtime.context())
    done = runtime.jobs.get_job(job.id)
    assert done.tasks[0].status == "succeeded" and done.tasks[0].output["width"] == 160, "probe sees 160x120"
    assert (done.status, done.error and done.error.kind, done.error and done.error.task) == (
        "failed", "resolution_too_large", "video")
    # the decoder names its buffer, whose width is padded to a multiple of its alignment: 9024x9000
    assert "x9000 picture" in done.error.message and "limit of 67108864 pixels" in done.error.message
    assert "MEDIAJET_MAX_PIXELS" in done.error.message
    assert done.output is None
