"""One track's sample tables as the MP4 join needs them (media/mp4_join.py): per sample, its duration,
composition offset, size, sync flag, group and dependencies; per chunk, where its bytes sit."""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass

from mediajet.errors import ProcessingError
from mediajet.media.mp4_boxes import boxes, child, table

SAMPLE_TABLES = (b"stts", b"ctts", b"stss", b"stsz", b"stsc", b"stco", b"co64", b"sbgp", b"sdtp")
KEPT_TABLES = (b"stsd", b"sgpd")  # the first part's: the codec's setup and the sound's roll group


def refuse(message: str) -> ProcessingError:
    return ProcessingError(f"the chunks cannot be joined: {message}", kind="encode_failed")


@dataclass
class Samples:
    trak: bytes
    handler: bytes
    timescale: int
    deltas: array  # per sample, decode order
    offsets: list[int]  # composition offsets per sample (signed)
    sync: array | None  # 1-based sample numbers; None: every sample
    sizes: array
    chunk_rows: array  # stsc: first chunk, samples per chunk, description, ...
    chunk_offsets: array  # 64-bit
    groups: array | None  # sbgp: count, group, ...
    dependencies: bytes | None  # sdtp: one byte per sample (what a sample needs, what needs it)

    def first_shown(self) -> int:
        return min((d + o for d, o in zip(_dts(self.deltas), self.offsets, strict=True)), default=0)

    def shown_end(self) -> int:
        return max((d + o + n for d, o, n in zip(_dts(self.deltas), self.offsets, self.deltas, strict=True)), default=0)


def _dts(deltas: array) -> list[int]:
    out, at = [], 0
    for delta in deltas:
        out.append(at)
        at += delta
    return out


def _expand(runs: array, typecode: str = "I") -> array:
    out = array(typecode)
    for n in range(0, len(runs), 2):
        out.extend(array(typecode, [runs[n + 1]]) * runs[n])
    return out


def read_samples(trak: bytes) -> Samples:
    stbl = child(trak, b"mdia", b"minf", b"stbl")
    hdlr, mdhd = child(trak, b"mdia", b"hdlr"), child(trak, b"mdia", b"mdhd")
    if stbl is None or hdlr is None or mdhd is None or len(hdlr) < 12:
        raise refuse("a part's track has no sample tables")
    tables = dict(boxes(stbl))
    unknown = set(tables) - set(SAMPLE_TABLES) - set(KEPT_TABLES)
    if unknown:
        raise refuse(f"a part holds tables this join does not know ({b', '.join(sorted(unknown)).decode('latin-1')})")
    stts, stsz, stsc = table(tables.get(b"stts", b""), 2), tables.get(b"stsz", b""), table(tables.get(b"stsc", b""), 3)
    wide = b"co64" in tables
    chunk_offsets = table(tables.get(b"co64" if wide else b"stco", b""), 1, wide=wide)
    if stts is None or len(stsz) < 12 or stsc is None or chunk_offsets is None:
        raise refuse("a part's sample tables are incomplete")
    deltas = _expand(stts)
    sample_size, count = struct.unpack_from(">II", stsz, 4)
    sizes = array("I", [sample_size]) * count if sample_size else table(stsz, 1, at=8)
    ctts = table(tables[b"ctts"], 2) if b"ctts" in tables else None
    offsets = [o - 2**32 if o >= 2**31 else o for o in _expand(ctts)] if ctts is not None else [0] * len(deltas)
    sync = table(tables[b"stss"], 1) if b"stss" in tables else None
    groups = None
    if b"sbgp" in tables:
        sbgp = tables[b"sbgp"]
        groups = table(sbgp, 2, at=12 if sbgp[:1] == b"\x01" else 8)
    dependencies = tables[b"sdtp"][4:] if b"sdtp" in tables else None
    if (sizes is None or len(sizes) != len(deltas) or len(offsets) != len(deltas) or (b"sbgp" in tables and groups is None)
            or (dependencies is not None and len(dependencies) != len(deltas))):
        raise refuse("a part's sample tables disagree on its number of samples")
    timescale = struct.unpack_from(">I", mdhd, 20 if mdhd[0] == 1 else 12)[0]
    return Samples(trak, hdlr[8:12], timescale, deltas, offsets, sync, sizes, stsc, array("Q", chunk_offsets), groups,
                  dependencies)
