"""Where a long video is cut for parallel encoding: a keyframe scan (ffprobe) and a pure planner.

A chunk is a time range of the output, encoded on its own (closed GOP, identical settings) and
joined to the others by stream copy. Its source is a *piece*: the input's packets copied from a clean
keyframe at or before the chunk's start to one at or after its end, so a chunk's encoder downloads
and decodes only its part of the input. A keyframe is *clean* when no packet on either side of it in
decode order crosses it in presentation order (a closed GOP starts there): every frame before it is
decodable without it and every frame after it without what came before.

- `video`: chunks start exactly at clean keyframes about `target` seconds apart, so pieces do not
  overlap and no frame is decoded twice.
- `adaptive_video`: chunks start on the HLS segment grid (`grid`, a multiple of the segment length),
  so every rendition's segments line up across chunks; a piece then starts at the clean keyframe
  before the chunk and the chunk's encoder seeks to the exact frame.

A chunk boundary lies halfway between two frames, so rounding never moves a frame across it; each
chunk's output starts at its `zero` and lasts `duration`, so the join places every frame at the same
time a single pass would. All times are seconds from the input's start (ffprobe's start_time).
"""

from __future__ import annotations

import bisect
import csv
import itertools
import json
import statistics
import threading
from pathlib import Path

from pydantic import BaseModel

from mediajet.media import mp4_index, runner
from mediajet.media.inputs import LOCAL, Access, input_args
from mediajet.media.mp4_boxes import ReadRange

# Containers with a seek index: a stream-copy seek lands exactly on the keyframe asked for.
SEEKABLE_FORMATS = ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm")
REORDER_WINDOW = 32  # packets on each side of a keyframe checked for crossings (B-pyramids reach ~16)


class Packet(BaseModel):
    pts: float
    key: bool


class Scan(BaseModel):
    """The video stream's packets in decode order, and what the planner needs to know around them."""

    stream: int  # the stream's index in the input
    format_name: str
    packets: list[Packet]
    sample_rate: int | None = None  # the sound's, when every audio stream has the same one
    sound_start: float | None = None  # where the earliest audio stream starts (None: no sound, or not known)


class Chunk(BaseModel):
    index: int
    piece_start: float  # the clean keyframe the piece starts at
    piece_packets: int | None  # packets in the piece (None: to the end of the input)
    seek: float  # seconds into the piece where the chunk starts
    zero: float  # the chunk's start in input time
    duration: float | None  # None: to the end of the input (or of the requested range)


class ChunkPlan(BaseModel):
    chunks: list[Chunk]
    video_offset: float  # where the first frame sits in the output (the single pass's offset)
    frame_duration: float


def scan_argv(path: Path | str, access: Access = LOCAL) -> list[str]:
    return ["ffprobe", "-hide_banner", "-loglevel", "error", "-of", "csv=p=1",
            "-show_entries", ("format=start_time,format_name:stream=index,codec_type,width,height,sample_rate,start_time:"
            "stream_disposition=attached_pic:packet=stream_index,pts_time,flags"),
            *input_args(path, access=access)]


def header_argv(path: Path | str, access: Access = LOCAL) -> list[str]:
    """What the index-based scan needs besides the index: the streams and where ffmpeg starts them."""
    return ["ffprobe", "-hide_banner", "-loglevel", "error", "-of", "json",
            "-show_entries", ("format=start_time,format_name:stream=index,codec_type,width,height,start_time,"
                              "sample_rate:stream_disposition=attached_pic"), *input_args(path, access=access)]


def scan(path: Path | str, *, timeout: float, stop: threading.Event | None = None, access: Access = LOCAL,
         read: ReadRange | None = None, size: int = 0) -> Scan | None:
    """The largest picture stream's packets, or None when the input has none or no usable timestamps.

    With `read` (ranged reads of the same file) an MP4/MOV is scanned from its index without reading
    its media; anything else, or an index this cannot read as ffmpeg does, is scanned by ffprobe."""
    if read is not None:
        header = runner.run(header_argv(path, access), timeout=timeout, capture_stdout=True, stop=stop,
                            error_kind="unsupported_media", what="ffprobe")
        found = scan_index(header.stdout.decode("utf-8", "replace"), read, size)
        if found is not None:
            return found
    result = runner.run(scan_argv(path, access), timeout=timeout, capture_stdout=True, stop=stop,
                        error_kind="unsupported_media", what="ffprobe")
    return parse_scan(result.stdout.decode("utf-8", "replace"))


def scan_index(header_json: str, read: ReadRange, size: int) -> Scan | None:
    """The scan ffprobe would give, from an MP4's sample tables (media/mp4_index.py), or None.

    ffmpeg makes one stream per track, in order, so the header's stream index is the track's. Sample
    times are the track's ticks; ffmpeg shifts them by the edit list, which ffprobe's stream start time
    already reports: the earliest sample sits there, the rest keep their distance from it."""
    try:
        header = json.loads(header_json)
        fmt, streams = header.get("format", {}), header.get("streams", [])
        if fmt.get("format_name") != SEEKABLE_FORMATS[0]:
            return None
        start = float(fmt.get("start_time", 0))
        pictures = {int(s["index"]): int(s.get("width", 0)) * int(s.get("height", 0)) for s in streams
                    if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")}
        starts = {int(s["index"]): float(s["start_time"]) for s in streams if "start_time" in s}
        sounds = {int(s["index"]): _int(str(s.get("sample_rate"))) for s in streams if s.get("codec_type") == "audio"}
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    tracks = mp4_index.read_tracks(read, size)
    if not pictures or tracks is None or len(tracks) != len(streams):
        return None
    stream = max(pictures, key=lambda index: pictures[index])
    track = tracks[stream]
    if track.handler != "vide" or not track.pts or stream not in starts:
        return None
    first = min(track.pts)
    if track.edit_start is not None and first < track.edit_start:
        return None  # the edit hides leading samples: ffmpeg drops them, this would not
    offset, scale = starts[stream] - start, 1 / track.timescale
    packets = [Packet(pts=offset + (pts - first) * scale, key=key)
               for pts, key in zip(track.pts, track.keys, strict=True)]
    sound_start = min((starts[i] - start for i in sounds if i in starts), default=None)
    return Scan(stream=stream, format_name=fmt["format_name"], packets=packets, sample_rate=_one(set(sounds.values())),
                sound_start=sound_start)


def parse_scan(text: str) -> Scan | None:
    start, format_name = 0.0, ""
    pictures: dict[int, int] = {}  # stream index → picture area
    rates: set[int | None] = set()
    sound_starts: list[float] = []
    packets: dict[int, list[Packet]] = {}
    for row in csv.reader(text.splitlines()):
        section, fields = (row[0], row[1:]) if row else ("", [])
        if section == "packet" and len(fields) >= 3:
            pts = _float(fields[1])
            if pts is not None:
                packets.setdefault(int(fields[0]), []).append(Packet(pts=pts, key=fields[2].startswith("K")))
        # stream rows: index, codec_type, then width and height (video) or sample_rate (audio), start_time,
        # attached_pic
        elif section == "stream" and len(fields) >= 6 and fields[1] == "video" and fields[-1] != "1":
            pictures[int(fields[0])] = (_int(fields[2]) or 0) * (_int(fields[3]) or 0)
        elif section == "stream" and len(fields) >= 5 and fields[1] == "audio":
            rates.add(_int(fields[2]))
            started = _float(fields[3])
            if started is not None:
                sound_starts.append(started)
        elif section == "format" and len(fields) >= 2:
            format_name = fields[0]
            start = _float(fields[1]) or 0.0
    if not pictures:
        return None
    stream = max(pictures, key=lambda index: pictures[index])
    found = [Packet(pts=p.pts - start, key=p.key) for p in packets.get(stream, [])]
    sound_start = min(sound_starts) - start if sound_starts else None
    return Scan(stream=stream, format_name=format_name, packets=found, sample_rate=_one(rates),
                sound_start=sound_start) if found else None


def _one(rates: set[int | None]) -> int | None:
    return next(iter(rates)) if len(rates) == 1 else None


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def clean_keyframes(packets: list[Packet]) -> list[tuple[float, int]]:
    """(time, decode index) of every keyframe no nearby packet crosses in presentation order."""
    found = []
    for index, packet in enumerate(packets):
        if not packet.key:
            continue
        before = packets[max(0, index - REORDER_WINDOW):index]
        after = packets[index + 1:index + 1 + REORDER_WINDOW]
        if all(p.pts < packet.pts for p in before) and all(p.pts > packet.pts for p in after):
            found.append((packet.pts, index))
    return found


def plan_chunks(scan: Scan, *, target: float, start: float | None = None, end: float | None = None,
                grid: float | None = None, fps: float | None = None) -> ChunkPlan | None:
    """Chunks of about `target` seconds, or None when the input cannot be cut cleanly into two or more.

    `grid`: chunk starts are multiples of it from the start (HLS). `fps`: the output frame rate,
    whose frame grid every chunk must start on (otherwise each chunk would resample differently).
    """
    if scan.format_name not in SEEKABLE_FORMATS:
        return None
    times = sorted(p.pts for p in scan.packets)
    keyframes = clean_keyframes(scan.packets)
    if len(times) < 2 or not keyframes:
        return None
    steps = [b - a for a, b in itertools.pairwise(times) if b > a]
    if not steps:
        return None
    frame = statistics.median(steps)
    offset = start or 0.0
    begin = max(offset, times[0])
    stop = min(end, times[-1] + frame) if end is not None else times[-1] + frame
    if begin < keyframes[0][0] or target <= 0:
        return None  # frames before the first clean keyframe cannot be cut out on their own
    if grid:
        length = max(grid, round(target / grid) * grid)
        starts = [begin + n * length for n in range(1, int((stop - begin) / length) + 1)]
        starts = [s for s in starts if stop - s >= length / 2]
    else:
        starts = _keyframe_starts(keyframes, begin, stop, target, frame, fps)
    if not starts:
        return None
    # Each boundary sits halfway between the last frame before it and the first at or after it.
    cuts = [begin] + [_midpoint(times, s) for s in starts]
    key_times = [t for t, _ in keyframes]
    pieces = [keyframes[bisect.bisect_right(key_times, cut + frame / 2) - 1] for cut in cuts]
    zeros = [max(cut, piece_start) for cut, (piece_start, _) in zip(cuts, pieces, strict=True)]
    chunks = []
    for n, ((piece_start, piece_index), zero) in enumerate(zip(pieces, zeros, strict=True)):
        packets: int | None = None
        duration: float | None = stop - zero if end is not None else None
        if n + 1 < len(zeros):
            after = bisect.bisect_left(key_times, zeros[n + 1] - 1e-9)  # the next piece may start no earlier
            packets = keyframes[after][1] - piece_index if after < len(keyframes) else None
            duration = zeros[n + 1] - zero
        chunks.append(Chunk(index=n, piece_start=piece_start, piece_packets=packets, seek=zero - piece_start,
                            zero=zero, duration=duration))
    return ChunkPlan(chunks=chunks, video_offset=begin - offset, frame_duration=frame)


def _keyframe_starts(keyframes: list[tuple[float, int]], begin: float, stop: float, target: float,
                     frame: float, fps: float | None) -> list[float]:
    starts: list[float] = []
    previous = begin
    for time, _ in keyframes:
        if time < previous + target or stop - time < target / 2:
            continue
        if fps and abs((time - begin) * fps - round((time - begin) * fps)) > 0.01:
            continue  # off the output's frame grid
        starts.append(time)
        previous = time
    return starts


def _midpoint(times: list[float], at: float) -> float:
    """Halfway between the last frame before `at` and the first frame at or after it."""
    after = bisect.bisect_left(times, at - 1e-6)
    if after == 0:
        return at
    if after >= len(times):
        return times[-1]
    return (times[after - 1] + times[after]) / 2
