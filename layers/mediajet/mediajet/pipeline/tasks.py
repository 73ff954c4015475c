"""Standalone tasks (POST /tasks, `mediajet task`): one operation, its output kept in output storage."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from mediajet.errors import Cancelled, InvalidRequest, MediaJetError, StaleWrite
from mediajet.ids import now_ms
from mediajet.models.file import File
from mediajet.models.job import Task
from mediajet.models.requests import parse_options
from mediajet.pipeline import admission, transfer
from mediajet.pipeline.context import StepContext
from mediajet.pipeline.steps import error_info

log = logging.getLogger("mediajet.pipeline")

# Keys a wire format may keep in a task's options to label its output (version 2025-08-20 echoes `ref`,
# `filename`, `folder` and `webhook_url` there, seed 003), and where the media library files it (`media_id`;
# `automation_id` and `step` for a task an automation started). They are no encoder option: the encoder never
# sees them.
LABEL_OPTIONS = frozenset({"ref", "filename", "folder", "webhook_url", "media_id", "automation_id", "step",
                           "connection_id"})


def encoder_options(options: dict | None) -> dict:
    """A task's options without its labels: what the kind's options model validates."""
    return {key: value for key, value in (options or {}).items() if key not in LABEL_OPTIONS}


def _update(ctx: StepContext, task_id: str, change: Callable[[Task], Task | None]) -> Task:
    for _ in range(20):
        task = ctx.jobs.get_task(task_id)
        changed = change(task.model_copy(deep=True))
        if changed is None:
            return task
        try:
            return ctx.jobs.save_task(changed)
        except StaleWrite:
            continue
    raise StaleWrite(f"task {task_id} kept changing")


def _perform(task: Task, ctx: StepContext) -> File:
    url = str(task.input.get("url")) if task.input else ""
    key = f"tasks/{task.id}/input"
    ctx = ctx.acting_for(task.project_id, (task.options or {}).get("connection_id"))  # what the API checked
    if task.kind == "probe":
        with transfer.local_copy(ctx, url) as (path, _):
            return transfer.probe_checked(ctx, path, url=url)
    if task.kind == "export":
        dest = (task.options or {}).get("url")
        if not isinstance(dest, str) or not dest:
            raise InvalidRequest("export needs options.url, e.g. s3://bucket/key", kind="invalid_option",
                                 field="options.url")
        transfer.ensure_fetched(ctx, url, key)
        store, dest_key = ctx.destination(dest)
        with ctx.work.local_path(key) as path:
            store.put_file(dest_key, path)
        ctx.work.delete_prefix(f"tasks/{task.id}/")
        return File.model_validate(task.input).model_copy(update={"object": "file", "url": store.uri(dest_key)})
    source = transfer.fetch_and_probe(ctx, url, key)
    if task.kind == "import":
        return source.model_copy(update={"url": ctx.work.uri(key)})
    options = parse_options(task.kind, encoder_options(task.options))
    admission.admit(task.kind, options, source, ctx.settings, may_chunk=False)  # a task is one pass
    return transfer.encode_to_work(ctx, task.kind, options, source, key, f"tasks/{task.id}/output",
                                   on_progress=_progress(ctx, task.id))


def _progress(ctx: StepContext, task_id: str) -> Callable[[int], None]:
    def report(percent: int) -> None:
        def change(task: Task) -> Task | None:
            if task.status != "processing" or (task.progress or 0) >= percent:
                return None
            task.progress = percent
            return task

        if percent % 10 == 0 or percent == 100:  # standalone tasks: coarse steps are enough
            _update(ctx, task_id, change)

    return report


def run_task(task_id: str, ctx: StepContext) -> Task:
    """Run a standalone task to the end; its outputs live in `ctx.outputs`."""
    ctx = dataclasses.replace(ctx, work=ctx.outputs)

    def start(task: Task) -> Task | None:
        if task.status != "waiting" and task.status != "processing":
            return None
        now = now_ms()
        task.status, task.started_at, task.updated_at = "processing", task.started_at or now, now
        task.progress = 0 if task.kind not in ("probe", "import", "export") else None
        return task

    task = _update(ctx, task_id, start)
    if task.status != "processing":
        return task
    try:
        output = _perform(task, ctx)
    except Exception as exc:
        if not isinstance(exc, MediaJetError):
            log.exception("task %s crashed", task_id)
        info = error_info(exc, task.kind)
        status = "cancelled" if isinstance(exc, Cancelled) else "failed"

        def fail(t: Task) -> Task:
            now = now_ms()
            t.status, t.error, t.finished_at, t.updated_at = status, info, now, now
            return t

        return _filed(ctx, _update(ctx, task_id, fail))

    def succeed(t: Task) -> Task | None:
        if t.status != "processing":
            return None
        now = now_ms()
        t.status, t.output, t.finished_at, t.updated_at = "succeeded", output.model_dump(mode="json",
                                                                                        exclude_none=True), now, now
        if t.progress is not None:
            t.progress = 100
        return t

    return _filed(ctx, _update(ctx, task_id, succeed))


def _filed(ctx: StepContext, task: Task) -> Task:
    """Record the finished task's result in the media library (library/files.py). A failure there is logged:
    the task itself did what it was asked, and its output stays readable through the task."""
    from mediajet.library import LibraryContext, files

    try:
        files.task_finished(LibraryContext(ctx.jobs, ctx.start_task, ctx.sign_url), task)
    except Exception:
        log.exception("task %s finished, but its result could not be added to the media library", task.id)
    return task
