"""The API Lambda's cold start: `import handler` plus the first `POST /jobs`, in a fresh interpreter, with
the AWS clients it had before (boto3) and the ones it has now on Lambda (aws/json_client.py, no botocore)
(target: < 300 ms on a 1024 MB function).

    .venv/bin/python -m tests.benchmarks.bench_first_request [--runs 7]

The layer is modelled by a folder holding what layers/build_mediajet.py puts in /opt/python (mediajet and
the locked runtime set, copied from this venv, compiled as the build compiles them); it comes first on
the child's sys.path, as /opt/python does on Lambda. The standard library, boto3 and botocore keep their
bytecode, as the Lambda runtime image ships them compiled; nothing is written (a read-only /opt).

Each run: a fresh interpreter times `import handler` (Lambda's init phase), then the first `POST /jobs`
through the handler (API key lookup, job write, execution start) against moto's server on loopback
(run by this process, so the child's CPU time is its own), then the creation of the TLS context a real
(https) endpoint needs and moto's http one does not: for boto3, a default context (the CA bundle parsed,
as botocore's does), for json_client its own (`_tls`: CAs looked up in a hashed folder when the system
has one, as Debian here and Amazon Linux do). Variants:

* *boto3 clients*: the functions' clients before this change (and off Lambda): `runtime.client` gives
  boto3's; the request imports boto3 and builds a DynamoDB and a Step Functions client;
* *json_client*: `AWS_LAMBDA_RUNTIME_API` set, as the Lambda runtime sets it: DynamoDB and Step
  Functions calls are signed and sent by aws/json_client.py.

The model for a 1024 MB function: Lambda gives a function CPU in proportion to memory, one vCPU at
1769 MB, so 1024 MB ≈ 0.58 vCPU; init and the first request are single-threaded and CPU-bound, so the
CPU time measured here (process time of the child) is divided by 0.58, assuming a Lambda core as
fast as one here. Network time (three calls, ~5-10 ms each within a region) is not in the model.
Results go to BENCHMARKS.md.
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
from typing import Any

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
setup = json.loads(os.environ["BENCH_SETUP"])

class Context:
    function_name, aws_request_id, memory_limit_in_mb = "api", "req-1", 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:api"
    def get_remaining_time_in_millis(self): return 29000

w2, c2 = clock(), cpu()
result = handler.handler(setup["event"], Context())
w3, c3 = clock(), cpu()
if os.environ.get("AWS_LAMBDA_RUNTIME_API"):
    from mediajet.aws import json_client
    json_client._tls()  # the context json_client makes (a hashed CA folder where the system has one)
else:
    import ssl
    ssl.create_default_context()  # what botocore's does costs: the CA bundle parsed
w4, c4 = clock(), cpu()
assert result["statusCode"] == 201, result
print(json.dumps({"init": [(w1 - w0) * 1e3, (c1 - c0) * 1e3], "request": [(w3 - w2) * 1e3, (c3 - c2) * 1e3],
                  "tls": [(w4 - w3) * 1e3, (c4 - c3) * 1e3], "boto3": "boto3" in sys.modules or "botocore.client" in sys.modules}))
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


def prepare(url: str) -> str:
    """The table with an API key, the buckets, the state machine, on moto's server; the child's setup."""
    import boto3

    from infra import names
    from mediajet.store import dynamo_schema
    from tests.infra.harness import http_event

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=url, region_name=REGION, aws_access_key_id="testing",
                            aws_secret_access_key="testing")

    key_item = {dynamo_schema.PARTITION_KEY: {"S": dynamo_schema.api_key_pk(hashlib.sha256(KEY.encode()).hexdigest())},
                dynamo_schema.SORT_KEY: {"S": dynamo_schema.API_KEY_SK}, "project_id": {"S": PROJECT},
                "created_at": {"N": "0"}}
    client("dynamodb").create_table(**dynamo_schema.create_table_kwargs(TABLE))
    client("dynamodb").put_item(TableName=TABLE, Item=key_item)
    s3 = client("s3")
    for bucket in (INBOX, OUTPUT, WORK):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=INBOX, Key="uploads/clip.mp4", Body=b"\0" * 1024)
    arn = client("stepfunctions").create_state_machine(
        name="mediajet-pipeline", roleArn="arn:aws:iam::123456789012:role/x",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    event = http_event("POST", "/jobs", {"input": f"s3://{INBOX}/uploads/clip.mp4", "kind": "video",
                                         "options": {"width": 320, "format": "mp4"}}, key=KEY)
    assert names.ENV_STATE_MACHINE_ARN == "MEDIAJET_STATE_MACHINE_ARN"
    return json.dumps({"event": event, "state_machine_arn": arn})


def measure(layer: Path, url: str, setup: str, on_lambda: bool) -> dict[str, Any]:
    from infra import names

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / "api"), str(layer)]),
           "BENCH_SETUP": setup, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ENDPOINT_URL": url,
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
           "AWS_EC2_METADATA_DISABLED": "true", names.ENV_TABLE: TABLE, names.ENV_WORK_BUCKET: WORK,
           names.ENV_OUTPUT_BUCKET: OUTPUT, names.ENV_INBOX_BUCKET: INBOX, names.ENV_SCRATCH_DIR: tempfile.gettempdir(),
           names.ENV_STATE_MACHINE_ARN: json.loads(setup)["state_machine_arn"],
           # as the stack sets them (infra/stack.py): s3:// inputs from the inbox without a connection
           names.ENV_S3_SERVER_CREDENTIALS: "true", names.ENV_S3_BUCKETS: f"*={INBOX}:read",
           names.ENV_PYDANTIC_DISABLE_PLUGINS: "__all__",
           "PYTHONDONTWRITEBYTECODE": "1"}  # read-only /opt: a cold start never leaves .pyc for the next
    for unlike_lambda in ("PYTHONPYCACHEPREFIX", "AWS_LAMBDA_RUNTIME_API", "SSL_CERT_FILE", "SSL_CERT_DIR",
                          "AWS_CA_BUNDLE"):  # this machine's CA overrides: Lambda sets none
        env.pop(unlike_lambda, None)
    if on_lambda:
        env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9001"  # what the Lambda runtime sets: runtime.client's switch
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
    from tests.moto_server import moto_server

    parts = ("init", "request", "tls")
    rows = []
    with tempfile.TemporaryDirectory() as tmp, moto_server() as url:
        setup = prepare(url)
        layer = layer_copy(Path(tmp) / "python")
        subprocess.run(mediajet_recipe.compile_command(sys.executable, layer), check=True)
        variants = {"boto3 clients (before)": False, "json_client (now, on Lambda)": True}
        for on_lambda in variants.values():  # the runtime's side (stdlib, boto3) gets its bytecode, page cache warm
            measure(layer, url, setup, on_lambda)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
        for _ in range(args.runs):  # alternated, so a busy moment of the machine hits both
            for name, on_lambda in variants.items():
                runs[name].append(measure(layer, url, setup, on_lambda))
        for name, results in runs.items():
            wall = {p: statistics.median(r[p][0] for r in results) for p in parts}
            cpu = {p: statistics.median(r[p][1] for r in results) for p in parts}
            total_cpu = sum(cpu.values())
            modelled = total_cpu / VCPU_1024
            verdict = "met" if modelled < TARGET_MS else "over target"
            boto3 = "yes" if all(r["boto3"] for r in results) else "no" if not any(r["boto3"] for r in results) else "some runs"
            rows.append(f"| {name} | {wall['init']:.0f} / {cpu['init']:.0f} | {wall['request']:.0f} / {cpu['request']:.0f} "
                        f"| {wall['tls']:.0f} / {cpu['tls']:.0f} | {sum(wall.values()):.0f} / {total_cpu:.0f} | {boto3} "
                        f"| {modelled:.0f} | {verdict} |")
            print(rows[-1], flush=True)
    lines = [
        (f"Machine: {os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()} (Lambda runs "
         f"3.13: the layer is compiled for it by the build). {args.runs} fresh interpreters per variant, alternated, "
         f"after one warm-up each, medians. A folder laid out like the layer's /opt/python (mediajet and the "
         f"locked runtime set, compiled as the build does) comes first on sys.path; the standard library and "
         f"boto3 keep their bytecode, as in the Lambda runtime. The first request goes to moto's server on "
         f"loopback (in this process: the child's CPU is its own); *TLS* is the child creating the TLS context "
         f"its client would make (boto3: the CA bundle parsed; json_client: CAs looked up in the system's hashed "
         f"folder), which a real https endpoint needs and moto's http one does not."),
        "",
        (f"Model for a 1024 MB function: 1024/1769 ≈ {VCPU_1024:.2f} vCPU, so the CPU time measured here is "
         f"divided by {VCPU_1024:.2f} (a Lambda core assumed as fast as one here). Target: < {TARGET_MS} ms "
         f"of init + first `POST /jobs`."),
        "",
        ("| AWS clients | `import handler` ms (wall / CPU) | first `POST /jobs` ms | TLS context ms | total ms "
         "| boto3 imported | modelled 1024 MB ms | target |"),
        "|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    write_section("API Lambda first request", "python -m tests.benchmarks.bench_first_request", lines)


if __name__ == "__main__":
    main()
