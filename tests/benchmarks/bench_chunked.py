"""Chunked parallel encoding: its speed-up on this machine, and a model of a 60-minute 1080p job on Lambda.

    .venv/bin/python -m tests.benchmarks.bench_chunked [--runs 2] [--seconds 120] [--hls-seconds 24] [--quick]

1. This machine: whole local jobs (LocalRuntime + run_job) on a 2-minute 1080p30 input, mp4/h264 with
   default options, in one pass (chunk_min_duration=0) and chunked (chunk_seconds 30, and 10 once;
   workers = cores), runs alternated; the HLS ladder once each on a shorter clip (its five renditions
   cost ~1.6 s per second of 1080p here). "bare ffmpeg" is the one-pass job's own ffmpeg process: the
   argv engine.plan builds, timed inside the job (bench_pipeline times it outside a job too; they agree
   within its noise), so one encode gives both numbers. Each run waits (up to 10 s) for the machine to
   be quiet and records the CPU other processes took meanwhile (this machine is shared); a disturbed run
   is repeated (once at most in all), and each case is judged by its fastest run. About 11 minutes on a
   quiet machine (plus a minute to render the input the first time).
   Every chunked output is checked against the one pass (packets per stream, ffprobe -count_packets;
   per rendition for HLS) before anything is reported: a fast broken result fails the benchmark.
2. Parts alone: keyframe scan, split, one 30 s chunk and its slice of the sound, the whole sound (what
   a webm's Opus part costs), as the encode step runs them.
3. A model of a 60-minute input on Lambda built from those numbers; the assumptions and the arithmetic
   are written into the section.

--quick: a 12 s input and 6 s chunks, one run each; prints, writes nothing. The generated input is
cached under /tmp/mediajet-bench-chunked.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mediajet.local.runtime import LocalRuntime
from mediajet.media import chunking, runner
from mediajet.media.binaries import ffmpeg, ffprobe
from mediajet.media.plans import chunked as chunk_plans
from mediajet.media.plans.hls import SEGMENT_SECONDS, ladder
from mediajet.media.probe import probe
from mediajet.media.sound_slices import keep, plan_slices
from mediajet.models.job import Job
from mediajet.models.requests import parse_options, with_pipeline_tasks
from mediajet.pipeline import chunked as pipeline_chunks
from mediajet.pipeline.execute import run_job
from mediajet.settings import Settings
from mediajet.storage.local import LocalBlobStore
from mediajet.storage.media_source import media_source
from tests.benchmarks.cpu import machine_busy, own_cpu
from tests.benchmarks.report import write_section

CACHE = Path(tempfile.gettempdir()) / "mediajet-bench-chunked"
SIZE, FPS, GOP = "1920x1080", 30, 60
MP4 = ("video", {"format": "mp4", "codec": "h264"})
HLS = ("adaptive_video", {"format": "hls"})
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
EXPORT_THREADS = 16  # pipeline/transfer.py: files exported at once
PROBE_IN_PLACE_S = 0.5  # ffprobe of an S3 object through ranged reads (the header, a few packets)
JOIN_THREADS = 8  # pipeline/chunked.py: parts downloaded at once by the join
TREE_THREADS = 16  # storage/s3.py: files stored at once by put_tree


# --- media ---------------------------------------------------------------------------------------------

def _ffmpeg(args: list[str]) -> None:
    subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def make_source(seconds: float) -> Path:
    """1080p30 testsrc2 with temporal grain (~8 Mbit/s at x264 veryfast CRF 20; the default encode keeps
    ~6 Mbit/s of it), a keyframe every 2 s as phones write them, pink-noise stereo AAC. At most 60 s is
    rendered (rendering costs about real time); a longer input repeats it by stream copy."""
    path = CACHE / f"src-{seconds:g}s.mp4"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rendered = min(seconds, 60.0)
    base = CACHE / f"render-{rendered:g}s.mp4"
    if not base.exists():
        print(f"generating a {rendered:g} s {SIZE} source (once; cached in {CACHE})", flush=True)
        partial = base.with_suffix(".part.mp4")
        _ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size={SIZE}:rate={FPS},noise=alls=4:allf=t+u,format=yuv420p",
                 "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.05:sample_rate=48000",
                 "-t", f"{rendered:g}", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
                 "-g", str(GOP), "-keyint_min", str(GOP), "-c:a", "aac", "-b:a", "160k", "-ac", "2",
                 "-movflags", "+faststart", str(partial)])
        partial.rename(base)
    if rendered == seconds:
        return base
    _ffmpeg(["-stream_loop", str(math.ceil(seconds / rendered) - 1), "-i", str(base), "-t", f"{seconds:g}",
             "-c", "copy", "-movflags", "+faststart", str(path)])
    return path


def clip(src: Path, seconds: float) -> Path:
    """The first `seconds` of `src` by stream copy (it has a keyframe every 2 s)."""
    path = CACHE / f"{src.stem}-first{seconds:g}s.mp4"
    if not path.exists():
        _ffmpeg(["-i", str(src), "-t", f"{seconds:g}", "-c", "copy", "-movflags", "+faststart", str(path)])
    return path


def packet_counts(path: Path) -> list[tuple[str, int]]:
    """(codec type, packets) per stream, every packet read."""
    result = subprocess.run([ffprobe(), "-v", "error", "-count_packets", "-show_entries",
                             "stream=codec_type,nb_read_packets", "-of", "json", str(path)],
                            check=True, capture_output=True)
    return [(s["codec_type"], int(s["nb_read_packets"])) for s in json.loads(result.stdout)["streams"]]


# --- CPU accounting: this machine is shared --------------------------------------------------------------



@dataclass
class Usage:
    wall: float
    cpu: float  # ours
    others: float  # average cores other processes took

    @classmethod
    def measure(cls, work: Callable[[], object]) -> tuple[Usage, object]:
        busy, own, start = machine_busy(), own_cpu(), time.perf_counter()
        result = work()
        wall = time.perf_counter() - start
        cpu = own_cpu() - own
        return cls(wall, cpu, max(0.0, (machine_busy() - busy - cpu) / wall)), result


def wait_quiet(limit_s: float = 10.0, threshold: float = 0.25) -> float:
    """Wait (at most `limit_s`) until other processes use less than `threshold` cores for a second."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit_s:
        usage, _ = Usage.measure(lambda: time.sleep(1.0))
        if usage.others < threshold:
            break
    return time.perf_counter() - start


# --- every process a job runs, timed -----------------------------------------------------------------------

@dataclass
class Call:
    label: str  # probe, scan, encode (one pass), piece, chunk, audio (the whole sound or a slice), join
    seconds: float


_calls: list[Call] = []
_lock = threading.Lock()


def _label(argv: list[str], what: str | None) -> str:
    if "ffprobe" in Path(argv[0]).name:  # the plan's header read (MP4 index) or packet scan; else the probe
        return "scan" if any(a.startswith("format=start_time,format_name") for a in argv) else "probe"
    if what in ("ffmpeg (piece)", "ffmpeg (join)"):
        return what[len("ffmpeg ("):-1]
    if "nut" in argv or "-output_ts_offset" in argv:  # a video part, or an HLS part writing its segments
        return "chunk"
    return "audio" if "-vn" in argv else "encode"


def _record_calls() -> None:
    real_run = runner.run

    def timed(argv, **kwargs):
        result = real_run(argv, **kwargs)
        with _lock:
            _calls.append(Call(_label(list(argv), kwargs.get("what")), result.seconds))
        return result

    runner.run = timed  # type: ignore[assignment]


@dataclass
class JobRun:
    usage: Usage
    calls: list[Call]
    counts: dict[str, list[tuple[str, int]]]  # output file or rendition → packets per stream
    out_bytes: int

    def seconds(self, label: str) -> float:
        return sum(c.seconds for c in self.calls if c.label == label)

    def each(self, label: str) -> list[Call]:
        return [c for c in self.calls if c.label == label]


def whole_job(kind: str, options: dict, src: Path, settings: Settings) -> JobRun:
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="job-") as tmp:
        data = Path(tmp)
        runtime = LocalRuntime.open(settings, data, allow_local_files=True)
        job = Job(kind=kind, input=src.as_uri(), options=options, destination=str(data / "out" / "{filename}.{ext}"),
                  project_id="bench")
        with_pipeline_tasks(job)
        runtime.jobs.create_job(job)
        wait_quiet()
        with _lock:
            _calls.clear()
        usage, _ = Usage.measure(lambda: run_job(job.id, runtime.context()))
        record = runtime.jobs.get_job(job.id)
        if record.status != "succeeded":
            raise SystemExit(f"{kind} job failed: {record.error}")
        with _lock:
            calls = list(_calls)
        out = data / "out"
        files = [p for p in out.rglob("*") if p.is_file()]
        if kind == "adaptive_video":
            counts = {d.name: packet_counts(d / "stream.m3u8") for d in sorted(out.iterdir()) if d.is_dir()}
        else:
            counts = {p.suffix: packet_counts(p) for p in files}
        return JobRun(usage, calls, counts, sum(p.stat().st_size for p in files))


# --- 1. the local speed-up ---------------------------------------------------------------------------------

@dataclass
class Case:
    name: str
    kind: str
    options: dict
    src: Path
    chunk_seconds: float | None  # None: one pass
    runs: int
    results: list[JobRun] = field(default_factory=list)

    def settings(self) -> Settings:
        if self.chunk_seconds is None:
            return Settings(chunk_min_duration=0)
        # chunk_min_duration=1: the short clips here are chunked too
        return Settings(chunk_min_duration=1, chunk_seconds=self.chunk_seconds, chunk_workers=CORES)

    def median(self, value: Callable[[JobRun], float]) -> float:
        return statistics.median(value(r) for r in self.results)

    def best(self, value: Callable[[JobRun], float]) -> float:
        """The fastest run's value: on a shared machine noise only ever adds time."""
        return min(value(r) for r in self.results)


BUSY = 0.3  # cores other processes may take during a run before it counts as disturbed
_retries = [1]  # disturbed runs repeated, in the whole benchmark (each costs a run's time)


def run_cases(cases: list[Case]) -> None:
    """Round-robin: every case's n-th run before any case's (n+1)-th, so drift hits all alike. A run
    disturbed by other processes is repeated at once while the retry budget lasts (both are kept)."""
    for round_ in range(max(c.runs for c in cases)):
        for case in cases:
            if round_ >= case.runs:
                continue
            while True:
                r = whole_job(case.kind, case.options, case.src, case.settings())
                case.results.append(r)
                detail = (f"{len(r.each('chunk'))} chunks" if case.chunk_seconds else
                          f"its ffmpeg {r.seconds('encode'):.1f} s")
                print(f"  {case.name:<22} run {round_ + 1}: job {r.usage.wall:6.1f} s, CPU {r.usage.cpu:6.1f} s, "
                      f"others {r.usage.others:.2f} cores, {detail}", flush=True)
                if r.usage.others <= BUSY or _retries[0] <= 0:
                    break
                _retries[0] -= 1


def check_same(single: Case, chunked: Case) -> None:
    """A chunked output holds as many packets per stream as the one pass: no lost or doubled frame."""
    expected = single.results[0].counts
    for result in chunked.results:
        if result.counts != expected:
            raise SystemExit(f"{chunked.name}: packets {result.counts} differ from the one pass's {expected}")


# --- 2. parts alone ----------------------------------------------------------------------------------------

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
    chunk: Usage | None = None
    chunk_out_mb: float = 0.0


def parts_alone(kind: str, options: dict, src: Path, target: float, *, encode_chunk: bool) -> Parts:
    """Scan and split `src` as the encode step does (twice each, the fastest kept); encode the sound of all of
    it, and (`encode_chunk`) one whole chunk from the middle, alone on this machine."""
    hls = kind == "adaptive_video"
    opts = parse_options(kind, options)
    source = probe(src, timeout=60)
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="parts-") as tmp:
        root = Path(tmp)
        # As the encode step plans: ffprobe reads the header (a fixed cost), then the index is read and
        # parsed (linear in the input's length: ~one entry per frame).
        with media_source(LocalBlobStore(src.parent), src.name) as stored:
            header_s, header = Usage.measure(lambda: runner.run(chunking.header_argv(stored.arg), timeout=60,
                                                                capture_stdout=True).stdout.decode())
            read_bytes = [0]

            def counted(offset: int, length: int) -> bytes:
                data = stored.read(offset, length)
                read_bytes[0] += len(data)
                return data

            scans = [Usage.measure(lambda: chunking.scan_index(header, counted, stored.size)) for _ in range(2)]
        scanned = scans[0][1]
        assert isinstance(scanned, chunking.Scan), "the bench input is an MP4 the index reader reads"
        plan = chunking.plan_chunks(scanned, target=target, grid=SEGMENT_SECONDS if hls else None)
        assert plan is not None and len(plan.chunks) >= 2, "the input is too short to cut"
        pieces = [root / f"v{chunk.index:05d}.mkv" for chunk in plan.chunks]

        def cut() -> None:
            for chunk, piece in zip(plan.chunks, pieces, strict=True):
                runner.run(chunk_plans.piece_argv(src.absolute(), scanned.stream, chunk, plan.frame_duration,
                                                  piece), timeout=600)

        splits = [Usage.measure(cut)[0] for _ in range(2)]
        audio = root / "audio"
        audio_argv = chunk_plans.audio_argv(opts, source, src.absolute(), audio)  # type: ignore[arg-type]
        sound, _ = Usage.measure(lambda: runner.run(audio_argv, timeout=600))
        assert scanned.sample_rate, "the bench input's sound has one sample rate"
        slices = plan_slices([c.zero for c in plan.chunks], 0.0, scanned.sample_rate)
        middle = slices[1] if len(slices) > 2 else slices[0]  # a whole one, not the tail
        encoded, kept = root / "slice.aac", root / "kept.aac"
        slice_argv = chunk_plans.sound_slice_argv(opts, source, src.absolute(), middle, encoded)  # type: ignore[arg-type]
        sliced, _ = Usage.measure(lambda: runner.run(slice_argv, timeout=600))
        kept.write_bytes(keep(encoded.read_bytes(), middle))
        parts = Parts(input_seconds=source.duration or 0.0, scan_s=min(u.wall for u, _ in scans),
                      header_s=header_s.wall, index_mb=read_bytes[0] / 2 / MB,
                      split_s=min(u.wall for u in splits), pieces=len(pieces),
                      piece_mb=statistics.median(p.stat().st_size for p in pieces[:-1]) / MB,
                      audio_cpu=sound.cpu, audio_mb=audio.stat().st_size / MB,
                      slice_seconds=((middle.end or 0) - middle.start) / middle.rate, slice_cpu=sliced.cpu,
                      slice_mb=kept.stat().st_size / MB)
        if encode_chunk:
            assert not hls, "the ladder's chunk cost is its one pass's"
            chunk = plan.chunks[1] if len(plan.chunks) > 2 else plan.chunks[0]  # a whole one, not the tail
            out = root / "chunk.nut"
            argv = chunk_plans.video_chunk_argv(opts, source, pieces[chunk.index].absolute(), chunk, out)  # type: ignore[arg-type]
            tries: list[Usage] = []
            while not tries or (tries[-1].others > BUSY and _retries[0] > 0):
                _retries[0] -= bool(tries)
                wait_quiet()
                tries.append(Usage.measure(lambda: runner.run(argv, timeout=3600))[0])
            parts.chunk = min(tries, key=lambda u: u.cpu)
            parts.chunk_seconds, parts.chunk_out_mb = chunk.duration or 0.0, out.stat().st_size / MB
        return parts


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
    join_s_per_s: float
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
    its slice of the sound (the sound's ffmpeg reads the same range again). MP4: parts upload a chunk and
    a slice, the join downloads them JOIN_THREADS at a time, concatenates and uploads the file. HLS: parts
    upload their segments TREE_THREADS at a time, the join reads their playlists and writes the whole
    encode's. Export copies server-side; finalize."""
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
    slice_mb = p.slice_mb / p.slice_seconds * length
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
        put_part = o + _t(chunk_out) + o + _t(slice_mb)
        put_text = f"PUT {chunk_out:.1f} MB and its {slice_mb:.2f} MB of sound ({put_part:.2f})"
        put_count = s3_requests(chunk_out * MB)[0] + 1
    # The sound's ffmpeg (one thread) runs beside the piece's cut and, but for HLS (whose encode muxes it),
    # beside the video's encode; it reads the part's range of the input again.
    sound_path = _t(piece) + sound
    if m.hls:
        work = max(_t(piece) + cut, sound_path) + encode
        overlap = f"max(read its piece, {piece:.1f} MB, and cut it ({_t(piece) + cut:.2f}), its slice of the sound"
        after = f") + encode {m.cpu_per_s:.2f} CPU-s/s × {length:g} s ÷ {LAMBDA_BUSY:g} vCPUs ({encode:.1f})"
    else:
        work = max(_t(piece) + cut + encode, sound_path)
        overlap = (f"max(read its piece, {piece:.1f} MB, cut it and encode {m.cpu_per_s:.2f} CPU-s/s × {length:g} s ÷ "
                   f"{LAMBDA_BUSY:g} vCPUs ({_t(piece) + cut + encode:.1f}), its slice of the sound")
        after = ")"
    chunk_s = stage("encode_chunk", "video", c + 3 * o + work + put_part, n,
                    f"each: cold {c:g} + GET plan.json, HEAD + {overlap}: read the range again and encode "
                    f"{p.slice_cpu / p.slice_seconds:.3f} CPU-s/s × {length:g} s on one thread ({sound_path:.2f})"
                    f"{after} + {put_text}",
                    (n * put_count, n * (2 * math.ceil(piece * MB / PART_BYTES) + 3)))
    waves_s = waves * chunk_s
    map_s = MAP_START_S + waves_s
    put_out, _ = s3_requests(d_out * MB, files)
    if m.hls:
        get_parts = n * 2 * o / JOIN_THREADS
        put_files = (m.renditions + 1) * o / TREE_THREADS
        join_s = stage("join", "join", c + o + get_parts + 0.1 + put_files + 0.2, 1,
                       f"cold {c:g} + GET {n} parts' playlists, {JOIN_THREADS} at a time ({get_parts:.1f}) + write "
                       f"the playlists 0.1 + PUT {m.renditions + 1} of them ({put_files:.2f}) + describe 0.2",
                       (m.renditions + 2, n * 2 + 2))
        join_disk = 0.01
    else:
        get_parts = _t(d_out + slice_mb * n) + n * 2 * 2 * o / JOIN_THREADS
        put_files = _t(d_out) + files * o / TREE_THREADS
        join = m.join_s_per_s * duration
        join_s = stage("join", "join", c + o + get_parts + join + put_files + 0.2, 1,
                       f"cold {c:g} + GET {n} chunks and {n} slices of sound, {JOIN_THREADS} at a time, "
                       f"{d_out + slice_mb * n:.0f} MB ({get_parts:.1f}) + concat by stream copy ({join:.1f}) + PUT "
                       f"{files} file(s), {TREE_THREADS} at a time ({put_files:.1f}) + describe 0.2",
                       (put_out + 1, n * 4 + 2))
        join_disk = (2 * d_out + slice_mb * n) / 1000
    copy_s = d_out / SERVER_COPY_MB_S + files * 2 * o / EXPORT_THREADS
    export_s = stage("export", "transfer", c + o + copy_s, 1,
                     f"cold {c:g} + list + server-side copy of {files} file(s), {d_out:.0f} MB ({d_out / SERVER_COPY_MB_S:.1f} "
                     f"at {SERVER_COPY_MB_S:g} MB/s + {files} × 2 × {o:g} / {EXPORT_THREADS} threads)",
                     (put_out + 1, files + 1))
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
    """What-if, beyond the code: the parts read the customer's object in place (probe copies nothing),
    the MP4 join writes the index (moov) and places the parts' media by server-side part copies
    (UploadPartCopy), and the result is written at its destination (no export copy)."""
    model = chunked_model(m, duration, chunk_seconds)
    c, o = COLD_START_S, S3_OBJECT_S
    seconds = {s.name: s.seconds / s.invocations for s in model.stages}
    n = round(duration / model.chunk_seconds)
    probe = c + o + PROBE_IN_PLACE_S
    join = seconds["join"] if m.hls else c + n * o / JOIN_THREADS + 1.0
    export = c + 0.2
    wall = (probe + seconds["import"] + seconds["encode (plan)"] + model.map_s + join + export
            + seconds["finalize"] + 8 * STATE_S)
    text = (f"probe {probe:.1f} + import {seconds['import']:.1f} + plan {seconds['encode (plan)']:.1f} + Map "
            f"{model.map_s:.1f} + join {join:.1f} + export {export:.1f} + finalize {seconds['finalize']:.1f} + "
            f"states {8 * STATE_S:.1f} = **{wall:.0f} s**")
    return wall, text


# --- the report ----------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=120, help="input length for the mp4 cases")
    parser.add_argument("--hls-seconds", type=float, default=24, help="clip length for the HLS ladder cases")
    parser.add_argument("--runs", type=int, default=2, help="runs of the one pass and of 30 s chunks")
    parser.add_argument("--quick", action="store_true", help="a short smoke run; prints, writes nothing")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.hls_seconds, args.runs = 12.0, 12.0, 1
    mp4_chunks = [6.0] if args.quick else [30.0, 10.0]  # the first gets --runs runs, the others one
    target = 6.0 if args.quick else 30.0  # the chunk measured alone
    started = time.perf_counter()
    _record_calls()
    src = make_source(args.seconds)
    hls_src = clip(src, args.hls_seconds) if args.hls_seconds < args.seconds else src
    hls_chunk = max(SEGMENT_SECONDS, args.hls_seconds // 2)

    mp4_one = Case("mp4 one pass", *MP4, src, None, args.runs)
    mp4_cut = [Case(f"mp4 chunks of {s:g} s", *MP4, src, s, args.runs if i == 0 else 1)
               for i, s in enumerate(mp4_chunks)]
    hls_one = Case("HLS one pass", *HLS, hls_src, None, 1)
    hls_cut = Case(f"HLS chunks of {hls_chunk:g} s", *HLS, hls_src, hls_chunk, 1)
    print(f"1. whole local jobs: {src.name} ({src.stat().st_size / MB:.0f} MB), HLS on {hls_src.name}", flush=True)
    run_cases([mp4_one, *mp4_cut])
    run_cases([hls_one, hls_cut])
    for case in mp4_cut:
        check_same(mp4_one, case)
    check_same(hls_one, hls_cut)
    print("   chunked outputs hold the one pass's packets, stream by stream", flush=True)

    print("2. parts alone", flush=True)
    mp4_parts = parts_alone(*MP4, src, target, encode_chunk=True)
    hls_parts = parts_alone(*HLS, src, target, encode_chunk=False)
    print(f"   {mp4_parts}\n   {hls_parts}", flush=True)

    assert mp4_parts.chunk is not None
    in_mb_s = src.stat().st_size / MB / args.seconds
    renditions = len(ladder(1920, 1080))
    mp4 = Media("MP4", in_mb_s, mp4_one.median(lambda r: r.out_bytes) / MB / args.seconds, lambda d: 1,
                mp4_parts.chunk.cpu / mp4_parts.chunk_seconds,
                mp4_cut[0].best(lambda r: r.seconds("join")) / args.seconds, mp4_parts)
    # The ladder's chunk cost: its one pass's CPU per second (the same encoder settings, all renditions;
    # its probe, output and five sound encodes make it a few percent high).
    hls = Media("HLS", in_mb_s, hls_one.median(lambda r: r.out_bytes) / MB / args.hls_seconds,
                lambda d: renditions * (math.ceil(d / SEGMENT_SECONDS) + 1) + 1,
                hls_one.best(lambda r: r.usage.cpu) / args.hls_seconds,
                hls_cut.best(lambda r: r.seconds("join")) / args.hls_seconds, hls_parts, renditions)
    lines = report(args, mp4_one, mp4_cut, hls_one, hls_cut, mp4, hls, time.perf_counter() - started)
    print("\n".join(lines))
    if not args.quick:
        write_section("Chunked encoding: local speed-up and a Lambda model",
                      " ".join(["python -m tests.benchmarks.bench_chunked", *sys.argv[1:]]), lines)


def _row(case: Case, bare: float) -> str:
    wall = case.best(lambda r: r.usage.wall)
    fastest = min(case.results, key=lambda r: r.usage.wall)
    if case.chunk_seconds is None:
        detail = f"its ffmpeg {fastest.seconds('encode'):.1f} s"
    else:
        chunks = fastest.each("chunk")
        detail = (f"{len(chunks)} chunks, {CORES} at a time: each {statistics.median(c.seconds for c in chunks):.1f} s "
                  f"(median); plan {fastest.seconds('scan'):.1f} s, pieces {fastest.seconds('piece'):.1f} s, "
                  f"sound {fastest.seconds('audio'):.1f} s, join {fastest.seconds('join'):.1f} s")
    runs = " / ".join(f"{r.usage.wall:.1f}" + ("*" if r.usage.others > BUSY else "") for r in case.results)
    return (f"| {case.name} | {runs} | {wall:.1f} | **{bare / wall:.2f}** | {fastest.usage.cpu:.0f} | "
            f"{fastest.usage.others:.2f} | {case.median(lambda r: r.out_bytes) / MB:.1f} | {detail} |")


def report(args, mp4_one: Case, mp4_cut: list[Case], hls_one: Case, hls_cut: Case, mp4: Media, hls: Media,
           elapsed: float) -> list[str]:
    mp4_bare = mp4_one.best(lambda r: r.seconds("encode"))
    hls_bare = hls_one.best(lambda r: r.seconds("encode"))
    renditions = len(ladder(1920, 1080))
    p, q = mp4.parts, hls.parts
    assert p.chunk is not None
    one_size = mp4_one.median(lambda r: r.out_bytes)
    one_cpu = mp4_one.best(lambda r: r.usage.cpu) / args.seconds
    hls_cut_cpu = hls_cut.best(lambda r: r.usage.cpu) / args.hls_seconds
    bare_runs = " / ".join(f"{r.seconds('encode'):.1f}" + ("*" if r.usage.others > BUSY else "")
                           for r in mp4_one.results)
    fastest_one = min(mp4_one.results, key=lambda r: r.usage.wall)
    busy = fastest_one.usage.cpu / fastest_one.usage.wall
    quiet = [[r.usage.cpu for r in c.results if r.usage.others <= BUSY] for c in (mp4_one, *mp4_cut)]
    drift = max((max(cpu) / min(cpu) - 1 for cpu in quiet if len(cpu) > 1), default=0.0)
    noise = (f"The measurements are about as noisy as those gains: the same job took {drift:.0%} more CPU-seconds "
             "in one undisturbed run than in another (the VM's host is shared: its vCPUs slow down without the "
             f"guest seeing it), so speed-ups within about ±{drift / 2:.0%} of 1 are noise. " if drift > 0.03 else "")
    lines = [
        (f"Machine: {CORES} vCPUs (x86_64), shared with other work (test suites ran beside this benchmark): "
         "each run first waits up to 10 s for a quiet machine, and *others* is the CPU other processes took "
         f"during it, in cores. This run: {elapsed / 60:.1f} min. Input: {args.seconds:g} s {SIZE} {FPS} fps "
         f"H.264 (testsrc2 + temporal grain, x264 veryfast CRF 20, a keyframe every 2 s: "
         f"{mp4.in_mb_s * 8:.1f} Mbit/s) + stereo AAC; the first 60 s is rendered, the rest repeats it by "
         f"stream copy. The HLS ladder ({renditions} renditions, 1080p to 240p) runs on the first "
         f"{args.hls_seconds:g} s, once per case, to keep the benchmark under 15 minutes."),
        "",
        "### 1. This machine: one pass against chunks",
        "",
        (f"Whole local jobs (probe, import, encode, export), runs alternated. Chunked: chunk_workers = "
         f"{CORES}, one ffmpeg process per part. *bare ffmpeg* is the one-pass job's own ffmpeg process "
         "(engine.plan's argv, timed inside the job). Other processes only ever add time, so each case is "
         "judged by its fastest run (*best*); speed-up = bare ffmpeg ÷ best. A run marked * was disturbed "
         f"(others took more than {BUSY:g} cores) and was repeated (once at most in the whole benchmark). CPU = CPU-seconds of the best run's "
         "job and all its processes. Every chunked output holds the one pass's packet count in every stream "
         "(video and sound; every rendition for HLS), checked before this was written."),
        "",
        "| case | runs (s) | best (s) | speed-up | CPU (s) | others | output (MB) | where the time goes |",
        "|---|---|---:|---:|---:|---:|---:|---|",
        f"| mp4 bare ffmpeg | {bare_runs} | {mp4_bare:.1f} | 1.00 | | | | |",
        _row(mp4_one, mp4_bare),
        *[_row(c, mp4_bare) for c in mp4_cut],
        f"| HLS bare ffmpeg ({args.hls_seconds:g} s) | {hls_bare:.1f} | {hls_bare:.1f} | 1.00 | | | | |",
        _row(hls_one, hls_bare),
        _row(hls_cut, hls_bare),
        "",
        (f"Why so little: one x264 process already keeps {busy:.2f} of the {CORES} cores busy in the one pass "
         f"(CPU ÷ wall; frame threads plus a lookahead thread), so chunks can win at most {CORES / busy - 1:.0%} "
         "here, and they cost CPU instead (the CPU column): a piece cut per part, the sound encoded in "
         "slices with a third of a second of pre-roll each, a join, a lookahead and rate control restarting at "
         f"every chunk, and for HLS a decode and scale per chunk. {noise}Chunking pays on many machines (Lambda), not on two cores."),
        "",
        "### 2. Parts alone (the model's inputs)",
        "",
        (f"Measured on the {args.seconds:g} s input as the pipeline runs them (the plan and the pieces twice, "
         f"the faster kept). A chunk's encode on a 6-vCPU Lambda: its CPU-seconds measured here ÷ ({LAMBDA_VCPUS} "
         f"vCPUs × {X264_EFFICIENCY} x264 efficiency × {ARM_PER_VCPU:g} for a Graviton vCPU against one of "
         f"these, unmeasured) = **CPU-s ÷ {LAMBDA_BUSY:g}**. CPU-seconds, unlike wall time, do not grow when "
         f"other processes share the machine; in a quiet run this equals the wall time on {CORES} vCPUs "
         f"÷ {SPEED:.1f} ({LAMBDA_VCPUS}/{CORES} vCPUs × {X264_EFFICIENCY}), shown for comparison. The "
         "ladder's chunk cost is its one pass's CPU per second (the same encoder settings; for mp4 a chunk "
         f"alone costs {p.chunk.cpu / p.chunk_seconds:.2f} CPU-s per second against the one-pass job's "
         f"{one_cpu:.2f}; the chunked HLS job spent {hls_cut_cpu:.2f} per second against the one pass's "
         f"{hls.cpu_per_s:.2f})."),
        "",
        "| | mp4 (h264 defaults) | HLS ladder |",
        "|---|---:|---:|",
        (f"| plan ({args.seconds:g} s input): ffprobe of the header, then the MP4 index read and parsed | "
         f"{p.header_s:.2f} s + {p.scan_s:.2f} s ({p.index_mb:.2f} MB) | {q.header_s:.2f} s + {q.scan_s:.2f} s |"),
        (f"| pieces cut by stream copy (each part its own) | {p.split_s:.2f} s: {p.pieces} pieces of "
         f"{p.piece_mb:.1f} MB | {q.split_s:.2f} s: {q.pieces} pieces of {q.piece_mb:.1f} MB |"),
        (f"| one {p.chunk_seconds:.1f} s chunk alone, here | {p.chunk.wall:.1f} s wall (others "
         f"{p.chunk.others:.2f}), **{p.chunk.cpu:.1f} CPU-s** → {p.chunk_out_mb:.1f} MB | "
         f"**{hls.cpu_per_s * 30:.1f} CPU-s** per 30 s (one pass) → {hls.out_mb_s * 30:.1f} MB |"),
        (f"| a 30 s chunk on a 6-vCPU Lambda: CPU-s ÷ {LAMBDA_BUSY:g} | **{mp4.cpu_per_s * 30 / LAMBDA_BUSY:.1f} s** | "
         f"**{hls.cpu_per_s * 30 / LAMBDA_BUSY:.1f} s** |"),
        (f"| same from wall time here ÷ {SPEED:.1f} | {p.chunk.wall / p.chunk_seconds * 30 / SPEED:.1f} s | "
         f"{hls_bare / args.hls_seconds * 30 / SPEED:.1f} s |"),
        (f"| one chunk's slice of the sound, {p.slice_seconds:.1f} s, with its rolls (one thread) | "
         f"{p.slice_cpu:.2f} CPU-s → {p.slice_mb:.2f} MB | {q.slice_cpu:.2f} CPU-s → {q.slice_mb:.2f} MB |"),
        (f"| the sound of the whole input (one thread; only a webm's Opus is encoded whole) | {p.audio_cpu:.2f} "
         f"CPU-s → {p.audio_mb:.1f} MB | {q.audio_cpu:.2f} CPU-s → {q.audio_mb:.1f} MB |"),
        (f"| join (fastest chunked job): MP4 by stream copy; HLS parts wrote their segments, the join only "
         f"playlists | {mp4.join_s_per_s * args.seconds:.2f} s for {args.seconds:g} s | "
         f"{hls.join_s_per_s * args.hls_seconds:.2f} s of ffmpeg for {args.hls_seconds:g} s |"),
        f"| output per minute of input | {mp4.out_mb_s * 60:.1f} MB | {hls.out_mb_s * 60:.1f} MB |",
        "",
        *model_section(mp4, hls, {c.chunk_seconds: c.median(lambda r: r.out_bytes) / one_size - 1
                                  for c in mp4_cut if c.chunk_seconds}),
    ]
    return lines


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

    def seconds(m: Model, name: str) -> float:
        return next(x.seconds for x in m.stages if x.name == name)

    lines += [
        (f"Where the time goes: the Map takes {mp4_m.map_s:.0f} s (MP4) and {hls_m.map_s:.0f} s (HLS), one wave "
         f"of parts of {mp4_m.chunk_seconds:g} s and {hls_m.chunk_seconds:g} s, each encoding its video and its "
         f"slice of the sound. The stages around the Map take {mp4_m.serial_s:.0f} s and {hls_m.serial_s:.0f} s "
         f"(largest: {serial(mp4_m)} s for MP4; {serial(hls_m)} s for HLS). Where the money goes: the chunk "
         f"encodes ({video_share[0]:.0%} and {video_share[1]:.0%} of the GB-s), so the cost follows the "
         "encoder's speed per vCPU far more than the architecture."),
        "",
        ("No function copies the input, no part waits for the whole sound, and HLS segments are written once, "
         "by the parts: an s3:// input is copied into the working bucket inside S3 and probed there by ranged "
         "reads, the plan comes from the header and the MP4 index, each part reads only its own piece and "
         "encodes its own slice of the sound. What still serialises, largest first:"),
        "",
        (f"1. The MP4 join moves the whole output through one function ({seconds(mp4_m, 'join'):.0f} s): "
         "the join could write the file's index (moov) from the parts' sample tables and place every part's "
         "media by server-side part copies (UploadPartCopy)."),
        (f"2. Export copies the result server-side ({seconds(mp4_m, 'export'):.0f} s MP4, "
         f"{seconds(hls_m, 'export'):.0f} s for HLS's {hls.files(HOUR)} files): the join and the parts could "
         "write to the destination."),
        (f"3. Probe copies the input ({seconds(mp4_m, 'probe'):.0f} s): the parts could read the customer's "
         "object in place."),
        "",
        "What-if, 1 to 3 done (same encodes, same assumptions):",
        "",
        f"- MP4: {lean_mp4[1]}",
        f"- HLS: {lean_hls[1]}",
        "",
        (f"Targets: MP4 {lean_mp4[0]:.0f} s against 60 s ({status(lean_mp4[0] < 60)}), HLS {lean_hls[0]:.0f} s "
         f"against 120 s ({status(lean_hls[0] < 120)})."),
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


if __name__ == "__main__":
    main()
