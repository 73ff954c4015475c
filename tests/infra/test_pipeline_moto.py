"""The synthesized state machine, executed by moto's Step Functions interpreter, each step running the
real handler in this process against moto S3 and DynamoDB, with real ffmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediajet.aws import runtime
from mediajet.media.probe import probe
from mediajet.models.job import Job
from mediajet.models.requests import build_job, parse_job_create
from mediajet.pipeline.definition import FINALIZE, STEPS
from tests.faults import fail_first_fetch
from tests.infra.harness import INBOX, OUTPUT, WORK, Aws
from tests.media import make_video

PROJECT = "prj_test"
STEP_NAMES = [s.name for s in STEPS]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("sfn") / "clip.mp4", seconds=1)


def submit(aws: Aws, source: Path, key: str, kind: str = "video", **options: object) -> Job:
    aws.s3.upload_file(str(source), INBOX, key)
    job = build_job(parse_job_create({"input": f"s3://{INBOX}/{key}", "kind": kind, "options": options}), PROJECT)
    stored, _ = runtime.job_store().create_job(job)
    runtime.orchestrator().start_job(stored)  # StartExecution, named by the job id
    return stored


def test_a_job_runs_every_step_and_lands_in_the_output_bucket(aws: Aws, clip: Path, tmp_path: Path) -> None:
    job = submit(aws, clip, "video/clip.mp4", width=160, format="webm")
    execution = aws.wait(aws.execution_arn(job.id))
    assert execution["status"] == "SUCCEEDED", execution
    assert aws.entered_states(execution["executionArn"])[:5] == [*STEP_NAMES, FINALIZE.name]
    assert aws.invocations == [*STEP_NAMES, FINALIZE.name]
    assert aws.retry_waits == []

    done = runtime.job_store().get_job(job.id)
    assert done.status == "succeeded", done.error
    assert [t.status for t in done.tasks] == ["succeeded"] * 4
    assert done.output and done.output.startswith(f"s3://{OUTPUT}/")
    local = tmp_path / "result.webm"
    aws.s3.download_file(OUTPUT, done.output.removeprefix(f"s3://{OUTPUT}/"), str(local))
    result = probe(local)
    assert (result.format, result.codecs.video, result.width, result.height) == ("webm", "vp9", 160, 120)
    assert aws.s3.list_objects_v2(Bucket=WORK).get("KeyCount", 0) == 0, "finalize removes the working files"


def test_a_broken_input_fails_the_job_through_the_catch(aws: Aws, tmp_path: Path) -> None:
    broken = tmp_path / "notes.mp4"
    broken.write_text("this is not a video\n" * 50)
    job = submit(aws, broken, "video/notes.mp4")
    execution = aws.wait(aws.execution_arn(job.id))
    assert execution["status"] == "FAILED", "the execution reports the failed job"
    assert aws.invocations == ["probe", FINALIZE.name], "no step runs after the failure but finalize"
    assert aws.retry_waits == [], "a broken input is not retried"

    done = runtime.job_store().get_job(job.id)
    assert done.status == "failed"
    assert done.error is not None and (done.error.kind, done.error.task) == ("unsupported_media", "probe")
    assert [t.status for t in done.tasks] == ["failed", "cancelled", "cancelled", "cancelled"]


def test_a_transient_failure_is_retried_with_the_policy(aws: Aws, clip: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    fail_first_fetch(monkeypatch)
    job = submit(aws, clip, "audio/clip.mp4", kind="audio", format="mp3")
    execution = aws.wait(aws.execution_arn(job.id))
    assert execution["status"] == "SUCCEEDED", execution
    assert aws.invocations == ["probe", *STEP_NAMES, FINALIZE.name], "probe ran twice"
    assert aws.retry_waits == [STEPS[0].retry.interval_s], "one retry after the policy's interval"
    assert runtime.job_store().get_job(job.id).status == "succeeded"


def test_cancelling_while_a_step_runs_stops_the_execution(aws: Aws, clip: Path) -> None:
    from mediajet.store.base import transition

    def cancel_during_probe(name: str, event: dict) -> None:
        if name == "probe":  # what POST /jobs/{id}/cancel does: record, then StopExecution
            job = transition(runtime.job_store(), event["job_id"],
                             lambda j: j.model_copy(update={"status": "cancelled"}))
            runtime.orchestrator().cancel_job(job)

    aws.before_invoke = cancel_during_probe
    job = submit(aws, clip, "video/clip.mp4", width=96)
    execution = aws.wait(aws.execution_arn(job.id))
    assert execution["status"] != "RUNNING"
    assert "encode" not in aws.invocations, "nothing is encoded for a cancelled job"
    assert runtime.job_store().get_job(job.id).status == "cancelled"
