"""Row-level steps the SQLite store's parts share inside their write transactions: the conditional save of a
job or task, and the Idempotency-Key claims of jobs, tasks and library records."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Literal

from mediajet.errors import StaleWrite
from mediajet.ids import now_ms
from mediajet.models.job import IdempotencyClaim
from mediajet.store.base import IDEMPOTENCY_TTL_MS, KEY_HELD_ELSEWHERE, IdempotencyKeyReused


def replace_versioned(conn: sqlite3.Connection, table: Literal["jobs", "tasks"], record_id: str, version: int,
                      status: str, record: str, not_found: Callable[[str], Exception]) -> str:
    """Store version `version + 1` of a job or task (`status`, `record` JSON) over version `version`, inside
    the write transaction; returns the status it replaced, which the outbox compares. `not_found(id)` when
    there is no such record, StaleWrite when another version is stored."""
    row = conn.execute(f"SELECT status FROM {table} WHERE id = ? AND version = ?", (record_id, version)).fetchone()
    if row is None:
        if conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (record_id,)).fetchone() is None:
            raise not_found(record_id)
        raise StaleWrite(f"{table[:-1]} {record_id} changed since version {version} was read")
    conn.execute(f"UPDATE {table} SET status = ?, version = ?, record = ? WHERE id = ?",
                 (status, version + 1, record, record_id))
    return row[0]


def held_by(conn: sqlite3.Connection, claim: IdempotencyClaim, table: Literal["jobs", "tasks"]) -> tuple[str, bytes]:
    """(id, record) of what a live claim on this key already names in `table`. A claim that names the
    other kind of record (a job's key sent with a task, or the reverse) is a key reused."""
    row = conn.execute(
        f"SELECT {table}.id, CAST({table}.record AS BLOB) FROM idempotency JOIN {table} ON {table}.id = "
        "idempotency.resource_id WHERE idempotency.project_id = ? AND idempotency.key = ?",
        (claim.project_id, claim.key)).fetchone()
    if row is None:
        raise IdempotencyKeyReused(KEY_HELD_ELSEWHERE)
    return row


def take_claim(conn: sqlite3.Connection, claim: IdempotencyClaim) -> bool:
    """Record `claim` unless a live one holds the key; a claim past its 24 h is overwritten."""
    return conn.execute(
        "INSERT INTO idempotency (project_id, key, body_hash, resource_id, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (project_id, key) DO UPDATE SET body_hash = excluded.body_hash, "
        "resource_id = excluded.resource_id, created_at = excluded.created_at "
        "WHERE idempotency.created_at <= ?",
        (claim.project_id, claim.key, claim.body_hash, claim.resource_id, claim.created_at,
         now_ms() - IDEMPOTENCY_TTL_MS),
    ).rowcount == 1
