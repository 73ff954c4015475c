"""Image jobs through a real `mediajet serve`, against Pillow doing the same conversion.

    .venv/bin/python -m tests.benchmarks.bench_images [--jobs 200] [--rounds 5] [--before DIR]

The conversion: a 1920x1080 JPEG → 640 px wide WebP (`{"format": "webp", "width": 640}`, quality medium).
Pillow's rate is measured in one process and in two processes (this machine's cores), with the calls
the job makes (draft-mode JPEG decode, Lanczos resize, WebP at the medium quality and method 4); one
server output is checked to be byte-identical to Pillow's. The server (2 workers) gets all jobs at once
over HTTP (the input on a local HTTP server) and its rate is jobs / (last finished_at - first created_at).
Batches of the server and runs of Pillow alternate (`--rounds`), each batch compared with the Pillow runs
on either side of it; the CPU each job costs the server's process, its Pillow workers and this process is
read from /proc.
`--before DIR` also runs the server of another source tree (DIR/layers/mediajet) in the same run.
Target (issue 15): the server at ≥ 0.8× the two-process Pillow rate. Results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from mediajet.media.plans.common import STILL_QUALITY
from mediajet.media.stills import WEBP_METHOD
from tests.benchmarks.cpu import own_cpu, tree_cpu
from tests.benchmarks.report import write_section
from tests.benchmarks.trees import add_before, source_trees, tree_env
from tests.e2e.conftest import Server
from tests.media import _ffmpeg

WIDTH = 640
OPTIONS = {"format": "webp", "width": WIDTH}


def convert(src: str) -> bytes:
    """What an image job does to the input, in Pillow calls."""
    with Image.open(src) as image:
        height = round(image.height * WIDTH / image.width)
        image.draft(None, (WIDTH, height))
        image.load()
        picture = ImageOps.exif_transpose(image).convert("RGB")
    picture = picture.resize((WIDTH, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=STILL_QUALITY["webp"]["medium"], method=WEBP_METHOD)
    return out.getvalue()


def _convert_many(src: str, count: int) -> float:
    """CPU-seconds of `count` conversions in this process."""
    start = time.process_time()
    for _ in range(count):
        convert(src)
    return time.process_time() - start


def pillow_rate(src: Path, jobs: int, processes: int) -> tuple[float, float]:
    """(conversions per second, CPU ms per conversion) with `processes` processes."""
    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(_convert_many, [str(src)] * processes, [1] * processes))  # warm up
        start = time.perf_counter()
        cpu = sum(pool.map(_convert_many, [str(src)] * processes, [jobs // processes] * processes))
        done = jobs // processes * processes
        return done / (time.perf_counter() - start), 1000 * cpu / done


def media_server(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@dataclass
class Batch:
    rate: float  # jobs per second
    cpu_ms: dict[str, float]  # CPU per job: the server's process, its Pillow workers, this process
    output: bytes  # one job's result


def batch(server: Server, input_url: str, jobs: int) -> Batch:
    """`jobs` posted at once to a running server; waited for by polling the last one (jobs run in order),
    the records read once all are done."""
    assert server.proc is not None
    session = server.session()
    body = {"input": input_url, "kind": "image", "options": OPTIONS}
    server_cpu, own = tree_cpu(server.proc.pid), own_cpu()
    ids = [session.post(f"{server.url}/jobs", json=body, timeout=30).json()["id"] for _ in range(jobs)]
    server.wait(ids[-1], timeout=600)
    spent = [b - a for a, b in zip(server_cpu, tree_cpu(server.proc.pid), strict=True)] + [own_cpu() - own]
    records = [server.wait(job_id, timeout=600) for job_id in ids]
    assert all(r["status"] == "succeeded" for r in records), [r.get("error") for r in records]
    seconds = (max(r["finished_at"] for r in records) - min(r["created_at"] for r in records)) / 1000
    cpu_ms = dict(zip(("server", "workers", "load"), (1000 * s / jobs for s in spent), strict=True))
    return Batch(jobs / seconds, cpu_ms, session.get(records[0]["output"], timeout=30).content)


def started(tree: Path, data_dir: Path, input_url: str) -> Server:
    server = Server(data_dir, env=tree_env(tree))
    data_dir.mkdir(parents=True)
    server.start()
    batch(server, input_url, 2)  # warm up: imports, Pillow workers
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    add_before(parser)
    args = parser.parse_args()
    trees = source_trees(args.before)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "media").mkdir()
        src = root / "media" / "photo.jpg"
        _ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=1920x1080", "-frames:v", "1", "-q:v", "3", str(src)])
        expected = convert(str(src))
        one, _ = pillow_rate(src, args.jobs, 1)
        http_server, base = media_server(root / "media")
        servers = {label: started(tree, root / f"data-{label}", f"{base}/photo.jpg") for label, tree in trees}
        batches: dict[str, list[Batch]] = {label: [] for label, _ in trees}
        ratios: dict[str, list[float]] = {label: [] for label, _ in trees}
        pillow = [pillow_rate(src, args.jobs, 2)]
        try:
            for _ in range(args.rounds):  # each batch between two runs of Pillow: the machine's speed drifts
                for label, _tree in trees:
                    batches[label].append(batch(servers[label], f"{base}/photo.jpg", args.jobs))
                    pillow.append(pillow_rate(src, args.jobs, 2))
                    ratios[label].append(batches[label][-1].rate / statistics.mean(r for r, _ in pillow[-2:]))
                    done = batches[label][-1]
                    print(f"{label}: {done.rate:.1f}/s, CPU ms a job {done.cpu_ms}; Pillow {pillow[-2][0]:.1f} and "
                          f"{pillow[-1][0]:.1f}/s: {ratios[label][-1]:.2f}", flush=True)
        finally:
            for server in servers.values():
                server.kill()
            http_server.shutdown()
    rates, pillow_cpu = [r for r, _ in pillow], statistics.median(c for _, c in pillow)
    rows = [row(label, batches[label], ratios[label], one, all(b.output == expected for b in batches[label]))
            for label, _ in trees]
    lines = [
        (f"Machine: {os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}. "
         f"{args.rounds} rounds of {args.jobs} jobs (1920x1080 JPEG → {WIDTH} px WebP) posted at once to "
         f"`mediajet serve` with 2 workers, each batch followed by a run of Pillow doing the same conversion "
         f"in two processes, and its ratio taken against the mean of the runs on either side of it (this "
         f"machine's speed drifts by up to 2× within an hour, so a rate measured minutes apart is no "
         f"baseline). Pillow alone: {one:.1f}/s in one process, {statistics.median(rates):.1f}/s in two "
         f"(median of {len(rates)} runs, {min(rates):.1f}-{max(rates):.1f}), {pillow_cpu:.1f} ms of CPU a "
         f"conversion. CPU per job, from /proc, while a batch runs: the server's process (HTTP, records, "
         f"fetching, steps), its Pillow worker processes, and this benchmark's process (the client posting, "
         f"the HTTP server the inputs come from), which shares the machine. Target (issue 15): ≥ 0.8× the "
         f"two-process rate."),
        "",
        ("| server | jobs/s (median) | × Pillow, 1 process | × Pillow, 2 processes: median (range) "
         "| CPU ms a job: server / workers / load | output = Pillow's bytes |"),
        "|---|---:|---:|---:|---:|---|",
        *rows,
    ]
    write_section("Image jobs against Pillow", " ".join(["python -m tests.benchmarks.bench_images", *sys.argv[1:]]),
                  lines)


def row(label: str, runs: list[Batch], ratios: list[float], one: float, same: bool) -> str:
    rate = statistics.median(b.rate for b in runs)
    cpu = {part: statistics.median(b.cpu_ms[part] for b in runs) for part in runs[0].cpu_ms}
    return (f"| {label} | {rate:.1f} | {rate / one:.2f} | **{statistics.median(ratios):.2f}** "
            f"({min(ratios):.2f}-{max(ratios):.2f}) | {cpu['server']:.1f} / {cpu['workers']:.1f} / {cpu['load']:.1f} "
            f"| {'yes' if same else 'NO'} |")


if __name__ == "__main__":
    main()
