"""The job pipeline steps as JSON-in/JSON-out functions: `run_step(name, state, ctx) -> state`.

The state that flows between steps is only `{"job_id": ...}`: each step reads what it needs from
the JobStore and records its task there, so a step can be retried or resumed on another machine.
A step that fails raises; the caller (local worker or state machine) retries transient errors and
then runs `finalize` with the error, which marks the job failed.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable
from typing import Any

from mediajet.errors import Cancelled, MediaJetError
from mediajet.ids import now_ms
from mediajet.models.file import File
from mediajet.models.job import ENCODE, EXPORT, IMPORT, PROBE, ErrorInfo, Job
from mediajet.models.requests import parse_options
from mediajet.pipeline import admission, chunk_parts, chunked, transfer
from mediajet.pipeline.context import StepContext
from mediajet.pipeline.progress import ProgressWriter
from mediajet.store.base import transition

log = logging.getLogger("mediajet.pipeline")

State = dict[str, Any]


def input_key(job_id: str) -> str:
    return f"jobs/{job_id}/input"


def encoded_prefix(job_id: str) -> str:
    return f"jobs/{job_id}/encoded"


def _start(ctx: StepContext, job_id: str, index: int,
           task_input: dict[str, Any] | Callable[[Job], dict[str, Any] | None] | None) -> Job:
    """Mark the job processing and task `index` processing; refuse to work on a cancelled job. A task the
    previous step already started (`_succeed` starts the next one in its own write) costs a read, no write."""

    def change(job: Job) -> Job | None:
        if job.status == "cancelled":
            raise Cancelled("the job was cancelled")
        task = job.tasks[index]
        wanted = task_input(job) if callable(task_input) else task_input
        if (job.status, task.status, task.input, task.progress, task.error) == (
                "processing", "processing", wanted, _first_progress(index), None):
            return None
        now = now_ms()
        if job.status == "queued":
            job.status, job.started_at = "processing", now
        _begin(job, index, wanted, now)
        job.updated_at = now
        return job

    return transition(ctx.jobs, job_id, change)


def _first_progress(index: int) -> int | None:
    return 0 if index == ENCODE else None  # only the encoder reports progress


def _begin(job: Job, index: int, task_input: dict[str, Any] | None, now: int) -> None:
    task = job.tasks[index]
    task.status, task.started_at, task.updated_at = "processing", task.started_at or now, now
    task.input, task.progress, task.error = task_input, _first_progress(index), None


def _succeed(ctx: StepContext, job_id: str, index: int, output: File, job_output: str | None = None) -> Job:
    def change(job: Job) -> Job | None:
        if job.status != "processing":
            return None  # cancelled meanwhile: leave the record as the canceller wrote it
        now = now_ms()
        _succeeded(job, index, output, now)
        if job_output is not None:
            job.output = job_output
        job.updated_at = now
        return job

    return transition(ctx.jobs, job_id, change)


def _succeeded(job: Job, index: int, output: File, now: int) -> None:
    """Task `index` succeeds and, in the same write, the next task starts with its output as input (its step's
    `_start` then only reads: 4 writes a job, not 7, each a DynamoDB write on AWS), or after the last, the job."""
    task = job.tasks[index]
    task.status, task.finished_at, task.updated_at = "succeeded", now, now
    task.output = output.model_dump(mode="json", exclude_none=True)
    if index == ENCODE:
        task.progress = 100
    if index + 1 == len(job.tasks):
        job.status, job.finished_at = "succeeded", now
    elif job.tasks[index + 1].status == "waiting":
        _begin(job, index + 1, task.output, now)


def _probed(ctx: StepContext, job_id: str, found: File) -> Job:
    """Probe's success and import's (and encode's start), in one write: probe leaves the working copy in
    place (transfer.fetch_and_probe), so the import step has nothing left to do."""
    imported = found.model_copy(update={"object": "file", "url": ctx.work.uri(input_key(job_id))})

    def change(job: Job) -> Job | None:
        if job.status != "processing":
            return None
        now = now_ms()
        _succeeded(job, PROBE, found, now)
        _succeeded(job, IMPORT, imported, now)
        job.updated_at = now
        return job

    return transition(ctx.jobs, job_id, change)


def probe(state: State, ctx: StepContext) -> State:
    job_id = state["job_id"]
    job = _start(ctx, job_id, PROBE, lambda job: {"object": "external_file", "url": job.input})
    found = transfer.fetch_and_probe(ctx.acting_for(job.project_id, job.connection_id), job.input, input_key(job_id))
    admission.admit(job.kind, parse_options(job.kind, job.options), found, ctx.settings, may_chunk=True)
    _probed(ctx, job_id, found)
    return state


def import_(state: State, ctx: StepContext) -> State:
    job_id = state["job_id"]
    job = ctx.jobs.get_job(job_id)
    if job.import_task.status == "succeeded":
        return state  # recorded by probe, which left the working copy in place
    probed = job.probe_task.output or {"object": "external_file", "url": job.input}
    _start(ctx, job_id, IMPORT, probed)
    key = input_key(job_id)
    transfer.ensure_fetched(ctx.acting_for(job.project_id, job.connection_id), job.input, key)  # done if probe did
    imported = File.model_validate(probed).model_copy(update={"object": "file", "url": ctx.work.uri(key)})
    _succeed(ctx, job_id, IMPORT, imported)
    return state


def encode(state: State, ctx: StepContext) -> State:
    """Encode in one pass, or (a long video) cut it into parts: then the state names them and the
    fan-out (encode_chunk × n, join) finishes the task."""
    job_id = state["job_id"]
    job = _start(ctx, job_id, ENCODE, lambda job: job.import_task.output or job.probe_task.output)
    source = File.model_validate(job.encode_task.input)
    options = parse_options(job.kind, job.options)
    parts = chunked.split(ctx, job, options, source, input_key(job_id))
    if parts is not None:
        return {**state, "chunks": parts}
    progress = ProgressWriter(ctx.jobs, job_id, ENCODE, ctx.cancel)
    result = transfer.encode_to_work(ctx, job.kind, options, source, input_key(job_id), encoded_prefix(job_id),
                                     on_progress=progress)
    _succeed(ctx, job_id, ENCODE, result)
    return state


def encode_chunk(state: State, ctx: StepContext) -> State:
    """One part of a fanned-out encode: `{"job_id", "part"}` in and out."""
    job = ctx.jobs.get_job(state["job_id"])
    options = parse_options(job.kind, job.options)
    source = File.model_validate(job.encode_task.input)
    segments_at = transfer.tree_place(ctx, job, encoded_prefix(job.id))  # only HLS parts write there
    chunk_parts.encode_part(ctx, job, options, source, state["part"], input_key(job.id), segments_at)
    return {"job_id": job.id, "part": state["part"]}


def join(state: State, ctx: StepContext) -> State:
    """Join the encoded parts into the job's result; the encode task succeeds here."""
    job_id = state["job_id"]
    job = ctx.jobs.get_job(job_id)
    options = parse_options(job.kind, job.options)
    result = transfer.join_to_work(ctx, job, options, encoded_prefix(job_id))
    _succeed(ctx, job_id, ENCODE, result)
    ctx.work.delete_prefix(chunked.prefix(job_id) + "/")
    return {"job_id": job_id}


def export(state: State, ctx: StepContext) -> State:
    job_id = state["job_id"]
    job = _start(ctx, job_id, EXPORT, lambda job: job.encode_task.output)
    encoded = File.model_validate(job.encode_task.output)
    exported = transfer.export_from_work(ctx, job, encoded, encoded_prefix(job_id))
    _succeed(ctx, job_id, EXPORT, exported, job_output=exported.url)
    return state


def finalize(state: State, ctx: StepContext) -> State:
    """Always runs last. With `state["error"]` the job fails; otherwise it succeeds."""
    job_id = state["job_id"]
    error = parse_step_error(state.get("error"))

    def change(job: Job) -> Job | None:
        if job.status == "cancelled":
            return _cancel_unfinished(job)  # cancelled by the API while a step ran
        if job.is_final:
            return None
        now = now_ms()
        job.updated_at = now
        job.finished_at = now
        if error is None:
            job.status = "succeeded"
            return job
        failed_at = next((i for i, t in enumerate(job.tasks) if t.status == "processing"), None)
        if failed_at is None:
            failed_at = next((i for i, t in enumerate(job.tasks) if t.status == "waiting"), len(job.tasks) - 1)
        error.task = error.task or job.tasks[failed_at].kind
        cancelled = error.kind == "cancelled"
        job.status = "cancelled" if cancelled else "failed"
        job.error = None if cancelled else error
        if not cancelled:
            failed = job.tasks[failed_at]
            failed.status, failed.error, failed.finished_at, failed.updated_at = "failed", error, now, now
        job.cancel_open_tasks(now)
        return job

    job = transition(ctx.jobs, job_id, change)
    _file_result(ctx, job)
    ctx.work.delete_prefix(f"jobs/{job_id}/")
    if job.status != "succeeded" and job.export_task.status != "succeeded":
        _remove_unfinished_result(ctx, job)
    log.info("job %s %s", job_id, job.status, extra={"job_id": job_id, "status": job.status})
    return {"job_id": job_id, "status": job.status}


def _remove_unfinished_result(ctx: StepContext, job: Job) -> None:
    """A chunked encode writes into the result's place (transfer.result_place): an HLS ladder's parts their
    segments, an MP4/MOV's join the whole file. A job that did not finish must not leave them there."""
    if job.kind == "adaptive_video":
        store, folder = transfer.result_place(ctx, job, "m3u8", encoded_prefix(job.id))
        if store is not ctx.work:
            store.delete_prefix(folder + "/")
        return
    joined = (job.encode_task.output or {}).get("url")
    if not isinstance(joined, str):
        return
    store, key = transfer.result_place(ctx, job, posixpath.splitext(joined)[1].lstrip("."), encoded_prefix(job.id))
    if store is not ctx.work and store.uri(key) == joined:
        store.delete(key)


def _file_result(ctx: StepContext, job: Job) -> None:
    """A succeeded job's result joins the media library (library/files.py). A failure there is logged: the
    job did what it was asked, and its output stays readable through the job."""
    from mediajet.library import files

    if job.status != "succeeded":
        return
    try:
        files.job_finished(ctx.jobs, job)  # type: ignore[arg-type]
    except Exception:
        log.exception("job %s succeeded, but its result could not be added to the media library", job.id)


def _cancel_unfinished(job: Job) -> Job | None:
    now = now_ms()
    if not job.cancel_open_tasks(now):
        return None
    job.finished_at = job.finished_at or now
    job.updated_at = now
    return job


def parse_step_error(raw: Any) -> ErrorInfo | None:
    """Errors reach finalize as an ErrorInfo dict (local worker) or as Step Functions'
    `{"Error": <exception type>, "Cause": <JSON with errorMessage>}` from a Catch."""
    if not raw:
        return None
    if isinstance(raw, dict) and "kind" in raw:
        return ErrorInfo.model_validate(raw)
    import json

    cause = raw.get("Cause", "") if isinstance(raw, dict) else str(raw)
    try:
        message = json.loads(cause).get("errorMessage", cause)
    except (ValueError, AttributeError):
        message = cause
    try:
        return ErrorInfo.model_validate(json.loads(message))
    except (ValueError, TypeError):
        # States.Timeout: the state's own timeout; Sandbox.Timedout: the Lambda function's.
        timed_out = any(name in str(raw.get("Error", "")) for name in ("States.Timeout", "Sandbox.Timedout"))
        kind = "timeout" if timed_out else "internal_error"
        return ErrorInfo(kind=kind, message=str(message)[:500] or "the step failed")


def error_info(exc: BaseException, task: str | None = None) -> ErrorInfo:
    if isinstance(exc, MediaJetError):
        return ErrorInfo(kind=exc.kind, message=exc.message, task=task)
    return ErrorInfo(kind="internal_error", message=f"unexpected {type(exc).__name__}; see the logs", task=task)


STEP_FUNCTIONS: dict[str, Callable[[State, StepContext], State]] = {
    "probe": probe, "import": import_, "encode": encode, "encode_chunk": encode_chunk, "join": join,
    "export": export, "finalize": finalize,
}


def run_step(name: str, state: State, ctx: StepContext) -> State:
    return STEP_FUNCTIONS[name](state, ctx)

