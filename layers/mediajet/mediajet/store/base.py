"""The JobStore contract shared by the SQLite and DynamoDB implementations.

Writes are conditional: every record carries a `version`; `save_*` succeeds only when the stored
version equals the one read, and stores version + 1. `transition()` wraps read-modify-write in a
retry loop, which is how status changes and progress updates are made race-free.

Reads never fail because one record does: a record that no longer loads (written by a MediaJet that did
not bound request bodies yet, or damaged by hand) is quarantined: logged once per process with its id and
the fault, left out of lists and of `active_*` (so a restart resumes the rest), and read as not found.
It stays in the store, untouched, for an operator to repair or delete.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel, Field

from mediajet.errors import Conflict, JobNotFound, NotFound, StaleWrite, TaskNotFound
from mediajet.models.job import IdempotencyClaim, Job, Task

IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000
# What loading a record can raise: pydantic's ValidationError (bad JSON, too deep, wrong shape) is a
# ValueError, as are UnicodeDecodeError and the DynamoDB number context's errors.
LOAD_ERRORS = (ValueError, TypeError, KeyError, ArithmeticError, RecursionError)
_ERROR_CHARS = 500

log = logging.getLogger("mediajet.store")
R = TypeVar("R")


class JobUnreadable(JobNotFound):
    """404 rather than a 500 on every read: the job exists, but its record cannot be loaded."""

    def __init__(self, job_id: str) -> None:
        NotFound.__init__(self, f"Job '{job_id}' exists but its stored record cannot be read; it has been set "
                                "aside (the server log names the fault).")


KEY_HELD_ELSEWHERE = ("This Idempotency-Key was already used to create another kind of resource (a job or a task): "
                      "send a new key")


class IdempotencyKeyReused(Conflict):
    """409: an `Idempotency-Key` replayed with another body, or held by another kind of resource (a key
    used for a job is no key for a task)."""

    default_kind = "idempotency_key_reused"

    def __init__(self, message: str = "This Idempotency-Key was already used with a different request") -> None:
        super().__init__(message, field="Idempotency-Key")


class TaskUnreadable(TaskNotFound):
    def __init__(self, task_id: str) -> None:
        NotFound.__init__(self, f"Task '{task_id}' exists but its stored record cannot be read; it has been set "
                                "aside (the server log names the fault).")


class Quarantine:
    """The ids of records that failed to load, in this process. Thread-safe; each id is logged once."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def load(self, what: str, record_id: str, loader: Callable[[], R]) -> R | None:
        """`loader()`, or None (logged, remembered) when the record does not load."""
        try:
            return loader()
        except LOAD_ERRORS as exc:
            self.add(what, record_id, exc)
            return None

    def add(self, what: str, record_id: str, exc: BaseException) -> None:
        with self._lock:
            new = record_id not in self._ids
            self._ids.add(record_id)
        if new:
            detail = str(exc)[:_ERROR_CHARS]
            log.error("quarantined %s %s: its stored record cannot be loaded, so it is left out of lists and "
                      "resumes (%s: %s)", what, record_id, type(exc).__name__, detail)

    @property
    def ids(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._ids)


class JobQuery(BaseModel):
    kind: str | None = None
    status: str | None = None
    input: str | None = None
    limit: int = Field(default=20, ge=1, le=100)
    after: str | None = None  # job id cursor: items after it in the requested order
    before: str | None = None  # job id cursor: items before it in the requested order
    order: Literal["asc", "desc"] = "desc"


class JobPage(BaseModel):
    items: list[Job]
    has_more: bool


class PageWindow(BaseModel):
    """The id range a list query covers and the direction to read it in (ids sort in creation order).
    Both stores read `limit + 1` rows along it; the extra row only says whether there is more."""

    above: str | None = None  # exclusive lower bound on the job id
    below: str | None = None  # exclusive upper bound on the job id
    ascending: bool  # the read direction
    reverse: bool  # read against the requested order (a lone `before` cursor): flip the page back


def page_window(query: JobQuery) -> PageWindow:
    """`after`/`before` are positions in the requested order. A lone `before` reads towards the cursor
    so the page is the one right before it, and `has_more` then means "more further back"."""
    ascending = query.order == "asc"
    above, below = (query.after, query.before) if ascending else (query.before, query.after)
    backwards = query.before is not None and query.after is None
    return PageWindow(above=above, below=below, ascending=ascending != backwards, reverse=backwards)


def page_of(rows: list[Job], query: JobQuery, window: PageWindow) -> JobPage:
    """The page from up to `limit + 1` rows read along `window`."""
    items = rows[: query.limit]
    if window.reverse:
        items.reverse()
    return JobPage(items=items, has_more=len(rows) > query.limit)


class TaskQuery(BaseModel):
    """A page of a project's standalone tasks (a job's own tasks are listed with their job), for the
    dated API versions' page-based `GET /tasks`. `status` and `kind` are the engine's values: each wire
    format translates its own first."""

    page: int = Field(default=1, ge=1)
    limit: int = Field(default=20, ge=1, le=100)
    sort: Literal["created", "updated", "filesize"] = "created"
    order: Literal["asc", "desc"] = "desc"
    kind: str | None = None
    status: tuple[str, ...] | None = None  # any of these


class TaskPage(BaseModel):
    items: list[Task]
    total: int  # matching tasks on all pages


class JobStore(Protocol):
    # jobs
    def create_job(self, job: Job, claim: IdempotencyClaim | None = None) -> tuple[Job, bool]:
        """Insert `job` (version 1). With a claim, atomically record the Idempotency-Key too; when the
        key already exists (and is younger than 24 h) insert nothing and return (existing job, False).
        The caller compares body hashes via `get_claim` to tell replay (200) from reuse (409)."""
        ...

    def get_job(self, job_id: str, project_id: str | None = None) -> Job:
        """Raises JobNotFound; with project_id, a job of another project is also JobNotFound."""
        ...

    def save_job(self, job: Job) -> Job:
        """Conditional on the stored version == job.version; returns the job with version + 1.
        Raises StaleWrite when the record changed meanwhile."""
        ...

    def list_jobs(self, project_id: str, query: JobQuery) -> JobPage: ...

    def active_jobs(self) -> list[Job]:
        """Jobs `queued` or `processing` in every project, oldest first (resume after restart)."""
        ...

    # standalone tasks (POST /tasks)
    def create_task(self, task: Task, claim: IdempotencyClaim | None = None) -> tuple[Task, bool]:
        """Insert `task` (version 1); with a claim, atomically with the Idempotency-Key, as `create_job`:
        when a live claim holds the key, insert nothing and return (the task it names, False). A claim
        that names a job (or a task no longer there) raises IdempotencyKeyReused."""
        ...

    def get_task(self, task_id: str, project_id: str | None = None) -> Task:
        """Raises TaskNotFound. Finds standalone tasks and tasks embedded in jobs."""
        ...

    def save_task(self, task: Task) -> Task:
        """Standalone tasks only; same conditional-write rule as save_job."""
        ...

    def active_tasks(self) -> list[Task]: ...

    def list_tasks(self, project_id: str, query: TaskQuery) -> TaskPage: ...

    # idempotency
    def get_claim(self, project_id: str, key: str) -> IdempotencyClaim | None:
        """Claims older than 24 h are treated as absent."""
        ...

    # API keys (stored as sha256 hex digests, never in clear)
    def add_api_key(self, key_hash: str, project_id: str) -> None: ...

    def project_for_key(self, key_hash: str) -> str | None: ...


def transition(store: JobStore, job_id: str, change: Callable[[Job], Job | None], attempts: int = 20) -> Job:
    """Read-modify-write with optimistic concurrency. `change` mutates and returns the job, or
    returns None, having changed nothing, to leave it as stored (for example when a transition no longer
    applies): that job is then returned. Each read is a fresh object, so nothing is copied (a deep copy of
    a job cost 6× its parse, ~2 ms of a short job's ~13 transitions)."""
    for _ in range(attempts):
        job = store.get_job(job_id)
        changed = change(job)
        if changed is None:
            return job
        try:
            return store.save_job(changed)
        except StaleWrite:
            continue
    raise StaleWrite(f"job {job_id} kept changing; gave up after {attempts} attempts")
