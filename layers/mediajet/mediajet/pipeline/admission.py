"""Refuse at probe what this deployment cannot finish, before any paid encode starts.

Size: every frame a job makes (its output, or for HLS the frame its renditions are cut from when it
resizes, and the top rendition) must fit the output limits, else `resolution_too_large`: each side at
most `max_dimension`; an encoder's frame (video, animation, HLS) at most `max_output_pixels` (and never
more than `max_pixels`); a still image, which Pillow makes at a fixed cost per pixel, `max_pixels`, the
same as its input. The input's own limits are checked before this (pipeline/transfer.py).

Time: one encode runs for at most `step_timeout_s` (900 s on Lambda). An input is refused with
`duration_too_long` when its slowest encode would not fit in that: the single pass for inputs that
are not cut into chunks, else one chunk (and a sound that is not AAC, which is encoded once, whole;
AAC is cut with the chunks). The estimate is
output pixels × frames over the encoder's measured throughput (BENCHMARKS.md, "Encoder throughput"),
scaled by `encode_speed`: how many of the reference machine's 2 cores the encoder has (its own core
count / 2 by default; the CDK app sets it from the encode functions' memory).
"""

from __future__ import annotations

import math
import os

from mediajet.errors import ProcessingError
from mediajet.media.plans.chunked import sound_is_aac
from mediajet.media.plans.hls import SEGMENT_SECONDS, renditions_for
from mediajet.media.sizing import Geometry, fit_geometry, output_limit, refuse_oversized
from mediajet.models.file import File
from mediajet.models.options import (
    AdaptiveOptions,
    AnimationOptions,
    ImageOptions,
    MediaOptions,
    VideoOptions,
)
from mediajet.pipeline.chunked import chunk_length, requested_length, wants_chunks
from mediajet.settings import Settings

# Megapixels per second one encode reaches on the reference machine (2 x86_64 cores), at each codec's
# speed setting (media/plans/video.py SPEED): about half of what BENCHMARKS.md "Encoder throughput"
# measured on grainy 1080p30 (57/34/28/57), as runs on a shared machine measured down to 60 % of that.
REFERENCE_MPX_PER_S = {"h264": 35.0, "h265": 15.0, "vp9": 12.0, "av1": 35.0}
AUDIO_REALTIME = 100.0  # seconds of sound encoded per second (mp3/aac/opus/vorbis/flac: 150-900x measured)
SAFETY = 0.6  # use at most this share of the step's time: footage varies, machines are shared
MAX_CHUNKS = 10_000  # a Distributed Map's items are unlimited; this keeps the plan file small
# What probe calls the containers media/chunking.py can cut (mov/mp4 and Matroska families).
CUTTABLE_FORMATS = {"mp4", "mov", "m4a", "3gp", "3g2", "mkv", "webm"}


def encode_speed(settings: Settings) -> float:
    return settings.encode_speed or max(1.0, (os.cpu_count() or 2) / 2)


def admit(kind: str, options: MediaOptions, source: File, settings: Settings, *, may_chunk: bool) -> None:
    """Raise `resolution_too_large` when a frame of the output is over the limits, `duration_too_long`
    when the longest single encode of this job would not finish."""
    check_output_size(kind, options, source, settings)
    length = requested_length(options, source)
    if not length:
        return
    budget = settings.step_timeout_s * SAFETY
    speed = encode_speed(settings)
    sound = length / (AUDIO_REALTIME * speed) if source.has_audio else 0.0
    if kind not in ("video", "adaptive_video") or not source.has_video or source.kind != "video":
        if kind == "audio" and sound > budget:
            _refuse(length, budget * AUDIO_REALTIME * speed, "of sound")
        return
    assert isinstance(options, VideoOptions | AdaptiveOptions)
    if not (source.width and source.height):
        return  # the encode refuses it with its own reason
    per_second = _cost_per_second(options, source) / speed
    chunked = may_chunk and _chunkable(kind, source, settings)
    if chunked:
        seconds = chunk_length(settings, length, SEGMENT_SECONDS if kind == "adaptive_video" else None)
        chunks = math.ceil(length / seconds)
        if chunks > MAX_CHUNKS:
            _refuse(length, MAX_CHUNKS * seconds, "in chunks")
        longest_chunk = seconds * 1.5  # a short tail joins the last chunk
        if longest_chunk * per_second > budget:
            raise ProcessingError(
                f"one {seconds:g} s chunk of this input at this size and codec takes longer than "
                f"an encode may run ({settings.step_timeout_s:.0f} s); lower MEDIAJET_CHUNK_SECONDS, the size "
                "or the codec's cost", kind="duration_too_long")
        if sound > budget and not sound_is_aac(options, source):
            _refuse(length, budget * AUDIO_REALTIME * speed, "of sound")
    elif length * per_second > budget:
        _refuse(length, budget / per_second, "in one pass at this size and codec")


def check_output_size(kind: str, options: MediaOptions, source: File, settings: Settings) -> None:
    limit = output_limit(kind, settings)
    for what, frame in planned_frames(kind, options, source):
        refuse_oversized(frame.out_w, frame.out_h, limit, what)


def planned_frames(kind: str, options: MediaOptions, source: File) -> list[tuple[str, Geometry]]:
    """The frames this job would make that may be larger than its input, with what to call them."""
    if not (source.width and source.height) or kind == "audio":
        return []
    if isinstance(options, AdaptiveOptions):
        if not source.has_video or source.kind == "audio":
            return []
        geometry, renditions = renditions_for(options, source)
        top = renditions[0]
        frames = [("the top rendition", Geometry(top.width, top.height, top.width, top.height))]
        return [("the resized picture", geometry), *frames] if geometry.resizes else frames
    assert isinstance(options, VideoOptions | ImageOptions | AnimationOptions)
    frame = fit_geometry(source.width, source.height, options.width, options.height, options.effective_fit,
                         options.position, even=isinstance(options, VideoOptions))
    return [("the output", frame)]


def _refuse(length: float, limit: float, how: str) -> None:
    raise ProcessingError(
        f"the input lasts {length:.0f} s; this deployment can encode about {limit:.0f} s {how} "
        "within one step's time limit; send a shorter input (or trim it with start/end) or a smaller size",
        kind="duration_too_long")


def _chunkable(kind: str, source: File, settings: Settings) -> bool:
    """Whether the encode step will cut it (it still falls back to one pass without clean keyframes)."""
    return wants_chunks(settings, kind, source) and (source.format or "") in CUTTABLE_FORMATS


def _cost_per_second(options: VideoOptions | AdaptiveOptions, source: File) -> float:
    """Seconds of reference-machine encoding per second of input."""
    fps = (options.fps if isinstance(options, VideoOptions) and options.fps else source.fps) or 30.0
    if isinstance(options, AdaptiveOptions):
        _, renditions = renditions_for(options, source)
        pixels = sum(r.width * r.height for r in renditions)
        return pixels * fps / 1e6 / REFERENCE_MPX_PER_S["h264"]
    geometry = fit_geometry(source.width or 0, source.height or 0, options.width, options.height,
                            options.effective_fit, options.position, even=True)
    return geometry.out_w * geometry.out_h * fps / 1e6 / REFERENCE_MPX_PER_S[options.video_codec]

