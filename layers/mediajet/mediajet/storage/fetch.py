"""Fetching a job's input to local disk: the one door through which strangers' URLs enter.

http(s) goes through the address policy (storage.ssrf) and pinned connections (storage.http_fetch);
s3:// uses MediaJet's own credentials (storage.s3_fetch); file:// and plain paths exist only for
the local CLI, which runs as the user on the user's files. Every other scheme is refused.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from mediajet.errors import ProcessingError
from mediajet.settings import Settings
from mediajet.storage.fetch_result import FetchResult, display_url, remove_partial, too_large

HTTP_SCHEMES = ("http", "https")  # (http_fetch.py, ssl and the S3 code load only for such inputs: issue 15)

__all__ = ["FetchResult", "fetch"]

log = logging.getLogger(__name__)

_private_warning_logged = False


def fetch(url: str, dest: Path, *, settings: Settings, s3_client: Any = None,
          allow_local: bool = False) -> FetchResult:
    """Copy the input at `url` to `dest`, streamed, within `settings`' limits.

    Raises ProcessingError (kinds invalid_input, input_forbidden, input_unreachable, input_too_large)
    or TransientError(kind="input_unreachable") for failures worth retrying. On any error `dest`
    does not exist afterwards.
    """
    scheme = _scheme_of(url)
    if scheme in HTTP_SCHEMES:
        from mediajet.storage.http_fetch import fetch_http

        warn_if_private_allowed(settings)
        dest.parent.mkdir(parents=True, exist_ok=True)
        return fetch_http(url, dest, settings=settings)
    if scheme == "s3":
        from mediajet.storage.s3_fetch import fetch_s3

        dest.parent.mkdir(parents=True, exist_ok=True)
        return fetch_s3(url, dest, settings=settings, s3_client=s3_client)
    if allow_local and scheme in ("file", ""):
        source = _local_path(url, scheme)
        dest.parent.mkdir(parents=True, exist_ok=True)
        return fetch_local(source, dest, settings=settings)
    allowed = "http://, https://, s3://" + (", file:// or a path" if allow_local else "")
    raise ProcessingError(
        f"the input URL {display_url(url)} uses {f'{scheme}://' if scheme else 'no scheme'}; "
        f"inputs must be {allowed} URLs",
        kind="invalid_input",
    )


def fetch_local(source: Path, dest: Path, *, settings: Settings) -> FetchResult:
    """Hard-link `source` to `dest` when both are on one file system (no bytes copied), else copy."""
    try:
        size = source.stat().st_size
    except FileNotFoundError as exc:
        raise ProcessingError(f"the input file {source} does not exist", kind="input_unreachable") from exc
    except OSError as exc:
        raise ProcessingError(f"cannot read the input file {source}: {exc.strerror or exc}",
                              kind="input_unreachable") from exc
    if source.is_dir():
        raise ProcessingError(f"the input {source} is a directory, not a file", kind="input_unreachable")
    if size > settings.max_input_bytes:
        raise too_large(size, settings.max_input_bytes, where=str(source))
    remove_partial(dest)
    try:
        try:
            os.link(source, dest)
        except OSError:  # another file system, or one without hard links
            shutil.copyfile(source, dest)
    except OSError as exc:
        remove_partial(dest)
        raise ProcessingError(f"cannot read the input file {source}: {exc.strerror or exc}",
                              kind="input_unreachable") from exc
    return FetchResult(path=dest, size=size, content_type=mimetypes.guess_type(source.name)[0],
                       final_url=source.as_uri())


def _scheme_of(url: str) -> str:
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError as exc:  # e.g. an unclosed or invalid [IPv6] host
        raise ProcessingError(f"the input URL is not valid: {exc}", kind="invalid_input") from exc
    return "" if len(scheme) == 1 else scheme  # "C:\\clip.mp4" is a Windows path, not a URL


def _local_path(url: str, scheme: str) -> Path:
    if scheme == "":
        return Path(url.strip()).expanduser().resolve()
    parts = urlsplit(url.strip())
    if parts.netloc not in ("", "localhost"):
        raise ProcessingError(f"the input URL {url} names another machine ({parts.netloc}); "
                              "file:// URLs must be local", kind="invalid_input")
    return Path(unquote(parts.path)).resolve()


def warn_if_private_allowed(settings: Settings) -> None:
    global _private_warning_logged
    if settings.allow_private_urls and not _private_warning_logged:
        _private_warning_logged = True
        log.warning("MEDIAJET_ALLOW_PRIVATE_URLS is on: the input address check is off, so job inputs "
                    "may reach loopback, private and cloud metadata addresses")
