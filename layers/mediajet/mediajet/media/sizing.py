"""Output geometry from width/height/fit/position (DESIGN.md "Sizes" and "fit"). Pure functions.

- `"50%"` is relative to the input; one dimension keeps the aspect ratio; neither keeps the input size.
- No upscaling beyond the input unless both dimensions are given.
- `contain` (default when both are given) fits inside the box and pads to it; `cover` fills the box
  and crops at `position`; `fill` stretches.
- `even=True` rounds every dimension to an even number (4:2:0 video).
- `refuse_oversized`: a frame over a `FrameLimit` is refused with `resolution_too_large` (an upscale
  is as costly as a large input: a 160x120 clip asked for 8192x8192 ran 110 s at 8.7 GB).
"""

from __future__ import annotations

from dataclasses import dataclass

from mediajet.errors import ProcessingError
from mediajet.settings import Settings

# (x, y) anchor of each position: 0 = left/top, 0.5 = centre, 1 = right/bottom.
ANCHORS: dict[str, tuple[float, float]] = {
    "center": (0.5, 0.5), "top": (0.5, 0.0), "bottom": (0.5, 1.0), "left": (0.0, 0.5), "right": (1.0, 0.5),
    "top_left": (0.0, 0.0), "top_right": (1.0, 0.0), "bottom_left": (0.0, 1.0), "bottom_right": (1.0, 1.0),
}


@dataclass(frozen=True)
class Geometry:
    scale_w: int  # the picture after scaling
    scale_h: int
    out_w: int  # the final frame
    out_h: int
    x: int = 0  # pad offset (contain) or crop offset (cover)
    y: int = 0
    mode: str = "scale"  # scale | contain | cover | fill
    src_w: int = 0
    src_h: int = 0

    @property
    def resizes(self) -> bool:
        return self.mode != "scale" or (self.out_w, self.out_h) != (self.src_w, self.src_h)


def _round(value: float, even: bool) -> int:
    if even:
        return max(2, round(value / 2) * 2)
    return max(1, round(value))


def _absolute(value: int | str | None, reference: int) -> float | None:
    if value is None:
        return None
    if isinstance(value, str) and value.endswith("%"):
        return reference * float(value[:-1]) / 100
    return float(value)


def fit_geometry(
    src_w: int,
    src_h: int,
    width: int | str | None = None,
    height: int | str | None = None,
    fit: str | None = None,
    position: str = "center",
    *,
    even: bool = False,
) -> Geometry:
    """Fit a `src_w`x`src_h` picture to the requested width/height/fit/position: the scaled size,
    the output frame and the crop or pad offset. `even` rounds to even sizes (what video needs)."""
    want_w = _absolute(width, src_w)
    want_h = _absolute(height, src_h)
    if want_w is None or want_h is None:
        if want_w is None and want_h is None:
            w, h = float(src_w), float(src_h)
        elif want_w is not None:
            w = min(want_w, src_w)
            h = w * src_h / src_w
        else:
            h = min(want_h or src_h, src_h)
            w = h * src_w / src_h
        rw, rh = _round(w, even), _round(h, even)
        return Geometry(rw, rh, rw, rh, src_w=src_w, src_h=src_h)

    box_w, box_h = _round(want_w, even), _round(want_h, even)
    mode = fit or "contain"
    if mode == "fill":
        return Geometry(box_w, box_h, box_w, box_h, mode="fill", src_w=src_w, src_h=src_h)
    ax, ay = ANCHORS.get(position, ANCHORS["center"])
    ratio = (min if mode == "contain" else max)(box_w / src_w, box_h / src_h)
    sw, sh = _round(src_w * ratio, even), _round(src_h * ratio, even)
    if mode == "contain":
        sw, sh = min(sw, box_w), min(sh, box_h)
        x, y = (box_w - sw) * ax, (box_h - sh) * ay
    else:
        sw, sh = max(sw, box_w), max(sh, box_h)
        x, y = (sw - box_w) * ax, (sh - box_h) * ay
    # Offsets stay even too, so chroma planes line up in 4:2:0.
    return Geometry(sw, sh, box_w, box_h, _round_offset(x, even), _round_offset(y, even), mode=mode,
                    src_w=src_w, src_h=src_h)


@dataclass(frozen=True)
class FrameLimit:
    max_dimension: int  # px per side
    max_pixels: int  # per frame
    setting: str  # the environment variable that raises `max_pixels`


def refuse_oversized(width: int, height: int, limit: FrameLimit, what: str = "the output") -> None:
    """Raise `resolution_too_large`, naming the limit and the size asked for, when a frame is over it."""
    if max(width, height) > limit.max_dimension:
        raise ProcessingError(
            f"{what} would be {width}x{height}; the limit is {limit.max_dimension} px per side "
            "(MEDIAJET_MAX_DIMENSION). Ask for a smaller width and height", kind="resolution_too_large")
    if width * height > limit.max_pixels:
        raise ProcessingError(
            f"{what} would be {width}x{height} ({width * height} pixels); the limit is {limit.max_pixels} "
            f"pixels per frame ({limit.setting}). Ask for a smaller width and height", kind="resolution_too_large")


def output_limit(kind: str, settings: Settings) -> FrameLimit:
    if kind == "image":
        return FrameLimit(settings.max_dimension, settings.max_pixels, "MEDIAJET_MAX_PIXELS")
    return FrameLimit(settings.max_dimension, min(settings.max_output_pixels, settings.max_pixels),
                      "MEDIAJET_MAX_OUTPUT_PIXELS")


def check_requested_size(kind: str, width: int | str | None, height: int | str | None, settings: Settings) -> None:
    """At create, what the options alone decide: both sides in pixels fix the frame whatever the fit,
    and one side past `max_dimension` is too large whatever the input. (Percentages and a single side
    never make the output larger than the input, whose limits probe checks.)"""
    limit = output_limit(kind, settings)
    if isinstance(width, int) and isinstance(height, int):
        refuse_oversized(width, height, limit)
    for side in (width, height):
        if isinstance(side, int) and side > limit.max_dimension:
            raise ProcessingError(f"the output would be {side} px on one side; the limit is {limit.max_dimension} "
                                  "px per side (MEDIAJET_MAX_DIMENSION)", kind="resolution_too_large")


def _round_offset(value: float, even: bool) -> int:
    return int(value // 2 * 2) if even else round(value)


def ffmpeg_color(background: str | None, default: str = "black") -> str:
    """`#RRGGBB[AA]` → ffmpeg colour syntax `0xRRGGBB[AA]`."""
    if not background:
        return default
    hexpart = background.lstrip("#")
    if len(hexpart) == 3:
        hexpart = "".join(c * 2 for c in hexpart)
    return "0x" + hexpart


def ffmpeg_filters(geom: Geometry, background: str | None = None, default_bg: str = "black") -> list[str]:
    """The scale/crop/pad filters for one geometry (empty when nothing changes)."""
    if not geom.resizes:
        return []
    filters = [f"scale={geom.scale_w}:{geom.scale_h}:flags=bicubic"]
    if geom.mode == "cover":
        filters.append(f"crop={geom.out_w}:{geom.out_h}:{geom.x}:{geom.y}")
    elif geom.mode == "contain" and (geom.scale_w, geom.scale_h) != (geom.out_w, geom.out_h):
        filters.append(f"pad={geom.out_w}:{geom.out_h}:{geom.x}:{geom.y}:color={ffmpeg_color(background, default_bg)}")
    filters.append("setsar=1")
    return filters
