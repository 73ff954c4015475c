"""The keyframe scan of a long input from its MP4 index: the same packets, times and keyframes that
ffprobe reads from the whole file, or (for what the index reader does not model) ffprobe itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mediajet.media import chunking, runner
from mediajet.media.mp4_index import read_tracks
from tests.media import _ffmpeg

PICTURE = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2"]
SOUND = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2"]
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
VFR = "testsrc2=size=320x240:rate=25:duration=2,setpts='PTS+if(gt(N\\,20)\\,0.3/TB\\,0)'"  # a 0.3 s gap
INDEXED = {
    "b-frames, moov at the end": ("mp4", [*PICTURE, *SOUND, *X264, "-preset", "veryfast", "-bf", "3", "-g", "12",
                                          "-c:a", "aac"]),
    "moov first": ("mp4", [*PICTURE, *SOUND, *X264, "-g", "10", "-c:a", "aac", "-movflags", "+faststart"]),
    "QuickTime": ("mov", [*PICTURE, *SOUND, *X264, "-g", "10", "-c:a", "aac"]),
    "sound track first": ("mp4", [*SOUND, *PICTURE, "-map", "0", "-map", "1", *X264, "-c:a", "aac"]),
    "variable frame rate": ("mp4", ["-f", "lavfi", "-i", VFR, *X264, "-fps_mode", "passthrough"]),
}


def read_from(path: Path):
    fd = os.open(path, os.O_RDONLY)
    return fd, os.fstat(fd).st_size, lambda offset, length: os.pread(fd, length, offset)


def index_scan(path: Path) -> chunking.Scan | None:
    fd, size, read = read_from(path)
    try:
        header = runner.run(chunking.header_argv(path), timeout=30, capture_stdout=True).stdout.decode()
        return chunking.scan_index(header, read, size)
    finally:
        os.close(fd)


@pytest.mark.parametrize("case", list(INDEXED))
def test_the_index_gives_what_ffprobe_reads_from_the_whole_file(case: str, tmp_path: Path) -> None:
    ext, args = INDEXED[case]
    path = tmp_path / f"in.{ext}"
    _ffmpeg([*args, str(path)])
    from_index = index_scan(path)
    from_packets = chunking.scan(path, timeout=30)
    assert from_index is not None and from_packets is not None
    assert from_index.stream == from_packets.stream
    assert len(from_index.packets) == len(from_packets.packets) > 40
    for mine, theirs in zip(from_index.packets, from_packets.packets, strict=True):
        assert mine.pts == pytest.approx(theirs.pts, abs=1e-6) and mine.key == theirs.key


def test_a_fragmented_or_edited_file_is_left_to_ffprobe(tmp_path: Path) -> None:
    fragmented = tmp_path / "frag.mp4"
    _ffmpeg([*PICTURE, *X264, "-g", "10", "-movflags", "frag_keyframe+empty_moov", str(fragmented)])
    whole = tmp_path / "whole.mp4"
    _ffmpeg([*PICTURE, *X264, "-bf", "2", "-g", "10", str(whole)])
    trimmed = tmp_path / "trimmed.mp4"  # a stream copy from 0.5 s: an edit list hides the frames before it
    _ffmpeg(["-ss", "0.5", "-i", str(whole), "-c", "copy", str(trimmed)])
    for path in (fragmented, trimmed):
        assert index_scan(path) is None
        fd, size, read = read_from(path)
        try:
            found = chunking.scan(path, timeout=30, read=read, size=size)
        finally:
            os.close(fd)
        assert found == chunking.scan(path, timeout=30), "the fallback is ffprobe's own scan"


def test_garbage_is_not_an_index(tmp_path: Path) -> None:
    for data in (b"", b"\x00\x00\x00\x01moov", b"\x00\x00\x00\x10ftypisom\x00\x00\x00\x00" * 3,
                 b"\xff" * 64, b"\x00\x00\x00\x08moov"):
        assert read_tracks(lambda offset, length, d=data: d[offset:offset + length], len(data)) in (None, [])
