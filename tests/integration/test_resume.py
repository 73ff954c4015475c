"""A resumed job (the worker's start after a shutdown or a crash: run_job(..., resume=True)) picks up
where it stopped: the input is not fetched or probed again, and finished steps do not run again."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mediajet.errors import ShuttingDown
from mediajet.local.runtime import LocalRuntime
from mediajet.media import runner
from mediajet.models.job import Job
from mediajet.models.requests import build_job, parse_job_create
from mediajet.pipeline import execute, transfer
from mediajet.settings import Settings
from tests.media import make_video

PROJECT = "prj_resume"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("resume") / "clip.mp4", seconds=1, size="160x120")


@pytest.fixture
def runtime(tmp_path: Path) -> LocalRuntime:
    return LocalRuntime.open(Settings(chunk_min_duration=0), tmp_path / "data", allow_local_files=True)


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """What the pipeline does: `fetch`, `probe` (of the input), `encode` (ffmpeg with -c:v) and one
    `step:<name>` per step run."""
    seen: Counter = Counter()

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            seen[name] += 1
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(transfer, "fetch", counting("fetch", transfer.fetch))
    monkeypatch.setattr(transfer, "probe_checked", counting("probe", transfer.probe_checked))
    real_run, real_step = runner.run, execute.run_step

    def run(argv: Any, **kwargs: Any) -> Any:
        if "-c:v" in argv:
            seen["encode"] += 1
        return real_run(argv, **kwargs)

    def run_step(name: str, state: dict, ctx: Any) -> dict:
        seen[f"step:{name}"] += 1
        return real_step(name, state, ctx)

    monkeypatch.setattr(runner, "run", run)
    monkeypatch.setattr(execute, "run_step", run_step)
    return seen


def new_job(runtime: LocalRuntime, source: Path) -> Job:
    job = build_job(parse_job_create({"input": "https://example.com/in.mp4", "kind": "video",
                                      "options": {"width": 96, "format": "mp4"}}), PROJECT)
    job.input = source.as_uri()
    return runtime.jobs.create_job(job)[0]


def finished_tasks(job: Job) -> list[tuple[str, int | None, int | None]]:
    return [(t.kind, t.started_at, t.finished_at) for t in job.tasks if t.status == "succeeded"]


def test_a_job_stopped_at_its_encode_resumes_without_fetching_or_probing_again(
        runtime: LocalRuntime, clip: Path, counts: Counter, monkeypatch: pytest.MonkeyPatch) -> None:
    job = new_job(runtime, clip)
    stop = threading.Event()
    counting_run = runner.run

    def shut_down_at_the_encode(argv: Any, **kwargs: Any) -> Any:
        if "-c:v" in argv:
            stop.set()  # the server is stopping just as the encoder starts: runner.run refuses to start it
        return counting_run(argv, **kwargs)

    monkeypatch.setattr(runner, "run", shut_down_at_the_encode)
    with pytest.raises(ShuttingDown):
        execute.run_job(job.id, dataclasses.replace(runtime.context(), stop=stop))
    stopped = runtime.jobs.get_job(job.id)
    assert [t.status for t in stopped.tasks] == ["succeeded", "succeeded", "processing", "waiting"]
    assert (counts["fetch"], counts["probe"], counts["encode"]) == (1, 1, 1)
    before = finished_tasks(stopped)

    monkeypatch.setattr(runner, "run", counting_run)
    counts.clear()
    worker = runtime.worker(concurrency=1)  # its start resumes every job left processing
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while not worker.idle() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        worker.stop()
    done = runtime.jobs.get_job(job.id)
    assert done.status == "succeeded", done.error
    assert done.tasks[2].output["width"] == 96
    assert counts == Counter({"step:encode": 1, "step:export": 1, "step:finalize": 1, "encode": 1}), counts
    assert finished_tasks(done)[:2] == before, "probe and import were left as they were"


def test_a_job_stopped_at_its_export_resumes_without_encoding_again(
        runtime: LocalRuntime, clip: Path, counts: Counter, monkeypatch: pytest.MonkeyPatch) -> None:
    job = new_job(runtime, clip)
    real_export = transfer.export_from_work

    def shut_down(*args: Any, **kwargs: Any) -> Any:
        raise ShuttingDown("stopped during the export")

    monkeypatch.setattr(transfer, "export_from_work", shut_down)
    with pytest.raises(ShuttingDown):
        execute.run_job(job.id, runtime.context())
    stopped = runtime.jobs.get_job(job.id)
    assert [t.status for t in stopped.tasks] == ["succeeded", "succeeded", "succeeded", "processing"]
    assert (counts["fetch"], counts["encode"]) == (1, 1)
    before = finished_tasks(stopped)

    monkeypatch.setattr(transfer, "export_from_work", real_export)
    counts.clear()
    execute.run_job(job.id, runtime.context(), resume=True)
    done = runtime.jobs.get_job(job.id)
    assert done.status == "succeeded", done.error
    assert counts == Counter({"step:export": 1, "step:finalize": 1}), counts
    assert finished_tasks(done)[:3] == before, "probe, import and encode were left as they were"
    assert done.output is not None and runtime.outputs.key_for_uri(done.output) is not None
