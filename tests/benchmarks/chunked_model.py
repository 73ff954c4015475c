"""The Lambda model of a chunked encode (tests/benchmarks/bench_chunked.py, part 3): the pipeline as the
code runs it on AWS, from the per-part costs the benchmark measures on this machine and the assumptions
below, all written into BENCHMARKS.md with the arithmetic."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mediajet.media.plans.hls import SEGMENT_SECONDS
from mediajet.pipeline import chunk_join
from mediajet.pipeline import chunked as pipeline_chunks
from mediajet.settings import Settings
from mediajet.storage import s3_compose

MB = 1e6
HOUR = 3600.0
CORES = os.cpu_count() or 1

# --- the model's assumptions (all printed in the section) ------------------------------------------------
LAMBDA_VCPUS = 6  # encode and encode_chunk at 10240 MB
X264_EFFICIENCY = 0.8  # x264 does not scale linearly with threads
ARM_PER_VCPU = 1.0  # a Graviton vCPU taken as fast as one vCPU here for x264 (unmeasured)
LAMBDA_BUSY = LAMBDA_VCPUS * X264_EFFICIENCY * ARM_PER_VCPU  # this machine's vCPUs a Lambda encode keeps busy
SPEED = LAMBDA_BUSY / CORES  # the brief's scaling of a wall time measured here
S3_MB_S = 100.0  # one Lambda's GET or PUT of a large object (boto3 managed transfer)
S3_OBJECT_S = 0.03  # per object moved, besides its bytes (download_file: HEAD + GET; upload_file: PUT)
COLD_START_S = 1.5  # runtime + mediajet and ffmpeg layers + first-call imports, for every invocation
STATE_S = 0.1  # Step Functions latency per state
MAP_START_S = 1.0  # Distributed Map: read items.json, start the child executions
CONCURRENCY = 100  # infra/pipeline.py DEFAULT_CHUNK_CONCURRENCY (the Map's MaxConcurrency)
PART_BYTES = 16 * 2**20  # storage/s3.py MULTIPART_THRESHOLD: also the part size
PRICE_GB_S = 0.0000133334  # Lambda arm64, us-east-1, first tier
PRICE_EPHEMERAL_GB_S = 0.0000000309  # ephemeral storage above 0.5 GB
PRICE_REQUEST = 0.20 / 1e6
PRICE_TRANSITION = 0.025 / 1000  # Step Functions Standard (the Map's children are Standard executions)
TRANSITIONS_PER_ITEM = 3  # a child execution: start, the encode_chunk task, end
MAIN_TRANSITIONS = 12  # probe, import, encode, choice, map, join, export, finalize, outcome, succeeded, ...
PRICE_PUT = 0.005 / 1000  # S3 PUT/POST/LIST
PRICE_GET = 0.0004 / 1000  # S3 GET/HEAD
# infra/lambdas.py: TRANSFER (probe, import, export), JOIN, VIDEO (encode, encode_chunk), SMALL (finalize)
MEMORY_GB = {"transfer": 1.0, "join": 1.0, "video": 10.0, "small": 0.5}
EPHEMERAL_GB = {"transfer": 5.0, "join": 10.0, "video": 10.0, "small": 0.5}  # GiB
LAMBDA_TIMEOUT_S = 900
SERVER_COPY_MB_S = 300.0  # S3 server-side copy, boto3 multipart copy (16 MB parts, 10 at a time)
COPY_REQUEST_MB_S = SERVER_COPY_MB_S / 10  # so one UploadPartCopy request
PART_THREADS = s3_compose.PART_THREADS  # a composed object's parts copied or uploaded at once
INDEX_THREADS = chunk_join.INDEX_THREADS  # MP4 parts whose index the join reads at once
INDEX_REQUESTS = 3  # per part: HEAD (its size), GET its box headers, GET its moov (read_ahead blocks)
EXPORT_THREADS = 16  # pipeline/transfer.py: files exported at once
PROBE_IN_PLACE_S = 0.5  # ffprobe of an S3 object through ranged reads (the header, a few packets)
JOIN_THREADS = chunk_join.JOIN_THREADS  # HLS parts' playlists read at once by the join
TREE_THREADS = 16  # storage/s3.py: files stored at once by put_tree



@dataclass
class Parts:
    input_seconds: float
    scan_s: float  # reading and parsing the MP4 index (linear in length), fastest of two
    header_s: float  # ffprobe of the header before it (fixed)
    index_mb: float  # bytes of the index read (linear in length)
    split_s: float  # every piece cut from the input by stream copy (each part cuts its own), fastest of two
    pieces: int
    piece_mb: float  # median, the tail left out
    audio_cpu: float  # the sound of the whole input (one thread: wall ≈ CPU when nothing else runs)
    audio_mb: float
    slice_seconds: float  # one chunk's slice of the sound, encoded with its pre- and post-roll
    slice_cpu: float
    slice_mb: float
    chunk_seconds: float = 0.0  # the chunk encoded alone (0: not measured)
    chunk: Any = None  # bench_chunked.Usage
    chunk_out_mb: float = 0.0
    index_join_cpu: float = 0.0  # the join's moov for an hour of such chunks, built from their sample tables
    index_kb: float = 0.0  # one chunk's moov
    moov_mb: float = 0.0  # the hour's


# --- 3. the Lambda model ---------------------------------------------------------------------------------

def s3_requests(size: float, objects: int = 1) -> tuple[int, int]:
    """(PUT-class, GET-class) requests to upload, and to download, `objects` objects of `size` bytes in all."""
    each = size / max(1, objects)
    parts = max(1, math.ceil(each / PART_BYTES))
    put = objects * (parts + 2 if each >= PART_BYTES else 1)  # create + parts + complete
    return put, objects * (1 + parts)  # HEAD + ranged GETs


@dataclass
class Stage:
    name: str
    memory: str  # a key of MEMORY_GB
    seconds: float  # all invocations together
    invocations: int
    arithmetic: str
    puts: int = 0
    gets: int = 0

    def gb_s(self) -> float:
        return MEMORY_GB[self.memory] * self.seconds

    def lambda_cost(self) -> float:
        ephemeral = max(0.0, EPHEMERAL_GB[self.memory] - 0.5) * self.seconds * PRICE_EPHEMERAL_GB_S
        return self.gb_s() * PRICE_GB_S + ephemeral + self.invocations * PRICE_REQUEST

    def s3_cost(self) -> float:
        return self.puts * PRICE_PUT + self.gets * PRICE_GET


@dataclass
class Media:
    """What the model knows about one kind of output, per second of input."""

    label: str
    in_mb_s: float
    out_mb_s: float
    files: Callable[[float], int]  # output files for a duration
    cpu_per_s: float  # CPU-seconds of the video encode per second of input, on this machine
    join_s_per_s: float  # the join's own work: MP4 its moov (CPU-s), HLS its playlists, per second of input
    parts: Parts  # scan, split and sound measured on parts.input_seconds
    renditions: int = 1  # HLS: playlists the join writes, besides the master

    @property
    def hls(self) -> bool:
        return self.renditions > 1


@dataclass
class Model:
    wall: float
    cost: float
    map_s: float
    serial_s: float
    stages: list[Stage]
    lines: list[str]
    join_disk_gb: float
    waves_s: float  # the parts' waves
    chunk_seconds: float  # as the plan sizes them


def _t(mb: float) -> float:
    return mb / S3_MB_S


def chunked_model(m: Media, duration: float, chunk_seconds: float, concurrency: int = CONCURRENCY, *,
                  one_wave: bool = True) -> Model:
    """The pipeline as the code runs it: probe copies an s3:// input into the working bucket inside S3 and
    probes it there (ranged reads); the encode step plans from the header and the MP4 index, in chunks of
    chunk_seconds or (`one_wave`, MEDIAJET_CHUNK_PARALLELISM = the Map's concurrency) longer, so that they
    take one wave; the Map runs the parts, each reading its own piece by ranged GETs and encoding it and
    its slice of the sound (the sound's ffmpeg reads the same range again). MP4: parts upload an MP4 of
    their chunk with its slice, the join reads their indexes and composes the result in the output bucket
    by server-side part copies. HLS: parts upload their segments into the output bucket TREE_THREADS at a
    time, the join reads their playlists and writes the whole encode's there. So export has nothing to
    copy (the job names no destination). Finalize."""
    p, c, o = m.parts, COLD_START_S, S3_OBJECT_S
    per_s = 1 / p.input_seconds
    d_in, d_out, files = m.in_mb_s * duration, m.out_mb_s * duration, m.files(duration)
    setting = chunk_seconds
    if one_wave:
        chunk_seconds = pipeline_chunks.chunk_length(Settings(chunk_seconds=chunk_seconds, chunk_parallelism=concurrency), duration,
                                     SEGMENT_SECONDS if m.hls else None)
    n = max(2, math.ceil(duration / chunk_seconds))
    waves = math.ceil(n / concurrency)
    piece, chunk_out = d_in / n, d_out / n
    index_mb = p.index_mb * per_s * duration
    plan_read = PROBE_IN_PLACE_S + _t(index_mb) + p.scan_s * per_s * duration
    cut = p.split_s * per_s * duration / n
    length = duration / n
    sound = p.slice_cpu / p.slice_seconds * length  # one thread, a Graviton vCPU as fast as one here
    encode = m.cpu_per_s * length / LAMBDA_BUSY
    stages: list[Stage] = []

    def stage(name: str, memory: str, seconds: float, count: int, text: str, requests: tuple[int, int]) -> float:
        stages.append(Stage(name, memory, seconds * count, count, f"{text} = **{seconds:.1f} s**", *requests))
        return seconds

    put_in, _ = s3_requests(d_in * MB)
    copy_in = d_in / SERVER_COPY_MB_S
    probe_s = stage("probe", "transfer", c + o + copy_in + PROBE_IN_PLACE_S, 1,
                    f"cold {c:g} + HEAD + copy the input into the working bucket inside S3, {d_in:.0f} MB at "
                    f"{SERVER_COPY_MB_S:g} MB/s ({copy_in:.1f}) + ffprobe in place {PROBE_IN_PLACE_S:g}",
                    (put_in, 2 + 4))
    import_s = stage("import", "transfer", c + o, 1, f"cold {c:g} + HEAD (probe copied it)", (0, 1))
    plan_s = stage("encode (plan)", "video", c + 2 * o + plan_read + 3 * o, 1,
                   f"cold {c:g} + HEAD + ffprobe of the header in place {PROBE_IN_PLACE_S:g} + GET the MP4 index, "
                   f"{index_mb:.1f} MB, and parse it ({plan_read - PROBE_IN_PLACE_S:.1f}) + PUT plan and items",
                   (2, 6))
    if m.hls:
        part_files = files / n
        put_part = _t(chunk_out) + part_files * o / TREE_THREADS + o
        put_text = f"PUT its {part_files:.0f} segments, {chunk_out:.1f} MB, and its playlists ({put_part:.2f})"
        put_count = math.ceil(part_files) + 1
    else:
        put_part = o + _t(chunk_out)
        put_text = f"PUT its MP4, {chunk_out:.1f} MB with its sound ({put_part:.2f})"
        put_count = s3_requests(chunk_out * MB)[0]
    # The sound's ffmpeg (one thread) runs beside the piece's cut (it reads the part's range of the input
    # again); the part's encode muxes it, so starts once both are done.
    sound_path = _t(piece) + sound
    work = max(_t(piece) + cut, sound_path) + encode
    overlap = f"max(read its piece, {piece:.1f} MB, and cut it ({_t(piece) + cut:.2f}), its slice of the sound"
    after = f") + encode {m.cpu_per_s:.2f} CPU-s/s × {length:g} s ÷ {LAMBDA_BUSY:g} vCPUs ({encode:.1f})"
    chunk_s = stage("encode_chunk", "video", c + 3 * o + work + put_part, n,
                    f"each: cold {c:g} + GET plan.json, HEAD + {overlap}: read the range again and encode "
                    f"{p.slice_cpu / p.slice_seconds:.3f} CPU-s/s × {length:g} s on one thread ({sound_path:.2f})"
                    f"{after} + {put_text}",
                    (n * put_count, n * (2 * math.ceil(piece * MB / PART_BYTES) + 3)))
    waves_s = waves * chunk_s
    map_s = MAP_START_S + waves_s
    if m.hls:
        get_parts = n * 2 * o / JOIN_THREADS
        put_files = (m.renditions + 1) * o / TREE_THREADS
        join_s = stage("join", "join", c + o + get_parts + 0.1 + put_files + 0.2, 1,
                       f"cold {c:g} + GET {n} parts' playlists, {JOIN_THREADS} at a time ({get_parts:.1f}) + write "
                       f"the playlists 0.1 + PUT {m.renditions + 1} of them ({put_files:.2f}) + describe 0.2",
                       (m.renditions + 2, n * 2 + 2))
        join_disk = 0.01
    else:
        # The join reads each part's index, writes the moov and places the parts' media by one multipart
        # upload into the output bucket: the first part (header + the first chunk, which must be uploaded)
        # goes through the function, the others are UploadPartCopy requests inside S3.
        read_index = n * INDEX_REQUESTS * o / INDEX_THREADS
        build = m.join_s_per_s * duration
        first = 2 * _t(chunk_out)
        copies = (d_out - chunk_out) / (COPY_REQUEST_MB_S * PART_THREADS) + (n + 1) * o / PART_THREADS
        join_s = stage("join", "join", c + o + read_index + build + first + copies + PROBE_IN_PLACE_S, 1,
                       f"cold {c:g} + GET plan + read {n} parts' indexes, {INDEX_REQUESTS} requests each, "
                       f"{INDEX_THREADS} at a time ({read_index:.1f}) + build the moov ({build:.1f}) + GET and PUT the "
                       f"first part with the header ({first:.1f}) + {n - 1} UploadPartCopy of {chunk_out:.0f} MB, "
                       f"{COPY_REQUEST_MB_S:g} MB/s each, {PART_THREADS} at a time, + complete ({copies:.1f}) + "
                       f"ffprobe of the result in place {PROBE_IN_PLACE_S:g}",
                       (n + 3, n * INDEX_REQUESTS + 1 + 4))
        join_disk = 0.01
    export_s = stage("export", "transfer", c + 0.1, 1, f"cold {c:g} + records 0.1 (the "
                     f"{'parts and the join' if m.hls else 'join'} wrote the result where export would copy it)", (0, 0))
    finalize_s = stage("finalize", "small", c + 0.3, 1, f"cold {c:g} + records and deletes 0.3", (1, 0))
    serial = probe_s + import_s + plan_s + join_s + export_s + finalize_s + 8 * STATE_S
    wall = serial + map_s
    transitions = MAIN_TRANSITIONS + TRANSITIONS_PER_ITEM * n
    cost = sum(s.lambda_cost() + s.s3_cost() for s in stages) + transitions * PRICE_TRANSITION
    lines = [
        (f"{d_in:.0f} MB in, {d_out:.0f} MB out in {files} file(s); {n} chunks of {length:g} s "
         f"(MEDIAJET_CHUNK_SECONDS={setting:g}{', grown to one wave' if length > setting else ''}), each with its slice of the sound = {n} Map "
         f"items, concurrency {concurrency} → {waves} wave(s). Seconds:"),
        "",
        *[f"- {s.name}: {s.arithmetic}" for s in stages],
        f"- Map: start {MAP_START_S:g} + {waves} wave(s) × part {chunk_s:.1f} = **{map_s:.1f} s**",
        "",
        (f"Wall time = probe {probe_s:.1f} + import {import_s:.1f} + plan {plan_s:.1f} + Map {map_s:.1f} + "
         f"join {join_s:.1f} + export {export_s:.1f} + finalize {finalize_s:.1f} + 8 states × {STATE_S:g} = "
         f"**{wall:.0f} s** ({wall / 60:.1f} min)."),
        "",
        "| stage | GB | seconds, all invocations | GB-s | Lambda $ | S3 requests PUT/GET | S3 $ |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *[(f"| {s.name} | {MEMORY_GB[s.memory]:g} | {s.seconds:.1f} | {s.gb_s():.0f} | {s.lambda_cost():.4f} | "
           f"{s.puts}/{s.gets} | {s.s3_cost():.4f} |") for s in stages],
        (f"| Step Functions | | | | | {transitions} transitions × $0.025/1000 | "
         f"{transitions * PRICE_TRANSITION:.4f} |"),
        "",
        (f"Cost = {sum(s.gb_s() for s in stages):.0f} GB-s × ${PRICE_GB_S} + ephemeral storage + requests + "
         f"S3 + Step Functions = **${cost:.3f}**."),
    ]
    return Model(wall, cost, map_s, serial, stages, lines, join_disk, waves_s, length)


def one_pass_model(m: Media, duration: float) -> float:
    """Wall time of the same job in one pass on Lambda: one encode function does it all."""
    c, o = COLD_START_S, S3_OBJECT_S
    d_in, d_out, files = m.in_mb_s * duration, m.out_mb_s * duration, m.files(duration)
    probe_s = c + o + d_in / SERVER_COPY_MB_S + PROBE_IN_PLACE_S
    encode = c + _t(d_in) + m.cpu_per_s * duration / LAMBDA_BUSY + _t(d_out) + files * o / TREE_THREADS
    export = c + o + d_out / SERVER_COPY_MB_S + files * 2 * o / EXPORT_THREADS
    return probe_s + c + encode + export + c + 0.3 + 5 * STATE_S


def lean_model(m: Media, duration: float, chunk_seconds: float) -> tuple[float, str]:
    """What-if, beyond the code: the parts read the customer's object in place (probe copies nothing)."""
    model = chunked_model(m, duration, chunk_seconds)
    c, o = COLD_START_S, S3_OBJECT_S
    seconds = {s.name: s.seconds / s.invocations for s in model.stages}
    probe = c + o + PROBE_IN_PLACE_S
    wall = model.wall - seconds["probe"] + probe
    text = (f"probe {probe:.1f} + import {seconds['import']:.1f} + plan {seconds['encode (plan)']:.1f} + Map "
            f"{model.map_s:.1f} + join {seconds['join']:.1f} + export {seconds['export']:.1f} + finalize "
            f"{seconds['finalize']:.1f} + states {8 * STATE_S:.1f} = **{wall:.0f} s**")
    return wall, text


def model_section(mp4: Media, hls: Media, growth: dict[float, float]) -> list[str]:
    mp4_m, hls_m = chunked_model(mp4, HOUR, 30), chunked_model(hls, HOUR, 30)

    def status(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = [
        "### 3. Model: a 60-minute 1080p input on Lambda",
        "",
        "Assumptions (not measured here):",
        "",
        (f"- The input ({mp4.in_mb_s * 8:.1f} Mbit/s like the test input: {mp4.in_mb_s * HOUR:.0f} MB; the "
         f"service accepts up to {Settings().max_input_bytes / 2**30:g} GiB) is an S3 object in the same region."),
        (f"- S3: {S3_MB_S:g} MB/s per Lambda for one large GET or PUT (boto3 managed transfer, "
         f"{PART_BYTES // 2**20} MB parts), also for several objects at once (the bandwidth is the "
         f"function's), plus {S3_OBJECT_S * 1000:g} ms per object moved, divided by the threads that move them; "
         f"a server-side copy {SERVER_COPY_MB_S:g} MB/s; ffprobe of an S3 object in place {PROBE_IN_PLACE_S:g} s."),
        (f"- Cold start {COLD_START_S:g} s for every invocation (runtime, layers with ffmpeg, first-call "
         "imports: 0.4 s of it measured by bench_cold_import), billed like the rest (Lambda bills INIT since "
         f"August 2025). Step Functions: {STATE_S:g} s per state, {MAP_START_S:g} s to start the Map."),
        (f"- Memory as deployed (infra/lambdas.py): probe, import and export {MEMORY_GB['transfer']:g} GB "
         f"with {EPHEMERAL_GB['transfer']:g} GiB of /tmp, join {MEMORY_GB['join']:g} GB with "
         f"{EPHEMERAL_GB['join']:g} GiB; encode (the plan) and encode_chunk (the parts) "
         f"{MEMORY_GB['video']:g} GB; finalize {MEMORY_GB['small']:g} GB. Map MaxConcurrency {CONCURRENCY}."),
        (f"- us-east-1 prices: Lambda arm64 ${PRICE_GB_S} per GB-s, ${PRICE_EPHEMERAL_GB_S} per GB-s of "
         "/tmp above 0.5 GB, $0.20 per million requests; Step Functions Standard $0.025 per 1000 state "
         f"transitions ({TRANSITIONS_PER_ITEM} per Map child execution, {MAIN_TRANSITIONS} for the rest); S3 "
         "$0.005 per 1000 PUT/LIST, $0.0004 per 1000 GET/HEAD; no transfer charge inside the region."),
        (f"- Scaling: transfers, the index read, the pieces and the join linear in the input's length; a chunk's "
         f"encode and its slice of the sound linear in its length, the video's CPU-seconds ÷ {LAMBDA_BUSY:g} on "
         "the Lambda, the sound's on one thread."),
        "",
        "#### MP4 (h264, default options)",
        "",
        *mp4_m.lines,
        "",
        "#### HLS ladder",
        "",
        *hls_m.lines,
        "",
        "#### Against the targets",
        "",
        "| 60 min of 1080p | modelled wall time | target | modelled cost | target |",
        "|---|---:|---:|---:|---:|",
        (f"| MP4 | {mp4_m.wall:.0f} s | 60 s: {status(mp4_m.wall < 60)} | ${mp4_m.cost:.3f} | "
         f"$0.50: {status(mp4_m.cost < 0.5)} |"),
        (f"| HLS | {hls_m.wall:.0f} s | 120 s: {status(hls_m.wall < 120)} | ${hls_m.cost:.3f} | "
         f"$0.50: {status(hls_m.cost < 0.5)} |"),
        "",
    ]
    lean_mp4, lean_hls = lean_model(mp4, HOUR, 30), lean_model(hls, HOUR, 30)
    video_share = [next(s for s in m.stages if s.name == "encode_chunk").gb_s() / sum(s.gb_s() for s in m.stages)
                   for m in (mp4_m, hls_m)]
    def serial(m: Model) -> str:
        stages = sorted((x for x in m.stages if x.name != "encode_chunk"), key=lambda x: -x.seconds)
        return ", ".join(f"{x.name} {x.seconds:.0f}" for x in stages[:4])

    def copy_out(m: Media) -> float:
        return m.out_mb_s * HOUR / SERVER_COPY_MB_S + m.files(HOUR) * 2 * S3_OBJECT_S / EXPORT_THREADS

    def seconds(m: Model, name: str) -> float:
        return next(x.seconds for x in m.stages if x.name == name)

    lines += [
        (f"Where the time goes: the Map takes {mp4_m.map_s:.0f} s (MP4) and {hls_m.map_s:.0f} s (HLS), one wave "
         f"of parts of {mp4_m.chunk_seconds:g} s and {hls_m.chunk_seconds:g} s, each encoding its video and its "
         f"slice of the sound. The stages around the Map take {mp4_m.serial_s:.0f} s and {hls_m.serial_s:.0f} s "
         f"(largest: {serial(mp4_m)} s for MP4; {serial(hls_m)} s for HLS). Where the money goes: the chunk "
         f"encodes ({video_share[0]:.1%} and {video_share[1]:.1%} of the GB-s), so the cost follows the "
         "encoder's speed per vCPU far more than the architecture."),
        "",
        ("No function copies the input or the result, no part waits for the whole sound, and HLS segments "
         "are written once, by the parts, into the output bucket: an s3:// input is copied into the working "
         "bucket inside S3 and probed there by ranged reads, the plan comes from the header and the MP4 index, "
         "each part reads only its own piece and encodes its own slice of the sound, and the MP4 join writes only "
         "the result's header (moov) while S3 copies the parts' media into place. A job that names a destination "
         f"in your own bucket still has export copy the result there, server-side (+{copy_out(mp4):.0f} s for MP4, "
         f"+{copy_out(hls):.0f} s for HLS per hour). What still serialises, largest first:"),
        "",
        (f"1. Probe copies the input ({seconds(mp4_m, 'probe'):.0f} s): the parts could read the customer's "
         "object in place."),
        (f"2. The MP4 join ({seconds(mp4_m, 'join'):.0f} s) is mostly S3 copying the parts' bytes into place."),
        "",
        "What-if, 1 done (same encodes, same assumptions):",
        "",
        f"- MP4: {lean_mp4[1]}",
        f"- HLS: {lean_hls[1]}",
        "",
        *chunk_length(mp4, hls, growth),
    ]
    return lines


def chunk_length(mp4: Media, hls: Media, growth: dict[float, float]) -> list[str]:
    """The chunk length and the threshold, chosen by rules stated in the text, from the model."""
    lengths = (10.0, 30.0, 60.0)
    rows, cost = [], {}
    for seconds in lengths:
        for media in (mp4, hls):
            m = chunked_model(media, HOUR, seconds, one_wave=False)
            chunk = next(s for s in m.stages if s.name == "encode_chunk")
            each = chunk.seconds / chunk.invocations
            waves = math.ceil(chunk.invocations / CONCURRENCY)
            cost[(media.label, seconds)] = m.cost
            size = f"{growth[seconds]:+.1%}" if media is mp4 and seconds in growth else ""
            rows.append(f"| {seconds:g} | {media.label} | {chunk.invocations} | {each:.1f} | {waves} × {each:.1f} = "
                        f"{waves * each:.0f} | {m.wall:.0f} | ${m.cost:.3f} | {size} |")
    # The shortest length (the most parallel) that costs at most 10% more than the cheapest, for both kinds.
    best = next((s for s in lengths if all(cost[(k, s)] <= 1.1 * min(cost[(k, x)] for x in lengths)
                                           for k in ("MP4", "HLS"))), 30.0)
    even = {}  # the shortest input from which chunks are no slower than one pass on Lambda
    for media in (mp4, hls):
        even[media.label] = next((d for d in range(20, 1801, 10)
                                  if chunked_model(media, d, best).wall <= one_pass_model(media, d)), None)
    limit = {m.label: LAMBDA_TIMEOUT_S * LAMBDA_BUSY / m.cpu_per_s / 60 for m in (mp4, hls)}
    found = [v for v in even.values() if v]
    minimum = math.ceil(max(found) / 30) * 30 if found else 60
    durations = (30, 60, 90, 120, 300, 600)
    measured = ", ".join(f"{v:+.1%} at {k:g} s" for k, v in sorted(growth.items())) or "an unmeasured amount"
    threshold_rows = [
        f"| {media.label} | " + " | ".join(f"{one_pass_model(media, d):.0f} / {chunked_model(media, d, best).wall:.0f}"
                                           for d in durations) + " |"
        for media in (mp4, hls)]
    return [
        "#### Chunk length and the threshold",
        "",
        ("60 minutes of input, concurrency 100, chunks of chunk_seconds whatever the length (not grown to one "
         "wave). *Map* is the waves of parts; *size* the growth of the 2-minute MP4 output against the one "
         "pass, measured in part 1."),
        "",
        "| chunk_seconds | kind | chunks | one chunk (s) | Map (s) | wall (s) | cost | size |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        ("Shorter chunks mean more parallelism for every input length (one wave up to concurrency × "
         "chunk_seconds of input), shorter encodes per function (a retry redoes less; the 900 s timeout is far), "
         "but each adds a cold start and requests, and a keyframe and a fresh rate control (output size against "
         f"the one pass, measured: {measured}). Rule: the shortest length that costs at most 10% more than the cheapest, for both kinds: "
         f"**{best:g} s**, a multiple of the 6 s HLS segment. Recommended MEDIAJET_CHUNK_SECONDS={best:g}. "
         "On AWS chunks grow beyond it for inputs longer than concurrency × chunk_seconds "
         "(MEDIAJET_CHUNK_PARALLELISM), so every input takes one wave: the model above."),
        "",
        (f"Threshold: one pass against chunks of {best:g} s on Lambda, same model (one pass: one 6-vCPU "
         "function downloads, encodes and uploads it all), wall seconds, one pass / chunks:"),
        "",
        "| kind | " + " | ".join(f"{d} s" for d in durations) + " |",
        "|---|" + "---:|" * len(durations),
        *threshold_rows,
        "",
        (f"Chunks are no slower from about {even['MP4']} s of MP4 input and {even['HLS']} s of HLS; one pass "
         f"would hit the {LAMBDA_TIMEOUT_S} s Lambda timeout at about {limit['MP4']:.0f} min (MP4) and "
         f"{limit['HLS']:.0f} min (HLS). Rule: the shortest multiple of 30 s from which chunks are no slower for "
         f"either kind. Recommended MEDIAJET_CHUNK_MIN_DURATION={minimum}. On a machine with few cores chunking "
         "gains nothing (part 1) and costs CPU: a small self-hosted box can turn it off with "
         "MEDIAJET_CHUNK_MIN_DURATION=0."),
    ]


