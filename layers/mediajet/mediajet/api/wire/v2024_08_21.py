"""Generation D, API version 2024-08-21 (seed 004, spec §7): `POST /tasks`, `GET /tasks`, `GET /tasks/{id}` in
the `{meta, data, links}` envelope. This module reads requests into engine task bodies; v2024_08_21_present
shows engine records (ids, statuses, the envelope: see there).

`POST /tasks` takes `url` or `file_id` (exactly one), `kind` (image | video | audio) and optional `format`,
`width`, `height`, `filename`, `confidence`; other fields are ignored. Without `kind` the format names it
(jpeg/png/webp/avif → image, mp4/cmaf/webm/av1 → video, mp3/wav/ogg → audio; `jpg` reads as jpeg); neither
is a 400. What the engine
makes: `av1` is AV1 in MP4; `cmaf` is H.264/AAC in a progressive MP4 (CMAF's codecs, not its fragmented
layout: MediaJet does not segment). The intelligence kinds (objects, faces, text, nsfw, speech, subtitles,
outline, chapters, thumbnails) are not run by MediaJet: 422. `confidence` applies only to them, so it is
checked (a number from 0 to 1) and otherwise unused. The answer is HTTP 200 with `meta.status` 200, as in
the seed; the new task is `waiting` (the engine's state: the seed's example shows one already `processing`).
The requested `filename` is kept as a label in the engine task's options, as version 2025-08-20 keeps it (the
standalone runner leaves labels out of the encoder's options), and shown as the output's `filename`; the stored
file keeps the engine's name.

`GET /tasks`: `page` (1), `limit` (12, at most 100), `sort` (created | updated | filesize), `order`
(desc | asc), `kind`, `status` (ready | processing | waiting | error; several may be joined by commas).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from pydantic_core import PydanticCustomError

from mediajet.api import idempotency, tasks
from mediajet.api.errors import json_response
from mediajet.api.jobs import check_size
from mediajet.api.wire import WireContext, dated_common
from mediajet.api.wire import v2024_08_21_present as present
from mediajet.api.wire.dated_common import FileNotFound, FileNotReady, KindNotRun
from mediajet.errors import InvalidRequest, TaskNotFound
from mediajet.models.job import TASK_KINDS
from mediajet.models.options import OPTIONS_BY_KIND
from mediajet.models.requests import MAX_URL_CHARS, check_input_url
from mediajet.models.validation import clip, parse
from mediajet.store.base import TaskQuery

FORMATS = {"image": ("jpeg", "png", "webp", "avif"), "video": ("mp4", "cmaf", "webm", "av1"),
           "audio": ("mp3", "wav", "ogg")}
FORMAT_KIND = {fmt: kind for kind, formats in FORMATS.items() for fmt in formats} | {"jpg": "image"}
ENGINE_FORMAT = {"cmaf": {"format": "mp4"}, "av1": {"format": "mp4", "codec": "av1"}, "jpg": {"format": "jpeg"}}
INTELLIGENCE_KINDS = ("objects", "faces", "text", "nsfw", "speech", "subtitles", "outline", "chapters", "thumbnails")
LIST_KINDS = frozenset({*FORMATS, *INTELLIGENCE_KINDS, *TASK_KINDS})
SORTS, ORDERS = ("created", "updated", "filesize"), ("desc", "asc")
DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE = 12, 100, 1_000_000
MAX_FILENAME_CHARS = 255
_NUMBER = re.compile(r"[0-9]{1,9}")


def create_task(ctx: WireContext) -> Response:
    project, key = ctx.project(), idempotency.key_from(ctx.event.headers)
    body = ctx.body()
    kind, source, options = engine_parts(ctx, project, body)
    task, _ = tasks.start_task(ctx.deps, project, kind, source, options, key=key, sent=body,  # a replay too: 200
                               wire="2024-08-21")
    return json_response(200, present.one(ctx.event, 200, project, present.task_data(task, ctx.deps.sign_url)))


def get_task(ctx: WireContext, task_id: str) -> Response:
    project = ctx.project()
    if task_id.startswith(present.TASK_PREFIX):
        engine_id = present.ENGINE_PREFIX + task_id.removeprefix(present.TASK_PREFIX)
    elif task_id.startswith(present.ENGINE_PREFIX):
        engine_id = task_id
    else:
        raise TaskNotFound(clip(task_id))
    try:
        task = tasks.get_task(ctx.deps, project, engine_id)
    except TaskNotFound:
        raise TaskNotFound(clip(task_id)) from None  # named as the client sent it
    return json_response(200, present.one(ctx.event, 200, project, present.task_data(task, ctx.deps.sign_url)))


def list_tasks(ctx: WireContext) -> Response:
    project = ctx.project()
    params = ctx.query()
    query = list_query(params)
    found = ctx.deps.jobs.list_tasks(project, query)
    items = [present.task_data(task, ctx.deps.sign_url) for task in found.items]
    return json_response(200, present.listing(ctx.event, project, params, items, found.total, query.page,
                                              query.limit))


def error(event: BaseProxyEvent, status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
    message = str(body.get("message") or "the request failed")
    return json_response(status, present.failure(event, status, message), headers)


# --- POST /tasks --------------------------------------------------------------------------------


def engine_parts(ctx: WireContext, project: str, body: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A D create body → the engine task's kind, input and options, validated and bounded."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object: {\"url\": ..., \"kind\": ...}", field="body")
    fmt = _text(body, "format")
    kind = _kind(_text(body, "kind"), fmt)
    _confidence(body.get("confidence"))
    options: dict[str, Any] = dict(ENGINE_FORMAT.get(fmt, {"format": fmt})) if fmt else {}
    for side in ("width", "height"):
        if body.get(side) is not None:
            if kind == "audio":
                raise InvalidRequest(f"{side} applies to image and video tasks, not audio", kind="invalid_option",
                                     field=side)
            options[side] = body[side]
    # a bad width is named `width`, not the engine's `options.width`
    check_size(ctx.deps, kind, parse(OPTIONS_BY_KIND[kind], options))
    source = _input(ctx, project, body)
    filename = _filename(body.get("filename"))
    if filename:
        options["filename"] = filename  # a label (see the module's docstring)
    return kind, source, options


def _text(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"{field} must be a string", field=field)
    return value.strip().lower()


def _kind(kind: str | None, fmt: str | None) -> str:
    if kind in INTELLIGENCE_KINDS:
        raise KindNotRun(f"kind '{kind}' is an intelligence kind, which MediaJet does not run; it runs image, "
                         "video and audio tasks", field="kind")
    if kind is not None and kind not in FORMATS:
        raise InvalidRequest(f"kind must be one of image, video, audio (not '{clip(kind)}')", kind="invalid_kind",
                             field="kind")
    if fmt is not None and fmt not in FORMAT_KIND:
        raise InvalidRequest(f"format '{clip(fmt)}' is not one this API makes: image jpeg/png/webp/avif, video "
                             "mp4/cmaf/webm/av1, audio mp3/wav/ogg", kind="invalid_format", field="format")
    if kind is None and fmt is None:
        raise InvalidRequest("kind is required (image, video or audio), or a format that names one, such as "
                             "\"jpeg\"", kind="kind_required", field="kind")
    if kind is not None and fmt is not None and FORMAT_KIND[fmt] != kind:
        raise InvalidRequest(f"format '{fmt}' is not a {kind} format: use one of {', '.join(FORMATS[kind])}",
                             kind="invalid_format", field="format")
    return kind or FORMAT_KIND[fmt]  # type: ignore[index]


def _confidence(value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidRequest("confidence must be a number from 0 to 1", kind="invalid_option", field="confidence")


def _filename(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if (not isinstance(value, str) or len(value) > MAX_FILENAME_CHARS or "/" in value or "\\" in value
            or value.strip() in ("", ".", "..") or any(unicodedata.category(c).startswith("C") for c in value)):
        raise InvalidRequest(f"filename must be a file name of 1 to {MAX_FILENAME_CHARS} characters, without "
                             "slashes or control characters", kind="invalid_option", field="filename")
    return value


def _input(ctx: WireContext, project: str, body: dict[str, Any]) -> dict[str, Any]:
    url, file_id = body.get("url"), body.get("file_id")
    if url not in (None, "") and file_id not in (None, ""):
        raise InvalidRequest("send either url or file_id, not both", kind="invalid_input", field="file_id")
    if file_id not in (None, ""):
        return _file_input(ctx, project, file_id)
    if url in (None, ""):
        raise InvalidRequest("url or file_id is required: the input of the task", kind="input_required",
                             field="url")
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS:
        raise InvalidRequest(f"url must be a string of at most {MAX_URL_CHARS} characters", kind="invalid_input",
                             field="url")
    try:
        return tasks.normalise_input({"url": check_input_url(url)})
    except PydanticCustomError as exc:
        raise InvalidRequest(f"url: {exc.message()}", kind="invalid_input", field="url") from None


def _file_input(ctx: WireContext, project: str, file_id: Any) -> dict[str, Any]:
    """`file_<suffix>` is the output of task_<suffix>: its File, with a link the pipeline can fetch."""
    if not isinstance(file_id, str):
        raise InvalidRequest("file_id must be a string: the id of a task's output, file_…", kind="invalid_input",
                             field="file_id")
    source, output = dated_common.file_source(ctx, project, file_id)
    if source is not None and source.status in ("waiting", "processing"):
        raise FileNotReady(f"file '{clip(file_id)}' is not ready: the task making it is "
                           f"{present.STATUS_TO_D[source.status]}", field="file_id")
    if output is None:  # no such task, its task failed, or it has no copy this server hands out
        raise FileNotFound(f"No file with id '{clip(file_id)}' exists in this project.", field="file_id")
    return {**output, "id": file_id}


# --- GET /tasks ---------------------------------------------------------------------------------


def list_query(params: dict[str, str]) -> TaskQuery:
    def given(name: str) -> str | None:
        value = params.get(name)
        return value.strip() if value and value.strip() else None

    def number(name: str, default: int, most: int) -> int:
        raw = given(name)
        if raw is None:
            return default
        if not _NUMBER.fullmatch(raw) or not 1 <= int(raw) <= most:
            raise InvalidRequest(f"query parameter '{name}' must be a whole number from 1 to {most}",
                                 field=name)
        return int(raw)

    def choice(name: str, allowed: tuple[str, ...]) -> str:
        raw = given(name) or allowed[0]
        if raw not in allowed:
            raise InvalidRequest(f"query parameter '{name}' must be one of {', '.join(allowed)} "
                                 f"(not '{clip(raw)}')", field=name)
        return raw

    kind = given("kind")
    if kind is not None and kind not in LIST_KINDS:
        raise InvalidRequest(f"query parameter 'kind' must be image, video, audio or a task kind (not "
                             f"'{clip(kind)}')", kind="invalid_kind", field="kind")
    status: tuple[str, ...] | None = None
    if given("status") is not None:
        wanted = [part.strip() for part in str(given("status")).split(",") if part.strip()]
        unknown = [part for part in wanted if part not in present.STATUS_FROM_D]
        if unknown:
            raise InvalidRequest(f"query parameter 'status' must be one of {', '.join(present.D_STATUSES)} "
                                 f"(not '{clip(unknown[0])}')", field="status")
        status = tuple(dict.fromkeys(s for part in wanted for s in present.STATUS_FROM_D[part]))
    return TaskQuery(page=number("page", 1, MAX_PAGE), limit=number("limit", DEFAULT_LIMIT, MAX_LIMIT),
                     sort=choice("sort", SORTS), order=choice("order", ORDERS), kind=kind,  # type: ignore[arg-type]
                     status=status)
