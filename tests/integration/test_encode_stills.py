"""Stills and animations as a user receives them: real ffmpeg, real Pillow, pixels sampled.

Test images are a red (200, 30, 30) picture with a white square in the top-left quarter, so
crops, pads and rotations show up at known pixels.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import Image

from mediajet.errors import ProcessingError
from mediajet.media import engine
from mediajet.media.probe import probe
from mediajet.models.file import File
from mediajet.models.options import AnimationOptions, ImageOptions
from tests.media import make_image, make_video

RED = (200, 30, 30)
WHITE = (255, 255, 255)
GREEN = (0, 255, 0)
BLACK = (0, 0, 0)
PIL_NAMES = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF"}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stills")
    make_video(folder / "clip.mp4", seconds=2)
    make_image(folder / "picture.png")
    make_image(folder / "picture.gif")
    return folder


def video(media: Path) -> tuple[File, Path]:
    path = media / "clip.mp4"
    return probe(path), path


def still(path: Path) -> tuple[File, Path]:
    return probe(path), path


def encode(kind: str, options: ImageOptions | AnimationOptions, source: tuple[File, Path], out_dir: Path) -> Path:
    return engine.encode(kind, options, source[0], source[1], out_dir, timeout=60)


def near(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=False))


def rgb_at(path: Path, xy: tuple[int, int]) -> tuple[int, ...]:
    with Image.open(path) as im:
        return im.convert("RGBA").getpixel(xy)  # type: ignore[return-value]


def mean_difference(a: Path, b: Path) -> float:
    with Image.open(a) as first, Image.open(b) as second:
        pa, pb = first.convert("L").getdata(), second.convert("L").getdata()
        return sum(abs(x - y) for x, y in zip(pa, pb, strict=True)) / len(pa)


# --- formats ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif"])
def test_png_input_converts_to_every_format(media: Path, tmp_path: Path, fmt: str) -> None:
    out = encode("image", ImageOptions(format=fmt), still(media / "picture.png"), tmp_path)
    with Image.open(out) as im:
        assert (im.format, im.size) == (PIL_NAMES[fmt], (320, 240))
    assert near(rgb_at(out, (20, 20)), WHITE) and near(rgb_at(out, (200, 150)), RED)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif"])
def test_video_frame_converts_to_every_format(media: Path, tmp_path: Path, fmt: str) -> None:
    out = encode("image", ImageOptions(format=fmt, start=1.0), video(media), tmp_path)
    with Image.open(out) as im:
        assert (im.format, im.size) == (PIL_NAMES[fmt], (320, 240))
    assert list(tmp_path.iterdir()) == [out]


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif"])
def test_lower_quality_gives_a_smaller_file(media: Path, tmp_path: Path, fmt: str) -> None:
    sizes = [encode("image", ImageOptions(format=fmt, quality=level, start=0.5), video(media),
                    tmp_path / level).stat().st_size for level in ("very_low", "medium", "very_high")]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


def test_input_format_is_kept_and_video_defaults_to_jpeg(media: Path, tmp_path: Path) -> None:
    assert encode("image", ImageOptions(width=100), still(media / "picture.png"), tmp_path / "a").name \
        == "output.png"
    assert encode("image", ImageOptions(), video(media), tmp_path / "b").name == "output.jpg"
    assert encode("image", ImageOptions(), still(media / "picture.gif"), tmp_path / "c").name \
        == "output.png"


def test_animated_png_gives_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (64, 48), colour) for colour in (RED, GREEN)]
    frames[0].save(tmp_path / "moving.png", save_all=True, append_images=frames[1:], duration=100)
    source = still(tmp_path / "moving.png")
    assert source[0].kind == "video"  # probe sees the animation; ffmpeg could not decode it
    out = encode("image", ImageOptions(), source, tmp_path / "out")
    assert out.name == "output.png"
    assert near(rgb_at(out, (30, 20)), (*RED, 255), tolerance=2)


def test_start_picks_a_different_frame(media: Path, tmp_path: Path) -> None:
    first = encode("image", ImageOptions(format="png"), video(media), tmp_path / "first")
    later = encode("image", ImageOptions(format="png", start=1.5), video(media), tmp_path / "later")
    assert mean_difference(first, later) > 5


def test_start_past_the_end_gives_the_last_frame(media: Path, tmp_path: Path) -> None:
    last = encode("image", ImageOptions(format="png", start=1.96), video(media), tmp_path / "last")
    beyond = encode("image", ImageOptions(format="png", start=30), video(media), tmp_path / "beyond")
    assert mean_difference(last, beyond) < 1
    assert [p.name for p in beyond.parent.iterdir()] == ["output.png"]  # no scratch frame left behind


def test_exif_orientation_is_applied_and_metadata_dropped(tmp_path: Path) -> None:
    source = make_image(tmp_path / "photo.jpg")
    with Image.open(source) as im:
        exif = im.getexif()
        exif[0x0112] = 6  # stored sideways: display rotated 90 degrees clockwise
        exif[0x010F] = "CameraMaker"
        im.save(tmp_path / "sideways.jpg", exif=exif, quality=95)
    out = encode("image", ImageOptions(format="png"), still(tmp_path / "sideways.jpg"), tmp_path / "out")
    with Image.open(out) as im:
        assert im.size == (240, 320)
        assert not im.getexif()
    assert near(rgb_at(out, (230, 10)), WHITE) and near(rgb_at(out, (10, 10)), RED)


def test_16_bit_greyscale_keeps_its_tone(tmp_path: Path) -> None:
    Image.new("I;16", (40, 30), 30_000).save(tmp_path / "deep.png")  # 30000/65535: a mid grey
    out = encode("image", ImageOptions(format="jpeg"), still(tmp_path / "deep.png"), tmp_path / "out")
    assert near(rgb_at(out, (20, 15)), (117, 117, 117, 255), tolerance=4)


# --- fit, position, background, sizes ------------------------------------------------------------


def test_contain_pads_at_the_position_with_the_background(media: Path, tmp_path: Path) -> None:
    options = ImageOptions(format="png", width=200, height=200, position="top", background="#00ff00")
    out = encode("image", options, still(media / "picture.png"), tmp_path)
    assert rgb_at(out, (100, 190))[:3] == GREEN  # 200x150 picture at the top, green below
    assert near(rgb_at(out, (10, 10)), WHITE) and near(rgb_at(out, (150, 100)), RED)


@pytest.mark.parametrize(("fmt", "pad"), [("png", (0, 0, 0, 0)), ("webp", (0, 0, 0, 0)), ("jpeg", (0, 0, 0, 255))])
def test_contain_pads_transparent_where_the_format_allows_else_black(media: Path, tmp_path: Path, fmt: str,
                                                                     pad: tuple[int, ...]) -> None:
    out = encode("image", ImageOptions(format=fmt, width=200, height=200), still(media / "picture.png"),
                 tmp_path)
    assert near(rgb_at(out, (100, 5)), pad, tolerance=8)  # centred: 25 px bands above and below


@pytest.mark.parametrize(("position", "top_left"), [("left", WHITE), ("right", RED)])
def test_cover_crops_at_the_position(media: Path, tmp_path: Path, position: str, top_left: tuple[int, ...]) -> None:
    options = ImageOptions(format="png", width=200, height=200, fit="cover", position=position)
    out = encode("image", options, still(media / "picture.png"), tmp_path)
    with Image.open(out) as im:
        assert im.size == (200, 200)
    assert near(rgb_at(out, (10, 10)), top_left)


def test_fill_stretches_to_the_box(media: Path, tmp_path: Path) -> None:
    out = encode("image", ImageOptions(format="png", width=100, height=300, fit="fill"),
                 still(media / "picture.png"), tmp_path)
    with Image.open(out) as im:
        assert im.size == (100, 300)
    assert near(rgb_at(out, (10, 65)), WHITE)  # the square is now 25x75
    assert near(rgb_at(out, (10, 85)), RED)


@pytest.mark.parametrize(("width", "height", "size"), [("50%", None, (160, 120)), (None, "25%", (80, 60)),
                                                       (640, None, (320, 240))])
def test_percent_sizes_and_no_upscaling(media: Path, tmp_path: Path, width: str | int | None,
                                        height: str | None, size: tuple[int, int]) -> None:
    out = encode("image", ImageOptions(width=width, height=height), still(media / "picture.png"), tmp_path)
    with Image.open(out) as im:
        assert im.size == size


def test_video_frame_resizes_like_an_image(media: Path, tmp_path: Path) -> None:
    out = encode("image", ImageOptions(width="50%", start=0.5), video(media), tmp_path)
    with Image.open(out) as im:
        assert (im.format, im.size) == ("JPEG", (160, 120))


# --- animations ------------------------------------------------------------------------------------


def test_gif_animation_frames_size_loop_and_timing(media: Path, tmp_path: Path) -> None:
    out = encode("animation", AnimationOptions(start=0.5, end=1.5, fps=10, width=160), video(media), tmp_path)
    with Image.open(out) as im:
        assert (im.format, im.size) == ("GIF", (160, 120))
        assert 9 <= im.n_frames <= 11
        assert im.info["loop"] == 0
        im.seek(1)
        assert im.info["duration"] == 100


def test_webp_animation_frames_size_loop_and_timing(media: Path, tmp_path: Path) -> None:
    out = encode("animation", AnimationOptions(format="webp", start=0.5, end=1.5, fps=10), video(media), tmp_path)
    with Image.open(out) as im:
        assert (im.format, im.size) == ("WEBP", (320, 240))
        assert 9 <= im.n_frames <= 11
        assert im.info["loop"] == 0
        im.seek(1)
        im.load()  # the WebP reader fills in the frame timing when it decodes the frame
        assert im.info["duration"] == 100
    assert [p.name for p in tmp_path.iterdir()] == ["output.webp"]  # raw frames cleaned up


def test_faster_fps_gives_more_frames(media: Path, tmp_path: Path) -> None:
    out = encode("animation", AnimationOptions(format="webp", end=1, fps=20, width=80), video(media), tmp_path)
    with Image.open(out) as im:
        assert 19 <= im.n_frames <= 21


def test_gif_quality_trades_colours_for_size(media: Path, tmp_path: Path) -> None:
    low = encode("animation", AnimationOptions(end=1, quality="very_low"), video(media), tmp_path / "low")
    high = encode("animation", AnimationOptions(end=1, quality="very_high"), video(media), tmp_path / "high")
    assert low.stat().st_size < high.stat().st_size
    with Image.open(low) as im:
        assert len(im.getcolors(256) or []) <= 33  # 32 colours (+ the reserved transparent slot)


@pytest.mark.parametrize(("position", "top_left"), [("left", WHITE), ("right", RED)])
def test_animation_cover_crops_like_a_still(media: Path, tmp_path: Path, position: str,
                                            top_left: tuple[int, ...]) -> None:
    options = AnimationOptions(end=1, width=200, height=200, fit="cover", position=position)
    out = encode("animation", options, still(media / "picture.gif"), tmp_path)
    assert near(rgb_at(out, (10, 10)), top_left)


def test_gif_contain_pads_with_the_background(media: Path, tmp_path: Path) -> None:
    options = AnimationOptions(end=1, width=200, height=200, position="bottom", background="#00ff00")
    out = encode("animation", options, video(media), tmp_path)
    assert near(rgb_at(out, (100, 10)), (*GREEN, 255))  # picture at the bottom, green above


def test_webp_animation_pads_transparent_by_default(media: Path, tmp_path: Path) -> None:
    out = encode("animation", AnimationOptions(format="webp", end=1, width=200, height=200), video(media),
                 tmp_path)
    assert rgb_at(out, (100, 5))[3] == 0
    assert rgb_at(out, (100, 100))[3] == 255


def test_still_png_cannot_be_animated(media: Path, tmp_path: Path) -> None:
    with pytest.raises(ProcessingError) as caught:
        encode("animation", AnimationOptions(end=1), still(media / "picture.png"), tmp_path)
    assert caught.value.kind == "unsupported_media"


# --- hostile and broken input --------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@pytest.mark.parametrize("side", [100_000, 9_000])  # far past Pillow's own guard; just past our limits
def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path, side: int) -> None:
    bomb = tmp_path / "bomb.png"
    header = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
    body = _png_chunk(b"IDAT", zlib.compress(b"\0" * 1024))
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + header + body + _png_chunk(b"IEND", b""))
    source = (File(url=bomb.as_uri(), kind="image", format="png"), bomb)
    with pytest.raises(ProcessingError) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        encode("image", ImageOptions(), source, tmp_path / "out")
    assert caught.value.kind == "resolution_too_large"
    assert "the limit is 8192 px per side" in caught.value.message


def test_truncated_image_is_unsupported_media(media: Path, tmp_path: Path) -> None:
    whole = make_image(tmp_path / "whole.jpg", size=(640, 480))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ProcessingError) as caught:
        # probe already refuses this file; the encoder must too, on its own
        encode("image", ImageOptions(format="png"), (File(url=broken.as_uri(), kind="image", format="jpeg"), broken),
               tmp_path / "out")
    assert caught.value.kind == "unsupported_media"


def test_garbage_is_unsupported_media(tmp_path: Path) -> None:
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not a picture" * 10)
    with pytest.raises(ProcessingError) as caught:
        encode("image", ImageOptions(), (File(url=junk.as_uri(), kind="image", format="png"), junk), tmp_path / "o")
    assert caught.value.kind == "unsupported_media"
