"""Which job an object dropped in the inbox bucket creates.

- The first folder of the key names the kind: `video/…`, `audio/…`, `image/…`, `animation/…`,
  `adaptive_video/…` (or `hls/…`). Objects elsewhere are ignored, unless a sidecar names the kind.
- A JSON sidecar `<key>.json` uploaded *before* the media sets `options`, `output`, `metadata` and
  `webhook_url` (and may set `kind`). Sidecars themselves never create jobs. An unreadable sidecar or
  invalid options mean no job (logged), never a job with options other than the ones asked for.
- S3 can deliver an event twice: bucket, key and ETag make the idempotency key, so one upload is one job.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from mediajet.api import records
from mediajet.errors import InvalidRequest, MediaJetError
from mediajet.models.job import IdempotencyClaim, Job
from mediajet.models.requests import build_job, parse_job_create

log = logging.getLogger("mediajet")
PREFIX_KINDS = {"video": "video", "audio": "audio", "image": "image", "animation": "animation",
                "adaptive_video": "adaptive_video", "hls": "adaptive_video"}
SIDECAR_SUFFIX = ".json"
SIDECAR_FIELDS = ("options", "output", "metadata", "webhook_url")
MAX_SIDECAR_BYTES = 64 * 1024


def read_sidecar(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    """The sidecar of `key` ({} when there is none). Raises InvalidRequest when it is not a JSON object."""
    from botocore.exceptions import ClientError

    try:
        obj = s3.get_object(Bucket=bucket, Key=key + SIDECAR_SUFFIX)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return {}
        raise
    raw = obj["Body"].read(MAX_SIDECAR_BYTES + 1)
    if len(raw) > MAX_SIDECAR_BYTES:
        raise InvalidRequest(f"the sidecar is larger than {MAX_SIDECAR_BYTES} bytes")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InvalidRequest(f"the sidecar is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("the sidecar must be a JSON object")
    return data


def is_candidate(key: str) -> bool:
    return not key.endswith(SIDECAR_SUFFIX) and not key.endswith("/")


def request_for_upload(bucket: str, key: str, sidecar: dict[str, Any]) -> dict[str, Any] | None:
    """The POST /jobs body an upload stands for, or None when it makes no job."""
    if not is_candidate(key):
        return None
    kind = sidecar.get("kind") or PREFIX_KINDS.get(key.split("/", 1)[0])
    if kind is None:
        return None
    body: dict[str, Any] = {"input": f"s3://{bucket}/{key}", "kind": kind}
    body.update({name: sidecar[name] for name in SIDECAR_FIELDS if name in sidecar})
    return body


def job_for_upload(bucket: str, key: str, s3: Any, project_id: str,
                   etag: str = "") -> tuple[Job, IdempotencyClaim] | None:
    if not is_candidate(key):
        return None
    try:
        body = request_for_upload(bucket, key, read_sidecar(s3, bucket, key))
        if body is None:
            return None
        job = build_job(parse_job_create(body), project_id)
        records.check_job(job)
    except MediaJetError as exc:
        log.error("upload s3://%s/%s ignored: %s", bucket, key, exc.message)
        return None
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    claim = IdempotencyClaim(project_id=project_id, key=f"s3:{bucket}/{key}:{etag}"[:255], body_hash=digest,
                             resource_id=job.id)
    return job, claim
