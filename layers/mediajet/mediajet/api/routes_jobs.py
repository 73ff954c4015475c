"""/jobs routes: read the request, call api/jobs.py, present the result."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from mediajet.api import jobs
from mediajet.api.auth import project_for
from mediajet.api.body import json_body
from mediajet.api.deps import ApiDeps
from mediajet.api.errors import JSON, json_response
from mediajet.api.idempotency import key_from
from mediajet.api.openapi import EXT, EXTENSION, Resolver, error_responses, ok
from mediajet.api.pagination import base_url, page_headers
from mediajet.api.present import job_dict
from mediajet.errors import InvalidRequest
from mediajet.models.job import Job, JobKind, JobStatus
from mediajet.store.base import JobQuery

JOB_ID = r"^job_[0-9a-z]{1,64}$"
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", description="Repeat a POST safely: the same key and body within 24 h returns the "
    "original job with 200 and creates nothing; the same key with another body is a 409 idempotency_key_reused.")]
_LIST_HEADERS = {
    "Link": {"description": 'next page: `<…/jobs?after=<id>…>; rel="next"` (absent on the last page)',
             "schema": {"type": "string"}},
    "Has-More": {"description": "true when another page follows (a page may end before `limit` jobs when its "
                 "JSON would pass 1 MiB)", "schema": {"type": "string"}},
    "Limit": {"description": "the page size used", "schema": {"type": "integer"}},
}


def register(app: Resolver, deps: ApiDeps) -> None:
    def caller() -> str:
        return project_for(app.current_event.headers, deps.jobs)

    def present(job: Job, status: int = 200) -> Response:
        return json_response(status, job_dict(job, deps.sign_url))

    @app.post("/jobs", summary="Create a job", tags=["jobs"], operation_id="createJob",
              description="Runs probe → import → the kind's encode → export on the input. Answers 201 with the queued job.",
              responses={**ok(201, "the job, queued, with its four tasks", Job),
                         **ok(200, "Idempotency-Key replay: the original job", Job),
                         **error_responses(400, 401, 409, 413)})
    def create_job(idempotency_key: IdempotencyKey = None):
        project, key = caller(), key_from(app.current_event.headers)
        job, created = jobs.create_job(deps, project, json_body(app.current_event, deps.settings.max_body_bytes), key)
        return present(job, 201 if created else 200)

    @app.get("/jobs", summary="List jobs", tags=["jobs"], operation_id="listJobs",
             description="A JSON array of jobs, newest first by default. Cursors are job ids. A page holds up "
             "to `limit` jobs and at most about 1 MiB of JSON; follow `Link` while `Has-More` is true.",
             responses={**ok(200, "a page of jobs", list[Job], _LIST_HEADERS), **error_responses(400, 401)})
    def list_jobs(
        kind: Annotated[JobKind | None, Query()] = None,
        status: Annotated[JobStatus | None, Query()] = None,
        input: Annotated[str | None, Query(description="exact input URL", max_length=8192)] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        after: Annotated[str | None, Query(pattern=JOB_ID, description="job id: items after it")] = None,
        before: Annotated[str | None, Query(pattern=JOB_ID, description="job id: items before it")] = None,
        order: Annotated[Literal["asc", "desc"], Query()] = "desc",
    ):
        project = caller()
        if "page" in (app.current_event.query_string_parameters or {}):
            # a page-based paginator that got page 1 back for every page would loop forever
            raise InvalidRequest("the Jobs API pages with cursors, not page numbers: follow the Link header "
                                 "(after=<last id>) while Has-More is true", kind="request_invalid", field="page")
        query = JobQuery(kind=kind, status=status, input=input, limit=limit, after=after, before=before, order=order)
        page, texts = jobs.fit_page(jobs.list_jobs(deps, project, query), query, render)
        event = app.current_event
        url = base_url(event.headers, event.request_context.domain_name, event.raw_path)
        # Each job was serialised once, to measure it; the page is those texts joined.
        return Response(status_code=200, content_type=JSON, body=f"[{','.join(texts)}]",
                        headers=page_headers(page, query, url))

    def render(job: Job) -> str:
        # json_response's encoding, one job at a time
        return json.dumps(job_dict(job, deps.sign_url), separators=(",", ":"), ensure_ascii=False)

    @app.get("/jobs/<job_id>", summary="Get a job", tags=["jobs"], operation_id="getJob",
             responses={**ok(200, "the job with its tasks", Job), **error_responses(401, 404)})
    def get_job(job_id: Annotated[str, Path()]):
        return present(jobs.get_job(deps, caller(), job_id))

    @app.post("/jobs/<job_id>/cancel", summary="Cancel a job", tags=["jobs"], operation_id="cancelJob",
              description=EXTENSION + "A queued or processing job becomes cancelled, with its open tasks; the "
              "running step stops. Cancelling a cancelled job returns it; a finished job is a 409 "
              "job_already_finished.", openapi_extensions=EXT,
              responses={**ok(200, "the cancelled job", Job), **error_responses(401, 404, 409)})
    def cancel_job(job_id: Annotated[str, Path()]):
        return present(jobs.cancel_job(deps, caller(), job_id))

