"""Standalone tasks on the DynamoDB table, and job tasks found through their pointer items."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mediajet.errors import TaskNotFound
from mediajet.models.job import IdempotencyClaim, Task, task_record
from mediajet.store import dynamo_schema as schema
from mediajet.store.base import KEY_HELD_ELSEWHERE, IdempotencyKeyReused, TaskPage, TaskQuery, TaskUnreadable
from mediajet.store.dynamo_codec import item_project
from mediajet.store.dynamo_outbox import DynamoOutbox


class DynamoTasks(DynamoOutbox):
    def _task_item(self, task: Task) -> dict[str, Any]:
        return self._item({schema.PARTITION_KEY: schema.task_pk(task.id), schema.SORT_KEY: schema.TASK_SK,
                           schema.PROJECT_INDEX_PARTITION_KEY: schema.task_list_pk(task.project_id),
                           schema.PROJECT_INDEX_SORT_KEY: task.id,
                           **task_record(task)})

    def create_task(self, task: Task, claim: IdempotencyClaim | None = None) -> tuple[Task, bool]:
        stored = task.model_copy(update={"version": 1})
        events = self._event_puts(self._events_of(None, stored))  # written with the task, or not at all

        def writes() -> list[dict[str, Any]]:
            put = {"TableName": self.table, "Item": self._task_item(stored),
                   "ConditionExpression": f"attribute_not_exists({schema.PARTITION_KEY})"}
            return [*([] if claim is None else [self._claim_write(claim)]), {"Put": put}, *events]

        held = self._create(f"task {stored.id}", writes, claim)
        if held is None:
            self._statuses.remember("task", stored)
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
        items = [item for item in items if project_id is None or item_project(item) in (None, project_id)]
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
        job_item = self._get(schema.job_pk(item["job_id"]["S"]), schema.JOB_SK)  # what get_job(job_id) reads
        if job_item is None:
            return None
        job = self._job(job_item)
        if job is None:
            raise TaskUnreadable(task_id)
        return next((t for t in job.tasks if t.id == task_id), None)

    def save_task(self, task: Task) -> Task:
        saved = task.model_copy(update={"version": task.version + 1})
        self._save_changed("task", task, saved, self._task_item(saved), lambda: TaskNotFound(task.id))
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

