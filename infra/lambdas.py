"""One Lambda function as MediaJet deploys it: Python 3.13, its own role and log group, JSON logs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Size, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import nag, names
from mediajet.settings import Settings

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}
MAX_MB = 10240  # Lambda's ceiling for memory and for ephemeral storage
MIN_MB = 128  # Lambda's floor for memory
MIB = 1024 * 1024
FUNCTION_TAG = "mediajet:function"


@dataclass(frozen=True)
class Sizing:
    memory_mb: int
    ephemeral_mb: int
    timeout_s: int


# The encoder: CPU scales with memory (6 vCPUs at 10 GB), media and results sit in /tmp.
VIDEO = Sizing(memory_mb=MAX_MB, ephemeral_mb=MAX_MB, timeout_s=900)
# probe/import/export stream one whole input or output through /tmp: room for the largest input
# the service accepts (Settings.max_input_bytes) plus slack; little CPU.
_MAX_INPUT_MB = math.ceil(Settings.model_fields["max_input_bytes"].default / MIB)
TRANSFER = Sizing(memory_mb=1024, ephemeral_mb=min(MAX_MB, _MAX_INPUT_MB + 1024), timeout_s=600)
# join holds every encoded part, the sound and the joined result in /tmp at once (an hour of 1080p:
# ~5.9 GB as MP4, ~8.6 GB as the HLS ladder: BENCHMARKS.md "Chunked encoding"); stream copy needs little CPU.
JOIN = Sizing(memory_mb=1024, ephemeral_mb=MAX_MB, timeout_s=900)
# Records only (finalize, the S3 trigger).
SMALL = Sizing(memory_mb=512, ephemeral_mb=512, timeout_s=60)
MB_PER_VCPU = 1769  # Lambda's CPU share grows with memory: one vCPU at 1769 MB (6 at 10240 MB)


def vcpus(memory_mb: int) -> float:
    return memory_mb / MB_PER_VCPU


# API Gateway gives up on an integration after 30 s.
API = Sizing(memory_mb=1024, ephemeral_mb=512, timeout_s=29)


@dataclass(frozen=True)
class FunctionDefaults:
    """What every MediaJet function shares: its architecture, log retention, base environment and layers."""

    architecture: str
    log_retention: logs.RetentionDays
    environment: Mapping[str, str]
    mediajet_layer: lambda_.ILayerVersion
    ffmpeg_layer: lambda_.ILayerVersion


class MediaJetFunction(Construct):
    """`functions/<name>/handler.py` with the mediajet layer (plus ffmpeg when it needs it).
    `environment` is added to the defaults' one."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        description: str,
        sizing: Sizing,
        defaults: FunctionDefaults,
        environment: Mapping[str, str] | None = None,
        ffmpeg: bool = False,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        Tags.of(self).add(FUNCTION_TAG, name)  # on the function, its role and log group: cost per function
        self.log_group = logs.LogGroup(self, "Logs", retention=defaults.log_retention,
                                       removal_policy=RemovalPolicy.DESTROY)
        # A role per function, with nothing attached but what the constructs grant (no managed policy).
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description=f"MediaJet {name} function")
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self, "Function",
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURES[defaults.architecture],
            code=lambda_.Code.from_asset(str(names.function_dir(name))),
            handler=names.HANDLER,
            layers=[defaults.mediajet_layer, defaults.ffmpeg_layer] if ffmpeg else [defaults.mediajet_layer],
            memory_size=sizing.memory_mb,
            ephemeral_storage_size=Size.mebibytes(sizing.ephemeral_mb),
            timeout=Duration.seconds(sizing.timeout_s),
            environment={**defaults.environment, **(environment or {})},
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            tracing=lambda_.Tracing.ACTIVE,
            reserved_concurrent_executions=reserved_concurrency,
        )
        # Python 3.13 on purpose: the mediajet layer is built for cp313 (pydantic-core, Pillow wheels);
        # moving to a newer runtime means rebuilding that layer, a deliberate change.
        nag.ack(self.function, "AwsSolutions-L1", "Pinned to python3.13: the mediajet layer's native wheels are built for it.")
        # X-Ray active tracing: xray:PutTraceSegments/PutTelemetryRecords support no resource scoping.
        nag.ack(self.role, "AwsSolutions-IAM5[Resource::*]", "X-Ray tracing actions do not support resource-level permissions.")


DEAD_LETTER_RETENTION = Duration.days(14)  # SQS's longest: two weeks to notice and redrive


def dead_letters(scope: Construct, construct_id: str, function: lambda_.Function, *, retry_attempts: int,
                 what: str) -> sqs.Queue:
    """An SQS queue (SSE, TLS only, 14 days) that receives `function`'s asynchronous invocations that
    failed for good (after `retry_attempts` retries, or too old): Lambda's on-failure destination record
    (`requestPayload` is the event to invoke the function with again: README "Alarms and dead letters")."""
    queue = sqs.Queue(scope, construct_id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                      retention_period=DEAD_LETTER_RETENTION)
    function.configure_async_invoke(on_failure=destinations.SqsDestination(queue), retry_attempts=retry_attempts)
    # It is a dead-letter queue itself (as an on-failure destination, which cdk-nag does not recognise).
    nag.ack(queue, "AwsSolutions-SQS3", f"This queue is a dead-letter queue: the on-failure destination of {what}.")
    return queue
