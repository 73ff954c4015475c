"""BlobStore on an S3 bucket: working and output storage on AWS, and customers' s3:// destinations.

Media moves between S3 and local disk only through boto3's managed transfers (multipart, parallel
parts), never through memory. Botocore errors are mapped once, here: a missing object is NotFound,
throttling, 5xx and network failures are TransientError (the pipeline retries those), anything else
(access denied, no such bucket) is a ProcessingError that names the bucket and key.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from mediajet.errors import InvalidRequest, MediaJetError, NotFound, ProcessingError, TransientError
from mediajet.storage.base import BlobStore, Span, tree_files

MB = 1024 * 1024
MULTIPART_THRESHOLD = 16 * MB  # also the part size: 10,000 parts (S3's limit) x 16 MB = 160 GB per object
MAX_PRESIGN_S = 7 * 24 * 3600  # SigV4 refuses presigned URLs valid for longer
DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
LIST_PAGE_SIZE = 1000  # ListObjectsV2 returns at most 1000 keys a call
MAX_KEY_BYTES = 1024
TREE_THREADS = 16  # files stored at once by put_tree (boto3 clients are thread-safe)

NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchBucket"})
TRANSIENT_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "RequestTimeout",
    "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable", "500", "502", "503", "504",
})


def parse_s3_uri(uri: str, kind: Literal["invalid_output", "invalid_input"] = "invalid_output") -> tuple[str, str]:
    """`s3://bucket/key` → (bucket, key). The key is taken literally ('?', '#' and '%' are part of it,
    as in the AWS CLI). Raises InvalidRequest with `kind` (and field input/output) when malformed."""
    field = "output" if kind == "invalid_output" else "input"
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise InvalidRequest(f"{field} must be an s3:// URL like s3://bucket/key", kind=kind, field=field)
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not _valid_bucket(bucket):
        raise InvalidRequest(f"'{bucket}' is not a valid S3 bucket name in {uri}", kind=kind, field=field)
    if not key or (key.endswith("/") and kind == "invalid_input"):  # an output may name a folder (HLS)
        raise InvalidRequest(f"{uri} names no object: add a key after the bucket", kind=kind, field=field)
    _check_key(key, kind=kind, field=field)
    return bucket, key


def _valid_bucket(name: str) -> bool:
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789.-")
    return (3 <= len(name) <= 63 and set(name) <= allowed and name[0].isalnum() and name[-1].isalnum()
            and ".." not in name)


def _check_key(key: str, *, kind: str = "invalid_key", field: str | None = None) -> str:
    if not isinstance(key, str) or not key or "\x00" in key or len(key.encode()) > MAX_KEY_BYTES:
        raise InvalidRequest(f"invalid S3 key {key!r}: 1-{MAX_KEY_BYTES} bytes, no NUL", kind=kind, field=field)
    return key


def storage_error(exc: BaseException, what: str) -> MediaJetError:
    """The MediaJet error for a botocore/boto3 failure while doing `what`."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, S3UploadFailedError) and isinstance(exc.__context__, ClientError):
        exc = exc.__context__  # boto3 wraps the ClientError of a failed upload and drops its code
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in NOT_FOUND_CODES or status == 404:
            return NotFound(f"{what}: not found ({code or status})")
        if code in TRANSIENT_CODES or status >= 500 or status == 429:
            return TransientError(f"{what}: S3 is busy or failing ({code or status}); worth a retry")
        return ProcessingError(f"{what}: S3 refused ({code or status})", kind="storage_failed")
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return TransientError(f"{what}: could not reach S3 ({type(exc).__name__})")
    if isinstance(exc, S3UploadFailedError):
        return ProcessingError(f"{what}: {exc}", kind="storage_failed")
    raise TypeError(f"not a storage error: {exc!r}")


def _storage_errors() -> tuple[type[BaseException], ...]:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    return ClientError, ConnectionError, HTTPClientError, S3UploadFailedError


class S3BlobStore:
    def __init__(self, bucket: str, client: Any, *, tmp_dir: Path | None = None,
                 multipart_threshold: int = MULTIPART_THRESHOLD) -> None:
        self.bucket = bucket
        self.client = client
        self.tmp_dir = tmp_dir  # where local_path downloads go (None: the system temp dir, /tmp on Lambda)
        self.multipart_threshold = self.multipart_chunk = multipart_threshold

    def transfer_config(self) -> Any:
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(multipart_threshold=self.multipart_threshold, multipart_chunksize=self.multipart_chunk)

    def _where(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    # --- writing ----------------------------------------------------------------------------------

    def put_file(self, key: str, path: Path, *, move: bool = False) -> None:
        _check_key(key)
        try:
            self.client.upload_file(str(path), self.bucket, key, Config=self.transfer_config())
        except _storage_errors() as exc:
            raise storage_error(exc, f"upload to {self._where(key)}") from exc
        if move:  # a move to S3 is an upload; the local copy goes once the object is stored
            Path(path).unlink(missing_ok=True)

    def copy_in(self, key: str, source: S3BlobStore, source_key: str) -> None:
        """Server-side copy from another S3 store (multipart above the threshold): no bytes pass through
        this process, so exporting a result costs requests, not a download and an upload."""
        _check_key(key)
        try:
            self.client.copy({"Bucket": source.bucket, "Key": source_key}, self.bucket, key,
                             Config=self.transfer_config())
        except _storage_errors() as exc:
            raise storage_error(exc, f"copy to {self._where(key)}") from exc

    def compose(self, key: str, head: bytes, spans: list[Span], source: BlobStore) -> None:
        from mediajet.storage.s3_compose import compose

        _check_key(key)
        if not isinstance(source, S3BlobStore):
            raise TypeError("an S3 object is composed only from S3 objects (copied inside S3)")
        try:
            compose(self, key, head, spans, source)
        except _storage_errors() as exc:
            raise storage_error(exc, f"upload to {self._where(key)}") from exc

    def put_tree(self, prefix: str, directory: Path, *, move: bool = False) -> list[str]:
        """Every file at once, TREE_THREADS at a time: an hour of HLS is ~3000 small files, and one
        request after another would spend minutes on round trips alone."""
        files = list(tree_files(prefix, directory))
        with ThreadPoolExecutor(max_workers=TREE_THREADS) as pool:
            list(pool.map(lambda item: self.put_file(item[0], item[1], move=move), files))
        return [key for key, _ in files]

    def delete_prefix(self, prefix: str) -> None:
        if not prefix:
            raise InvalidRequest("refusing to delete the whole bucket", kind="invalid_key")
        batch: list[str] = []
        for key in self.keys(prefix):
            batch.append(key)
            if len(batch) == DELETE_BATCH:
                self._delete(batch)
                batch = []
        if batch:
            self._delete(batch)

    def delete(self, key: str) -> None:
        """This one object (a missing one is no error)."""
        self._delete([_check_key(key)])

    def _delete(self, keys: list[str]) -> None:
        try:
            response = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})
        except _storage_errors() as exc:
            raise storage_error(exc, f"delete under s3://{self.bucket}/") from exc
        failed = response.get("Errors") or []
        if failed:
            first = failed[0]
            raise ProcessingError(f"could not delete {len(failed)} objects, e.g. {self._where(first.get('Key', ''))}: "
                                  f"{first.get('Code')}", kind="storage_failed")

    # --- reading ----------------------------------------------------------------------------------

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        _check_key(key)
        # Keep the key's extension: ffmpeg and ffprobe pick some formats (playlists, raw streams) by it.
        suffix = posixpath.splitext(key)[1]
        if self.tmp_dir is not None:
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="s3-", suffix=suffix, dir=self.tmp_dir)
        os.close(fd)
        path = Path(name)
        try:
            try:
                self.client.download_file(self.bucket, key, name, Config=self.transfer_config())
            except _storage_errors() as exc:
                raise storage_error(exc, f"download of {self._where(key)}") from exc
            yield path
        finally:
            path.unlink(missing_ok=True)

    def open_range(self, key: str, start: int, end: int | None = None) -> Any:
        """A stream of bytes `start`..`end` (inclusive; None: to the end) of the object: one ranged GET."""
        _check_key(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key,
                                          Range=f"bytes={start}-{'' if end is None else end}")["Body"]
        except _storage_errors() as exc:
            raise storage_error(exc, f"read of {self._where(key)}") from exc

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        body = self.open_range(key, start, start + length - 1)
        try:
            return body.read()
        finally:
            body.close()

    def _head(self, key: str) -> dict[str, Any] | None:
        _check_key(key)
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except _storage_errors() as exc:
            error = storage_error(exc, f"lookup of {self._where(key)}")
            if isinstance(error, NotFound):
                return None
            raise error from exc

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise NotFound(f"no stored file at {self._where(key)}")
        return int(head["ContentLength"])

    def keys(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix,
                                           PaginationConfig={"PageSize": LIST_PAGE_SIZE}):
                for item in page.get("Contents", []):
                    yield item["Key"]
        except _storage_errors() as exc:
            raise storage_error(exc, f"listing of s3://{self.bucket}/{prefix}") from exc

    # --- addresses --------------------------------------------------------------------------------

    def uri(self, key: str) -> str:
        return self._where(_check_key(key))

    def signed_url(self, key: str, expires_s: int) -> str:
        # Signed with the credentials of the Lambda role's session: the link also stops working when
        # that session expires (hours), whatever `expires_s` says.
        return sigv4_client(self.client).generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": _check_key(key)},
            ExpiresIn=max(1, min(int(expires_s), MAX_PRESIGN_S)))


def sigv4_client(client: Any) -> Any:
    """A client like `client` that presigns with SigV4. A boto3 S3 client without an explicit
    signature_version presigns with the legacy SigV2 on the global endpoint, which newer buckets and
    regions refuse, and from outside it cannot be told whether the option was set: so always this."""
    endpoint = client.meta.endpoint_url
    custom = endpoint if endpoint and not urlsplit(endpoint).netloc.endswith("amazonaws.com") else None
    return _sigv4_client(client.meta.region_name, custom)


@lru_cache(maxsize=4)
def _sigv4_client(region: str, endpoint_url: str | None) -> Any:
    # Cached: output links are signed on every job read, and a new client costs tens of milliseconds.
    import boto3
    from botocore.config import Config

    return boto3.client("s3", region_name=region, endpoint_url=endpoint_url,
                        config=Config(signature_version="s3v4"))
