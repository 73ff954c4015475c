"""What one job may cost: output size, decoded frame size and memory, each refused or stopped quickly
with its own error kind (never a long, huge encode)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mediajet.errors import ProcessFailed, ProcessingError
from mediajet.local.runtime import LocalRuntime
from mediajet.media import runner
from mediajet.media.binaries import ffmpeg
from mediajet.models.file import Codecs, File
from mediajet.models.job import Job
from mediajet.models.options import AdaptiveOptions, AnimationOptions, ImageOptions, VideoOptions
from mediajet.models.requests import build_job, parse_job_create
from mediajet.pipeline import admission
from mediajet.pipeline.execute import run_job
from mediajet.settings import Settings
from tests.media import make_video

PROJECT = "prj_costs"
URL = "file:///in"




@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The upscaling bomb's input: a 1 s, 160x120 clip of a few tens of KB."""
    return make_video(tmp_path_factory.mktemp("costs") / "tiny.mp4", seconds=1, size="160x120")


def new_job(runtime: LocalRuntime, source: Path, kind: str, **options: object) -> Job:
    """A stored job with exactly these options, as if they had passed the create-time checks (the
    pipeline must hold whatever the API lets through)."""
    request = parse_job_create({"input": "https://example.com/in", "kind": kind,
                                "options": {"end": 1} if kind == "animation" else {}})
    job = build_job(request, PROJECT)
    job.input = source.as_uri()
    job.options = {**job.options, **options}
    return runtime.jobs.create_job(job)[0]


def run(runtime: LocalRuntime, job: Job) -> tuple[Job, float]:
    started = time.monotonic()
    run_job(job.id, runtime.context())
    return runtime.jobs.get_job(job.id), time.monotonic() - started


# --- output size --------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "options", "setting"), [
    ("video", {"width": 8192, "height": 8192}, "MEDIAJET_MAX_OUTPUT_PIXELS"),
    ("adaptive_video", {"width": 8192, "height": 8192}, "MEDIAJET_MAX_OUTPUT_PIXELS"),
    ("animation", {"width": 8192, "height": 8192, "end": 1}, "MEDIAJET_MAX_OUTPUT_PIXELS"),
    ("image", {"width": 16384, "height": 16384}, "MEDIAJET_MAX_DIMENSION"),
])
def test_the_upscaling_bomb_fails_at_probe_before_any_encode(tmp_path: Path, tiny: Path, kind: str,
                                                             options: dict, setting: str) -> None:
    """Reported: a 30 KB, 1 s, 160x120 input with width 8192, height 8192 ran 110 s at 8.7 GB."""
    runtime = LocalRuntime.open(Settings(), tmp_path / "data", allow_local_files=True)
    job = new_job(runtime, tiny, kind, **options)
    done, seconds = run(runtime, job)
    assert (done.status, done.error and done.error.kind, done.error and done.error.task) == (
        "failed", "resolution_too_large", "probe")
    size = f"{options['width']}x{options['height']}"
    assert size in done.error.message and setting in done.error.message, done.error.message
    assert done.tasks[2].status == "cancelled", "the encode never started"
    assert seconds < 20


def test_an_upscale_within_the_limit_still_runs(tmp_path: Path, tiny: Path) -> None:
    runtime = LocalRuntime.open(Settings(), tmp_path / "data", allow_local_files=True)
    done, _ = run(runtime, new_job(runtime, tiny, "video", width=320, height=240))
    assert done.status == "succeeded", done.error


def test_the_output_limit_is_a_setting(tmp_path: Path, tiny: Path) -> None:
    runtime = LocalRuntime.open(Settings(max_output_pixels=200 * 150), tmp_path / "data", allow_local_files=True)
    done, _ = run(runtime, new_job(runtime, tiny, "video", width=320, height=240))
    assert (done.status, done.error and done.error.kind) == ("failed", "resolution_too_large")
    assert "320x240 (76800 pixels); the limit is 30000 pixels" in done.error.message


UHD8K = File(url=URL, kind="video", format="mp4", width=7680, height=4320, duration=10.0, fps=25,
             codecs=Codecs(video="h264"))
SMALL = File(url=URL, kind="video", format="mp4", width=160, height=120, duration=1.0, fps=25,
             codecs=Codecs(video="h264"))
PHOTO = File(url=URL, kind="image", format="jpeg", width=8000, height=6000, codecs=Codecs(video="mjpeg"))


@pytest.mark.parametrize(("kind", "options", "source"), [
    ("adaptive_video", AdaptiveOptions(), UHD8K),  # renditions stop at 1080p; the input's own size is decoded only
    ("adaptive_video", AdaptiveOptions(width=1920, height=1080), SMALL),
    ("image", ImageOptions(), PHOTO),  # a 48 MP photo converts at its own size: stills go up to max_pixels
    ("image", ImageOptions(width=8192, height=8192), SMALL),
    ("video", VideoOptions(width=4096, height=4096), SMALL),
    ("video", VideoOptions(width=1280), UHD8K),
    ("animation", AnimationOptions(end=1, width=3840, height=2160), SMALL),
])
def test_frames_within_the_output_limits_are_admitted(kind: str, options, source: File) -> None:
    admission.check_output_size(kind, options, source, Settings())


@pytest.mark.parametrize(("kind", "options", "source", "words"), [
    ("video", VideoOptions(), UHD8K, "the output would be 7680x4320"),  # an encoder's frame, even unscaled
    ("adaptive_video", AdaptiveOptions(width=8192, height=4096), SMALL, "the resized picture would be 8192x4096"),
    ("adaptive_video", AdaptiveOptions(width=16384, height=1080, fit="fill"), SMALL, "would be 16384x1080"),
    ("animation", AnimationOptions(end=1, width=5000, height=5000, fit="cover"), SMALL, "would be 5000x5000"),
])
def test_frames_over_the_output_limits_are_refused(kind: str, options, source: File, words: str) -> None:
    with pytest.raises(ProcessingError) as caught:
        admission.check_output_size(kind, options, source, Settings())
    assert caught.value.kind == "resolution_too_large"
    assert words in caught.value.message


def test_the_output_limit_never_exceeds_the_input_limit() -> None:
    settings = Settings(max_pixels=1000 * 1000)
    with pytest.raises(ProcessingError) as caught:
        admission.check_output_size("video", VideoOptions(width=1280, height=1280), SMALL, settings)
    assert "the limit is 1000000 pixels" in caught.value.message


# --- memory -------------------------------------------------------------------------------------


def test_the_memory_limit_is_a_setting_with_an_automatic_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    assert runner.memory_limit_mb(Settings(max_job_memory_mb=4096)) == 4096
    assert runner.memory_limit_mb(Settings(max_job_memory_mb=0)) is None
    machine = runner.machine_memory_mb()
    assert machine and runner.memory_limit_mb(Settings()) == max(2048, machine * 3 // 4)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "mediajet-encode")  # the function's memory is the limit
    assert runner.memory_limit_mb(Settings()) is None


def test_an_encoder_over_the_memory_limit_fails_the_job_as_out_of_memory(tmp_path: Path, tiny: Path, env_settings) -> None:
    env_settings("MEDIAJET_MAX_JOB_MEMORY_MB", "100")  # ffprobe needs ~15 MB; x264 at 720p ~240 MB (measured)
    runtime = LocalRuntime.open(Settings(), tmp_path / "data", allow_local_files=True)
    done, seconds = run(runtime, new_job(runtime, tiny, "video", width=1280, height=720))
    assert (done.status, done.error and done.error.kind, done.error and done.error.task) == (
        "failed", "out_of_memory", "video")  # the encode task is named after the kind
    assert "100 MB (MEDIAJET_MAX_JOB_MEMORY_MB)" in done.error.message
    assert seconds < 20


@pytest.mark.parametrize("codec", [["-c:v", "libx265", "-x265-params", "log-level=error"],
                                   ["-c:v", "libsvtav1", "-preset", "8"]], ids=["h265", "av1"])
def test_threaded_encoders_run_under_a_data_limit(tmp_path: Path, env_settings, codec: list[str]) -> None:
    """RLIMIT_DATA does not count thread stacks or reserved address space: x265's and SVT-AV1's thread
    pools (15 and 59 threads here) start as usual. 320x240 needs 73 and 131 MB (measured)."""
    env_settings("MEDIAJET_MAX_JOB_MEMORY_MB", "400")
    out = tmp_path / "out.mp4"
    runner.run([ffmpeg(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                "testsrc2=size=320x240:rate=25:duration=1", *codec, "-pix_fmt", "yuv420p", str(out)], timeout=60)
    assert out.stat().st_size > 0


def test_a_child_at_the_limit_fails_with_the_setting_to_raise(env_settings) -> None:
    env_settings("MEDIAJET_MAX_JOB_MEMORY_MB", "64")
    with pytest.raises(ProcessFailed) as caught:
        runner.run([ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=160x120:rate=25:duration=1", "-vf", "scale=1920:1080", "-c:v", "libx264",
                    "-f", "null", "-"], timeout=60)
    assert caught.value.kind == "out_of_memory"
    assert "64 MB (MEDIAJET_MAX_JOB_MEMORY_MB)" in caught.value.message
