"""`Idempotency-Key` on POST /jobs: a retry with the same key and body gets the original job (200) and
creates nothing; the same key with another body is a client bug (409). The store's conditional
insert of job + claim decides races, so two concurrent retries still create one job."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from mediajet.errors import Conflict, InvalidRequest
from mediajet.models.job import IdempotencyClaim, Job
from mediajet.store.base import JobStore

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


def create_job(store: JobStore, job: Job, key: str | None, body: Any) -> tuple[Job, bool]:
    """Store `job` unless `key` was used before; returns (job, created). Raises 409 on key reuse."""
    if key is None:
        return store.create_job(job)
    digest = body_hash(body)
    claim = IdempotencyClaim(project_id=job.project_id, key=key, body_hash=digest, resource_id=job.id)
    stored, created = store.create_job(job, claim)
    if created:
        return stored, True
    original = store.get_claim(job.project_id, key)
    if original is not None and original.body_hash != digest:
        raise Conflict("This Idempotency-Key was already used with a different request body",
                       kind="idempotency_key_reused", field="Idempotency-Key")
    return stored, False
