"""The MP4 join by indexes (media/mp4_join.py) on parts ffmpeg made: every packet of every part, in
order, each picture where its chunk's start puts it, the bytes read where the new index says; and the
limits of 32-bit headers (co64, a 64-bit mdat) on an output over 4 GiB."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from mediajet.errors import ProcessingError
from mediajet.media import mp4_join
from mediajet.media.mp4_boxes import boxes, child, top_level
from tests.measure import packets
from tests.media import _ffmpeg

X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac"]


def make_part(path: Path, seconds: float) -> Path:
    _ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size=160x120:rate=25:duration={seconds}",
             "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}", *X264, "-f", "mp4",
             str(path)])
    return path


def part_of(path: Path) -> mp4_join.Part:
    data = path.read_bytes()
    return mp4_join.read_part(lambda offset, length: data[offset:offset + length], len(data))


def write_joined(paths: list[Path], zeros: list[float], out: Path) -> Path:
    joined = mp4_join.join([part_of(p) for p in paths], zeros)
    with out.open("wb") as file:
        file.write(joined.head)
        for n, start, length in joined.spans:
            file.write(paths[n].read_bytes()[start:start + length])
    return out


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("mp4-join")
    return [make_part(folder / "a.mp4", 1), make_part(folder / "b.mp4", 1)]


def test_joined_parts_hold_every_packet_with_each_part_at_its_start(parts: list[Path], tmp_path: Path) -> None:
    joined = write_joined(parts, [10.0, 11.2], tmp_path / "joined.mp4")  # the second chunk starts 1.2 s in
    pictures = [t for t, _ in packets(joined)]
    assert pictures == pytest.approx([n * 0.04 for n in range(25)] + [1.2 + n * 0.04 for n in range(25)], abs=1e-6)
    assert [t for t, key in packets(joined) if key] == pytest.approx([0.0, 1.2])
    sound = packets(joined, "a:0")
    assert len(sound) == sum(len(packets(p, "a:0")) for p in parts)
    _ffmpeg(["-xerror", "-i", str(joined), "-f", "null", "-"])  # decodes: every byte is where the index says
    data = joined.read_bytes()
    kinds = [b.kind for b in top_level(lambda offset, length: data[offset:offset + length], len(data))]
    assert kinds == [b"ftyp", b"moov", b"mdat"], "the index first: a browser plays it while it downloads"


def test_an_output_past_4_gib_gets_64_bit_offsets_and_mdat_size(parts: list[Path]) -> None:
    big = [mp4_join.Part(p.ftyp, p.moov, p.media_offset, 3 * 2**30) for p in map(part_of, [*parts, parts[0]])]
    head = mp4_join.join(big, [0.0, 1.0, 2.0]).head
    top = dict(boxes(head[:-16]))
    assert head[-16:-8] == struct.pack(">I4s", 1, b"mdat") and struct.unpack(">Q", head[-8:])[0] == 9 * 2**30 + 16
    for trak in (body for kind, body in boxes(top[b"moov"]) if kind == b"trak"):
        stbl = child(trak, b"mdia", b"minf", b"stbl")
        assert child(stbl, b"co64") is not None and child(stbl, b"stco") is None
        offsets = struct.unpack_from(f">{struct.unpack_from('>I', child(stbl, b'co64'), 4)[0]}Q", child(stbl, b"co64"), 8)
        assert max(offsets) > 6 * 2**30, "the third part's media lies past 6 GiB"


def test_parts_with_tables_the_join_does_not_model_are_refused(parts: list[Path]) -> None:
    part = part_of(parts[0])
    foreign = part.moov.replace(b"stss", b"stps")  # a partial-sync table: no MediaJet part has one
    with pytest.raises(ProcessingError) as refused:
        mp4_join.join([mp4_join.Part(part.ftyp, foreign, part.media_offset, part.media_length), part], [0.0, 1.0])
    assert refused.value.kind == "encode_failed" and "stps" in refused.value.message


def test_a_file_that_is_not_a_plain_mp4_is_refused(tmp_path: Path) -> None:
    data = os.urandom(1000)
    with pytest.raises(ProcessingError) as refused:
        mp4_join.read_part(lambda offset, length: data[offset:offset + length], len(data))
    assert refused.value.kind == "encode_failed"
