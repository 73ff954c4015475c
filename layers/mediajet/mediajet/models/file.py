"""The File object probe produces (spec §1.10), plus filesize, fps and bitrate."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

MediaKind = Literal["video", "audio", "image"]


class Codecs(BaseModel):
    model_config = ConfigDict(extra="ignore")

    video: str | None = None
    audio: str | None = None


class File(BaseModel):
    """A media file. `external_file` is an unfetched URL input; `file` has been probed or produced."""

    model_config = ConfigDict(extra="ignore")

    object: Literal["file", "external_file"] = "file"
    kind: MediaKind | None = None
    url: str
    format: str | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    codecs: Codecs | None = None
    filesize: int | None = None
    fps: float | None = None
    bitrate: int | None = None

    @property
    def has_video(self) -> bool:
        return bool(self.codecs and self.codecs.video)

    @property
    def has_audio(self) -> bool:
        return bool(self.codecs and self.codecs.audio)
