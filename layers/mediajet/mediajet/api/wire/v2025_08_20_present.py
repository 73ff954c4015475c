"""Version 2025-08-20 (seed 003): how the engine's Task and File records read on the wire.

- Task: `{id, object: "task", kind, input, options, output, status, progress?, error?, created, updated}`;
  `progress` and `error` are left out while the engine has none (the seed's new task has neither).
- Statuses: waiting → `pending`, processing → `processing`, succeeded → `completed`, failed → `failed`,
  cancelled → `cancelled`. Kinds: the engine's `import` is `ingest`; the others keep their names.
- Times: ISO-8601 in UTC with milliseconds and `Z` (`2025-01-01T01:23:45.678Z`).
- Files (§6.4): `object: "source"`, `type` (MIME), `codec`, `container`, signed `url`, `status: "ready"`.
  A task's output is the media library's file `file_<suffix>` made by task `task_<suffix>` (library/files.py);
  library records read as in v2025_08_20_library.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mediajet.api.present import link
from mediajet.api.wire.dated_common import file_id_for, iso
from mediajet.models.job import Task
from mediajet.models.mime import mime_type

Signer = Callable[[str], str]

STATUSES = {"waiting": "pending", "processing": "processing", "succeeded": "completed", "failed": "failed",
            "cancelled": "cancelled"}
KINDS = {"import": "ingest"}  # engine kind → C kind where they differ
def file_view(data: dict[str, Any], sign: Signer, **extra: Any) -> dict[str, Any]:
    """An engine File (models/file.py, as stored) as a §6.4 File; `extra` adds id, labels, status, times.
    Fields the engine does not know are left out rather than sent as null."""
    kind, fmt = data.get("kind"), data.get("format")
    codecs = data.get("codecs") if isinstance(data.get("codecs"), dict) else {}
    view: dict[str, Any] = {
        "id": data.get("id"), "object": "source", "kind": kind, "type": mime_type(kind, fmt),
        "codec": codecs.get("audio" if kind == "audio" else "video"),
        "container": fmt if kind in ("video", "audio") else None,
        "width": data.get("width"), "height": data.get("height"), "duration": data.get("duration"),
        "fps": data.get("fps"), "filesize": data.get("filesize"), "bitrate": data.get("bitrate"),
        "url": link(data.get("url"), sign),
        "ref": data.get("ref"), "folder": data.get("folder"), "filename": data.get("filename"),
    }
    view.update(extra)
    return {key: value for key, value in view.items() if value is not None or key == "url"}


def input_view(task: Task, sign: Signer) -> dict[str, Any] | None:
    source = task.input
    if not isinstance(source, dict):
        return None
    if source.get("object") == "external_file":  # a URL nobody has fetched yet: its url is all there is
        return {"object": "source", "url": link(source.get("url"), sign)}
    return file_view(source, sign)


def output_view(task: Task, sign: Signer) -> dict[str, Any] | None:
    if task.status != "succeeded" or not isinstance(task.output, dict):
        return None
    labels = {key: task.options.get(key) for key in ("ref", "folder", "filename")}
    finished = task.finished_at or task.updated_at
    return file_view(task.output, sign, id=file_id_for(task.id), **labels, status="ready", created=iso(finished),
                     updated=iso(task.updated_at))


def task_view(task: Task, sign: Signer) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": task.id, "object": "task", "kind": KINDS.get(task.kind, task.kind), "input": input_view(task, sign),
        "options": dict(task.options), "output": output_view(task, sign), "status": STATUSES[task.status],
    }
    if task.progress is not None:
        view["progress"] = max(0, min(100, task.progress))
    if task.error is not None:
        view["error"] = task.error.message
    view["created"], view["updated"] = iso(task.created_at), iso(task.updated_at)
    return view
