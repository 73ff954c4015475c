"""The File a job reports for a still it made (its format, size, codec, bytes) comes from the encoder that
wrote it, in the server's Pillow worker processes too, instead of opening the result again: it must be
what probing the result says."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from mediajet.media import engine
from mediajet.media.pillow_pool import PillowPool
from mediajet.media.probe import probe
from mediajet.models.options import ImageOptions
from mediajet.settings import get_settings
from tests.media import make_image, make_video


def sideways_photo(folder: Path) -> Path:
    """A JPEG stored sideways (EXIF orientation 6): shown 240x320."""
    with Image.open(make_image(folder / "photo.jpg")) as im:
        exif = im.getexif()
        exif[0x0112] = 6
        im.save(folder / "sideways.jpg", exif=exif, quality=95)
    return folder / "sideways.jpg"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("described")
    return {"png": make_image(folder / "picture.png", alpha=True), "sideways": sideways_photo(folder),
            "video": make_video(folder / "clip.mp4", seconds=1)}


@pytest.mark.parametrize(("source", "options"), [
    ("png", ImageOptions(format="webp", width=100)),
    ("png", ImageOptions(format="jpeg", width=120, height=120, fit="contain")),
    ("sideways", ImageOptions(format="avif", width=90)),
    ("sideways", ImageOptions(format="png", width=100, height=50, fit="cover")),
    ("video", ImageOptions(format="webp", start=0.5, height=90)),
])
def test_the_reported_file_is_what_probing_the_result_says(inputs: dict[str, Path], tmp_path: Path, source: str,
                                                           options: ImageOptions) -> None:
    src = inputs[source]
    out, described = engine.encode_described("image", options, probe(src), src, tmp_path, timeout=60)

    assert described is not None, "a still is described by the encoder that wrote it"
    assert described == probe(out)


def test_a_worker_process_reports_the_file_it_wrote(inputs: dict[str, Path], tmp_path: Path) -> None:
    pool = PillowPool(1, get_settings())
    try:
        out, described = engine.encode_described("image", ImageOptions(format="webp", width=64), probe(inputs["png"]),
                                                 inputs["png"], tmp_path, timeout=60, pillow=pool)
    finally:
        pool.close()

    assert described == probe(out)
    assert (described.width, described.height, described.format) == (64, 48, "webp")
