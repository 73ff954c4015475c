"""JobStore on one SQLite file: the embedded default's records.

Each job is one row: the full record as JSON plus the columns lists filter on (project_id, kind,
status, input), so `GET /jobs` is one indexed query and `GET /jobs/{id}` one primary-key read.

Records are read as bytes (`CAST(record AS BLOB)`): a record that is not UTF-8 then fails to load on its
own, and is quarantined (store.base), instead of failing the whole query in sqlite3's text decoding.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Literal

from mediajet.errors import Conflict, JobNotFound, StaleWrite, TaskNotFound
from mediajet.ids import now_ms
from mediajet.models.job import IdempotencyClaim, Job, Task, task_record
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
from mediajet.store.sqlite_db import SqliteDatabase, open_connection
from mediajet.store.sqlite_library import SqliteLibrary
from mediajet.store.sqlite_migrations import SCHEMA_VERSION, SchemaTooNew, migrate
from mediajet.store.sqlite_outbox import SqliteOutbox

__all__ = ["SCHEMA_VERSION", "SchemaTooNew", "SqliteJobStore", "migrate", "open_connection"]

_ACTIVE_JOB = "status IN ('queued', 'processing')"  # the partial indexes' conditions, word for word
_ACTIVE_TASK = "status IN ('waiting', 'processing')"
_FILTER_COLUMNS = ("kind", "status", "input")
_RECORD = "CAST(record AS BLOB)"
_MAX_OFFSET = 2**62  # SQLite integers are 64-bit: a page number past this is past any end
_TASK_SORT = {"updated": "json_extract(record, '$.updated_at')", "filesize": "json_extract(record, '$.output.filesize')"}


class SqliteJobStore(SqliteLibrary, SqliteOutbox):
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db = SqliteDatabase(self.path)  # pool, write lock, WAL checkpoints (sqlite_db.py)
        self._connection = self._db.connection  # a pooled connection, for reads
        self._write = self._db.write  # a connection inside a BEGIN IMMEDIATE transaction, for writes
        self.written = self._db.written  # set after every write in this process (sqlite_db.py)
        self._quarantine = Quarantine()

    def close(self) -> None:
        self._db.close()

    # --- records ----------------------------------------------------------------------------------

    @property
    def quarantined(self) -> frozenset[str]:
        """Ids of the records this process found unreadable (and logged)."""
        return self._quarantine.ids

    def _job(self, job_id: str, record: bytes) -> Job | None:
        return self._quarantine.load("job", job_id, lambda: Job.model_validate_json(record))

    def _task(self, task_id: str, record: bytes) -> Task | None:
        return self._quarantine.load("task", task_id, lambda: Task.model_validate_json(record))

    def _loaded_job(self, job_id: str, record: bytes) -> Job:
        job = self._job(job_id, record)
        if job is None:
            raise JobUnreadable(job_id)
        return job

    # --- jobs -------------------------------------------------------------------------------------

    def create_job(self, job: Job, claim: IdempotencyClaim | None = None) -> tuple[Job, bool]:
        stored = job.model_copy(update={"version": 1})
        with self._write() as conn:
            if claim is not None and not _take_claim(conn, claim):
                return self._loaded_job(*_held_by(conn, claim, "jobs")), False
            try:
                conn.execute(
                    "INSERT INTO jobs (id, project_id, kind, status, input, version, record) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (stored.id, stored.project_id, stored.kind, stored.status, stored.input, stored.version,
                     json.dumps(stored.to_record())),
                )
                conn.executemany("INSERT INTO job_tasks (task_id, job_id) VALUES (?, ?)",
                                 [(task.id, stored.id) for task in stored.tasks])
            except sqlite3.IntegrityError:
                raise Conflict(f"job {stored.id} or one of its tasks already exists") from None
            self._emit(conn, None, stored, now_ms())
        return stored, True

    def get_job(self, job_id: str, project_id: str | None = None) -> Job:
        with self._connection() as conn:
            row = conn.execute(f"SELECT {_RECORD} FROM jobs WHERE id = ?1 AND (?2 IS NULL OR project_id = ?2)",
                               (job_id, project_id)).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return self._loaded_job(job_id, row[0])

    def save_job(self, job: Job) -> Job:
        saved = job.model_copy(update={"version": job.version + 1})
        with self._write() as conn:
            before = _status(conn, "jobs", job.id, job.version)
            if before is None:
                exists = conn.execute("SELECT 1 FROM jobs WHERE id = ?", (job.id,)).fetchone()
                if exists is None:
                    raise JobNotFound(job.id)
                raise StaleWrite(f"job {job.id} changed since version {job.version} was read")
            conn.execute("UPDATE jobs SET status = ?, version = ?, record = ? WHERE id = ?",
                         (saved.status, saved.version, json.dumps(saved.to_record()), job.id))
            self._emit(conn, before, saved, now_ms())
        return saved

    def list_jobs(self, project_id: str, query: JobQuery) -> JobPage:
        """`limit + 1` loadable jobs along the window; a quarantined row is stepped over (another read picks
        up after it), so it neither ends a page early nor hides `has_more`."""
        window = page_window(query)
        wanted = query.limit + 1
        jobs: list[Job] = []
        read = window
        while len(jobs) < wanted:
            asked = wanted - len(jobs)
            rows = self._job_rows(project_id, query, read, asked)
            jobs.extend(job for job in (self._job(*row) for row in rows) if job is not None)
            if len(rows) < asked:  # nothing more along the window
                break
            last = rows[-1][0]
            read = read.model_copy(update={"above": last} if read.ascending else {"below": last})
        return page_of(jobs, query, window)

    def _job_rows(self, project_id: str, query: JobQuery, window: PageWindow, count: int) -> list[tuple[str, bytes]]:
        where, params = ["project_id = ?"], [project_id]
        for column in _FILTER_COLUMNS:
            value = getattr(query, column)
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if window.above is not None:
            where.append("id > ?")
            params.append(window.above)
        if window.below is not None:
            where.append("id < ?")
            params.append(window.below)
        direction = "ASC" if window.ascending else "DESC"
        sql = f"SELECT id, {_RECORD} FROM jobs WHERE {' AND '.join(where)} ORDER BY id {direction} LIMIT ?"
        with self._connection() as conn:
            return conn.execute(sql, (*params, count)).fetchall()

    def active_jobs(self) -> list[Job]:
        with self._connection() as conn:
            rows = conn.execute(f"SELECT id, {_RECORD} FROM jobs WHERE {_ACTIVE_JOB} ORDER BY id").fetchall()
        return [job for job in (self._job(*row) for row in rows) if job is not None]

    # --- standalone tasks -------------------------------------------------------------------------

    def create_task(self, task: Task, claim: IdempotencyClaim | None = None) -> tuple[Task, bool]:
        stored = task.model_copy(update={"version": 1})
        with self._write() as conn:
            if claim is not None and not _take_claim(conn, claim):
                existing = _held_by(conn, claim, "tasks")
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
            before = _status(conn, "tasks", task.id, task.version)
            if before is None:
                exists = conn.execute("SELECT 1 FROM tasks WHERE id = ?", (task.id,)).fetchone()
                if exists is None:
                    raise TaskNotFound(task.id)
                raise StaleWrite(f"task {task.id} changed since version {task.version} was read")
            conn.execute("UPDATE tasks SET status = ?, version = ?, record = ? WHERE id = ?",
                         (saved.status, saved.version, json.dumps(task_record(saved)), task.id))
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

    # --- idempotency ------------------------------------------------------------------------------

    def get_claim(self, project_id: str, key: str) -> IdempotencyClaim | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT body_hash, resource_id, created_at FROM idempotency "
                "WHERE project_id = ? AND key = ? AND created_at > ?",
                (project_id, key, now_ms() - IDEMPOTENCY_TTL_MS),
            ).fetchone()
        if row is None:
            return None
        body_hash, resource_id, created_at = row
        return IdempotencyClaim(project_id=project_id, key=key, body_hash=body_hash, resource_id=resource_id,
                                created_at=created_at)

    # --- API keys ---------------------------------------------------------------------------------

    def add_api_key(self, key_hash: str, project_id: str) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO api_keys (key_hash, project_id, created_at) VALUES (?, ?, ?)",
                         (key_hash, project_id, now_ms()))

    def project_for_key(self, key_hash: str) -> str | None:
        with self._connection() as conn:
            row = conn.execute("SELECT project_id FROM api_keys WHERE key_hash = ?", (key_hash,)).fetchone()
        return None if row is None else row[0]


def _status(conn: sqlite3.Connection, table: Literal["jobs", "tasks"], record_id: str, version: int) -> str | None:
    """The stored status of the record when its version is `version` (inside the write transaction, so nothing
    changes it before the update); None when it is absent or at another version."""
    row = conn.execute(f"SELECT status FROM {table} WHERE id = ? AND version = ?", (record_id, version)).fetchone()
    return None if row is None else row[0]


def _held_by(conn: sqlite3.Connection, claim: IdempotencyClaim, table: Literal["jobs", "tasks"]) -> tuple[str, bytes]:
    """(id, record) of what a live claim on this key already names in `table`. A claim that names the
    other kind of record (a job's key sent with a task, or the reverse) is a key reused."""
    row = conn.execute(
        f"SELECT {table}.id, CAST({table}.record AS BLOB) FROM idempotency JOIN {table} ON {table}.id = "
        "idempotency.resource_id WHERE idempotency.project_id = ? AND idempotency.key = ?",
        (claim.project_id, claim.key)).fetchone()
    if row is None:
        raise IdempotencyKeyReused(KEY_HELD_ELSEWHERE)
    return row


def _take_claim(conn: sqlite3.Connection, claim: IdempotencyClaim) -> bool:
    """Record `claim` unless a live one holds the key; a claim past its 24 h is overwritten."""
    return conn.execute(
        "INSERT INTO idempotency (project_id, key, body_hash, resource_id, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (project_id, key) DO UPDATE SET body_hash = excluded.body_hash, "
        "resource_id = excluded.resource_id, created_at = excluded.created_at "
        "WHERE idempotency.created_at <= ?",
        (claim.project_id, claim.key, claim.body_hash, claim.resource_id, claim.created_at,
         now_ms() - IDEMPOTENCY_TTL_MS),
    ).rowcount == 1
