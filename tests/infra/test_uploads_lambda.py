"""The S3 trigger (functions/on_upload/handler.py): an ObjectCreated event for the inbox bucket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mediajet.aws import runtime
from tests.infra.harness import INBOX, Aws, LambdaContext, load_handler
from tests.media import make_video

PROJECT = "prj_default"  # AwsSettings.upload_project


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("uploads") / "clip.mp4", seconds=1)


def s3_event(key: str, etag: str = "abc123") -> dict[str, Any]:
    """As S3 sends it: the key URL-encoded (spaces as '+')."""
    return {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": INBOX},
                                "object": {"key": key.replace(" ", "+"), "size": 1, "eTag": etag}}}]}


def upload(aws: Aws, key: str, source: Path | bytes) -> dict[str, Any]:
    if isinstance(source, Path):
        aws.s3.upload_file(str(source), INBOX, key)
    else:
        aws.s3.put_object(Bucket=INBOX, Key=key, Body=source)
    return load_handler("on_upload").handler(s3_event(key), LambdaContext("on_upload", 60))


def test_an_upload_under_a_kind_folder_creates_and_starts_that_job(aws: Aws, clip: Path) -> None:
    result = upload(aws, "audio/my interview.mp4", clip)
    (job_id,) = result["jobs"]
    job = runtime.job_store().get_job(job_id, PROJECT)
    assert (job.kind, job.input) == ("audio", f"s3://{INBOX}/audio/my interview.mp4")
    assert aws.wait(aws.execution_arn(job_id))["status"] == "SUCCEEDED"
    assert runtime.job_store().get_job(job_id).status == "succeeded"


def test_a_sidecar_sets_kind_options_and_metadata(aws: Aws, clip: Path) -> None:
    sidecar = {"kind": "image", "options": {"width": 64, "format": "jpeg"}, "metadata": {"customer": "42"}}
    aws.s3.put_object(Bucket=INBOX, Key="drop/poster.mp4.json", Body=json.dumps(sidecar).encode())
    assert load_handler("on_upload").handler(s3_event("drop/poster.mp4.json"), None) == {"jobs": []}, \
        "a sidecar alone makes no job"
    (job_id,) = upload(aws, "drop/poster.mp4", clip)["jobs"]
    job = runtime.job_store().get_job(job_id)
    assert (job.kind, job.options, job.metadata) == ("image", {"width": 64, "format": "jpeg"}, {"customer": "42"})
    aws.wait(aws.execution_arn(job_id))


def test_the_same_event_twice_is_one_job(aws: Aws, clip: Path) -> None:
    first = upload(aws, "video/clip.mp4", clip)["jobs"]
    again = load_handler("on_upload").handler(s3_event("video/clip.mp4"), None)["jobs"]
    assert first == again
    aws.wait(aws.execution_arn(first[0]))
    assert len(aws.sfn.list_executions(stateMachineArn=aws.state_machine_arn)["executions"]) == 1


def test_uploads_outside_kind_folders_or_with_a_bad_sidecar_make_no_job(aws: Aws) -> None:
    assert upload(aws, "misc/readme.txt", b"hello")["jobs"] == []
    aws.s3.put_object(Bucket=INBOX, Key="video/x.mp4.json", Body=b"{not json")
    assert upload(aws, "video/x.mp4", b"data")["jobs"] == []
    aws.s3.put_object(Bucket=INBOX, Key="video/y.mp4.json", Body=json.dumps({"options": {"width": -5}}).encode())
    assert upload(aws, "video/y.mp4", b"data")["jobs"] == []
    assert aws.invocations == [], "no execution started"
