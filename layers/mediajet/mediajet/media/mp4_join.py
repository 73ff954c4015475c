"""The join of a chunked MP4/MOV encode that moves no media: pure functions.

Every part is an MP4 (or MOV) of its chunk's picture and slice of the sound, muxed by ffmpeg with
the single pass's settings. The joined file is the first part's `ftyp`, one `moov` whose sample
tables are the parts' tables one after the other, and one `mdat` holding every part's media bytes
unchanged, in order. So the join reads only the parts' indexes (a few KB each) and writes only the
header: storage places the media bytes (on S3 by server-side part copies), where a remux would
download, rewrite and upload the whole output.

Times: each part's picture starts at its chunk's zero (the last sample of the part before it is
lengthened or shortened to end there, as the concat demuxer's `duration` does), and the first
part's edit list (the encoder's B-frame delay; for the sound, its priming) applies to the whole.
The sound's slices follow each other sample for sample (media/sound_slices.py).
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass

from mediajet.media.mp4_boxes import U32_MAX, ReadRange, big_endian, box, boxes, child, top_level
from mediajet.media.mp4_samples import KEPT_TABLES, Samples, read_samples, refuse


@dataclass(frozen=True)
class Part:
    """A part's file: its header boxes and where its media bytes sit."""

    ftyp: bytes
    moov: bytes
    media_offset: int
    media_length: int


@dataclass(frozen=True)
class Joined:
    head: bytes  # ftyp, moov, the mdat's header
    spans: list[tuple[int, int, int]]  # (part, offset, length): the media bytes that follow, in order


def read_part(read: ReadRange, size: int) -> Part:
    listed = list(top_level(read, size))
    found, kinds = {b.kind: b for b in listed}, [b.kind for b in listed]
    if kinds.count(b"mdat") != 1 or b"moov" not in found or b"ftyp" not in found or b"moof" in found:
        raise refuse(f"a part is not a plain MP4 (boxes {b' '.join(kinds).decode('latin-1')})")
    ftyp, moov, mdat = found[b"ftyp"], found[b"moov"], found[b"mdat"]
    return Part(read(ftyp.offset, ftyp.length), read(moov.body_offset, moov.body_length), mdat.body_offset,
                mdat.body_length)


def _tracks(moov: bytes) -> list[Samples]:
    return [read_samples(body) for kind, body in boxes(moov) if kind == b"trak"]


def _movie_timescale(moov: bytes) -> int:
    mvhd = child(moov, b"mvhd")
    if mvhd is None or len(mvhd) < 24:
        raise refuse("a part has no movie header")
    return struct.unpack_from(">I", mvhd, 20 if mvhd[0] == 1 else 12)[0]


def join(parts: list[Part], zeros: list[float], *, video_offset: float = 0.0, sound_skip: int = 0) -> Joined:
    """`zeros`: each part's start (seconds, any origin); `video_offset`: where the picture starts in the
    output; `sound_skip`: samples of the joined sound an edit hides (the encoder's priming)."""
    if not parts or len(zeros) != len(parts):
        raise refuse("no parts, or not one start per part")
    per_part = [_tracks(p.moov) for p in parts]
    first = per_part[0]
    for tracks in per_part[1:]:
        if [t.handler for t in tracks] != [t.handler for t in first][:len(tracks)]:
            raise refuse("the parts do not hold the same streams")
    movie_scale = _movie_timescale(parts[0].moov)
    timings = [_timing(n, [tracks[n] for tracks in per_part if n < len(tracks)], zeros, movie_scale,
                       video_offset, sound_skip) for n in range(len(first))]

    def layout(head_length: int, wide: bool) -> bytes:
        bases, at = [], head_length
        for part in parts:
            bases.append(at - part.media_offset)
            at += part.media_length
        traks = [_joined_trak([tracks[n] for tracks in per_part if n < len(tracks)], bases, timings[n], wide)
                 for n in range(len(first))]
        return _moov(parts[0].moov, traks, max(t.edit_total for t in timings))

    media = sum(p.media_length for p in parts)
    mdat_header = struct.pack(">I4s", media + 8, b"mdat") if media + 8 <= U32_MAX else \
        struct.pack(">I4sQ", 1, b"mdat", media + 16)
    # The moov's length depends only on whether its chunk offsets need 64 bits (co64), not on their values.
    wide = media > U32_MAX
    head_length = len(parts[0].ftyp) + len(box(b"moov", layout(0, wide))) + len(mdat_header)
    if not wide and head_length + media > U32_MAX:
        wide = True
        head_length = len(parts[0].ftyp) + len(box(b"moov", layout(0, wide))) + len(mdat_header)
    head = parts[0].ftyp + box(b"moov", layout(head_length, wide)) + mdat_header
    return Joined(head, [(n, p.media_offset, p.media_length) for n, p in enumerate(parts)])


@dataclass(frozen=True)
class _Timing:
    """One joined track's clock: each part's decode start, and its edit list (movie timescale)."""

    starts: list[int]  # decode time of each part's first sample, in the track's timescale
    edits: list[tuple[int, int]]  # (duration, media time; -1: empty)

    @property
    def edit_total(self) -> int:
        return sum(duration for duration, _ in self.edits)


def _timing(n: int, tracks: list[Samples], zeros: list[float], movie_scale: int, video_offset: float,
            sound_skip: int) -> _Timing:
    scale = tracks[0].timescale
    if any(t.timescale != scale for t in tracks):
        raise refuse("the parts' clocks differ")
    if tracks[0].handler == b"vide":
        # each part's first picture at its chunk's zero, whatever its own B-frame delay
        shown = [t.first_shown() for t in tracks]
        starts = [round((zero - zeros[0]) * scale) + shown[0] - s for zero, s in zip(zeros, shown, strict=False)]
        media_time, empty = shown[0], round(video_offset * movie_scale)
    else:
        starts, at = [], 0
        for track in tracks:
            starts.append(at)
            at += sum(track.deltas)
        media_time, empty = sound_skip, 0
    for a, b, track in zip(starts, starts[1:], tracks, strict=False):
        if b - a - sum(track.deltas[:-1]) <= 0:
            raise refuse("a chunk's pictures run past the next chunk's start")
    end = starts[-1] + tracks[-1].shown_end()
    span = -(-(end - media_time) * movie_scale // scale)  # rounded up, as ffmpeg does
    return _Timing(starts, [(empty, -1)] * (empty > 0) + [(span, media_time)])


def _joined_trak(tracks: list[Samples], bases: list[int], timing: _Timing, wide: bool) -> bytes:
    deltas, sizes, offsets_out, chunk_offsets = array("I"), array("I"), [], array("Q")
    sync, rows, groups, dependencies = array("I"), array("I"), array("I"), b""
    all_sync = all(t.sync is None for t in tracks)
    for n, track in enumerate(tracks):
        part_deltas = array("I", track.deltas)
        if n + 1 < len(tracks):  # lasts up to the next part's start
            part_deltas[-1] = timing.starts[n + 1] - timing.starts[n] - sum(track.deltas[:-1])
        samples, chunks = len(deltas), len(chunk_offsets)
        deltas.extend(part_deltas)
        sizes.extend(track.sizes)
        offsets_out.extend(track.offsets)
        part_sync = track.sync if track.sync is not None else array("I", range(1, len(track.deltas) + 1))
        sync.extend(array("I", (s + samples for s in part_sync)))
        for r in range(0, len(track.chunk_rows), 3):
            rows.extend(array("I", [track.chunk_rows[r] + chunks, track.chunk_rows[r + 1], track.chunk_rows[r + 2]]))
        chunk_offsets.extend(array("Q", (o + bases[n] for o in track.chunk_offsets)))
        groups.extend(track.groups if track.groups is not None else array("I", [len(track.deltas), 0]))
        dependencies += track.dependencies if track.dependencies is not None else bytes(len(track.deltas))  # 0: not known
    tables = {
        b"stts": _full(*_runs(list(deltas))),
        b"ctts": _ctts(offsets_out),
        b"stss": None if all_sync else _full(big_endian(sync), len(sync)),
        b"stsz": struct.pack(">III", 0, 0, len(sizes)) + big_endian(sizes) if sizes else None,
        b"stsc": _full(big_endian(rows), len(rows) // 3),
        b"sdtp": bytes(4) + dependencies if any(t.dependencies is not None for t in tracks) else None,
        (b"co64" if wide else b"stco"): _full(big_endian(chunk_offsets if wide else array("I", chunk_offsets)),
                                              len(chunk_offsets)),
    }
    if tracks[0].groups is not None:
        sbgp = child(tracks[0].trak, b"mdia", b"minf", b"stbl", b"sbgp") or b""
        header = sbgp[:12 if sbgp[:1] == b"\x01" else 8]
        merged = _merge_runs(list(groups))
        tables[b"sbgp"] = header + struct.pack(">I", len(merged) // 2) + big_endian(array("I", merged))
    return _rebuild_trak(tracks[0].trak, tables, timing, sum(deltas))


def _full(rows: bytes, count: int) -> bytes:
    """A version-0 full box body: the entry count, then the rows."""
    return struct.pack(">II", 0, count) + rows


def _runs(values: list[int]) -> tuple[bytes, int]:
    out: list[int] = []
    for value in values:
        if out and out[-1] == value:
            out[-2] += 1
        else:
            out += [1, value]
    return big_endian(array("I", out)), len(out) // 2


def _merge_runs(pairs: list[int]) -> list[int]:
    out: list[int] = []
    for n in range(0, len(pairs), 2):
        if out and out[-1] == pairs[n + 1]:
            out[-2] += pairs[n]
        elif pairs[n]:
            out += [pairs[n], pairs[n + 1]]
    return out


def _ctts(offsets: list[int]) -> bytes | None:
    if not any(offsets):
        return None
    negative = any(o < 0 for o in offsets)
    rows, count = _runs([o & U32_MAX for o in offsets])
    return struct.pack(">II", (1 << 24) if negative else 0, count) + rows


def _with(body: bytes, v0_at: int, v1_at: int, value: int) -> bytes:
    """A full box with the field at `v0_at` (version 0, 32-bit) or `v1_at` (version 1, 64-bit) set."""
    if body[0] == 1:
        return body[:v1_at] + struct.pack(">Q", value) + body[v1_at + 8:]
    if value > U32_MAX:
        raise refuse("the joined file is too long for its headers")
    return body[:v0_at] + struct.pack(">I", value) + body[v0_at + 4:]


def _edts(edits: list[tuple[int, int]]) -> bytes:
    wide = any(d > U32_MAX or m >= 2**31 for d, m in edits)
    rows = b"".join(struct.pack(">QqhH" if wide else ">IihH", d, m, 1, 0) for d, m in edits)
    return box(b"edts", box(b"elst", struct.pack(">II", (1 << 24) if wide else 0, len(edits)) + rows))


def _rebuild_trak(trak: bytes, tables: dict[bytes, bytes | None], timing: _Timing, media_duration: int) -> bytes:
    out = []
    for kind, body in boxes(trak):
        if kind == b"tkhd":
            out.append(box(kind, _with(body, 20, 28, timing.edit_total)) + _edts(timing.edits))
        elif kind == b"mdia":
            out.append(box(kind, _rebuild_mdia(body, tables, media_duration)))
        elif kind != b"edts":
            out.append(box(kind, body))
    return box(b"trak", b"".join(out))


def _rebuild_mdia(mdia: bytes, tables: dict[bytes, bytes | None], media_duration: int) -> bytes:
    out = []
    for kind, body in boxes(mdia):
        if kind == b"mdhd":
            body = _with(body, 16, 24, media_duration)
        elif kind == b"minf":
            body = b"".join(box(k, _rebuild_stbl(b, tables) if k == b"stbl" else b) for k, b in boxes(body))
        out.append(box(kind, body))
    return b"".join(out)


def _rebuild_stbl(stbl: bytes, tables: dict[bytes, bytes | None]) -> bytes:
    out = []
    for kind, body in boxes(stbl):
        if kind in KEPT_TABLES:
            out.append(box(kind, body))
        elif kind in (b"stco", b"co64"):  # the offsets' width is the joined file's
            out.extend(box(k, tables[k]) for k in (b"stco", b"co64") if tables.get(k) is not None)  # type: ignore[arg-type]
        elif tables.get(kind) is not None:
            out.append(box(kind, tables[kind]))  # type: ignore[arg-type]
    present = {k for k, _ in boxes(stbl)}
    for kind in (b"ctts", b"stss"):  # a table the first part did not need (every sample a key, no reordering)
        if kind not in present and tables.get(kind) is not None:
            out.append(box(kind, tables[kind]))  # type: ignore[arg-type]
    return b"".join(out)


def _moov(moov: bytes, traks: list[bytes], duration: int) -> bytes:
    out, placed = [], False
    for kind, body in boxes(moov):
        if kind == b"mvhd":
            out.append(box(kind, _with(body, 16, 24, duration)))
        elif kind == b"trak":
            if not placed:
                out.extend(traks)
                placed = True
        else:
            out.append(box(kind, body))
    return b"".join(out)
