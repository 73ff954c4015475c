"""Lambda-side wiring: settings read once, AWS clients created lazily (never at import time)."""

from __future__ import annotations

import logging
import os
import time
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediajet.settings import EnvSettings

log = logging.getLogger("mediajet")

if TYPE_CHECKING:
    from mediajet.aws.downloads import S3Downloads
    from mediajet.aws.orchestrator import StepFunctionsOrchestrator
    from mediajet.models.job import Task
    from mediajet.pipeline.context import StepContext
    from mediajet.storage.s3 import S3BlobStore
    from mediajet.store.dynamo import DynamoJobStore


class AwsSettings(EnvSettings):
    """The environment infra/ gives every function (names in infra/names.py)."""

    table: str
    work_bucket: str
    output_bucket: str
    inbox_bucket: str | None = None
    state_machine_arn: str | None = None  # the API and the upload trigger start executions
    encode_function: str | None = None  # runs standalone tasks (POST /tasks), invoked asynchronously
    upload_project: str = "prj_default"  # the project of jobs created by inbox uploads
    webhook_queue_url: str | None = None  # the webhook retry queue (mediajet.aws.webhooks; infra/webhooks.py)
    connections_kms_key: str | None = None  # the KMS key that encrypts connection secrets (infra/storage.py)
    download_secret: str | None = None  # the secret (ARN) that signs /downloads/ links (aws/downloads.py; infra/api.py)
    scratch_dir: Path = Path("/tmp/mediajet")


@lru_cache(maxsize=1)
def aws_settings() -> AwsSettings:
    return AwsSettings()  # type: ignore[call-arg]


@lru_cache(maxsize=8)
def client(service: str) -> Any:
    """On Lambda, DynamoDB, Step Functions and Secrets Manager get a client without botocore (a cold start
    ~220 ms of CPU shorter: aws/json_client.py); everything else, and every client off Lambda, boto3's."""
    if os.environ.get("AWS_LAMBDA_RUNTIME_API"):  # set by the Lambda runtime only
        from mediajet.aws import json_client

        light = json_client.from_environment(service)
        if light is not None:
            return light
    from botocore.config import Config

    return _session().client(service, config=Config(retries={"mode": "standard"}))


@lru_cache(maxsize=1)
def _session() -> Any:
    """One boto3 session for every client of the function (one copy of the endpoint data), whose loader
    skips botocore's check of the service name against every service it knows: that lists and stats
    the ~440 folders of botocore/data once per kind of file a client loads, ~25 ms of CPU and ~120 ms on
    a cold disk, at each cold start. A client of a service not in SERVICES fails with UnknownServiceError,
    which lists them."""
    import boto3
    import botocore.session
    from botocore.loaders import Loader

    class NamedServicesLoader(Loader):
        def list_available_services(self, type_name: str) -> list[str]:
            return sorted(SERVICES)

    core = botocore.session.Session()
    core.register_component("data_loader", NamedServicesLoader())
    return boto3.session.Session(botocore_session=core)


SERVICES = ("dynamodb", "kms", "lambda", "s3", "secretsmanager", "sqs", "stepfunctions")  # what client() serves


@lru_cache(maxsize=1)
def job_store() -> DynamoJobStore:
    from mediajet.store.dynamo import DynamoJobStore

    return DynamoJobStore(aws_settings().table, client=client("dynamodb"))


@lru_cache(maxsize=1)
def work_store() -> S3BlobStore:
    from mediajet.storage.s3 import S3BlobStore

    return S3BlobStore(aws_settings().work_bucket, client=client("s3"), tmp_dir=aws_settings().scratch_dir)


@lru_cache(maxsize=1)
def output_store() -> S3BlobStore:
    from mediajet.storage.s3 import S3BlobStore

    return S3BlobStore(aws_settings().output_bucket, client=client("s3"), tmp_dir=aws_settings().scratch_dir)


@lru_cache(maxsize=1)
def orchestrator() -> StepFunctionsOrchestrator:
    from mediajet.aws.orchestrator import StepFunctionsOrchestrator

    cfg = aws_settings()
    if not cfg.state_machine_arn:
        raise RuntimeError("MEDIAJET_STATE_MACHINE_ARN is not set: this function cannot start jobs")
    return StepFunctionsOrchestrator(cfg.state_machine_arn, client("stepfunctions"),
                                     (lambda: client("lambda")) if cfg.encode_function else None, cfg.encode_function)


@lru_cache(maxsize=1)
def cipher() -> Any:
    """Connection secrets: KMS with the stack's key (the client is made on first use); none without one."""
    from mediajet.connections.crypto import KmsCipher, NoCipher

    key = aws_settings().connections_kms_key
    return KmsCipher(key, lambda: client("kms")) if key else NoCipher()


# The API's base URL as the current request called it (set by handlers.api): where /downloads/ links point.
REQUEST_URL: ContextVar[str | None] = ContextVar("mediajet_request_url", default=None)


@lru_cache(maxsize=1)
def downloads() -> S3Downloads | None:
    """Signed /downloads/ links to the output bucket (aws/downloads.py); None when the stack gives no secret."""
    arn = aws_settings().download_secret
    if not arn:
        return None
    from mediajet.aws.downloads import S3Downloads

    secret = client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    return S3Downloads(output_store(), secret.encode())


def sign_url(uri: str) -> str:
    """Our output bucket's objects get presigned links, except HLS playlists, which get a signed /downloads/
    link on the API (its playlists are rewritten so every URI in them works, see aws/downloads.py) when the
    API's URL is known (MEDIAJET_PUBLIC_URL, or the request's); any other URI is echoed as given."""
    from mediajet.errors import InvalidRequest
    from mediajet.settings import get_settings
    from mediajet.storage.links import is_playlist

    prefix = f"s3://{aws_settings().output_bucket}/"
    if not uri.startswith(prefix):
        return uri
    key, ttl = uri[len(prefix):], get_settings().link_ttl_s
    base = get_settings().public_url or REQUEST_URL.get()
    links = None
    if is_playlist(key) and base:
        try:
            links = downloads()
        except Exception:  # Secrets Manager refused or unreachable: the job still answers, not a 500
            log.warning("could not read the download link secret; a presigned playlist link instead", exc_info=True)
    if links is not None and base:  # `base` narrowed for the type checker
        try:
            return links.url(base, key, ttl)
        except InvalidRequest:
            pass  # a key a link cannot name (check_key): the presigned master playlist, as before
    return output_store().signed_url(key, ttl)


def delete_uri(uri: str) -> None:
    """DELETE /files and /media on AWS: a file's bytes in the output bucket, with the folder it owns
    (storage/paths.py). Any other URI is not ours to delete."""
    from mediajet.storage.paths import owned_folder

    prefix = f"s3://{aws_settings().output_bucket}/"
    if not uri.startswith(prefix):
        return
    key = uri[len(prefix):]
    folder = owned_folder(key)
    if folder is not None:
        output_store().delete_prefix(folder)
    else:
        output_store().delete(key)


def step_context(lambda_context: Any = None) -> StepContext:
    from mediajet.pipeline.context import StepContext
    from mediajet.settings import get_settings

    deadline = None
    if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
        deadline = time.monotonic() + lambda_context.get_remaining_time_in_millis() / 1000
    return StepContext(
        jobs=job_store(), work=work_store(), outputs=output_store(), settings=get_settings(),
        scratch=aws_settings().scratch_dir, deadline=deadline, s3_client=client("s3"), cipher=cipher(),
        # A task here reads s3:// URIs of our buckets itself: an automation hands it the file's URI, not a
        # presigned link it would fetch through the internet.
        start_task=start_task, sign_url=lambda uri: uri,
    )


def start_task(task: Task) -> None:
    """Run a standalone task in the encode function, asynchronously (a media library automation's next
    tasks, started where a task finished). The encode function names itself: Lambda sets
    AWS_LAMBDA_FUNCTION_NAME; its own MEDIAJET_ENCODE_FUNCTION would make the function depend on itself."""
    from mediajet.aws.orchestrator import invoke_task

    name = aws_settings().encode_function or os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    if not name:
        raise RuntimeError("no encode function to run tasks in (MEDIAJET_ENCODE_FUNCTION)")
    invoke_task(client("lambda"), name, task)


def reset() -> None:
    """Forget the cached settings, clients and stores (tests; a Lambda container never needs it)."""
    for cached in (aws_settings, client, _session, job_store, work_store, output_store, orchestrator, cipher, downloads):
        cached.cache_clear()
