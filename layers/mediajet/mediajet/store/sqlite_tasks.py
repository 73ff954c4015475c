"""Standalone tasks (POST /tasks) in the SQLite store: one `tasks` row each, the full record as JSON plus the
columns lists filter on; a task embedded in a job is found through `job_tasks` and read from its job."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager

from mediajet.errors import Conflict, TaskNotFound
from mediajet.ids import now_ms
from mediajet.models.job import IdempotencyClaim, Job, Task, task_record
from mediajet.store.base import Quarantine, TaskPage, TaskQuery, TaskUnreadable
from mediajet.store.sqlite_rows import held_by, replace_versioned, take_claim

_ACTIVE_TASK = "status IN ('waiting', 'processing')"  # the partial index's condition, word for word
_RECORD = "CAST(record AS BLOB)"
_MAX_OFFSET = 2**62  # SQLite integers are 64-bit: a page number past this is past any end
_TASK_SORT = {"updated": "json_extract(record, '$.updated_at')", "filesize": "json_extract(record, '$.output.filesize')"}


class SqliteTasks:
    _connection: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _write: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _quarantine: Quarantine
    _job: Callable[[str, bytes], Job | None]
    _emit: Callable[..., None]

    def _task(self, task_id: str, record: bytes) -> Task | None:
        return self._quarantine.load("task", task_id, lambda: Task.model_validate_json(record))

    def create_task(self, task: Task, claim: IdempotencyClaim | None = None) -> tuple[Task, bool]:
        stored = task.model_copy(update={"version": 1})
        with self._write() as conn:
            if claim is not None and not take_claim(conn, claim):
                existing = held_by(conn, claim, "tasks")
                found = self._task(*existing)
                if found is None:
                    raise TaskUnreadable(existing[0])
                return found, False
            try:
                conn.execute("INSERT INTO tasks (id, project_id, status, version, record) VALUES (?, ?, ?, ?, ?)",
                             (stored.id, stored.project_id, stored.status, stored.version,
                              json.dumps(task_record(stored))))
            except sqlite3.IntegrityError:
                raise Conflict(f"task {stored.id} already exists") from None
            self._emit(conn, None, stored, now_ms())
        return stored, True

    def get_task(self, task_id: str, project_id: str | None = None) -> Task:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT CAST(record AS BLOB), NULL FROM tasks WHERE id = ?1 AND (?2 IS NULL OR project_id = ?2) "
                "UNION ALL "
                "SELECT CAST(jobs.record AS BLOB), jobs.id FROM job_tasks JOIN jobs ON jobs.id = job_tasks.job_id "
                "WHERE job_tasks.task_id = ?1 AND (?2 IS NULL OR jobs.project_id = ?2)",
                (task_id, project_id),
            ).fetchone()
        if row is None:
            raise TaskNotFound(task_id)
        record, job_id = row
        if job_id is None:
            task = self._task(task_id, record)
            if task is None:
                raise TaskUnreadable(task_id)
            return task
        job = self._job(job_id, record)
        if job is None:
            raise TaskUnreadable(task_id)
        task = next((t for t in job.tasks if t.id == task_id), None)
        if task is None:
            raise TaskNotFound(task_id)
        return task

    def save_task(self, task: Task) -> Task:
        saved = task.model_copy(update={"version": task.version + 1})
        with self._write() as conn:
            before = replace_versioned(conn, "tasks", task.id, task.version, saved.status,
                                       json.dumps(task_record(saved)), TaskNotFound)
            self._emit(conn, before, saved, now_ms())
        return saved

    def active_tasks(self) -> list[Task]:
        with self._connection() as conn:
            rows = conn.execute(f"SELECT id, {_RECORD} FROM tasks WHERE {_ACTIVE_TASK} ORDER BY id").fetchall()
        return [task for task in (self._task(*row) for row in rows) if task is not None]

    def list_tasks(self, project_id: str, query: TaskQuery) -> TaskPage:
        where, params = ["project_id = ?"], [project_id]
        if query.status:
            where.append(f"status IN ({', '.join('?' * len(query.status))})")
            params.extend(query.status)
        if query.kind:
            where.append("json_extract(record, '$.kind') = ?")
            params.append(query.kind)
        clause = " AND ".join(where)
        direction = "ASC" if query.order == "asc" else "DESC"
        # ids sort in creation order, so `created` needs no JSON; the others fall back to it on ties
        order = "" if query.sort == "created" else f"{_TASK_SORT[query.sort]} {direction}, "
        offset = (query.page - 1) * query.limit
        with self._connection() as conn:
            rows = [] if offset > _MAX_OFFSET else conn.execute(
                f"SELECT id, {_RECORD} FROM tasks WHERE {clause} ORDER BY {order}id {direction} LIMIT ? OFFSET ?",
                [*params, query.limit, offset]).fetchall()
            items = [task for task in (self._task(*row) for row in rows) if task is not None]
            # counted after the page is loaded, so a record that just failed to load is not promised either
            bad = sorted(self._quarantine.ids)
            unreadable = f" AND id NOT IN ({', '.join('?' * len(bad))})" if bad else ""
            total = conn.execute(f"SELECT COUNT(*) FROM tasks WHERE {clause}{unreadable}", [*params, *bad]).fetchone()[0]
        return TaskPage(items=items, total=total)
