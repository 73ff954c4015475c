"""What every input fetcher (http, s3, local file) returns, and the size-limit rule they share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from mediajet.errors import ProcessingError


@dataclass(frozen=True)
class FetchResult:
    path: Path  # the local copy, streamed to disk
    size: int  # bytes written
    content_type: str | None  # as the source declared it; None when it did not
    final_url: str  # after redirects; for local files, a file:// URL


def human_bytes(count: int) -> str:
    """1536 -> "1.5 KiB": binary units, since the limits are set in powers of two."""
    if count < 1024:
        return f"{count} bytes"
    value = float(count)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


def too_large(size: int | None, limit: int, *, where: str) -> ProcessingError:
    """The input_too_large error; `size` is None when the body ran past the limit while streaming."""
    found = f"is {human_bytes(size)}" if size is not None else f"is larger than {human_bytes(limit)}"
    return ProcessingError(
        f"the input at {where} {found}; inputs may be at most {human_bytes(limit)} "
        "(MEDIAJET_MAX_INPUT_BYTES)",
        kind="input_too_large",
    )


def display_url(url: str) -> str:
    """The URL for messages and records: no userinfo and no query (presigned URLs carry secrets there)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def remove_partial(path: Path) -> None:
    """A failed fetch leaves nothing behind: a half-written input must never reach the encoder."""
    path.unlink(missing_ok=True)
