"""The webhook outbox on SQLite: events are `library` rows (type `event`), and `outbox` holds the ones with a
delivery still pending, by when they are due (index outbox_due).

`_emit` runs inside the transaction that writes a job's or task's change (sqlite.py), so the change and the
events it makes commit together or not at all: a crash can lose neither. The senders (local/webhook_sender.py)
read `due_events` and record each attempt with `save_event`, conditional on the event's version like every
record.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from mediajet.errors import StaleWrite
from mediajet.models.job import Job, Task
from mediajet.models.webhooks import Event, WebhookEndpoint
from mediajet.store.base import Quarantine
from mediajet.store.library import not_found
from mediajet.store.sqlite_db import SqliteDatabase
from mediajet.webhooks.events import events_for

_RECORD = "CAST(record AS BLOB)"


class SqliteOutbox:
    _connection: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _write: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _quarantine: Quarantine
    _db: SqliteDatabase
    outbox_ready: threading.Event  # set when a commit has put a delivery in the outbox (the sender waits on it)

    def _emit(self, conn: sqlite3.Connection, before: str | None, record: Job | Task, now: int) -> None:
        """Write the events of `record`'s change from status `before` (None: created), in `conn`'s transaction."""
        if before == record.status:
            return
        rows = conn.execute(f"SELECT id, {_RECORD} FROM library WHERE project_id = ? AND type = ?",
                            (record.project_id, WebhookEndpoint.record_type)).fetchall()
        endpoints = [e for e in (self._quarantine.load("webhook_endpoint", i, lambda r=r: WebhookEndpoint
                                                       .model_validate_json(r)) for i, r in rows) if e is not None]
        for event in events_for(before, record, endpoints, now):
            stored = event.model_copy(update={"version": 1})
            conn.execute("INSERT INTO library (id, type, project_id, media_id, version, record) VALUES (?, ?, ?, NULL, ?, ?)",
                         (stored.id, stored.record_type, stored.project_id, stored.version, _json(stored)))
            self._schedule(conn, stored)

    def due_events(self, now: int, limit: int = 100) -> list[Event]:
        """Events with a delivery due at `now` or earlier, the longest waiting first."""
        with self._connection() as conn:
            rows = conn.execute("SELECT library.id, CAST(library.record AS BLOB) FROM outbox JOIN library ON "
                                "library.id = outbox.event_id WHERE outbox.due_at <= ? ORDER BY outbox.due_at LIMIT ?",
                                (now, limit)).fetchall()
        loaded = [(i, self._quarantine.load("event", i, lambda r=r: Event.model_validate_json(r))) for i, r in rows]
        for event_id, event in loaded:
            if event is None:  # unreadable: take it out of the outbox, or it would be due forever
                with self._write() as conn:
                    conn.execute("DELETE FROM outbox WHERE event_id = ?", (event_id,))
        return [event for _, event in loaded if event is not None]

    def prune_events(self, before: int) -> int:
        """Delete the events created before `before` (Unix ms) that have no delivery pending; returns how many."""
        with self._write() as conn:
            return conn.execute("DELETE FROM library WHERE type = 'event' AND json_extract(record, '$.created_at') < ? "
                                "AND id NOT IN (SELECT event_id FROM outbox)", (before,)).rowcount

    def next_event_due(self) -> int | None:
        with self._connection() as conn:
            row = conn.execute("SELECT MIN(due_at) FROM outbox").fetchone()
        return row[0]

    def save_event(self, event: Event) -> Event:
        """The event with its deliveries' new state (conditional on its version); its outbox entry follows."""
        saved = event.model_copy(update={"version": event.version + 1})
        with self._write() as conn:
            changed = conn.execute("UPDATE library SET version = ?, record = ? WHERE id = ? AND type = ? AND version = ?",
                                   (saved.version, _json(saved), event.id, event.record_type, event.version)).rowcount
            if not changed:
                if conn.execute("SELECT 1 FROM library WHERE id = ?", (event.id,)).fetchone() is None:
                    raise not_found(event.record_type, event.id)
                raise StaleWrite(f"event {event.id} changed since version {event.version} was read")
            self._schedule(conn, saved)
        return saved

    def _schedule(self, conn: sqlite3.Connection, event: Event) -> None:
        due = event.due_at
        if due is None:
            conn.execute("DELETE FROM outbox WHERE event_id = ?", (event.id,))
            return
        conn.execute("INSERT INTO outbox (event_id, due_at) VALUES (?, ?) ON CONFLICT (event_id) DO UPDATE "
                     "SET due_at = excluded.due_at", (event.id, due))
        self._db.wake_after_commit(self.outbox_ready)


def _json(event: Event) -> str:
    return json.dumps(event.model_dump(mode="json"), ensure_ascii=False)
