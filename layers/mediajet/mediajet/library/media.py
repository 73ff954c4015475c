"""Media items: created with their first file (or empty, by POST /media), deleted with their files."""

from __future__ import annotations

import logging
from collections.abc import Callable

from mediajet.errors import MediaJetError
from mediajet.models.library import LibraryFile, Media
from mediajet.store.library import LibraryStore

log = logging.getLogger("mediajet.library")


def original(files: list[LibraryFile]) -> LibraryFile | None:
    """The file a media item reads its kind, size and duration from: the original, else its first."""
    return next((f for f in files if f.original), files[0] if files else None)


def delete_with_files(store: LibraryStore, media: Media, delete_bytes: Callable[[str], None] | None) -> None:
    """The media item, each of its files and their stored bytes (when this server can delete them)."""
    for file in store.media_files(media.project_id, media.id):
        delete_file(store, file, delete_bytes)
    store.delete_record(Media, media.id, media.project_id)


def delete_file(store: LibraryStore, file: LibraryFile, delete_bytes: Callable[[str], None] | None) -> None:
    store.delete_record(LibraryFile, file.id, file.project_id)
    if file.uri and delete_bytes is not None:
        try:
            delete_bytes(file.uri)
        except (OSError, MediaJetError):  # the record is gone; bytes left behind are logged, not a 500
            log.exception("could not delete the stored bytes of %s at %s", file.id, file.uri)
