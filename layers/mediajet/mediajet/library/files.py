"""Files: a task's result becomes a file of the library (the same id suffix: `task_<x>` makes `file_<x>`; a
job's, `job_<x>` makes `file_<x>`, in a media item of its own),
in the media item the task names (`media_id` in its options), or the one its input file belongs to, or a new
media item. A new media item's first ready file fires `media.created` (library/automations.py)."""

from __future__ import annotations

import logging
from typing import Any

from mediajet.errors import NotFound, StaleWrite
from mediajet.library import LibraryContext, automations
from mediajet.models.file import File
from mediajet.models.job import Job, Task
from mediajet.models.library import LibraryFile, Media
from mediajet.store.library import LibraryStore

log = logging.getLogger("mediajet.library")

TASK_PREFIX, FILE_PREFIX = "task_", "file_"
MEDIA_KINDS = ("import", "video", "image", "audio")  # tasks whose output is a media file
LABELS = ("ref", "folder", "filename")


def file_id_for(task_id: str) -> str:
    return FILE_PREFIX + task_id[len(TASK_PREFIX):]


def probed(source: File) -> dict[str, Any]:
    """The fields of a probed File a library file keeps (its `url` becomes the file's `uri`)."""
    return {"kind": source.kind, "format": source.format, "codecs": source.codecs, "width": source.width,
            "height": source.height, "duration": source.duration, "fps": source.fps,
            "filesize": source.filesize or 0, "bitrate": source.bitrate, "uri": source.url}


def task_finished(lib: LibraryContext, task: Task) -> LibraryFile | None:
    """Record a finished standalone task's result in the library; then fire `media.created` for a new media
    item, or start the automation steps chained after this task. None: the task makes no media file."""
    if task.job_id is not None or task.kind not in MEDIA_KINDS:
        return None
    store = lib.store
    try:
        pending: LibraryFile | None = store.get_record(LibraryFile, file_id_for(task.id), task.project_id)
    except NotFound:
        pending = None
    if task.status != "succeeded" or not isinstance(task.output, dict):
        if pending is not None:
            _save(store, pending, status="failed", error=task.error.message if task.error else "the task failed")
        return None
    output = File.model_validate(task.output)
    if pending is not None:
        file = _save(store, pending, status="ready", error=None, **probed(output))
    else:
        media = _media_for(store, task)
        labels = {name: task.options.get(name) for name in LABELS if isinstance(task.options.get(name), str)}
        file = store.create_record(LibraryFile(id=file_id_for(task.id), project_id=task.project_id, media_id=media.id,
                                               original=not task.options.get("automation_id") and _is_new(store, media),
                                               task_id=task.id, **labels, **probed(output)))
    automations.file_ready(lib, file, task)
    return file


def job_finished(store: LibraryStore, job: Job) -> LibraryFile | None:
    """A succeeded job's result, filed in a media item of its own (`job_<x>` makes `file_<x>`), so GET /files
    lists what every API generation made. It is no new upload: `media.created` does not fire for it."""
    export = job.tasks[-1] if job.tasks else None
    if job.status != "succeeded" or export is None or not isinstance(export.output, dict):
        return None
    file_id = FILE_PREFIX + job.id.split("_", 1)[-1]
    try:
        return store.get_record(LibraryFile, file_id, job.project_id)  # finalize ran twice (a retry)
    except NotFound:
        pass
    media = store.create_record(Media(project_id=job.project_id, announced=True, metadata=_scalars(job.metadata)))
    return store.create_record(LibraryFile(id=file_id, project_id=job.project_id, media_id=media.id, original=True,
                                           metadata=_scalars(job.metadata), **probed(File.model_validate(export.output))))


def _scalars(metadata: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (metadata or {}).items() if v is None or isinstance(v, str | int | float | bool)}


def _media_for(store: LibraryStore, task: Task) -> Media:
    wanted = task.options.get("media_id")
    source = (task.input or {}).get("id")
    for media_id in (wanted, _media_of_file(store, task.project_id, source)):
        if isinstance(media_id, str):
            try:
                return store.get_record(Media, media_id, task.project_id)
            except NotFound:
                continue
    return store.create_record(Media(project_id=task.project_id))


def _media_of_file(store: LibraryStore, project_id: str, file_id: Any) -> str | None:
    if not isinstance(file_id, str) or not file_id.startswith(FILE_PREFIX):
        return None
    try:
        return store.get_record(LibraryFile, file_id, project_id).media_id
    except NotFound:
        return None


def _is_new(store: LibraryStore, media: Media) -> bool:
    return not media.announced and not store.media_files(media.project_id, media.id)


def _save(store: LibraryStore, file: LibraryFile, **changes: Any) -> LibraryFile:
    for _ in range(10):
        try:
            return store.save_record(file.touched(**changes))
        except StaleWrite:
            file = store.get_record(LibraryFile, file.id, file.project_id)
    raise StaleWrite(f"file {file.id} kept changing")
