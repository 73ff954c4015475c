"""Generation D (API version 2024-08-21, seed 004) in process: the `{meta, data, links}` envelope on every
answer, `tsk_` ids, D statuses, page-based lists with absolute `links.next`/`prev`, errors as `{meta, error}`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediajet.api.app import create_app
from mediajet.api.deps import ApiDeps
from mediajet.api.wire import v2024_08_21_present as present
from mediajet.ids import now_ms
from mediajet.models.job import TASK_KINDS, ErrorInfo, Task
from tests.seeds import page
from tests.unit.api_support import KEY_B, SIGNED, Api, RecordingOrchestrator, make_api, sign

D = {"Accept-Version": "2024-08-21"}
D_SDK = {"ACCEPT_VERSION": "2024-08-21"}  # the other spelling the dispatcher reads
HOST = "http://api.test"  # the test events' host; no x-forwarded-proto → http
INPUT_URL = "https://media.example/video.mp4"
SEED_URL = "https://demo-files.ittybit.net/video.mp4"
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")
D_STATUSES = {"waiting", "processing", "ready", "error"}
META_KEYS = {"id", "org_id", "project_id", "method", "host", "path", "version", "status", "type"}


# --- the seed page's examples ------------------------------------------------------------------


def seed_text() -> str:
    return page(4)


def seed_responses() -> list[dict[str, Any]]:
    """The page's three example answers (create, view, list), made valid JSON: the page writes them with
    trailing commas and `// …` comments."""
    text, found = seed_text(), []
    for match in re.finditer(r'\{ "meta"', text):
        depth, end = 0, match.start()
        for end in range(match.start(), len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        block = re.sub(r'\s//[^"{}]*', " ", text[match.start():end + 1])
        found.append(json.loads(re.sub(r",(\s*[}\]])", r"\1", block)))
    assert len(found) == 3, "seed 004 should show three example answers"
    return found


def seed_curls() -> list[str]:
    return re.findall(r"curl [^\n]*", seed_text())


def seed_fetches() -> list[str]:
    return re.findall(r"const [^\n]*?\}\);", seed_text())


def seed_create_body() -> dict[str, Any]:
    """The JSON the create example's curl sends (`-d '…'`), and the JavaScript example's object: the same."""
    sent = re.search(r"-d '(\{.*?\})'", seed_curls()[0])
    assert sent is not None
    body = json.loads(sent.group(1))
    literal = re.search(r"const task = (\{.*?\})", seed_fetches()[0])
    assert literal is not None
    as_json = re.sub(r"(\w+):(?!//)", r'"\1":', literal.group(1)).replace("'", '"')
    assert json.loads(as_json) == body
    return body


# --- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return make_api(tmp_path, max_body_bytes=64 * 1024)


def post(api: Api, body: Any, headers: dict[str, str] = D, **kwargs: Any) -> dict[str, Any]:
    reply = api.call("POST", "/tasks", body, headers=headers, **kwargs)
    assert reply.status == 200, reply.text
    return reply.body


def engine_id(d_id: str) -> str:
    return "task_" + d_id.removeprefix("tsk_")


def finish(api: Api, d_id: str, status: str = "succeeded", output: dict[str, Any] | None = None,
           message: str = "the input could not be fetched", later_ms: int = 0) -> Task:
    task = api.store.get_task(engine_id(d_id))
    now = now_ms() + later_ms
    task.status, task.finished_at, task.updated_at = status, now, now  # type: ignore[assignment]
    if status == "succeeded":
        task.output = output or {"object": "file", "kind": "image", "format": "jpeg", "width": 640, "height": 360,
                                 "filesize": 12345,
                                 "url": f"file:///data/files/tasks/{task.id}/output/output.jpg"}
    else:
        task.error = ErrorInfo(kind="input_unreachable", message=message)
    return api.store.save_task(task)


def assert_meta(meta: dict[str, Any], method: str, path: str, status: int, kind: str) -> None:
    assert META_KEYS <= set(meta), meta
    assert meta["id"].startswith("req_") and meta["org_id"] is None
    assert (meta["method"], meta["host"], meta["path"]) == (method, HOST, path)
    assert (meta["version"], meta["status"], meta["type"]) == ("2024-08-21", status, kind)


def assert_error(reply: Any, status: int, needle: str = "") -> None:
    assert reply.status == status, reply.text
    body = reply.body
    assert set(body) == {"meta", "error"}, body
    assert body["meta"]["status"] == status and body["meta"]["type"] == "error"
    assert body["meta"]["version"] == "2024-08-21" and body["meta"]["id"].startswith("req_")
    assert isinstance(body["error"], str) and body["error"]
    assert needle.lower() in body["error"].lower(), body["error"]


def follow(api: Api, link: str, headers: dict[str, str] = D) -> dict[str, Any]:
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == HOST
    reply = api.call("GET", parts.path, headers=headers, query=dict(parse_qsl(parts.query)))
    assert reply.status == 200, reply.text
    return reply.body


# --- create ------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [D, D_SDK], ids=["Accept-Version", "ACCEPT_VERSION"])
def test_the_seed_create_body_answers_the_seed_envelope(api: Api, headers: dict[str, str]) -> None:
    body = {**seed_create_body(), "url": INPUT_URL}
    assert body == {"url": INPUT_URL, "format": "jpeg"}  # no kind: the format names it
    answer = post(api, body, headers)
    seed = seed_responses()[0]

    assert set(answer) == set(seed) == {"meta", "data", "links"}
    assert set(answer["meta"]) == set(seed["meta"])
    assert_meta(answer["meta"], "POST", "/tasks", 200, "object")
    assert answer["meta"]["status"] == seed["meta"]["status"] == 200 and answer["meta"]["project_id"] == "prj_a"
    data = answer["data"]
    assert set(data) == set(seed["data"])
    assert data["id"].startswith("tsk_") and data["object"] == "task"
    assert data["input"] == "med_" + data["id"].removeprefix("tsk_")
    assert data["output"] == {"id": "file_" + data["id"].removeprefix("tsk_"), "object": "source", "kind": "image",
                              "format": "jpeg"}
    assert data["status"] == "waiting" and data["status"] in D_STATUSES
    assert ISO.fullmatch(data["created"]) and data["created"] == data["updated"]
    assert answer["links"] == {"self": f"{HOST}/tasks/{data['id']}", "parent": f"{HOST}/tasks"}
    assert set(answer["links"]) == set(seed["links"])

    stored = api.store.get_task(engine_id(data["id"]))
    assert (stored.kind, stored.input, stored.options) == ("image", {"object": "external_file", "url": INPUT_URL},
                                                           {"format": "jpeg"})
    assert api.orchestrator.calls == [("start_task", stored.id)]


@pytest.mark.parametrize(("body", "kind", "options"), [
    ({"format": "jpeg"}, "image", {"format": "jpeg"}),
    ({"format": "png"}, "image", {"format": "png"}),
    ({"format": "webp"}, "image", {"format": "webp"}),
    ({"format": "avif"}, "image", {"format": "avif"}),
    ({"format": "mp4"}, "video", {"format": "mp4"}),
    ({"format": "webm"}, "video", {"format": "webm"}),
    ({"format": "av1"}, "video", {"format": "mp4", "codec": "av1"}),
    ({"format": "cmaf"}, "video", {"format": "mp4"}),
    ({"format": "mp3"}, "audio", {"format": "mp3"}),
    ({"format": "wav"}, "audio", {"format": "wav"}),
    ({"format": "ogg"}, "audio", {"format": "ogg"}),
    ({"kind": "image"}, "image", {}),
    ({"kind": "video", "width": 640}, "video", {"width": 640}),
    ({"kind": "audio", "format": "mp3"}, "audio", {"format": "mp3"}),
    ({"kind": "image", "format": "png", "width": 320, "height": 180}, "image",
     {"format": "png", "width": 320, "height": 180}),
    ({"kind": "video", "format": "av1", "confidence": 0.5}, "video", {"format": "mp4", "codec": "av1"}),
])
def test_kind_and_format_become_the_engine_task(api: Api, body: dict, kind: str, options: dict) -> None:
    answer = post(api, {"url": INPUT_URL, **body})
    stored = api.store.get_task(engine_id(answer["data"]["id"]))
    assert (stored.kind, stored.options) == (kind, options)
    shown = answer["data"]["output"]
    assert shown["kind"] == kind and shown["object"] == "source"
    # what was asked, in D's words, as the engine will make it: av1 stays av1; cmaf is made as mp4
    assert shown.get("format") == {"cmaf": "mp4"}.get(body.get("format"), body.get("format"))
    assert {k: shown[k] for k in ("width", "height") if k in shown} == {
        k: body[k] for k in ("width", "height") if k in body}


def test_a_requested_filename_is_shown_while_running_and_when_ready(api: Api) -> None:
    answer = post(api, {"url": INPUT_URL, "kind": "image", "filename": "poster.jpg", "width": 640})
    seed_output = seed_responses()[0]["data"]["output"]
    assert {k: answer["data"]["output"][k] for k in seed_output} == seed_output  # {kind, filename, width}
    # kept as a label in the engine's options, as version 2025-08-20 keeps it; the runner leaves labels out
    stored = api.store.get_task(engine_id(answer["data"]["id"]))
    assert stored.options == {"width": 640, "filename": "poster.jpg"}
    finish(api, answer["data"]["id"])
    ready = api.call("GET", f"/tasks/{answer['data']['id']}", headers=D).body["data"]
    assert ready["output"]["filename"] == "poster.jpg" and ready["status"] == "ready"


# --- read one ----------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [D, D_SDK], ids=["Accept-Version", "ACCEPT_VERSION"])
def test_get_a_task_in_the_seed_envelope_by_tsk_or_task_id(api: Api, headers: dict[str, str]) -> None:
    created = post(api, {"url": INPUT_URL, "format": "jpeg"})["data"]
    seed = seed_responses()[1]
    for asked in (created["id"], engine_id(created["id"])):
        reply = api.call("GET", f"/tasks/{asked}", headers=headers)
        assert reply.status == 200, reply.text
        answer = reply.body
        assert set(answer) == set(seed) and set(answer["meta"]) == set(seed["meta"])
        assert_meta(answer["meta"], "GET", f"/tasks/{asked}", 200, "object")
        assert answer["data"] == created
        assert answer["links"] == {"self": f"{HOST}/tasks/{created['id']}", "parent": f"{HOST}/tasks"}


def test_a_finished_task_is_ready_with_the_created_source_behind_a_signed_link(api: Api) -> None:
    created = post(api, {"url": INPUT_URL, "format": "jpeg"})["data"]
    task = finish(api, created["id"])
    answer = api.call("GET", f"/tasks/{created['id']}", headers=D).body
    seed_data = seed_responses()[1]["data"]
    data = answer["data"]
    assert set(data) == set(seed_data) and data["status"] == "ready"
    assert set(seed_data["output"]) <= set(data["output"])  # id, object, kind
    assert data["output"] == {
        "id": created["output"]["id"], "object": "source", "kind": "image", "format": "jpeg", "type": "image/jpeg",
        "filename": "output.jpg", "url": sign(task.output["url"]), "width": 640, "height": 360,
        "filesize": 12345, "created": present.iso(task.finished_at), "updated": present.iso(task.updated_at)}
    assert data["output"]["url"].startswith(SIGNED)
    assert data["updated"] == present.iso(task.updated_at) and data["created"] == created["created"]


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_a_failed_or_cancelled_task_is_error_with_its_message(api: Api, status: str) -> None:
    created = post(api, {"url": INPUT_URL, "format": "jpeg"})["data"]
    finish(api, created["id"], status, message="the server answered 404")
    data = api.call("GET", f"/tasks/{created['id']}", headers=D).body["data"]
    assert data["status"] == "error" and data["error"] == "the server answered 404"
    assert data["output"] == created["output"]  # still what was asked: id, object, kind


def test_a_finished_tasks_file_id_is_the_next_tasks_input(api: Api) -> None:
    first = post(api, {"url": INPUT_URL, "format": "png"})["data"]
    waiting = api.call("POST", "/tasks", {"file_id": first["output"]["id"], "format": "webp"}, headers=D)
    assert_error(waiting, 409, "not ready")
    task = finish(api, first["id"])
    second = post(api, {"file_id": first["output"]["id"], "format": "webp"})["data"]
    assert second["input"] == first["output"]["id"]
    stored = api.store.get_task(engine_id(second["id"]))
    assert stored.input is not None and stored.input["url"] == sign(task.output["url"])
    assert stored.input["url"].startswith(SIGNED) and stored.input["id"] == first["output"]["id"]
    assert_error(api.call("POST", "/tasks", {"file_id": "file_nope", "format": "webp"}, headers=D), 404,
                 "file_nope")
    failed = post(api, {"url": INPUT_URL, "format": "png"})["data"]
    finish(api, failed["id"], "failed")
    assert_error(api.call("POST", "/tasks", {"file_id": failed["output"]["id"], "format": "webp"}, headers=D), 404)
    assert_error(api.call("POST", "/tasks", {"file_id": first["output"]["id"], "format": "webp"}, headers=D,
                          key=KEY_B), 404)


# --- lists -------------------------------------------------------------------------------------


KINDS_CYCLE = [("jpeg", "image"), ("mp4", "video"), ("mp3", "audio")]


def create_many(api: Api, count: int) -> list[dict[str, Any]]:
    return [post(api, {"url": INPUT_URL, "format": KINDS_CYCLE[i % 3][0]})["data"] for i in range(count)]


def test_list_pages_by_twelve_and_following_next_visits_every_task_once(api: Api) -> None:
    created = create_many(api, 30)
    seed = seed_responses()[2]
    first = api.call("GET", "/tasks", headers=D).body
    assert set(first) == set(seed) and set(first["meta"]) == set(seed["meta"])
    assert set(first["links"]) == set(seed["links"])
    assert_meta(first["meta"], "GET", "/tasks", 200, "list")
    assert {k: first["meta"][k] for k in ("total", "limit", "page", "pages")} == {
        "total": 30, "limit": 12, "page": 1, "pages": 3}
    assert first["links"] == {"self": f"{HOST}/tasks", "next": f"{HOST}/tasks?page=2", "prev": None}
    assert set(first["data"][0]) == set(seed["data"][0])

    seen, pages, answer = [], [], first
    while True:
        pages.append(answer)
        seen += [t["id"] for t in answer["data"]]
        if answer["links"]["next"] is None:
            break
        answer = follow(api, answer["links"]["next"])
    assert [len(p["data"]) for p in pages] == [12, 12, 6]
    assert seen == [t["id"] for t in reversed(created)]  # newest first, each once
    assert pages[2]["links"]["prev"] == f"{HOST}/tasks?page=2" and pages[1]["links"]["prev"] == f"{HOST}/tasks?page=1"
    back = follow(api, pages[2]["links"]["prev"])
    assert back["data"] == pages[1]["data"]


def test_links_keep_the_other_query_parameters(api: Api) -> None:
    created = create_many(api, 30)
    query = {"kind": "video", "limit": "4", "order": "asc"}
    answer = api.call("GET", "/tasks", headers=D, query=query).body
    assert answer["meta"]["total"] == 10 and answer["meta"]["pages"] == 3
    assert answer["links"]["self"] == f"{HOST}/tasks?kind=video&limit=4&order=asc"
    assert answer["links"]["next"] == f"{HOST}/tasks?kind=video&limit=4&order=asc&page=2"
    seen = []
    while True:
        seen += [t["id"] for t in answer["data"]]
        if not answer["links"]["next"]:
            break
        answer = follow(api, answer["links"]["next"])
    assert seen == [t["id"] for t in created if t["output"]["kind"] == "video"]  # oldest first
    assert answer["links"]["prev"] == f"{HOST}/tasks?kind=video&limit=4&order=asc&page=2"


def test_list_filters_by_kind_and_d_status(api: Api) -> None:
    created = create_many(api, 9)
    finish(api, created[0]["id"])
    finish(api, created[1]["id"], "failed")
    finish(api, created[2]["id"], "cancelled")

    def ids(**query: str) -> list[str]:
        answer = api.call("GET", "/tasks", headers=D, query=query).body
        assert answer["meta"]["total"] == len(answer["data"])
        return [t["id"] for t in answer["data"]]

    assert ids(kind="audio") == [t["id"] for t in reversed(created) if t["output"]["kind"] == "audio"]
    assert ids(status="ready") == [created[0]["id"]]
    assert ids(status="error") == [created[2]["id"], created[1]["id"]]
    assert ids(status="ready,error", order="asc") == [t["id"] for t in created[:3]]
    assert len(ids(status="waiting")) == 6 and ids(status="processing") == []
    assert ids(kind="audio", status="ready") == []
    assert ids(kind="speech") == []  # a D kind MediaJet never runs: nothing to list


def test_list_sorts_by_updated_and_filesize(api: Api) -> None:
    created = create_many(api, 4)
    finish(api, created[2]["id"], output={"object": "file", "kind": "audio", "url": "file:///data/files/a.mp3",
                                          "filesize": 10}, later_ms=1000)
    finish(api, created[0]["id"], output={"object": "file", "kind": "image", "url": "file:///data/files/a.jpg",
                                          "filesize": 30}, later_ms=2000)
    by_updated = api.call("GET", "/tasks", headers=D, query={"sort": "updated"}).body["data"]
    assert [t["id"] for t in by_updated[:2]] == [created[0]["id"], created[2]["id"]]
    by_size = api.call("GET", "/tasks", headers=D, query={"sort": "filesize", "order": "desc"}).body["data"]
    assert [t["id"] for t in by_size[:2]] == [created[0]["id"], created[2]["id"]]
    ascending = api.call("GET", "/tasks", headers=D, query={"sort": "updated", "order": "asc"}).body["data"]
    assert [t["id"] for t in ascending[-2:]] == [created[2]["id"], created[0]["id"]]


def test_an_empty_list_and_a_page_past_the_end(api: Api) -> None:
    empty = api.call("GET", "/tasks", headers=D).body
    assert empty["data"] == [] and empty["meta"]["total"] == 0 and empty["meta"]["pages"] == 0
    assert empty["links"] == {"self": f"{HOST}/tasks", "next": None, "prev": None}
    create_many(api, 3)
    past = api.call("GET", "/tasks", headers=D, query={"page": "5"}).body
    assert past["data"] == [] and past["meta"]["page"] == 5 and past["links"]["next"] is None
    assert past["links"]["prev"] == f"{HOST}/tasks?page=1"  # the last page that has tasks


def test_one_project_never_sees_another_projects_tasks(api: Api) -> None:
    created = post(api, {"url": INPUT_URL, "format": "jpeg"})["data"]
    assert_error(api.call("GET", f"/tasks/{created['id']}", headers=D, key=KEY_B), 404)
    other = api.call("GET", "/tasks", headers=D, key=KEY_B).body
    assert other["data"] == [] and other["meta"]["project_id"] == "prj_b"


def test_without_the_header_the_jobs_api_answers(api: Api) -> None:
    # No Accept-Version is the Jobs API (seed 001): the seed's D body has no `input`, and there is no list.
    reply = api.call("POST", "/tasks", {"url": INPUT_URL, "format": "jpeg"})
    assert reply.status == 400 and set(reply.body) >= {"kind", "message"}
    assert api.call("GET", "/tasks").status == 405


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "needle"), [(None, "Authorization"), ("mj_live_wrong", "not valid")])
@pytest.mark.parametrize(("method", "path"), [("GET", "/tasks"), ("POST", "/tasks"), ("GET", "/tasks/tsk_x")])
def test_no_or_a_bad_key_is_401_in_the_envelope(api: Api, key: str | None, needle: str, method: str,
                                                 path: str) -> None:
    reply = api.call(method, path, {"url": INPUT_URL, "format": "jpeg"} if method == "POST" else None,
                     headers=D, key=key)
    assert_error(reply, 401, needle)
    assert reply.body["meta"]["project_id"] is None and reply.body["meta"]["path"] == path


@pytest.mark.parametrize("task_id", ["tsk_01nothere", "task_01nothere", "job_01", "x" * 500])
def test_unknown_ids_are_404_in_the_envelope(api: Api, task_id: str) -> None:
    reply = api.call("GET", f"/tasks/{task_id}", headers=D)
    assert_error(reply, 404, task_id[:40])


@pytest.mark.parametrize(("body", "status", "needle"), [
    ({}, 400, "kind is required"),
    ({"url": INPUT_URL}, 400, "kind is required"),
    ({"format": "jpeg"}, 400, "url or file_id"),
    ({"url": "ftp://x/y.mp4", "format": "jpeg"}, 400, "url"),
    ({"url": 12, "format": "jpeg"}, 400, "url"),
    ({"url": INPUT_URL, "file_id": "file_x", "format": "jpeg"}, 400, "not both"),
    ({"url": INPUT_URL, "format": "gif"}, 400, "format 'gif'"),
    ({"url": INPUT_URL, "kind": "image", "format": "mp4"}, 400, "not a image format"),
    ({"url": INPUT_URL, "kind": "banana"}, 400, "kind must be"),
    ({"url": INPUT_URL, "kind": 3}, 400, "kind must be a string"),
    ({"url": INPUT_URL, "kind": "audio", "width": 100}, 400, "not audio"),
    ({"url": INPUT_URL, "kind": "image", "width": 0}, 400, "width"),
    ({"url": INPUT_URL, "kind": "video", "height": "tall"}, 400, "height"),
    ({"url": INPUT_URL, "format": "jpeg", "confidence": 2}, 400, "confidence"),
    ({"url": INPUT_URL, "format": "jpeg", "filename": "../etc/passwd"}, 400, "filename"),
    ({"url": INPUT_URL, "format": "jpeg", "filename": 7}, 400, "filename"),
    ({"file_id": 7, "format": "jpeg"}, 400, "file_id"),
    ([], 400, "JSON object"),
    *[({"url": INPUT_URL, "kind": kind}, 422, "intelligence") for kind in
      ("objects", "faces", "text", "nsfw", "speech", "subtitles", "outline", "chapters", "thumbnails")],
])
def test_bad_bodies_are_4xx_in_the_envelope(api: Api, body: Any, status: int, needle: str) -> None:
    assert_error(api.call("POST", "/tasks", body, headers=D), status, needle)
    assert api.orchestrator.calls == []


def test_a_body_that_is_not_json_is_400_in_the_envelope(api: Api) -> None:
    assert_error(api.call("POST", "/tasks", raw="{not json", headers=D), 400, "JSON")
    assert_error(api.call("POST", "/tasks", headers=D), 400, "body")


@pytest.mark.parametrize(("query", "needle"), [
    ({"sort": "size"}, "sort"), ({"order": "up"}, "order"), ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"),
    ({"limit": "ten"}, "limit"), ({"page": "0"}, "page"), ({"page": "-1"}, "page"), ({"page": "1e3"}, "page"),
    ({"page": "9" * 30}, "page"), ({"status": "succeeded"}, "status"), ({"status": "ready,done"}, "status"),
    ({"kind": "banana"}, "kind"),
])
def test_bad_list_parameters_are_400_naming_the_parameter(api: Api, query: dict, needle: str) -> None:
    assert_error(api.call("GET", "/tasks", headers=D, query=query), 400, needle)


def test_a_wrong_method_is_405_with_allow_in_the_envelope(api: Api) -> None:
    reply = api.call("DELETE", "/tasks", headers=D)
    assert_error(reply, 405, "not allowed")
    assert reply.headers.get("Allow") == "GET, POST"


def test_an_unexpected_failure_is_500_in_the_envelope_without_internals(tmp_path: Path) -> None:
    api = make_api(tmp_path)

    class Broken(RecordingOrchestrator):
        def start_task(self, task: Task) -> None:
            raise RuntimeError("queue is down: arn:aws:sqs:secret")

    api.app = create_app(ApiDeps(jobs=api.store, orchestrator=Broken(), settings=api.settings, sign_url=sign))
    reply = api.call("POST", "/tasks", {"url": INPUT_URL, "format": "jpeg"}, headers=D)
    assert_error(reply, 500, "unexpected")
    assert reply.body["meta"]["id"] == "req_req-test-1"  # the request id the server log names
    assert "secret" not in reply.text and "Traceback" not in reply.text


# --- properties --------------------------------------------------------------------------------

ms = st.integers(min_value=0, max_value=4_102_444_800_000)  # up to 2100
scalar = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12)
file_dicts = st.fixed_dictionaries(
    {"object": st.just("file"), "url": st.sampled_from([
        "file:///data/files/tasks/t/output/output.jpg", "file:///data/work/x.mp4", "s3://bucket/key.mp4",
        "https://media.example/a.mp3"])},
    optional={"kind": st.sampled_from(["video", "audio", "image"]), "format": st.sampled_from(
        ["jpeg", "png", "mp4", "webm", "mp3", "ogg", "hls", "weird"]), "width": st.integers(1, 8000),
        "height": st.integers(1, 8000), "filesize": st.integers(0, 10**12), "duration": st.floats(0, 1e5),
        "codecs": st.fixed_dictionaries({}, optional={"video": st.text(max_size=5), "audio": st.text(max_size=5)})})
tasks_st = st.builds(
    Task,
    kind=st.sampled_from(TASK_KINDS),
    input=st.none() | st.dictionaries(st.sampled_from(["url", "object", "id", "filename", "x"]), scalar,
                                      max_size=4),
    options=st.dictionaries(st.sampled_from(["format", "codec", "width", "height", "quality", "filename", "ref"]), scalar, max_size=4),
    output=st.none() | file_dicts,
    status=st.sampled_from(["waiting", "processing", "succeeded", "failed", "cancelled"]),
    error=st.none() | st.builds(ErrorInfo, kind=st.text(min_size=1, max_size=8), message=st.text(max_size=30)),
    created_at=ms, updated_at=ms, finished_at=st.none() | ms,
)


@settings(max_examples=300, deadline=None)
@given(task=tasks_st)
def test_every_engine_task_presents_as_a_valid_d_task(task: Task) -> None:
    data = json.loads(json.dumps(present.task_data(task, sign)))
    assert {"id", "object", "input", "output", "status", "created", "updated"} <= set(data)
    assert set(data) - {"id", "object", "input", "output", "status", "created", "updated"} <= {"error"}
    assert data["id"] == "tsk_" + task.id.removeprefix("task_") and data["object"] == "task"
    assert data["status"] in D_STATUSES and ISO.fullmatch(data["created"]) and ISO.fullmatch(data["updated"])
    assert isinstance(data["input"], str) and data["input"].startswith(("med_", "file_"))
    out = data["output"]
    assert isinstance(out, dict) and out["id"] == "file_" + task.id.removeprefix("task_")
    assert out["object"] == "source" and isinstance(out["kind"], str) and out["kind"]
    if data["status"] == "ready" and task.output:
        assert "url" in out and (out["url"] is None or not out["url"].startswith("file:"))
        assert ISO.fullmatch(out["created"]) and ISO.fullmatch(out["updated"])
    assert ("error" in data) == (data["status"] == "error")


d_bodies = st.fixed_dictionaries({}, optional={
    "url": st.sampled_from([INPUT_URL, SEED_URL, "ftp://x", "", "https://"]) | scalar,
    "file_id": st.sampled_from(["file_x", "", "med_x"]) | scalar,
    "kind": st.sampled_from(["image", "video", "audio", "speech", "animation", ""]) | scalar,
    "format": st.sampled_from(["jpeg", "jpg", "mp4", "av1", "cmaf", "ogg", "gif", ""]) | scalar,
    "width": st.sampled_from([640, "50%", 0, -1, 1e9, "x"]) | scalar,
    "height": st.sampled_from([360, "10%", 70000]) | scalar,
    "filename": st.sampled_from(["poster.jpg", "a/b", ""]) | scalar,
    "confidence": st.sampled_from([0, 0.5, 1, 2, -1]) | scalar,
})


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory: pytest.TempPathFactory) -> Api:
    return make_api(tmp_path_factory.mktemp("d-fuzz"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=d_bodies)
def test_any_d_body_is_answered_in_the_envelope_and_never_5xx(shared_api: Api, body: dict) -> None:
    reply = shared_api.call("POST", "/tasks", body, headers=D)
    assert reply.status < 500, reply.text
    if reply.status == 200:
        data = reply.body["data"]
        assert data["id"].startswith("tsk_") and data["output"]["kind"] in ("image", "video", "audio")
        assert follow(shared_api, reply.body["links"]["self"])["data"] == data
    else:
        assert_error(reply, reply.status)


def test_idempotency_key_creates_one_task_and_replays_it_with_200(api: Api) -> None:
    body = {"url": "https://example.com/video.mp4", "kind": "image", "format": "png"}
    first = post(api, body, headers={**D, "Idempotency-Key": "d-1"})
    again = post(api, body, headers={**D, "Idempotency-Key": "d-1"})
    assert again["data"] == first["data"]
    assert api.orchestrator.calls == [("start_task", engine_id(first["data"]["id"]))]

    reused = api.call("POST", "/tasks", {**body, "format": "jpeg"}, headers={**D, "Idempotency-Key": "d-1"})
    assert_error(reused, 409, "Idempotency-Key")
    bad = api.call("POST", "/tasks", {"kind": "nope"}, headers={**D, "Idempotency-Key": "k" * 256})
    assert_error(bad, 400, "Idempotency-Key")
    assert len(api.orchestrator.calls) == 1
