"""Downloading an s3://bucket/key input with the credentials MediaJet runs under.

The object's size is read before any byte is. On a versioned bucket the download is pinned to the
version that was sized; elsewhere an object swapped for a larger one in between is caught by the
size check after the download (download_file does not take IfMatch).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mediajet.errors import InvalidRequest, ProcessingError, TransientError
from mediajet.settings import Settings
from mediajet.storage.fetch_result import FetchResult, remove_partial, too_large
from mediajet.storage.s3 import S3BlobStore, parse_s3_uri

NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket", "NoSuchVersion"})
FORBIDDEN_CODES = frozenset({"403", "AccessDenied", "Forbidden", "AllAccessDisabled", "AccountProblem",
                             "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"})
RETRYABLE_CODES = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
                             "RequestTimeout", "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable",
                             "503", "500"})


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, key) of an s3:// input, by the rules S3 destinations follow too. A malformed URL fails
    the job (ProcessingError), as any other input that cannot be fetched does."""
    try:
        return parse_s3_uri(url.strip(), kind="invalid_input")
    except InvalidRequest as exc:
        raise ProcessingError(exc.message, kind=exc.kind) from None


def _sized(client: Any, url: str, settings: Settings) -> tuple[str, str, dict[str, Any], dict[str, str] | None]:
    """(bucket, key, head, version pin) of an input within the size limit."""
    bucket, key = parse_s3_url(url)
    where = f"s3://{bucket}/{key}"
    with _s3_errors(where):
        head = client.head_object(Bucket=bucket, Key=key)
    size = int(head.get("ContentLength", 0))
    if size > settings.max_input_bytes:
        raise too_large(size, settings.max_input_bytes, where=where)
    return bucket, key, head, ({"VersionId": head["VersionId"]} if head.get("VersionId") else None)


def copy_s3(url: str, dest: S3BlobStore, dest_key: str, *, settings: Settings) -> None:
    """Copy an s3:// input into `dest` inside S3 (multipart above the store's threshold, parts in
    parallel), pinned to the version that was sized: no byte passes through this process."""
    bucket, key, _, pin = _sized(dest.client, url, settings)
    where = f"s3://{bucket}/{key}"
    with _s3_errors(where, action="s3:GetObjectVersion" if pin else "s3:GetObject"):
        dest.client.copy({"Bucket": bucket, "Key": key, **(pin or {})}, dest.bucket, dest_key,
                         Config=dest.transfer_config())
    if pin is None:  # unversioned: the object may have been replaced by a larger one after the size check
        copied = dest.size(dest_key)
        if copied > settings.max_input_bytes:
            dest.delete(dest_key)
            raise too_large(copied, settings.max_input_bytes, where=where)


def fetch_s3(url: str, dest: Path, *, settings: Settings, s3_client: Any = None) -> FetchResult:
    client = s3_client if s3_client is not None else _default_client()
    bucket, key, head, extra = _sized(client, url, settings)
    where = f"s3://{bucket}/{key}"
    try:
        with _s3_errors(where, action="s3:GetObjectVersion" if extra else "s3:GetObject"):
            client.download_file(bucket, key, str(dest), ExtraArgs=extra)
        written = dest.stat().st_size
        if written > settings.max_input_bytes:  # the object changed after head_object
            raise too_large(written, settings.max_input_bytes, where=where)
    except BaseException:
        remove_partial(dest)
        raise
    return FetchResult(path=dest, size=written, content_type=head.get("ContentType"), final_url=where)


def _default_client() -> Any:
    import boto3  # only when an s3:// input shows up and the caller has no client

    return boto3.client("s3")


@contextmanager
def _s3_errors(where: str, action: str = "s3:GetObject") -> Iterator[None]:
    """Map botocore failures to job errors; botocore is imported only when one happens."""
    try:
        yield
    except ProcessingError:
        raise
    except Exception as exc:
        translated = _translate(exc, where, action)
        if translated is None:
            raise
        raise translated from exc


def _translate(exc: Exception, where: str, action: str = "s3:GetObject") -> ProcessingError | None:
    from boto3.exceptions import RetriesExceededError
    from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, NoCredentialsError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in NOT_FOUND_CODES or status == 404:
            return ProcessingError(f"the input {where} does not exist (S3 {code or status})",
                                   kind="input_unreachable")
        if code in FORBIDDEN_CODES or status == 403:
            return ProcessingError(f"MediaJet may not read the input {where} (S3 {code or status}); "
                                   f"grant its role {action} on the object", kind="input_forbidden")
        if code in RETRYABLE_CODES or status >= 500 or status == 429:
            return TransientError(f"S3 could not serve the input {where} right now ({code or status})",
                                  kind="input_unreachable")
        return ProcessingError(f"S3 refused to serve the input {where}: {code or status} "
                               f"{error.get('Message', '')}".rstrip(), kind="input_unreachable")
    if isinstance(exc, NoCredentialsError):
        return ProcessingError(f"no AWS credentials are configured to read the input {where}",
                               kind="input_forbidden")
    if isinstance(exc, BotoConnectionError | HTTPClientError | RetriesExceededError):
        return TransientError(f"could not reach S3 for the input {where}: {exc}", kind="input_unreachable")
    if isinstance(exc, BotoCoreError):
        return ProcessingError(f"could not read the input {where}: {exc}", kind="input_unreachable")
    return None
