"""What the API handler needs, passed in (never created at import time)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mediajet.pipeline.orchestrator import Orchestrator
from mediajet.settings import Settings
from mediajet.store.base import JobStore


@dataclass
class ApiDeps:
    jobs: JobStore
    orchestrator: Orchestrator
    settings: Settings
    # Stored outputs are BlobStore URIs (file://…, s3://…); this turns one into a URL a client can
    # download (signed, expiring). URIs the service does not own (a customer's s3:// destination)
    # come back unchanged.
    sign_url: Callable[[str], str]
    # Deletes the stored bytes at a BlobStore URI (DELETE /files, /media); None: this runtime keeps them.
    delete_uri: Callable[[str], None] | None = None
    # Signs upload and download URLs for POST /signatures (local/uploads.py); None: no uploads here.
    uploads: Any = None
    # Encrypts connection secrets (connections/crypto.py: a key in the data dir, or KMS); None: this runtime
    # keeps no connections (POST /connections answers 501).
    cipher: Any = None
