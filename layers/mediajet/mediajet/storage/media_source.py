"""A stored file as ffmpeg's input, read in place: only the bytes ffmpeg asks for move.

A local store hands ffmpeg the file itself. An S3 object is served to ffmpeg on the loopback
interface (storage/loopback.py), each of ffmpeg's ranged reads answered by a ranged GET: a chunk of a
long video reads only its own byte range (the MP4 index tells ffmpeg where), never the whole input.
"""

from __future__ import annotations

import io
import os
import posixpath
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

from mediajet.media.inputs import LOCAL, Access
from mediajet.storage.base import BlobStore

# Our own server on 127.0.0.1 and nothing else; ffmpeg asks for bounded ranges, so a seek wastes at
# most one request's bytes (an open-ended range would stream the rest of the file into the socket).
LOOPBACK = Access(protocols="http,tcp", options=("-multiple_requests", "1", "-request_size", str(8 * 1024 * 1024),
                                                 "-initial_request_size", str(512 * 1024)))
READ_BUFFER = 64 * 1024  # header checks and Pillow read a few KB at a time


@dataclass(frozen=True)
class MediaSource:
    """A stored file as media/inputs.Readable: what ffmpeg opens, and reads for header checks."""

    arg: str  # what ffmpeg opens (`-i`)
    access: Access  # the protocols and options ffmpeg opens it with
    size: int
    name: str
    read: Callable[[int, int], bytes]  # (offset, length) → bytes, for index readers

    def open(self) -> BinaryIO:
        return io.BufferedReader(_RangeFile(self.read, self.size), buffer_size=READ_BUFFER)  # type: ignore[return-value]


@contextmanager
def media_source(store: BlobStore, key: str, name: str | None = None) -> Iterator[MediaSource]:
    """`name`: the file name format checks go by (default: the key's last part)."""
    from mediajet.storage.local import LocalBlobStore

    name = name or posixpath.basename(key)
    if isinstance(store, LocalBlobStore):
        with store.local_path(key) as path, path.open("rb") as file:
            fd = file.fileno()
            yield MediaSource(str(path.absolute()), LOCAL, os.fstat(fd).st_size, name,
                              lambda offset, length: os.pread(fd, length, offset))
        return
    size = store.size(key)
    read_range = store.read_range  # type: ignore[attr-defined]
    from mediajet.storage.loopback import serve  # the HTTP server loads only where S3 media is read

    with serve(store, key, size) as url:
        yield MediaSource(url, LOOPBACK, size, name, lambda offset, length: read_range(key, offset, length))


class _RangeFile(io.RawIOBase):
    """A seekable, read-only file over ranged reads (Pillow and the container checks take files)."""

    def __init__(self, read: Callable[[int, int], bytes], size: int) -> None:
        self._read, self._size, self._pos = read, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        length = min(len(buffer), self._size - self._pos)
        if length <= 0:
            return 0
        data = self._read(self._pos, length)
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)
