"""The API Lambda's cold start: `import handler` (Lambda's init phase) plus the first `POST /jobs`, in a fresh
interpreter, as on Lambda (target: < 300 ms on a 1024 MB function).

    .venv/bin/python -m tests.benchmarks.bench_first_request [--runs 7] [--before DIR]

The layer is modelled by a folder holding what layers/build_mediajet.py puts in /opt/python (mediajet and
the locked runtime set, copied from this venv, compiled as the build compiles them); it comes first on
the child's sys.path, as /opt/python does on Lambda. The standard library, boto3 and botocore keep their
bytecode, as the Lambda runtime image ships them compiled; nothing is written (a read-only /opt). The
child has the environment the stack gives the API (infra/api.py) and AWS_LAMBDA_RUNTIME_API, as the
Lambda runtime sets it. `--before DIR` also times another source tree (its functions/api and mediajet).

Each run: a fresh interpreter times `import handler`, then the first `POST /jobs` through the handler (API
key lookup, job write, execution start) against moto's server on loopback (run by this process, so the
child's CPU time is its own), then the creation of the TLS context its client makes for a real (https)
endpoint, which moto's http one does not need; and lists the modules the request loaded.

The model for a 1024 MB function: Lambda gives a function's invocations CPU in proportion to memory, one
vCPU at 1769 MB, so 1024 MB ≈ 0.58 vCPU; but its init phase runs on a whole vCPU whatever the memory, for
up to 10 s (AWS, "Effectively running Java on Serverless: utilize the initialization phase", serverlessland.com;
the Lambda Web Adapter's "Async Initialization": "Lambda managed runtimes offer up to 10 seconds for function
initialization with burst CPU"). Both phases are single-threaded and CPU-bound, so the init's CPU time measured
here counts as is and the request's is divided by 0.58, assuming a Lambda core as fast as one here; the
table also gives the model without that burst (everything at 0.58). Network time (three calls, ~5-10 ms each
within a region) is not in the model. Results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from tests.benchmarks.report import write_section
from tests.benchmarks.trees import add_before, source_trees
from tests.infra.lambda_api import first_request, provision

TARGET_MS = 300
VCPU_1024 = 1024 / 1769  # Lambda: 1 vCPU at 1769 MB
PARTS = ("init", "request", "tls")


def layer_copy(dest: Path, tree: Path) -> Path:
    """What the mediajet layer holds: the tree's mediajet and the locked runtime set (from this venv), no bytecode."""
    from tests.infra.test_layers import mediajet_recipe

    dest.mkdir(parents=True)
    for requirement in mediajet_recipe.requirements():
        dist = metadata.distribution(mediajet_recipe._name(requirement))
        for file in dist.files or []:
            source = Path(dist.locate_file(file))
            if "__pycache__" in file.parts or source.suffix == ".pyc" or not source.is_file():
                continue
            if ".." in file.parts:  # console scripts (bin/), which the build drops
                continue
            (dest / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / file)
    shutil.copytree(tree / "layers" / "mediajet" / "mediajet", dest / "mediajet",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def measure(tree: Path, layer: Path, url: str, setup: str) -> dict[str, Any]:
    return first_request(url, setup, [tree / "functions" / "api", layer])


def calibration_ms() -> float:
    """CPU time of a fixed loop of Python, beside the runs: this machine's speed drifts (up to 2x within an hour)."""
    start, total = time.process_time(), 0
    for i in range(3_000_000):
        total += i * i
    return (time.process_time() - start) * 1e3


def row(name: str, results: list[dict[str, Any]]) -> str:
    wall = {p: statistics.median(r[p][0] for r in results) for p in PARTS}
    cpu = {p: statistics.median(r[p][1] for r in results) for p in PARTS}
    invoke_cpu = cpu["request"] + cpu["tls"]
    modelled, no_burst = cpu["init"] + invoke_cpu / VCPU_1024, sum(cpu.values()) / VCPU_1024
    verdict = "met" if modelled < TARGET_MS else "over target"
    boto3 = "yes" if all(r["boto3"] for r in results) else "no" if not any(r["boto3"] for r in results) else "some runs"
    loaded = max(len(r["loaded"]) for r in results)
    return (f"| {name} | {wall['init']:.0f} / {cpu['init']:.0f} | {wall['request']:.0f} / {cpu['request']:.0f} "
            f"| {wall['tls']:.0f} / {cpu['tls']:.0f} | {sum(wall.values()):.0f} / {sum(cpu.values()):.0f} | {loaded} "
            f"| {boto3} | **{modelled:.0f}** | {no_burst:.0f} | {verdict} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    add_before(parser)
    args = parser.parse_args()
    from tests.infra.test_layers import mediajet_recipe
    from tests.moto_server import moto_server

    trees = source_trees(args.before)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, moto_server() as url:
        setup = provision(url)
        layers = {}
        for label, tree in trees:
            layers[label] = layer_copy(Path(tmp) / label / "python", tree)
            subprocess.run(mediajet_recipe.compile_command(sys.executable, layers[label]), check=True)
            measure(tree, layers[label], url, setup)  # the runtime's side (stdlib, boto3) gets its bytecode, page cache warm
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in trees}
        speed = []
        for _ in range(args.runs):  # alternated, so a busy moment of the machine hits both
            speed.append(calibration_ms())
            for label, tree in trees:
                runs[label].append(measure(tree, layers[label], url, setup))
        for label, results in runs.items():
            rows.append(row(label, results))
            print(rows[-1], flush=True)
            loaded = results[-1]["loaded"]
            print(f"  loaded by the request: {loaded if len(loaded) < 20 else len(loaded)}", flush=True)
    lines = [
        (f"Machine: {os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()} (Lambda runs "
         f"3.13: the layer is compiled for it by the build). {args.runs} fresh interpreters per tree, alternated, "
         f"after one warm-up each, medians. A folder laid out like the layer's /opt/python (mediajet and the "
         f"locked runtime set, compiled as the build does) comes first on sys.path; the standard library and "
         f"boto3 keep their bytecode, as in the Lambda runtime. The child has the API's environment from the stack "
         f"and AWS_LAMBDA_RUNTIME_API, as on Lambda. The first request goes to moto's server on loopback (in this "
         f"process: the child's CPU is its own); *TLS* is the child creating the TLS context its client makes for "
         f"an https endpoint (CAs looked up in the system's hashed folder), which moto's http one does not need."),
        "",
        (f"The machine's speed during the run: a fixed loop of Python (`calibration_ms`) took "
         f"{statistics.median(speed):.0f} ms of CPU (median; {min(speed):.0f}-{max(speed):.0f}); the same tree "
         f"measures up to ~40 % slower when it is slow, so compare rows of one run."),
        "",
        (f"Model for a 1024 MB function: the init phase (`import handler`) runs on a whole vCPU whatever the memory, "
         f"for up to 10 s, so its CPU time counts as is; the invocation gets 1024/1769 ≈ {VCPU_1024:.2f} vCPU, so the "
         f"request's CPU time (and the TLS context's) is divided by {VCPU_1024:.2f} (a Lambda core assumed as fast as "
         f"one here). *No burst* divides everything by {VCPU_1024:.2f}. Target: < {TARGET_MS} ms of init + first "
         f"`POST /jobs`."),
        "",
        ("| tree | `import handler` ms (wall / CPU) | first `POST /jobs` ms | TLS context ms | total ms "
         "| modules the request loaded | boto3 imported | modelled 1024 MB ms | no burst ms | target |"),
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    write_section("API Lambda first request", "python -m tests.benchmarks.bench_first_request", lines)


if __name__ == "__main__":
    main()
