"""`Idempotency-Key` on every create (POST /jobs, POST /tasks in each version, POST /steps, and the media
library's POST /files, /media, /automations): a retry with the
same key and body gets the original job or task (200) and creates nothing; the same key with another body
is a client bug (409), and so is a key first used for the other kind of resource. The store's conditional
insert of record + claim decides races, so two concurrent retries still create one."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from mediajet.errors import InvalidRequest
from mediajet.models.job import IdempotencyClaim, Job, Task
from mediajet.store.base import IdempotencyKeyReused, JobStore

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255


def key_from(headers: Mapping[str, str]) -> str | None:
    key = headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters",
                             kind="request_invalid", field="Idempotency-Key")
    return key


def body_hash(body: Any) -> str:
    """Canonical JSON, so key order and whitespace do not make a retry look like a different body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


R = TypeVar("R", Job, Task)


def create_job(store: JobStore, job: Job, key: str | None, body: Any) -> tuple[Job, bool]:
    """Store `job` unless `key` was used before; returns (job, created). Raises 409 on key reuse."""
    return _create(store, store.create_job, job, key, body)


def create_task(store: JobStore, task: Task, key: str | None, body: Any) -> tuple[Task, bool]:
    """Store standalone `task` unless `key` was used before; returns (task, created). 409 on key reuse."""
    return _create(store, store.create_task, task, key, body)


def create_record(store: Any, record: Any, key: str | None, body: Any) -> tuple[Any, bool]:
    """A media library record (media, automation: store/library.py), once per key; 409 on key reuse."""
    if key is None:
        return store.create_record(record), True
    return _create(store, store.create_record_once, record, key, body)


def _create(store: JobStore, insert: Callable[[R, IdempotencyClaim | None], tuple[R, bool]], record: R,
            key: str | None, body: Any) -> tuple[R, bool]:
    """`insert` is the store's create_job, create_task or create_record_once; `body` is what the client sent
    (hashed)."""
    if key is None:
        return insert(record, None)
    digest = body_hash(body)
    project_id = record.project_id
    claim = IdempotencyClaim(project_id=project_id, key=key, body_hash=digest, resource_id=record.id)
    stored, created = insert(record, claim)
    if created:
        return stored, True
    original = store.get_claim(project_id, key)
    if original is not None and original.body_hash != digest:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request body")
    return stored, False
