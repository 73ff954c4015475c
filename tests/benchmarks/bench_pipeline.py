"""Job overhead against bare ffmpeg, measured in the same run on the same input.

    .venv/bin/python -m tests.benchmarks.bench_pipeline [--seconds 20] [--size 1280x720] [--runs 3]

For each case it times (a) the exact ffmpeg argv the engine builds, run directly, and (b) the whole
local job (probe → import → encode → export, SQLite records, file moves) through `run_job`, and
reports the ratio. Peak RSS of the Python process is reported too (media is streamed, not held).
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
from mediajet.media import engine
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


def whole_job(kind: str, options: dict, src: Path, data_dir: Path) -> float:
    runtime = LocalRuntime.open(Settings(), data_dir, allow_local_files=True)
    job = Job(kind=kind, input=src.as_uri(), options=options, destination=str(data_dir / "out" / "{filename}.{ext}"),
              project_id="bench")
    with_pipeline_tasks(job)
    runtime.jobs.create_job(job)
    start = time.perf_counter()
    run_job(job.id, runtime.context())
    elapsed = time.perf_counter() - start
    assert runtime.jobs.get_job(job.id).status == "succeeded"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = make_video(root / "input.mp4", seconds=args.seconds, size=args.size)
        for kind, options in CASES:
            bare, job = [], []
            for run in range(args.runs):
                with tempfile.TemporaryDirectory(dir=root) as out:
                    bare.append(bare_ffmpeg(kind, options, src, Path(out)))
                with tempfile.TemporaryDirectory(dir=root) as data:
                    job.append(whole_job(kind, options, src, Path(data)))
            b, j = statistics.median(bare), statistics.median(job)
            rows.append((kind, options, b, j, j / b))
            print(f"{kind:<15} {options}  ffmpeg {b:6.2f} s  job {j:6.2f} s  ratio {j / b:5.3f}", flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        (f"Input: {args.seconds:g} s {args.size} H.264/AAC (lavfi testsrc2 + sine); median of {args.runs} runs; "
        f"2-core machine. Peak RSS of the benchmark process: {peak_mb:.0f} MB."),
        "",
        "| kind | options | bare ffmpeg (s) | whole job (s) | ratio |",
        "|---|---|---:|---:|---:|",
        *[f"| {k} | `{o}` | {b:.2f} | {j:.2f} | {r:.3f} |" for k, o, b, j, r in rows],
    ]
    write_section("Job overhead against bare ffmpeg", " ".join(["python -m tests.benchmarks.bench_pipeline",
                                                                 *sys.argv[1:]]), lines)


if __name__ == "__main__":
    main()
