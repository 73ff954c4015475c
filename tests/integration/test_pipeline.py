"""The job pipeline on the embedded runtime: real SQLite records, real files, real ffmpeg."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from pathlib import Path

import pytest

from mediajet.local.runtime import LocalRuntime
from mediajet.media import runner as media_runner
from mediajet.media.probe import probe
from mediajet.models.job import Job
from mediajet.models.requests import build_job, parse_job_create
from mediajet.pipeline import definition, transfer
from mediajet.pipeline.execute import run_job
from mediajet.pipeline.steps import run_step
from mediajet.settings import Settings
from mediajet.store.base import transition
from tests.faults import fail_first_fetch
from tests.integration.test_shutdown import alive, gone_within, real_time, wait_for_encoder
from tests.media import make_video

PROJECT = "prj_test"


@pytest.fixture
def runtime(tmp_path: Path) -> LocalRuntime:
    return LocalRuntime.open(Settings(), tmp_path / "data", allow_local_files=True)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("pipeline") / "clip.mp4", seconds=1)


def new_job(runtime: LocalRuntime, source: Path, kind: str = "video", **options: object) -> Job:
    # build_job via a https URL passes validation; the stored input is then pointed at the local file.
    request = parse_job_create({"input": "https://example.com/clip.mp4", "kind": kind, "options": options})
    job = build_job(request, PROJECT)
    job.input = source.as_uri()
    stored, _ = runtime.jobs.create_job(job)
    return stored


def test_a_video_job_runs_every_step_and_stores_the_output(runtime: LocalRuntime, clip: Path) -> None:
    job = new_job(runtime, clip, width=160, format="webm")
    run_job(job.id, runtime.context())
    done = runtime.jobs.get_job(job.id)
    assert done.status == "succeeded", done.error
    assert [t.status for t in done.tasks] == ["succeeded"] * 4
    assert done.tasks[0].output["width"] == 320 and done.tasks[0].output["codecs"]["video"] == "h264"
    imported = done.tasks[1]  # recorded with the probe's success: the input, described, in working storage
    assert imported.input == done.tasks[0].output and imported.started_at and imported.finished_at
    assert imported.output == {**done.tasks[0].output, "object": "file", "url": runtime.work.uri(f"jobs/{job.id}/input")}
    assert done.tasks[2].progress == 100
    assert done.started_at and done.finished_at and done.finished_at >= done.started_at
    key = runtime.outputs.key_for_uri(done.output)
    assert key is not None, done.output
    with runtime.outputs.local_path(key) as path:
        result = probe(path)
    assert (result.format, result.codecs.video, result.width, result.height) == ("webm", "vp9", 160, 120)
    assert not list(runtime.work.keys(f"jobs/{job.id}/")), "working files are removed when the job ends"

    # the result is a file of the media library (GET /files), in a media item of its own
    from mediajet.models.library import LibraryFile, Media

    (filed,) = runtime.jobs.list_records(LibraryFile, done.project_id, 1, 10)
    assert filed.id == "file_" + job.id.split("_", 1)[1] and filed.uri == done.output
    assert (filed.kind, filed.format, filed.width, filed.status) == ("video", "webm", 160, "ready")
    assert runtime.jobs.get_record(Media, filed.media_id, done.project_id).announced, "no automation fires for it"


def test_a_short_job_is_written_four_times_each_task_starting_as_the_last_ends(runtime: LocalRuntime, clip: Path) -> None:
    """Every record write is a DynamoDB write on AWS: a task's end starts the next task in the same write,
    and the last task's end ends the job (finalize then only files the result). An image has no encoder
    progress to record in between."""
    job = new_job(runtime, clip, "image", width=160)
    run_job(job.id, runtime.context())
    done = runtime.jobs.get_job(job.id)
    assert done.status == "succeeded" and done.version == job.version + 4
    for before, task in zip(done.tasks, done.tasks[1:]):
        assert task.input == before.output and task.started_at == before.finished_at
    assert done.finished_at == done.tasks[-1].finished_at and done.output == done.tasks[-1].output["url"]


def test_a_broken_input_fails_the_job_at_probe_and_cancels_the_rest(runtime: LocalRuntime, tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    job = new_job(runtime, text)
    run_job(job.id, runtime.context())
    done = runtime.jobs.get_job(job.id)
    assert done.status == "failed"
    assert done.error is not None
    assert (done.error.kind, done.error.task) == ("unsupported_media", "probe")
    assert [t.status for t in done.tasks] == ["failed", "cancelled", "cancelled", "cancelled"]
    assert done.tasks[0].error is not None and done.tasks[0].error.kind == "unsupported_media"


def test_an_unreachable_input_fails_with_a_reason(runtime: LocalRuntime, tmp_path: Path) -> None:
    job = new_job(runtime, tmp_path / "missing.mp4")
    run_job(job.id, runtime.context())
    done = runtime.jobs.get_job(job.id)
    assert done.status == "failed"
    assert done.error is not None and done.error.kind == "input_unreachable"
    assert "missing.mp4" in done.error.message


def test_a_transient_fetch_failure_is_retried(runtime: LocalRuntime, clip: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fail_first_fetch(monkeypatch)
    monkeypatch.setattr(definition.RetryPolicy, "delay", lambda self, retry: 0.01)
    job = new_job(runtime, clip, kind="audio", format="mp3")
    run_job(job.id, runtime.context())
    assert runtime.jobs.get_job(job.id).status == "succeeded"
    assert len(calls) == 2


def test_a_non_transient_failure_is_not_retried(runtime: LocalRuntime, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_probe = transfer.probe

    def counting(*args: object, **kwargs: object):
        calls.append("probe")
        return real_probe(*args, **kwargs)

    monkeypatch.setattr(transfer, "probe", counting)
    garbage = tmp_path / "garbage.mov"
    garbage.write_bytes(bytes(range(256)) * 64)
    job = new_job(runtime, garbage)
    run_job(job.id, runtime.context())
    assert runtime.jobs.get_job(job.id).status == "failed"
    assert calls == ["probe"]


def test_cancelling_a_job_stops_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cancelled while its encoder runs (slowed to real time: 30 s of work): the encoder is gone within
    seconds, the job and its unfinished tasks are cancelled, and nothing is exported."""
    runtime = LocalRuntime.open(Settings(chunk_min_duration=0), tmp_path / "data", allow_local_files=True)
    long_clip = make_video(tmp_path / "long.mp4", seconds=30, size="160x120", audio=False)
    job = new_job(runtime, long_clip, format="mp4")
    monkeypatch.setattr(media_runner, "run", real_time(media_runner.run))
    cancel, stop = threading.Event(), threading.Event()
    ctx = dataclasses.replace(runtime.context(cancel), stop=stop)
    thread = threading.Thread(target=run_job, args=(job.id, ctx))
    thread.start()
    try:
        encoder = wait_for_encoder(os.getpid())
        time.sleep(0.3)
        assert alive(encoder) and runtime.jobs.get_job(job.id).tasks[2].status == "processing"

        def cancel_job(j: Job) -> Job:  # what POST /jobs/{id}/cancel does, then the worker sets the event
            j.status = "cancelled"
            return j

        transition(runtime.jobs, job.id, cancel_job)
        cancel.set()
        assert gone_within(encoder, 3), "ffmpeg outlived the cancel"
        thread.join(10)
        assert not thread.is_alive()
    finally:
        stop.set()  # a cancel that did not work must not leave the encoder running
        thread.join(10)
    done = runtime.jobs.get_job(job.id)
    assert done.status == "cancelled" and done.output is None
    assert [t.status for t in done.tasks] == ["succeeded", "succeeded", "cancelled", "cancelled"]


def test_the_worker_resumes_interrupted_jobs_and_survives_failures(runtime: LocalRuntime, clip: Path,
                                                                  tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"")
    failing = new_job(runtime, bad)
    interrupted = new_job(runtime, clip, kind="image", format="png", width=64)

    ctx = runtime.context()
    run_step("probe", {"job_id": interrupted.id}, ctx)
    run_step("import", {"job_id": interrupted.id}, ctx)

    def crashed_mid_encode(j: Job) -> Job:  # what a kill -9 during the encode step leaves behind
        j.tasks[2].status = "processing"
        j.tasks[2].progress = 40
        return j

    transition(runtime.jobs, interrupted.id, crashed_mid_encode)
    worker = runtime.worker(concurrency=1)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while not worker.idle() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert runtime.jobs.get_job(failing.id).status == "failed"
    resumed = runtime.jobs.get_job(interrupted.id)
    assert resumed.status == "succeeded", resumed.error
    assert resumed.tasks[2].output["format"] == "png" and resumed.tasks[2].output["width"] == 64


def test_an_unwritable_destination_fails_the_export_with_a_reason(runtime: LocalRuntime, clip: Path,
                                                                 tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be")
    job = new_job(runtime, clip, kind="audio", format="mp3")

    def send_to(j: Job) -> Job:
        j.destination = str(blocker / "out.mp3")
        return j

    transition(runtime.jobs, job.id, send_to)
    run_job(job.id, runtime.context())
    done = runtime.jobs.get_job(job.id)
    assert done.status == "failed"
    assert done.error is not None and (done.error.kind, done.error.task) == ("export_failed", "export")
