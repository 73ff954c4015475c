"""The join of a chunked encode (pipeline/chunked.py), into the single pass's file: an MP4/MOV's parts
by their indexes, their media bytes placed by storage as they are (media/mp4_join.py); any other's
chunks concatenated by stream copy with the sound muxed in; for HLS, whose parts wrote their segments
in place, only the playlists."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from mediajet.media import hls_parts, mp4_join, runner
from mediajet.media.hls_parts import PartPlaylists
from mediajet.media.mp4_boxes import read_ahead
from mediajet.media.plans import chunked as argv
from mediajet.media.sound_slices import FRAME
from mediajet.models.job import Job
from mediajet.models.options import AdaptiveOptions, MediaOptions, VideoOptions
from mediajet.pipeline.chunked import (
    AUDIO,
    SplitPlan,
    out_key_for,
    part_name,
    run_ffmpeg,
    sound_key,
)
from mediajet.pipeline.context import StepContext
from mediajet.storage.base import BlobStore, Span

JOIN_THREADS = 8  # parts downloaded at once by the join
INDEX_THREADS = 16  # MP4 parts whose index is read at once (a few small reads each)
INDEX_READ = 256 * 1024  # a part's box headers and its whole index (~30 KB for 30 s) in one or two reads


def join(ctx: StepContext, job: Job, options: MediaOptions, split_plan: SplitPlan, out_dir: Path) -> tuple[Path, int]:
    """The joined result in `out_dir`: its main file, and the bytes of it the parts already stored in
    place (HLS segments)."""
    assert isinstance(options, VideoOptions | AdaptiveOptions)
    if isinstance(options, AdaptiveOptions):
        return _write_playlists(ctx, job, options, split_plan, out_dir)
    return _join_video(ctx, job, options, split_plan, out_dir), 0


def join_indexed(ctx: StepContext, job: Job, options: MediaOptions, split_plan: SplitPlan, store: BlobStore,
                 key: str) -> None:
    """The MP4/MOV parts joined into `key` of `store`, reading only their indexes: storage places their
    media bytes (store.compose; on S3 inside S3)."""
    chunks = split_plan.plan.chunks
    keys = [out_key_for(job.id, part_name(c.index), split_plan, options) for c in chunks]

    def index(part_key: str) -> mp4_join.Part:
        read = read_ahead(lambda at, length: ctx.work.read_range(part_key, at, length), INDEX_READ)
        return mp4_join.read_part(read, ctx.work.size(part_key))

    with ThreadPoolExecutor(max_workers=INDEX_THREADS) as pool:
        parts = list(pool.map(index, keys))
    joined = mp4_join.join(parts, [c.zero for c in chunks], video_offset=split_plan.plan.video_offset,
                           sound_skip=FRAME if split_plan.sound else 0)
    store.compose(key, joined.head, [Span(keys[n], start, length) for n, start, length in joined.spans], ctx.work)


def _join_video(ctx: StepContext, job: Job, options: VideoOptions, split_plan: SplitPlan, out_dir: Path) -> Path:
    chunks = split_plan.plan.chunks
    with ctx.tempdir("join-") as tmp, ExitStack() as stored:
        keys = [out_key_for(job.id, part_name(c.index), split_plan, options) for c in chunks]
        sound_keys = [sound_key(job.id, s.index) for s in split_plan.sound]
        if split_plan.audio and not split_plan.sound:
            sound_keys = [out_key_for(job.id, AUDIO, split_plan, options)]
        paths = _local_paths(ctx, keys + sound_keys, stored)
        listing = tmp / "chunks.ffconcat"
        listing.write_text(argv.concat_list(list(zip(paths, chunks)), [c.zero for c in chunks[1:]] + [None]))
        audio = _joined_sound(paths[len(keys):], tmp) if split_plan.sound else (paths[-1] if split_plan.audio else None)
        rate = split_plan.sound[0].rate if split_plan.sound else None
        main = out_dir / f"output.{options.format}"
        whole = audio is not None and not split_plan.sound
        command = argv.video_join_argv(options, listing, split_plan.plan.video_offset, audio, main, rate,
                                       _start_time(ctx, audio) if whole else 0.0)
        run_ffmpeg(ctx, command, what="ffmpeg (join)")
    return main


def _write_playlists(ctx: StepContext, job: Job, options: AdaptiveOptions, split_plan: SplitPlan,
                     out_dir: Path) -> tuple[Path, int]:
    keys = [out_key_for(job.id, part_name(c.index), split_plan, options) for c in split_plan.plan.chunks]
    with ExitStack() as stored:
        parts = [PartPlaylists.model_validate_json(path.read_text()) for path in _local_paths(ctx, keys, stored)]
    for name, text in hls_parts.merge(parts).items():
        (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (out_dir / name).write_text(text)
    return out_dir / hls_parts.MASTER, sum(p.segment_bytes for p in parts)


def _start_time(ctx: StepContext, path: Path) -> float:
    """Where a file's first packet plays (ffprobe), 0 when it does not say."""
    found = runner.run(argv.start_time_argv(path), timeout=min(60.0, ctx.remaining_s()), capture_stdout=True,
                       stop=ctx.stop, what="ffprobe")
    try:
        return float(found.stdout.decode().strip())
    except ValueError:
        return 0.0


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
