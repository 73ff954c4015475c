"""Cold import of each Lambda handler, in a fresh interpreter each time (budget: < 250 ms).

    .venv/bin/python -m tests.benchmarks.bench_cold_import [--runs 7]

Each run starts a new Python with the function folder and the mediajet package on sys.path (as the
function code and the mediajet layer are on Lambda) and times `import handler`, which is what Lambda's
init phase does. A second column times the import plus the modules the handler loads on its first
invocation (stores, boto3, the API app): the rest of a cold start, paid once per container.
Results are written to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from tests.benchmarks.report import write_section

ROOT = Path(__file__).resolve().parents[2]
BUDGET_MS = 250
STEP_FIRST_CALL = ["boto3", "mediajet.aws.runtime", "mediajet.pipeline.steps", "mediajet.store.dynamo",
                   "mediajet.storage.s3", "mediajet.storage.fetch"]
FIRST_CALL = {
    "api": ["boto3", "mediajet.aws.runtime", "mediajet.aws.orchestrator", "mediajet.store.dynamo",
            "mediajet.storage.s3", "mediajet.api.app"],
    "probe": STEP_FIRST_CALL, "import": STEP_FIRST_CALL, "export": STEP_FIRST_CALL, "finalize": STEP_FIRST_CALL,
    "encode": [*STEP_FIRST_CALL, "mediajet.pipeline.tasks"],
    "on_upload": ["boto3", "mediajet.aws.runtime", "mediajet.aws.uploads", "mediajet.aws.orchestrator",
                  "mediajet.store.dynamo"],
}
PROGRAM = """
import importlib, sys, time
start = time.perf_counter()
import handler
first = time.perf_counter()
for name in sys.argv[1:]:
    importlib.import_module(name)
end = time.perf_counter()
print((first - start) * 1000, (end - start) * 1000)
"""


def measure(function: str, extra: list[str]) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / function),
                                                        str(ROOT / "layers" / "mediajet")]),
           "PYTHONDONTWRITEBYTECODE": "0"}
    out = subprocess.run([sys.executable, "-c", PROGRAM, *extra], cwd=ROOT / "functions" / function, env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    rows = []
    for function, extra in FIRST_CALL.items():
        measure(function, extra)  # warm the bytecode cache, as a deployed layer's .pyc would be
        runs = [measure(function, extra) for _ in range(args.runs)]
        imports = [r[0] for r in runs]
        firsts = [r[1] for r in runs]
        verdict = "ok" if max(imports) < BUDGET_MS else "OVER BUDGET"
        rows.append(f"| `{function}` | {statistics.median(imports):.1f} | {max(imports):.1f} | "
                    f"{statistics.median(firsts):.0f} | {verdict} |")
        print(rows[-1], flush=True)
    lines = [
        (f"Machine: {os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}. "
         f"{args.runs} fresh interpreters per function, after one warm-up run (bytecode cached). "
         f"Budget: `import handler` < {BUDGET_MS} ms."),
        "",
        "| function | import handler, median ms | max ms | + first-call imports, median ms | budget |",
        "|---|---|---|---|---|",
        *rows,
    ]
    write_section("Lambda handler cold import", "python -m tests.benchmarks.bench_cold_import", lines)


if __name__ == "__main__":
    main()
