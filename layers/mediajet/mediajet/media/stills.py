"""The Pillow half of stills and animated WebP.

The static ffmpeg has no PNG codec and no WebP/AVIF encoder, so every still is decoded and encoded
here; video frames arrive from ffmpeg as PPM (one frame) or raw RGB(A) (an animation).

Untrusted input: only the formats in `READABLE` are opened (no EPS/PDF and their ghostscript
subprocess), the declared pixel count is checked against `Settings.max_pixels`/`max_dimension`
before anything is decoded, and metadata (EXIF, GPS, XMP) is dropped from outputs; the ICC profile
is kept because colours depend on it.

Quality per level: `STILL_QUALITY` in `mediajet.media.plans.common`, the one quality table (README's
"Quality levels" is checked against it by tests/unit/test_quality_table.py). PNG is lossless at every
level (zlib level `PNG_COMPRESS_LEVEL`): quality never changes its pixels. Animated WebP uses the
WebP column.

The size limits come in as `settings` (the step's `ctx.settings`, through the image plan or probe).
"""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from mediajet.errors import ProcessingError
from mediajet.media.plans.common import PNG_COMPRESS_LEVEL, STILL_QUALITY
from mediajet.media.sizing import Geometry, fit_geometry
from mediajet.settings import Settings

WEBP_METHOD = 4  # libwebp effort 0-6: 4 is its own default balance of speed and size
AVIF_SPEED = 6  # libavif 0-10: Pillow's default
ALPHA_FORMATS = frozenset({"png", "webp", "avif"})
READABLE = ("JPEG", "PNG", "WEBP", "AVIF", "GIF", "BMP", "TIFF", "PPM")
BLACK = (0, 0, 0, 255)
TRANSPARENT = (0, 0, 0, 0)
_SWAPS_SIDES = frozenset({5, 6, 7, 8})  # EXIF orientations that rotate by 90 degrees
_ORIENTATION_TAG = 0x0112

RGBA = tuple[int, int, int, int]


# --- opening ------------------------------------------------------------------------------------


def open_image(path: Path, settings: Settings) -> Image.Image:
    """Open an image file lazily (header only) after checking it is a readable, reasonably sized
    format. Decode it with `decode`."""
    guard_pixels(settings)
    try:
        return _checked(Image.open(path, formats=READABLE), settings)
    except ProcessingError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large("the image declares more pixels than can be decoded safely", settings) from exc
    except UnidentifiedImageError as exc:
        raise ProcessingError(
            "the input is not an image this service can read; send JPEG, PNG, WebP, AVIF, GIF, BMP or TIFF",
            kind="unsupported_media",
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _unreadable(exc) from exc


def open_frame(data: bytes, settings: Settings) -> Image.Image:
    """A PPM frame that ffmpeg wrote to its stdout."""
    if not data:
        raise ProcessingError("ffmpeg produced no frame", kind="encode_failed")
    guard_pixels(settings)
    try:
        return _checked(Image.open(io.BytesIO(data), formats=("PPM",)), settings)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ProcessingError(f"ffmpeg produced an unreadable frame: {exc}", kind="encode_failed") from exc


def guard_pixels(settings: Settings) -> None:
    """Before any Image.open of user data. Pillow's own check in Image.open (a warning above the limit,
    an error above twice the limit) stops bombs before an explicit check even sees the header."""
    Image.MAX_IMAGE_PIXELS = settings.max_pixels


def _checked(image: Image.Image, settings: Settings) -> Image.Image:
    width, height = image.size
    if width * height > settings.max_pixels or max(width, height) > settings.max_dimension:
        image.close()
        raise _too_large(f"the image is {width}x{height}", settings)
    return image


def _too_large(detail: str, settings: Settings) -> ProcessingError:
    return ProcessingError(
        f"{detail}; the limit is {settings.max_dimension} px per side and {settings.max_pixels} pixels. "
        "Resize the image before sending it.",
        kind="resolution_too_large",
    )


def _unreadable(exc: BaseException) -> ProcessingError:
    return ProcessingError(
        f"the image could not be decoded ({exc}); it may be truncated or corrupt", kind="unsupported_media"
    )


def upright_size(image: Image.Image) -> tuple[int, int]:
    """Width and height as the picture is meant to be seen (after its EXIF orientation)."""
    width, height = image.size
    return (height, width) if _orientation(image) in _SWAPS_SIDES else (width, height)


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_ORIENTATION_TAG, 1))
    except (ValueError, TypeError, KeyError, OSError, SyntaxError, struct.error):  # broken EXIF: ignore it
        return 1


def decode(image: Image.Image, settings: Settings, *, at_least: tuple[int, int] | None = None) -> Image.Image:
    """Decode to an upright RGB or RGBA image. `at_least` (upright size) lets a JPEG decode at a
    reduced scale when the output is much smaller: less memory and time for big photos."""
    try:
        if at_least and image.format == "JPEG":
            wanted = at_least[::-1] if _orientation(image) in _SWAPS_SIDES else at_least
            image.draft(None, wanted)
        image.load()
        upright = ImageOps.exif_transpose(image)
        if upright.mode.startswith("I"):
            # 16-bit greyscale: Pillow's direct conversion clips to white instead of scaling
            upright = upright.convert("I").point(lambda value: value / 256).convert("L")
        if upright.mode not in ("RGB", "RGBA"):
            upright = upright.convert("RGBA" if upright.has_transparency_data else "RGB")
        icc = image.info.get("icc_profile")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large("the image declares more pixels than can be decoded safely", settings) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _unreadable(exc) from exc
    finally:
        image.close()
    upright.info = {"icc_profile": icc} if icc else {}
    return upright


# --- geometry -----------------------------------------------------------------------------------


def parse_color(background: str | None, fmt: str) -> RGBA:
    """`#RGB`, `#RRGGBB` or `#RRGGBBAA` → RGBA. Unset: transparent where the format has alpha, else black."""
    if not background:
        return TRANSPARENT if fmt in ALPHA_FORMATS else BLACK
    hexpart = background.lstrip("#")
    if len(hexpart) == 3:
        hexpart = "".join(c * 2 for c in hexpart)
    if len(hexpart) == 6:
        hexpart += "ff"
    r, g, b, a = (int(hexpart[i:i + 2], 16) for i in range(0, 8, 2))
    return (r, g, b, a)


def geometry(size: tuple[int, int], width: int | str | None, height: int | str | None, fit: str | None,
             position: str) -> Geometry:
    """The same rules as video (sizing.fit_geometry), without the even-number rounding video needs."""
    return fit_geometry(size[0], size[1], width, height, fit, position)


def apply(image: Image.Image, geom: Geometry, background: RGBA) -> Image.Image:
    """Scale, then crop (cover) or pad (contain) to the geometry's frame."""
    if (image.width, image.height) != (geom.scale_w, geom.scale_h):
        image = image.resize((geom.scale_w, geom.scale_h), Image.Resampling.LANCZOS, reducing_gap=3.0)
    if geom.mode == "cover":
        image = image.crop((geom.x, geom.y, geom.x + geom.out_w, geom.y + geom.out_h))
    elif geom.mode == "contain" and (geom.scale_w, geom.scale_h) != (geom.out_w, geom.out_h):
        mode = "RGBA" if image.mode == "RGBA" or background[3] < 255 else "RGB"
        canvas = Image.new(mode, (geom.out_w, geom.out_h), background if mode == "RGBA" else background[:3])
        canvas.paste(image, (geom.x, geom.y))
        canvas.info = image.info
        image = canvas
    return image


# --- encoding -----------------------------------------------------------------------------------


def save(image: Image.Image, path: Path, fmt: str, level: str, *, background: RGBA = BLACK) -> None:
    """Encode one still. JPEG has no alpha: transparent pixels are laid over `background`."""
    icc = image.info.get("icc_profile")
    extra: dict[str, object] = {"icc_profile": icc} if icc else {}
    if fmt == "jpeg":
        image = _flatten(image, background)
        image.save(path, "JPEG", quality=STILL_QUALITY["jpeg"][level], optimize=True, **extra)
    elif fmt == "png":
        image.save(path, "PNG", compress_level=PNG_COMPRESS_LEVEL, **extra)
    elif fmt == "webp":
        image.save(path, "WEBP", quality=STILL_QUALITY["webp"][level], method=WEBP_METHOD, **extra)
    elif fmt == "avif":
        image.save(path, "AVIF", quality=STILL_QUALITY["avif"][level], speed=AVIF_SPEED, **extra)
    else:
        raise ValueError(f"no still encoder for {fmt!r}")


def _flatten(image: Image.Image, background: RGBA) -> Image.Image:
    if image.mode != "RGBA":
        return image
    flat = Image.new("RGB", image.size, background[:3])
    flat.paste(image, mask=image.getchannel("A"))
    flat.info = image.info
    return flat


def write_animated_webp(frames: Path, size: tuple[int, int], mode: str, out: Path, *, fps: float,
                        level: str) -> int:
    """Assemble an animated WebP (loops forever) from a file of back-to-back raw `mode` frames
    ("RGB" or "RGBA") of `size`. Frames are read one at a time, so memory holds one frame plus the
    compressed result. Returns the number of frames."""
    frame_bytes = size[0] * size[1] * len(mode)
    total = frames.stat().st_size
    if total == 0:
        raise ProcessingError("the video has no frames between start and end", kind="invalid_option")
    if total % frame_bytes:
        raise ProcessingError(
            f"ffmpeg produced frames of an unexpected size (wanted {size[0]}x{size[1]})", kind="encode_failed"
        )
    sequence = _RawFrames(frames, size, mode, total // frame_bytes)
    try:
        sequence.save(out, "WEBP", save_all=True, duration=1000 / fps, loop=0, background=TRANSPARENT,
                      quality=STILL_QUALITY["webp"][level], method=WEBP_METHOD)
    finally:
        sequence.close()
    return sequence.n_frames


class _RawFrames(ImageFile.ImageFile):
    """A multi-frame image over a raw frame file: seek(n) points the decoder at frame n, so
    Pillow's animated-WebP writer pulls frames one by one (the image-plugin protocol)."""

    format = "RAWFRAMES"
    format_description = "raw video frames"
    _close_exclusive_fp_after_loading = False  # the file stays open between frames

    def __init__(self, path: Path, size: tuple[int, int], mode: str, count: int) -> None:
        self._frame_size, self._frame_mode, self._count = size, mode, count
        self._frame = 0
        super().__init__(os.fspath(path))

    def _open(self) -> None:
        self._mode = self._frame_mode
        self._size = self._frame_size
        assert self.fp is not None
        # load() drops self.fp after each frame and seeking restores it; `_fp` is where Pillow's
        # multi-frame plugins keep it, so close() still closes the file.
        self._frames = self._fp = self.fp
        self._point_at(0)

    @property
    def n_frames(self) -> int:
        return self._count

    @property
    def is_animated(self) -> bool:
        return self._count > 1

    def seek(self, frame: int) -> None:
        if not self._seek_check(frame):
            return
        self._point_at(frame)

    def tell(self) -> int:
        return self._frame

    def _point_at(self, frame: int) -> None:
        width, height = self._frame_size
        offset = frame * width * height * len(self._frame_mode)
        self._frame = frame
        self.fp = self._frames
        self.tile = [ImageFile._Tile("raw", (0, 0, width, height), offset, (self._frame_mode, 0, 1))]
