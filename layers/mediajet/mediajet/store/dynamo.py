"""JobStore on the DynamoDB single table described in dynamo_schema.py.

A job item carries its whole record as native attributes, tasks inline; each of its tasks also gets
a pointer item (pk TASK#<id>, sk JOB) so `GET /tasks/{id}` finds job tasks with one Query. Every
write of an existing record is a conditional put on `version`; creating a job writes the job, its
task pointers and the Idempotency-Key claim in one transaction, so two retries racing with one key
still create one job.

A save that changes a job's status writes the webhook events it makes in the same transaction as the job
(dynamo_outbox.py); a save that does not is the plain conditional put.

Numbers (Decimal in DynamoDB) are converted in dynamo_codec.py.

An item that no longer loads as a Job or Task is quarantined (store.base): left out of lists and scans,
read as not found, logged once per process.

Standalone tasks are listed through the project index too (no infra change: the GSI and its key attributes
exist). A standalone task item also carries gsi1pk TASKS#<project> and gsi1sk <task id>: a partition of its
own, so `list_jobs` (PROJECT#<project>) never meets a task, and `list_tasks` is one Query (paged by DynamoDB)
over the project's standalone tasks. Items written before this carry no index key and are not listed until
their next save; `index_standalone_tasks()` (an operator's full-table Scan) adds it to them.
"""

from __future__ import annotations

from typing import Any

from mediajet.errors import JobNotFound
from mediajet.models.job import IdempotencyClaim, Job
from mediajet.store import dynamo_schema as schema
from mediajet.store.base import (
    KEY_HELD_ELSEWHERE,
    IdempotencyKeyReused,
    JobPage,
    JobQuery,
    JobUnreadable,
    PageWindow,
    page_of,
    page_window,
)
from mediajet.store.dynamo_claims import TRANSACTION_ATTEMPTS
from mediajet.store.dynamo_codec import item_project
from mediajet.store.dynamo_table import TRANSIENT_CODES
from mediajet.store.dynamo_tasks import DynamoTasks

__all__ = ["FILTERED_PAGE_SIZE", "TRANSACTION_ATTEMPTS", "TRANSIENT_CODES", "DynamoJobStore"]

# With filters, each Query page reads this many items before filtering (Limit applies before the
# filter): bigger pages mean fewer round-trips, but every item read is paid for.
FILTERED_PAGE_SIZE = 200

_FILTER_FIELDS = ("kind", "status", "input")


class DynamoJobStore(DynamoTasks):
    """Jobs here; standalone tasks in dynamo_tasks.py, claims and API keys in dynamo_claims.py, the calls
    in dynamo_table.py, the attribute-value codec in dynamo_codec.py."""

    def _job_item(self, job: Job) -> dict[str, Any]:
        return self._item({
            schema.PARTITION_KEY: schema.job_pk(job.id), schema.SORT_KEY: schema.JOB_SK,
            schema.PROJECT_INDEX_PARTITION_KEY: schema.project_pk(job.project_id),
            schema.PROJECT_INDEX_SORT_KEY: job.id,
            **job.to_record(),
        })

    # --- jobs -------------------------------------------------------------------------------------

    def create_job(self, job: Job, claim: IdempotencyClaim | None = None) -> tuple[Job, bool]:
        stored = job.model_copy(update={"version": 1})
        events = self._event_puts(self._events_of(None, stored))  # written with the job, or not at all
        held = self._create(f"job {stored.id} or one of its tasks",
                            lambda: [*self._creation_writes(stored, claim), *events], claim)
        if held is None:
            self._statuses.remember("job", stored)
            return stored, True
        item = self._get(schema.job_pk(held.resource_id), schema.JOB_SK)
        if item is None:
            raise IdempotencyKeyReused(KEY_HELD_ELSEWHERE)  # the key names a task
        found = self._job(item)
        if found is None:
            raise JobUnreadable(held.resource_id)
        return found, False

    def _creation_writes(self, job: Job, claim: IdempotencyClaim | None) -> list[dict[str, Any]]:
        """The claim (taken when absent or expired), the job, and a pointer per task: all or nothing."""
        absent = f"attribute_not_exists({schema.PARTITION_KEY})"
        writes = [] if claim is None else [self._claim_write(claim)]
        writes.append({"Put": {"TableName": self.table, "Item": self._job_item(job), "ConditionExpression": absent}})
        for task in job.tasks:
            pointer = self._item({schema.PARTITION_KEY: schema.task_pk(task.id), schema.SORT_KEY: schema.JOB_SK,
                                  "job_id": job.id, "project_id": job.project_id})
            writes.append({"Put": {"TableName": self.table, "Item": pointer, "ConditionExpression": absent}})
        return writes

    def get_job(self, job_id: str, project_id: str | None = None) -> Job:
        item = self._get(schema.job_pk(job_id), schema.JOB_SK)
        if item is None or (project_id is not None and item_project(item) != project_id):
            raise JobNotFound(job_id)
        job = self._job(item)
        if job is None:
            raise JobUnreadable(job_id)
        return job

    def save_job(self, job: Job) -> Job:
        saved = job.model_copy(update={"version": job.version + 1})
        self._save_changed("job", job, saved, self._job_item(saved), lambda: JobNotFound(job.id))
        return saved

    def list_jobs(self, project_id: str, query: JobQuery) -> JobPage:
        """One Query on the project index, in id order either way. Filters (kind, status, input) are
        applied by DynamoDB after reading: every job read counts, kept or not, so a rare status in a
        big project can read many pages to fill `limit`. Index reads are eventually consistent: a job
        created a moment ago can be missing from a list for a fraction of a second."""
        window = page_window(query)
        if window.above is not None and window.below is not None and window.above >= window.below:
            return JobPage(items=[], has_more=False)  # cursors cross: nothing between (BETWEEN would refuse)
        names = {"#pk": schema.PROJECT_INDEX_PARTITION_KEY}
        values = {":project": {"S": schema.project_pk(project_id)}}
        condition = "#pk = :project" + _range_condition(window, names, values)
        kwargs: dict[str, Any] = {"IndexName": schema.PROJECT_INDEX, "KeyConditionExpression": condition,
                                  "ScanIndexForward": window.ascending}
        filters = []
        for name in _FILTER_FIELDS:
            value = getattr(query, name)
            if value is not None:
                names[f"#{name}"] = name
                values[f":{name}"] = {"S": value}
                filters.append(f"#{name} = :{name}")
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
        kwargs["ExpressionAttributeNames"], kwargs["ExpressionAttributeValues"] = names, values

        wanted = query.limit + 1
        bounds = {window.above, window.below}
        jobs: list[Job] = []
        while len(jobs) < wanted:
            # BETWEEN includes both cursors, which are then skipped: read 2 more so one page still fills.
            page = self._call("query", Limit=FILTERED_PAGE_SIZE if filters else wanted - len(jobs) + 2, **kwargs)
            loaded = (self._job(item) for item in page.get("Items", [])
                      if item[schema.PROJECT_INDEX_SORT_KEY]["S"] not in bounds)
            jobs.extend(job for job in loaded if job is not None)  # quarantined items are stepped over
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return page_of(jobs[:wanted], query, window)

    def active_jobs(self) -> list[Job]:
        """A full-table Scan: on AWS the state machine resumes work by itself, so this serves operators
        and tests, not a request path. It reads (and bills) every item in the table."""
        items = self._scan(FilterExpression="#sk = :sk AND #status IN (:queued, :processing)",
                           ExpressionAttributeNames={"#sk": schema.SORT_KEY, "#status": "status"},
                           ExpressionAttributeValues={":sk": {"S": schema.JOB_SK}, ":queued": {"S": "queued"},
                                                      ":processing": {"S": "processing"}})
        # Task pointers share sk JOB but have no status, so the filter leaves only jobs.
        return sorted(filter(None, (self._job(item) for item in items)), key=lambda job: job.id)



def _range_condition(window: PageWindow, names: dict[str, str], values: dict[str, Any]) -> str:
    """The sort-key part of the list Query (exclusive bounds; BETWEEN's inclusive ends are skipped)."""
    if window.above is not None or window.below is not None:
        names["#sk"] = schema.PROJECT_INDEX_SORT_KEY
    if window.above is not None and window.below is not None:
        values[":above"], values[":below"] = {"S": window.above}, {"S": window.below}
        return " AND #sk BETWEEN :above AND :below"
    if window.above is not None:
        values[":above"] = {"S": window.above}
        return " AND #sk > :above"
    if window.below is not None:
        values[":below"] = {"S": window.below}
        return " AND #sk < :below"
    return ""
