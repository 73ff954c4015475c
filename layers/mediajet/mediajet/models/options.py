"""Per-kind options of spec §1.5, with the Ittybit error kinds attached to each rule.

Custom rules raise `PydanticCustomError(<kind>, ...)`; `validation.to_domain_error` turns the
first error into an `InvalidRequest` carrying that kind and the field at fault.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

Quality = Literal["very_low", "low", "medium", "high", "very_high", "auto"]
Fit = Literal["contain", "cover", "fill"]
Position = Literal[
    "center", "top", "bottom", "left", "right", "top_left", "top_right", "bottom_left", "bottom_right"
]
VideoFormat = Literal["mp4", "webm", "mov"]
VideoCodec = Literal["h264", "h265", "vp9", "av1"]
AudioFormat = Literal["mp3", "aac", "ogg", "opus", "wav", "flac"]
ImageFormat = Literal["jpeg", "png", "webp", "avif"]
AnimationFormat = Literal["gif", "webp"]
AdaptiveFormat = Literal["hls"]

# The only explicit container rule in the docs (spec §1.5.1).
CODEC_CONTAINERS: dict[str, tuple[str, ...]] = {
    "h264": ("mp4", "mov"),
    "h265": ("mp4", "mov"),
    "vp9": ("webm",),
    "av1": ("mp4", "webm"),
}
DEFAULT_CODEC: dict[str, str] = {"mp4": "h264", "mov": "h264", "webm": "vp9"}

MAX_PIXELS_SIDE = 16384
# `start`/`end` in seconds: no input may last longer than the default MEDIAJET_MAX_DURATION_S (6 h), so a
# time past it can only be a mistake (1e300 used to reach the encoder and fail the job as encode_failed).
MAX_TIME_S = 6 * 3600.0
# The shortest cut: below it an encoder gets no whole frame (a 1e-9 s audio clip failed as unsupported_media).
MIN_SPAN_S = 0.01
# fullmatch, ASCII digits only: `$` would let "#000000\n" through into ffmpeg's filter graph, and `\d`
# would accept other scripts' digits the sizing code does not read.
_PERCENT = re.compile(r"([0-9]{1,3}(?:\.[0-9]+)?)%")
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


def _dimension(value: Any) -> int | str:
    if isinstance(value, bool):
        raise PydanticCustomError("invalid_option", "must be a number of pixels or a percentage like \"50%\"")
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        pixels = int(value)
        if not 1 <= pixels <= MAX_PIXELS_SIDE:
            raise PydanticCustomError("invalid_option", f"must be between 1 and {MAX_PIXELS_SIDE} pixels")
        return pixels
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():
            return _dimension(int(text))
        match = _PERCENT.fullmatch(text)
        if match and 0 < float(match.group(1)) <= 100:
            return f"{match.group(1)}%"
    raise PydanticCustomError("invalid_option", "must be a number of pixels or a percentage like \"50%\" (1-100%)")


Dimension = Annotated[int | str, Field(json_schema_extra={"examples": [1280, "50%"]})]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    quality: Quality = "auto"
    start: float | None = Field(default=None, ge=0, le=MAX_TIME_S)
    end: float | None = Field(default=None, gt=0, le=MAX_TIME_S)

    @model_validator(mode="after")
    def _end_after_start(self) -> _Options:
        # the tolerance: 10.01 - 10 is 0.00999… in binary floating point
        if self.end is not None and self.end - (self.start or 0) < MIN_SPAN_S - 1e-9:
            raise PydanticCustomError("invalid_option", f"end must be at least {MIN_SPAN_S:g} s after start",
                                      {"field": "end"})
        return self

    @property
    def level(self) -> str:
        return "medium" if self.quality == "auto" else self.quality


class _Visual(_Options):
    width: Dimension | None = None
    height: Dimension | None = None
    fit: Fit | None = None
    position: Position = "center"
    background: str | None = None

    @field_validator("width", "height", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        return None if value is None else _dimension(value)

    @field_validator("background")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is not None and not _HEX.fullmatch(value):
            raise PydanticCustomError("invalid_option", "must be a hex colour: #rgb, #rrggbb or #rrggbbaa, "
                                      "such as \"#000000\"")
        return value

    @model_validator(mode="after")
    def _background_needs_contain(self) -> _Visual:
        if self.background is not None and self.effective_fit != "contain":
            raise PydanticCustomError(
                "invalid_option", "background is only valid with fit: contain", {"field": "background"}
            )
        return self

    @property
    def effective_fit(self) -> str | None:
        """`contain` is the default when both sizes are given (DESIGN.md)."""
        if self.fit:
            return self.fit
        return "contain" if self.width is not None and self.height is not None else None


class VideoOptions(_Visual):
    format: VideoFormat = "mp4"
    codec: VideoCodec | None = None
    fps: float | None = Field(default=None, ge=1, le=60)
    bitrate: int | None = Field(default=None, ge=300_000, le=60_000_000)
    mute: bool = False

    @model_validator(mode="after")
    def _codec_fits_container(self) -> VideoOptions:
        if self.codec and self.format not in CODEC_CONTAINERS[self.codec]:
            allowed = ", ".join(CODEC_CONTAINERS[self.codec])
            raise PydanticCustomError(
                "invalid_codec",
                f"codec {self.codec} cannot go in {self.format}; use one of: {allowed}",
                {"field": "codec"},
            )
        return self

    @property
    def video_codec(self) -> str:
        return self.codec or DEFAULT_CODEC[self.format]


class AudioOptions(_Options):
    format: AudioFormat = "mp3"
    bitrate: int | None = Field(default=None, ge=32_000, le=320_000)


class ImageOptions(_Visual):
    format: ImageFormat | None = None  # None: same as the input when it is an image, else jpeg
    end: None = None  # an image is one frame: only `start` applies


class AnimationOptions(_Visual):
    format: AnimationFormat = "gif"
    fps: float = Field(default=10, ge=1, le=60)
    end: float | None = Field(default=None, gt=0, le=MAX_TIME_S)

    @model_validator(mode="after")
    def _end_required(self) -> AnimationOptions:
        if self.end is None:
            raise PydanticCustomError(
                "end_required", "animation needs an end time in seconds (options.end)", {"field": "end"}
            )
        return self


class AdaptiveOptions(_Visual):
    format: AdaptiveFormat = "hls"
    mute: bool = False


OPTIONS_BY_KIND: dict[str, type[_Options]] = {
    "video": VideoOptions,
    "audio": AudioOptions,
    "image": ImageOptions,
    "animation": AnimationOptions,
    "adaptive_video": AdaptiveOptions,
}
MediaOptions = VideoOptions | AudioOptions | ImageOptions | AnimationOptions | AdaptiveOptions
