"""Image jobs without ffprobe, and their Pillow work in the server's worker processes (issue 15)."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from mediajet.errors import Cancelled, ProcessingError
from mediajet.local.runtime import LocalRuntime
from mediajet.media import runner
from mediajet.media.pillow_pool import PillowPool
from mediajet.media.plans import image as image_plan
from mediajet.media.probe import probe
from mediajet.models.options import ImageOptions
from mediajet.pipeline.execute import run_job
from mediajet.settings import Settings
from tests.integration.test_pipeline import new_job
from tests.media import make_image, make_video


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The program of every process the runner (the one spawn point) starts."""
    names: list[str] = []
    real = runner.run

    def recording(argv, **kwargs):  # type: ignore[no-untyped-def]
        names.append(Path(argv[0]).name)
        return real(argv, **kwargs)

    monkeypatch.setattr(runner, "run", recording)
    return names


def _run(runtime: LocalRuntime, source: Path, **options: object) -> dict:
    job = new_job(runtime, source, kind="image", **options)
    run_job(job.id, runtime.context())
    done = runtime.jobs.get_job(job.id)
    assert done.status == "succeeded", done.error
    return done.model_dump(mode="json")


@pytest.mark.parametrize("name", ["photo.jpg", "logo.png", "still.webp", "still.avif"])
def test_an_image_job_spawns_no_ffprobe_and_its_files_are_described_as_before(
        tmp_path: Path, spawned: list[str], name: str) -> None:
    source = make_image(tmp_path / name, size=(400, 300))
    job = _run(LocalRuntime.open(Settings(), tmp_path / "data", allow_local_files=True), source, format="webp",
               width=200)
    assert spawned == []
    fmt = {"jpg": "jpeg"}.get(source.suffix[1:], source.suffix[1:])
    probed = job["tasks"][0]["output"]
    assert {k: probed[k] for k in ("kind", "format", "width", "height", "filesize")} == {
        "kind": "image", "format": fmt, "width": 400, "height": 300, "filesize": source.stat().st_size}
    encoded = job["tasks"][2]["output"]
    assert {k: encoded[k] for k in ("kind", "format", "width", "height")} == {
        "kind": "image", "format": "webp", "width": 200, "height": 150}
    assert encoded["codecs"] == {"video": "webp"} and encoded["filesize"] > 0


def test_a_gif_and_a_video_are_still_probed_by_ffprobe(tmp_path: Path, spawned: list[str]) -> None:
    probe(make_image(tmp_path / "one.gif"))
    probe(make_video(tmp_path / "clip.mp4", seconds=1))
    assert spawned == ["ffprobe", "ffprobe"]


def test_a_rotated_jpeg_is_described_upright_without_ffprobe(tmp_path: Path, spawned: list[str]) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned by 90°
    Image.new("RGB", (400, 300), (10, 20, 30)).save(tmp_path / "turned.jpg", exif=exif)
    found = probe(tmp_path / "turned.jpg")
    assert (found.width, found.height, found.format, found.kind) == (300, 400, "jpeg", "image")
    assert spawned == []


def test_the_server_makes_stills_in_worker_processes_with_the_same_result(tmp_path: Path) -> None:
    source = make_image(tmp_path / "photo.jpg", size=(640, 480))
    here = LocalRuntime.open(Settings(), tmp_path / "cli", allow_local_files=True)
    served = LocalRuntime.open(Settings(), tmp_path / "server", allow_local_files=True)
    worker = served.worker(concurrency=1)
    try:
        assert served.pillow is not None and served.context().pillow is served.pillow
        outputs = []
        for runtime in (here, served):
            job = _run(runtime, source, format="webp", width=320)
            key = runtime.outputs.key_for_uri(job["output"])
            assert key is not None
            with runtime.outputs.local_path(key) as path:
                outputs.append(path.read_bytes())
        assert outputs[0] == outputs[1]
        assert served.pillow._idle and served.pillow._idle[0].process.is_alive()  # the work went there
    finally:
        worker.stop()


def _options() -> ImageOptions:
    return ImageOptions(format="png")


def test_a_decode_bomb_is_refused_in_a_worker_process(tmp_path: Path) -> None:
    big = make_image(tmp_path / "big.png", size=(2000, 2000))
    pool = PillowPool(1, Settings())
    small = Settings(max_pixels=1000 * 1000)
    todo = image_plan.plan(_options(), probe(big), big, tmp_path / "out", small)
    try:
        with pytest.raises(ProcessingError) as caught:
            pool.run(todo.finish, b"", timeout=60)  # type: ignore[arg-type]
        assert caught.value.kind == "resolution_too_large"
    finally:
        pool.close()


def test_cancelling_kills_the_worker_and_the_next_call_gets_a_fresh_one(tmp_path: Path) -> None:
    pool = PillowPool(1, Settings())
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    try:
        with pytest.raises(Cancelled):
            pool.run(time.sleep, 30, timeout=60, cancel=cancel)
        assert time.monotonic() - started < 10
        assert pool._idle == []  # the busy one was killed, not given back
        assert pool.run(sum, [1, 2], timeout=60) == 3
    finally:
        pool.close()


def test_stop_ends_the_call_as_a_shutdown(tmp_path: Path) -> None:
    from mediajet.errors import ShuttingDown

    pool = PillowPool(1, Settings())
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    try:
        with pytest.raises(ShuttingDown):
            pool.run(time.sleep, 30, timeout=60, stop=stop)
    finally:
        pool.close()


def test_the_cli_context_has_no_pool(tmp_path: Path) -> None:
    runtime = LocalRuntime.open(Settings(), tmp_path / "data", allow_local_files=True)
    assert dataclasses.replace(runtime.context()).pillow is None
