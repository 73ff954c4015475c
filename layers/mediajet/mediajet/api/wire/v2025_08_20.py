"""Generation C, API version 2025-08-20 (seed 003, the `ittybit` SDK 1.0.0): `POST /tasks` with a flat body,
`GET /tasks` (page/limit, a bare array), `GET /tasks/{id}`, errors `{message}`. Records read as in v2025_08_20_present.

A body names its source with exactly one of `url` or `file_id`, and its `kind`. Every other field is echoed
in the task's `options`: `filename`, `folder`, `ref` and `webhook_url` as labels, the rest as the kind's
options, validated by the engine's options models (`width`, `format`, `quality`, ...; an `options` object,
the R-era form, is read too). Kinds: `ingest` is the engine's `import` (the input stored as a file);
`video`, `image` and `audio` encode. The kinds this engine does not run are a 422 that says so.

`file_id`: a file of the media library (api/library.py); a task's result is one, `file_<suffix>` made by the
task `task_<suffix>`. A task finished before the library kept it is still found through that task. Unknown (or
its task failed): 404; not ready yet: 409. `media_id`: the media item the result joins (404 when unknown).
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from mediajet.api import idempotency, tasks
from mediajet.api.errors import json_response
from mediajet.api.jobs import check_size
from mediajet.api.wire import WireContext, dated_common
from mediajet.api.wire.dated_common import FileNotFound, FileNotReady, KindNotRun
from mediajet.api.wire.v2025_08_20_present import STATUSES, task_view
from mediajet.errors import InvalidRequest
from mediajet.library.automations import task_input
from mediajet.models.library import LibraryFile, Media
from mediajet.models.options import OPTIONS_BY_KIND
from mediajet.models.requests import INPUT_SCHEMES, MAX_URL_CHARS
from mediajet.models.validation import clip, parse
from mediajet.store.base import TaskQuery

RUN_KINDS = {"ingest": "import", "video": "video", "image": "image", "audio": "audio"}  # C kind → engine kind
NOT_RUN = ("chapters", "subtitles", "thumbnails", "nsfw", "speech", "description", "outline", "prompt", "workflow",
           "conditions", "http")
# The option keys that label a task's output; the standalone runner leaves them out of the encoder's options
# (pipeline/tasks.py LABEL_OPTIONS, not imported here: it would load the whole media pipeline into the API).
LABEL_OPTIONS = frozenset({"ref", "filename", "folder", "webhook_url", "media_id"})
LABEL_CHARS = 255
MAX_PAGE = 1_000_000
MAX_LIMIT = 100
_RUNS = "ingest, video, image and audio"


# --- routes ---------------------------------------------------------------------------------------


def create_task(ctx: WireContext) -> Response:
    project, key = ctx.project(), idempotency.key_from(ctx.event.headers)
    body = ctx.body()
    kind, options = parse_body(body)
    source = body.get("url"), body.get("file_id")
    task_input = url_input(source[0]) if source[0] is not None else file_input(ctx, project, source[1])
    if "media_id" in options:  # its result joins this media item (library/files.py): it must be one of ours
        ctx.deps.jobs.get_record(Media, options["media_id"], project)
    engine_kind = RUN_KINDS[kind]
    if engine_kind in OPTIONS_BY_KIND:
        check_size(ctx.deps, engine_kind, parse(OPTIONS_BY_KIND[engine_kind], encoder_options(options)))
    task, created = tasks.start_task(ctx.deps, project, engine_kind, task_input, options, key=key, sent=body,
                                     wire="2025-08-20")
    return json_response(201 if created else 200, task_view(task, ctx.deps.sign_url))  # 200: a key's replay


def get_task(ctx: WireContext, task_id: str) -> Response:
    return json_response(200, task_view(tasks.get_task(ctx.deps, ctx.project(), task_id), ctx.deps.sign_url))


def list_tasks(ctx: WireContext) -> Response:
    project = ctx.project()
    query = ctx.query()
    page = count_param(query, "page", 1, MAX_PAGE, 1)
    limit = count_param(query, "limit", 1, MAX_LIMIT, 20)
    found = ctx.deps.jobs.list_tasks(project, TaskQuery(page=page, limit=limit))
    return json_response(200, [task_view(task, ctx.deps.sign_url) for task in found.items])


def error(event: BaseProxyEvent, status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
    """`{message}` only (§6.1): the status code carries the rest; a 500 names its request id in the text."""
    message = str(body.get("message") or "error")
    if body.get("request_id"):
        message += f" (request {body['request_id']})"
    return json_response(status, {"message": message}, headers)


# --- request --------------------------------------------------------------------------------------


def parse_body(body: Any) -> tuple[str, dict[str, Any]]:
    """The C kind and the options to echo (labels and kind options, nulls dropped), all checked."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", field="body")
    kind = body.get("kind")
    if kind is None or kind == "":
        raise InvalidRequest(f"kind is required: MediaJet runs {_RUNS}", kind="kind_required", field="kind")
    if kind in NOT_RUN:
        raise KindNotRun(f"MediaJet does not run '{kind}' tasks; it runs {_RUNS}", field="kind")
    if not isinstance(kind, str) or kind not in RUN_KINDS:
        raise InvalidRequest(f"kind '{clip(str(kind))}' is not a task kind; MediaJet runs {_RUNS}",
                             kind="invalid_kind", field="kind")
    given = [name for name in ("url", "file_id") if body.get(name) is not None]
    if len(given) != 1:
        problem = "not both" if given else "one of them is required"
        raise InvalidRequest(f"send exactly one of url or file_id ({problem})", kind="input_required", field="url")
    options = {k: v for k, v in body.items() if k not in ("url", "file_id", "kind", "options") and v is not None}
    nested = body.get("options")
    if nested is not None:
        if not isinstance(nested, dict):
            raise InvalidRequest("options must be an object (or send the options at the top level)",
                                 kind="invalid_option", field="options")
        for key, value in nested.items():
            if key in options and options[key] != value:
                raise InvalidRequest(f"'{clip(key)}' is given twice, at the top level and in options, with "
                                     "different values", kind="invalid_option", field=key)
            if value is not None:
                options[key] = value
    for name in ("filename", "folder", "ref", "media_id"):
        if name in options:
            check_label(name, options[name])
    if "webhook_url" in options:
        _url("webhook_url", options["webhook_url"], ("http", "https"))
    engine_kind = RUN_KINDS[kind]
    if engine_kind not in OPTIONS_BY_KIND:
        extra = sorted(set(options) - LABEL_OPTIONS)
        if extra:
            raise InvalidRequest(f"unknown field '{clip(extra[0])}': {kind} takes url or file_id, filename, folder, "
                                 "ref and webhook_url", kind="invalid_option", field=extra[0])
    else:  # validated now: a bad option is a 400, not a failed task
        parse(OPTIONS_BY_KIND[engine_kind], encoder_options(options))
    return kind, options


def encoder_options(options: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items() if key not in LABEL_OPTIONS}


def check_label(name: str, value: Any) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= LABEL_CHARS:
        raise InvalidRequest(f"{name} must be a string of 1 to {LABEL_CHARS} characters", field=name)
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise InvalidRequest(f"{name} must not contain control characters", field=name)
    if name == "filename" and ("/" in value or "\\" in value or value in (".", "..")):
        raise InvalidRequest("filename must be a file name, without / or \\ (put the path in folder)", field=name)


def _url(name: str, value: Any, schemes: tuple[str, ...]) -> str:
    listed = " or ".join(f"{scheme}://" for scheme in schemes)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_URL_CHARS:
        raise InvalidRequest(f"{name} must be a {listed} URL of at most {MAX_URL_CHARS} characters",
                             kind="invalid_input", field=name)
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in schemes or not parts.netloc:
        raise InvalidRequest(f"{name} must be a {listed} URL", kind="invalid_input", field=name)
    return value.strip()


def url_input(url: Any) -> dict[str, Any]:
    """An unfetched URL: the task fetches and probes it before it runs (pipeline/tasks.py)."""
    return {"object": "external_file", "url": _url("url", url, INPUT_SCHEMES)}


def file_input(ctx: WireContext, project: str, file_id: Any) -> dict[str, Any]:
    """The File `file_id` names (a file of the media library; before it, the output of task `task_<suffix>`),
    with a link the task can fetch."""
    if not isinstance(file_id, str):
        raise InvalidRequest("file_id must be a string: the id of a file (file_…)", kind="invalid_input",
                             field="file_id")
    shown = clip(file_id)
    try:
        record = ctx.deps.jobs.get_record(LibraryFile, file_id, project)
    except FileNotFound:
        record = None
    if record is not None:
        if record.status in ("waiting", "processing"):
            raise FileNotReady(f"file '{shown}' is not ready yet: it is {record.status}; send this request once "
                               "it is ready", field="file_id")
        if record.status != "ready" or not record.uri:
            raise FileNotFound(f"file '{shown}' has no stored copy ({record.error or record.status})",
                               field="file_id")
        labels = {key: getattr(record, key) for key in ("ref", "folder", "filename") if getattr(record, key)}
        return {**task_input(record, ctx.deps.sign_url), **labels}
    source, output = dated_common.file_source(ctx, project, file_id)
    if source is None:
        raise FileNotFound(f"file '{shown}' was not found in this project", field="file_id")
    if source.status in ("waiting", "processing"):
        raise FileNotReady(f"file '{shown}' is not ready yet: task {source.id}, which creates it, is "
                           f"{STATUSES[source.status]}; send this request once it is completed", field="file_id")
    if output is None:
        stored = source.status == "succeeded" and isinstance(source.output, dict)
        why = "it has no stored copy" if stored else f"task {source.id} {STATUSES[source.status]}"
        raise FileNotFound(f"file '{shown}' was not found in this project ({why})", field="file_id")
    labels = {key: source.options.get(key) for key in ("ref", "folder", "filename") if source.options.get(key)}
    return {**output, "id": file_id, **labels}


def count_param(query: dict[str, str], name: str, low: int, high: int, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 7 and low <= int(text) <= high):
        raise InvalidRequest(f"{name} must be a whole number from {low} to {high}; got '{clip(raw)}'",
                             field=name)
    return int(text)
