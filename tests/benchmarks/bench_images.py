"""Image jobs through a real `mediajet serve`, against Pillow doing the same conversion.

    .venv/bin/python -m tests.benchmarks.bench_images [--jobs 200] [--before DIR]

The conversion: a 1920x1080 JPEG → 640 px wide WebP (`{"format": "webp", "width": 640}`, quality medium).
Pillow's rate is measured in one process and in two processes (this machine's cores), with the calls
the job makes (draft-mode JPEG decode, Lanczos resize, WebP at the medium quality and method 4); one
server output is checked to be byte-identical to Pillow's. The server (2 workers) gets all jobs at once
over HTTP (the input on a local HTTP server) and its rate is jobs / (last finished_at - first created_at).
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
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image, ImageOps

from mediajet.media.plans.common import STILL_QUALITY
from mediajet.media.stills import WEBP_METHOD
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


def _convert_many(src: str, count: int) -> int:
    for _ in range(count):
        convert(src)
    return count


def pillow_rate(src: Path, jobs: int, processes: int) -> float:
    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(_convert_many, [str(src)] * processes, [1] * processes))  # warm up
        start = time.perf_counter()
        list(pool.map(_convert_many, [str(src)] * processes, [jobs // processes] * processes))
        return (jobs // processes * processes) / (time.perf_counter() - start)


def media_server(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def server_rate(tree: Path, data_dir: Path, input_url: str, jobs: int) -> tuple[float, bytes]:
    """(jobs per second, one output's bytes)."""
    server = Server(data_dir, env=tree_env(tree))
    data_dir.mkdir(parents=True)
    server.start()
    try:
        session = server.session()
        body = {"input": input_url, "kind": "image", "options": OPTIONS}
        first = session.post(f"{server.url}/jobs", json=body, timeout=30).json()
        server.wait(first["id"])  # warm up: imports, Pillow workers
        ids = [session.post(f"{server.url}/jobs", json=body, timeout=30).json()["id"] for _ in range(jobs)]
        records = [server.wait(job_id, timeout=600) for job_id in reversed(ids)]
        assert all(r["status"] == "succeeded" for r in records), [r.get("error") for r in records]
        seconds = (max(r["finished_at"] for r in records) - min(r["created_at"] for r in records)) / 1000
        output = session.get(records[0]["output"], timeout=30).content
    finally:
        server.kill()
    return jobs / seconds, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    add_before(parser)
    args = parser.parse_args()
    trees = source_trees(args.before)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "media").mkdir()
        src = root / "media" / "photo.jpg"
        _ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=1920x1080", "-frames:v", "1", "-q:v", "3", str(src)])
        expected = convert(str(src))
        one = pillow_rate(src, args.jobs, 1)
        two = pillow_rate(src, args.jobs, 2)
        print(f"Pillow: {one:.1f}/s in one process, {two:.1f}/s in two", flush=True)
        http_server, base = media_server(root / "media")
        rows = []
        try:
            for label, tree in trees:
                rate, output = server_rate(tree, root / f"data-{label}", f"{base}/photo.jpg", args.jobs)
                same = "yes" if output == expected else "NO"
                rows.append(f"| {label} | {rate:.1f} | {rate / one:.2f} | {rate / two:.2f} | {same} |")
                print(rows[-1], flush=True)
        finally:
            http_server.shutdown()
    lines = [
        (f"Machine: {os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}. {args.jobs} "
         f"jobs (1920x1080 JPEG → {WIDTH} px WebP) posted at once to `mediajet serve` with 2 workers; Pillow alone "
         f"does the same conversion at {one:.1f}/s in one process and {two:.1f}/s in two. Target (issue 15): "
         "≥ 0.8× the two-process rate."),
        "",
        "| server | jobs/s | × Pillow, 1 process | × Pillow, 2 processes | output = Pillow's bytes |",
        "|---|---:|---:|---:|---|",
        *rows,
    ]
    write_section("Image jobs against Pillow", " ".join(["python -m tests.benchmarks.bench_images", *sys.argv[1:]]),
                  lines)


if __name__ == "__main__":
    main()
