"""The API Lambda's cold start: `import handler` plus the first `POST /jobs`, in a fresh interpreter,
with the layer's packages shipped with and without bytecode (target: < 300 ms on a 1024 MB function).

    .venv/bin/python -m tests.benchmarks.bench_first_request [--runs 7]

The layer is modelled by a folder holding what layers/build_mediajet.py puts in /opt/python (mediajet
and the locked runtime set, copied from this venv without their __pycache__); it comes first on the
child's sys.path, as /opt/python does on Lambda. The standard library, boto3 and botocore keep their
bytecode, as the Lambda runtime image ships them compiled. Two variants:

* *no bytecode*: the folder as the layer was before (no .pyc), PYTHONDONTWRITEBYTECODE=1 (like a
  read-only /opt: nothing is cached between cold starts), so every layer module compiles on import;
* *bytecode*: the same folder after the build's compile step (`compile_command`: unchecked-hash .pyc).

Each run: a fresh interpreter times `import handler` (Lambda's init phase), then `import boto3` (the
first request's first import), then starts moto's DynamoDB/S3/Step Functions in process (not timed),
then times the first `POST /jobs` through the handler (API key lookup, job write, execution start).
moto's setup imports modules the first request would otherwise import itself, and moto answers in
process instead of over the network, so the request half is a lower bound on CPU and leaves out
network time (three AWS calls, ~5-10 ms each within a region). moto's objects are frozen out of the
garbage collector's reach (gc.freeze) before the request, so its collections cost what they would on Lambda,
where moto's heap is not there.

The model for a 1024 MB function: Lambda gives a function CPU in proportion to memory, one vCPU at
1769 MB, so 1024 MB ≈ 0.58 vCPU; init and the first request are single-threaded and CPU-bound, so the
CPU time measured here (process time of the child) is divided by 0.58, assuming a Lambda core as
fast as one here. Results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from tests.benchmarks.report import write_section

ROOT = Path(__file__).resolve().parents[2]
TARGET_MS = 300
VCPU_1024 = 1024 / 1769  # Lambda: 1 vCPU at 1769 MB
REGION = "eu-west-1"
TABLE, INBOX, OUTPUT, WORK = "mediajet-jobs", "mediajet-inbox", "mediajet-output", "mediajet-work"
PROJECT, KEY = "prj_bench", "mj_benchbenchbenchbenchbenchbenchbenchbench"

PROGRAM = r"""
import json, os, sys, time
clock, cpu = time.perf_counter, time.process_time
w0, c0 = clock(), cpu()
import handler
w1, c1 = clock(), cpu()
import boto3
w2, c2 = clock(), cpu()
setup = json.loads(os.environ["BENCH_SETUP"])
from moto import mock_aws
mock = mock_aws()
mock.start()
session = boto3.session.Session(region_name=setup["region"])  # its own loader: the handler's stays cold
ddb = session.client("dynamodb")
ddb.create_table(**setup["table"])
ddb.put_item(TableName=setup["table"]["TableName"], Item=setup["key_item"])
s3 = session.client("s3")
for bucket in setup["buckets"]:
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": setup["region"]})
s3.put_object(Bucket=setup["inbox"], Key="uploads/clip.mp4", Body=b"\0" * 1024)
arn = session.client("stepfunctions").create_state_machine(
    name="mediajet-pipeline", definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
    roleArn="arn:aws:iam::123456789012:role/x")["stateMachineArn"]
os.environ["MEDIAJET_STATE_MACHINE_ARN"] = arn

class Context:
    function_name, aws_request_id, memory_limit_in_mb = "api", "req-1", 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:api"
    def get_remaining_time_in_millis(self): return 29000

import gc
gc.collect()
gc.freeze()  # moto's own objects are not on Lambda: the request's collections must not walk them
w3, c3 = clock(), cpu()
result = handler.handler(setup["event"], Context())
w4, c4 = clock(), cpu()
assert result["statusCode"] == 201, result
print(json.dumps({"init": [(w1 - w0) * 1e3, (c1 - c0) * 1e3], "boto3": [(w2 - w1) * 1e3, (c2 - c1) * 1e3],
                  "request": [(w4 - w3) * 1e3, (c4 - c3) * 1e3]}))
"""


def layer_copy(dest: Path) -> Path:
    """What the mediajet layer holds, from this venv: mediajet and the locked runtime set, no bytecode."""
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
    shutil.copytree(mediajet_recipe.SOURCE, dest / "mediajet", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def setup_json() -> str:
    from infra import names
    from mediajet.store import dynamo_schema
    from tests.infra.harness import http_event

    key_item = {dynamo_schema.PARTITION_KEY: {"S": dynamo_schema.api_key_pk(hashlib.sha256(KEY.encode()).hexdigest())},
                dynamo_schema.SORT_KEY: {"S": dynamo_schema.API_KEY_SK}, "project_id": {"S": PROJECT},
                "created_at": {"N": "0"}}
    event = http_event("POST", "/jobs", {"input": f"s3://{INBOX}/uploads/clip.mp4", "kind": "video",
                                         "options": {"width": 320, "format": "mp4"}}, key=KEY)
    assert names.ENV_TABLE == "MEDIAJET_TABLE"
    return json.dumps({"region": REGION, "table": dynamo_schema.create_table_kwargs(TABLE), "key_item": key_item,
                       "buckets": [INBOX, OUTPUT, WORK], "inbox": INBOX, "event": event})


def measure(layer: Path, setup: str, write_bytecode: bool = False) -> dict[str, list[float]]:
    from infra import names

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / "api"), str(layer)]),
           "BENCH_SETUP": setup, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
           names.ENV_TABLE: TABLE, names.ENV_WORK_BUCKET: WORK, names.ENV_OUTPUT_BUCKET: OUTPUT,
           names.ENV_INBOX_BUCKET: INBOX, names.ENV_SCRATCH_DIR: tempfile.gettempdir(),
           # as the stack sets them (infra/stack.py): s3:// inputs from the inbox without a connection
           names.ENV_S3_SERVER_CREDENTIALS: "true", names.ENV_S3_BUCKETS: f"*={INBOX}:read",
           "PYTHONDONTWRITEBYTECODE": "1"}  # read-only /opt: a cold start never leaves .pyc for the next
    env.pop("PYTHONPYCACHEPREFIX", None)
    if write_bytecode:
        del env["PYTHONDONTWRITEBYTECODE"]
    with tempfile.TemporaryDirectory() as cwd:
        out = subprocess.run([sys.executable, "-c", PROGRAM], check=False, cwd=cwd, env=env, capture_output=True,
                             text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    from tests.infra.test_layers import mediajet_recipe

    setup = setup_json()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        layer = layer_copy(Path(tmp) / "python")
        # The runtime's side (stdlib, boto3; moto) has bytecode on Lambda: one run that may write it here,
        # on a throwaway copy of the layer, so the layer under test stays as it is.
        measure(Path(shutil.copytree(layer, Path(tmp) / "warm-up")), setup, write_bytecode=True)
        for bytecode in (False, True):
            if bytecode:
                subprocess.run(mediajet_recipe.compile_command(sys.executable, layer), check=True)
            assert any(layer.rglob("*.pyc")) == bytecode
            measure(layer, setup)  # page cache warm, as a container's disk would be
            runs = [measure(layer, setup) for _ in range(args.runs)]

            def median(part: str, index: int, runs: list = runs) -> float:
                return statistics.median(r[part][index] for r in runs)

            wall = {p: median(p, 0) for p in ("init", "boto3", "request")}
            cpu = {p: median(p, 1) for p in ("init", "boto3", "request")}
            total_cpu = sum(cpu.values())
            modelled = total_cpu / VCPU_1024
            verdict = "ok" if modelled < TARGET_MS else "over target"
            rows.append(f"| {'bytecode (unchecked-hash .pyc)' if bytecode else 'no bytecode'} | "
                        f"{wall['init']:.0f} / {cpu['init']:.0f} | {wall['boto3']:.0f} / {cpu['boto3']:.0f} | "
                        f"{wall['request']:.0f} / {cpu['request']:.0f} | {sum(wall.values()):.0f} / {total_cpu:.0f} | "
                        f"{modelled:.0f} | {verdict} |")
            print(rows[-1], flush=True)
    lines = [
        (f"Machine: {os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()} (Lambda runs "
         f"3.13: the layer is compiled for it by the build). {args.runs} fresh interpreters per variant after one "
         f"warm-up, medians. A folder laid out like the layer's /opt/python (mediajet and the locked runtime "
         f"set) comes first on sys.path; the standard library and boto3 keep their bytecode, as in the "
         f"Lambda runtime. The first request runs against moto in process (its setup is not timed), so it "
         f"leaves out the network time of its three AWS calls."),
        "",
        (f"Model for a 1024 MB function: 1024/1769 ≈ {VCPU_1024:.2f} vCPU, so the CPU time measured here is "
         f"divided by {VCPU_1024:.2f} (a Lambda core assumed as fast as one here). Target: < {TARGET_MS} ms "
         f"of init + first `POST /jobs`."),
        "",
        ("| layer | `import handler` ms (wall / CPU) | `import boto3` ms | first `POST /jobs` ms | total ms "
         "| modelled 1024 MB ms | target |"),
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
    write_section("API Lambda first request", "python -m tests.benchmarks.bench_first_request", lines)


if __name__ == "__main__":
    main()
