"""ISO BMFF (MP4/MOV) boxes: walking a file's top-level boxes by ranged reads, the boxes inside a
box, big-endian tables, and writing boxes back. Shared by the index reader (mp4_index.py) and the
chunk join (mp4_join.py)."""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass

ReadRange = Callable[[int, int], bytes]  # (offset, length) → at most `length` bytes from `offset`

MAX_TOP_LEVEL_BOXES = 1024  # free/skip/wide padding and friends; more means a malformed file
U32_MAX = 2**32 - 1


@dataclass(frozen=True)
class TopBox:
    kind: bytes
    offset: int  # where the box starts in the file
    header: int  # 8, or 16 with a 64-bit size
    length: int  # the whole box, header included

    @property
    def body_offset(self) -> int:
        return self.offset + self.header

    @property
    def body_length(self) -> int:
        return self.length - self.header


def read_ahead(read: ReadRange, block: int) -> ReadRange:
    """`read` fetching at least `block` bytes at a time and answering from the last fetch: walking a
    file's boxes costs one request per region, not one per box header (requests cost ~30 ms on S3)."""
    last: list = [0, b""]

    def cached(offset: int, length: int) -> bytes:
        start, data = last
        if not (start <= offset and offset + length <= start + len(data)):
            start, data = offset, read(offset, max(length, block))
            last[:] = [start, data]
        return data[offset - start:offset - start + length]

    return cached


def top_level(read: ReadRange, size: int) -> Iterator[TopBox]:
    """The file's top-level boxes, read one header at a time; stops at the first malformed one."""
    offset = 0
    for _ in range(MAX_TOP_LEVEL_BOXES):
        if offset + 8 > size:
            return
        head = read(offset, 16)
        if len(head) < 8:
            return
        length, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if length == 1:
            if len(head) < 16:
                return
            length, header = struct.unpack(">Q", head[8:16])[0], 16
        elif length == 0:
            length = size - offset
        if length < header or offset + length > size:
            return
        yield TopBox(kind, offset, header, length)
        offset += length


def boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, body) of each box in `data`; stops at the first malformed header."""
    offset = 0
    while offset + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if length == 1 and offset + 16 <= len(data):
            length, header = struct.unpack_from(">Q", data, offset + 8)[0], 16
        elif length == 0:
            length = len(data) - offset
        if length < header or offset + length > len(data):
            return
        yield kind, data[offset + header:offset + length]
        offset += length


def child(data: bytes, *path: bytes) -> bytes | None:
    """The body of the first box at `path` inside `data`."""
    for name in path:
        found = next((body for kind, body in boxes(data) if kind == name), None)
        if found is None:
            return None
        data = found
    return data


def box(kind: bytes, body: bytes) -> bytes:
    if len(body) + 8 > U32_MAX:
        return struct.pack(">I4sQ", 1, kind, len(body) + 16) + body
    return struct.pack(">I4s", len(body) + 8, kind) + body


def table(body: bytes, columns: int, *, at: int = 4, wide: bool = False) -> array | None:
    """The big-endian unsigned rows of a full box whose entry count sits at `at` (stts, ctts, stss,
    stsc, stco: 4), `columns` values per row, 32-bit (64 with `wide`), in native order."""
    if len(body) < at + 4:
        return None
    entries = struct.unpack_from(">I", body, at)[0]
    width = 8 if wide else 4
    raw = body[at + 4:at + 4 + entries * width * columns]
    if len(raw) != entries * width * columns:
        return None
    values = array("Q" if wide else "I", raw)
    if values.itemsize != width:
        return None
    if sys.byteorder == "little":
        values.byteswap()
    return values


def big_endian(values: array) -> bytes:
    """`values` (native order) as big-endian bytes."""
    out = array(values.typecode, values)
    if sys.byteorder == "little":
        out.byteswap()
    return out.tobytes()
