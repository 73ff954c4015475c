"""BlobStore on a local directory: the embedded default's working and output storage.

Keys are relative POSIX paths under `root`. Writes land in a temporary file in the target folder and
are renamed into place, so a reader (the file server, a resumed job) never sees half a file, and a
`move` within one filesystem is a rename: no media byte is copied.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from mediajet.errors import InvalidRequest, NotFound, ProcessingError
from mediajet.storage.base import BlobStore, Span, tree_files
from mediajet.storage.links import DOWNLOADS_ROUTE, check_key, sign, url_path

COPY_BLOCK = 8 * 1024 * 1024  # a composed file's ranges are read this much at a time


def remove_tree(path: Path) -> None:
    """Delete a folder and what it holds, if it exists. An empty folder (a step's scratch once its results
    moved out) goes in one rmdir; shutil.rmtree's descriptor-safe walk costs about ten system calls more,
    ~1 ms of a short job on this machine."""
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return
    except OSError:
        shutil.rmtree(path, ignore_errors=True)


class LocalBlobStore:
    def __init__(self, root: Path, *, base_url: str | None = None, secret: bytes | None = None) -> None:
        self.root = Path(root).expanduser().resolve()
        self.base_url = base_url.rstrip("/") if base_url else None
        self.secret = secret

    def path(self, key: str) -> Path:
        """The file that holds `key` (which need not exist yet)."""
        return self.root.joinpath(*check_key(key).split("/"))

    # --- writing ------------------------------------------------------------------------------

    def put_file(self, key: str, path: Path, *, move: bool = False) -> None:
        target = self.path(key)
        source = Path(path)
        if source.resolve() == target:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        if move:
            try:
                os.replace(source, target)
                return
            except OSError:
                pass  # another filesystem (EXDEV): copy, then drop the source as a move would
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                shutil.copyfileobj(src, out, 1024 * 1024)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if move:
            source.unlink(missing_ok=True)

    def compose(self, key: str, head: bytes, spans: list[Span], source: BlobStore) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(head)
                for span in spans:
                    _copy_range(source, span, out)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_tree(self, prefix: str, directory: Path, *, move: bool = False) -> list[str]:
        keys: list[str] = []
        for key, file in tree_files(check_key(prefix, prefix=True), directory):
            self.put_file(key, file, move=move)
            keys.append(key)
        return keys

    def delete_prefix(self, prefix: str) -> None:
        check_key(prefix, prefix=True)
        if not prefix:
            raise InvalidRequest("refusing to delete the whole store", kind="invalid_key")
        if prefix.endswith("/"):
            remove_tree(self.root.joinpath(*prefix.rstrip("/").split("/")))
            return
        for key in list(self.keys(prefix)):
            self.delete(key)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    # --- reading ------------------------------------------------------------------------------

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        target = self.path(key)
        if not target.is_file():
            raise NotFound(f"no stored file at {key}")
        yield target

    def read_range(self, key: str, start: int, length: int) -> bytes:
        try:
            with self.path(key).open("rb") as file:
                return os.pread(file.fileno(), max(0, length), start)
        except FileNotFoundError:
            raise NotFound(f"no stored file at {key}") from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"no stored file at {key}") from None

    def keys(self, prefix: str) -> Iterator[str]:
        check_key(prefix, prefix=True)
        # Walk only the deepest folder the prefix names, then match the rest as a string (S3 semantics).
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root.joinpath(*folder.split("/")) if folder else self.root
        if not start.is_dir():
            return
        found = (p.relative_to(self.root).as_posix() for p in start.rglob("*") if p.is_file())
        yield from sorted(k for k in found if k.startswith(prefix) and not _is_partial(k))

    # --- addresses ----------------------------------------------------------------------------

    def uri(self, key: str) -> str:
        return self.path(key).as_uri()

    def key_for_uri(self, uri: str) -> str | None:
        """The key a `file://` URI under this root names, or None (another scheme, outside the root)."""
        parts = urlsplit(uri)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        path = Path(unquote(parts.path))  # decodes %xx (POSIX paths; urllib.request would pull in http and ssl)
        try:
            key = path.relative_to(self.root).as_posix()
            return check_key(key)
        except (ValueError, InvalidRequest):
            return None

    def signed_url(self, key: str, expires_s: int) -> str:
        if not self.base_url or not self.secret:
            raise ValueError("this store has no base_url and secret, so it cannot sign download links")
        check_key(key)
        expires = int(time.time()) + int(expires_s)
        signature = sign(self.secret, key, expires)
        return f"{self.base_url}{DOWNLOADS_ROUTE}{url_path(key)}?expires={expires}&signature={signature}"

    def verify_signature(self, key: str, expires: int, signature: str, now: float | None = None,
                         route: str = DOWNLOADS_ROUTE) -> bool:
        """Whether `signature` is ours for `key` (decoded, as stored) under `route` and the link has not expired."""
        from mediajet.storage.links import verify

        return verify(self.secret, key, expires, signature, now=now, route=route)


def _copy_range(source: BlobStore, span: Span, out: BinaryIO) -> None:
    for at in range(span.start, span.start + span.length, COPY_BLOCK):
        length = min(COPY_BLOCK, span.start + span.length - at)
        block = source.read_range(span.key, at, length)
        if len(block) != length:
            raise ProcessingError(f"{span.key} ends before byte {span.start + span.length}", kind="storage_failed")
        out.write(block)


def _is_partial(key: str) -> bool:
    # A put_file in progress in another thread: not an object yet.
    name = key.rsplit("/", 1)[-1]
    return name.startswith(".") and name.endswith(".part")
