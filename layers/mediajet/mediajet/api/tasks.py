"""What the /tasks routes do: create a standalone task (seed 001) and read one back."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from mediajet.api import idempotency, records
from mediajet.api.deps import ApiDeps
from mediajet.api.jobs import check_size
from mediajet.connections import access
from mediajet.errors import InvalidRequest
from mediajet.ids import now_ms
from mediajet.models.job import ErrorInfo, Task
from mediajet.models.options import OPTIONS_BY_KIND
from mediajet.models.requests import TaskCreate, parse_options, parse_task_create
from mediajet.webhooks.delivery import check_url

log = logging.getLogger("mediajet.api")


def normalise_input(raw: dict[str, Any]) -> dict[str, Any]:
    """A bare `{url}` is an unfetched file: it comes back as `{object: "external_file", url}` (seed 001).
    A File object from an earlier task is kept as sent."""
    if raw.get("object") in ("file", "external_file"):
        return dict(raw)
    return {"object": "external_file", **{k: v for k, v in raw.items() if k != "object"}}


def check_export(request: TaskCreate) -> None:
    check_s3_destination((request.options or {}).get("url"), "an export task")


def check_s3_destination(url: Any, what: str) -> None:
    """`options.url` of an export (a step's upload): where the result goes, an s3:// object."""
    if not isinstance(url, str) or not url:
        raise InvalidRequest(f"{what} needs options.url, the destination: s3://bucket/key",
                             kind="invalid_option", field="options.url")
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or not parts.path.strip("/"):
        raise InvalidRequest("options.url must be an S3 destination: s3://bucket/key", kind="invalid_option",
                             field="options.url")


def create_task(deps: ApiDeps, project_id: str, body: Any, key: str | None = None,
                sent: Any = None, wire: str | None = None) -> tuple[Task, bool]:
    """Validate, store (once per Idempotency-Key `key`) and start a Jobs API task body. `sent` is the body as
    the client sent it, hashed for the key, when a wire format translated it into `body` (POST /steps).
    Returns (task, created)."""
    request = parse_task_create(body)
    if request.kind == "export":
        check_export(request)
    if request.kind in OPTIONS_BY_KIND:
        check_size(deps, request.kind, parse_options(request.kind, request.options))
    options = dict(request.options or {})
    if request.webhook_url is not None:
        options["webhook_url"] = request.webhook_url
    return start_task(deps, project_id, request.kind, normalise_input(request.input), options,
                      key=key, sent=body if sent is None else sent, wire=wire)


def start_task(deps: ApiDeps, project_id: str, kind: str, task_input: dict[str, Any],
               options: dict[str, Any], *, key: str | None = None, sent: Any = None,
               before_start: Callable[[Task], None] | None = None, wire: str | None = None) -> tuple[Task, bool]:
    """Store and start a standalone task from parts a wire format has already validated and bounded
    (`create_task` for the Jobs API; api/wire/v2025_08_20 for version 2025-08-20). With an Idempotency-Key,
    a retry whose `sent` body matches gets the original task, not started again. `before_start` runs once the
    task is stored and before it starts (POST /files records the file it fills in). `wire` names the API
    generation the task was created in: its webhooks show it in that shape. Returns (task, created)."""
    if isinstance(options.get("webhook_url"), str):
        check_url(options["webhook_url"], deps.settings)
    options = access.for_task(deps.jobs, deps.settings, project_id, kind, task_input, options)
    task = Task(kind=kind, input=task_input, options=options, project_id=project_id, wire=wire)  # type: ignore[arg-type]
    task.updated_at = task.created_at
    records.check_task(task)
    stored, created = idempotency.create_task(deps.jobs, task, key, sent)
    if created:
        if before_start is not None:
            try:
                before_start(stored)
            except Exception:
                _fail_unstarted(deps, stored)
                raise
        try:
            deps.orchestrator.start_task(stored)
        except Exception:
            # Left `waiting`, the task would wait forever, and a retry with its key would return it as is.
            _fail_unstarted(deps, stored)
            raise
    return stored, created


def _fail_unstarted(deps: ApiDeps, task: Task) -> None:
    now = now_ms()
    failed = task.model_copy(update={"status": "failed", "finished_at": now, "updated_at": now, "error": ErrorInfo(
        kind="internal_error", message="the task could not be started; send it again (with a new Idempotency-Key)")})
    try:
        deps.jobs.save_task(failed)
    except Exception:
        log.exception("could not mark unstarted task %s failed", task.id)


def get_task(deps: ApiDeps, project_id: str, task_id: str) -> Task:
    return deps.jobs.get_task(task_id, project_id)
