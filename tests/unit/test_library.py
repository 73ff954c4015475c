"""The media library through the API handler (version 2025-08-20: files, media, automations, signatures) and
its logic (library/): what a client sees of a file while it is ingested and once its task finished, which
automation steps run on a new media item and after each other, and what is refused before anything is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mediajet.api.app import create_app
from mediajet.api.deps import ApiDeps
from mediajet.library import LibraryContext, automations, files
from mediajet.models.job import ErrorInfo, Task
from mediajet.models.library import Automation, LibraryFile, Media
from tests.unit.api_support import KEY_B, SIGNED, Api, make_api, sign

C = {"Accept-Version": "2025-08-20"}
VIDEO_OUTPUT = {"object": "file", "kind": "video", "format": "mp4", "width": 320, "height": 240, "duration": 1.0,
                "codecs": {"video": "h264", "audio": "aac"}, "filesize": 5000}


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return make_api(tmp_path)


def call(api: Api, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
    return api.call(method, path, body, headers={**C, **kwargs.pop("headers", {})}, **kwargs)


def finish(api: Api, task_id: str, output: dict[str, Any] | None = None, *, started: list[Task] | None = None) -> Task:
    """What the worker does when a task ends: the record, then library/files.task_finished."""
    task = api.store.get_task(task_id)
    done = api.store.save_task(task.model_copy(update={"status": "succeeded" if output else "failed",
                                                       "output": output}))
    lib = LibraryContext(api.store, (started.append if started is not None else None), sign)
    files.task_finished(lib, done)
    return done


# --- files ----------------------------------------------------------------------------------------------


def test_a_file_from_a_url_is_processing_then_ready_with_a_signed_link(api: Api) -> None:
    created = call(api, "POST", "/files", {"url": "https://media.example/talks/intro.mp4", "folder": "talks",
                                           "ref": "original", "metadata": {"speaker": "Ada"}})
    assert created.status == 201, created.text
    file = created.body
    # before the probe: what the URL says, and the URL itself as the only place the bytes are
    assert (file["status"], file["kind"], file["type"], file["filesize"]) == ("processing", "video", "video/mp4", 0)
    assert file["url"] == "https://media.example/talks/intro.mp4" and file["media_id"].startswith("med_")
    task_id = api.orchestrator.calls[-1][1]
    assert file["id"] == "file_" + task_id.removeprefix("task_")
    task = api.store.get_task(task_id)
    assert task.kind == "import" and task.input == {"object": "external_file", "url": "https://media.example/talks/intro.mp4"}

    finish(api, task_id, {**VIDEO_OUTPUT, "url": f"file:///data/files/tasks/{task_id}/input"})
    ready = call(api, "GET", f"/files/{file['id']}").body
    assert (ready["status"], ready["width"], ready["codec"], ready["container"], ready["orientation"]) == (
        "ready", 320, "h264", "mp4", "landscape")
    assert ready["url"] == SIGNED + f"data/files/tasks/{task_id}/input" and ready["original"] is True
    assert (ready["folder"], ready["ref"], ready["metadata"]) == ("talks", "original", {"speaker": "Ada"})
    media = call(api, "GET", f"/media/{file['media_id']}").body
    assert media["kind"] == "video" and media["urls"] == {"original": ready["url"]} and media["width"] == 320


def test_an_ingest_that_fails_leaves_a_failed_file_that_says_why(api: Api) -> None:
    file = call(api, "POST", "/files", {"url": "https://media.example/x.mp4"}).body
    task = api.store.get_task(api.orchestrator.calls[-1][1])
    api.store.save_task(task.model_copy(update={"status": "failed", "error": ErrorInfo(
        kind="input_unreachable", message="404 from the origin")}))
    files.task_finished(LibraryContext(api.store), api.store.get_task(task.id))
    failed = call(api, "GET", f"/files/{file['id']}").body
    assert failed["status"] == "failed" and failed["error"] == "404 from the origin"
    reuse = call(api, "POST", "/tasks", {"file_id": file["id"], "kind": "image"})
    assert reuse.status == 404 and "no stored copy" in reuse.body["message"]


def test_an_idempotency_key_makes_one_file_media_and_automation(api: Api) -> None:
    workflow = [{"kind": "image", "ref": "poster"}]
    for path, body in (("/files", {"url": "https://media.example/a.mp4"}), ("/media", {"title": "x"}),
                       ("/automations", {"trigger": {"kind": "event", "event": "media.created"}, "workflow": workflow})):
        key = {"Idempotency-Key": f"key-{path[1:]}-0123456789"}
        first, again = (call(api, "POST", path, body, headers=key) for _ in range(2))
        assert (first.status, again.status) == (201, 200) and first.body["id"] == again.body["id"], path
        other = call(api, "POST", path, {**body, "metadata": {"n": 1}} if path != "/automations" else
                     {**body, "name": "other"}, headers=key)
        assert other.status == 409, path
    assert len(api.store.list_records(Media, "prj_a", 1, 10)) == 2  # the file's and the empty one


def test_patch_changes_only_labels_and_metadata(api: Api) -> None:
    file = call(api, "POST", "/files", {"url": "https://media.example/a.mp4", "folder": "a", "ref": "x"}).body
    patched = call(api, "PATCH", f"/files/{file['id']}", {"filename": "b.mp4", "ref": None, "metadata": {"k": "v"}})
    assert patched.status == 200
    assert (patched.body["folder"], patched.body["filename"], "ref" not in patched.body, patched.body["metadata"]) == (
        "a", "b.mp4", True, {"k": "v"})
    for body in ({"url": "https://elsewhere.example/b.mp4"}, {"filename": "a/b.mp4"}, {"metadata": {"k": {"x": 1}}}):
        refused = call(api, "PATCH", f"/files/{file['id']}", body)
        assert refused.status == 400 and set(refused.body) == {"message"}, body


def test_another_project_sees_none_of_it(api: Api) -> None:
    file = call(api, "POST", "/files", {"url": "https://media.example/a.mp4"}).body
    auto = call(api, "POST", "/automations", {"trigger": {"kind": "event", "event": "media.created"},
                                              "workflow": [{"kind": "audio", "format": "mp3"}]}).body
    for path in (f"/files/{file['id']}", f"/media/{file['media_id']}", f"/automations/{auto['id']}"):
        for method in ("GET", "PATCH", "DELETE"):
            assert call(api, method, path, {} if method == "PATCH" else None, key=KEY_B).status == 404, (method, path)
    for path in ("/files", "/media", "/automations"):
        assert call(api, "GET", path, key=KEY_B).body == []
    into_theirs = call(api, "POST", "/files", {"url": "https://media.example/b.mp4", "media_id": file["media_id"]},
                       key=KEY_B)
    assert into_theirs.status == 404
    assert call(api, "POST", "/tasks", {"url": "https://m.example/a.mp4", "kind": "image",
                                        "media_id": file["media_id"]}, key=KEY_B).status == 404


def test_errors_follow_the_version_header(api: Api) -> None:
    dated = call(api, "GET", "/media/med_nope")
    assert dated.status == 404 and set(dated.body) == {"message"}  # version 2025-08-20: {message}
    plain = api.call("GET", "/media/med_nope")
    assert plain.status == 404 and plain.body["kind"] == "media_not_found"  # no header: {kind, message}


def test_deleting_media_deletes_its_files_and_their_bytes(tmp_path: Path) -> None:
    deleted: list[str] = []
    api = make_api(tmp_path)
    api.app = create_app(ApiDeps(jobs=api.store, orchestrator=api.orchestrator, settings=api.settings, sign_url=sign,
                                 delete_uri=deleted.append))
    file = call(api, "POST", "/files", {"url": "https://media.example/a.mp4"}).body
    task_id = api.orchestrator.calls[-1][1]
    finish(api, task_id, {**VIDEO_OUTPUT, "url": "file:///data/files/a.mp4"})
    gone = call(api, "DELETE", f"/media/{file['media_id']}")
    assert gone.status == 202 and "deleted" in gone.body["message"]
    assert deleted == ["file:///data/files/a.mp4"]
    assert call(api, "GET", f"/files/{file['id']}").status == 404


# --- automations ------------------------------------------------------------------------------------------


def test_steps_of_kinds_the_engine_does_not_run_are_a_422_and_bad_options_a_400(api: Api) -> None:
    trigger = {"kind": "event", "event": "media.created"}
    speech = call(api, "POST", "/automations", {"trigger": trigger, "workflow": [
        {"kind": "video", "next": [{"kind": "subtitles", "ref": "subs"}]}]})
    assert speech.status == 422 and "does not run 'subtitles'" in speech.body["message"]
    for workflow in ([{"kind": "image", "width": "huge"}], [{"kind": "conditions", "conditions": [{"prop": "kind"}]}],
                     [], [{"kind": "teleport"}]):
        refused = call(api, "POST", "/automations", {"trigger": trigger, "workflow": workflow})
        assert refused.status == 400, workflow
    wrong_trigger = call(api, "POST", "/automations", {"trigger": {"kind": "event", "event": "task.completed"},
                                                       "workflow": [{"kind": "image"}]})
    assert wrong_trigger.status == 400 and "media.created" in wrong_trigger.body["message"]
    assert call(api, "GET", "/automations").body == []  # nothing refused was stored


def test_a_new_media_item_runs_each_automation_once_in_parallel_then_chained(api: Api) -> None:
    workflow = [
        {"kind": "video", "ref": "small", "width": 160, "next": [{"kind": "image", "ref": "poster", "format": "jpeg"}]},
        {"kind": "conditions", "conditions": [{"prop": "kind", "value": "video"}, {"prop": "metadata.lang",
                                                                                    "value": "en"}],
         "next": [{"kind": "audio", "ref": "sound", "format": "mp3"}]},
        {"kind": "conditions", "conditions": [{"prop": "width", "value": "1920"}], "next": [{"kind": "image"}]},
    ]
    auto = call(api, "POST", "/automations", {"trigger": {"kind": "event", "event": "media.created"},
                                              "workflow": workflow}).body
    call(api, "POST", "/automations", {"trigger": {"kind": "event", "event": "media.created"}, "status": "paused",
                                       "workflow": [{"kind": "image", "ref": "never"}]})
    file = call(api, "POST", "/files", {"url": "https://media.example/a.mp4", "metadata": {"lang": "en"}}).body
    started: list[Task] = []
    finish(api, api.orchestrator.calls[-1][1], {**VIDEO_OUTPUT, "url": "file:///data/files/a.mp4"}, started=started)
    # the video step and the audio step behind the true condition, at once; not the 1920 one, not the paused one
    assert sorted((t.kind, t.options["ref"], t.options["step"]) for t in started) == [
        ("audio", "sound", "1.0"), ("video", "small", "0")]
    video = next(t for t in started if t.kind == "video")
    assert video.options == {"ref": "small", "width": 160, "media_id": file["media_id"], "automation_id": auto["id"],
                             "step": "0"}
    assert video.input["id"] == file["id"] and video.input["url"] == SIGNED + "data/files/a.mp4"
    # a second ready file in the same media item fires nothing again
    again: list[Task] = []
    extra = call(api, "POST", "/files", {"url": "https://media.example/b.mp4", "media_id": file["media_id"]}).body
    finish(api, api.orchestrator.calls[-1][1], {**VIDEO_OUTPUT, "url": "file:///data/files/b.mp4"}, started=again)
    assert again == [] and call(api, "GET", f"/files/{extra['id']}").body["original"] is False
    # the video step's result joins the media item and starts its `next` on that result
    chained: list[Task] = []
    finish(api, video.id, {**VIDEO_OUTPUT, "width": 160, "height": 120, "url": f"file:///data/files/{video.id}.mp4"},
           started=chained)
    assert [(t.kind, t.options["ref"], t.options["step"], t.input["id"]) for t in chained] == [
        ("image", "poster", "0.0", files.file_id_for(video.id))]
    media = call(api, "GET", f"/media/{file['media_id']}").body
    assert media["urls"]["small"] == SIGNED + f"data/files/{video.id}.mp4" and media["width"] == 320
    assert [f.get("ref") for f in media["files"]] == [None, "small", None]  # in creation order


def test_conditions_compare_file_properties_and_metadata_as_text() -> None:
    file = LibraryFile(project_id="p", media_id="m", kind="video", width=1920, height=1080, duration=2.0,
                       metadata={"approved": True})
    media = Media(project_id="p", metadata={"lang": "EN"})
    holds = [automations.holds({"prop": p, "value": v}, file, media) for p, v in [
        ("width", "1920"), ("orientation", "landscape"), ("duration", 2), ("metadata.approved", "true"),
        ("metadata.lang", "en"), ("height", "720"), ("metadata.missing", "x"), ("nonsense", "x")]]
    assert holds == [True, True, True, True, True, False, False, False]


def test_signatures_need_uploads_and_check_their_fields(api: Api) -> None:
    refused = call(api, "POST", "/signatures", {"filename": "a.mp4"})
    assert refused.status == 501  # this API has no upload endpoint (AWS, for now): it says so
    assert Automation(project_id="p").trigger == {"kind": "event", "event": "media.created"}


def test_a_record_that_would_not_fit_a_list_page_is_a_413_before_anything_is_stored(api: Api) -> None:
    heavy = {f"k{n}": "😀" * 500 for n in range(50)}  # within the metadata rule, 100 KB as UTF-8
    for method, path, body in (("POST", "/files", {"url": "https://media.example/a.mp4", "metadata": heavy}),
                               ("POST", "/media", {"metadata": heavy})):
        refused = call(api, method, path, body)
        assert refused.status == 413 and "KiB" in refused.body["message"], path
    assert api.orchestrator.calls == [] and api.store.list_records(Media, "prj_a", 1, 10) == []
