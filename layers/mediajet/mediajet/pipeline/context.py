"""What a pipeline step needs, passed in: stores, settings, cancellation, the time it has left."""

from __future__ import annotations

import dataclasses
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediajet.errors import ConnectionNotFound, InvalidRequest, ProcessingError
from mediajet.settings import Settings
from mediajet.storage.base import BlobStore
from mediajet.storage.local import remove_tree
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
    # The server's own S3 client (AWS: the stack's role); None: made from boto3's default chain when
    # MEDIAJET_S3_SERVER_CREDENTIALS is on (or for the CLI's --local runs), else s3:// needs a connection.
    s3_client: Any = None
    cipher: Any = None  # decrypts connection secrets (connections/crypto.py)
    # The connection that serves this job's or task's s3:// URLs (`acting_for`); None: the server's own client.
    connection_id: str | None = None
    project_id: str | None = None
    resolve_own_url: Callable[[str], str | None] | None = None  # our own signed link → outputs key
    # The media library's automations start tasks and hand them signed links to stored files; where these
    # are None (the AWS steps, the CLI) results still become library files, but no automation runs.
    start_task: Callable[[Any], None] | None = None
    sign_url: Callable[[str], str] | None = None
    # Worker processes for CPU-bound Pillow work (media/pillow_pool.py: the server's); None: this thread.
    pillow: Any = None
    _s3: Any = field(default=None, init=False, repr=False)

    def remaining_s(self) -> float:
        limit = self.settings.step_timeout_s
        if self.deadline is not None:
            limit = min(limit, self.deadline - time.monotonic() - 5)  # keep time to record the outcome
        return max(1.0, limit)

    def acting_for(self, project_id: str, connection_id: str | None) -> StepContext:
        """This context for one job or task: its s3:// URLs go through its connection (the one the API checked
        and stored), one client per step."""
        return dataclasses.replace(self, project_id=project_id, connection_id=connection_id)

    def s3(self) -> Any:
        """The S3 client for this job's s3:// URLs: its connection's, or the server's own."""
        if self._s3 is None:
            if self.connection_id is not None:
                self._s3 = self._connection_client()
            elif self.s3_client is not None:
                self._s3 = self.s3_client
            elif self.settings.s3_server_credentials or self.allow_local_files:
                import boto3  # only when an s3:// URL is used

                self._s3 = self.s3_client = boto3.client("s3")
            else:
                raise ProcessingError("s3:// URLs need a connection here (POST /connections), or the operator's "
                                      "MEDIAJET_S3_SERVER_CREDENTIALS", kind="connection_required")
        return self._s3

    def _connection_client(self) -> Any:
        from mediajet.connections.access import s3_client
        from mediajet.connections.crypto import NoCipher
        from mediajet.models.connection import Connection

        try:
            connection = self.jobs.get_record(Connection, self.connection_id, self.project_id)
        except ConnectionNotFound:
            raise ProcessingError(f"the connection {self.connection_id} this uses was deleted",
                                  kind="connection_not_found") from None
        return s3_client(connection, self.cipher or NoCipher(), self.settings)

    def through_connection(self, store: BlobStore) -> bool:
        """`store` writes with this job's connection (a customer's service): nothing is copied into it from
        our own buckets inside S3."""
        return self.connection_id is not None and self._s3 is not None and getattr(store, "client", None) is self._s3

    @contextmanager
    def tempdir(self, prefix: str) -> Iterator[Path]:
        self.scratch.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=self.scratch))
        try:
            yield path
        finally:
            remove_tree(path)

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
