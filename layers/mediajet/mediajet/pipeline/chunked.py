"""The encode step's parallel path: plan keyframe-aligned chunks of a long video, encode each chunk as
its own part, join the parts by stream copy. See media/chunking.py.

Nothing copies the input around: the plan comes from the input's index (an MP4's sample tables, read
by ranged reads) and each part reads only its own piece of the working copy, in place
(storage/media_source.py: the file itself locally, ranged GETs on S3). The sound is cut with the
video: each part encodes its chunk's slice of it too (AAC, media/sound_slices.py); a sound in any other
codec is a part of its own, encoded once, whole, beside the video parts.

Everything lives in working storage under `jobs/<id>/chunks/`, so the parts can run anywhere (threads
here, a Step Functions Map of Lambdas on AWS) and the execution state stays `{job_id, chunks: {key,
count}}`, whatever the length of the input:

    plan.json         the ChunkPlan and the stream it cuts
    items.json        the parts: [{"job_id", "part": "v00000"}, ...] (the Map's item list; a whole
                      sound's part "audio" first, as it takes longest)
    out/v00000.nut    the encoded parts; a part whose output exists is done
    sound/a00000.aac  the part's slice of the sound, written before its video
    out/audio         or the whole encoded sound (MP4 or Matroska, see media/plans/chunked.py)
"""

from __future__ import annotations

import json
import logging
import shutil
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from pydantic import BaseModel

from mediajet.errors import Cancelled
from mediajet.media import chunking, runner
from mediajet.media.chunking import Chunk, ChunkPlan
from mediajet.media.plans import chunked as argv
from mediajet.media.plans.hls import MASTER, SEGMENT_SECONDS
from mediajet.media.sound_slices import AAC_RATES, SoundSlice, keep, plan_slices
from mediajet.models.file import File
from mediajet.models.job import Job
from mediajet.models.options import AdaptiveOptions, MediaOptions, VideoOptions
from mediajet.pipeline.context import StepContext
from mediajet.settings import Settings
from mediajet.storage.media_source import MediaSource, media_source
from mediajet.store.base import transition

log = logging.getLogger("mediajet.pipeline")

AUDIO = "audio"
CHUNKED_KINDS = ("video", "adaptive_video")
JOIN_THREADS = 8  # parts downloaded at once by the join


class SplitPlan(BaseModel):
    stream: int
    plan: ChunkPlan
    audio: bool
    sound: list[SoundSlice] = []  # the sound in slices, one per chunk; empty: whole, as a part of its own

    def parts(self) -> list[str]:
        return [AUDIO] * (self.audio and not self.sound) + [part_name(c.index) for c in self.plan.chunks]


def part_name(index: int) -> str:
    return f"v{index:05d}"


def prefix(job_id: str) -> str:
    return f"jobs/{job_id}/chunks"


def items_key(job_id: str) -> str:
    return f"{prefix(job_id)}/items.json"


def _plan_key(job_id: str) -> str:
    return f"{prefix(job_id)}/plan.json"


def _out_key(job_id: str, part: str) -> str:
    return f"{prefix(job_id)}/out/{part}" + ("" if part == AUDIO else ".nut")  # the sound's container varies


def _sound_key(job_id: str, index: int) -> str:
    return f"{prefix(job_id)}/sound/a{index:05d}.aac"


def _part_index(part: str) -> int:
    return int(part.removeprefix("v"))


def wants_chunks(settings: Settings, kind: str, source: File) -> bool:
    """Long enough to be cut (the keyframes may still say no: see split)."""
    limit = settings.chunk_min_duration
    return (kind in CHUNKED_KINDS and limit > 0 and source.has_video and source.kind == "video"
            and (source.duration or 0) > limit)


def split(ctx: StepContext, job: Job, options: MediaOptions, source: File, src_key: str) -> dict | None:
    """Plan the parts and list them; None when the input is better encoded in one pass (short, or no
    clean keyframes to cut at). Returns the state the fan-out reads."""
    if not wants_chunks(ctx.settings, job.kind, source):
        return None
    assert isinstance(options, VideoOptions | AdaptiveOptions)
    if ctx.work.exists(_plan_key(job.id)):  # resumed or retried: planned already
        split_plan = _load_plan(ctx, job.id)
    else:
        with media_source(ctx.work, src_key) as src:
            split_plan = _plan(ctx, options, source, src)
        if split_plan is None:
            return None
        _put_json(ctx, _plan_key(job.id), split_plan.model_dump(mode="json"))
    items = [{"job_id": job.id, "part": part} for part in split_plan.parts()]
    _put_json(ctx, items_key(job.id), items)
    log.info("job %s: %d chunks", job.id, len(split_plan.plan.chunks), extra={"job_id": job.id})
    return {"key": items_key(job.id), "count": len(items)}


def _plan(ctx: StepContext, options: VideoOptions | AdaptiveOptions, source: File, src: MediaSource) -> SplitPlan | None:
    scanned = chunking.scan(src.arg, timeout=min(600.0, ctx.remaining_s()), stop=ctx.stop, access=src.access,
                            read=src.read, size=src.size)
    if scanned is None:
        return None
    hls = isinstance(options, AdaptiveOptions)
    plan = chunking.plan_chunks(
        scanned, target=ctx.settings.chunk_seconds, start=options.start, end=options.end,
        grid=SEGMENT_SECONDS if hls else None, fps=None if hls else options.fps,
    )
    if plan is None:
        return None
    audio = source.has_audio and not options.mute
    rate = scanned.sample_rate
    sliced = audio and rate in AAC_RATES and argv.sound_codec(options, source)[1] == "aac"
    sound = plan_slices([c.zero for c in plan.chunks], options.start or 0.0, rate) if sliced and rate else []
    return SplitPlan(stream=scanned.stream, plan=plan, audio=audio, sound=sound)


def encode_part(ctx: StepContext, job: Job, options: MediaOptions, source: File, part: str, src_key: str) -> None:
    """Encode one part (a chunk's video, or the whole sound) into working storage, reading the input in
    place; a no-op when an earlier attempt finished it."""
    if job.status == "cancelled":
        raise Cancelled("the job was cancelled")
    out_key = _out_key(job.id, part)
    if ctx.work.exists(out_key):
        return
    assert isinstance(options, VideoOptions | AdaptiveOptions)
    split_plan = _load_plan(ctx, job.id)
    with ctx.tempdir("part-") as tmp, media_source(ctx.work, src_key) as src:
        if part == AUDIO:
            out = tmp / AUDIO
            _run(ctx, argv.audio_argv(options, source, src.arg, out, access=src.access), "ffmpeg (sound)")
        else:
            chunk = split_plan.plan.chunks[_part_index(part)]
            if split_plan.sound:
                _encode_sound(ctx, job.id, options, source, split_plan.sound[chunk.index], src, tmp)
            piece = tmp / "piece.mkv"
            _run(ctx, argv.piece_argv(src.arg, split_plan.stream, chunk, split_plan.plan.frame_duration, piece,
                                      access=src.access), what="ffmpeg (piece)")
            out = tmp / f"{part}.nut"
            _run(ctx, _chunk_argv(options, source, piece.absolute(), chunk, out))
        ctx.work.put_file(out_key, out, move=True)
    _record_progress(ctx, job.id, len(split_plan.parts()))


def _encode_sound(ctx: StepContext, job_id: str, options: VideoOptions | AdaptiveOptions, source: File,
                  piece: SoundSlice, src: MediaSource, tmp: Path) -> None:
    key = _sound_key(job_id, piece.index)
    if ctx.work.exists(key):
        return
    encoded, kept = tmp / "sound.aac", tmp / "kept.aac"
    _run(ctx, argv.sound_slice_argv(options, source, src.arg, piece, encoded, access=src.access), "ffmpeg (sound)")
    kept.write_bytes(keep(encoded.read_bytes(), piece))
    encoded.unlink()
    ctx.work.put_file(key, kept, move=True)


def _chunk_argv(options: VideoOptions | AdaptiveOptions, source: File, piece: Path, chunk: Chunk,
                out: Path) -> list[str]:
    if isinstance(options, AdaptiveOptions):
        return argv.hls_chunk_argv(options, source, piece, chunk, out)
    return argv.video_chunk_argv(options, source, piece, chunk, out)


def join(ctx: StepContext, job: Job, options: MediaOptions, out_dir: Path) -> Path:
    """Concatenate the encoded chunks and mux the sound into `out_dir`; returns the main file."""
    assert isinstance(options, VideoOptions | AdaptiveOptions)
    split_plan = _load_plan(ctx, job.id)
    chunks = split_plan.plan.chunks
    with ctx.tempdir("join-") as tmp, ExitStack() as stored:
        keys = [_out_key(job.id, part_name(c.index)) for c in chunks]
        sound_keys = [_sound_key(job.id, s.index) for s in split_plan.sound]
        if split_plan.audio and not split_plan.sound:
            sound_keys = [_out_key(job.id, AUDIO)]
        paths = _local_paths(ctx, keys + sound_keys, stored)
        listing = tmp / "chunks.ffconcat"
        listing.write_text(argv.concat_list(list(zip(paths, chunks)), [c.zero for c in chunks[1:]] + [None]))
        audio = _joined_sound(paths[len(keys):], tmp) if split_plan.sound else (paths[-1] if split_plan.audio else None)
        rate = split_plan.sound[0].rate if split_plan.sound else None
        offset = split_plan.plan.video_offset
        source = File.model_validate(job.encode_task.input)
        if isinstance(options, AdaptiveOptions):
            command = argv.hls_join_argv(options, source, listing, offset, audio, out_dir, rate)
            main = out_dir / MASTER
        else:
            main = out_dir / f"output.{options.format}"
            command = argv.video_join_argv(options, listing, offset, audio, main, rate)
        _run(ctx, command, what="ffmpeg (join)")
    return main


def _joined_sound(slices: list[Path], tmp: Path) -> Path:
    """The slices' frames one after the other: the whole sound's ADTS stream."""
    joined = tmp / "sound.aac"
    with joined.open("wb") as out:
        for path in slices:
            with path.open("rb") as piece:
                shutil.copyfileobj(piece, out)
    return joined


def _local_paths(ctx: StepContext, keys: list[str], stack: ExitStack) -> list[Path]:
    """Local copies of `keys`, fetched JOIN_THREADS at a time (on S3: one download each), removed when
    `stack` closes. Each entered context lands on the stack as soon as it is open, whatever fails."""
    with ThreadPoolExecutor(max_workers=JOIN_THREADS) as pool:
        return list(pool.map(lambda key: stack.enter_context(ctx.work.local_path(key)), keys))


def _run(ctx: StepContext, command: list[str], what: str = "ffmpeg") -> None:
    runner.run(command, timeout=ctx.remaining_s(), cancel=ctx.cancel, stop=ctx.stop, what=what)


def _record_progress(ctx: StepContext, job_id: str, total: int) -> None:
    done = sum(1 for _ in ctx.work.keys(f"{prefix(job_id)}/out/"))
    percent = min(99, done * 100 // max(1, total))

    def change(job: Job) -> Job | None:
        task = job.encode_task
        if job.status != "processing" or task.status != "processing" or (task.progress or 0) >= percent:
            return None
        task.progress = percent
        return job

    transition(ctx.jobs, job_id, change)


def _load_plan(ctx: StepContext, job_id: str) -> SplitPlan:
    with ctx.work.local_path(_plan_key(job_id)) as path:
        return SplitPlan.model_validate_json(path.read_text())


def _put_json(ctx: StepContext, key: str, value: object) -> None:
    with ctx.tempdir("json-") as tmp:
        path = tmp / "value.json"
        path.write_text(json.dumps(value))
        ctx.work.put_file(key, path, move=True)
