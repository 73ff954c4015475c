"""API version 2025-08-20 (seed 003) in-process: a real SQLite store, a recording orchestrator. What a client
of the `ittybit` 1.0.0 SDK sees: the seed's task shape, ISO times, C statuses, `{message}` errors, page/limit
lists, `file_id` inputs, and a clear 422 for the kinds MediaJet does not run."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediajet.api.wire import v2025_08_20
from mediajet.api.wire.v2025_08_20 import NOT_RUN
from mediajet.api.wire.v2025_08_20_present import task_view
from mediajet.ids import now_ms
from mediajet.models.job import ErrorInfo, Task
from mediajet.pipeline import tasks as runner
from tests.seeds import page
from tests.unit.api_support import KEY_B, SIGNED, Api, make_api, sign

C = {"Accept-Version": "2025-08-20"}
C_STATUSES = {"pending", "waiting", "processing", "ready", "completed", "failed", "error", "cancelled"}
URL = "https://example.com/video.mp4"


def seed_example() -> tuple[dict[str, Any], dict[str, Any]]:
    """The seed page's request body (its JavaScript object literal) and its response JSON."""
    text = page(3)
    literal = re.search(r"const body = (\{.*?\});", text, re.DOTALL).group(1)
    body = json.loads(re.sub(r"^(\s*)(\w+):", r'\1"\2":', literal, flags=re.MULTILINE))
    response = json.loads(text[text.index('{\n  "id"'):])
    return body, response


SEED_BODY, SEED_RESPONSE = seed_example()


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return make_api(tmp_path)


def finished_task(api: Api, *, project: str = "prj_a", status: str = "succeeded", **changes: Any) -> Task:
    """An ingest (`import`) task that stored the seed's source video in output storage."""
    task = Task(kind="import", input={"object": "external_file", "url": URL}, options={"ref": "original"},
                project_id=project, status=status, **changes)
    if status == "succeeded":
        task.output = {"object": "file", "kind": "video", "url": f"file:///data/files/tasks/{task.id}/input",
                       "format": "mp4", "width": 1920, "height": 1080, "duration": 123.45, "filesize": 12345678}
        task.finished_at = now_ms()
    return api.store.create_task(task)[0]


def file_id(task: Task) -> str:
    return "file_" + task.id.removeprefix("task_")


# §6.4: the File fields a source may carry besides the seed's (which shows a few of them).
FILE_FIELDS = {"id", "media_id", "object", "kind", "type", "codec", "container", "width", "height", "orientation",
               "rotation", "transparency", "animated", "frames", "duration", "fps", "filesize", "bitrate",
               "language", "label", "ref", "folder", "filename", "url", "placeholder", "background", "metadata",
               "original", "created_by", "created", "updated", "status"}


def same_shape(got: Any, want: Any, *, more: frozenset[str] = frozenset()) -> None:
    """The same keys (plus any of `more`), and values of the same JSON types (ids, times and sizes differ)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(want) <= set(got) <= set(want) | more, (got, want)
        for key in want:
            same_shape(got[key], want[key], more=frozenset(FILE_FIELDS) if key == "input" else frozenset())
    else:
        assert type(got) is type(want) or {type(got), type(want)} <= {int, float}, (got, want)


def parses_as_iso(text: str) -> datetime:
    assert text.endswith("Z")
    return datetime.fromisoformat(text)


# --- POST /tasks: the seed -------------------------------------------------------------------------


def test_seed_request_with_a_file_id_answers_the_seed_response(api: Api) -> None:
    source = finished_task(api)
    reply = api.call("POST", "/tasks", {**SEED_BODY, "file_id": file_id(source)}, headers=C)
    assert reply.status == 201, reply.text
    task = reply.body
    same_shape(task, SEED_RESPONSE)
    assert task["id"].startswith("task_") and task["object"] == "task" and task["kind"] == "image"
    assert task["options"] == SEED_RESPONSE["options"] == {"width": 320, "format": "png", "ref": "thumbnail"}
    assert task["output"] is None and task["status"] == "pending"
    assert parses_as_iso(task["created"]) == parses_as_iso(task["updated"])
    expected_input = {**SEED_RESPONSE["input"], "id": file_id(source), "container": "mp4",
                      "url": SIGNED + f"data/files/tasks/{source.id}/input"}
    assert task["input"] == expected_input
    assert api.orchestrator.calls == [("start_task", task["id"])]
    engine = api.store.get_task(task["id"])  # the engine encodes the stored source through its signed link
    assert engine.kind == "image" and engine.input["url"] == expected_input["url"]
    assert api.call("GET", f"/tasks/{task['id']}", headers=C).body == task


def test_seed_request_with_a_url_answers_the_seed_fields(api: Api) -> None:
    body = {key: value for key, value in SEED_BODY.items() if key != "file_id"} | {"url": URL}
    reply = api.call("POST", "/tasks", body, headers=C)
    assert reply.status == 201, reply.text
    assert set(reply.body) == set(SEED_RESPONSE)
    assert reply.body["input"] == {"object": "source", "url": URL}  # not fetched yet: the task probes it first
    assert reply.body["status"] == "pending" and reply.body["options"] == SEED_RESPONSE["options"]
    assert api.store.get_task(reply.body["id"]).input == {"object": "external_file", "url": URL}


@pytest.mark.parametrize("headers", [{"Accept-Version": "2025-08-20"}, {"ACCEPT_VERSION": "2025-08-20"},
                                     {"Accept-Version": "latest"}, {"Accept-Version": " LATEST "}],
                         ids=["accept-version", "ACCEPT_VERSION", "latest", "latest-spaced"])
def test_either_header_spelling_and_latest_pick_this_version(api: Api, headers: dict[str, str]) -> None:
    reply = api.call("POST", "/tasks", {"url": URL, "kind": "video", "format": "webm"}, headers=headers)
    assert reply.status == 201 and reply.body["status"] == "pending" and "created" in reply.body
    assert api.call("GET", f"/tasks/{reply.body['id']}", headers=headers).body == reply.body


def test_an_unknown_version_is_a_400_invalid_version(api: Api) -> None:
    reply = api.call("POST", "/tasks", {"url": URL, "kind": "video"}, headers={"Accept-Version": "2025-07-01"})
    assert reply.status == 400 and reply.body["kind"] == "invalid_version"
    assert not api.orchestrator.calls


def test_ingest_is_the_engines_import_and_its_file_id_feeds_the_next_task(api: Api) -> None:
    reply = api.call("POST", "/tasks", {"url": URL, "kind": "ingest", "filename": "clip.mp4", "folder": "a/b"},
                     headers=C)
    assert reply.status == 201 and reply.body["kind"] == "ingest"
    assert reply.body["options"] == {"filename": "clip.mp4", "folder": "a/b"}
    stored = api.store.get_task(reply.body["id"])
    assert stored.kind == "import"
    # Not done yet: its file is not ready.
    early = api.call("POST", "/tasks", {"file_id": file_id(stored), "kind": "audio"}, headers=C)
    assert early.status == 409 and "not ready" in early.body["message"] and set(early.body) == {"message"}
    stored.status, stored.output, stored.progress = "succeeded", {
        "object": "file", "kind": "video", "url": f"file:///data/files/tasks/{stored.id}/input", "format": "mov",
        "width": 320, "height": 240, "duration": 2.0, "filesize": 1000, "fps": 25.0, "bitrate": 4000,
        "codecs": {"video": "h264", "audio": "aac"}}, None
    stored.finished_at = stored.updated_at = now_ms()
    api.store.save_task(stored)
    done = api.call("GET", f"/tasks/{stored.id}", headers=C).body
    assert done["status"] == "completed"
    assert done["output"] == {
        "id": file_id(stored), "object": "source", "kind": "video", "type": "video/quicktime", "codec": "h264",
        "container": "mov", "width": 320, "height": 240, "duration": 2.0, "fps": 25.0, "filesize": 1000,
        "bitrate": 4000, "url": SIGNED + f"data/files/tasks/{stored.id}/input", "folder": "a/b",
        "filename": "clip.mp4", "status": "ready", "created": done["updated"], "updated": done["updated"]}
    audio = api.call("POST", "/tasks", {"file_id": file_id(stored), "kind": "audio", "format": "flac"}, headers=C)
    assert audio.status == 201, audio.text
    assert audio.body["input"]["id"] == file_id(stored) and audio.body["input"]["filename"] == "clip.mp4"


def test_a_finished_encode_reads_completed_with_its_output_file(api: Api) -> None:
    created = api.call("POST", "/tasks", {"url": URL, "kind": "image", "width": 320, "format": "png",
                                          "ref": "thumbnail"}, headers=C).body
    task = api.store.get_task(created["id"])
    task.status, task.progress = "processing", 40
    task = api.store.save_task(task)
    running = api.call("GET", f"/tasks/{task.id}", headers=C).body
    assert (running["status"], running["progress"], running["output"]) == ("processing", 40, None)
    task.status, task.progress, task.finished_at = "succeeded", 100, now_ms()
    task.output = {"object": "file", "kind": "image", "url": f"file:///data/files/tasks/{task.id}/output/x.png",
                   "format": "png", "width": 320, "height": 180, "filesize": 999, "codecs": {"video": "png"}}
    api.store.save_task(task)
    done = api.call("GET", f"/tasks/{task.id}", headers=C).body
    assert done["status"] == "completed" and done["progress"] == 100 and "error" not in done
    out = done["output"]
    assert out["id"] == file_id(task) and out["type"] == "image/png" and out["ref"] == "thumbnail"
    assert (out["width"], out["height"], out["status"]) == (320, 180, "ready")
    assert out["url"].startswith(SIGNED)


def test_a_failed_task_reads_failed_with_the_engines_message(api: Api) -> None:
    created = api.call("POST", "/tasks", {"url": URL, "kind": "video"}, headers=C).body
    task = api.store.get_task(created["id"])
    task.status, task.error = "failed", ErrorInfo(kind="unsupported_media", message="the input is not media")
    api.store.save_task(task)
    got = api.call("GET", f"/tasks/{task.id}", headers=C).body
    assert (got["status"], got["error"], got["output"]) == ("failed", "the input is not media", None)


# --- POST /tasks: what is refused ------------------------------------------------------------------


@pytest.mark.parametrize("kind", NOT_RUN)
def test_kinds_mediajet_does_not_run_are_a_422_that_says_so(api: Api, kind: str) -> None:
    reply = api.call("POST", "/tasks", {"url": URL, "kind": kind}, headers=C)
    assert reply.status == 422 and set(reply.body) == {"message"}
    assert f"does not run '{kind}'" in reply.body["message"] and "ingest, video, image and audio" in reply.body["message"]
    assert not api.orchestrator.calls


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"kind": "video"}, 400, "exactly one of url or file_id"),
    ({"kind": "video", "url": URL, "file_id": "file_x"}, 400, "not both"),
    ({"url": URL}, 400, "kind is required"),
    ({"url": URL, "kind": "probe"}, 400, "not a task kind"),
    ({"url": URL, "kind": ["video"]}, 400, "not a task kind"),
    ({"url": "ftp://example.com/a.mp4", "kind": "video"}, 400, "url must be"),
    ({"url": 7, "kind": "video"}, 400, "url must be"),
    ({"file_id": 7, "kind": "video"}, 400, "file_id must be a string"),
    ({"file_id": "file_nope", "kind": "video"}, 404, "was not found"),
    ({"file_id": "task_nope", "kind": "video"}, 404, "was not found"),
    ({"url": URL, "kind": "image", "width": 0}, 400, "width"),
    ({"url": URL, "kind": "image", "format": "gif"}, 400, "format"),
    ({"url": URL, "kind": "video", "format": "avi"}, 400, "format"),
    ({"url": URL, "kind": "audio", "format": "mp4"}, 400, "format"),
    ({"url": URL, "kind": "video", "colour": "red"}, 400, "colour"),
    ({"url": URL, "kind": "image", "width": 99999, "height": 99999}, 400, "width"),
    ({"url": URL, "kind": "ingest", "width": 320}, 400, "unknown field 'width'"),
    ({"url": URL, "kind": "video", "filename": "a/b.mp4"}, 400, "filename"),
    ({"url": URL, "kind": "video", "ref": "x" * 256}, 400, "ref must be"),
    ({"url": URL, "kind": "video", "folder": "a\nb"}, 400, "control characters"),
    ({"url": URL, "kind": "video", "ref": 5}, 400, "ref must be"),
    ({"url": URL, "kind": "video", "webhook_url": "s3://bucket/x"}, 400, "webhook_url"),
    ({"url": URL, "kind": "video", "width": 320, "options": {"width": 640}}, 400, "given twice"),
    ({"url": URL, "kind": "video", "options": [1]}, 400, "options must be an object"),
    ([{"url": URL, "kind": "video"}], 400, "JSON object"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_requests_are_refused_with_a_message_naming_the_fault(api: Api, body: Any, status: int,
                                                                 words: str) -> None:
    reply = api.call("POST", "/tasks", body, headers=C)
    assert reply.status == status, reply.text
    assert set(reply.body) == {"message"} and words in reply.body["message"]
    assert not api.orchestrator.calls


def test_the_options_object_of_later_versions_is_read_too(api: Api) -> None:
    reply = api.call("POST", "/tasks", {"url": URL, "kind": "video", "options": {"width": 640, "format": "webm"}},
                     headers=C)
    assert reply.status == 201 and reply.body["options"] == {"width": 640, "format": "webm"}


def test_a_file_id_is_private_to_its_project_and_must_be_finished(api: Api) -> None:
    other = finished_task(api, project="prj_b")
    reply = api.call("POST", "/tasks", {"file_id": file_id(other), "kind": "image"}, headers=C)
    assert reply.status == 404 and reply.body == {"message": f"file '{file_id(other)}' was not found in this project"}
    assert api.call("POST", "/tasks", {"file_id": file_id(other), "kind": "image"}, headers=C, key=KEY_B).status == 201
    failed = finished_task(api, status="failed")
    reply = api.call("POST", "/tasks", {"file_id": file_id(failed), "kind": "image"}, headers=C)
    assert reply.status == 404 and "failed" in reply.body["message"]
    running = finished_task(api, status="processing")
    reply = api.call("POST", "/tasks", {"file_id": file_id(running), "kind": "image"}, headers=C)
    assert reply.status == 409 and "processing" in reply.body["message"]


# --- errors ---------------------------------------------------------------------------------------


def test_errors_are_a_message_only_whatever_the_status(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    replies = {
        400: api.call("POST", "/tasks", raw="{not json", headers=C),
        401: api.call("GET", "/tasks", headers=C, key=None),
        404: api.call("GET", "/tasks/task_missing", headers=C),
        405: api.call("DELETE", "/tasks", headers=C),
    }
    for status, reply in replies.items():
        assert reply.status == status and set(reply.body) == {"message"} and reply.body["message"], reply.text
    assert replies[405].headers["Allow"] == "GET, POST"

    def boom(*_: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api.store, "list_tasks", boom)
    crashed = api.call("GET", "/tasks", headers=C)
    assert crashed.status == 500 and set(crashed.body) == {"message"} and "secret" not in crashed.text
    assert "req-test-1" in crashed.body["message"]


def test_the_jobs_api_is_unchanged_without_the_header(api: Api) -> None:
    reply = api.call("POST", "/tasks", SEED_BODY)
    assert reply.status == 400 and reply.body["kind"] == "input_required"
    created = api.call("POST", "/tasks", {"url": URL, "kind": "video", "ref": "x"}, headers=C).body
    as_a = api.call("GET", f"/tasks/{created['id']}").body
    assert as_a["status"] == "waiting" and isinstance(as_a["created_at"], int)


# --- GET /tasks -----------------------------------------------------------------------------------


def test_list_pages_with_page_and_limit_as_a_bare_array(api: Api) -> None:
    ids = [api.call("POST", "/tasks", {"url": URL, "kind": "audio"}, headers=C).body["id"] for _ in range(5)]
    api.call("POST", "/tasks", {"url": URL, "kind": "audio"}, headers=C, key=KEY_B)  # another project's
    everything = api.call("GET", "/tasks", headers=C)
    assert everything.status == 200 and isinstance(everything.body, list)
    assert [t["id"] for t in everything.body] == ids[::-1]  # newest first
    pages = [api.call("GET", "/tasks", headers=C, query={"page": n, "limit": 2}).body for n in (1, 2, 3, 4)]
    assert [[t["id"] for t in p] for p in pages] == [ids[4:2:-1], ids[2:0:-1], ids[:1], []]
    assert all(set(t) == set(SEED_RESPONSE) for t in pages[0])


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"page": 0}, {"page": -1},
                                   {"page": "1.5"}, {"page": 10**30}])
def test_list_refuses_pages_and_limits_out_of_range(api: Api, query: dict[str, Any]) -> None:
    reply = api.call("GET", "/tasks", headers=C, query=query)
    assert reply.status == 400 and set(reply.body) == {"message"} and next(iter(query)) in reply.body["message"]


# --- the standalone runner: an unprobed URL, labels in the options ----------------------------------


def test_an_image_task_from_a_bare_url_probes_its_input_and_ignores_the_labels(tmp_path: Path) -> None:
    from PIL import Image

    from mediajet.pipeline.context import StepContext
    from mediajet.pipeline.tasks import run_task
    from mediajet.settings import Settings
    from mediajet.storage.local import LocalBlobStore
    from mediajet.store.sqlite import SqliteJobStore
    from tests.media import make_video

    assert runner.encoder_options({"width": 320, "ref": "a", "filename": "b", "folder": "c", "webhook_url": "d"}) == {
        "width": 320}
    # what the API echoes the runner leaves out (the runner also leaves out what automations add: library/)
    assert v2025_08_20.LABEL_OPTIONS <= runner.LABEL_OPTIONS
    video = make_video(tmp_path / "in.mp4", seconds=1, size="640x360")
    store = SqliteJobStore(tmp_path / "db.sqlite")
    task, _ = store.create_task(Task(kind="image", input={"object": "external_file", "url": str(video)},
                                     options={"width": 320, "format": "png", "ref": "thumbnail", "filename": "t.png"}))
    ctx = StepContext(jobs=store, work=LocalBlobStore(tmp_path / "work"), outputs=LocalBlobStore(tmp_path / "files"),
                      settings=Settings(data_dir=tmp_path), scratch=tmp_path / "tmp", allow_local_files=True)
    done = run_task(task.id, ctx)
    assert done.status == "succeeded", done.error
    assert (done.output["format"], done.output["width"], done.output["height"]) == ("png", 320, 180)
    with Image.open(Path(done.output["url"].removeprefix("file://"))) as img:
        assert img.format == "PNG" and img.size == (320, 180)
    view = task_view(done, sign)
    assert view["status"] == "completed" and view["output"]["ref"] == "thumbnail"
    assert view["output"]["filename"] == "t.png"


# --- any engine task reads as a valid version 2025-08-20 task ---------------------------------------

_MS = st.integers(min_value=946684800000, max_value=4102444800000)  # 2000-2100
_FILE = st.fixed_dictionaries(
    {"object": st.just("file"), "url": st.sampled_from(["file:///data/files/tasks/x/o.mp4", URL,
                                                        "file:///data/work/x", "s3://b/k"])},
    optional={"kind": st.sampled_from(["video", "audio", "image"]), "format": st.sampled_from(
        ["mp4", "mov", "png", "jpeg", "mp3", "weird", "hls"]), "width": st.integers(1, 8192),
        "height": st.integers(1, 8192), "duration": st.floats(0.01, 1e5), "filesize": st.integers(0, 2**40),
        "fps": st.floats(1, 240), "bitrate": st.integers(1, 10**9),
        "codecs": st.fixed_dictionaries({}, optional={"video": st.text(max_size=8), "audio": st.text(max_size=8)})})
_INPUT = st.one_of(st.none(), st.builds(lambda u: {"object": "external_file", "url": u}, st.just(URL)),
                   _FILE.map(lambda f: {**f, "id": "file_abc", "ref": "original"}))
_TASKS = st.builds(
    Task,
    kind=st.sampled_from(["probe", "import", "video", "audio", "image", "animation", "adaptive_video", "export"]),
    input=_INPUT, options=st.dictionaries(st.sampled_from(["width", "format", "ref", "filename", "folder"]),
                                          st.one_of(st.integers(1, 4000), st.text(max_size=10))),
    output=st.one_of(st.none(), _FILE),
    status=st.sampled_from(["waiting", "processing", "succeeded", "failed", "cancelled"]),
    progress=st.one_of(st.none(), st.integers(0, 100)),
    error=st.one_of(st.none(), st.builds(ErrorInfo, kind=st.text(min_size=1, max_size=10), message=st.text(max_size=50))),
    created_at=_MS, updated_at=_MS, finished_at=st.one_of(st.none(), _MS),
)


@settings(max_examples=300, deadline=None)
@given(_TASKS)
def test_every_engine_task_reads_as_a_valid_c_task(task: Task) -> None:
    view = json.loads(json.dumps(task_view(task, sign)))  # what the client parses
    assert {"id", "object", "kind", "status", "created", "updated"} <= set(view)
    assert view["id"].startswith("task_") and view["object"] == "task" and isinstance(view["kind"], str)
    assert view["status"] in C_STATUSES
    parses_as_iso(view["created"]), parses_as_iso(view["updated"])
    progress = view.get("progress")
    assert progress is None or (isinstance(progress, int) and 0 <= progress <= 100)
    assert view.get("error") is None or isinstance(view["error"], str)
    assert (view.get("error") is not None) == (task.error is not None)
    assert isinstance(view["options"], dict)
    output = view["output"]
    assert output is None or task.status == "succeeded"
    for file in (f for f in (output, view["input"]) if f is not None):
        assert file["object"] == "source"
        assert file["url"] is None or not file["url"].startswith("file:")  # never a server path
        assert "type" in file or set(file) == {"object", "url"}
    if output is not None:
        assert output["id"] == "file_" + task.id.removeprefix("task_") and output["status"] == "ready"
        assert re.fullmatch(r"[a-z]+/[\w.+-]+", output["type"])
        parses_as_iso(output["created"]), parses_as_iso(output["updated"])


_JSON = st.recursive(st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(-1e6, 1e6) | st.text(max_size=20)
                     | st.sampled_from([URL, "file_x", "png", "video", "ingest", "chapters", "", "50%", "high"]),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=8)
_BODIES = st.dictionaries(st.sampled_from(["url", "file_id", "kind", "width", "height", "format", "ref", "filename",
                                           "folder", "webhook_url", "options", "quality", "start", "fit", "input"]),
                          _JSON, max_size=8) | _JSON


@settings(max_examples=300, deadline=None)
@given(body=_BODIES)
def test_whatever_a_client_posts_the_answer_is_a_task_or_a_message(tmp_path_factory: pytest.TempPathFactory,
                                                                   body: Any) -> None:
    api = make_api(tmp_path_factory.mktemp("fuzz"))
    reply = api.call("POST", "/tasks", raw=json.dumps(body), headers=C)
    assert reply.status in (201, 400, 404, 409, 422), reply.text
    if reply.status == 201:
        assert reply.body["status"] == "pending" and reply.body["id"].startswith("task_")
    else:
        assert set(reply.body) == {"message"} and reply.body["message"]


def test_idempotency_key_creates_one_task_and_replays_it_with_200(api: Api) -> None:
    body = {"url": URL, "kind": "video", "format": "webm"}
    first = api.call("POST", "/tasks", body, headers={**C, "Idempotency-Key": "c-1"})
    again = api.call("POST", "/tasks", body, headers={**C, "Idempotency-Key": "c-1"})
    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
    assert api.orchestrator.calls == [("start_task", first.body["id"])]

    reused = api.call("POST", "/tasks", {**body, "format": "mp4"}, headers={**C, "Idempotency-Key": "c-1"})
    assert reused.status == 409 and set(reused.body) == {"message"}
    assert "Idempotency-Key" in reused.body["message"]
    bad = api.call("POST", "/tasks", {"kind": "nope"}, headers={**C, "Idempotency-Key": "\x07"})
    assert bad.status == 400 and set(bad.body) == {"message"} and "Idempotency-Key" in bad.body["message"]
    assert len(api.orchestrator.calls) == 1
