"""What the two dated API versions (2025-08-20 and 2024-08-21) share: ISO times, the refusal of kinds the
engine does not run, and the task behind a `file_…` id: `file_<suffix>` is the output of the task
`task_<suffix>` (a file of the media library since it has one, library/files.py; this lookup also finds the
outputs of tasks that finished before). Each version words its own errors; the lookup is one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mediajet.api import tasks
from mediajet.api.present import link
from mediajet.api.wire import WireContext
from mediajet.errors import Conflict, FileNotFound, MediaJetError, TaskNotFound
from mediajet.models.job import Task

TASK_PREFIX, FILE_PREFIX = "task_", "file_"


class KindNotRun(MediaJetError):
    """A kind of the dated versions this engine does not run: 422, never a task that silently does nothing."""

    status = 422
    default_kind = "unsupported_kind"


__all__ = ["FileNotFound", "FileNotReady", "KindNotRun"]


class FileNotReady(Conflict):
    default_kind = "file_not_ready"


def iso(ms: int) -> str:
    """Unix ms → `2025-01-01T01:23:45.678Z` (ISO 8601, UTC; integer arithmetic, so no millisecond is lost)."""
    seconds, millis = divmod(ms, 1000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def file_id_for(task_id: str) -> str | None:
    """The id of the file a task creates: `task_<suffix>` → `file_<suffix>`."""
    return FILE_PREFIX + task_id[len(TASK_PREFIX):] if task_id.startswith(TASK_PREFIX) else None


def task_id_for(file_id: str) -> str | None:
    return TASK_PREFIX + file_id[len(FILE_PREFIX):] if file_id.startswith(FILE_PREFIX) and len(file_id) > 5 else None


def file_source(ctx: WireContext, project: str, file_id: str) -> tuple[Task | None, dict[str, Any] | None]:
    """The task whose output `file_id` names in this project (None: there is none), and that output with a
    link the pipeline can fetch (None while the task runs, when it did not succeed, or when the server has
    no copy it hands out)."""
    task_id = task_id_for(file_id)
    try:
        source = tasks.get_task(ctx.deps, project, task_id) if task_id else None
    except TaskNotFound:
        return None, None
    output = source.output if source is not None and source.status == "succeeded" else None
    fetchable = link(output.get("url"), ctx.deps.sign_url) if isinstance(output, dict) else None
    if source is None or output is None or fetchable is None:
        return source, None
    return source, {**output, "url": fetchable}
