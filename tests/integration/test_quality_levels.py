"""The quality ladder as a property, not a copy of its table: for every codec, each level up costs more
bytes and looks better (PSNR against the input). A level made worse than the one below it, or two
levels that collapse into one, fails here whatever the table says."""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import pytest

from mediajet.media import engine
from mediajet.media.binaries import ffmpeg
from mediajet.media.probe import probe
from mediajet.models.file import File
from mediajet.models.options import ImageOptions, VideoOptions
from tests.media import make_video

pytestmark = pytest.mark.slow
LEVELS = ("very_low", "low", "medium", "high", "very_high")
PSNR_SLACK_DB = 0.05  # two levels may look alike on a tiny clip; worse is what must not happen


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, File]:
    # lossless, and busy enough (moving bars and text) that a better level has something to spend bits on
    path = make_video(tmp_path_factory.mktemp("q") / "clip.mkv", seconds=0.5, size="160x120", audio=False)
    return path, probe(path)


@lru_cache(maxsize=1)
def decodes_av1() -> bool:
    """Whether this ffmpeg has a software AV1 decoder (its own `av1` decoder needs a GPU)."""
    listed = subprocess.run([ffmpeg(), "-hide_banner", "-decoders"], check=True, capture_output=True, text=True,
                            timeout=60).stdout
    return "libdav1d" in listed or "libaom-av1" in listed


def psnr(distorted: Path, reference: Path) -> float | None:
    """Average PSNR in dB; None when this ffmpeg cannot decode `distorted` (it has no AV1 decoder). It
    is not even tried then: the GPU-only decoder failing once left ffmpeg hanging until the timeout."""
    if probe(distorted).codecs.video == "av1" and not decodes_av1():
        return None
    result = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(distorted), "-i", str(reference), "-lavfi",
                             "[0:v][1:v]psnr", "-f", "null", "-"], check=False, capture_output=True, text=True,
                            timeout=60)
    found = re.findall(r"average:([0-9.]+|inf)", result.stderr)
    return float(found[-1].replace("inf", "100")) if found else None


def assert_ladder(results: list[tuple[int, float | None]], what: str) -> None:
    sizes, quality = [size for size, _ in results], [db for _, db in results]
    assert all(a < b for a, b in pairwise(sizes)), f"{what}: bytes per level {dict(zip(LEVELS, sizes))}"
    if None in quality:  # AV1: bytes only, nothing here decodes it
        return
    assert all(b >= a - PSNR_SLACK_DB for a, b in pairwise(quality)), \
        f"{what}: PSNR per level {dict(zip(LEVELS, quality))}"
    assert quality[-1] > quality[0] + 1, f"{what}: the ladder barely changes the picture {quality}"


@pytest.mark.parametrize(("codec", "container"), [("h264", "mp4"), ("h265", "mp4"), ("vp9", "webm"), ("av1", "mp4")])
def test_every_video_level_up_costs_more_and_looks_better(clip: tuple[Path, File], tmp_path: Path, codec: str,
                                                          container: str) -> None:
    src, source = clip
    results = []
    for level in LEVELS:
        options = VideoOptions(format=container, codec=codec, quality=level)
        out = engine.encode("video", options, source, src, tmp_path / level, timeout=120)
        results.append((out.stat().st_size, psnr(out, src)))
    assert_ladder(results, codec)


@pytest.mark.parametrize("image_format", ["jpeg", "webp", "avif"])
def test_every_still_level_up_costs_more_and_looks_better(clip: tuple[Path, File], tmp_path: Path,
                                                          image_format: str) -> None:
    src, source = clip
    # the reference is the same frame through the same path, lossless: colour handling cancels out
    reference = engine.encode("image", ImageOptions(format="png"), source, src, tmp_path / "png", timeout=120)
    results = []
    for level in LEVELS:
        out = engine.encode("image", ImageOptions(format=image_format, quality=level), source, src, tmp_path / level,
                            timeout=120)
        results.append((out.stat().st_size, psnr(out, reference)))
    assert_ladder(results, image_format)
