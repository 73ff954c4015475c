"""Wires the embedded default: SQLite records, local-directory files, the in-process worker.

`mediajet serve` and `mediajet … --local` both build on `LocalRuntime`.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from mediajet.connections.crypto import KEY_FILE, LocalCipher
from mediajet.local.worker import LocalWorker
from mediajet.pipeline.context import StepContext
from mediajet.settings import Settings
from mediajet.storage.links import DOWNLOADS_ROUTE, LEGACY_DOWNLOADS_ROUTE
from mediajet.storage.local import LocalBlobStore
from mediajet.storage.paths import owned_folder
from mediajet.store.sqlite import SqliteJobStore

if TYPE_CHECKING:
    from mediajet.media.pillow_pool import PillowPool

log = logging.getLogger("mediajet")


@dataclass
class LocalRuntime:
    settings: Settings
    data_dir: Path
    base_url: str = "http://127.0.0.1:8080"
    allow_local_files: bool = False
    # the server's worker processes for Pillow work (media/pillow_pool.py), made by `worker()`; the CLI has none
    pillow: PillowPool | None = field(default=None, init=False)
    _secret: bytes | None = field(default=None, init=False)

    @classmethod
    def open(cls, settings: Settings, data_dir: Path | None = None, **kwargs) -> LocalRuntime:
        root = Path(data_dir or settings.data_dir).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        return cls(settings=settings, data_dir=root, **kwargs)

    @cached_property
    def jobs(self) -> SqliteJobStore:
        return SqliteJobStore(self.data_dir / "mediajet.db")

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            if self.settings.signing_secret:
                self._secret = self.settings.signing_secret.encode()
            else:
                path = self.data_dir / "signing.key"
                if not path.exists():
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "w") as fh:
                        fh.write(secrets.token_urlsafe(32))
                self._secret = path.read_text().strip().encode()
        return self._secret

    @cached_property
    def cipher(self) -> LocalCipher:
        """Encrypts connection secrets with the key in the data dir (connections.key, made 0600 on first use)."""
        return LocalCipher(self.data_dir / KEY_FILE)

    @cached_property
    def outputs(self) -> LocalBlobStore:
        return LocalBlobStore(self.data_dir / "files", base_url=self.base_url, secret=self.secret)

    @cached_property
    def work(self) -> LocalBlobStore:
        return LocalBlobStore(self.data_dir / "work")

    @property
    def scratch(self) -> Path:
        return self.data_dir / "tmp"

    def sign_url(self, uri: str) -> str:
        key = self.outputs.key_for_uri(uri)
        return uri if key is None else self.outputs.signed_url(key, self.settings.link_ttl_s)

    def delete_uri(self, uri: str) -> None:
        """Delete a stored output (a media library file's bytes, with the folder it owns: storage/paths.py);
        URIs outside output storage are left alone."""
        key = self.outputs.key_for_uri(uri)
        if key is None:
            return
        folder = owned_folder(key)
        if folder is not None:
            self.outputs.delete_prefix(folder)
        else:
            self.outputs.path(key).unlink(missing_ok=True)

    def own_key(self, url: str) -> str | None:
        """A signed link this server issued → the output key it names (so chained tasks don't fetch
        their own server over the network, which the SSRF guard would rightly refuse)."""
        base = self.base_url.rstrip("/")
        route = next((r for r in (DOWNLOADS_ROUTE, LEGACY_DOWNLOADS_ROUTE) if url.startswith(base + r)), None)
        if route is None:
            return None
        parts = urlsplit(url)
        key = unquote(parts.path.removeprefix(route))
        query = parse_qs(parts.query)
        expires, signature = query.get("expires", [""])[0], query.get("signature", [""])[0]
        ok = expires.isdigit() and self.outputs.verify_signature(key, int(expires), signature, route=route)
        return key if ok else None

    def context(self, cancel: threading.Event | None = None, stop: threading.Event | None = None) -> StepContext:
        """`cancel` ends the job as cancelled; `stop` (shutdown) ends its step and leaves it to resume."""
        return StepContext(
            jobs=self.jobs, work=self.work, outputs=self.outputs, settings=self.settings, scratch=self.scratch,
            cancel=cancel, stop=stop, allow_local_files=self.allow_local_files, resolve_own_url=self.own_key,
            sign_url=self.sign_url, cipher=self.cipher, pillow=self.pillow,
        )

    def worker(self, concurrency: int | None = None) -> LocalWorker:
        # Leftovers of a process that died mid-encode: the steps start over from their inputs.
        shutil.rmtree(self.scratch, ignore_errors=True)
        from mediajet.media.pillow_pool import PillowPool

        concurrency = concurrency or self.settings.workers
        self.pillow = PillowPool(concurrency or os.cpu_count() or 1, self.settings)
        return LocalWorker(self.jobs, self.context, concurrency, on_stop=self.pillow.close)
