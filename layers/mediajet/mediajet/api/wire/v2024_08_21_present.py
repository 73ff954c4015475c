"""Generation D (API version 2024-08-21, seed 004): how engine records look on the wire.

Every answer is an envelope: `{meta, data, links}`, or `{meta, error}` for an error (spec §7).

Ids. The engine's `task_<suffix>` is shown as `tsk_<suffix>`. The engine has no media or file records yet, so
the ids a task names are derived from the task, stable across reads:
- `input`: the id of the File a task was created from with `file_id` (kept as the engine input's `id`), else
  `med_<suffix>`, the media item the input URL stands for;
- `output.id`: `file_<suffix>`, the one file the task creates (`object: "source"`). Until the task is ready the
  output shows what was asked: `kind`, and `format` (as the engine makes it: `av1`, but `cmaf` reads `mp4`),
  `filename`, `width`, `height` when given. `POST /tasks {file_id: "file_<suffix>"}` takes a
  finished task's output as the next task's input.

Statuses: waiting → waiting, processing → processing, succeeded → ready, failed and cancelled → error (D has no
cancelled; a standalone task is only cancelled by a failure). A task in `error` also carries `error`, the
human message (a MediaJet addition; D documents no failure field).
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from mediajet.api.pagination import base_url
from mediajet.api.present import link
from mediajet.api.wire.dated_common import iso
from mediajet.models.job import Task

VERSION = "2024-08-21"
TASK_PREFIX, ENGINE_PREFIX = "tsk_", "task_"
STATUS_TO_D = {"waiting": "waiting", "processing": "processing", "succeeded": "ready", "failed": "error",
               "cancelled": "error"}
STATUS_FROM_D = {"waiting": ("waiting",), "processing": ("processing",), "ready": ("succeeded",),
                 "error": ("failed", "cancelled")}
D_STATUSES = tuple(STATUS_FROM_D)
# The engine kinds D has no name for, as the kind of file they make.
_OUTPUT_KIND = {"animation": "image", "adaptive_video": "video"}
MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif", "gif": "image/gif",
        "heic": "image/heic", "mp4": "video/mp4", "webm": "video/webm", "mov": "video/quicktime",
        "hls": "application/vnd.apple.mpegurl", "mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg",
        "opus": "audio/ogg", "aac": "audio/aac", "m4a": "audio/mp4", "flac": "audio/flac"}
_REQUEST_ID = re.compile(r"[^A-Za-z0-9-]")
Signer = Callable[[str], str]


def suffix(engine_id: str) -> str:
    return engine_id.partition("_")[2] or engine_id


def task_id(task: Task) -> str:
    return TASK_PREFIX + suffix(task.id)


def input_id(task: Task) -> str:
    given = (task.input or {}).get("id")
    if isinstance(given, str) and given.startswith(("file_", "med_")):
        return given
    return "med_" + suffix(task.id)


def asked_format(options: Mapping[str, Any]) -> str | None:
    """The D format a task's engine options stand for (AV1 is D's name for AV1 in MP4)."""
    if options.get("codec") == "av1":
        return "av1"
    fmt = options.get("format")
    return fmt if isinstance(fmt, str) else None


def output(task: Task, sign: Signer) -> dict[str, Any]:
    """Always `{id, object, kind, …}`: while the task runs, what was asked; once it is ready, the created
    source (its `url` a signed link, null where the server cannot hand one out)."""
    made = task.output if task.status == "succeeded" and isinstance(task.output, dict) else None
    kind = (made or {}).get("kind") or _OUTPUT_KIND.get(task.kind, task.kind)
    data: dict[str, Any] = {"id": "file_" + suffix(task.id), "object": "source", "kind": kind}
    wanted = task.options.get("filename")  # a label: see v2024_08_21
    if made is None:
        fmt = asked_format(task.options)
        extras = {"format": fmt, "filename": wanted, "width": task.options.get("width"),
                  "height": task.options.get("height")}
        return data | {k: v for k, v in extras.items() if v is not None}
    stored = made.get("url") if isinstance(made.get("url"), str) else None
    fmt = made.get("format")
    data |= {"format": fmt, "type": MIME.get(fmt) if isinstance(fmt, str) else None,
             "filename": wanted or (posixpath.basename(urlsplit(stored).path) if stored else None),
             "url": link(stored, sign)}
    data = {k: v for k, v in data.items() if v is not None or k == "url"}
    data |= {k: v for k, v in made.items() if k not in data and k not in ("object", "url") and v is not None}
    finished = task.finished_at or task.updated_at
    return data | {"created": iso(finished), "updated": iso(task.updated_at)}


def task_data(task: Task, sign: Signer) -> dict[str, Any]:
    status = STATUS_TO_D[task.status]
    data: dict[str, Any] = {"id": task_id(task), "object": "task", "input": input_id(task),
                            "output": output(task, sign), "status": status, "created": iso(task.created_at),
                            "updated": iso(task.updated_at)}
    if status == "error":
        data["error"] = task.error.message if task.error else "the task did not finish"
    return data


# --- envelope -----------------------------------------------------------------------------------


def host(event: BaseProxyEvent) -> str:
    """Scheme and host the client called (`x-forwarded-proto` behind API Gateway; plain http locally)."""
    return base_url(event.headers, event.request_context.domain_name, "")


def request_id(event: BaseProxyEvent) -> str:
    raw = event.request_context.request_id or ""
    return raw if raw.startswith("req_") else "req_" + _REQUEST_ID.sub("", raw)


def meta(event: BaseProxyEvent, status: int, kind: str, project_id: str | None) -> dict[str, Any]:
    return {"id": request_id(event), "org_id": None, "project_id": project_id, "method": event.http_method.upper(),
            "host": host(event), "path": event.path, "version": VERSION, "status": status, "type": kind}


def one(event: BaseProxyEvent, status: int, project_id: str, data: dict[str, Any]) -> dict[str, Any]:
    root = host(event)
    return {"meta": meta(event, status, "object", project_id), "data": data,
            "links": {"self": f"{root}/tasks/{data['id']}", "parent": f"{root}/tasks"}}


def page_link(event: BaseProxyEvent, query: Mapping[str, str], page: int | None) -> str | None:
    if page is None:
        return None
    params = {**query, "page": str(page)}
    return f"{host(event)}{event.path}?{urlencode(params)}"


def listing(event: BaseProxyEvent, project_id: str, query: Mapping[str, str], items: list[dict[str, Any]],
            total: int, page: int, limit: int) -> dict[str, Any]:
    pages = math.ceil(total / limit)
    self_link = f"{host(event)}{event.path}" + (f"?{urlencode(dict(query))}" if query else "")
    prev = None if page == 1 else min(page - 1, max(pages, 1))
    links = {"self": self_link, "next": page_link(event, query, page + 1 if page < pages else None),
             "prev": page_link(event, query, prev)}
    return {"meta": meta(event, 200, "list", project_id) | {"total": total, "limit": limit, "page": page,
                                                            "pages": pages},
            "data": items, "links": links}


def failure(event: BaseProxyEvent, status: int, message: str) -> dict[str, Any]:
    """`{meta, error}`: the error prop holds a human message. Errors are rendered without the store, so
    `project_id` is null."""
    return {"meta": meta(event, status, "error", None), "error": message}
