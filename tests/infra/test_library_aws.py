"""The media library on AWS: POST /signatures answers a presigned PUT straight to the inbox bucket, the
upload trigger files the object (a new media item, an ingest task in the encode function) and the file
becomes `ready` with a working link, as on `mediajet serve`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mediajet.api.auth import create_key
from mediajet.aws import runtime
from tests.infra.harness import INBOX, OUTPUT, Aws, LambdaContext, http_event, load_handler
from tests.infra.test_uploads_lambda import s3_event
from tests.media import make_video

PROJECT = "prj_library"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("library") / "clip.mp4", seconds=1)


class InlineLambda:
    """The encode function, invoked "asynchronously" by the orchestrator: run in process, at once."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:
        assert (FunctionName, InvocationType) == ("encode", "Event")
        self.payloads.append(json.loads(Payload))
        load_handler("encode").handler(json.loads(Payload), LambdaContext("encode"))
        return {"StatusCode": 202}


@pytest.fixture
def encode(aws: Aws) -> Iterator[InlineLambda]:
    """Lambda's Invoke API, as the API, the upload trigger and the encode function itself call it."""
    inline, real = InlineLambda(), runtime.client
    with pytest.MonkeyPatch.context() as patch:  # undone before the harness resets the runtime
        patch.setattr(runtime, "client", lambda service: inline if service == "lambda" else real(service))
        runtime.orchestrator.cache_clear()
        yield inline
    runtime.orchestrator.cache_clear()


def call(method: str, path: str, key: str, body: Any = None) -> tuple[int, Any]:
    event = http_event(method, path, body, key=key)
    event["headers"]["accept-version"] = "2025-08-20"
    result = load_handler("api").handler(event, LambdaContext("api", 29))
    return result["statusCode"], json.loads(result.get("body") or "null")


def test_an_upload_through_a_signed_url_becomes_a_ready_file_in_a_new_media_item(
        aws: Aws, encode: InlineLambda, clip: Path) -> None:
    key = create_key(runtime.job_store(), PROJECT)
    status, automation = call("POST", "/automations", key, {
        "trigger": {"kind": "event", "event": "media.created"},
        "workflow": [{"kind": "image", "ref": "poster", "width": 64, "format": "jpeg"}]})
    assert status == 201, automation
    status, signed = call("POST", "/signatures", key, {"filename": "clip.mp4", "folder": "talks", "method": "put"})
    assert status == 201, signed
    assert signed["url"].startswith(f"https://{INBOX}.s3") and "X-Amz-Signature" in signed["url"]
    assert (signed["method"], signed["folder"], signed["filename"]) == ("put", "talks", "clip.mp4")
    assert signed["signature"] and signed["signature"] in signed["url"]

    assert requests.put(signed["url"], data=clip.read_bytes(), timeout=30).status_code == 200, "straight to S3"
    uploaded = f"library/{PROJECT}/talks/clip.mp4"
    trigger = load_handler("on_upload").handler(s3_event(uploaded), LambdaContext("on_upload", 60))
    (file_id,) = trigger["files"]
    assert trigger["jobs"] == [] and aws.invocations == [], "a library upload starts no job"
    ingest, poster = (p["task_id"] for p in encode.payloads)
    assert ingest == "task_" + file_id.removeprefix("file_"), "the upload's ingest ran in the encode function"

    status, file = call("GET", f"/files/{file_id}", key)
    assert status == 200, file
    assert (file["status"], file["kind"], file["width"], file["height"]) == ("ready", "video", 320, 240)
    assert (file["folder"], file["filename"]) == ("talks", "clip.mp4")
    assert OUTPUT in file["url"], "the ingest copied it into the output bucket"
    assert requests.get(file["url"], timeout=30).content == clip.read_bytes()
    status, media = call("GET", f"/media/{file['media_id']}", key)
    assert status == 200 and [f["id"] for f in media["files"]] == [file_id, "file_" + poster.removeprefix("task_")]
    made = media["files"][1]
    assert (made["status"], made["kind"], made["width"], made["ref"]) == ("ready", "image", 64, "poster"), \
        "the automation ran on the new media item, in the encode function, and its result joined the item"

    again = load_handler("on_upload").handler(s3_event(uploaded), None)
    assert again["files"] == [file_id] and len(encode.payloads) == 2, "S3 delivering the event twice: one file"

    status, get = call("POST", "/signatures", key, {"filename": "clip.mp4", "folder": "talks", "method": "get"})
    assert status == 201 and requests.get(get["url"], timeout=30).content == clip.read_bytes()

    def stored(bucket: str, prefix: str) -> list[str]:
        return [o["Key"] for o in aws.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]

    assert stored(OUTPUT, f"tasks/{ingest}/") and stored(OUTPUT, f"tasks/{poster}/") and stored(INBOX, uploaded)
    status, _ = call("DELETE", f"/media/{file['media_id']}", key)
    assert status == 202
    assert (stored(OUTPUT, f"tasks/{ingest}/"), stored(OUTPUT, f"tasks/{poster}/")) == ([], []), \
        "the media item's files and their task folders are gone"
    assert stored(INBOX, uploaded), "the uploaded original stays in the inbox (a get signature serves it)"
    assert call("GET", f"/files/{file_id}", key)[0] == 404


def test_an_upload_that_is_not_media_becomes_a_failed_file(aws: Aws, encode: InlineLambda) -> None:
    key = create_key(runtime.job_store(), PROJECT)
    _, signed = call("POST", "/signatures", key, {"filename": "notes.txt", "method": "put"})
    assert requests.put(signed["url"], data=b"just text", timeout=30).status_code == 200
    (file_id,) = load_handler("on_upload").handler(s3_event(f"library/{PROJECT}/notes.txt"), None)["files"]
    status, file = call("GET", f"/files/{file_id}", key)
    assert status == 200 and file["status"] == "failed", file
