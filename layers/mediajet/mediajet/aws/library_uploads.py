"""The media library's uploads on AWS (spec §6.7): POST /signatures answers presigned S3 URLs.

- `put`: a presigned PUT of `library/<project>/<folder>/<filename>` in the inbox bucket. The bytes go
  straight to S3 (up to 5 GB, S3's limit for one PUT), never through the API. The inbox trigger
  (aws/handlers.on_upload) then files the object: a `processing` file in a new media item and the
  ingest task that probes it and fills it in, as POST /files does for a URL.
- `get`: a presigned GET of that object.

A presigned URL acts with the API function's role session, so it stops working when that session
expires (hours), whatever `expiry` says; `expiry` is capped at SigV4's 7 days.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from mediajet.storage.paths import split_upload_path, upload_path
from mediajet.storage.s3 import MAX_PRESIGN_S, sigv4_client

LIBRARY_PREFIX = "library/"


def upload_key(project: str, folder: str | None, filename: str) -> str:
    return LIBRARY_PREFIX + upload_path(project, folder, filename)


def parse_upload_key(key: str) -> tuple[str, str | None, str] | None:
    """(project, folder, filename) of an inbox key under `library/`, or None for any other key."""
    rest = key.removeprefix(LIBRARY_PREFIX)
    if rest == key or "" in rest.split("/"):  # not under library/, or an empty segment (a "folder/" key)
        return None
    return split_upload_path(rest)


class S3Uploads:
    def __init__(self, bucket: str, client: Any) -> None:
        """`client`: an S3 client, or a function that makes one on the first signature (the API's cold start
        makes no S3 client for requests that never sign: a botocore client costs ~0.1 s of CPU to make)."""
        self.bucket, self._client = bucket, client

    @property
    def client(self) -> Any:
        if callable(self._client):  # a factory (botocore clients are not callable)
            self._client = self._client()
        return self._client

    def signature(self, project: str, folder: str | None, filename: str, expiry: int, method: str) -> dict[str, Any]:
        operation = "put_object" if method == "put" else "get_object"
        lifetime = max(1, min(expiry - int(time.time()), MAX_PRESIGN_S))
        url = sigv4_client(self.client).generate_presigned_url(
            operation, Params={"Bucket": self.bucket, "Key": upload_key(project, folder, filename)},
            ExpiresIn=lifetime)
        parts = urlsplit(url)
        signature = parse_qs(parts.query).get("X-Amz-Signature", [""])[0]
        return {"domain": parts.netloc, "filename": filename, "folder": folder, "expiry": expiry, "method": method,
                "signature": signature, "url": url}


def file_for_upload(bucket: str, key: str, etag: str, deps: Any) -> str | None:
    """File an object uploaded under `library/`: the id of its (processing) file, or None for other keys.
    S3 may deliver the event twice; bucket, key and ETag make the idempotency key, so one upload is one file."""
    from mediajet.api.library import ingest

    found = parse_upload_key(key)
    if found is None:
        return None
    project, folder, filename = found
    labels = {"filename": unquote(filename), **({"folder": folder} if folder else {})}
    source = {"object": "external_file", "url": f"s3://{bucket}/{key}"}
    file, _ = ingest(deps, project, source, labels, {}, None, key=f"s3:{bucket}/{key}:{etag}"[:255], sent=source)
    return file.id
