"""JobStore on one SQLite file: the embedded default's records.

Each job is one row: the full record as JSON plus the columns lists filter on (project_id, kind,
status, input), so `GET /jobs` is one indexed query and `GET /jobs/{id}` one primary-key read.

The other records live in the same file, each part in its own module mixed into SqliteJobStore: standalone
tasks (sqlite_tasks.py), the media library (sqlite_library.py), the webhook outbox (sqlite_outbox.py).

Records are read as bytes (`CAST(record AS BLOB)`): a record that is not UTF-8 then fails to load on its
own, and is quarantined (store.base), instead of failing the whole query in sqlite3's text decoding.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from mediajet.errors import Conflict, JobNotFound
from mediajet.ids import now_ms
from mediajet.models.job import IdempotencyClaim, Job
from mediajet.store.base import (
    IDEMPOTENCY_TTL_MS,
    JobPage,
    JobQuery,
    JobUnreadable,
    PageWindow,
    Quarantine,
    page_of,
    page_window,
)
from mediajet.store.sqlite_db import SqliteDatabase, open_connection
from mediajet.store.sqlite_library import SqliteLibrary
from mediajet.store.sqlite_migrations import SCHEMA_VERSION, SchemaTooNew, migrate
from mediajet.store.sqlite_outbox import SqliteOutbox
from mediajet.store.sqlite_rows import held_by, replace_versioned, take_claim
from mediajet.store.sqlite_tasks import SqliteTasks

__all__ = ["SCHEMA_VERSION", "SchemaTooNew", "SqliteJobStore", "migrate", "open_connection"]

_ACTIVE_JOB = "status IN ('queued', 'processing')"  # the partial indexes' conditions, word for word
_FILTER_COLUMNS = ("kind", "status", "input")
_RECORD = "CAST(record AS BLOB)"


class SqliteJobStore(SqliteLibrary, SqliteOutbox, SqliteTasks):
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db = SqliteDatabase(self.path)  # pool, write lock, WAL checkpoints (sqlite_db.py)
        self._connection = self._db.connection  # a pooled connection, for reads
        self._write = self._db.write  # a connection inside a BEGIN IMMEDIATE transaction, for writes
        self.written = self._db.written  # set after every write in this process (sqlite_db.py)
        self.outbox_ready = threading.Event()  # a commit put a delivery in the outbox (sqlite_outbox.py)
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

    def _loaded_job(self, job_id: str, record: bytes) -> Job:
        job = self._job(job_id, record)
        if job is None:
            raise JobUnreadable(job_id)
        return job

    # --- jobs -------------------------------------------------------------------------------------

    def create_job(self, job: Job, claim: IdempotencyClaim | None = None) -> tuple[Job, bool]:
        stored = job.model_copy(update={"version": 1})
        with self._write() as conn:
            if claim is not None and not take_claim(conn, claim):
                return self._loaded_job(*held_by(conn, claim, "jobs")), False
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
            before = replace_versioned(conn, "jobs", job.id, job.version, saved.status,
                                       json.dumps(saved.to_record()), JobNotFound)
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
