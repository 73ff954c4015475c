"""Output geometry: what size a user gets for each width/height/fit/position."""

from __future__ import annotations

import pytest

from mediajet.errors import ProcessingError
from mediajet.media.sizing import FrameLimit, ffmpeg_filters, fit_geometry, refuse_oversized

LIMIT = FrameLimit(max_dimension=8192, max_pixels=4096 * 4096, setting="MEDIAJET_MAX_OUTPUT_PIXELS")


@pytest.mark.parametrize(
    ("args", "out"),
    [
        ((1920, 1080, None, None), (1920, 1080)),
        ((1920, 1080, 1280, None), (1280, 720)),
        ((1920, 1080, None, 720), (1280, 720)),
        ((1920, 1080, "50%", None), (960, 540)),
        ((1920, 1080, 3840, None), (1920, 1080)),  # one dimension never upscales
        ((320, 240, 1280, 720), (1280, 720)),  # both given: the box is honoured
        ((1920, 1080, 641, None), (640, 360)),  # even for 4:2:0
    ],
)
def test_output_size(args: tuple, out: tuple) -> None:
    geom = fit_geometry(*args, even=True)
    assert (geom.out_w, geom.out_h) == out


def test_contain_pads_to_the_box_at_the_position() -> None:
    geom = fit_geometry(320, 240, 200, 200, "contain", "top", even=True)
    assert (geom.scale_w, geom.scale_h, geom.out_w, geom.out_h, geom.x, geom.y) == (200, 150, 200, 200, 0, 0)
    geom = fit_geometry(320, 240, 200, 200, "contain", "bottom", even=True)
    assert geom.y == 50
    assert ffmpeg_filters(geom, "#00ff00") == [
        "scale=200:150:flags=bicubic", "pad=200:200:0:50:color=0x00ff00", "setsar=1"]


def test_cover_crops_at_the_position() -> None:
    left = fit_geometry(320, 240, 200, 200, "cover", "left", even=True)
    right = fit_geometry(320, 240, 200, 200, "cover", "right", even=True)
    assert (left.scale_w, left.scale_h, left.x) == (266, 200, 0)
    assert right.x == 66
    assert ffmpeg_filters(right) == ["scale=266:200:flags=bicubic", "crop=200:200:66:0", "setsar=1"]


def test_fill_stretches() -> None:
    geom = fit_geometry(320, 240, 100, 300, "fill")
    assert ffmpeg_filters(geom) == ["scale=100:300:flags=bicubic", "setsar=1"]


def test_same_size_needs_no_filter() -> None:
    assert ffmpeg_filters(fit_geometry(320, 240, even=True)) == []


# --- limits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(4096, 4096), (8192, 2048), (3840, 2160), (8192, 16), (1, 1)])
def test_frames_within_the_limit_pass(size: tuple[int, int]) -> None:
    refuse_oversized(*size, LIMIT)


def test_an_upscale_past_the_pixel_limit_names_the_size_and_the_setting() -> None:
    geom = fit_geometry(160, 120, 8192, 8192, even=True)  # the upscaling bomb: contain pads to the whole box
    with pytest.raises(ProcessingError) as caught:
        refuse_oversized(geom.out_w, geom.out_h, LIMIT)
    assert caught.value.kind == "resolution_too_large"
    assert "8192x8192" in caught.value.message
    assert "16777216 pixels" in caught.value.message and "MEDIAJET_MAX_OUTPUT_PIXELS" in caught.value.message


def test_a_side_past_the_dimension_limit_is_refused_whatever_the_pixel_count() -> None:
    with pytest.raises(ProcessingError) as caught:
        refuse_oversized(16384, 16, LIMIT, "the top rendition")
    assert caught.value.kind == "resolution_too_large"
    assert caught.value.message.startswith("the top rendition would be 16384x16;")
    assert "8192 px per side (MEDIAJET_MAX_DIMENSION)" in caught.value.message
