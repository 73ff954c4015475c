"""What the /jobs routes do, as functions of pydantic models: create (with Idempotency-Key), read,
list, cancel. No HTTP here: the routes read the request and present the result."""

from __future__ import annotations

import logging
from typing import Any

from mediajet.api import idempotency
from mediajet.api.deps import ApiDeps
from mediajet.errors import Conflict, InvalidRequest
from mediajet.ids import now_ms
from mediajet.models.job import ErrorInfo, Job
from mediajet.models.requests import JobCreate, build_job, parse_job_create
from mediajet.storage.paths import validate_template
from mediajet.storage.s3 import parse_s3_uri
from mediajet.store.base import JobPage, JobQuery, transition

log = logging.getLogger("mediajet.api")

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


def create_job(deps: ApiDeps, project_id: str, body: Any, key: str | None) -> tuple[Job, bool]:
    """Validate, store (once per Idempotency-Key) and start a job. Returns (job, created)."""
    request = parse_job_create(body)
    check_output(request)
    job, created = idempotency.create_job(deps.jobs, build_job(request, project_id), key, body)
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
