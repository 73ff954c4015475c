"""Importing a Lambda handler off Lambda (tests, tools) loads the standard library and mediajet only: boto3,
Pydantic, Powertools, Pillow and the rest load on the first call that needs them. On Lambda
(AWS_LAMBDA_RUNTIME_API set) the init phase runs on a whole vCPU whatever the memory, so there each
function builds at import what its first call needs (handlers.prepare), and the API's first POST /jobs
loads nothing more of its own. Each handler is imported as Lambda imports it: a fresh interpreter, the
function folder and the mediajet layer on sys.path, `import handler`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra import names
from tests.infra.harness import INBOX, OUTPUT, REGION, TABLE, WORK
from tests.infra.lambda_api import first_request, provision
from tests.moto_server import moto_server

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(path.name for path in (ROOT / "functions").iterdir() if (path / "handler.py").exists())
# Named so a failure says what it costs; the stdlib-only check below catches the ones not listed.
HEAVY = ["boto3", "botocore", "s3transfer", "PIL", "aws_lambda_powertools", "aws_xray_sdk", "pydantic",
         "pydantic_core", "pydantic_settings", "requests", "urllib3", "mediajet.store.dynamo",
         "mediajet.storage.s3", "mediajet.api.app", "mediajet.pipeline.steps", "mediajet.settings"]
PROGRAM = """
import json, sys
before = set(sys.modules)
import handler
assert callable(handler.handler)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


# What the stack gives the functions (infra/), with an endpoint nothing listens on: preparing calls no AWS.
ON_LAMBDA = {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
             "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
             "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true",
             names.ENV_TABLE: TABLE, names.ENV_WORK_BUCKET: WORK, names.ENV_OUTPUT_BUCKET: OUTPUT,
             names.ENV_INBOX_BUCKET: INBOX, names.ENV_ENCODE_FUNCTION: "mediajet-encode",
             names.ENV_STATE_MACHINE_ARN: f"arn:aws:states:{REGION}:123456789012:stateMachine:mediajet-pipeline",
             names.ENV_WEBHOOK_QUEUE_URL: f"https://sqs.{REGION}.amazonaws.com/123456789012/mediajet-webhooks"}
# What each function's first call needs, which its init phase loads on Lambda.
FIRST_CALL = {"api": "mediajet.api.app", "webhooks": "mediajet.aws.webhooks", "on_upload": "mediajet.aws.uploads"}


def loaded_by_import(function: str, on_lambda: bool = False) -> list[str]:
    folder = ROOT / "functions" / function
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT / "layers" / "mediajet")]),
           **(ON_LAMBDA if on_lambda else {})}
    out = subprocess.run([sys.executable, "-c", PROGRAM], cwd=folder, env=env, capture_output=True,
                         text=True, timeout=60, check=True)
    assert "could not prepare" not in out.stderr, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_importing_a_handler_loads_nothing_heavy(function: str) -> None:
    loaded = loaded_by_import(function)
    assert "mediajet.aws.handlers" in loaded, "the handler was imported"
    heavy = [name for name in HEAVY if name in loaded]
    assert not heavy, f"{function}/handler.py imports {heavy} at init"
    third_party = {name.split(".")[0] for name in loaded} - set(sys.stdlib_module_names) - {"mediajet", "handler"}
    assert not third_party, f"{function}/handler.py loads {sorted(third_party)} at init"


def test_every_function_is_checked() -> None:
    assert {"api", "probe", "import", "encode", "encode_chunk", "join", "export", "finalize",
            "on_upload", "webhooks"} <= set(FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_on_lambda_a_handler_builds_at_init_what_its_first_call_needs(function: str) -> None:
    loaded = loaded_by_import(function, on_lambda=True)
    assert FIRST_CALL.get(function, "mediajet.pipeline.steps") in loaded
    assert "mediajet.settings" in loaded, "settings read at init"


def test_on_lambda_the_apis_first_post_jobs_loads_no_module_of_its_own_and_never_boto3() -> None:
    pytest.importorskip("flask", reason="moto's server mode needs moto[server] (flask, flask-cors)")
    with moto_server() as url:
        report = first_request(url, provision(url), [ROOT / "functions" / "api", ROOT / "layers" / "mediajet"])
    outside_stdlib = [name for name in report["loaded"] if name.split(".")[0] not in sys.stdlib_module_names]
    assert not outside_stdlib, f"built by the first request instead of at init: {outside_stdlib}"
    assert report["boto3"] is False, "DynamoDB and Step Functions go through json_client, Lambda's client waits for POST /tasks"
