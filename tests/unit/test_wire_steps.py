"""Generation B, the steps variant (seed 000), in-process: `POST /steps` and `GET /steps/{id}` over a real
SQLite store and a recording orchestrator. A step is the engine's standalone task under B's names: these
tests check the names both ways, the input each kind takes, ids, 404s, 401s and limits, and (a property)
that whatever task the engine holds, its B presentation has B's documented fields and types."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediajet.api.wire.steps import FIELD_ORDER, STEP_KINDS, TO_ENGINE, StepNotFound, step_dict
from mediajet.ids import now_ms
from mediajet.models.connection import Connection
from mediajet.models.job import TASK_KINDS, ErrorInfo, Task
from tests.unit.api_support import KEY_B, SIGNED, Api, make_api, sign

URL = "https://example.com/video.mp4"
# Seed 000's 201 for {"kind": "probe", "input": {"url": "https://example.com/video.mp4"}}, field by field.
SEED_000_RESPONSE = {
    "id": "step_abc123",
    "object": "step",
    "kind": "probe",
    "input": {"object": "external_file", "url": "https://example.com/video.mp4"},
    "output": None,
    "options": {},
    "status": "waiting",
    "progress": None,
    "error": None,
    "created_at": 1711900000000,
    "started_at": None,
    "finished_at": None,
    "updated_at": 1711900000000,
}
# Seed 000's Source object, as a probe step's output would be posted to the next step.
SOURCE = {"object": "source", "url": URL, "kind": "video", "format": "mp4", "width": 1920, "height": 1080,
          "duration": 62.5, "codecs": {"video": "h264", "audio": "aac"}}
UPLOAD_OPTIONS = {"url": "s3://bucket/output.mp4", "connection_id": "conn_abc123"}
ENCODE_KINDS = ("video", "audio", "image", "adaptive_video")
STATUSES = ("waiting", "processing", "succeeded", "failed", "cancelled")


@pytest.fixture
def api(tmp_path: Path) -> Api:
    made = make_api(tmp_path)
    # the connection seed 000's upload names (conn_abc123: the guides' spelling of con_abc123), project A's
    made.store.create_record(Connection(id="con_abc123", project_id="prj_a", name="seed", access_key_id="AKIA",
                                        secret="v1:unused", is_default=False))
    return made


def post(api: Api, body: Any, **kwargs: Any):
    return api.call("POST", "/steps", body, **kwargs)


def create(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    reply = post(api, body)
    assert reply.status == 201, reply.text
    return reply.body


def engine_task(api: Api, step_id: str) -> Task:
    return api.store.get_task("task_" + step_id.removeprefix("step_"))


def finish(api: Api, step_id: str, **fields: Any) -> None:
    """What the pipeline would do: the engine task reaches its end with these fields."""
    task = engine_task(api, step_id)
    now = now_ms()
    api.store.save_task(task.model_copy(update={"started_at": now, "finished_at": now, "updated_at": now, **fields}))


# --- the seed's 201 ---------------------------------------------------------------------------------


def test_create_step_answers_201_with_the_seed_000_body_field_by_field(api: Api) -> None:
    reply = post(api, {"kind": "probe", "input": {"url": URL}})
    assert reply.status == 201, reply.text
    body = reply.body
    assert list(body) == list(SEED_000_RESPONSE)  # the same fields, none more, in the page's order
    assert re.fullmatch(r"step_[0-9a-z]{26}", body["id"])
    for name in ("object", "kind", "input", "output", "options", "status", "progress", "error", "started_at",
                 "finished_at"):
        assert body[name] == SEED_000_RESPONSE[name], name
    assert isinstance(body["created_at"], int) and body["created_at"] == body["updated_at"]
    assert abs(body["created_at"] - now_ms()) < 60_000  # milliseconds, not seconds
    assert reply.headers["Content-Type"] == "application/json"
    assert api.orchestrator.calls == [("start_task", "task_" + body["id"].removeprefix("step_"))]


def test_get_step_reads_back_what_create_answered(api: Api) -> None:
    created = create(api, {"kind": "probe", "input": {"url": URL}})
    reply = api.call("GET", f"/steps/{created['id']}")
    assert reply.status == 200 and reply.body == created


def test_a_finished_probe_reads_as_succeeded_with_a_source_output(api: Api) -> None:
    step = create(api, {"kind": "probe", "input": {"url": URL}})
    probed = {**SOURCE, "object": "file", "filesize": 1234}
    finish(api, step["id"], status="succeeded", output=probed)

    got = api.call("GET", f"/steps/{step['id']}").body

    assert got["status"] == "succeeded" and got["output"] == {**SOURCE, "filesize": 1234}
    assert got["finished_at"] >= got["started_at"] >= got["created_at"]


def test_the_probe_output_posted_as_the_next_steps_input_is_accepted(api: Api) -> None:
    """Seed 000's composition: GET the probe step, post its output as the encode step's input."""
    probe = create(api, {"kind": "probe", "input": {"url": URL}})
    finish(api, probe["id"], status="succeeded", output={**SOURCE, "object": "file"})
    output = api.call("GET", f"/steps/{probe['id']}").body["output"]

    encode = create(api, {"kind": "video", "input": output, "options": {"width": 720}})

    assert (encode["kind"], encode["input"], encode["options"]) == ("video", SOURCE, {"width": 720})
    assert engine_task(api, encode["id"]).input == {**SOURCE, "object": "file"}  # the engine's File


def test_output_links_are_signed_and_server_paths_hidden(api: Api) -> None:
    step = create(api, {"kind": "video", "input": SOURCE})
    finish(api, step["id"], status="succeeded",
           input={**SOURCE, "object": "file", "url": "file:///data/work/tasks/x/input"},
           output={"object": "file", "url": "file:///data/files/tasks/x/out.mp4", "kind": "video", "format": "mp4"})
    got = api.call("GET", f"/steps/{step['id']}")
    assert got.body["output"]["url"] == SIGNED + "data/files/tasks/x/out.mp4"
    assert got.body["input"]["url"] is None and "/data/work" not in got.text


def test_a_failed_step_has_an_error_of_kind_and_message(api: Api) -> None:
    step = create(api, {"kind": "ingest", "input": {"url": URL}})
    finish(api, step["id"], status="failed",
           error=ErrorInfo(kind="input_unreachable", message="503 from origin", task="import"))
    got = api.call("GET", f"/steps/{step['id']}").body
    assert got["status"] == "failed"
    assert got["error"] == {"kind": "input_unreachable", "message": "503 from origin"}


# --- every kind's input rule ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["probe", "ingest"])
def test_url_kinds_take_a_url_and_answer_it_as_an_external_file(api: Api, kind: str) -> None:
    step = create(api, {"kind": kind, "input": {"url": URL}})
    assert step["kind"] == kind and step["input"] == {"object": "external_file", "url": URL}


@pytest.mark.parametrize("kind", ["probe", "ingest"])
def test_url_kinds_also_take_a_source(api: Api, kind: str) -> None:
    assert create(api, {"kind": kind, "input": SOURCE})["input"] == SOURCE


@pytest.mark.parametrize("kind", ENCODE_KINDS)
def test_encode_kinds_take_the_seed_source_object(api: Api, kind: str) -> None:
    step = create(api, {"kind": kind, "input": SOURCE})
    assert (step["kind"], step["input"], step["options"], step["status"]) == (kind, SOURCE, {}, "waiting")
    assert engine_task(api, step["id"]).kind == kind


def test_the_seed_video_example_with_options(api: Api) -> None:
    step = create(api, {"kind": "video", "input": SOURCE, "options": {"width": 720, "quality": "medium"}})
    assert step["options"] == {"width": 720, "quality": "medium"}


@pytest.mark.parametrize("kind", ENCODE_KINDS)
def test_the_jobs_api_name_of_the_object_is_accepted_and_answered_as_a_source(api: Api, kind: str) -> None:
    assert create(api, {"kind": kind, "input": {**SOURCE, "object": "file"}})["input"] == SOURCE


@pytest.mark.parametrize("kind", [*ENCODE_KINDS, "upload"])
def test_a_null_input_says_to_wait_for_the_probe_step(api: Api, kind: str) -> None:
    # The seed's example posts `probeResult.output` straight from the probe's 201, where it is null.
    reply = post(api, {"kind": kind, "input": None, "options": UPLOAD_OPTIONS if kind == "upload" else {}})
    assert reply.status == 400
    assert (reply.body["kind"], reply.body["field"]) == ("input_required", "input")
    assert "probe" in reply.body["message"] and "GET /steps/{id}" in reply.body["message"]
    assert api.orchestrator.calls == []


@pytest.mark.parametrize("kind", [*ENCODE_KINDS, "upload"])
@pytest.mark.parametrize(("source", "field"), [
    ({"url": URL}, "input.object"),
    ({"object": "external_file", "url": URL}, "input.object"),
    ({"object": "media", "url": URL}, "input.object"),
    ("https://example.com/video.mp4", "input"),
    ([SOURCE], "input"),
])
def test_anything_but_a_source_is_invalid_input_for_source_kinds(api: Api, kind: str, source: Any,
                                                                 field: str) -> None:
    reply = post(api, {"kind": kind, "input": source, "options": UPLOAD_OPTIONS if kind == "upload" else {}})
    assert reply.status == 400, reply.text
    assert (reply.body["kind"], reply.body["field"]) == ("invalid_input", field)
    assert "Source" in reply.body["message"]


def test_upload_takes_a_source_an_s3_url_and_a_connection_by_its_id(api: Api) -> None:
    step = create(api, {"kind": "upload", "input": {"object": "source", "url": URL, "kind": "video",
                                                    "format": "mp4"}, "options": UPLOAD_OPTIONS})
    checked = {**UPLOAD_OPTIONS, "connection_id": "con_abc123"}  # the connection the export will use
    assert (step["kind"], step["options"]) == ("upload", checked)
    assert step["input"] == {"object": "source", "url": URL, "kind": "video", "format": "mp4"}
    task = engine_task(api, step["id"])
    assert (task.kind, task.options, task.input["object"]) == ("export", checked, "file")


def test_upload_without_a_connection_needs_one(api: Api) -> None:
    reply = post(api, {"kind": "upload", "input": SOURCE, "options": {"url": "s3://bucket/out.mp4"}})
    assert reply.status == 400 and (reply.body["kind"], reply.body["field"]) == ("connection_required", "options.url")
    reply = post(api, {"kind": "upload", "input": SOURCE, "options": {"url": "s3://bucket/out.mp4",
                                                                      "connection_id": "conn_nope"}})
    assert reply.status == 400
    assert (reply.body["kind"], reply.body["field"]) == ("connection_not_found", "options.connection_id")
    # the project's default serves it
    api.store.save_record(api.store.get_record(Connection, "con_abc123", "prj_a").touched(is_default=True))
    step = create(api, {"kind": "upload", "input": SOURCE, "options": {"url": "s3://bucket/out.mp4"}})
    assert step["options"] == {"url": "s3://bucket/out.mp4", "connection_id": "con_abc123"}


@pytest.mark.parametrize(("options", "field"), [
    (None, "options.url"),
    ({}, "options.url"),
    ({"connection_id": "conn_abc123"}, "options.url"),
    ({"url": "https://bucket.example/out.mp4"}, "options.url"),
    ({"url": "s3://bucket-only"}, "options.url"),
    ({"url": "s3://bucket/out.mp4", "connection_id": 5}, "options.connection_id"),
    ({"url": "s3://bucket/out.mp4", "connection_id": ""}, "options.connection_id"),
    ("s3://bucket/out.mp4", "options"),
])
def test_bad_upload_options_are_invalid_option(api: Api, options: Any, field: str) -> None:
    body = {"kind": "upload", "input": SOURCE} | ({} if options is None else {"options": options})
    reply = post(api, body)
    assert reply.status == 400, reply.text
    assert (reply.body["kind"], reply.body["field"]) == ("invalid_option", field)
    assert "export" not in reply.body["message"]


@pytest.mark.parametrize(("body", "kind", "field"), [
    ({"input": {"url": URL}}, "kind_required", "kind"),
    ({"kind": "", "input": {"url": URL}}, "kind_required", "kind"),
    ({"kind": "transcode", "input": {"url": URL}}, "invalid_kind", "kind"),
    ({"kind": "animation", "input": SOURCE}, "invalid_kind", "kind"),  # not in the steps variant
    ({"kind": ["probe"], "input": {"url": URL}}, "invalid_kind", "kind"),
    ({"kind": "probe"}, "input_required", "input"),
    ({"kind": "probe", "input": None}, "input_required", "input"),
    ({"kind": "probe", "input": {}}, "input_required", "input"),
    ({"kind": "probe", "input": "https://example.com/a.mp4"}, "invalid_input", "input"),
    ({"kind": "probe", "input": {"url": "gopher://example.com/a"}}, "invalid_input", "input"),
    ({"kind": "ingest", "input": {"url": "file:///etc/passwd"}}, "invalid_input", "input"),
    ({"kind": "video", "input": SOURCE, "options": {"format": "avi"}}, "invalid_format", "options.format"),
    ({"kind": "image", "input": SOURCE, "options": {"width": 99999}}, "invalid_option", "options.width"),
    ({"kind": "audio", "input": SOURCE, "options": {"bogus": 1}}, "invalid_option", "options.bogus"),
])
def test_bad_step_bodies_are_400_with_the_kind_and_field(api: Api, body: dict, kind: str, field: str) -> None:
    reply = post(api, body)
    assert reply.status == 400, reply.text
    assert (reply.body["kind"], reply.body.get("field")) == (kind, field)
    assert set(reply.body) == {"kind", "message", "field"}
    assert api.orchestrator.calls == []


@pytest.mark.parametrize("body", [["probe"], "probe", 42, None])
def test_a_body_that_is_not_an_object_is_request_invalid(api: Api, body: Any) -> None:
    reply = post(api, body) if body is not None else post(api, None, raw="null")
    assert reply.status == 400 and reply.body["kind"] == "request_invalid"


def test_no_body_and_bad_json_are_request_invalid(api: Api) -> None:
    assert post(api, None).body["kind"] == "request_invalid"
    reply = post(api, None, raw='{"kind": "probe",')
    assert reply.status == 400 and (reply.body["kind"], reply.body["field"]) == ("request_invalid", "body")


# --- the renames, both ways ---------------------------------------------------------------------------


@pytest.mark.parametrize(("step_kind", "engine_kind", "body"), [
    ("ingest", "import", {"input": {"url": URL}}),
    ("upload", "export", {"input": SOURCE, "options": UPLOAD_OPTIONS}),
])
def test_ingest_and_upload_are_the_engines_import_and_export(api: Api, step_kind: str, engine_kind: str,
                                                            body: dict) -> None:
    step = create(api, {"kind": step_kind, **body})
    assert step["kind"] == step_kind and engine_task(api, step["id"]).kind == engine_kind
    assert api.call("GET", f"/steps/{step['id']}").body["kind"] == step_kind
    # the same record through the Jobs API speaks the engine's names
    task = api.call("GET", f"/tasks/task_{step['id'].removeprefix('step_')}").body
    assert (task["object"], task["kind"]) == ("task", engine_kind)


@pytest.mark.parametrize(("engine_kind", "step_kind", "body"), [
    ("import", "ingest", {"input": {"url": URL}}),
    ("export", "upload", {"input": {**SOURCE, "object": "file"}, "options": UPLOAD_OPTIONS}),
    ("video", "video", {"input": {**SOURCE, "object": "file"}}),
])
def test_a_jobs_api_task_reads_as_a_step_under_bs_names(api: Api, engine_kind: str, step_kind: str,
                                                         body: dict) -> None:
    task = api.call("POST", "/tasks", {"kind": engine_kind, **body}).body
    step = api.call("GET", f"/steps/step_{task['id'].removeprefix('task_')}")
    assert step.status == 200, step.text
    assert (step.body["object"], step.body["kind"]) == ("step", step_kind)
    assert step.body["input"]["object"] in ("source", "external_file")
    assert '"file"' not in step.text and "task_" not in step.text


@pytest.mark.parametrize(("name", "b_name"), [("import", "ingest"), ("export", "upload")])
def test_the_engines_names_are_not_step_kinds_and_the_400_says_bs_name(api: Api, name: str, b_name: str) -> None:
    reply = post(api, {"kind": name, "input": SOURCE, "options": UPLOAD_OPTIONS})
    assert reply.status == 400 and reply.body["kind"] == "invalid_kind"
    assert f"calls '{name}' {b_name}" in reply.body["message"]
    assert all(kind in reply.body["message"] for kind in STEP_KINDS)


# --- ids and 404s ---------------------------------------------------------------------------------------


def test_a_step_id_is_the_engines_task_id_under_the_step_prefix(api: Api) -> None:
    step = create(api, {"kind": "probe", "input": {"url": URL}})
    suffix = step["id"].removeprefix("step_")
    assert api.store.get_task(f"task_{suffix}").id == f"task_{suffix}"
    assert api.call("GET", f"/tasks/task_{suffix}").body["id"] == f"task_{suffix}"


@pytest.mark.parametrize("step_id", [
    "step_01aaaaaaaaaaaaaaaaaaaaaaaa",  # well formed, unknown
    "step_",
    "step_ABC",
    "stepx_01aaaaaaaaaaaaaaaaaaaaaaaa",
    "job_01aaaaaaaaaaaaaaaaaaaaaaaa",
    "step_" + "a" * 65,
    "%20",
])
def test_unknown_and_malformed_ids_are_step_not_found(api: Api, step_id: str) -> None:
    reply = api.call("GET", f"/steps/{step_id}")
    assert reply.status == 404, reply.text
    assert set(reply.body) == {"kind", "message"} and reply.body["kind"] == "step_not_found"


def test_a_task_id_is_not_a_step_id(api: Api) -> None:
    step = create(api, {"kind": "probe", "input": {"url": URL}})
    task_id = "task_" + step["id"].removeprefix("step_")
    reply = api.call("GET", f"/steps/{task_id}")
    assert reply.status == 404 and reply.body["kind"] == "step_not_found"


def test_a_jobs_task_is_no_step(api: Api) -> None:
    job = api.call("POST", "/jobs", {"input": URL, "kind": "video"}).body
    for task in job["tasks"]:
        reply = api.call("GET", f"/steps/step_{task['id'].removeprefix('task_')}")
        assert reply.status == 404 and reply.body["kind"] == "step_not_found"
        assert "task_" not in reply.body["message"]


def test_an_animation_task_made_through_the_jobs_api_is_no_step(api: Api) -> None:
    task = api.call("POST", "/tasks", {"kind": "animation", "input": {"url": URL}, "options": {"end": 1}}).body
    reply = api.call("GET", f"/steps/step_{task['id'].removeprefix('task_')}")
    assert reply.status == 404 and reply.body["kind"] == "step_not_found"


def test_another_projects_step_is_not_found(api: Api) -> None:
    step = create(api, {"kind": "probe", "input": {"url": URL}})
    reply = api.call("GET", f"/steps/{step['id']}", key=KEY_B)
    assert reply.status == 404 and reply.body["kind"] == "step_not_found"
    assert api.call("GET", f"/steps/{step['id']}").status == 200


def test_a_step_with_an_unreadable_record_is_step_not_found_saying_so(api: Api) -> None:
    step = create(api, {"kind": "probe", "input": {"url": URL}})
    with api.store._write() as conn:  # damaged by hand
        conn.execute("UPDATE tasks SET record = '{\"kind\": 7}'")
    reply = api.call("GET", f"/steps/{step['id']}")
    assert reply.status == 404 and reply.body["kind"] == "step_not_found"
    assert step["id"] in reply.body["message"] and "set aside" in reply.body["message"]


def test_other_methods_on_steps_are_405(api: Api) -> None:
    reply = api.call("GET", "/steps")
    assert reply.status == 405 and reply.body["kind"] == "method_not_allowed" and reply.headers["Allow"] == "POST"
    step = create(api, {"kind": "probe", "input": {"url": URL}})
    assert api.call("POST", f"/steps/{step['id']}", {}).status == 405


# --- 401 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/steps", {"kind": "probe", "input": {"url": URL}}),
    ("POST", "/steps", {"kind": "nonsense"}),  # 401 before any 400
    ("GET", "/steps/step_01aaaaaaaaaaaaaaaaaaaaaaaa", None),  # 401 before any 404
    ("GET", "/steps/nonsense", None),
])
@pytest.mark.parametrize(("key", "kind"), [(None, "token_missing"), ("mj_live_not_a_key", "token_invalid")])
def test_a_missing_or_bad_key_is_401(api: Api, method: str, path: str, body: Any, key: str | None,
                                     kind: str) -> None:
    reply = api.call(method, path, body, key=key)
    assert reply.status == 401 and reply.body["kind"] == kind and set(reply.body) == {"kind", "message"}
    assert api.orchestrator.calls == []


# --- limits ---------------------------------------------------------------------------------------------


def test_deep_nesting_is_400_before_anything_is_stored(api: Api) -> None:
    deep: Any = {"video": "h264"}
    for _ in range(40):
        deep = {"codecs": deep}
    reply = post(api, {"kind": "video", "input": {**SOURCE, "codecs": deep}})
    assert reply.status == 400 and (reply.body["kind"], reply.body["field"]) == ("invalid_input", "input")
    assert "levels deep" in reply.body["message"]
    assert api.orchestrator.calls == []


def test_a_hundreds_of_levels_deep_body_is_400_not_a_crash(api: Api) -> None:
    reply = post(api, None, raw='{"kind": "probe", "input": ' + "[" * 5000 + "]" * 5000 + "}")
    assert reply.status == 400 and reply.body["kind"] in ("request_invalid", "invalid_input")


def test_a_source_one_level_too_deep_is_refused(api: Api) -> None:
    reply = post(api, {"kind": "video", "input": {**SOURCE, "codecs": {"video": {"name": "h264"}}}})
    assert reply.status == 400 and reply.body["kind"] == "invalid_input"


def test_an_input_with_too_many_keys_or_a_huge_url_is_refused(api: Api) -> None:
    many = post(api, {"kind": "video", "input": {**SOURCE, **{f"k{n}": n for n in range(40)}}})
    huge = post(api, {"kind": "probe", "input": {"url": "https://example.com/" + "a" * 9000}})
    assert (many.status, many.body["kind"]) == (400, "invalid_input")
    assert (huge.status, huge.body["kind"]) == (400, "invalid_input")


def test_a_body_over_the_size_limit_is_413(tmp_path: Path) -> None:
    api = make_api(tmp_path, max_body_bytes=1024)
    reply = post(api, {"kind": "probe", "input": {"url": URL + "?" + "a" * 2000}})
    assert reply.status == 413 and reply.body["kind"] == "payload_too_large"


# --- the presentation, for any task the engine holds ----------------------------------------------------

_URLS = st.sampled_from([URL, "s3://bucket/key.mp4", "file:///data/files/tasks/x/out.mp4",
                         "file:///data/work/tasks/x/input"])
_FILES = st.fixed_dictionaries(
    {"object": st.sampled_from(["file", "external_file"]), "url": _URLS},
    optional={"kind": st.sampled_from(["video", "audio", "image"]), "format": st.sampled_from(["mp4", "hls"]),
              "width": st.integers(1, 8192), "duration": st.floats(0, 1e5, allow_nan=False),
              "filesize": st.integers(0, 2**40), "codecs": st.fixed_dictionaries({"video": st.just("h264")})})
_MS = st.integers(0, 2**45)
_TASKS = st.builds(
    Task,
    id=st.from_regex(r"task_[0-9a-z]{26}", fullmatch=True),
    kind=st.sampled_from(TASK_KINDS),
    input=st.none() | _FILES,
    output=st.none() | _FILES,
    options=st.dictionaries(st.sampled_from(["width", "url", "connection_id", "quality"]),
                            st.integers(1, 4000) | st.text(max_size=20), max_size=4),
    status=st.sampled_from(STATUSES),
    progress=st.none() | st.integers(0, 100),
    error=st.none() | st.builds(ErrorInfo, kind=st.sampled_from(["input_unreachable", "encode_failed"]),
                                message=st.text(max_size=40), task=st.none() | st.sampled_from(TASK_KINDS)),
    created_at=_MS, started_at=st.none() | _MS, finished_at=st.none() | _MS, updated_at=_MS,
    job_id=st.none() | st.just("job_01aaaaaaaaaaaaaaaaaaaaaaaa"),
    project_id=st.just("prj_a"),
)


def _ms(value: Any, nullable: bool) -> bool:
    return (nullable and value is None) or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(task=_TASKS)
def test_any_engine_task_presents_with_bs_fields_and_types_or_is_no_step(task: Task) -> None:
    if task.job_id is not None or task.kind == "animation":
        with pytest.raises(StepNotFound):
            step_dict(task, sign)
        return
    step = step_dict(task, sign)

    assert json.loads(json.dumps(step)) == step  # plain JSON
    assert tuple(step) == FIELD_ORDER
    assert re.fullmatch(r"step_[0-9a-z]{26}", step["id"]) and step["id"][5:] == task.id[5:]
    assert step["object"] == "step"
    assert step["kind"] in STEP_KINDS and TO_ENGINE.get(step["kind"], step["kind"]) == task.kind
    assert step["status"] in STATUSES and step["status"] == task.status
    assert step["progress"] is None or (isinstance(step["progress"], int) and 0 <= step["progress"] <= 100)
    assert _ms(step["created_at"], False) and _ms(step["updated_at"], False)
    assert _ms(step["started_at"], True) and _ms(step["finished_at"], True)
    assert isinstance(step["options"], dict) and step["options"] == task.options
    assert step["error"] is None or (set(step["error"]) == {"kind", "message"}
                                     and all(isinstance(v, str) for v in step["error"].values()))
    for name in ("input", "output"):
        value, engine = step[name], getattr(task, name)
        if engine is None:
            assert value is None
            continue
        assert value["object"] == ("source" if engine["object"] == "file" else "external_file")
        assert value["url"] is None or isinstance(value["url"], str)
        assert "/data/work" not in json.dumps(value)  # working storage never shows
        assert {k: v for k, v in value.items() if k not in ("object", "url")} == \
            {k: v for k, v in engine.items() if k not in ("object", "url")}


# --- the OpenAPI document -------------------------------------------------------------------------------


def test_the_openapi_document_describes_the_steps_routes(api: Api) -> None:
    doc = api.call("GET", "/openapi.json", key=None).body
    create_op, get_op = doc["paths"]["/steps"]["post"], doc["paths"]["/steps/{step_id}"]["get"]
    assert create_op["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StepCreateBody"}
    schemas = doc["components"]["schemas"]
    assert set(schemas["StepCreateBody"]["required"]) == {"kind", "input"}
    assert set(schemas["Step"]["properties"]) == set(FIELD_ORDER)
    assert {"201", "400", "401"} <= set(create_op["responses"]) and "422" not in create_op["responses"]
    # GET /steps/{id} is not on the seed's page (the steps variant reads steps through their task)
    assert get_op["x-mediajet-extension"] is True and "MediaJet extension" in get_op["description"]
    assert "x-mediajet-extension" not in create_op


def test_idempotency_key_creates_one_step_and_replays_it_with_200(api: Api) -> None:
    body = {"kind": "probe", "input": {"url": URL}}
    first = post(api, body, headers={"Idempotency-Key": "step-1"})
    again = post(api, body, headers={"Idempotency-Key": "step-1"})
    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
    assert api.orchestrator.calls == [("start_task", "task_" + first.body["id"].removeprefix("step_"))]

    reused = post(api, {"kind": "ingest", "input": {"url": URL}}, headers={"Idempotency-Key": "step-1"})
    assert reused.status == 409 and set(reused.body) == {"kind", "message", "field"}
    assert reused.body["kind"] == "idempotency_key_reused"
    bad = post(api, {"kind": "nope"}, headers={"Idempotency-Key": ""})
    assert bad.status == 400 and bad.body["field"] == "Idempotency-Key"
    assert len(api.orchestrator.calls) == 1
