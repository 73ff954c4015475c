"""What a pipeline step needs, passed in: stores, settings, cancellation, the time it has left."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediajet.errors import InvalidRequest
from mediajet.settings import Settings
from mediajet.storage.base import BlobStore
from mediajet.store.base import JobStore


@dataclass
class StepContext:
    jobs: JobStore
    work: BlobStore  # working storage: fetched inputs, encoder output
    outputs: BlobStore  # where results go when a job names no destination
    settings: Settings
    scratch: Path  # local temporary space (ephemeral storage on Lambda)
    cancel: threading.Event | None = None  # this job was cancelled: stop its step, the job ends cancelled
    stop: threading.Event | None = None  # this process is stopping: stop the step, the job resumes later
    deadline: float | None = None  # time.monotonic() by which the step must end (Lambda timeout)
    allow_local_files: bool = False  # the local CLI may read and write plain paths; the API may not
    s3_client: Any = None  # created lazily when an s3:// URL shows up
    resolve_own_url: Callable[[str], str | None] | None = None  # our own signed link → outputs key
    # The media library's automations start tasks and hand them signed links to stored files; where these
    # are None (the AWS steps, the CLI) results still become library files, but no automation runs.
    start_task: Callable[[Any], None] | None = None
    sign_url: Callable[[str], str] | None = None
    _s3: Any = field(default=None, init=False, repr=False)

    def remaining_s(self) -> float:
        limit = self.settings.step_timeout_s
        if self.deadline is not None:
            limit = min(limit, self.deadline - time.monotonic() - 5)  # keep time to record the outcome
        return max(1.0, limit)

    def s3(self) -> Any:
        if self._s3 is None:
            if self.s3_client is None:
                import boto3  # only when an s3:// URL is used

                self.s3_client = boto3.client("s3")
            self._s3 = self.s3_client
        return self._s3

    @contextmanager
    def tempdir(self, prefix: str) -> Iterator[Path]:
        self.scratch.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=self.scratch))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def destination(self, uri: str) -> tuple[BlobStore, str]:
        """The store and key an export destination names: s3://bucket/key, or (CLI only) a path."""
        if uri.startswith("s3://"):
            from mediajet.storage.s3 import S3BlobStore, parse_s3_uri

            bucket, key = parse_s3_uri(uri)
            return S3BlobStore(bucket, client=self.s3()), key
        if self.allow_local_files:
            from mediajet.storage.local import LocalBlobStore

            path = Path(uri.removeprefix("file://")).expanduser().resolve()
            return LocalBlobStore(path.parent), path.name
        raise InvalidRequest("output must be an s3:// URL", kind="invalid_output", field="output")
