"""Chunked encoding on the embedded runtime, against the single pass of the same job: a 12 s clip forced
into 3 s chunks must come out as the single pass does (length, frames, size, sound, A/V sync) with
no visible seam. Real SQLite, real files, real ffmpeg."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mediajet.local.runtime import LocalRuntime
from mediajet.media import runner
from mediajet.models.job import Job
from mediajet.models.requests import build_job, parse_job_create
from mediajet.pipeline.execute import run_job
from mediajet.pipeline.steps import run_step
from mediajet.settings import Settings
from tests.measure import (
    assert_like_single_pass,
    assert_sounds_alike,
    make_sync_clip,
    packets,
    streams,
    top_rendition,
)

FPS = 25
CHUNKED = Settings(chunk_min_duration=4, chunk_seconds=3)
SINGLE = Settings(chunk_min_duration=0)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sync_clip(tmp_path_factory.mktemp("chunked") / "clip.mp4", seconds=12, fps=FPS)


@pytest.fixture(scope="module")
def wide_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """640x360: an HLS ladder of two renditions (360p, 240p), each cut and joined on its own."""
    return make_sync_clip(tmp_path_factory.mktemp("chunked") / "wide.mp4", seconds=12, fps=FPS, size="640x360")


def new_job(runtime: LocalRuntime, source: Path, kind: str = "video", **options: object) -> Job:
    request = parse_job_create({"input": "https://example.com/clip.mp4", "kind": kind, "options": options})
    job = build_job(request, "prj_test")
    job.input = source.as_uri()  # validated as a URL, then pointed at the local file
    runtime.jobs.create_job(job)
    return job


@contextmanager
def recorded_commands() -> Iterator[list[str]]:
    """Every command the runner starts meanwhile, as one string each."""
    commands: list[str] = []
    real_run = runner.run

    def recording(argv, **kwargs):
        commands.append(" ".join(argv))
        return real_run(argv, **kwargs)

    runner.run = recording
    try:
        yield commands
    finally:
        runner.run = real_run


def run(tmp: Path, settings: Settings, source: Path, kind: str, **options: object) -> tuple[Job, Path, list[str]]:
    """Run a job; returns it, its result as a local file and the ffmpeg commands it ran."""
    runtime = LocalRuntime.open(settings, tmp, allow_local_files=True)
    job = new_job(runtime, source, kind, **options)
    with recorded_commands() as commands:
        run_job(job.id, runtime.context())
    done = runtime.jobs.get_job(job.id)
    assert done.status == "succeeded", done.error
    return done, runtime.outputs.path(runtime.outputs.key_for_uri(done.output)), commands


CASES = [("video", {"format": "mp4", "codec": "h264"}), ("video", {"format": "webm", "codec": "vp9"}),
         ("adaptive_video", {}), ("video", {"format": "mov", "codec": "h264"}), ("video", {"format": "mp4", "codec": "h265"})]


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "options"), CASES, ids=["mp4-h264", "webm-vp9", "hls", "mov-h264", "mp4-h265"])
def test_chunked_output_matches_the_single_pass(clip: Path, wide_clip: Path, tmp_path: Path, kind: str,
                                                options: dict) -> None:
    clip = wide_clip if kind == "adaptive_video" else clip
    _, single, single_commands = run(tmp_path / "single", SINGLE, clip, kind, **options)
    chunked_job, chunked, commands = run(tmp_path / "chunked", CHUNKED, clip, kind, **options)

    pieces = [c for c in commands if "-c copy" in c and "-f matroska" in c]
    encodes = [c for c in commands if any(f" -f {f} " in c for f in ("nut", "hls", "mp4", "mov")) and "piece.mkv" in c]
    assert len(pieces) == len(encodes) >= 2, "the input was cut and every piece encoded on its own"
    joins = [c for c in commands if "concat" in c]
    if kind == "adaptive_video":
        assert not joins, "HLS parts wrote the segments themselves: the join writes only the playlists"
        assert chunked_job.tasks[2].output["url"] == chunked_job.output, "written at the result's place: no copy"
    elif options["format"] in ("mp4", "mov"):
        assert not joins, "MP4 parts are joined by their indexes: no ffmpeg at the join"
        assert all("-c:a copy" in c for c in encodes), "each MP4 part carries its slice of the sound"
        assert chunked_job.tasks[2].output["url"] == chunked_job.output, "joined at the result's place: no copy"
    else:
        assert len(joins) == 1 and "-c copy" in joins[0], "the join is a stream copy"
    assert len([c for c in single_commands if "-progress" in c]) == 1, "the single pass stays one encode"
    assert chunked_job.tasks[2].progress == 100 and chunked_job.tasks[2].output is not None

    seams = [3, 6, 9] if kind == "video" else [6]  # HLS chunks are a multiple of the 6 s segments
    if kind == "adaptive_video":
        assert single.read_text().count(".m3u8") == 2, "a ladder of two renditions"
    assert_like_single_pass(chunked, single, clip, fps=FPS, seams=seams)


@pytest.mark.slow
def test_a_chunked_av1_mp4_holds_the_single_pass_packets_at_its_times(clip: Path, tmp_path: Path) -> None:
    """This ffmpeg cannot decode AV1 (its only AV1 decoder needs a GPU), so the picture is compared by
    its packets: the same number, each at the single pass's time, keyframes at every chunk's start;
    the sound (AAC) is decoded and compared as for every other codec."""
    _, single, _ = run(tmp_path / "single", SINGLE, clip, "video", format="mp4", codec="av1")
    _, chunked, _ = run(tmp_path / "chunked", CHUNKED, clip, "video", format="mp4", codec="av1")
    got, want = packets(chunked), packets(single)
    assert [t for t, _ in got] == [t for t, _ in want]
    assert {3.0, 6.0, 9.0} <= {t for t, key in got if key}, "every chunk starts with a keyframe"
    assert_sounds_alike(chunked, single, seams=[3, 6, 9])


@pytest.mark.parametrize(("kind", "options"), [("video", {"format": "mp4"}), ("adaptive_video", {})],
                         ids=["mp4", "hls"])
def test_a_sound_that_stops_before_the_picture_leaves_the_later_chunks_silent(tmp_path: Path, kind: str,
                                                                             options: dict) -> None:
    from tests.media import make_video

    source = make_video(tmp_path / "clip.mp4", seconds=12, gop=25, audio_seconds=4)  # chunks 2-4 have no sound
    _, single, _ = run(tmp_path / "single", SINGLE, source, kind, **options)
    _, chunked, commands = run(tmp_path / "chunked", CHUNKED, source, kind, **options)
    assert len([c for c in commands if " -f adts " in c]) >= 2, "cut in chunks, the sound in slices"
    if kind == "adaptive_video":
        single, chunked = top_rendition(single), top_rendition(chunked)
        assert chunked.read_text() == single.read_text()
    assert streams(chunked) == streams(single), "the same frames of picture and sound"


def test_a_sound_that_starts_late_is_not_sliced(tmp_path: Path) -> None:
    """ADTS slices carry no timestamps: a sound starting 5 s in is encoded whole (video), or the ladder
    takes the single pass (HLS), so it stays where the single pass puts it."""
    from mediajet.media.binaries import ffmpeg
    from tests.media import make_video

    clip = make_video(tmp_path / "clip.mp4", seconds=12, gop=25)
    late = tmp_path / "late.mp4"
    subprocess.run([ffmpeg(), "-v", "error", "-i", str(clip), "-itsoffset", "5", "-i", str(clip), "-map", "0:v",
                    "-map", "1:a", "-c", "copy", str(late)], check=True, timeout=60)
    _, single, _ = run(tmp_path / "single", SINGLE, late, "video", format="mp4")
    _, chunked, commands = run(tmp_path / "chunked", CHUNKED, late, "video", format="mp4")
    assert not [c for c in commands if " -f adts " in c] and [c for c in commands if " -f nut " in c]
    assert streams(chunked) == streams(single)
    _, _, commands = run(tmp_path / "hls", CHUNKED, late, "adaptive_video")
    assert len([c for c in commands if " -f hls " in c]) == 1, "one pass"


def test_an_input_the_deployment_cannot_finish_is_refused_at_probe(clip: Path, tmp_path: Path) -> None:
    slow = Settings(chunk_min_duration=0, step_timeout_s=1, encode_speed=1)  # 12 s of video needs ~0.8 s
    runtime = LocalRuntime.open(slow, tmp_path, allow_local_files=True)
    job = new_job(runtime, clip)
    run_job(job.id, runtime.context())
    done = runtime.jobs.get_job(job.id)
    assert done.status == "failed" and done.error is not None
    assert (done.error.kind, done.error.task) == ("duration_too_long", "probe"), done.error
    assert [t.status for t in done.tasks] == ["failed", "cancelled", "cancelled", "cancelled"], "nothing was encoded"


def _steps_until_parts(runtime: LocalRuntime, clip: Path) -> tuple[Job, list[dict]]:
    """probe, import and encode of a chunked job; returns the job and the parts the encode listed."""
    import json

    job = new_job(runtime, clip)
    state = {"job_id": job.id}
    for name in ("probe", "import", "encode"):
        state = run_step(name, state, runtime.context())
    with runtime.work.local_path(state["chunks"]["key"]) as path:
        return runtime.jobs.get_job(job.id), json.loads(path.read_text())


def test_a_failed_ladder_leaves_none_of_its_segments_in_the_outputs(clip: Path, tmp_path: Path) -> None:
    """HLS parts write their segments straight into the result's folder: a job that fails after some
    parts finished must not leave a half ladder there."""
    runtime = LocalRuntime.open(CHUNKED, tmp_path, allow_local_files=True)
    job = new_job(runtime, clip, "adaptive_video")
    state = {"job_id": job.id}
    for name in ("probe", "import", "encode"):
        state = run_step(name, state, runtime.context())
    run_step("encode_chunk", {"job_id": job.id, "part": "v00000"}, runtime.context())
    folder = f"jobs/{job.id}/"
    assert any(key.endswith(".ts") for key in runtime.outputs.keys(folder)), "the part wrote its segments in place"
    failed = {"job_id": job.id, "error": {"kind": "encode_failed", "message": "a later part failed"}}
    assert run_step("finalize", failed, runtime.context())["status"] == "failed"
    assert list(runtime.outputs.keys(folder)) == []


def test_a_joined_mp4_of_a_job_that_did_not_finish_is_not_left_in_the_outputs(clip: Path, tmp_path: Path) -> None:
    """The join writes an MP4 where export would put it: a job cancelled before export must not leave it there."""
    runtime = LocalRuntime.open(CHUNKED, tmp_path, allow_local_files=True)
    job, parts = _steps_until_parts(runtime, clip)
    for part in parts:
        run_step("encode_chunk", part, runtime.context())
    run_step("join", {"job_id": job.id}, runtime.context())
    joined = runtime.jobs.get_job(job.id).encode_task.output["url"]
    assert runtime.outputs.exists(runtime.outputs.key_for_uri(joined)), "joined in place"
    cancelled = {"job_id": job.id, "error": {"kind": "cancelled", "message": "cancelled through the API"}}
    assert run_step("finalize", cancelled, runtime.context())["status"] == "cancelled"
    assert list(runtime.outputs.keys(f"jobs/{job.id}/")) == [], joined


def test_progress_is_the_share_of_parts_done(clip: Path, tmp_path: Path) -> None:
    runtime = LocalRuntime.open(CHUNKED, tmp_path, allow_local_files=True)
    with recorded_commands() as commands:
        job, parts = _steps_until_parts(runtime, clip)
    assert [p["part"] for p in parts] == ["v00000", "v00001", "v00002", "v00003"], "the sound is cut with the video"
    assert len(commands) == 2 and " -of json " in commands[1] and "packet=" not in commands[1], \
        "after the probe, the plan read only the header and the MP4 index: no packet scan, no copy, no encode"
    seen = []
    for part in parts:
        run_step("encode_chunk", part, runtime.context())
        seen.append(runtime.jobs.get_job(job.id).tasks[2].progress)
    assert seen == [25, 50, 75, 99], "the join's own work is the last percent"
    for part in parts:  # an MP4 result's part is an MP4 of its chunk with its slice of the sound
        with runtime.work.local_path(f"jobs/{job.id}/chunks/out/{part['part']}.mp4") as path:
            assert set(streams(path)) == {"video", "audio"}


def test_a_deployment_running_two_parts_at_once_gets_two_longer_chunks(clip: Path, tmp_path: Path) -> None:
    two_at_once = CHUNKED.model_copy(update={"chunk_parallelism": 2})
    _, parts = _steps_until_parts(LocalRuntime.open(two_at_once, tmp_path, allow_local_files=True), clip)
    assert [p["part"] for p in parts] == ["v00000", "v00001"], "12 s in 6 s chunks, not 3 s: one wave"


def test_a_resumed_job_encodes_only_the_parts_not_yet_done(clip: Path, tmp_path: Path) -> None:
    runtime = LocalRuntime.open(CHUNKED, tmp_path, allow_local_files=True)
    job, parts = _steps_until_parts(runtime, clip)
    for part in parts[:2]:
        run_step("encode_chunk", part, runtime.context())
    with recorded_commands() as commands:
        run_job(job.id, runtime.context(), resume=True)  # as after kill -9 of the server
    assert runtime.jobs.get_job(job.id).status == "succeeded"
    encoded = [c.rsplit("/", 1)[-1] for c in commands if " -f mp4 " in c and "piece.mkv" in c]
    assert sorted(encoded) == ["v00002.mp4", "v00003.mp4"]
    assert len([c for c in commands if " -f matroska " in c]) == 2, "only the parts not done read their pieces"
    assert len([c for c in commands if " -f adts " in c]) == 2, "nor their sound"


def test_cancelling_stops_every_running_chunk(clip: Path, tmp_path: Path) -> None:
    import threading
    import time

    from mediajet.store.base import transition

    runtime = LocalRuntime.open(CHUNKED.model_copy(update={"chunk_workers": 2}), tmp_path, allow_local_files=True)
    job = new_job(runtime, clip, codec="vp9", format="webm", quality="very_high")
    running: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def spawn(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        if " -f nut " in " ".join(args[0]):
            running.append(proc)
        return proc

    cancel = threading.Event()
    subprocess.Popen = spawn  # type: ignore[misc]
    try:
        worker = threading.Thread(target=run_job, args=(job.id, runtime.context(cancel)))
        worker.start()
        deadline = time.monotonic() + 60
        while not any(p.poll() is None for p in running) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert any(p.poll() is None for p in running), "a chunk encoder was running"
        transition(runtime.jobs, job.id, lambda j: j.model_copy(update={"status": "cancelled"}))
        cancel.set()  # what the worker's cancel_job does
        worker.join(timeout=20)
    finally:
        subprocess.Popen = real_popen  # type: ignore[misc]
    assert not worker.is_alive()
    assert all(p.poll() is not None for p in running), "no encoder outlives the cancel"
    done = runtime.jobs.get_job(job.id)
    assert done.status == "cancelled" and done.tasks[2].status == "cancelled"
    assert not list(runtime.work.keys(f"jobs/{job.id}/")), "the parts are cleaned up"
