"""One part of a chunked encode (pipeline/chunked.py): a chunk's picture with its slice of the sound, or
the whole sound, encoded from the part's own piece of the input, read in place."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mediajet.errors import Cancelled
from mediajet.media import hls_parts
from mediajet.media.chunking import Chunk
from mediajet.media.plans import chunked as argv
from mediajet.media.plans.chunked import SegmentTiming
from mediajet.media.plans.hls import SEGMENT_SECONDS
from mediajet.media.sound_slices import FRAME, keep
from mediajet.models.file import File
from mediajet.models.job import Job
from mediajet.models.options import AdaptiveOptions, MediaOptions, VideoOptions
from mediajet.pipeline.chunked import (
    AUDIO,
    SplitPlan,
    load_plan,
    out_key_for,
    part_index,
    prefix,
    run_ffmpeg,
    sound_key,
)
from mediajet.pipeline.context import StepContext
from mediajet.storage.base import BlobStore
from mediajet.storage.media_source import MediaSource, media_source
from mediajet.store.base import transition


def encode_part(ctx: StepContext, job: Job, options: MediaOptions, source: File, part: str, src_key: str,
                out: tuple[BlobStore, str]) -> None:
    """Encode one part (a chunk's video, or the whole sound) into working storage, reading the input in
    place; a no-op when an earlier attempt finished it. HLS parts write their segments into `out` (a
    store and a folder: where the join then writes the playlists, transfer.result_place)."""
    if job.status == "cancelled":
        raise Cancelled("the job was cancelled")
    hls = isinstance(options, AdaptiveOptions)
    split_plan = load_plan(ctx, job.id)
    out_key = out_key_for(job.id, part, split_plan, options)
    if ctx.work.exists(out_key):
        return
    assert isinstance(options, VideoOptions | AdaptiveOptions)
    with ctx.tempdir("part-") as tmp, media_source(ctx.work, src_key) as src:
        if part == AUDIO:
            done = tmp / AUDIO
            run_ffmpeg(ctx, argv.audio_argv(options, source, src.arg, done, access=src.access), "ffmpeg (sound)")
        else:
            chunk = split_plan.plan.chunks[part_index(part)]
            # The sound (one thread) runs beside the piece's cut and, unless the part muxes it (HLS, MP4),
            # the video's encode; both ffmpegs read the input in place.
            with ThreadPoolExecutor(max_workers=1) as beside:
                sound = beside.submit(_sound_slice, ctx, job.id, options, source, split_plan, chunk.index, src,
                                      tmp, keep_local=hls or split_plan.indexed)
                piece = tmp / "piece.mkv"
                run_ffmpeg(ctx, argv.piece_argv(src.arg, split_plan.stream, chunk, split_plan.plan.frame_duration,
                                                piece, access=src.access), what="ffmpeg (piece)")
                if isinstance(options, AdaptiveOptions):
                    done = _hls_part(ctx, options, source, split_plan, chunk, piece.absolute(), sound.result(), tmp,
                                     out)
                elif split_plan.indexed:
                    done = tmp / f"{part}.{options.format}"
                    run_ffmpeg(ctx, argv.mp4_part_argv(options, source, piece.absolute(), chunk, sound.result(),
                                                       _sound_shift(split_plan, chunk, options), done))
                else:
                    done = tmp / f"{part}.nut"
                    run_ffmpeg(ctx, argv.video_chunk_argv(options, source, piece.absolute(), chunk, done))
                    sound.result()
        ctx.work.put_file(out_key, done, move=True)
    _record_progress(ctx, job.id, len(split_plan.parts()))


def _sound_slice(ctx: StepContext, job_id: str, options: VideoOptions | AdaptiveOptions, source: File,
                 split_plan: SplitPlan, index: int, src: MediaSource, tmp: Path, *, keep_local: bool) -> Path | None:
    """The chunk's slice of the sound, stored for the join (None: no sliced sound, or stored already),
    or with `keep_local` returned as a local file for the part itself (None: the sound ended before the
    chunk, which then has none, as in the single pass)."""
    if not split_plan.sound:
        return None
    key = sound_key(job_id, index)
    if not keep_local and ctx.work.exists(key):
        return None
    piece = split_plan.sound[index]
    encoded, kept = tmp / "sound.aac", tmp / "kept.aac"
    run_ffmpeg(ctx, argv.sound_slice_argv(options, source, src.arg, piece, encoded, access=src.access), "ffmpeg (sound)")
    kept.write_bytes(keep(encoded.read_bytes(), piece))
    encoded.unlink()
    if keep_local:
        return kept if kept.stat().st_size else None
    ctx.work.put_file(key, kept, move=True)
    return None


def _hls_part(ctx: StepContext, options: AdaptiveOptions, source: File, split_plan: SplitPlan, chunk: Chunk,
              piece: Path, sound: Path | None, tmp: Path, out: tuple[BlobStore, str]) -> Path:
    """The chunk's segments of every rendition, stored where the single pass puts them; returns the
    part's playlists (media/hls_parts.py), the part's output."""
    out_dir = tmp / "hls"
    run_ffmpeg(ctx, argv.hls_part_argv(options, source, piece, chunk, sound, _timing(split_plan, chunk, options), out_dir))
    playlists = hls_parts.collect(out_dir)
    store, folder = out
    store.put_tree(folder, out_dir, move=True)
    marker = tmp / "playlists.json"
    marker.write_text(playlists.model_dump_json())
    return marker


def _timing(split_plan: SplitPlan, chunk: Chunk, options: AdaptiveOptions) -> SegmentTiming:
    """An HLS part's place in the single pass's output (whose muxer keeps timestamps as encoded)."""
    first = round((chunk.zero - split_plan.plan.chunks[0].zero) / SEGMENT_SECONDS)
    return SegmentTiming(offset=chunk.zero - (options.start or 0.0), sound_shift=_sound_shift(split_plan, chunk, options),
                         first_segment=first)


def _sound_shift(split_plan: SplitPlan, chunk: Chunk, options: VideoOptions | AdaptiveOptions) -> float:
    """Where a part's slice of the sound starts against its picture (seconds): where the slice's first
    kept frame plays (the first slice's is the encoder's priming, one AAC frame before the output's
    zero) less where the chunk starts. So the part's output `-t` keeps the slice's last frame, which
    starts before the chunk ends."""
    if not split_plan.sound:
        return 0.0
    piece = split_plan.sound[chunk.index]
    return (piece.start - (FRAME if piece.start == 0 else 0)) / piece.rate - (chunk.zero - (options.start or 0.0))


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
