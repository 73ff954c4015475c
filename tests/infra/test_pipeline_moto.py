"""The synthesized state machine, executed by moto's Step Functions interpreter, each step running the
real handler in this process against moto S3 and DynamoDB, with real ffmpeg."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mediajet.aws import runtime
from mediajet.media.probe import probe
from mediajet.models.job import Job
from mediajet.models.requests import build_job, parse_job_create
from mediajet.pipeline.definition import (
    ENCODE_CHUNK,
    FINALIZE,
    JOIN,
    STEPS,
    THROTTLE_MAX_DELAY_S,
    THROTTLE_RETRY,
)
from tests.faults import fail_first_s3_copy
from tests.infra.harness import INBOX, OUTPUT, WORK, Aws, throttle
from tests.measure import assert_like_single_pass, make_sync_clip
from tests.media import make_video

PROJECT = "prj_test"
STEP_NAMES = [s.name for s in STEPS]
CHOICE, MAP = "encode_chunks", "encode_chunk_map"  # after encode: parts or not; the parts' Distributed Map


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
    assert aws.entered_states(execution["executionArn"])[:6] == [*STEP_NAMES[:3], CHOICE, *STEP_NAMES[3:],
                                                                 FINALIZE.name], "a short input is not cut"
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
    fail_first_s3_copy(monkeypatch)  # an s3:// input is copied inside S3
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


# --- chunked encoding: the Distributed Map ---------------------------------------------------------
# moto runs the Distributed Map itself (S3 ItemReader, a child execution per part, Retry per part);
# harness.fail_map_runs_beyond_tolerance makes a failed part fail the Map as Step Functions does.

PARTS = ["v00000", "v00001", "v00002", "v00003"]  # 12 s cut about every 3 s, each with its slice of the sound
CHUNKED_STATES = [CHOICE, MAP, JOIN.name]  # between encode and export


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s with sound and a keyframe every second, so it can be cut into 3 s chunks."""
    return make_video(tmp_path_factory.mktemp("sfn-chunks") / "long.mp4", seconds=12, gop=25)


@pytest.fixture
def chunking() -> Iterator[Callable[..., None]]:
    """Inputs longer than `min_duration` s are encoded in parts of about `seconds` (4 and 3 unless set
    again; 0: never); the settings are read afresh."""
    from mediajet.settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        def configure(min_duration: float = 4, seconds: float = 3) -> None:
            patch.setenv("MEDIAJET_CHUNK_MIN_DURATION", str(min_duration))
            patch.setenv("MEDIAJET_CHUNK_SECONDS", str(seconds))
            get_settings.cache_clear()

        configure()
        yield configure
    get_settings.cache_clear()


def parts_invoked(aws: Aws) -> list[str]:
    return sorted(event["part"] for name, event in aws.events if name == ENCODE_CHUNK.name)


@pytest.fixture(scope="module")
def sync_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s with a flash and a beep at the same instants, a keyframe every second."""
    return make_sync_clip(tmp_path_factory.mktemp("sfn-sync") / "sync.mp4", seconds=12, fps=25)


def download_result(aws: Aws, job: Job, into: Path) -> Path:
    """The job's result from the output bucket (HLS: the whole tree); returns the main file."""
    done = runtime.job_store().get_job(job.id)
    assert done.output and done.output.startswith(f"s3://{OUTPUT}/")
    main_key = done.output.removeprefix(f"s3://{OUTPUT}/")
    folder = main_key.rsplit("/", 1)[0] + "/"
    for item in aws.s3.list_objects_v2(Bucket=OUTPUT, Prefix=folder)["Contents"]:
        target = into / item["Key"][len(folder):]
        target.parent.mkdir(parents=True, exist_ok=True)
        aws.s3.download_file(OUTPUT, item["Key"], str(target))
    return into / main_key[len(folder):]


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "options", "seams"), [
    ("video", {"format": "mp4", "codec": "h264"}, [3, 6, 9]),
    ("video", {"format": "webm", "codec": "vp9"}, [3, 6, 9]),
    ("adaptive_video", {}, [6]),  # HLS chunks are a multiple of the 6 s segments
], ids=["mp4-h264", "webm-vp9", "hls"])
def test_a_long_video_is_encoded_in_parts_by_the_map_then_joined(
        aws: Aws, sync_clip: Path, chunking: Callable[..., None], tmp_path: Path, kind: str, options: dict,
        seams: list[float]) -> None:
    job = submit(aws, sync_clip, f"{kind}/long.mp4", kind=kind, **options)
    execution = aws.wait(aws.execution_arn(job.id))
    assert execution["status"] == "SUCCEEDED", execution
    entered = aws.entered_states(execution["executionArn"])
    assert entered[:8] == [*STEP_NAMES[:3], *CHUNKED_STATES, "export", FINALIZE.name]
    # HLS: 6 s chunks; Opus (webm) is not sliced: the whole sound is a part of its own
    parts = PARTS[:2] if kind == "adaptive_video" else ["audio", *PARTS] if options["format"] == "webm" else PARTS
    assert aws.invocations == [*STEP_NAMES[:3], *[ENCODE_CHUNK.name] * len(parts), JOIN.name, "export",
                               FINALIZE.name]
    items = [{"job_id": job.id, "part": part} for part in parts]
    assert sorted((e for n, e in aws.events if n == ENCODE_CHUNK.name), key=lambda e: e["part"]) == items, \
        "each item of the list in S3 is a part's whole payload"
    (join_event,) = [e for n, e in aws.events if n == JOIN.name]
    assert join_event == {"job_id": job.id, "chunks": {"key": f"jobs/{job.id}/chunks/items.json",
                                                       "count": len(parts)}}, "the parts' results are discarded"
    assert aws.retry_waits == []

    done = runtime.job_store().get_job(job.id)
    assert done.status == "succeeded", done.error
    assert [t.status for t in done.tasks] == ["succeeded"] * 4 and done.tasks[2].progress == 100
    if options.get("format") != "webm":
        assert done.tasks[2].output["url"] == done.output, "the parts and join wrote it where export would copy it"
    chunked = download_result(aws, job, tmp_path / "chunked")
    assert aws.s3.list_objects_v2(Bucket=WORK).get("KeyCount", 0) == 0, "no part, piece or list is left behind"

    # The same job in one pass, through the same state machine (the Choice's other branch).
    chunking(min_duration=0)
    aws.invocations.clear()
    single_job = submit(aws, sync_clip, f"{kind}/single.mp4", kind=kind, **options)
    assert aws.wait(aws.execution_arn(single_job.id))["status"] == "SUCCEEDED"
    assert aws.invocations == [*STEP_NAMES, FINALIZE.name]
    single = download_result(aws, single_job, tmp_path / "single")
    assert_like_single_pass(chunked, single, sync_clip, fps=25, seams=seams)


@pytest.mark.usefixtures("chunking")
def test_a_part_that_fails_transiently_is_retried_alone(aws: Aws, long_clip: Path) -> None:
    from mediajet.errors import TransientError

    failed: list[str] = []

    def drop_first_attempt_of_v00001(name: str, event: dict) -> None:
        if name == ENCODE_CHUNK.name and event["part"] == "v00001" and not failed:
            failed.append(event["part"])
            raise TransientError("connection reset by peer", kind="transient_failure")

    aws.before_invoke = drop_first_attempt_of_v00001
    job = submit(aws, long_clip, "video/long.mp4", width=160)
    execution = aws.wait(aws.execution_arn(job.id))
    assert execution["status"] == "SUCCEEDED", execution
    assert parts_invoked(aws) == sorted([*PARTS, "v00001"]), "only the failed part ran again"
    assert aws.retry_waits == [ENCODE_CHUNK.retry.interval_s]
    assert aws.invocations.count(JOIN.name) == 1
    assert runtime.job_store().get_job(job.id).status == "succeeded"


@pytest.mark.usefixtures("chunking")
def test_a_throttled_part_waits_with_jitter_and_runs(aws: Aws, long_clip: Path) -> None:
    throttled: list[str] = []

    def no_concurrency_left_for_v00002(name: str, event: dict) -> None:
        if name == ENCODE_CHUNK.name and event["part"] == "v00002" and not throttled:
            throttled.append(event["part"])
            raise throttle()

    aws.before_invoke = no_concurrency_left_for_v00002
    job = submit(aws, long_clip, "video/long.mp4", width=160)
    execution = aws.wait(aws.execution_arn(job.id))
    assert execution["status"] == "SUCCEEDED", execution
    assert parts_invoked(aws) == sorted([*PARTS, "v00002"])
    (wait,) = aws.retry_waits
    assert 0 <= wait <= THROTTLE_RETRY.interval_s, "full jitter: anywhere up to the interval"
    assert runtime.job_store().get_job(job.id).status == "succeeded"


@pytest.mark.usefixtures("chunking")
def test_a_part_that_fails_for_good_fails_the_job_with_its_error(aws: Aws, long_clip: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from mediajet.errors import ProcessFailed
    from mediajet.pipeline import chunk_parts as parts

    real_encode_part = parts.encode_part

    def broken_v00002(ctx, job, options, source, part, src_key, out):
        if part == "v00002":
            raise ProcessFailed("ffmpeg exited with status 1: corrupt piece")
        return real_encode_part(ctx, job, options, source, part, src_key, out)

    monkeypatch.setattr(parts, "encode_part", broken_v00002)
    job = submit(aws, long_clip, "video/long.mp4", width=160)
    execution = aws.wait(aws.execution_arn(job.id))
    assert execution["status"] == "FAILED"
    assert parts_invoked(aws) == PARTS, "a part that failed for good is not retried"
    assert JOIN.name not in aws.invocations and "export" not in aws.invocations
    assert aws.invocations[-1] == FINALIZE.name and aws.retry_waits == []

    done = runtime.job_store().get_job(job.id)
    assert done.status == "failed" and done.error is not None
    assert (done.error.kind, done.error.message) == ("encode_failed", "ffmpeg exited with status 1: corrupt piece")
    assert done.error.task == done.tasks[2].kind, "the encode task is the one that failed"
    assert [t.status for t in done.tasks] == ["succeeded", "succeeded", "failed", "cancelled"]
    assert aws.s3.list_objects_v2(Bucket=WORK).get("KeyCount", 0) == 0


@pytest.mark.usefixtures("chunking")
def test_a_part_throttled_to_the_end_fails_the_job_with_a_clear_error(aws: Aws, long_clip: Path) -> None:
    def never_any_concurrency_for_v00002(name: str, event: dict) -> None:
        if name == ENCODE_CHUNK.name and event["part"] == "v00002":
            raise throttle()

    aws.before_invoke = never_any_concurrency_for_v00002
    job = submit(aws, long_clip, "video/long.mp4", width=160)
    assert aws.wait(aws.execution_arn(job.id))["status"] == "FAILED"
    assert parts_invoked(aws).count("v00002") == 1 + THROTTLE_RETRY.max_attempts
    assert len(aws.retry_waits) == THROTTLE_RETRY.max_attempts
    assert max(aws.retry_waits) <= THROTTLE_MAX_DELAY_S
    assert "export" not in aws.invocations

    done = runtime.job_store().get_job(job.id)
    assert done.status == "failed" and done.error is not None and done.error.task == done.tasks[2].kind
    assert done.error.kind == "internal_error"
    assert done.error.message.startswith("a part of the chunked encode did not finish "
                                         "(States.ExceedToleratedFailureThreshold)")


def test_finalize_takes_the_error_a_part_left_only_when_the_map_failed(aws: Aws) -> None:
    from mediajet.aws import handlers

    state = {"job_id": "job_x", "chunks": {"key": "jobs/job_x/chunks/items.json", "count": 5}}
    map_failed = {"Error": "States.ExceedToleratedFailureThreshold",
                  "Cause": "The specified tolerated failure threshold was exceeded"}
    with_part = handlers._with_part_error
    said = with_part({**state, "error": map_failed})["error"]
    assert said["Cause"] == ("a part of the chunked encode did not finish (States.ExceedToleratedFailureThreshold): "
                             "The specified tolerated failure threshold was exceeded"), "no part left one"
    for own in ({"Error": "StepFailed", "Cause": "{}"}, {"Error": "Sandbox.Timedout", "Cause": "join: 600 s"}):
        assert with_part({**state, "error": own}) == {**state, "error": own}, "encode's or join's own error"

    left = {"kind": "encode_failed", "message": "ffmpeg exited with status 1"}
    aws.s3.put_object(Bucket=WORK, Key="jobs/job_x/chunks/failed.json", Body=json.dumps(left).encode())
    assert with_part({**state, "error": map_failed}) == {**state, "error": left}
    assert with_part({"job_id": "job_x", "error": map_failed}) == {"job_id": "job_x", "error": map_failed}, \
        "no parts, no look-up"
    assert with_part(state) == state, "no error, nothing to do"
