"""The sound of a chunked encode in slices (media/sound_slices.py): where they are cut, which encoded
frames each keeps, and ADTS framing. Sample-exact joins are checked on real encodes in
tests/integration/test_chunked.py."""

from __future__ import annotations

import pytest

from mediajet.errors import ProcessingError
from mediajet.media.sound_slices import FRAME, POST_ROLL, PRE_ROLL, SoundSlice, adts_frames, keep, plan_slices


def adts(payloads: list[bytes]) -> bytes:
    """ADTS frames around `payloads` (header fields other than the length do not matter here)."""
    out = b""
    for payload in payloads:
        length = 7 + len(payload)
        out += bytes([0xFF, 0xF1, 0x50, 0x80 | (length >> 11), (length >> 3) & 0xFF, ((length & 7) << 5) | 0x1F,
                      0xFC]) + payload
    return out


def test_slices_follow_the_chunks_on_the_frame_grid_and_tile_the_sound() -> None:
    slices = plan_slices([0.0, 3.0, 6.02], 0.0, 48000)
    assert [(s.start, s.end) for s in slices] == [(0, 141 * FRAME), (141 * FRAME, 282 * FRAME), (282 * FRAME, None)]
    trimmed = plan_slices([10.0, 13.0], 10.0, 44100)  # the output starts at the requested start
    assert [(s.start, s.end) for s in trimmed] == [(0, 129 * FRAME), (129 * FRAME, None)]


def test_each_slice_keeps_its_own_frames_and_the_first_one_the_priming() -> None:
    middle = SoundSlice(index=1, start=100 * FRAME, end=200 * FRAME, rate=48000)
    assert middle.read_from == (100 - PRE_ROLL) * FRAME and middle.read_to == (200 + POST_ROLL) * FRAME
    assert middle.kept() == slice(PRE_ROLL + 1, PRE_ROLL + 101), "frame n of the encode is its sound's n-1"
    first = SoundSlice(index=0, start=0, end=100 * FRAME, rate=48000)
    assert first.kept() == slice(0, 101), "the priming frame, then the slice's 100"
    close = SoundSlice(index=1, start=5 * FRAME, end=None, rate=48000)  # less sound before it than the roll
    assert close.read_from == 0 and close.kept() == slice(6, None)


def test_keep_cuts_adts_at_frame_boundaries() -> None:
    frames = [bytes([n]) * (n + 1) for n in range(30)]
    piece = SoundSlice(index=1, start=3 * FRAME, end=8 * FRAME, rate=48000)
    assert keep(adts(frames), piece) == adts(frames[4:9])
    assert adts_frames(adts(frames)) == [adts([f]) for f in frames]


@pytest.mark.parametrize("data", [b"\x00" * 10, adts([b"abc"])[:-1], b"\xff\xf1\x50\x80\x00\x1f\xfc"],
                         ids=["no sync word", "truncated", "length below the header"])
def test_a_broken_encode_is_an_encode_failure(data: bytes) -> None:
    with pytest.raises(ProcessingError) as caught:
        adts_frames(data)
    assert caught.value.kind == "encode_failed"
