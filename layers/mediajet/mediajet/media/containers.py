"""Cheap structural checks on container headers, read with a few seeks (never the whole file).

ffprobe describes a cut-off download happily when the index sits at the front (faststart MP4,
WebM, WAV, PNG): it reads the header and stops. The top-level layout of these containers says how
long the file should be, so a short file is caught here, before an encode fails halfway or, worse,
silently produces a shorter result.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

_MAX_BOXES = 1_000_000  # a bound on the walk for hostile files; real files have a few to ~100k
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_MATROSKA_SEGMENT = b"\x18\x53\x80\x67"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def truncation(path: Path, container: str) -> str | None:
    """Why the file looks cut short, or None. `container` is the normalised probe format."""
    with path.open("rb") as f:
        return truncation_of(f, path.stat().st_size, container)


def truncation_of(f: BinaryIO, size: int, container: str) -> str | None:
    """`truncation` of an open file of `size` bytes."""
    check = _CHECKS.get(container)
    return None if check is None else check(f, size)


def is_webm(path: Path) -> bool:
    with path.open("rb") as f:
        return is_webm_header(f.read(64))


def is_webm_header(header: bytes) -> bool:
    """Matroska and WebM share a demuxer; the EBML header's DocType says which one it is."""
    return header.startswith(_EBML_MAGIC) and b"webm" in header


def _iso_bmff(f: BinaryIO, size: int) -> str | None:
    offset = 0
    for _ in range(_MAX_BOXES):
        if offset + 8 > size:
            return None
        f.seek(offset)
        head = f.read(16)
        box_size, box_type = int.from_bytes(head[:4], "big"), head[4:8]
        if not all(0x20 <= byte <= 0x7E for byte in box_type):
            return None  # trailing bytes that are not boxes: not ours to judge
        if box_size == 1:
            if len(head) < 16:
                return f"the file ends inside its '{box_type.decode()}' box"
            box_size = int.from_bytes(head[8:16], "big")
        elif box_size == 0:
            return None  # the last box runs to the end of the file by definition
        if box_size < 8:
            return None
        if offset + box_size > size:
            missing = offset + box_size - size
            return f"the file is {missing} bytes shorter than its '{box_type.decode()}' box says"
        offset += box_size
    return None


def _vint(data: bytes, pos: int) -> tuple[int, int, bool] | None:
    """An EBML variable-length integer at `pos`: (value, length, all value bits set = unknown size)."""
    if pos >= len(data) or data[pos] == 0:
        return None
    first = data[pos]
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        return None
    value = first & ((1 << (8 - length)) - 1)
    for byte in data[pos + 1:pos + length]:
        value = (value << 8) | byte
    return value, length, value == (1 << (7 * length)) - 1


def _matroska(f: BinaryIO, size: int) -> str | None:
    data = f.read(4096)
    if not data.startswith(_EBML_MAGIC):
        return None
    header = _vint(data, 4)
    if header is None:
        return None
    segment_at = 4 + header[1] + header[0]
    if data[segment_at:segment_at + 4] != _MATROSKA_SEGMENT:
        return None
    segment = _vint(data, segment_at + 4)
    if segment is None or segment[2]:
        return None  # live-written files leave the segment size unknown
    expected = segment_at + 4 + segment[1] + segment[0]
    if expected > size:
        return f"the file is {expected - size} bytes shorter than its header says"
    return None


def _wav(f: BinaryIO, size: int) -> str | None:
    head = f.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    declared = int.from_bytes(head[4:8], "little")
    if declared in (0, 0xFFFFFFFF):
        return None  # written to a pipe: the size was never filled in
    if declared + 8 > size:
        return f"the file is {declared + 8 - size} bytes shorter than its header says"
    return None


def _png(f: BinaryIO, size: int) -> str | None:
    if f.read(8) != _PNG_MAGIC:
        return None
    offset = 8
    for _ in range(_MAX_BOXES):
        if offset + 12 > size:
            return "the file ends before the image data is complete (no IEND chunk)"
        f.seek(offset)
        head = f.read(8)
        length, chunk = int.from_bytes(head[:4], "big"), head[4:8]
        if chunk == b"IEND":
            return None
        offset += 12 + length
    return None


_CHECKS = {
    "mp4": _iso_bmff, "mov": _iso_bmff, "m4a": _iso_bmff, "3gp": _iso_bmff, "3g2": _iso_bmff,
    "avif": _iso_bmff, "heic": _iso_bmff,
    "webm": _matroska, "mkv": _matroska,
    "wav": _wav,
    "png": _png,
}
