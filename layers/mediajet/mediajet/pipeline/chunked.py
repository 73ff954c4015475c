"""The encode step's parallel path: plan keyframe-aligned chunks of a long video, each encoded as its own
part (pipeline/chunk_parts.py) and joined by pipeline/chunk_join.py; here, the plan and where the
parts live. See media/chunking.py.

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
    out/v00000.mp4    the encoded parts; a part whose output exists is done. An MP4/MOV result's
                      parts are that container, with their slice of the sound (media/mp4_join.py);
    out/v00000.nut    any other's are their video, in NUT,
    sound/a00000.aac  with their slice of the sound beside it,
    out/audio         or the whole encoded sound (MP4 or Matroska, see media/plans/chunked.py)

HLS parts write their segments straight into the encode's result (the single pass's place for it),
with their slice of the sound; their output, `out/v00000.json`, is their playlists, from which the
join writes the whole encode's.
"""

from __future__ import annotations

import json
import logging
import math

from pydantic import BaseModel

from mediajet.media import chunking, runner
from mediajet.media.chunking import ChunkPlan
from mediajet.media.plans import chunked as argv
from mediajet.media.plans.hls import SEGMENT_SECONDS
from mediajet.media.plans.video import MOV_FAMILY
from mediajet.media.sound_slices import AAC_RATES, SoundSlice, plan_slices
from mediajet.models.file import File
from mediajet.models.job import Job
from mediajet.models.options import AdaptiveOptions, MediaOptions, VideoOptions
from mediajet.pipeline.context import StepContext
from mediajet.settings import Settings
from mediajet.storage.media_source import MediaSource, media_source

log = logging.getLogger("mediajet.pipeline")

AUDIO = "audio"
CHUNKED_KINDS = ("video", "adaptive_video")
SOUND_LATE_S = 1.0  # a sound starting later than this after the output's zero is encoded whole


class SplitPlan(BaseModel):
    stream: int
    plan: ChunkPlan
    audio: bool
    sound: list[SoundSlice] = []  # the sound in slices, one per chunk; empty: whole, as a part of its own
    indexed: bool = False  # MP4/MOV parts with their sound, joined by their indexes (media/mp4_join.py)

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


def out_key_for(job_id: str, part: str, split_plan: SplitPlan, options: MediaOptions) -> str:
    """A part's output: its chunk's MP4/MOV, or its video (NUT), an HLS part's playlists (JSON), or the
    whole sound."""
    if part == AUDIO:
        return f"{prefix(job_id)}/out/{part}"  # the sound's container varies
    if isinstance(options, AdaptiveOptions):
        return f"{prefix(job_id)}/out/{part}.json"
    return f"{prefix(job_id)}/out/{part}." + (options.format if split_plan.indexed else "nut")


def sound_key(job_id: str, index: int) -> str:
    return f"{prefix(job_id)}/sound/a{index:05d}.aac"


def part_index(part: str) -> int:
    return int(part.removeprefix("v"))


def requested_length(options: MediaOptions, source: File) -> float:
    """Seconds of the input the job asks for (start to end, within the input; 0: not known)."""
    if not source.duration:
        return 0.0
    start = options.start or 0.0
    end = min(options.end, source.duration) if options.end is not None else source.duration
    return max(0.0, end - start)


def chunk_length(settings: Settings, duration: float, grid: float | None = None) -> float:
    """About how long each chunk is: `chunk_seconds`, or longer when the input would otherwise need more
    parts than the deployment runs at once (then a multiple of `grid`, the HLS segment length)."""
    length = settings.chunk_seconds
    if settings.chunk_parallelism and duration / settings.chunk_parallelism > length:
        length = duration / settings.chunk_parallelism
        length = math.ceil(length / grid) * grid if grid else length
    return length


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
        split_plan = load_plan(ctx, job.id)
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
    grid = SEGMENT_SECONDS if hls else None
    plan = chunking.plan_chunks(
        scanned, target=chunk_length(ctx.settings, requested_length(options, source), grid), start=options.start, end=options.end,
        grid=grid, fps=None if hls else options.fps,
    )
    if plan is None:
        return None
    audio = source.has_audio and not options.mute
    rate = scanned.sample_rate
    # The slices' ADTS has no timestamps: the sound must start with the output (the first slice pads a
    # late start with silence, but only if it holds any sound at all).
    in_time = scanned.sound_start is not None and scanned.sound_start - (options.start or 0.0) <= SOUND_LATE_S
    sliced = audio and in_time and rate in AAC_RATES and argv.sound_is_aac(options, source)
    sound = plan_slices([c.zero for c in plan.chunks], options.start or 0.0, rate) if sliced and rate else []
    if hls and audio and not sound:
        return None  # HLS parts mux their own slice of the sound; a sound that cannot be sliced: one pass
    indexed = not hls and options.format in MOV_FAMILY and (bool(sound) or not audio)
    return SplitPlan(stream=scanned.stream, plan=plan, audio=audio, sound=sound, indexed=indexed)


def run_ffmpeg(ctx: StepContext, command: list[str], what: str = "ffmpeg") -> None:
    runner.run(command, timeout=ctx.remaining_s(), cancel=ctx.cancel, stop=ctx.stop, what=what)


def load_plan(ctx: StepContext, job_id: str) -> SplitPlan:
    with ctx.work.local_path(_plan_key(job_id)) as path:
        return SplitPlan.model_validate_json(path.read_text())


def _put_json(ctx: StepContext, key: str, value: object) -> None:
    with ctx.tempdir("json-") as tmp:
        path = tmp / "value.json"
        path.write_text(json.dumps(value))
        ctx.work.put_file(key, path, move=True)
