"""What the /jobs routes do, as functions of pydantic models: create (with Idempotency-Key), read,
list, cancel. No HTTP here: the routes read the request and present the result."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from mediajet.api import idempotency, records
from mediajet.api.deps import ApiDeps
from mediajet.connections import access
from mediajet.errors import Conflict, InvalidRequest, ProcessingError
from mediajet.ids import now_ms
from mediajet.media.sizing import check_requested_size
from mediajet.models.job import ErrorInfo, Job
from mediajet.models.options import MediaOptions
from mediajet.models.requests import JobCreate, build_job, parse_job_create
from mediajet.storage.paths import validate_template
from mediajet.storage.s3 import parse_s3_uri
from mediajet.store.base import JobPage, JobQuery, transition
from mediajet.webhooks.delivery import check_url

log = logging.getLogger("mediajet.api")

# A list page's JSON stops growing here: `limit` alone let 100 big jobs make a 100 MB answer that held a
# worker and the client. The page then ends early, with Has-More and a Link to the rest.
PAGE_BUDGET_BYTES = 1024 * 1024

def check_output(request: JobCreate) -> None:
    """`output` must name a destination the export step can write: `s3://bucket/key`, where the key
    may use the path template variables (`{id}`, `{date}`, `{filename}`, `{kind}`, `{ext}`); for
    adaptive_video it may also be a folder (`s3://bucket/prefix/`)."""
    output = request.output
    if output is None:
        return
    if not output.strip():
        raise InvalidRequest("output must not be empty; leave it out to use the default storage",
                             kind="invalid_output", field="output")
    validate_template(output)
    _, key = parse_s3_uri(output, kind="invalid_output")
    if key.endswith("/") and request.kind != "adaptive_video":
        raise InvalidRequest("output must name a file, not a folder (only adaptive_video writes a folder)",
                             kind="invalid_output", field="output")


def check_size(deps: ApiDeps, kind: str, options: MediaOptions | None) -> None:
    """An output the options alone make too large is a 400 now, not a failed job after probe."""
    try:
        check_requested_size(kind, getattr(options, "width", None), getattr(options, "height", None),
                             deps.settings)
    except ProcessingError as exc:
        raise InvalidRequest(exc.message, kind=exc.kind, field="options.width") from None


def create_job(deps: ApiDeps, project_id: str, body: Any, key: str | None) -> tuple[Job, bool]:
    """Validate, store (once per Idempotency-Key) and start a job. Returns (job, created)."""
    request = parse_job_create(body)
    check_output(request)
    if request.webhook_url is not None:
        check_url(request.webhook_url, deps.settings)
    check_size(deps, request.kind, request.parsed_options())
    job = build_job(request, project_id)
    # what serves its s3:// input and output, checked now and stored: the pipeline uses exactly this
    job.connection_id = access.resolve(deps.jobs, deps.settings, project_id, request.connection_id, access.s3_uses(
        (request.input, "read", "input"), (request.output, "write", "output")))
    records.check_job(job)
    job, created = idempotency.create_job(deps.jobs, job, key, body)
    if created:
        try:
            deps.orchestrator.start_job(job)
        except Exception:
            # Left `queued`, the job would wait forever for a pipeline that never heard of it.
            _fail_unstarted(deps, job.id)
            raise
    return job, created


def _fail_unstarted(deps: ApiDeps, job_id: str) -> None:
    def change(job: Job) -> Job | None:
        if job.status != "queued":
            return None
        now = now_ms()
        job.status, job.finished_at, job.updated_at = "failed", now, now
        job.error = ErrorInfo(kind="internal_error", message="the job could not be started; send it again",
                              task="probe")
        job.cancel_open_tasks(now)  # a queued job's tasks are all still waiting
        return job

    try:
        transition(deps.jobs, job_id, change)
    except Exception:
        log.exception("could not mark unstarted job %s failed", job_id)


def get_job(deps: ApiDeps, project_id: str, job_id: str) -> Job:
    return deps.jobs.get_job(job_id, project_id)


def list_jobs(deps: ApiDeps, project_id: str, query: JobQuery) -> JobPage:
    return deps.jobs.list_jobs(project_id, query)


def fit_page(page: JobPage, query: JobQuery, render: Callable[[Job], str],
             budget: int = PAGE_BUDGET_BYTES) -> tuple[JobPage, list[str]]:
    """Render the page's jobs (JSON text each) until the page would pass `budget` bytes; returns the page
    that fits, with `has_more` when anything was left out, and its rendered items in page order.

    The jobs left out are those furthest from the cursor (the end of the page; with a lone `before`, the
    start), so the page's Link continues exactly where it stops. The first job always fits: a page makes
    progress however big one job is."""
    backwards = query.before is not None and query.after is None
    order = list(reversed(page.items)) if backwards else list(page.items)
    kept: list[Job] = []
    texts: list[str] = []
    used = 2  # the array's brackets
    for job in order:
        text = render(job)
        size = len(text.encode()) + (1 if texts else 0)  # the comma
        if texts and used + size > budget:
            break
        kept.append(job)
        texts.append(text)
        used += size
    trimmed = len(kept) < len(order)
    if backwards:
        kept.reverse()
        texts.reverse()
    return JobPage(items=kept, has_more=page.has_more or trimmed), texts


def cancel_job(deps: ApiDeps, project_id: str, job_id: str) -> Job:
    """queued/processing → cancelled (its open tasks too), then stop whatever is running. Cancelling a
    cancelled job again returns it unchanged; a succeeded or failed job is a 409."""
    current = deps.jobs.get_job(job_id, project_id)  # 404 for unknown ids and other projects' jobs

    def change(job: Job) -> Job | None:
        if job.status == "cancelled":
            return None
        if job.is_final:
            raise Conflict(f"job {job.id} already {job.status}; only queued or processing jobs can be cancelled",
                           kind="job_already_finished")
        now = now_ms()
        job.status, job.finished_at, job.updated_at = "cancelled", now, now
        job.cancel_open_tasks(now)
        return job

    if current.status == "cancelled":
        return current
    job = transition(deps.jobs, job_id, change)
    deps.orchestrator.cancel_job(job)
    return job
