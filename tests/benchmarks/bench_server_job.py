"""A video job through `mediajet serve` against the bare ffmpeg command it runs.

    .venv/bin/python -m tests.benchmarks.bench_server_job [--runs 5] [--before DIR]

The job: a 10 s 1920x1080 H.264/AAC clip → mp4 at 720p (`{"format": "mp4", "height": 720}`), as in
bench_cli. The bare command is the exact argv the engine builds for that job (bench_cli.bare). The server
(the real `mediajet serve`, 2 workers) reads the input from a local HTTP server, one job at a time, runs
alternated with the bare command. A job's time is its own `created_at` → `finished_at`
(what the server spent, from accepting the POST to the result in place); the client polls every 250 ms,
because polling every 10 ms took about a third of a core from the encoder on this 2-core machine, so what
the client waited (POST → the GET that answers `succeeded`) carries up to 250 ms of polling and is shown
beside it. `--before DIR` also times the server of another
source tree (DIR/layers/mediajet) in the same run. Target (issue 15): ≤ 1.08× the bare command.
Results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.bench_cli import bare
from tests.benchmarks.bench_images import media_server
from tests.benchmarks.report import write_section
from tests.benchmarks.trees import add_before, compile_tree, source_trees, tree_env
from tests.e2e.conftest import Server
from tests.media import make_video

OPTIONS = {"format": "mp4", "height": 720}
POLL_S = 0.25  # polling every 10 ms took ~0.3 of a core from the encoder (GETs on both sides)


def job_times(server: Server, input_url: str) -> tuple[float, float]:
    """(seconds the client waited, seconds from the job's created_at to its finished_at)."""
    session = server.session()
    start = time.perf_counter()
    job = session.post(f"{server.url}/jobs", json={"input": input_url, "kind": "video", "options": OPTIONS},
                       timeout=30).json()
    while True:
        record = session.get(f"{server.url}/jobs/{job['id']}", timeout=30).json()
        if record["status"] not in ("pending", "processing"):
            break
        time.sleep(POLL_S)
    waited = time.perf_counter() - start
    assert record["status"] == "succeeded", record
    return waited, (record["finished_at"] - record["created_at"]) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    add_before(parser)
    args = parser.parse_args()
    trees = source_trees(args.before)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "media").mkdir()
        src = make_video(root / "media" / "clip1080.mp4", seconds=10, size="1920x1080", fps=30)
        http_server, base = media_server(root / "media")
        servers = {}
        try:
            for label, tree in trees:
                compile_tree(tree)
                servers[label] = Server(root / f"data-{label}", env=tree_env(tree))
                servers[label].data_dir.mkdir()
                servers[label].start()
                job_times(servers[label], f"{base}/clip1080.mp4")  # warm up: imports, page cache
            bares: list[float] = []
            jobs: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in trees}
            for _ in range(args.runs):
                with tempfile.TemporaryDirectory(dir=root) as out:
                    bares.append(bare("video", OPTIONS, src, Path(out)))
                for label, _ in trees:
                    jobs[label].append(job_times(servers[label], f"{base}/clip1080.mp4"))
                print(f"bare {bares[-1]:.2f}", {k: v[-1] for k, v in jobs.items()}, flush=True)
        finally:
            for server in servers.values():
                server.kill()
            http_server.shutdown()
    b = statistics.median(bares)
    rows = []
    for label, _ in trees:
        waited = statistics.median(w for w, _ in jobs[label])
        own = statistics.median(o for _, o in jobs[label])
        rows.append(f"| {label} | {' / '.join(f'{o:.2f}' for _, o in jobs[label])} | {own:.2f} | {waited:.2f} | "
                    f"{own / b:.3f} |")
    lines = [
        (f"Machine: {os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}. Input: 10 s "
         f"1920x1080 30 fps H.264/AAC → mp4 at 720p (`{OPTIONS}`), one job at a time through `mediajet serve`, "
         f"{args.runs} runs alternated with the bare command, medians. Bare ffmpeg (the job's own argv): "
         f"{' / '.join(f'{x:.2f}' for x in bares)} s, median {b:.2f} s. *job* is its created_at → finished_at; "
         "*client* POST → the GET that answers `succeeded` (polled every 250 ms). Target (issue 15): ≤ 1.08×."),
        "",
        "| server | job, runs (s) | job (s) | client (s) | job × bare ffmpeg |",
        "|---|---|---:|---:|---:|",
        *rows,
    ]
    write_section("Server job against bare ffmpeg", " ".join(["python -m tests.benchmarks.bench_server_job",
                                                              *sys.argv[1:]]), lines)


if __name__ == "__main__":
    main()
