"""Which job an object dropped in the inbox bucket creates.

- The first folder of the key names the kind: `video/…`, `audio/…`, `image/…`, `animation/…`,
  `adaptive_video/…` (or `hls/…`). Objects elsewhere are ignored.
- A JSON sidecar `<key>.json` uploaded *before* the media sets `options`, `output` and `metadata`
  (and may override `kind`). Sidecars themselves never create jobs.
- S3 can deliver an event twice: the object's ETag makes an idempotency key, so one upload is one job.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from mediajet.errors import MediaJetError
from mediajet.models.job import IdempotencyClaim, Job
from mediajet.models.requests import build_job, parse_job_create

log = logging.getLogger("mediajet")
PREFIX_KINDS = {"video": "video", "audio": "audio", "image": "image", "animation": "animation",
                "adaptive_video": "adaptive_video", "hls": "adaptive_video"}
SIDECAR_SUFFIX = ".json"
MAX_SIDECAR_BYTES = 64 * 1024


def read_sidecar(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    try:
        obj = s3.get_object(Bucket=bucket, Key=key + SIDECAR_SUFFIX)
    except s3.exceptions.NoSuchKey:
        return {}
    except Exception as exc:  # noqa: BLE001 - a missing/forbidden sidecar means "no sidecar"
        if "NoSuchKey" in str(exc) or "404" in str(exc):
            return {}
        raise
    raw = obj["Body"].read(MAX_SIDECAR_BYTES + 1)
    data = json.loads(raw) if len(raw) <= MAX_SIDECAR_BYTES else {}
    return data if isinstance(data, dict) else {}


def request_for_upload(bucket: str, key: str, sidecar: dict[str, Any]) -> dict[str, Any] | None:
    if key.endswith(SIDECAR_SUFFIX) or key.endswith("/"):
        return None
    kind = sidecar.get("kind") or PREFIX_KINDS.get(key.split("/", 1)[0])
    if kind is None:
        return None
    body: dict[str, Any] = {"input": f"s3://{bucket}/{key}", "kind": kind}
    for field in ("options", "output", "metadata", "webhook_url"):
        if field in sidecar:
            body[field] = sidecar[field]
    return body


def job_for_upload(bucket: str, key: str, s3: Any, project_id: str, etag: str = "") -> tuple[Job, IdempotencyClaim] | None:
    body = request_for_upload(bucket, key, read_sidecar(s3, bucket, key) if not key.endswith(SIDECAR_SUFFIX) else {})
    if body is None:
        return None
    try:
        request = parse_job_create(body)
    except MediaJetError as exc:
        log.error("upload s3://%s/%s ignored: %s", bucket, key, exc.message)
        return None
    job = build_job(request, project_id)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    claim = IdempotencyClaim(project_id=project_id, key=f"s3:{bucket}/{key}:{etag}"[:255], body_hash=digest,
                             resource_id=job.id)
    return job, claim
