"""The library store (store/library.py) on SQLite: one `library` table for files, media and automations.

Each row is the full record as JSON plus the columns its reads use: `type` and `project_id` (a project's
list of one type, newest first: index library_by_project) and `media_id` (a media item's files:
library_by_media). Mixed into SqliteJobStore, so one file and one pool serve jobs and the library.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from mediajet.errors import Conflict, StaleWrite
from mediajet.models.job import IdempotencyClaim
from mediajet.models.library import LibraryFile, LibraryRecord
from mediajet.store.base import KEY_HELD_ELSEWHERE, IdempotencyKeyReused, Quarantine
from mediajet.store.library import R, not_found

_RECORD = "CAST(record AS BLOB)"


class SqliteLibrary:
    _connection: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _write: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _quarantine: Quarantine

    def _load(self, cls: type[R], record_id: str, record: bytes) -> R | None:
        return self._quarantine.load(cls.record_type, record_id, lambda: cls.model_validate_json(record))

    def create_record(self, record: R) -> R:
        stored = record.model_copy(update={"version": 1})
        try:
            with self._write() as conn:
                conn.execute("INSERT INTO library (id, type, project_id, media_id, version, record) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (*_columns(stored), stored.version, _json(stored)))
        except sqlite3.IntegrityError:
            raise Conflict(f"{stored.record_type} {stored.id} already exists") from None
        return stored

    def create_record_once(self, record: R, claim: IdempotencyClaim) -> tuple[R, bool]:
        from mediajet.store.sqlite_rows import take_claim  # the claim rules are the jobs' and tasks'

        stored = record.model_copy(update={"version": 1})
        with self._write() as conn:
            if not take_claim(conn, claim):
                row = conn.execute("SELECT library.id, CAST(library.record AS BLOB) FROM idempotency JOIN library ON "
                                   "library.id = idempotency.resource_id WHERE idempotency.project_id = ? AND "
                                   "idempotency.key = ? AND library.type = ?",
                                   (claim.project_id, claim.key, record.record_type)).fetchone()
                found = None if row is None else self._load(type(record), *row)
                if found is None:
                    raise IdempotencyKeyReused(KEY_HELD_ELSEWHERE)
                return found, False
            try:
                conn.execute("INSERT INTO library (id, type, project_id, media_id, version, record) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (*_columns(stored), stored.version, _json(stored)))
            except sqlite3.IntegrityError:
                raise Conflict(f"{stored.record_type} {stored.id} already exists") from None
        return stored, True

    def get_record(self, cls: type[R], record_id: str, project_id: str | None) -> R:
        with self._connection() as conn:
            row = conn.execute(f"SELECT {_RECORD} FROM library WHERE id = ?1 AND type = ?2 "
                               "AND (?3 IS NULL OR project_id = ?3)", (record_id, cls.record_type, project_id)).fetchone()
        found = None if row is None else self._load(cls, record_id, row[0])
        if found is None:
            raise not_found(cls.record_type, record_id)
        return found

    def save_record(self, record: R) -> R:
        saved = record.model_copy(update={"version": record.version + 1})
        with self._write() as conn:
            changed = conn.execute("UPDATE library SET media_id = ?, version = ?, record = ? "
                                   "WHERE id = ? AND type = ? AND version = ?",
                                   (_columns(saved)[3], saved.version, _json(saved), record.id, record.record_type,
                                    record.version)).rowcount
            if not changed:
                if conn.execute("SELECT 1 FROM library WHERE id = ?", (record.id,)).fetchone() is None:
                    raise not_found(record.record_type, record.id)
                raise StaleWrite(f"{record.record_type} {record.id} changed since version {record.version} was read")
        return saved

    def delete_record(self, cls: type[LibraryRecord], record_id: str, project_id: str) -> None:
        with self._write() as conn:
            gone = conn.execute("DELETE FROM library WHERE id = ? AND type = ? AND project_id = ?",
                                (record_id, cls.record_type, project_id)).rowcount
        if not gone:
            raise not_found(cls.record_type, record_id)

    def list_records(self, cls: type[R], project_id: str, page: int, limit: int) -> list[R]:
        with self._connection() as conn:
            rows = conn.execute(f"SELECT id, {_RECORD} FROM library WHERE project_id = ? AND type = ? "
                                "ORDER BY id DESC LIMIT ? OFFSET ?",
                                (project_id, cls.record_type, limit, (page - 1) * limit)).fetchall()
        return list(_loaded(self, cls, rows))

    def media_files(self, project_id: str, media_id: str) -> list[LibraryFile]:
        with self._connection() as conn:
            rows = conn.execute(f"SELECT id, {_RECORD} FROM library WHERE media_id = ? AND project_id = ? "
                                "AND type = 'file' ORDER BY id", (media_id, project_id)).fetchall()
        return list(_loaded(self, LibraryFile, rows))


def _loaded(store: SqliteLibrary, cls: type[R], rows: list[tuple[str, bytes]]) -> Iterator[R]:
    return (record for record in (store._load(cls, *row) for row in rows) if record is not None)


def _columns(record: LibraryRecord) -> tuple[Any, ...]:
    return record.id, record.record_type, record.project_id, getattr(record, "media_id", None)


def _json(record: LibraryRecord) -> str:
    return json.dumps(record.model_dump(mode="json"), ensure_ascii=False)
