"""JobStore on the DynamoDB single table described in dynamo_schema.py.

A job item carries its whole record as native attributes, tasks inline; each of its tasks also gets
a pointer item (pk TASK#<id>, sk JOB) so `GET /tasks/{id}` finds job tasks with one Query. Every
write of an existing record is a conditional put on `version`; creating a job writes the job, its
task pointers and the Idempotency-Key claim in one transaction, so two retries racing with one key
still create one job.

Numbers: DynamoDB stores Decimal. Floats go in as Decimal(repr(f)) (the shortest string that reads
back as the same float) and come back as float, integral values as int. DynamoDB trims trailing
zeros, so a float with an integral value (1.0) in free-form options or metadata reads back as 1;
typed model fields are coerced back by pydantic.

An item that no longer loads as a Job or Task is quarantined (store.base): left out of lists and scans,
read as not found, logged once per process.

Standalone tasks are listed through the project index too (no infra change: the GSI and its key attributes
exist). A standalone task item also carries gsi1pk TASKS#<project> and gsi1sk <task id>: a partition of its
own, so `list_jobs` (PROJECT#<project>) never meets a task, and `list_tasks` is one Query (paged by DynamoDB)
over the project's standalone tasks. Items written before this carry no index key and are not listed until
their next save; `index_standalone_tasks()` (an operator's full-table Scan) adds it to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from functools import cached_property
from typing import Any

from mediajet.errors import Conflict, JobNotFound, StaleWrite, TaskNotFound, TransientError
from mediajet.ids import now_ms
from mediajet.models.job import IdempotencyClaim, Job, Task, task_record
from mediajet.store import dynamo_schema as schema
from mediajet.store.base import (
    IDEMPOTENCY_TTL_MS,
    KEY_HELD_ELSEWHERE,
    IdempotencyKeyReused,
    JobPage,
    JobQuery,
    JobUnreadable,
    PageWindow,
    Quarantine,
    TaskPage,
    TaskQuery,
    TaskUnreadable,
    page_of,
    page_window,
)

# Throttling and service-side failures: worth a retry by the pipeline after botocore's own retries.
TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "LimitExceededException",
})
TRANSACTION_ATTEMPTS = 5
# With filters, each Query page reads this many items before filtering (Limit applies before the
# filter): bigger pages mean fewer round-trips, but every item read is paid for.
FILTERED_PAGE_SIZE = 200

_KEY_ATTRIBUTES = (schema.PARTITION_KEY, schema.SORT_KEY, schema.PROJECT_INDEX_PARTITION_KEY,
                   schema.PROJECT_INDEX_SORT_KEY, schema.TTL_ATTRIBUTE)
_FILTER_FIELDS = ("kind", "status", "input")


def to_dynamo(value: Any) -> Any:
    """JSON-shaped data → what TypeSerializer accepts (floats as Decimal)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_dynamo(v) for v in value]
    return value


def from_dynamo(value: Any) -> Any:
    """TypeDeserializer output → JSON-shaped data (Decimal as int when integral, else float)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    return value


class DynamoJobStore:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table = table_name
        self.client = client
        self._quarantine = Quarantine()

    @property
    def quarantined(self) -> frozenset[str]:
        """Ids of the records this process found unreadable (and logged)."""
        return self._quarantine.ids

    # --- (de)serialization ------------------------------------------------------------------------

    @cached_property
    def _serializer(self) -> Any:
        from boto3.dynamodb.types import TypeSerializer

        return TypeSerializer()

    @cached_property
    def _deserializer(self) -> Any:
        from boto3.dynamodb.types import TypeDeserializer

        return TypeDeserializer()

    def _item(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        return {name: self._serializer.serialize(to_dynamo(value)) for name, value in attributes.items()}

    def _plain(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {name: from_dynamo(self._deserializer.deserialize(value)) for name, value in item.items()
                if name not in _KEY_ATTRIBUTES}

    def _job(self, item: Mapping[str, Any]) -> Job | None:
        return self._quarantine.load("job", _item_id(item), lambda: Job.model_validate(self._plain(item)))

    def _task(self, item: Mapping[str, Any]) -> Task | None:
        return self._quarantine.load("task", _item_id(item), lambda: Task.model_validate(self._plain(item)))

    def _job_item(self, job: Job) -> dict[str, Any]:
        return self._item({
            schema.PARTITION_KEY: schema.job_pk(job.id), schema.SORT_KEY: schema.JOB_SK,
            schema.PROJECT_INDEX_PARTITION_KEY: schema.project_pk(job.project_id),
            schema.PROJECT_INDEX_SORT_KEY: job.id,
            **job.to_record(),
        })

    def _task_item(self, task: Task) -> dict[str, Any]:
        return self._item({schema.PARTITION_KEY: schema.task_pk(task.id), schema.SORT_KEY: schema.TASK_SK,
                           schema.PROJECT_INDEX_PARTITION_KEY: schema.task_list_pk(task.project_id),
                           schema.PROJECT_INDEX_SORT_KEY: task.id,
                           **task_record(task)})

    @staticmethod
    def _key(pk: str, sk: str) -> dict[str, Any]:
        return {schema.PARTITION_KEY: {"S": pk}, schema.SORT_KEY: {"S": sk}}

    # --- calls ------------------------------------------------------------------------------------

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        return self._request(operation, TableName=self.table, **kwargs)

    def _request(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One API call; throttling and 5xx (after botocore's own retries) become TransientError."""
        from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            code = _code(exc)
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in TRANSIENT_CODES or status >= 500:
                raise TransientError(f"DynamoDB {operation} failed: {code}") from exc
            raise
        except (ConnectionError, HTTPClientError) as exc:
            raise TransientError(f"DynamoDB {operation} failed: {exc}") from exc

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        # Strongly consistent: read-modify-write loops must see the last write, or they spin on StaleWrite.
        return self._call("get_item", Key=self._key(pk, sk), ConsistentRead=True).get("Item")

    def _put_versioned(self, item: dict[str, Any], expected_version: int) -> bool | None:
        """Conditional put: True when written, False when another version is stored, None when absent."""
        from botocore.exceptions import ClientError

        try:
            self._call("put_item", Item=item, ConditionExpression="#version = :expected",
                       ExpressionAttributeNames={"#version": "version"},
                       ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            return False if exc.response.get("Item") else None
        return True

    def _scan(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self._call("scan", **kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # --- jobs -------------------------------------------------------------------------------------

    def create_job(self, job: Job, claim: IdempotencyClaim | None = None) -> tuple[Job, bool]:
        stored = job.model_copy(update={"version": 1})
        held = self._create(f"job {stored.id} or one of its tasks", lambda: self._creation_writes(stored, claim),
                            claim)
        if held is None:
            return stored, True
        item = self._get(schema.job_pk(held.resource_id), schema.JOB_SK)
        if item is None:
            raise IdempotencyKeyReused(KEY_HELD_ELSEWHERE)  # the key names a task
        found = self._job(item)
        if found is None:
            raise JobUnreadable(held.resource_id)
        return found, False

    def _create(self, what: str, writes: Callable[[], list[dict[str, Any]]],
                claim: IdempotencyClaim | None) -> IdempotencyClaim | None:
        """Run the creation transaction `writes()` (the claim first, when there is one). Returns None when
        written, or the live claim that already holds the key (nothing written)."""
        from botocore.exceptions import ClientError

        for _ in range(TRANSACTION_ATTEMPTS):
            try:
                # TransactWriteItems has no TableName of its own: each write names the table.
                self._request("transact_write_items", TransactItems=writes())
                return None
            except ClientError as exc:
                if _code(exc) != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if claim is not None and reasons and reasons[0] == "ConditionalCheckFailed":
                    existing = self.get_claim(claim.project_id, claim.key)
                    if existing is not None:
                        return existing
                    continue  # the claim expired in between: try to take it again
                if "TransactionConflict" in reasons:
                    continue  # another transaction touched the same items: DynamoDB asks for a retry
                raise Conflict(f"{what} already exists") from exc
        raise TransientError(f"could not record {what}: kept conflicting with concurrent writes")

    def _claim_write(self, claim: IdempotencyClaim) -> dict[str, Any]:
        """The claim's Put, taken when absent or expired."""
        return {"Put": {
            "TableName": self.table, "Item": self._claim_item(claim),
            "ConditionExpression": f"attribute_not_exists({schema.PARTITION_KEY}) OR created_at <= :expired",
            "ExpressionAttributeValues": {":expired": {"N": str(now_ms() - IDEMPOTENCY_TTL_MS)}},
        }}

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
        if item is None or (project_id is not None and _item_project(item) != project_id):
            raise JobNotFound(job_id)
        job = self._job(item)
        if job is None:
            raise JobUnreadable(job_id)
        return job

    def save_job(self, job: Job) -> Job:
        saved = job.model_copy(update={"version": job.version + 1})
        written = self._put_versioned(self._job_item(saved), job.version)
        if written is None:
            raise JobNotFound(job.id)
        if not written:
            raise StaleWrite(f"job {job.id} changed since version {job.version} was read")
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

    # --- standalone tasks -------------------------------------------------------------------------

    def create_task(self, task: Task, claim: IdempotencyClaim | None = None) -> tuple[Task, bool]:
        stored = task.model_copy(update={"version": 1})

        def writes() -> list[dict[str, Any]]:
            put = {"TableName": self.table, "Item": self._task_item(stored),
                   "ConditionExpression": f"attribute_not_exists({schema.PARTITION_KEY})"}
            return [*([] if claim is None else [self._claim_write(claim)]), {"Put": put}]

        held = self._create(f"task {stored.id}", writes, claim)
        if held is None:
            return stored, True
        item = self._get(schema.task_pk(held.resource_id), schema.TASK_SK)
        if item is None:
            raise IdempotencyKeyReused(KEY_HELD_ELSEWHERE)  # the key names a job
        found = self._task(item)
        if found is None:
            raise TaskUnreadable(held.resource_id)
        return found, False

    def get_task(self, task_id: str, project_id: str | None = None) -> Task:
        # One Query finds either kind: the standalone task (sk TASK) or the pointer into a job (sk JOB).
        items = self._call("query", KeyConditionExpression="#pk = :pk", ConsistentRead=True,
                           ExpressionAttributeNames={"#pk": schema.PARTITION_KEY},
                           ExpressionAttributeValues={":pk": {"S": schema.task_pk(task_id)}}).get("Items", [])
        # Another project's record is not found, however it reads; the loaded task's project is checked again
        # below for items that do not carry it.
        items = [item for item in items if project_id is None or _item_project(item) in (None, project_id)]
        task = next(filter(None, (self._task_from(item, task_id) for item in items)), None)
        if task is None or (project_id is not None and task.project_id != project_id):
            raise TaskNotFound(task_id)
        return task

    def _task_from(self, item: Mapping[str, Any], task_id: str) -> Task | None:
        if item[schema.SORT_KEY]["S"] == schema.TASK_SK:
            task = self._task(item)
            if task is None:
                raise TaskUnreadable(task_id)
            return task
        try:
            job = self.get_job(item["job_id"]["S"])
        except JobUnreadable:
            raise TaskUnreadable(task_id) from None
        except JobNotFound:
            return None
        return next((t for t in job.tasks if t.id == task_id), None)

    def save_task(self, task: Task) -> Task:
        saved = task.model_copy(update={"version": task.version + 1})
        written = self._put_versioned(self._task_item(saved), task.version)
        if written is None:
            raise TaskNotFound(task.id)
        if not written:
            raise StaleWrite(f"task {task.id} changed since version {task.version} was read")
        return saved

    def active_tasks(self) -> list[Task]:
        """A full-table Scan, like active_jobs."""
        items = self._scan(FilterExpression="#sk = :sk AND #status IN (:waiting, :processing)",
                           ExpressionAttributeNames={"#sk": schema.SORT_KEY, "#status": "status"},
                           ExpressionAttributeValues={":sk": {"S": schema.TASK_SK}, ":waiting": {"S": "waiting"},
                                                      ":processing": {"S": "processing"}})
        return sorted(filter(None, (self._task(item) for item in items)), key=lambda task: task.id)

    def list_tasks(self, project_id: str, query: TaskQuery) -> TaskPage:
        """One Query on the project index's TASKS#<project> partition (every page of it), kind and status
        filtered by DynamoDB, then sorted and cut into the page here: each call reads (and bills) all of the
        project's standalone tasks, kept or not, which is fine at the sizes a page-numbered list is used at;
        a sort-key index per sort would be the next step. `total` counts the matching tasks that load (a
        quarantined one is neither listed nor counted). Index reads are eventually consistent: a task created
        a moment ago can be missing for a fraction of a second."""
        names = {"#pk": schema.PROJECT_INDEX_PARTITION_KEY}
        values: dict[str, Any] = {":project": {"S": schema.task_list_pk(project_id)}}
        kwargs: dict[str, Any] = {"IndexName": schema.PROJECT_INDEX, "KeyConditionExpression": "#pk = :project"}
        filters = []
        if query.kind:
            names["#kind"] = "kind"
            values[":kind"] = {"S": query.kind}
            filters.append("#kind = :kind")
        if query.status:
            names["#status"] = "status"
            options = []
            for n, status in enumerate(dict.fromkeys(query.status)):
                values[f":status{n}"] = {"S": status}
                options.append(f":status{n}")
            filters.append(f"#status IN ({', '.join(options)})")
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
        kwargs["ExpressionAttributeNames"], kwargs["ExpressionAttributeValues"] = names, values

        matching: list[Task] = []
        while True:
            page = self._call("query", **kwargs)
            matching.extend(filter(None, (self._task(item) for item in page.get("Items", []))))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        matching.sort(key=_TASK_SORT_KEYS[query.sort], reverse=query.order == "desc")
        start = (query.page - 1) * query.limit
        return TaskPage(items=matching[start:start + query.limit], total=len(matching))

    def index_standalone_tasks(self) -> int:
        """For operators, once, after upgrading a table whose standalone tasks predate `list_tasks`: give each
        its index key (a full-table Scan, like active_jobs). A task saved meanwhile is left alone (its save
        wrote the key). Returns how many were indexed."""
        items = self._scan(FilterExpression="#sk = :sk AND attribute_not_exists(#pk)",
                           ExpressionAttributeNames={"#sk": schema.SORT_KEY,
                                                     "#pk": schema.PROJECT_INDEX_PARTITION_KEY},
                           ExpressionAttributeValues={":sk": {"S": schema.TASK_SK}})
        indexed = 0
        for task in filter(None, (self._task(item) for item in items)):
            indexed += bool(self._put_versioned(self._task_item(task), task.version))  # the same version: no bump
        return indexed

    # --- idempotency ------------------------------------------------------------------------------

    def _claim_item(self, claim: IdempotencyClaim) -> dict[str, Any]:
        return self._item({
            schema.PARTITION_KEY: schema.idempotency_pk(claim.project_id, claim.key),
            schema.SORT_KEY: schema.IDEMPOTENCY_SK,
            **claim.model_dump(),
            # DynamoDB's TTL deletes the record some time after this (epoch seconds); until then the
            # created_at checks below keep an expired claim from counting.
            schema.TTL_ATTRIBUTE: (claim.created_at + IDEMPOTENCY_TTL_MS) // 1000,
        })

    def get_claim(self, project_id: str, key: str) -> IdempotencyClaim | None:
        item = self._get(schema.idempotency_pk(project_id, key), schema.IDEMPOTENCY_SK)
        if item is None:
            return None
        claim = IdempotencyClaim.model_validate(self._plain(item))
        return claim if claim.created_at > now_ms() - IDEMPOTENCY_TTL_MS else None

    # --- API keys ---------------------------------------------------------------------------------

    def add_api_key(self, key_hash: str, project_id: str) -> None:
        self._call("put_item", Item=self._item({
            schema.PARTITION_KEY: schema.api_key_pk(key_hash), schema.SORT_KEY: schema.API_KEY_SK,
            "project_id": project_id, "created_at": now_ms(),
        }))

    def project_for_key(self, key_hash: str) -> str | None:
        item = self._get(schema.api_key_pk(key_hash), schema.API_KEY_SK)
        return None if item is None else item["project_id"]["S"]


def _filesize(task: Task) -> tuple[bool, float]:
    """SQLite's order for `json_extract(record, '$.output.filesize')`: a task without one comes first."""
    size = (task.output or {}).get("filesize")
    if isinstance(size, bool) or not isinstance(size, int | float):
        return (False, 0)
    return (True, size)


# Ids sort in creation order; the other sorts fall back to it on ties, in the same direction (as SQLite).
_TASK_SORT_KEYS: dict[str, Callable[[Task], Any]] = {
    "created": lambda task: task.id,
    "updated": lambda task: (task.updated_at, task.id),
    "filesize": lambda task: (*_filesize(task), task.id),
}


def _code(exc: Any) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _item_id(item: Mapping[str, Any]) -> str:
    """The record's id, read without loading it (for the quarantine log)."""
    return str(item.get("id", {}).get("S") or item.get(schema.PARTITION_KEY, {}).get("S", "?"))


def _item_project(item: Mapping[str, Any]) -> str | None:
    return item.get("project_id", {}).get("S")


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
