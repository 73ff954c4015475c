"""README's "Quality levels" table says what the one quality table (media/plans/common.py) holds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mediajet.media.plans.common import (
    AAC_BITRATE,
    GIF_PALETTE,
    MP3_VBR,
    OPUS_BITRATE,
    QUALITY_LEVELS,
    STILL_QUALITY,
    VIDEO_CRF,
    VORBIS_Q,
)

README = Path(__file__).resolve().parents[2] / "README.md"
TABLES: list[dict[str, object]] = [VIDEO_CRF[c] for c in VIDEO_CRF] + [
    AAC_BITRATE, OPUS_BITRATE, MP3_VBR, VORBIS_Q, GIF_PALETTE, *STILL_QUALITY.values()]


def readme_quality_table() -> tuple[list[str], dict[str, list[str]]]:
    """(the level columns, {row name: cells}) of the table under "### Quality levels"; the row name is
    the label's leading codec or format ("h264", "aac", "jpeg / webp")."""
    text = README.read_text()
    section = text[text.index("### Quality levels"):]
    section = section[:section.index("\n#", 1)]
    lines = [line.strip() for line in section.splitlines() if line.strip().startswith("|")]
    split = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    header, rows = split[0], [row for row in split[1:] if not set("".join(row)) <= set("-: ")]
    named = {}
    for label, *cells in rows:
        match = re.match(r"[a-z0-9]+(?: / [a-z0-9]+)?", label)
        assert match, f"README quality row {label!r} names no codec"
        named[match.group(0)] = cells
    return header[1:], named


def test_every_table_covers_every_level() -> None:
    for table in TABLES:
        assert tuple(table) == QUALITY_LEVELS


def test_readme_columns_are_the_levels() -> None:
    levels, _ = readme_quality_table()
    assert tuple(levels) == QUALITY_LEVELS


def test_readme_has_a_row_for_every_table_and_no_other() -> None:
    _, rows = readme_quality_table()
    assert set(rows) == {*VIDEO_CRF, "aac", "opus", "mp3", "ogg", "jpeg / webp", "avif", "gif"}


@pytest.mark.parametrize("codec", list(VIDEO_CRF))
def test_readme_video_crf(codec: str) -> None:
    _, rows = readme_quality_table()
    assert rows[codec] == [str(VIDEO_CRF[codec][level]) for level in QUALITY_LEVELS]


def test_readme_audio_rows() -> None:
    _, rows = readme_quality_table()
    assert rows["aac"] == [str(AAC_BITRATE[level] // 1000) for level in QUALITY_LEVELS]
    assert rows["opus"] == [str(OPUS_BITRATE[level] // 1000) for level in QUALITY_LEVELS]
    assert rows["mp3"] == [f"V{MP3_VBR[level]}" for level in QUALITY_LEVELS]
    assert rows["ogg"] == [str(VORBIS_Q[level]) for level in QUALITY_LEVELS]


def test_readme_still_rows() -> None:
    _, rows = readme_quality_table()
    jpeg, webp, avif = STILL_QUALITY["jpeg"], STILL_QUALITY["webp"], STILL_QUALITY["avif"]
    assert rows["jpeg / webp"] == [str(jpeg[level]) if jpeg[level] == webp[level] else f"{jpeg[level]} / {webp[level]}"
                                   for level in QUALITY_LEVELS]
    assert rows["avif"] == [str(avif[level]) for level in QUALITY_LEVELS]


def test_readme_gif_row() -> None:
    """Colours per level; a note in brackets names the dither ("256 (Floyd-Steinberg)")."""
    _, rows = readme_quality_table()
    for level, cell in zip(QUALITY_LEVELS, rows["gif"], strict=True):
        colours, dither = GIF_PALETTE[level]
        match = re.fullmatch(r"(\d+)(?: \((.+)\))?", cell)
        assert match, f"gif {level}: {cell!r}"
        assert int(match.group(1)) == colours, level
        if match.group(2):
            assert match.group(2).lower().replace("-", "_") == dither, level
