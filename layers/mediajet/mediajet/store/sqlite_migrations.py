"""The SQLite store's schema: append-only migrations, applied in order, recorded in PRAGMA user_version."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

# Append-only: a database at version N runs migrations N+1… in order, each in one transaction, and
# PRAGMA user_version records how far it got. Never edit a migration that has shipped.
MIGRATIONS: tuple[str, ...] = (
    # 1: jobs, standalone tasks, idempotency claims, API keys
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        version INTEGER NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX jobs_by_project ON jobs (project_id, id);
    CREATE INDEX jobs_by_project_status ON jobs (project_id, status, id);
    CREATE INDEX jobs_by_project_kind ON jobs (project_id, kind, id);
    CREATE INDEX jobs_by_project_input ON jobs (project_id, input, id);
    CREATE INDEX jobs_active ON jobs (id) WHERE status IN ('queued', 'processing');

    CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        project_id TEXT NOT NULL,
        status TEXT NOT NULL,
        version INTEGER NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX tasks_active ON tasks (id) WHERE status IN ('waiting', 'processing');

    CREATE TABLE idempotency (
        project_id TEXT NOT NULL,
        key TEXT NOT NULL,
        body_hash TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (project_id, key)
    );

    CREATE TABLE api_keys (
        key_hash TEXT PRIMARY KEY,
        project_id TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    """,
    # 2: find a task embedded in a job by the task's id (GET /tasks/{id} for a job's task)
    """
    CREATE TABLE job_tasks (
        task_id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL
    );
    INSERT INTO job_tasks (task_id, job_id)
        SELECT json_extract(task.value, '$.id'), jobs.id FROM jobs, json_each(jobs.record, '$.tasks') AS task;
    """,
    # 3: list a project's standalone tasks (GET /tasks of the dated API versions)
    """
    CREATE INDEX tasks_by_project ON tasks (project_id, id);
    """,
    # 4: the media library (files, media, automations: store/sqlite_library.py)
    """
    CREATE TABLE library (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        project_id TEXT NOT NULL,
        media_id TEXT,
        version INTEGER NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX library_by_project ON library (project_id, type, id);
    CREATE INDEX library_by_media ON library (media_id, id) WHERE media_id IS NOT NULL;
    """,
    # 5: the webhook outbox: events (library rows of type `event`) with a delivery pending (store/sqlite_outbox.py)
    """
    CREATE TABLE outbox (
        event_id TEXT PRIMARY KEY,
        due_at INTEGER NOT NULL
    );
    CREATE INDEX outbox_due ON outbox (due_at);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The file was written by a newer MediaJet; opening it would risk corrupting its records."""


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to `target`; returns the version found. Safe when several processes open
    the same file at once: the version is re-read under the write lock."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        if found > SCHEMA_VERSION:
            raise SchemaTooNew(f"the database has schema version {found}; this MediaJet knows up to "
                               f"{SCHEMA_VERSION}: upgrade MediaJet")
        for version in range(found + 1, target + 1):
            for statement in _statements(MIGRATIONS[version - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version:d}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return found


def _statements(script: str) -> Iterator[str]:
    # executescript() would COMMIT first; the migration must stay inside our transaction.
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in a migration: {pending.strip()[:80]}")

