"""Encoder throughput per codec, the numbers admission at probe estimates encode times from.

    .venv/bin/python -m tests.benchmarks.bench_throughput [--seconds 4] [--runs 3]

Each codec encodes the same noisy 1080p30 clip with the exact argv the video plan builds (its speed
setting, `medium` quality, no audio); the result is megapixels per second of wall time on this machine,
next to the constants in mediajet.pipeline.admission.REFERENCE_MPX_PER_S.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from mediajet.media import engine
from mediajet.media.binaries import ffmpeg
from mediajet.media.probe import probe
from mediajet.models.options import VideoOptions
from mediajet.pipeline.admission import REFERENCE_MPX_PER_S
from tests.benchmarks.report import write_section

CODECS = {"h264": "mp4", "h265": "mp4", "vp9": "webm", "av1": "mp4"}


def noisy_1080p(path: Path, seconds: float) -> Path:
    """Moving bars with light film grain (11 Mbit/s at CRF 18): encoders work about as hard as on camera footage."""
    subprocess.run([ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size=1920x1080:rate=30:duration={seconds},noise=alls=4:allf=t",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", "60", "-pix_fmt", "yuv420p",
                    str(path)], check=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = noisy_1080p(Path(tmp) / "noisy.mp4", args.seconds)
        source = probe(src)
        frames = round(args.seconds * 30)
        rows = ["| codec | seconds (median) | fps | Mpx/s | admission assumes Mpx/s |", "|---|---|---|---|---|"]
        for codec, fmt in CODECS.items():
            argv = engine.plan("video", VideoOptions(codec=codec, format=fmt, mute=True), source, src, Path(tmp))
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                subprocess.run(argv, check=True, capture_output=True)
                times.append(time.perf_counter() - start)
            wall = statistics.median(times)
            mpx = frames * 1920 * 1080 / 1e6 / wall
            rows.append(f"| {codec} | {wall:.2f} | {frames / wall:.1f} | {mpx:.1f} | {REFERENCE_MPX_PER_S[codec]:g} |")
            print(rows[-1], flush=True)
    lines = [
        (f"Machine: {os.cpu_count()} CPUs. Input: {args.seconds:g} s of noisy 1080p30 (testsrc2 with temporal grain), "
        f"encoded at 1080p with the video plan's own argv (`medium`, no audio), median of {args.runs} runs."),
        "", *rows, "",
        ("Admission (mediajet/pipeline/admission.py) divides output megapixels × frames by these rates, scaled by "
        "`MEDIAJET_ENCODE_SPEED` (the encoder's cores / 2), and refuses an input whose slowest encode would need "
        "more than 60 % of a step's time limit. Its constants are about half of these rates (runs on this machine "
        "while other work shared it measured down to 60 % of them), so an admitted input finishes even on "
        "harder footage or a busy machine."),
    ]
    write_section("Encoder throughput", "python -m tests.benchmarks.bench_throughput", lines)


if __name__ == "__main__":
    main()
