"""The BlobStore contract: working storage and output storage, local directory or S3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Span:
    """`length` bytes of the stored object `key` from `start`."""

    key: str
    start: int
    length: int


def tree_files(prefix: str, directory: Path) -> Iterator[tuple[str, Path]]:
    """(key, file) for every file under `directory`, keyed `prefix/<relative path>`, in sorted order:
    what `put_tree` stores, whatever the store."""
    base = prefix.rstrip("/")
    for file in sorted(p for p in Path(directory).rglob("*") if p.is_file()):
        rel = file.relative_to(directory).as_posix()
        yield (f"{base}/{rel}" if base else rel), file


class BlobStore(Protocol):
    def put_file(self, key: str, path: Path, *, move: bool = False) -> None:
        """Store `path` under `key`. `move=True` lets a local store rename instead of copy."""
        ...

    def put_tree(self, prefix: str, directory: Path, *, move: bool = False) -> list[str]:
        """Store every file under `directory` at `prefix/<relative path>`; returns the keys."""
        ...

    def compose(self, key: str, head: bytes, spans: list[Span], source: BlobStore) -> None:
        """Store under `key` the bytes `head`, then each span's bytes (objects of `source`), in order. An
        S3 store composes only from S3 objects its own client may read (it copies them inside S3)."""
        ...

    def local_path(self, key: str) -> AbstractContextManager[Path]:
        """A readable local path for `key`: the file itself for a local store, a temporary download
        (removed on exit) for S3. Raises NotFound."""
        ...

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """At most `length` bytes of `key` from `start`."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def keys(self, prefix: str) -> Iterator[str]: ...

    def uri(self, key: str) -> str:
        """A stable address: `file:///abs/path` or `s3://bucket/key`."""
        ...

    def signed_url(self, key: str, expires_s: int) -> str:
        """A URL that downloads the object without an API key until it expires."""
        ...

    def delete_prefix(self, prefix: str) -> None: ...

    def delete(self, key: str) -> None:
        """This one object (a missing one is no error)."""
        ...
