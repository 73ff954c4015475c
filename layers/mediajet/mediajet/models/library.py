"""The media library's records (version 2025-08-20, spec §6.4-§6.6), as the stores keep them.

- `LibraryFile` (`file_…`): one stored file (an ingest, an upload, a task's result), always in a media item.
  `uri` is where its bytes are (a BlobStore URI, signed into `url` when read); `task_id` names the task
  that fills it in while it is `processing`.
- `Media` (`med_…`): a container of files; kind, size and duration read from its original file.
  `announced` records that `media.created` has fired, so automations run once per media item.
- `Automation` (`auto_…`): `media.created` → `workflow` (validated steps, library/workflow.py).

Times are Unix ms like every record; the wire formats turn them into ISO strings.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from mediajet.ids import new_id, now_ms
from mediajet.models.file import Codecs, MediaKind

FileStatus = Literal["waiting", "processing", "ready", "failed"]
Scalar = str | int | float | bool | None


class LibraryRecord(BaseModel):
    """What the library store needs of every record: id, project, optimistic version, times."""

    model_config = ConfigDict(extra="ignore")
    record_type: ClassVar[str]

    id: str
    project_id: str
    created_at: int = Field(default_factory=now_ms)
    updated_at: int = Field(default_factory=now_ms)
    version: int = 0

    def touched(self, **changes: Any) -> Any:
        return self.model_copy(update={**changes, "updated_at": now_ms()})


class LibraryFile(LibraryRecord):
    record_type: ClassVar[str] = "file"

    id: str = Field(default_factory=lambda: new_id("file"))
    media_id: str
    object: Literal["source", "track", "intelligence"] = "source"
    kind: MediaKind | None = None
    format: str | None = None
    codecs: Codecs | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None
    filesize: int = 0
    bitrate: int | None = None
    uri: str | None = None
    source_url: str | None = None  # what an ingest fetches: the file's url until its own copy is stored
    ref: str | None = None
    folder: str | None = None
    filename: str | None = None
    metadata: dict[str, Scalar] = Field(default_factory=dict)
    original: bool = False
    status: FileStatus = "ready"
    error: str | None = None
    task_id: str | None = None  # the task that creates (or created) this file


class Media(LibraryRecord):
    record_type: ClassVar[str] = "media"

    id: str = Field(default_factory=lambda: new_id("med"))
    title: str | None = None
    alt: str | None = None
    metadata: dict[str, Scalar] = Field(default_factory=dict)
    announced: bool = False  # media.created has fired for it (its automations started)


class Automation(LibraryRecord):
    record_type: ClassVar[str] = "automation"

    id: str = Field(default_factory=lambda: new_id("auto"))
    name: str | None = None
    description: str | None = None
    trigger: dict[str, Any] = Field(default_factory=lambda: {"kind": "event", "event": "media.created"})
    workflow: list[dict[str, Any]] = Field(default_factory=list)
    status: Literal["active", "paused"] = "active"


RECORD_TYPES: dict[str, type[LibraryRecord]] = {cls.record_type: cls for cls in (LibraryFile, Media, Automation)}
