"""Version 2025-08-20: the media library on the wire (spec §6.4 File, §6.5 Media, §6.6 Automation, §6.7
Signature). Times are ISO-8601 (`iso`), links are signed when read (`sign`), fields the record does not know
are left out rather than sent as null.

- A file's `url` is its signed, Range-capable download link; while an ingest is `processing` it is the URL
  being ingested (the only place its bytes are yet). `kind` and `type` come from the probe; before it, from
  the URL's extension (`type` is `application/octet-stream` when that says nothing).
- A media item's `kind`, `width`, `height` and `duration` are its original file's; `urls` maps `original` to
  the original's link and each other ready file's `ref` (or its id, when it has none) to its own.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from mediajet.api.present import link
from mediajet.api.wire.dated_common import iso
from mediajet.library.automations import orientation
from mediajet.library.media import original
from mediajet.models.library import Automation, LibraryFile, Media
from mediajet.models.mime import mime_type

Signer = Callable[[str], str]
MEDIA_FIELDS = ("kind", "width", "height", "duration")


def guessed_kind(url: str | None) -> str | None:
    """What a URL's extension says the file is (video, audio, image), before the probe knows."""
    if not url:
        return None
    guessed, _ = mimetypes.guess_type(posixpath.basename(urlsplit(url).path))
    major = (guessed or "").split("/", 1)[0]
    return major if major in ("video", "audio", "image") else None


def file_view(file: LibraryFile, sign: Signer, *, with_media: bool = True) -> dict[str, Any]:
    kind = file.kind or guessed_kind(file.source_url)
    ready_url = link(file.uri, sign) if file.uri else None
    codec = None
    if file.codecs is not None:
        codec = file.codecs.audio if kind == "audio" else file.codecs.video
    view: dict[str, Any] = {
        "id": file.id, "media_id": file.media_id if with_media else None, "object": file.object, "kind": kind,
        "type": mime_type(kind, file.format) if file.format else (mimetypes.guess_type(
            posixpath.basename(urlsplit(file.source_url or "").path))[0] or "application/octet-stream"),
        "codec": codec, "container": file.format if kind in ("video", "audio") else None,
        "width": file.width, "height": file.height, "orientation": orientation(file.width, file.height),
        "duration": file.duration, "fps": file.fps, "filesize": file.filesize, "bitrate": file.bitrate,
        "ref": file.ref, "folder": file.folder, "filename": file.filename,
        "url": ready_url or file.source_url or "", "metadata": dict(file.metadata), "original": file.original,
        "status": file.status, "error": file.error, "created": iso(file.created_at), "updated": iso(file.updated_at),
    }
    return {key: value for key, value in view.items() if value is not None}


def media_view(media: Media, files: list[LibraryFile], sign: Signer) -> dict[str, Any]:
    first = original(files)
    views = [file_view(f, sign, with_media=False) for f in files]
    urls = {(f.ref or f.id): v["url"] for f, v in zip(files, views, strict=True)
            if f.status == "ready" and (f.ref or f is not first)}  # the original is under "original" below
    if first is not None and first.status == "ready":
        urls["original"] = file_view(first, sign)["url"]
    view: dict[str, Any] = {"id": media.id, "object": "media",
                            **{name: getattr(first, name) for name in MEDIA_FIELDS if first is not None},
                            "title": media.title, "alt": media.alt, "files": views, "urls": urls,
                            "metadata": dict(media.metadata), "created": iso(media.created_at),
                            "updated": iso(media.updated_at)}
    return {key: value for key, value in view.items() if value is not None}


def automation_view(automation: Automation) -> dict[str, Any]:
    view = {"id": automation.id, "object": "automation", "name": automation.name,
            "description": automation.description, "trigger": automation.trigger, "workflow": automation.workflow,
            "status": automation.status, "created": iso(automation.created_at), "updated": iso(automation.updated_at)}
    return {key: value for key, value in view.items() if value is not None}
