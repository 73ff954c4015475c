"""The SQLite file under the store: a small connection pool, serialized writes and a background WAL checkpoint.

Concurrency: WAL mode lets readers run while one writer writes, across threads and processes (the
server and `mediajet keys create` share the file). Connections come from a small pool, one thread
at a time each. Every write is a transaction that takes SQLite's write lock up front (`BEGIN
IMMEDIATE`), after an in-process mutex: threads queue on the mutex and wake at once, where SQLite's
busy handler would sleep in steps of up to 100 ms; other processes still meet the busy timeout.

Latency: a WAL checkpoint copies pages back into the database and fsyncs it (milliseconds). Left to
SQLite it runs inside whichever commit crosses the threshold, a spike on one request in a hundred;
here a background thread does it once a second, and the threshold only remains as a backstop.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mediajet.store.sqlite_migrations import migrate

BUSY_TIMEOUT_S = 30.0
MAX_IDLE_CONNECTIONS = 8
CHECKPOINT_INTERVAL_S = 1.0
CHECKPOINT_IDLE_ROUNDS = 5
BACKSTOP_CHECKPOINT_PAGES = 10_000  # ~40 MB of WAL: only reached when the checkpoint thread can't keep up


def open_connection(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; the store says BEGIN where it means it.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    # NORMAL in WAL mode: a crashed process loses nothing; only a power cut can drop the last commits.
    # FULL would fsync on every commit, which the 25 ms budget for POST /jobs cannot afford on slow disks.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_CHECKPOINT_PAGES:d}")
    return conn


class SqliteDatabase:
    """One database file: pooled connections (one thread at a time each), writes in `BEGIN IMMEDIATE`
    transactions after an in-process mutex, and the checkpoint thread. Opening it migrates the schema."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()  # guards the pool and the checkpoint state
        self._write_lock = threading.Lock()
        self._wrote = False  # since the last checkpoint
        self._closed = threading.Event()
        self._checkpointer: threading.Thread | None = None
        # Set after every committed write in this process: a watcher in the same process (the CLI's
        # progress) waits on it instead of polling the file.
        self.written = threading.Event()
        self._wake: set[threading.Event] = set()  # for the write in progress, under _write_lock
        with self.connection() as conn:
            conn.execute("PRAGMA journal_mode = WAL")  # persistent: recorded in the file
            migrate(conn)

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = open_connection(self.path)
        try:
            yield conn
        finally:
            if conn.in_transaction:  # an error escaped mid-transaction: never pool a half-done write
                conn.execute("ROLLBACK")
            with self._lock:
                if len(self._idle) < MAX_IDLE_CONNECTIONS:
                    self._idle.append(conn)
                    conn = None
            if conn is not None:
                conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock, self.connection() as conn:
            self._wake = set()
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
            wake = self._wake
        self._note_write()
        for event in wake:
            event.set()

    def wake_after_commit(self, event: threading.Event) -> None:
        """Set `event` once the write in progress (inside `write()`) has committed, not if it fails."""
        self._wake.add(event)

    def _note_write(self) -> None:
        self.written.set()
        # The checkpoint thread runs while there are writes and ends after a few idle rounds, so a
        # store nobody writes to (or forgot to close) holds no thread.
        with self._lock:
            self._wrote = True
            if self._checkpointer is None and not self._closed.is_set():
                self._checkpointer = threading.Thread(target=self._checkpoint_loop, daemon=True,
                                                      name="mediajet-sqlite-checkpoint")
                self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        idle_rounds = 0
        while not self._closed.wait(CHECKPOINT_INTERVAL_S):
            with self._lock:
                wrote, self._wrote = self._wrote, False
                if not wrote and idle_rounds >= CHECKPOINT_IDLE_ROUNDS:
                    self._checkpointer = None
                    return
            if not wrote:
                idle_rounds += 1
                continue
            idle_rounds = 0
            try:
                with self.connection() as conn:
                    # PASSIVE: copies what it can without waiting for readers or blocking writers.
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                with self._lock:
                    self._wrote = True  # busy: the next round (or the backstop) catches up

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            checkpointer = self._checkpointer
        if checkpointer is not None:
            checkpointer.join()
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

