"""Job overhead against bare ffmpeg, measured in the same run on the same input.

    .venv/bin/python -m tests.benchmarks.bench_pipeline [--seconds 20] [--size 1280x720] [--runs 3]

For each case it times (a) the exact ffmpeg argv the engine builds, run directly, and (b) the whole
local job (probe → import → encode → export, SQLite records, file moves) through `run_job`, and
reports the ratio. On a small machine two runs of one ffmpeg command differ by several percent, more
than the budget, so it also times the encode's own ffmpeg process inside the job: job minus that is
the pipeline's overhead, measured within one run and free of the encoder's run-to-run noise.
Peak RSS of the Python process is reported too (media is streamed, not held).
Results are written to BENCHMARKS.md beside the README.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mediajet.local.runtime import LocalRuntime
from mediajet.media import engine, runner
from mediajet.media.probe import probe
from mediajet.models.job import Job
from mediajet.models.requests import parse_options, with_pipeline_tasks
from mediajet.pipeline.execute import run_job
from mediajet.settings import Settings
from tests.benchmarks.report import write_section
from tests.media import make_video

CASES = [
    ("video", {"format": "mp4", "codec": "h264", "width": 640}),
    ("video", {"format": "webm", "codec": "vp9", "width": 640}),
    ("audio", {"format": "mp3"}),
    ("adaptive_video", {"format": "hls"}),
]


def bare_ffmpeg(kind: str, options: dict, src: Path, out_dir: Path) -> float:
    """Time the argv the engine would run, without any of the pipeline around it."""
    source = probe(src)
    argv = engine.plan(kind, parse_options(kind, options), source, src, out_dir)
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


_encoder_seconds: list[float] = []


def _timing_runner() -> None:
    """Record how long each encoder run (not ffprobe) takes inside the job."""
    real_run = runner.run

    def timed(argv, **kwargs):
        result = real_run(argv, **kwargs)
        if "ffprobe" not in Path(argv[0]).name and "-progress" in argv:
            _encoder_seconds.append(result.seconds)
        return result

    runner.run = timed  # type: ignore[assignment]


def whole_job(kind: str, options: dict, src: Path, data_dir: Path) -> tuple[float, float]:
    """(job wall time, seconds of it spent in the encoder process)."""
    _encoder_seconds.clear()
    runtime = LocalRuntime.open(Settings(), data_dir, allow_local_files=True)
    job = Job(kind=kind, input=src.as_uri(), options=options, destination=str(data_dir / "out" / "{filename}.{ext}"),
              project_id="bench")
    with_pipeline_tasks(job)
    runtime.jobs.create_job(job)
    start = time.perf_counter()
    run_job(job.id, runtime.context())
    elapsed = time.perf_counter() - start
    assert runtime.jobs.get_job(job.id).status == "succeeded"
    return elapsed, sum(_encoder_seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    _timing_runner()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = make_video(root / "input.mp4", seconds=args.seconds, size=args.size)
        for kind, options in CASES:
            bare, jobs, overheads = [], [], []
            for _ in range(args.runs):
                with tempfile.TemporaryDirectory(dir=root) as out:
                    bare.append(bare_ffmpeg(kind, options, src, Path(out)))
                with tempfile.TemporaryDirectory(dir=root) as data:
                    wall, encoder = whole_job(kind, options, src, Path(data))
                jobs.append(wall)
                overheads.append((wall - encoder, (wall - encoder) / encoder))
            b, j = statistics.median(bare), statistics.median(jobs)
            extra_s = statistics.median(o[0] for o in overheads)
            extra_pct = statistics.median(o[1] for o in overheads) * 100
            rows.append((kind, options, b, j, j / b, extra_s, extra_pct))
            print(f"{kind:<15} {options}  ffmpeg {b:6.2f} s  job {j:6.2f} s  ratio {j / b:5.3f}  "
                  f"pipeline overhead {extra_s * 1000:.0f} ms ({extra_pct:.1f}% of its encode)", flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        (f"Input: {args.seconds:g} s {args.size} H.264/AAC (lavfi testsrc2 + sine); median of {args.runs} runs; "
         f"2-core machine. Peak RSS of the benchmark process: {peak_mb:.0f} MB. Budget: a job costs at most 3% "
         "more wall time than the bare ffmpeg command it runs."),
        "",
        ("`ratio` compares two separate runs (bare command, whole job), so it carries ffmpeg's run-to-run noise "
        "(±10% here); `overhead` is the job's wall time minus its own encoder process (probe, copies, "
        "records, output probe), measured inside the same run."),
        "",
        "| kind | options | bare ffmpeg (s) | whole job (s) | ratio | overhead (ms) | overhead (% of encode) |",
        "|---|---|---:|---:|---:|---:|---:|",
        *[f"| {k} | `{o}` | {b:.2f} | {j:.2f} | {r:.3f} | {e * 1000:.0f} | {p:.1f} |"
          for k, o, b, j, r, e, p in rows],
    ]
    write_section("Job overhead against bare ffmpeg", " ".join(["python -m tests.benchmarks.bench_pipeline",
                                                                 *sys.argv[1:]]), lines)


if __name__ == "__main__":
    main()
