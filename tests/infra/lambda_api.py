"""The API function as Lambda runs it, in a fresh interpreter: the environment the stack gives it (infra/api.py)
and AWS_LAMBDA_RUNTIME_API, `import handler` (the init phase), then a first `POST /jobs` against moto's
server, which `provision` sets up (the table with an API key, the buckets, a state machine). The child
reports the time and CPU of each phase, the modules the request loaded and whether boto3 was imported.
Used by tests/infra/test_cold_imports.py and tests/benchmarks/bench_first_request.py."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from infra import names
from mediajet.store import dynamo_schema
from tests.infra.harness import ACCOUNT, INBOX, OUTPUT, REGION, TABLE, WORK, http_event

PROJECT, KEY = "prj_bench", "mj_benchbenchbenchbenchbenchbenchbenchbench"

PROGRAM = r"""
import json, os, sys, time
clock, cpu = time.perf_counter, time.process_time
w0, c0 = clock(), cpu()
import handler
w1, c1 = clock(), cpu()
loaded_before = set(sys.modules)
setup = json.loads(os.environ["FIRST_REQUEST_SETUP"])

class Context:
    function_name, aws_request_id, memory_limit_in_mb = "api", "req-1", 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:api"
    def get_remaining_time_in_millis(self): return 29000

w2, c2 = clock(), cpu()
result = handler.handler(setup["event"], Context())
w3, c3 = clock(), cpu()
from mediajet.aws import json_client
json_client._tls()  # the context json_client makes (a hashed CA folder where the system has one)
w4, c4 = clock(), cpu()
assert result["statusCode"] == 201, result
print(json.dumps({"init": [(w1 - w0) * 1e3, (c1 - c0) * 1e3], "request": [(w3 - w2) * 1e3, (c3 - c2) * 1e3],
                  "tls": [(w4 - w3) * 1e3, (c4 - c3) * 1e3], "boto3": "boto3" in sys.modules or "botocore.client" in sys.modules,
                  "loaded": sorted(set(sys.modules) - loaded_before)}))
"""


def provision(url: str) -> str:
    """The table with an API key, the buckets, the state machine, on moto's server; the child's setup."""
    import boto3

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
        name="mediajet-pipeline", roleArn=f"arn:aws:iam::{ACCOUNT}:role/x",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    event = http_event("POST", "/jobs", {"input": f"s3://{INBOX}/uploads/clip.mp4", "kind": "video",
                                         "options": {"width": 320, "format": "mp4"}}, key=KEY)
    return json.dumps({"event": event, "state_machine_arn": arn})


def lambda_env(url: str, setup: str, path: list[Path]) -> dict[str, str]:
    """The API's environment on Lambda, with `path` (the function's folder, the layer) as PYTHONPATH."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, path)),
           "FIRST_REQUEST_SETUP": setup, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ENDPOINT_URL": url,
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
           "AWS_EC2_METADATA_DISABLED": "true", names.ENV_TABLE: TABLE, names.ENV_WORK_BUCKET: WORK,
           names.ENV_OUTPUT_BUCKET: OUTPUT, names.ENV_INBOX_BUCKET: INBOX, names.ENV_SCRATCH_DIR: tempfile.gettempdir(),
           names.ENV_STATE_MACHINE_ARN: json.loads(setup)["state_machine_arn"],
           # as infra/api.py gives the API: the function that runs POST /tasks, the key of /downloads/ links
           names.ENV_ENCODE_FUNCTION: "mediajet-encode",
           names.ENV_DOWNLOAD_SECRET: f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:mediajet-downloads",
           # as the stack sets them (infra/stack.py): s3:// inputs from the inbox without a connection
           names.ENV_S3_SERVER_CREDENTIALS: "true", names.ENV_S3_BUCKETS: f"*={INBOX}:read",
           names.ENV_PYDANTIC_DISABLE_PLUGINS: "__all__",
           "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",  # set by the Lambda runtime: the code's "on Lambda" switch
           "PYTHONDONTWRITEBYTECODE": "1"}  # read-only /opt: a cold start never leaves .pyc for the next
    for unlike_lambda in ("PYTHONPYCACHEPREFIX", "SSL_CERT_FILE", "SSL_CERT_DIR", "AWS_CA_BUNDLE"):
        env.pop(unlike_lambda, None)  # this machine's CA overrides: Lambda sets none
    return env


def first_request(url: str, setup: str, path: list[Path]) -> dict[str, Any]:
    """One cold start: `import handler` and the first POST /jobs in a fresh interpreter (PROGRAM's report)."""
    with tempfile.TemporaryDirectory() as cwd:
        out = subprocess.run([sys.executable, "-c", PROGRAM], check=False, cwd=cwd, env=lambda_env(url, setup, path),
                             capture_output=True, text=True, timeout=120)
    if out.returncode:
        raise AssertionError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])
