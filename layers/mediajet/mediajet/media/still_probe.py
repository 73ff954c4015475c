"""Stills described by Pillow alone, from their headers (Image.open does not decode): sizes as shown (EXIF
orientation applied), the format and codec, frames. media/probe.py uses it instead of ffprobe for the formats
it recognises by their first bytes, and for every still ffprobe finds (this ffmpeg build has no PNG decoder,
sees one tile of an AVIF grid, and ignores EXIF orientation)."""

from __future__ import annotations

from pathlib import Path

from mediajet.errors import ProcessingError
from mediajet.media.inputs import Readable
from mediajet.models.file import Codecs, File
from mediajet.settings import Settings

# Pillow format → (format, codec). MPO is how Pillow names a camera JPEG carrying extra pictures.
PILLOW_FORMATS = {"PNG": ("png", "png"), "JPEG": ("jpeg", "mjpeg"), "MPO": ("jpeg", "mjpeg"),
                  "WEBP": ("webp", "webp"), "AVIF": ("avif", "av1"), "GIF": ("gif", "gif")}
CODECS = dict(PILLOW_FORMATS.values())  # format → codec
OPENERS = ["PNG", "JPEG", "WEBP", "AVIF", "GIF"]  # Pillow's JPEG opener also returns MPO files
EXIF_ORIENTATION = 0x0112
EXIF_QUARTER_TURNS = frozenset({5, 6, 7, 8})  # shown turned by 90° or 270°: the sides swap


def pillow_describes(source: Readable) -> bool:
    """JPEG, PNG, WebP and AVIF by their first bytes: for these ffprobe's answer always ends in Pillow's
    (media/probe.py hands every still to `describe`), so Pillow alone describes them, without a process
    (issue 15). GIF is left to ffprobe, which tells a one-frame GIF from an animation by its timing."""
    with source.open() as f:
        head = f.read(12)
    return (head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"))
            or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
            or (head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis")))


def describe(source: Readable, url: str, settings: Settings) -> File | None:
    """Header-only read with Pillow (Image.open does not decode); None when Pillow cannot read it."""
    from PIL import Image

    from mediajet.media.stills import guard_pixels

    guard_pixels(settings)
    try:
        with source.open() as f, Image.open(f, formats=OPENERS) as image:
            fmt, codec = PILLOW_FORMATS[str(image.format)]
            width, height = image.size
            frames = 1 if fmt == "jpeg" else int(getattr(image, "n_frames", 1) or 1)
            # PNG keeps EXIF after the pixels, so reading it would decode the image: skipped.
            if fmt != "png" and image.getexif().get(EXIF_ORIENTATION) in EXIF_QUARTER_TURNS:
                width, height = height, width
    except Image.DecompressionBombError as exc:
        raise ProcessingError(f"the image is too large to process safely ({exc})",
                              kind="resolution_too_large") from exc
    except Exception:  # noqa: BLE001 - any parser failure means "not an image we can read"
        return None
    return File(kind="image" if frames == 1 else "video", url=url, format=fmt, width=width, height=height,
                codecs=Codecs(video=codec), filesize=source.size)


def written(path: Path, fmt: str, size: tuple[int, int]) -> File:
    """What `describe` says of a still this process has just written at `path` (`size`, no EXIF orientation:
    media/stills.py writes none), without reading it back."""
    width, height = size
    return File(kind="image", url=path.as_uri(), format=fmt, width=width, height=height,
                codecs=Codecs(video=CODECS[fmt]), filesize=path.stat().st_size)
