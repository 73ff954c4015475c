"""The playlists of an HLS encode made in parts: each part writes its chunk's segments where the single
pass would (numbered and timed as its), and keeps its own playlists here; the join concatenates
their entries into one playlist per rendition. Chunks start on the segment grid, so no entry is
split and no discontinuity is needed. The master playlist's bandwidths are the whole encode's, as
the muxer computes them: the largest segment bitrate (segments over half a second) and the average.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from mediajet.errors import ProcessingError
from mediajet.media.plans.hls import MASTER

PLAYLIST = "stream.m3u8"
ENTRY = "#EXTINF:"
TARGET = "#EXT-X-TARGETDURATION:"
END = "#EXT-X-ENDLIST"


class PartPlaylists(BaseModel):
    master: str
    variants: dict[str, str]  # rendition folder → the part's playlist
    sizes: dict[str, list[int]]  # rendition folder → the bytes of each of its segments, in playlist order

    @property
    def segment_bytes(self) -> int:
        return sum(sum(sizes) for sizes in self.sizes.values())


def collect(out_dir: Path) -> PartPlaylists:
    """Take a part's playlists out of `out_dir` (its segments stay, to be stored as they are)."""
    master = out_dir / MASTER
    if not master.is_file():
        raise ProcessingError("the encoder wrote no master playlist for a part", kind="encode_failed")
    variants, sizes = {}, {}
    for playlist in sorted(out_dir.glob(f"*/{PLAYLIST}")):
        text = variants[playlist.parent.name] = playlist.read_text()
        sizes[playlist.parent.name] = [(playlist.parent / uri).stat().st_size for _, uri in _segments(text)]
        playlist.unlink()
    found = PartPlaylists(master=master.read_text(), variants=variants, sizes=sizes)
    master.unlink()
    return found


def merge(parts: list[PartPlaylists]) -> dict[str, str]:
    """Relative path → text of the whole encode's playlists: the first part's master and, per
    rendition, the first part's header with the longest target duration, then every part's segments."""
    names = list(parts[0].variants)
    if not names or any(list(p.variants) != names for p in parts):
        raise ProcessingError("the parts of an HLS encode have different renditions", kind="encode_failed")
    uris = [uri for p in parts for _, uri in _segments(p.variants[names[0]])]
    if len(set(uris)) != len(uris):  # a part that ran past its chunk overwrote the next one's segment
        raise ProcessingError("the parts of an HLS encode wrote the same segment twice", kind="encode_failed")
    merged = {MASTER: _master(parts)}
    for name in names:
        headers, entries = zip(*(_split(p.variants[name]) for p in parts), strict=True)
        target = max(int(line[len(TARGET):]) for header in headers for line in header if line.startswith(TARGET))
        header = [f"{TARGET}{target}" if line.startswith(TARGET) else line for line in headers[0]]
        merged[f"{name}/{PLAYLIST}"] = "\n".join([*header, *(e for part in entries for e in part), END]) + "\n"
    return merged


def _master(parts: list[PartPlaylists]) -> str:
    rates = {}
    for name in parts[0].variants:
        durations = [duration for p in parts for duration, _ in _segments(p.variants[name])]
        sizes = [size for p in parts for size in p.sizes[name]]
        peak = max((int(8 * size / d) for size, d in zip(sizes, durations, strict=True) if d > 0.5), default=0)
        rates[name] = (peak, int(8 * sum(sizes) / sum(durations)))
    lines = parts[0].master.splitlines()
    for i, line in enumerate(lines[:-1]):
        name = lines[i + 1].split("/")[0]
        if line.startswith("#EXT-X-STREAM-INF:") and name in rates and rates[name][0]:
            peak, average = rates[name]
            line = re.sub(r"(?<![-A-Z])BANDWIDTH=\d+", f"BANDWIDTH={peak}", line)
            lines[i] = re.sub(r"AVERAGE-BANDWIDTH=\d+", f"AVERAGE-BANDWIDTH={average}", line)
    return "\n".join(lines) + "\n"


def _segments(playlist: str) -> list[tuple[float, str]]:
    """(duration, URI) of each segment."""
    entries = _split(playlist)[1]
    durations = [float(line[len(ENTRY):].split(",")[0]) for line in entries if line.startswith(ENTRY)]
    uris = [line for line in entries if not line.startswith("#")]
    if len(durations) != len(uris):
        raise ProcessingError("a part's playlist lists segments without durations", kind="encode_failed")
    return list(zip(durations, uris, strict=True))


def _split(playlist: str) -> tuple[list[str], list[str]]:
    """(the lines before the first segment, the segment lines), without the end tag."""
    lines = [line for line in playlist.splitlines() if line and line != END]
    first = next((i for i, line in enumerate(lines) if line.startswith(ENTRY)), None)
    if first is None or not any(line.startswith(TARGET) for line in lines[:first]):
        raise ProcessingError("a part's playlist has no segments", kind="encode_failed")
    return lines[:first], lines[first:]
