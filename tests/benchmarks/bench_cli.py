"""The CLI's fixed cost, and `mediajet … --local` against the bare ffmpeg command it runs.

    .venv/bin/python -m tests.benchmarks.bench_cli [--runs 5] [--before DIR]

`--before DIR`: also time the CLI of another source tree (DIR/layers/mediajet, e.g. the previous commit from
`git archive HEAD layers/mediajet | tar -x -C DIR`), in the same run, with the same interpreter and inputs.

Two cases, each with its bare ffmpeg command timed in the same run on the same input:

- `mediajet audio --local` on a 10 s WAV → mp3 (a short job: the fixed cost is most of it);
- `mediajet video --local --height 720` on a 10 s 1080p H.264/AAC clip.

The bare command is the exact argv the engine builds for that job (media/engine.py `plan`), run
directly. Each CLI run is a fresh process running what `.venv/bin/mediajet` runs.

The fixed cost (start → first ffmpeg/ffprobe, plus last child → exit) is measured in separate runs
with MEDIAJET_FFMPEG/MEDIAJET_FFPROBE pointing at a small shell wrapper that writes the wall clock
before and after the real binary; those runs are not used for the ratios (the wrapper costs a few ms).
Results are written to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mediajet.media import binaries, engine
from mediajet.media.probe import probe
from mediajet.models.requests import parse_options
from tests.benchmarks.report import write_section
from tests.benchmarks.trees import add_before, compile_tree, source_trees, tree_env
from tests.media import _ffmpeg, make_video

# the console script's body (pyproject's [project.scripts]; a tree from before cli/entry.py ran cli.main's main)
ENTRY = ("import sys\ntry:\n    from mediajet.cli.entry import run\nexcept ImportError:\n"
         "    from mediajet.cli.main import main as run\nsys.exit(run())")
WRAPPER = """#!/bin/sh
echo "start $(date +%s.%N)" >> {log}
{real} "$@"
code=$?
echo "end $(date +%s.%N)" >> {log}
exit $code
"""


def make_inputs(root: Path) -> dict[str, Path]:
    wav = root / "speech.wav"
    _ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=10", "-ac", "2",
             "-c:a", "pcm_s16le", str(wav)])
    return {"wav": wav, "video": make_video(root / "clip1080.mp4", seconds=10, size="1920x1080", fps=30)}


CASES = [
    ("audio 10 s WAV → mp3", "audio", "wav", {"format": "mp3"}, "out.mp3"),
    ("video 10 s 1080p → 720p", "video", "video", {"format": "mp4", "height": 720}, "out.mp4"),
]


def bare(kind: str, options: dict, src: Path, out_dir: Path) -> float:
    argv = engine.plan(kind, parse_options(kind, options), probe(src), src, out_dir)
    argv = binaries.executable_argv(argv)
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def cli_argv(kind: str, options: dict, src: Path, out: Path) -> list[str]:
    flags = [f"--{name}={value}" for name, value in options.items() if name != "format"]
    return [sys.executable, "-c", ENTRY, kind, "--local", "-i", str(src), "-o", str(out), "--json", *flags]


def cli_env(tree: Path) -> dict[str, str]:
    return {**os.environ, **tree_env(tree)}


def cli(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def fixed_cost(argv: list[str], root: Path, env: dict[str, str]) -> tuple[float, float]:
    """(start → first child, last child → exit) of one CLI run, in seconds."""
    log = root / "children.log"
    log.unlink(missing_ok=True)
    env = dict(env)
    for name in ("ffmpeg", "ffprobe"):
        wrapper = root / f"{name}-timed"
        wrapper.write_text(WRAPPER.format(log=log, real=binaries.find(name)))
        wrapper.chmod(0o755)
        env[f"MEDIAJET_{name.upper()}"] = str(wrapper)
    started = time.time()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    ended = time.time()
    marks = [line.split() for line in log.read_text().splitlines()]
    first = min(float(t) for what, t in marks if what == "start")
    last = max(float(t) for what, t in marks if what == "end")
    return first - started, ended - last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    add_before(parser)
    args = parser.parse_args()
    trees = source_trees(args.before)
    rows, fixed_rows = [], []
    for _, tree in trees:
        compile_tree(tree)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        inputs = make_inputs(root)
        for title, kind, input_name, options, out_name in CASES:
            src = inputs[input_name]
            argv = cli_argv(kind, options, src, root / out_name)
            bares: list[float] = []
            clis: dict[str, list[float]] = {label: [] for label, _ in trees}
            fixed: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in trees}
            for label, tree in trees:
                cli(argv, cli_env(tree))  # warm the page cache and the bytecode
            for _ in range(args.runs):
                with tempfile.TemporaryDirectory(dir=root) as out:
                    bares.append(bare(kind, options, src, Path(out)))
                for label, tree in trees:
                    clis[label].append(cli(argv, cli_env(tree)))
                    fixed[label].append(fixed_cost(argv, root, cli_env(tree)))
            b = statistics.median(bares)
            for label, _ in trees:
                c = statistics.median(clis[label])
                h = statistics.median(f[0] for f in fixed[label])
                t = statistics.median(f[1] for f in fixed[label])
                rows.append(f"| {title} | {label} | {b:.3f} | {c:.3f} | {c / b:.3f} |")
                fixed_rows.append(f"| {title} | {label} | {h * 1000:.0f} | {t * 1000:.0f} | {(h + t) * 1000:.0f} |")
                print(rows[-1], fixed_rows[-1], flush=True)
    lines = [
        (f"Machine: {os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}. Median of "
         f"{args.runs} runs, the trees interleaved; each CLI run is a fresh `mediajet … --local --json` process, every tree with its bytecode compiled "
         "(as installed). "
         "Targets (issue 15): fixed cost under 300 ms; audio ≤ 1.5× and video ≤ 1.03× the bare command."),
        "",
        "| case | tree | bare ffmpeg (s) | `mediajet --local` (s) | ratio |",
        "|---|---|---:|---:|---:|",
        *rows,
        "",
        "Fixed cost (wall clock, from separate runs through a timing wrapper around ffmpeg/ffprobe):",
        "",
        "| case | tree | start → first child (ms) | last child → exit (ms) | fixed cost (ms) |",
        "|---|---|---:|---:|---:|",
        *fixed_rows,
    ]
    write_section("CLI fixed cost", " ".join(["python -m tests.benchmarks.bench_cli", *sys.argv[1:]]), lines)


if __name__ == "__main__":
    main()
