"""An HLS encode made in parts (media/hls_parts.py): each part's playlists taken out of its folder,
then merged into the whole encode's, as the single pass writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediajet.errors import ProcessingError
from mediajet.media.hls_parts import PartPlaylists, collect, merge

HEADER = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:{first}\n" \
         "#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n"
MASTER = ('#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1,RESOLUTION=640x360,'
          'CODECS="avc1.64001e,mp4a.40.2"\n360p/stream.m3u8\n\n'
          '#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1,RESOLUTION=426x240,CODECS="avc1.64000d,mp4a.40.2"\n'
          '240p/stream.m3u8\n\n')


def playlist(first: int, durations: list[float], target: int = 6) -> str:
    entries = "".join(f"#EXTINF:{d:.6f},\nsegment-{first + i}.ts\n" for i, d in enumerate(durations))
    return HEADER.format(target=target, first=first) + entries + "#EXT-X-ENDLIST\n"


def part(first: int, durations: list[float], sizes: list[int], target: int = 6) -> PartPlaylists:
    text = playlist(first, durations, target)
    return PartPlaylists(master=MASTER, variants={"360p": text, "240p": text},
                         sizes={"360p": sizes, "240p": [s // 2 for s in sizes]})


def test_a_part_leaves_its_segments_and_hands_over_its_playlists(tmp_path: Path) -> None:
    for name in ("360p", "240p"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "stream.m3u8").write_text(playlist(5, [6.0, 6.0]))
        (tmp_path / name / "segment-5.ts").write_bytes(b"x" * 300)
        (tmp_path / name / "segment-6.ts").write_bytes(b"x" * 100)
    (tmp_path / "master.m3u8").write_text(MASTER)
    found = collect(tmp_path)
    assert found.master == MASTER and found.variants["240p"] == playlist(5, [6.0, 6.0])
    assert found.sizes == {"240p": [300, 100], "360p": [300, 100]} and found.segment_bytes == 800
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["segment-5.ts", "segment-5.ts",
                                                                          "segment-6.ts", "segment-6.ts"]


def test_the_merged_playlists_list_every_segment_once_in_order_with_the_whole_bandwidths() -> None:
    merged = merge([part(0, [6.0, 6.0], [600_000, 750_000]), part(2, [6.0, 3.0, 0.4], [600_000, 330_000, 90_000], 7)])
    assert merged["360p/stream.m3u8"] == (HEADER.format(target=7, first=0) + "".join(
        f"#EXTINF:{d:.6f},\nsegment-{i}.ts\n" for i, d in enumerate([6.0, 6.0, 6.0, 3.0, 0.4])) + "#EXT-X-ENDLIST\n")
    # peak: 750 kB in 6 s = 1 Mbit/s (the last 0.4 s segment is too short to count); average over 21.4 s
    assert "BANDWIDTH=1000000,AVERAGE-BANDWIDTH=885981,RESOLUTION=640x360" in merged["master.m3u8"]
    assert "BANDWIDTH=500000,AVERAGE-BANDWIDTH=442990,RESOLUTION=426x240" in merged["master.m3u8"]
    assert merged["master.m3u8"].count("stream.m3u8") == 2 and set(merged) == {
        "master.m3u8", "360p/stream.m3u8", "240p/stream.m3u8"}


def test_parts_that_overlap_or_disagree_fail_the_encode_instead_of_making_a_broken_stream() -> None:
    with pytest.raises(ProcessingError, match="same segment twice"):
        merge([part(0, [6.0, 0.04], [1, 1]), part(1, [6.0], [1])])
    odd = part(1, [6.0], [1])
    odd.variants.pop("240p")
    with pytest.raises(ProcessingError, match="different renditions"):
        merge([part(0, [6.0], [1]), odd])
