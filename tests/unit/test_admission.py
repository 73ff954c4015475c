"""Admission: an input this deployment cannot finish is refused at probe, before any encode is paid for."""

from __future__ import annotations

import pytest

from mediajet.errors import ProcessingError
from mediajet.models.file import Codecs, File
from mediajet.models.options import AdaptiveOptions, AudioOptions, VideoOptions
from mediajet.pipeline.admission import admit
from mediajet.settings import Settings

HOUR = 3600.0
LAMBDA = Settings(step_timeout_s=900, encode_speed=2.4, chunk_min_duration=60, chunk_seconds=30)


def film(seconds: float, fmt: str = "mp4", width: int = 1920, height: int = 1080) -> File:
    return File(url="s3://in/film", kind="video", format=fmt, width=width, height=height, duration=seconds, fps=30,
                codecs=Codecs(video="h264", audio="aac"))


def refused(kind: str, options, source: File, settings: Settings = LAMBDA, *, may_chunk: bool = True) -> str:
    with pytest.raises(ProcessingError) as caught:
        admit(kind, options, source, settings, may_chunk=may_chunk)
    assert caught.value.kind == "duration_too_long"
    return caught.value.message


def test_an_hour_of_1080p_is_admitted_in_chunks_and_refused_in_one_pass() -> None:
    admit("video", VideoOptions(), film(HOUR), LAMBDA, may_chunk=True)
    admit("adaptive_video", AdaptiveOptions(), film(HOUR), LAMBDA, may_chunk=True)
    message = refused("video", VideoOptions(), film(HOUR), LAMBDA.model_copy(update={"chunk_min_duration": 0}))
    assert "3600 s" in message and "one pass" in message
    assert "one pass" in refused("video", VideoOptions(), film(HOUR), may_chunk=False), "standalone tasks: one pass"


def test_an_input_that_cannot_be_cut_is_judged_as_one_pass() -> None:
    refused("video", VideoOptions(), film(HOUR, fmt="ts"))
    admit("video", VideoOptions(), film(120, fmt="ts"), LAMBDA, may_chunk=True)


def test_trimming_and_a_smaller_size_bring_a_long_input_within_reach() -> None:
    solo = LAMBDA.model_copy(update={"chunk_min_duration": 0})
    admit("video", VideoOptions(start=600, end=660), film(HOUR), solo, may_chunk=True)
    admit("video", VideoOptions(width=320), film(HOUR / 4), solo, may_chunk=True)
    refused("video", VideoOptions(), film(HOUR / 4), solo)


def test_a_chunk_too_slow_for_one_step_is_refused_with_the_setting_to_change() -> None:
    slow = LAMBDA.model_copy(update={"chunk_seconds": 600})
    assert "MEDIAJET_CHUNK_SECONDS" in refused("video", VideoOptions(codec="vp9", format="webm"),
                                               film(HOUR, width=3840, height=2160), slow)


def test_sound_is_encoded_fast_enough_for_any_admitted_length() -> None:
    song = File(url="s3://in/song", kind="audio", format="wav", duration=6 * HOUR, codecs=Codecs(audio="pcm_s16le"))
    admit("audio", AudioOptions(), song, LAMBDA, may_chunk=True)
    tiny = LAMBDA.model_copy(update={"step_timeout_s": 60})
    assert "of sound" in refused("audio", AudioOptions(), song, tiny)


def test_a_chunked_sound_is_judged_whole_only_when_it_is_not_cut_with_the_chunks() -> None:
    short_steps = LAMBDA.model_copy(update={"step_timeout_s": 60, "chunk_seconds": 3})  # 6 h of sound > 60 s
    small = {"width": 64, "height": 36}
    admit("video", VideoOptions(format="mp4", **small), film(6 * HOUR), short_steps, may_chunk=True)  # AAC: sliced
    assert "of sound" in refused("video", VideoOptions(format="webm", **small), film(6 * HOUR), short_steps), \
        "Opus is encoded whole, by one part"


def test_with_a_parallelism_chunks_grow_so_that_a_long_input_takes_one_wave() -> None:
    from mediajet.pipeline.chunked import chunk_length

    map_of_100 = LAMBDA.model_copy(update={"chunk_parallelism": 100})
    assert chunk_length(map_of_100, HOUR) == 36.0 and chunk_length(map_of_100, HOUR, grid=6) == 36.0
    assert chunk_length(map_of_100, HOUR + 60, grid=6) == 42.0, "HLS chunks stay on the segment grid"
    assert chunk_length(map_of_100, 600) == 30.0 and chunk_length(LAMBDA, HOUR) == 30.0
    admit("video", VideoOptions(), film(6 * HOUR), map_of_100, may_chunk=True)  # 216 s chunks: 2 min on Lambda
