"""The Jobs API through `create_app(...).resolve(event, None)`: a real SQLite store, a recording
orchestrator (the pipeline is not under test here)."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

from mediajet.api import jobs as job_logic
from mediajet.api.deps import ApiDeps
from mediajet.ids import now_ms
from mediajet.models.job import Job, Task
from mediajet.store.base import TaskQuery, transition
from tests.unit.api_support import KEY_A, KEY_B, SIGNED, Api, RecordingOrchestrator, make_api, sign

SEED_002_BODY = {
    "input": "https://example.com/upload.mov",
    "kind": "video",
    "options": {"width": 1280, "height": 720, "format": "mp4", "quality": "high"},
}


def _seed_task(kind: str) -> dict[str, Any]:
    return {"id": "task_001", "object": "task", "kind": kind, "input": None, "options": {}, "output": None,
            "status": "waiting", "progress": None, "error": None, "created_at": 1711900000000, "started_at": None,
            "finished_at": None, "updated_at": 1711900000000}


SEED_002_RESPONSE = {
    "id": "job_abc123", "object": "job", "kind": "video", "input": "https://example.com/upload.mov", "output": None,
    "options": {"width": 1280, "height": 720, "format": "mp4", "quality": "high"}, "metadata": {},
    "status": "queued", "error": None, "tasks": [_seed_task(k) for k in ("probe", "import", "video", "export")],
    "created_at": 1711900000000, "started_at": None, "finished_at": None, "updated_at": 1711900000000,
}
SEED_001_RESPONSE = {
    "id": "task_abc123", "object": "task", "kind": "probe",
    "input": {"object": "external_file", "url": "https://example.com/video.mp4"}, "output": None, "options": {},
    "status": "waiting", "progress": None, "error": None, "created_at": 1711900000000, "started_at": None,
    "finished_at": None, "updated_at": 1711900000000,
}


def normalised(value: Any) -> Any:
    """Ids and timestamps vary; everything else must equal the seed."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "id":
                out[key] = "<id>"
            elif key.endswith("_at") and isinstance(item, int):
                out[key] = "<ms>"
            else:
                out[key] = normalised(item)
        return out
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return value


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return make_api(tmp_path, max_body_bytes=64 * 1024)


def create(api: Api, body: dict | None = None, **kwargs: Any) -> dict:
    reply = api.call("POST", "/jobs", body or SEED_002_BODY, **kwargs)
    assert reply.status == 201, reply.text
    return reply.body


def finish(api: Api, job_id: str, status: str = "succeeded", output: str | None = None) -> Job:
    def change(job: Job) -> Job:
        job.status, job.finished_at = status, now_ms()
        job.output = output
        for task in job.tasks:
            task.status = "succeeded" if status == "succeeded" else "cancelled"
        return job

    return transition(api.store, job_id, change)


# --- shapes of the seed pages -------------------------------------------------------------------


def test_create_job_answers_201_with_exactly_the_seed_002_shape(api: Api) -> None:
    reply = api.call("POST", "/jobs", SEED_002_BODY)
    assert reply.status == 201
    assert reply.headers["Content-Type"] == "application/json"
    job = reply.body
    assert normalised(job) == normalised(SEED_002_RESPONSE)
    assert re.fullmatch(r"job_[0-9a-z]{26}", job["id"])
    assert all(re.fullmatch(r"task_[0-9a-z]{26}", t["id"]) for t in job["tasks"])
    assert job["created_at"] == job["updated_at"] == job["tasks"][0]["created_at"]
    assert api.orchestrator.calls == [("start_job", job["id"])]


@pytest.mark.parametrize("body", [
    {"input": "https://example.com/interview.mp4", "kind": "audio", "options": {"format": "mp3", "quality": "high"}},
    {"input": "https://example.com/video.mp4", "kind": "image", "options": {"start": 5, "format": "webp", "width": 640}},
    {"input": "https://example.com/video.mp4", "kind": "adaptive_video", "options": {"format": "hls", "quality": "high"}},
    {"input": "https://example.com/upload.mov", "kind": "video", "output": "s3://my-bucket/processed/video.mp4"},
], ids=["audio", "image", "adaptive", "output-to-s3"])
def test_every_seed_002_example_is_accepted_and_echoed(api: Api, body: dict) -> None:
    if "output" in body:  # "Requires a connection": the project's first one is its default
        made = api.call("POST", "/connections", {"kind": "s3", "name": "mine", "access_key_id": "AKIAEXAMPLE",
                                                 "secret_access_key": "secret-example-1234"})
        assert made.status == 201, made.text
    job = create(api, body)
    assert (job["kind"], job["input"], job["options"]) == (body["kind"], body["input"], body.get("options", {}))
    assert [t["kind"] for t in job["tasks"]] == ["probe", "import", body["kind"], "export"]
    assert job["output"] is None  # the destination is where the result goes, not a result yet


def test_create_task_answers_201_with_exactly_the_seed_001_shape(api: Api) -> None:
    reply = api.call("POST", "/tasks", {"kind": "probe", "input": {"url": "https://example.com/video.mp4"}})
    assert reply.status == 201, reply.text
    assert normalised(reply.body) == normalised(SEED_001_RESPONSE)
    assert api.orchestrator.calls == [("start_task", reply.body["id"])]
    assert api.call("GET", f"/tasks/{reply.body['id']}").body == reply.body


def test_a_probe_output_posted_as_input_keeps_the_file_object(api: Api) -> None:
    file = {"object": "file", "url": "https://example.com/video.mp4", "kind": "video", "format": "mp4",
            "width": 1920, "height": 1080, "duration": 62.5, "codecs": {"video": "h264", "audio": "aac"}}
    reply = api.call("POST", "/tasks", {"kind": "video", "input": file, "options": {"width": 720, "quality": "medium"}})
    assert reply.status == 201, reply.text
    assert reply.body["input"] == file and reply.body["options"] == {"width": 720, "quality": "medium"}


def test_any_content_type_and_base64_bodies_are_read(api: Api) -> None:
    # `curl -d` without -H sends application/x-www-form-urlencoded; API Gateway may base64 a body.
    form = api.call("POST", "/jobs", SEED_002_BODY, headers={"Content-Type": "application/x-www-form-urlencoded"})
    b64 = api.call("POST", "/jobs", SEED_002_BODY, b64=True)
    assert (form.status, b64.status) == (201, 201)


# --- errors: every kind from a real request -------------------------------------------------------

URL = "https://example.com/upload.mov"
BAD_BODIES = [
    ("input_required", {"kind": "video"}, None),
    ("input_required", {"input": "", "kind": "video"}, None),
    ("invalid_input", {"input": "ftp://example.com/a.mp4", "kind": "video"}, "input"),
    ("invalid_input", {"input": "/etc/passwd", "kind": "video"}, "input"),
    ("invalid_format", {"input": URL, "kind": "video", "options": {"format": "avi"}}, "options.format"),
    ("invalid_format", {"input": URL, "kind": "audio", "options": {"format": "mp4"}}, "options.format"),
    ("invalid_codec", {"input": URL, "kind": "video", "options": {"format": "webm", "codec": "h264"}}, "options.codec"),
    ("kind_required", {"input": URL}, None),
    ("invalid_kind", {"input": URL, "kind": "hologram"}, "kind"),
    ("invalid_option", {"input": URL, "kind": "video", "options": {"width": -5}}, "options.width"),
    ("invalid_option", {"input": URL, "kind": "video", "options": {"fps": 500}}, "options.fps"),
    ("invalid_option", {"input": URL, "kind": "video", "options": {"wdth": 5}}, "options.wdth"),
    ("invalid_option", {"input": URL, "kind": "video", "options": {"background": "#fff", "fit": "cover"}},
     "options.background"),
    ("end_required", {"input": URL, "kind": "animation", "options": {"format": "gif"}}, "options.end"),
    ("invalid_output", {"input": URL, "kind": "video", "output": "ftp://bucket/key.mp4"}, "output"),
    ("invalid_output", {"input": URL, "kind": "video", "output": "s3://bucket/{nope}.mp4"}, "output"),
    ("invalid_output", {"input": URL, "kind": "video", "output": "s3://bucket/folder/"}, "output"),
    ("request_invalid", [1, 2, 3], None),
]


@pytest.mark.parametrize(("kind", "body", "field"), BAD_BODIES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(BAD_BODIES)])
def test_bad_job_bodies_are_400_with_the_ittybit_kind(api: Api, kind: str, body: Any, field: str | None) -> None:
    reply = api.call("POST", "/jobs", body)
    assert reply.status == 400, reply.text
    assert reply.body["kind"] == kind and reply.body["message"]
    if field:
        assert reply.body["field"] == field
    assert api.orchestrator.calls == []


@pytest.mark.parametrize("raw", ["{not json", "", "   ", '{"input": NaN}', "\xff\xfe"])
def test_a_body_that_is_not_json_is_request_invalid(api: Api, raw: str) -> None:
    reply = api.call("POST", "/jobs", raw=raw.encode("latin-1"), b64=True)
    assert reply.status == 400
    assert reply.body == {"kind": "request_invalid", "message": reply.body["message"], "field": "body"}


def test_a_body_over_the_limit_is_413(api: Api) -> None:
    big = {**SEED_002_BODY, "metadata": {"blob": "x" * (70 * 1024)}}
    reply = api.call("POST", "/jobs", big)
    assert reply.status == 413 and reply.body["kind"] == "payload_too_large"


@pytest.mark.parametrize(("headers", "key", "kind"), [
    ({}, None, "token_missing"),
    ({"Authorization": "Bearer"}, None, "token_missing"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, None, "token_invalid"),
    ({}, "mj_live_not_a_key", "token_invalid"),
])
@pytest.mark.parametrize(("method", "path"), [("POST", "/jobs"), ("GET", "/jobs"), ("GET", "/jobs/job_x"),
                                              ("POST", "/tasks"), ("GET", "/tasks/task_x"),
                                              ("POST", "/jobs/job_x/cancel")])
def test_every_endpoint_needs_a_valid_key(api: Api, method: str, path: str, headers: dict, key: str | None,
                                          kind: str) -> None:
    reply = api.call(method, path, SEED_002_BODY if method == "POST" else None, key=key, headers=headers)
    assert reply.status == 401
    assert reply.body["kind"] == kind and reply.body["message"]
    assert api.orchestrator.calls == []


def test_unknown_ids_are_job_not_found_and_task_not_found(api: Api) -> None:
    job = api.call("GET", "/jobs/job_01aaaaaaaaaaaaaaaaaaaaaaaa")
    task = api.call("GET", "/tasks/task_01aaaaaaaaaaaaaaaaaaaaaaaa")
    cancel = api.call("POST", "/jobs/job_01aaaaaaaaaaaaaaaaaaaaaaaa/cancel")
    assert (job.status, job.body["kind"]) == (404, "job_not_found")
    assert (task.status, task.body["kind"]) == (404, "task_not_found")
    assert (cancel.status, cancel.body["kind"]) == (404, "job_not_found")


def test_unknown_routes_are_404_and_wrong_methods_405_with_allow(api: Api) -> None:
    missing = api.call("GET", "/videos")
    assert (missing.status, missing.body["kind"]) == (404, "not_found") and missing.body["message"]
    wrong = api.call("DELETE", "/jobs/job_x")
    assert (wrong.status, wrong.body["kind"], wrong.headers["Allow"]) == (405, "method_not_allowed", "GET")
    wrong = api.call("PUT", "/jobs")
    assert (wrong.status, wrong.headers["Allow"]) == (405, "GET, POST")
    wrong = api.call("GET", "/jobs/job_x/cancel")
    assert (wrong.status, wrong.headers["Allow"]) == (405, "POST")


def test_unexpected_failure_is_500_internal_error_without_internals(tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    api = make_api(tmp_path)

    class Broken(RecordingOrchestrator):
        def start_job(self, job: Job) -> None:
            raise RuntimeError("state machine is down: arn:aws:states:secret")

    from mediajet.api.app import create_app

    api.app = create_app(ApiDeps(jobs=api.store, orchestrator=Broken(), settings=api.settings, sign_url=sign))
    with caplog.at_level("ERROR"):
        reply = api.call("POST", "/jobs", SEED_002_BODY)
    assert reply.status == 500
    assert reply.body["kind"] == "internal_error" and reply.body["request_id"] == "req-test-1"
    assert "secret" not in reply.text and "Traceback" not in reply.text
    assert "req-test-1" in caplog.text and "state machine is down" in caplog.text
    # The job it stored is not left queued forever: it failed, saying so.
    listed = api.call("GET", "/jobs").body
    assert [(j["status"], j["error"]["kind"]) for j in listed] == [("failed", "internal_error")]


# --- reading, listing, pagination ----------------------------------------------------------------


def test_get_job_signs_every_output_url_at_read_time(api: Api) -> None:
    job = create(api)

    def done(current: Job) -> Job:
        current.status, current.output = "succeeded", "file:///data/files/jobs/x/upload.mp4"
        current.tasks[3].output = {"object": "file", "url": "file:///data/files/jobs/x/upload.mp4", "format": "mp4"}
        current.tasks[0].output = {"object": "file", "url": URL, "format": "mov"}
        work = {"object": "file", "url": "file:///data/work/jobs/x/input", "format": "mov", "width": 320}
        current.tasks[1].output = current.tasks[2].input = work
        return current

    transition(api.store, job["id"], done)
    reply = api.call("GET", f"/jobs/{job['id']}")
    got = reply.body
    assert got["output"] == SIGNED + "data/files/jobs/x/upload.mp4"
    assert got["tasks"][3]["output"]["url"] == SIGNED + "data/files/jobs/x/upload.mp4"
    assert got["tasks"][0]["output"]["url"] == URL  # not ours: unchanged
    # Working storage is a path on the server's disk: neither fetchable nor anyone's business.
    assert got["tasks"][1]["output"] == {"object": "file", "url": None, "format": "mov", "width": 320}
    assert got["tasks"][2]["input"]["url"] is None and "/data/work" not in reply.text
    listed = api.call("GET", "/jobs").body
    assert listed[0]["output"] == got["output"]
    task = api.call("GET", f"/tasks/{got['tasks'][3]['id']}").body
    assert task["output"]["url"] == got["output"]


def _page(api: Api, **query: Any) -> tuple[list[str], dict[str, str]]:
    reply = api.call("GET", "/jobs", query=query)
    assert reply.status == 200, reply.text
    assert isinstance(reply.body, list)
    return [j["id"] for j in reply.body], reply.headers


def _follow(link: str) -> dict[str, str]:
    match = re.fullmatch(r'<([^>]+)>; rel="(next|prev)"', link)
    assert match, link
    url = urlsplit(match.group(1))
    assert (url.scheme, url.netloc, url.path) == ("http", "api.test", "/jobs")
    return dict(parse_qsl(url.query))


def test_list_is_a_bare_array_newest_first_with_pagination_headers(api: Api) -> None:
    ids = [create(api)["id"] for _ in range(5)]
    first, headers = _page(api, limit=2)
    assert first == ids[::-1][:2]
    assert (headers["Has-More"], headers["Limit"]) == ("true", "2")
    second, headers = _page(api, **_follow(headers["Link"]))
    assert second == ids[::-1][2:4]
    last, headers = _page(api, **_follow(headers["Link"]))
    assert last == ids[:1]
    assert headers["Has-More"] == "false" and "Link" not in headers
    everything, headers = _page(api)
    assert everything == ids[::-1] and headers["Limit"] == "20"


def test_list_in_ascending_order_and_backwards_with_before(api: Api) -> None:
    ids = [create(api)["id"] for _ in range(5)]
    asc, headers = _page(api, order="asc", limit=3)
    assert asc == ids[:3]
    rest, _ = _page(api, **_follow(headers["Link"]))
    assert rest == ids[3:]
    back, headers = _page(api, before=ids[1], limit=2)  # newest first: the two newer than ids[1]
    assert back == [ids[3], ids[2]]
    assert headers["Has-More"] == "true" and 'rel="prev"' in headers["Link"]
    newest, headers = _page(api, **_follow(headers["Link"]))
    assert newest == [ids[4]] and headers["Has-More"] == "false"


def test_list_filters_by_kind_status_and_input(api: Api) -> None:
    video = create(api)["id"]
    audio = create(api, {"input": "https://example.com/a.mp3", "kind": "audio"})["id"]
    finish(api, audio)
    assert _page(api, kind="audio")[0] == [audio]
    assert _page(api, status="queued")[0] == [video]
    assert _page(api, input="https://example.com/a.mp3")[0] == [audio]
    assert _page(api, kind="image")[0] == []


@pytest.mark.parametrize(("query", "kind", "field"), [
    ({"limit": 0}, "request_invalid", "limit"),
    ({"limit": 101}, "request_invalid", "limit"),
    ({"limit": "ten"}, "request_invalid", "limit"),
    ({"order": "newest"}, "request_invalid", "order"),
    ({"kind": "hologram"}, "invalid_kind", "kind"),
    ({"status": "done"}, "request_invalid", "status"),
    ({"after": "'; DROP TABLE jobs"}, "request_invalid", "after"),
    ({"before": "task_01"}, "request_invalid", "before"),
])
def test_bad_list_parameters_are_400_naming_the_field(api: Api, query: dict, kind: str, field: str) -> None:
    reply = api.call("GET", "/jobs", query=query)
    assert reply.status == 400
    assert (reply.body["kind"], reply.body["field"]) == (kind, field) and reply.body["message"]


# --- project scoping ------------------------------------------------------------------------------


def test_one_project_cannot_see_or_touch_another_projects_jobs_and_tasks(api: Api) -> None:
    job = create(api, key=KEY_A)
    task = api.call("POST", "/tasks", {"kind": "probe", "input": {"url": URL}}, key=KEY_A).body
    assert api.call("GET", f"/jobs/{job['id']}", key=KEY_B).body["kind"] == "job_not_found"
    assert api.call("POST", f"/jobs/{job['id']}/cancel", key=KEY_B).status == 404
    assert api.call("GET", f"/tasks/{task['id']}", key=KEY_B).body["kind"] == "task_not_found"
    assert api.call("GET", f"/tasks/{job['tasks'][0]['id']}", key=KEY_B).status == 404
    assert api.call("GET", "/jobs", key=KEY_B).body == []
    assert api.call("GET", f"/jobs/{job['id']}", key=KEY_A).body["status"] == "queued"  # untouched


# --- idempotency ----------------------------------------------------------------------------------


def test_idempotency_key_replays_the_original_job_with_200(api: Api) -> None:
    first = api.call("POST", "/jobs", SEED_002_BODY, headers={"Idempotency-Key": "order-42"})
    reordered = dict(reversed(list(SEED_002_BODY.items())))  # same body, other key order
    again = api.call("POST", "/jobs", reordered, headers={"Idempotency-Key": "order-42"})
    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
    assert len(api.call("GET", "/jobs").body) == 1
    assert api.orchestrator.calls == [("start_job", first.body["id"])]
    other_project = api.call("POST", "/jobs", SEED_002_BODY, key=KEY_B, headers={"Idempotency-Key": "order-42"})
    assert other_project.status == 201 and other_project.body["id"] != first.body["id"]


def test_idempotency_key_with_another_body_is_409(api: Api) -> None:
    api.call("POST", "/jobs", SEED_002_BODY, headers={"Idempotency-Key": "order-43"})
    reply = api.call("POST", "/jobs", {**SEED_002_BODY, "kind": "audio", "options": {}},
                     headers={"Idempotency-Key": "order-43"})
    assert reply.status == 409 and reply.body["kind"] == "idempotency_key_reused"
    assert len(api.call("GET", "/jobs").body) == 1


def test_concurrent_requests_with_one_key_create_one_job(api: Api) -> None:
    deps = ApiDeps(jobs=api.store, orchestrator=api.orchestrator, settings=api.settings, sign_url=sign)
    barrier = threading.Barrier(8)
    results: list[tuple[str, bool]] = []

    def post() -> None:
        barrier.wait()
        job, created = job_logic.create_job(deps, "prj_a", SEED_002_BODY, "same-key")
        results.append((job.id, created))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({job_id for job_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(api.call("GET", "/jobs").body) == 1
    assert len(api.orchestrator.calls) == 1


# --- cancel, tasks ---------------------------------------------------------------------------------


def test_cancel_stops_a_queued_job_and_its_tasks(api: Api) -> None:
    job = create(api)
    reply = api.call("POST", f"/jobs/{job['id']}/cancel")
    assert reply.status == 200
    assert reply.body["status"] == "cancelled" and reply.body["finished_at"]
    assert [t["status"] for t in reply.body["tasks"]] == ["cancelled"] * 4
    assert api.orchestrator.calls[-1] == ("cancel_job", job["id"])
    again = api.call("POST", f"/jobs/{job['id']}/cancel")
    assert again.status == 200 and again.body == api.call("GET", f"/jobs/{job['id']}").body


def test_cancel_keeps_finished_tasks_of_a_processing_job(api: Api) -> None:
    job = create(api)

    def running(current: Job) -> Job:
        current.status = "processing"
        current.tasks[0].status, current.tasks[1].status = "succeeded", "processing"
        return current

    transition(api.store, job["id"], running)
    reply = api.call("POST", f"/jobs/{job['id']}/cancel")
    assert [t["status"] for t in reply.body["tasks"]] == ["succeeded", "cancelled", "cancelled", "cancelled"]


@pytest.mark.parametrize("status", ["succeeded", "failed"])
def test_cancelling_a_finished_job_is_409(api: Api, status: str) -> None:
    job = create(api)
    finish(api, job["id"], status)
    reply = api.call("POST", f"/jobs/{job['id']}/cancel")
    assert reply.status == 409 and reply.body["kind"] == "job_already_finished"
    assert status in reply.body["message"]
    assert api.call("GET", f"/jobs/{job['id']}").body["status"] == status


@pytest.mark.parametrize(("body", "kind", "field"), [
    ({"input": {"url": URL}}, "kind_required", None),
    ({"kind": "transcode", "input": {"url": URL}}, "invalid_kind", "kind"),
    ({"kind": "probe"}, "input_required", None),
    ({"kind": "probe", "input": {}}, "input_required", None),
    ({"kind": "probe", "input": "https://example.com/a.mp4"}, "invalid_input", None),
    ({"kind": "probe", "input": {"url": "gopher://example.com/a"}}, "invalid_input", "input"),
    ({"kind": "video", "input": {"url": URL}, "options": {"format": "avi"}}, "invalid_format", "options.format"),
    ({"kind": "animation", "input": {"url": URL}}, "end_required", "options.end"),
    ({"kind": "export", "input": {"object": "file", "url": URL}}, "invalid_option", "options.url"),
    ({"kind": "export", "input": {"object": "file", "url": URL}, "options": {"url": "/tmp/x"}}, "invalid_option",
     "options.url"),
])
def test_bad_task_bodies_are_400_with_the_ittybit_kind(api: Api, body: dict, kind: str, field: str | None) -> None:
    reply = api.call("POST", "/tasks", body)
    assert reply.status == 400, reply.text
    assert reply.body["kind"] == kind
    if field:
        assert reply.body["field"] == field
    assert api.orchestrator.calls == []


def test_a_jobs_task_can_be_read_by_id(api: Api) -> None:
    job = create(api)
    task = api.call("GET", f"/tasks/{job['tasks'][2]['id']}")
    assert task.status == 200 and task.body == job["tasks"][2]


# --- health, OpenAPI, Swagger UI ----------------------------------------------------------------


def test_health_needs_no_key(api: Api) -> None:
    reply = api.call("GET", "/health", key=None)
    assert reply.status == 200 and reply.body["status"] == "ok"


def test_openapi_document_is_valid_and_describes_the_api(api: Api) -> None:
    reply = api.call("GET", "/openapi.json", key=None)
    assert reply.status == 200
    doc = reply.body
    OpenAPI.model_validate(doc)  # the OpenAPI 3.1 object model: every part well-formed
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"] == "MediaJet Jobs API" and doc["info"]["version"]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"]}
    assert doc["security"] == [{"bearerAuth": []}]
    operations = {(path, method): op for path, item in doc["paths"].items() for method, op in item.items()}
    assert set(operations) == {("/jobs", "post"), ("/jobs", "get"), ("/jobs/{job_id}", "get"),
                               ("/jobs/{job_id}/cancel", "post"), ("/tasks", "post"), ("/tasks", "get"), ("/tasks/{task_id}", "get"),
                               ("/steps", "post"), ("/steps/{step_id}", "get"), ("/health", "get"),
                               # the media library (version 2025-08-20: api/routes_library.py)
                               ("/files", "post"), ("/files", "get"), ("/files/{file_id}", "get"),
                               ("/files/{file_id}", "patch"), ("/files/{file_id}", "delete"), ("/media", "post"),
                               ("/media", "get"), ("/media/{media_id}", "get"), ("/media/{media_id}", "patch"),
                               ("/media/{media_id}", "delete"), ("/automations", "post"), ("/automations", "get"),
                               ("/automations/{automation_id}", "get"), ("/automations/{automation_id}", "patch"),
                               ("/automations/{automation_id}", "delete"), ("/signatures", "post"),
                               # storage connections (api/routes_connections.py)
                               ("/connections", "post"), ("/connections", "get"),
                               ("/connections/{connection_id}", "get"), ("/connections/{connection_id}", "patch"),
                               ("/connections/{connection_id}", "delete"),
                               # webhooks and events (api/routes_webhooks.py)
                               ("/webhooks/endpoints", "post"), ("/webhooks/endpoints", "get"),
                               ("/webhooks/endpoints/{endpoint_id}", "get"),
                               ("/webhooks/endpoints/{endpoint_id}", "patch"),
                               ("/webhooks/endpoints/{endpoint_id}", "delete"), ("/webhooks/secret", "get"),
                               ("/webhooks/secret/rotate", "post"), ("/events", "get"), ("/events/{event_id}", "get")}
    assert len({op["operationId"] for op in operations.values()}) == len(operations)
    assert operations["/health", "get"]["security"] == []
    for key in [("/jobs/{job_id}/cancel", "post"), ("/tasks/{task_id}", "get"), ("/health", "get")]:
        assert operations[key]["x-mediajet-extension"] is True and "MediaJet extension" in operations[key]["description"]
    assert "MediaJet extension" in doc["components"]["schemas"]["JobCreateBody"]["properties"]["webhook_url"]["description"]
    create_body = operations["/jobs", "post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create_body == {"$ref": "#/components/schemas/JobCreateBody"}
    assert set(doc["components"]["schemas"]["JobCreateBody"]["required"]) == {"input", "kind"}
    assert "201" in operations["/jobs", "post"]["responses"] and "422" not in operations["/jobs", "post"]["responses"]
    assert {p["name"] for p in operations["/jobs", "get"]["parameters"]} >= {"kind", "status", "input", "limit",
                                                                             "after", "before", "order"}
    job_schema = doc["components"]["schemas"]["Job"]
    assert "project_id" not in job_schema["properties"] and "tasks" in job_schema["properties"]
    # every $ref points at a schema that exists
    refs = set(re.findall(r'"\$ref":\s*"#/components/schemas/([^"]+)"', reply.text))
    assert refs and refs <= set(doc["components"]["schemas"])


def test_swagger_ui_is_served_with_bundled_assets_and_no_cdn(api: Api) -> None:
    reply = api.call("GET", "/docs", key=None)
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html")
    html = reply.text
    assert "SwaggerUIBundle" in html and "MediaJet Jobs API" in html
    assert not re.search(r"""<(?:script|link)[^>]+(?:src|href)=["']?https?://""", html)
    assert "cdn" not in re.sub(r"<script>.*?</script>|<style>.*?</style>", "", html, flags=re.DOTALL).lower()


def test_the_docs_page_and_its_json_view_show_the_served_document(api: Api) -> None:
    """/docs inlines the document into a <script> (with "</" escaped) and /docs?format=json serves it:
    both must be exactly what /openapi.json serves, not another build of it nor a broken copy."""
    served = api.call("GET", "/openapi.json", key=None).body
    as_json = api.call("GET", "/docs", query={"format": "json"}, key=None)
    assert as_json.status == 200 and as_json.headers["Content-Type"].startswith("application/json")
    assert json.loads(as_json.text) == served
    html = api.call("GET", "/docs", key=None).text
    start = html.index("spec: ") + len("spec: ")
    inlined, _ = json.JSONDecoder().raw_decode(html, start)
    assert inlined == served
    assert "</" not in html[start:html.index("</script>", start)], "the inlined JSON cannot end its <script>"


def test_a_page_parameter_on_the_jobs_list_is_refused_not_ignored(api: Api) -> None:
    # A page-based paginator (the dated API versions page by number) sent to the cursor-based Jobs API
    # would otherwise get page 1 back for every page and loop forever.
    reply = api.call("GET", "/jobs", query={"page": 2})
    assert reply.status == 400 and reply.body["field"] == "page" and "Link" in reply.body["message"]


def test_idempotency_key_on_post_tasks_creates_one_task_and_replays_it_with_200(api: Api) -> None:
    body = {"kind": "probe", "input": {"url": "https://example.com/video.mp4"}}
    first = api.call("POST", "/tasks", body, headers={"Idempotency-Key": "task-42"})
    again = api.call("POST", "/tasks", dict(reversed(list(body.items()))), headers={"Idempotency-Key": "task-42"})
    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
    assert api.orchestrator.calls == [("start_task", first.body["id"])]

    reused = api.call("POST", "/tasks", {**body, "kind": "import"}, headers={"Idempotency-Key": "task-42"})
    assert reused.status == 409 and reused.body["kind"] == "idempotency_key_reused"
    api.call("POST", "/jobs", SEED_002_BODY, headers={"Idempotency-Key": "job-42"})
    held = api.call("POST", "/tasks", body, headers={"Idempotency-Key": "job-42"})  # a job's key: no task's
    assert held.status == 409 and held.body["kind"] == "idempotency_key_reused"
    bad = api.call("POST", "/tasks", raw="{not json", headers={"Idempotency-Key": "x" * 256})
    assert bad.status == 400 and bad.body["field"] == "Idempotency-Key"  # the key is read before the body
    assert len(api.orchestrator.calls) == 2  # the task and the job


def test_a_task_the_pipeline_could_not_start_is_failed_not_left_waiting(tmp_path: Path) -> None:
    api = make_api(tmp_path)

    class Broken(RecordingOrchestrator):
        def start_task(self, task: Task) -> None:
            raise RuntimeError("state machine is down")

    from mediajet.api.app import create_app

    api.app = create_app(ApiDeps(jobs=api.store, orchestrator=Broken(), settings=api.settings, sign_url=sign))
    body = {"kind": "probe", "input": {"url": "https://example.com/video.mp4"}}
    reply = api.call("POST", "/tasks", body, headers={"Idempotency-Key": "retry-me"})
    assert reply.status == 500
    (stored,) = api.store.list_tasks("prj_a", TaskQuery()).items
    assert stored.status == "failed" and stored.error is not None and "send it again" in stored.error.message
