"""The sample tables of an MP4/MOV file, read from its `moov` box by ranged reads: no media bytes.

The keyframe scan of a long input (media/chunking.py) needs every video packet's time and keyframe
flag. ffprobe gets them by reading the whole file (3.7 GB for an hour of 1080p); an MP4 already lists
them in its index (stts: durations, ctts: composition offsets, stss: sync samples), a few MB that
sit at the start or the end of the file. This reads only the box headers on the way to `moov`, then
`moov` itself.

Anything this does not model exactly as ffmpeg does (fragmented files, several edits, a rate other
than 1, samples an edit list hides) returns None, and the caller falls back to ffprobe.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from mediajet.media.mp4_boxes import ReadRange, boxes, child, table, top_level

MAX_MOOV_BYTES = 256 * 1024 * 1024  # six hours of 60 fps video with audio is ~40 MB of index


@dataclass(frozen=True)
class TrackIndex:
    """One `trak`, in file order (ffmpeg makes one stream per trak, in this order)."""

    handler: str  # "vide", "soun", ...
    timescale: int
    pts: list[int]  # per sample, decode order, in `timescale` ticks, before any edit
    keys: list[bool]  # per sample: a sync sample
    edit_start: int | None  # media time the single edit starts at (None: no edit list)


def read_tracks(read: ReadRange, size: int) -> list[TrackIndex] | None:
    """Every track of the file's `moov`, or None when the file is no plain (unfragmented) MP4/MOV."""
    moov = _find_moov(read, size)
    if moov is None:
        return None
    children = dict(boxes(moov))
    mvhd = children.get(b"mvhd")
    if b"mvex" in children or mvhd is None or len(mvhd) < 24:  # fragmented: samples are in the moofs
        return None
    movie_timescale = struct.unpack_from(">I", mvhd, 20 if mvhd[0] == 1 else 12)[0]
    tracks = []
    for kind, body in boxes(moov):
        if kind == b"trak":
            track = _track(body, movie_timescale)
            if track is None:
                return None
            tracks.append(track)
    return tracks


def _find_moov(read: ReadRange, size: int) -> bytes | None:
    for found in top_level(read, size):
        if found.kind == b"moov":
            if found.length > MAX_MOOV_BYTES:
                return None
            body = read(found.body_offset, found.body_length)
            return body if len(body) == found.body_length else None
    return None


def _track(trak: bytes, movie_timescale: int) -> TrackIndex | None:
    mdia = child(trak, b"mdia")
    stbl = child(trak, b"mdia", b"minf", b"stbl")
    if mdia is None or stbl is None:
        return TrackIndex(handler="", timescale=1, pts=[], keys=[], edit_start=None)
    hdlr, mdhd = child(mdia, b"hdlr"), child(mdia, b"mdhd")
    if hdlr is None or mdhd is None or len(hdlr) < 12:
        return None
    handler = hdlr[8:12].decode("latin-1")
    timescale = struct.unpack_from(">I", mdhd, 20 if mdhd[0] == 1 else 12)[0]
    durations = _runs(child(stbl, b"stts"), signed=False)
    if durations is None or timescale == 0:
        return None
    count = len(durations)
    ctts = child(stbl, b"ctts")
    offsets = _runs(ctts, signed=True) if ctts is not None else [0] * count
    if offsets is None or len(offsets) != count:
        return None
    pts, dts = [], 0
    for duration, offset in zip(durations, offsets, strict=True):
        pts.append(dts + offset)
        dts += duration
    stss = child(stbl, b"stss")
    if stss is None:
        keys = [True] * count  # no sync sample table: every sample is one
    else:
        keys = [False] * count
        for number in table(stss, 1) or []:
            if 1 <= number <= count:
                keys[number - 1] = True
    edit = _edit(child(trak, b"edts", b"elst"))
    if edit is False:
        return None
    if isinstance(edit, tuple):
        start, length = edit
        end = start + length * timescale / max(1, movie_timescale)
        if count and end < max(pts) + durations[-1] / 2:  # the edit ends before the media: ffmpeg drops the rest
            return None
    return TrackIndex(handler=handler, timescale=timescale, pts=pts, keys=keys,
                      edit_start=edit[0] if isinstance(edit, tuple) else None)


def _runs(box: bytes | None, *, signed: bool) -> list[int] | None:
    """stts or ctts expanded to one value per sample (ffmpeg reads ctts offsets as signed in both versions)."""
    if box is None:
        return None
    found = table(box, 2)
    if found is None:
        return None
    expanded: list[int] = []
    for n in range(0, len(found), 2):
        value = found[n + 1]
        if signed and value >= 2**31:
            value -= 2**32
        expanded.extend([value] * found[n])
    return expanded


def _edit(elst: bytes | None) -> tuple[int, int] | bool | None:
    """(media time, duration in the movie's timescale) of the track's one edit; None without an edit
    list; False for edit lists this does not model (several edits, a rate other than 1)."""
    if elst is None or len(elst) < 8:
        return None
    version, entries = elst[0], struct.unpack_from(">I", elst, 4)[0]
    row = ">QqhH" if version == 1 else ">IihH"
    width = struct.calcsize(row)
    edits = []
    for n in range(entries):
        if 8 + (n + 1) * width > len(elst):
            return False
        duration, media_time, rate, _ = struct.unpack_from(row, elst, 8 + n * width)
        if media_time != -1:  # an empty edit (a delay) only moves the start, which ffprobe reports
            if rate != 1:
                return False
            edits.append((media_time, duration))
    if len(edits) > 1:
        return False
    return edits[0] if edits else None
