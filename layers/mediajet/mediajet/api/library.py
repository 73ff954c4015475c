"""What the media library's routes do (version 2025-08-20, spec §6.2): files, media, automations, signatures.

Requests are parsed here into records (bounded like every other record: labels of at most 255 characters,
`metadata` by the Stripe rule of README "Limits", workflows by library/automations.py); the records are
presented by api/wire/v2025_08_20_library.py.

`POST /files` does not download in the request: it stores the file as `processing` and starts an `ingest`
task (the SSRF-guarded fetcher, the probe, the size limits of every input), which fills the file in
(library/files.py). Its `Idempotency-Key` is the task's: a retry gets the same file.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.event_handler import Response

from mediajet.api import idempotency, records, tasks
from mediajet.api.deps import ApiDeps
from mediajet.api.errors import json_response
from mediajet.api.wire import WireContext
from mediajet.api.wire.v2025_08_20 import check_label, count_param, url_input
from mediajet.api.wire.v2025_08_20_library import automation_view, file_view, media_view
from mediajet.errors import InvalidRequest, MediaJetError
from mediajet.library import automations, files
from mediajet.library.media import delete_file, delete_with_files
from mediajet.models.job import Task
from mediajet.models.library import Automation, LibraryFile, LibraryRecord, Media
from mediajet.models.requests import METADATA_BOUNDS, check_object
from mediajet.models.validation import clip

FILE_CREATE = ("url", "media_id", "folder", "filename", "ref", "metadata")
FILE_PATCH = ("folder", "filename", "ref", "metadata")
MEDIA_FIELDS = ("title", "alt", "metadata")
AUTOMATION_FIELDS = ("name", "description", "trigger", "workflow", "status")
SIGNATURE_FIELDS = ("filename", "folder", "expiry", "method")
TEXT_CHARS = 1000  # media title and alt, automation name and description
MAX_EXPIRY_S = 7 * 24 * 3600


class UploadsUnavailable(MediaJetError):
    status = 501
    default_kind = "not_supported"


# --- files ----------------------------------------------------------------------------------------


def create_file(ctx: WireContext) -> Response:
    project, key, body = ctx.project(), idempotency.key_from(ctx.event.headers), _fields(ctx.body(), FILE_CREATE)
    source = url_input(body.get("url"))
    labels = {name: body[name] for name in ("folder", "filename", "ref") if body.get(name) is not None}
    for name, value in labels.items():
        check_label(name, value)
    media = (ctx.deps.jobs.get_record(Media, _id(body["media_id"], "media_id"), project)
             if body.get("media_id") else None)
    file, created = ingest(ctx.deps, project, source, labels, _metadata(body), media, key=key, sent=body)
    return json_response(201 if created else 200, file_view(file, ctx.deps.sign_url))


def ingest(deps: ApiDeps, project: str, source: dict[str, Any], labels: dict[str, str], metadata: dict[str, Any],
           media: Media | None, *, key: str | None = None, sent: Any = None) -> tuple[LibraryFile, bool]:
    """Store a `processing` file for `source` (in `media`, or a new media item) and start the ingest task that
    fills it in. Also what an upload to the AWS inbox becomes (aws/library_uploads.py). Returns (file, created)."""
    store = deps.jobs
    # the size a stored record may have (api/records.py), checked before anything is stored or started
    records.check_library(LibraryFile(project_id=project, media_id=media.id if media else "med_", metadata=metadata,
                                      source_url=source["url"], **labels))

    def record(task: Task) -> None:  # stored before the ingest starts, so the task finds it to fill in
        target = media or store.create_record(Media(project_id=project))
        first = media is None or not store.media_files(project, target.id)
        store.create_record(LibraryFile(id=files.file_id_for(task.id), project_id=project, media_id=target.id,
                                        status="processing", source_url=source["url"], task_id=task.id,
                                        metadata=metadata, original=first and not target.announced, **labels))

    options = {**labels, **({"media_id": media.id} if media else {})}
    task, created = tasks.start_task(deps, project, "import", source, options, key=key, sent=sent,
                                     before_start=record)
    return store.get_record(LibraryFile, files.file_id_for(task.id), project), created


def list_files(ctx: WireContext) -> Response:
    found = _page(ctx, LibraryFile)
    return json_response(200, [file_view(f, ctx.deps.sign_url) for f in found])


def get_file(ctx: WireContext, file_id: str) -> Response:
    return json_response(200, file_view(_get(ctx, LibraryFile, file_id), ctx.deps.sign_url))


def update_file(ctx: WireContext, file_id: str) -> Response:
    file, body = _get(ctx, LibraryFile, file_id), _fields(ctx.body(), FILE_PATCH)
    changes: dict[str, Any] = {}
    for name in ("folder", "filename", "ref"):
        if name in body:
            if body[name] is not None:
                check_label(name, body[name])
            changes[name] = body[name]
    if "metadata" in body:
        changes["metadata"] = _metadata(body)
    changed = file.touched(**changes)
    records.check_library(changed)
    saved = ctx.deps.jobs.save_record(changed)
    return json_response(200, file_view(saved, ctx.deps.sign_url))


def delete_file_route(ctx: WireContext, file_id: str) -> Response:
    file = _get(ctx, LibraryFile, file_id)
    delete_file(ctx.deps.jobs, file, ctx.deps.delete_uri)
    return json_response(202, {"message": f"file {file.id} and its stored bytes are deleted"})


# --- media ----------------------------------------------------------------------------------------


def create_media(ctx: WireContext) -> Response:
    project, key, body = ctx.project(), idempotency.key_from(ctx.event.headers), _fields(ctx.body(), MEDIA_FIELDS)
    draft = Media(project_id=project, **_media_changes(body))
    records.check_library(draft)
    media, created = idempotency.create_record(ctx.deps.jobs, draft, key, body)
    files = [] if created else ctx.deps.jobs.media_files(project, media.id)
    return json_response(201 if created else 200, media_view(media, files, ctx.deps.sign_url))


def list_media(ctx: WireContext) -> Response:
    store = ctx.deps.jobs
    return json_response(200, [media_view(m, store.media_files(m.project_id, m.id), ctx.deps.sign_url)
                               for m in _page(ctx, Media)])


def get_media(ctx: WireContext, media_id: str) -> Response:
    media = _get(ctx, Media, media_id)
    return json_response(200, media_view(media, ctx.deps.jobs.media_files(media.project_id, media.id),
                                         ctx.deps.sign_url))


def update_media(ctx: WireContext, media_id: str) -> Response:
    media, body = _get(ctx, Media, media_id), _fields(ctx.body(), MEDIA_FIELDS)
    changed = media.touched(**_media_changes(body))
    records.check_library(changed)
    saved = ctx.deps.jobs.save_record(changed)
    return json_response(200, media_view(saved, ctx.deps.jobs.media_files(saved.project_id, saved.id),
                                         ctx.deps.sign_url))


def delete_media(ctx: WireContext, media_id: str) -> Response:
    media = _get(ctx, Media, media_id)
    delete_with_files(ctx.deps.jobs, media, ctx.deps.delete_uri)
    return json_response(202, {"message": f"media {media.id}, its files and their stored bytes are deleted"})


def _media_changes(body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {name: _text(body, name) for name in ("title", "alt") if name in body}
    if "metadata" in body:
        changes["metadata"] = _metadata(body)
    return changes


# --- automations ----------------------------------------------------------------------------------


def create_automation(ctx: WireContext) -> Response:
    project, key, body = ctx.project(), idempotency.key_from(ctx.event.headers), _fields(ctx.body(), AUTOMATION_FIELDS)
    for required in ("trigger", "workflow"):
        if body.get(required) is None:
            raise InvalidRequest(f"{required} is required", field=required)
    automation = Automation(project_id=project, **_automation_changes(body))
    records.check_library(automation)
    stored, created = idempotency.create_record(ctx.deps.jobs, automation, key, body)
    return json_response(201 if created else 200, automation_view(stored))


def list_automations(ctx: WireContext) -> Response:
    return json_response(200, [automation_view(a) for a in _page(ctx, Automation)])


def get_automation(ctx: WireContext, automation_id: str) -> Response:
    return json_response(200, automation_view(_get(ctx, Automation, automation_id)))


def update_automation(ctx: WireContext, automation_id: str) -> Response:
    automation, body = _get(ctx, Automation, automation_id), _fields(ctx.body(), AUTOMATION_FIELDS)
    changed = automation.touched(**_automation_changes(body))
    records.check_library(changed)
    saved = ctx.deps.jobs.save_record(changed)
    return json_response(200, automation_view(saved))


def delete_automation(ctx: WireContext, automation_id: str) -> Response:
    automation = _get(ctx, Automation, automation_id)
    ctx.deps.jobs.delete_record(Automation, automation.id, automation.project_id)
    return json_response(202, {"message": f"automation {automation.id} is deleted; tasks it started run on"})


def _automation_changes(body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {name: _text(body, name) for name in ("name", "description") if name in body}
    if body.get("trigger") is not None:
        changes["trigger"] = automations.check_trigger(body["trigger"])
    if body.get("workflow") is not None:
        changes["workflow"] = automations.check_workflow(body["workflow"])
    if body.get("status") is not None:
        if body["status"] not in ("active", "paused"):
            raise InvalidRequest("status must be active or paused", field="status")
        changes["status"] = body["status"]
    return changes


# --- signatures -----------------------------------------------------------------------------------


def create_signature(ctx: WireContext) -> Response:
    project, body = ctx.project(), _fields(ctx.body(), SIGNATURE_FIELDS)
    if ctx.deps.uploads is None:
        raise UploadsUnavailable("this deployment signs no upload URLs yet; use POST /files with a URL")
    filename = body.get("filename")
    if filename is None:
        raise InvalidRequest("filename is required", field="filename")
    check_label("filename", filename)
    folder = body.get("folder")
    if folder is not None:
        check_label("folder", folder)
    now = int(time.time())
    expiry = body.get("expiry", now + 3600)
    if isinstance(expiry, bool) or not isinstance(expiry, int) or not now < expiry <= now + MAX_EXPIRY_S:
        raise InvalidRequest(f"expiry must be a Unix time in seconds, in the future and at most {MAX_EXPIRY_S} s "
                             "away", field="expiry")
    method = body.get("method") or "get"
    if method not in ("get", "put"):
        raise InvalidRequest("method must be get or put", field="method")
    return json_response(201, ctx.deps.uploads.signature(project, folder, filename, expiry, method))


# --- shared ---------------------------------------------------------------------------------------


def _fields(body: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", field="body")
    extra = sorted(set(body) - set(allowed))
    if extra:
        raise InvalidRequest(f"unknown field '{clip(extra[0])}'; this request takes {', '.join(allowed)}",
                             field=extra[0])
    return body


def _metadata(body: dict[str, Any]) -> dict[str, Any]:
    value = body.get("metadata")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest("metadata must be an object of key-value pairs", field="metadata")
    check_object(value, "metadata", "request_invalid", METADATA_BOUNDS)
    return value


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > TEXT_CHARS):
        raise InvalidRequest(f"{name} must be a string of at most {TEXT_CHARS} characters", field=name)
    return value


def _id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 64:
        raise InvalidRequest(f"{field} must be an id", field=field)
    return value


def _get(ctx: WireContext, cls: type[Any], record_id: str) -> Any:
    return ctx.deps.jobs.get_record(cls, record_id, ctx.project())


def _page(ctx: WireContext, cls: type[LibraryRecord]) -> list[Any]:
    project, query = ctx.project(), ctx.query()
    page, limit = count_param(query, "page", 1, 1_000_000, 1), count_param(query, "limit", 1, 100, 20)
    return ctx.deps.jobs.list_records(cls, project, page, limit)

