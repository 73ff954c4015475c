"""MediaJet on AWS: `MediaJet` composes storage, layers, pipeline, API and the upload trigger into one
construct (usable inside your own CDK app); `MediaJetStack` is the stack `app.py` deploys."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

from aws_cdk import App, CfnOutput, Environment, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra import access, lambdas, nag, names
from infra.alarms import Alarms, DeadLetterQueue
from infra.api import Api
from infra.layers import Layers
from infra.pipeline import DEFAULT_CHUNK_CONCURRENCY, SAME_AS_CHUNK_CONCURRENCY, Pipeline
from infra.storage import Storage
from infra.triggers import UploadTrigger
from infra.webhooks import RESERVED_CONCURRENCY as WEBHOOK_RESERVED_CONCURRENCY
from infra.webhooks import Webhooks

# The functions that read `s3://` inputs (infra.pipeline's `_grant_files`; tests/infra check the two agree).
INPUT_READERS = ("probe", "import", names.ENCODE_FUNCTION)
# The functions that reach s3:// URLs through a connection: the input readers, export (a job's output) and the
# encode function (standalone tasks, export tasks included).
CONNECTION_USERS = (*INPUT_READERS, "export")


def server_buckets(inbox: str, inputs: Sequence[str], exports: Sequence[str]) -> str:
    """MEDIAJET_S3_BUCKETS for every project: the inbox and your input buckets to read, your export buckets to
    write (mediajet.connections.access.allowed_buckets); the output bucket is not: it is ours, keyed by job."""
    return "*=" + ",".join([f"{inbox}:read", *(f"{b}:read" for b in inputs), *(f"{b}:write" for b in exports)])


class MediaJet(Construct):
    """Everything MediaJet needs. Options:

    - architecture: "arm64" (default) or "x86_64"; the layers must be built for it.
    - input_bucket_names / export_bucket_names: your buckets that jobs may read `s3://` inputs from
      or write `s3://` outputs to (the inbox and output buckets are always allowed).
    - input_kms_key_arns: the KMS keys (ARNs) your input buckets encrypt with (SSE-KMS): the roles that
      read `s3://` inputs get kms:Decrypt on them (the key policies must let the account's IAM policies
      grant it, as the default key policy does). None (default): no KMS grants.
    - encode_memory_mb: memory of the encoder and of the part encoder (10240 by default; new accounts
      may be limited to 3008 until a quota increase).
    - chunk_concurrency: how many parts of one long video encode at once (the Map's MaxConcurrency;
      100 by default).
    - chunk_reserved_concurrency: Lambda concurrency reserved for the part encoder (encode_chunk), which
      is also its ceiling: a burst of parts cannot take the concurrency the API and the other steps
      need; parts beyond it wait (throttled invocations are retried with jittered backoff). Default:
      as many as chunk_concurrency. None reserves nothing: use it on accounts whose concurrency quota
      is too low to reserve any (Lambda keeps 100 unreserved; new accounts may have a quota of 10).
    - rate_limit / burst_limit: API Gateway throttling (requests per second / burst).
    - api_memory_mb: memory of the API function (1024 by default). Lambda's CPU grows with it up to one
      vCPU at 1769 MB, except in the init phase, which gets a whole vCPU at any memory and is where the
      API builds itself (a cold start's first `POST /jobs` modelled at ~270 ms on 1024 MB, BENCHMARKS.md);
      warm requests mostly wait on DynamoDB.
    - upload_project: the project id that jobs created by inbox uploads belong to.
    - placeholder_layers: synthesize with the placeholder layers even when built ones exist (tests).
    - allow_placeholder_layers: synthesize even when the layers are not built (tests); without it (or
      MEDIAJET_ALLOW_PLACEHOLDER_LAYERS=1, or context mediajet:allowPlaceholderLayers=true) synth refuses.
    - alarm_topic: an SNS topic (or its ARN) that every alarm notifies (on ALARM and on OK); None: alarms
      without actions.
    - webhook_reserved_concurrency: Lambda concurrency reserved for (and capping) webhook deliveries (10 by
      default); None reserves nothing (accounts with a low concurrency quota).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        architecture: str = "arm64",
        input_bucket_names: Sequence[str] = (),
        export_bucket_names: Sequence[str] = (),
        input_kms_key_arns: Sequence[str] | None = None,
        encode_memory_mb: int = lambdas.MAX_MB,
        chunk_concurrency: int = DEFAULT_CHUNK_CONCURRENCY,
        chunk_reserved_concurrency: int | None | Literal["chunk_concurrency"] = SAME_AS_CHUNK_CONCURRENCY,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        rate_limit: int = 100,
        burst_limit: int = 200,
        api_memory_mb: int = lambdas.API.memory_mb,
        upload_project: str = "prj_default",
        placeholder_layers: bool = False,
        allow_placeholder_layers: bool = False,
        alarm_topic: sns.ITopic | str | None = None,
        webhook_reserved_concurrency: int | None = WEBHOOK_RESERVED_CONCURRENCY,
    ) -> None:
        super().__init__(scope, construct_id)
        if architecture not in lambdas.ARCHITECTURES:
            raise ValueError(f"architecture must be one of {sorted(lambdas.ARCHITECTURES)}")
        if not lambdas.MIN_MB <= api_memory_mb <= lambdas.MAX_MB:
            raise ValueError(f"api_memory_mb must be between {lambdas.MIN_MB} and {lambdas.MAX_MB} (Lambda's range)")
        self.storage = Storage(self, "Storage")
        self.layers = Layers(self, "Layers", architecture=architecture, placeholder=placeholder_layers,
                             allow_placeholders=allow_placeholder_layers)
        environment = {
            names.ENV_TABLE: self.storage.table.table_name,
            names.ENV_WORK_BUCKET: self.storage.work_bucket.bucket_name,
            names.ENV_OUTPUT_BUCKET: self.storage.output_bucket.bucket_name,
            names.ENV_INBOX_BUCKET: self.storage.inbox_bucket.bucket_name,
            names.ENV_DATA_DIR: names.LAMBDA_TMP,
            names.ENV_SCRATCH_DIR: names.LAMBDA_TMP,
            names.ENV_UPLOAD_PROJECT: upload_project,
            names.ENV_CONNECTIONS_KMS_KEY: self.storage.connections_key.key_arn,
            # s3:// without a connection: the stack's role, on the buckets it was given and no others
            names.ENV_S3_SERVER_CREDENTIALS: "true",
            names.ENV_S3_BUCKETS: server_buckets(self.storage.inbox_bucket.bucket_name, input_bucket_names,
                                                 export_bucket_names),
            # The layer holds no pydantic plugins: without this, pydantic's first model scans every installed
            # package's entry points for them, ~10 ms of each cold start (BENCHMARKS.md, API Lambda first request).
            names.ENV_PYDANTIC_DISABLE_PLUGINS: "__all__",
        }
        defaults = lambdas.FunctionDefaults(architecture=architecture, log_retention=log_retention,
                                            environment=environment, mediajet_layer=self.layers.mediajet,
                                            ffmpeg_layer=self.layers.ffmpeg)
        self.pipeline = Pipeline(
            self, "Pipeline", storage=self.storage, defaults=defaults, encode_memory_mb=encode_memory_mb, chunk_concurrency=chunk_concurrency,
            chunk_reserved_concurrency=chunk_reserved_concurrency,
            input_buckets=[s3.Bucket.from_bucket_name(self, f"Input{i}", n) for i, n in enumerate(input_bucket_names)],
            export_buckets=[s3.Bucket.from_bucket_name(self, f"Export{i}", n)
                            for i, n in enumerate(export_bucket_names)],
        )
        for name in INPUT_READERS:
            access.decrypt(self.pipeline.roles[name], input_kms_key_arns or ())
        for name in CONNECTION_USERS:
            access.connection_secrets(self.pipeline.roles[name], self.storage.connections_key,
                                      access.CONNECTION_SECRETS_STEPS)
        self.api = Api(self, "Api", storage=self.storage, pipeline=self.pipeline, defaults=defaults,
                       rate_limit=rate_limit, burst_limit=burst_limit, memory_mb=api_memory_mb)
        access.connection_secrets(self.api.role, self.storage.connections_key, access.CONNECTION_SECRETS_API)
        self.uploads = UploadTrigger(self, "Uploads", storage=self.storage, pipeline=self.pipeline, defaults=defaults)
        self.webhooks = Webhooks(self, "Webhooks", storage=self.storage, defaults=defaults,
                                 reserved_concurrency=webhook_reserved_concurrency)
        # Deliveries carry the job's output link: HLS results link to the API's /downloads/ (mediajet.aws.downloads).
        self.webhooks.function.add_environment(names.ENV_PUBLIC_URL, self.api.url)
        self.webhooks.function.add_environment(names.ENV_DOWNLOAD_SECRET, self.api.download_secret.secret_arn)
        access.read_secret(self.webhooks.role, self.api.download_secret)
        if isinstance(alarm_topic, str):
            alarm_topic = sns.Topic.from_topic_arn(self, "AlarmTopic", alarm_topic)
        self.alarms = Alarms(self, "Alarms", topic=alarm_topic, state_machine=self.pipeline.state_machine,
                             http_api=self.api.http_api, functions=self.functions, dead_letters={
                                 "uploads": DeadLetterQueue(self.uploads.dead_letters, "an inbox upload (on_upload)",
                                                            names.UPLOAD_FUNCTION),
                                 "tasks": DeadLetterQueue(self.api.task_dead_letters, "a standalone task (POST /tasks)",
                                                          names.ENCODE_FUNCTION),
                                 "webhooks": DeadLetterQueue(
                                     self.webhooks.dead_letters, "a webhook delivery (a retry message, or a batch of "
                                     "the table's stream)", names.WEBHOOKS_FUNCTION, redrive=(
                                         "Fix the cause (the webhooks function's logs say it), then move the messages "
                                         "back: aws sqs start-message-move-task --source-arn <WebhookDeadLettersArn> "
                                         "--destination-arn <WebhookRetryQueueArn> (README \"Webhooks on AWS\"). "
                                         "The events stay in the outbox meanwhile."))})

    @property
    def functions(self) -> dict[str, Any]:
        """Every MediaJet Lambda function by name (the folder under functions/)."""
        return {names.API_FUNCTION: self.api.function, **self.pipeline.functions,
                names.UPLOAD_FUNCTION: self.uploads.function, names.WEBHOOKS_FUNCTION: self.webhooks.function}

    @property
    def roles(self) -> dict[str, Any]:
        return {names.API_FUNCTION: self.api.role, **self.pipeline.roles, names.UPLOAD_FUNCTION: self.uploads.role,
                names.WEBHOOKS_FUNCTION: self.webhooks.role}


class MediaJetStack(Stack):
    def __init__(self, scope: Construct, construct_id: str = names.STACK_ID, *,
                 mediajet: dict[str, Any] | None = None, **stack_props: Any) -> None:
        super().__init__(scope, construct_id,
                         description="MediaJet: self-hosted media-processing API (Ittybit-compatible)", **stack_props)
        self.mediajet = MediaJet(self, "MediaJet", **(mediajet or {}))
        storage = self.mediajet.storage
        for output_id, value, description in (
            (names.OUTPUT_API_URL, self.mediajet.api.url, "Base URL of the Jobs API"),
            (names.OUTPUT_INBOX_BUCKET, storage.inbox_bucket.bucket_name, "Uploads here become jobs"),
            (names.OUTPUT_OUTPUT_BUCKET, storage.output_bucket.bucket_name, "Job results"),
            (names.OUTPUT_WORK_BUCKET, storage.work_bucket.bucket_name, "Temporary files of running jobs"),
            (names.OUTPUT_LOG_BUCKET, storage.log_bucket.bucket_name, "S3 server access logs of the buckets above"),
            (names.OUTPUT_TABLE, storage.table.table_name, "Jobs, tasks and API key hashes"),
            (names.OUTPUT_STATE_MACHINE, self.mediajet.pipeline.state_machine.state_machine_arn,
             "The job pipeline"),
            (names.OUTPUT_WEBHOOK_RETRY_QUEUE, self.mediajet.webhooks.retry_queue.queue_arn,
             "Webhook retries (redrive the dead letters here)"),
            (names.OUTPUT_WEBHOOK_DEAD_LETTERS, self.mediajet.webhooks.dead_letters.queue_arn,
             "Webhook deliveries that failed for good"),
        ):
            CfnOutput(self, output_id, value=value, description=description)


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None,
              env: Environment | None = None) -> App:
    """The app `app.py` synthesizes (and the tests): one MediaJetStack, checked by cdk-nag.

    Context keys: `mediajet:stackName` (default "MediaJet"), `mediajet:architecture` ("arm64" or
    "x86_64"), `mediajet:placeholderLayers` (true: synthesize without the built layers),
    `mediajet:alarmTopicArn` (an SNS topic every alarm notifies),
    `mediajet:chunkConcurrency`, `mediajet:chunkReservedConcurrency` and `mediajet:webhookReservedConcurrency`
    (a number, or "none" to reserve nothing: `-c mediajet:chunkReservedConcurrency=none` on accounts with a low
    concurrency quota).
    """
    app = App(context=context, outdir=outdir)
    get = app.node.try_get_context
    if env is None:
        env = Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION"))
    options: dict[str, Any] = {"architecture": get("mediajet:architecture") or "arm64",
                               "placeholder_layers": str(get("mediajet:placeholderLayers")).lower() == "true",
                               "alarm_topic": get("mediajet:alarmTopicArn") or None}
    if get("mediajet:chunkConcurrency") is not None:
        options["chunk_concurrency"] = int(get("mediajet:chunkConcurrency"))
    if get("mediajet:chunkReservedConcurrency") is not None:
        options["chunk_reserved_concurrency"] = concurrency_option(get("mediajet:chunkReservedConcurrency"))
    if get("mediajet:webhookReservedConcurrency") is not None:
        options["webhook_reserved_concurrency"] = concurrency_option(get("mediajet:webhookReservedConcurrency"))
    MediaJetStack(app, get("mediajet:stackName") or names.STACK_ID, env=env, mediajet=options)
    nag.check(app)
    return app


def concurrency_option(value: Any) -> int | None:
    """A context value as a concurrency: a number (`-c key=50` arrives as the string "50"), or none."""
    if value is None or str(value).strip().lower() in ("none", "null", "off", "false", ""):
        return None
    return int(value)
