"""The job pipeline: one Lambda per step and a Standard state machine built from
`mediajet.pipeline.definition` (the same data the local worker runs).

    probe → import → encode → export → finalize → outcome (job failed? Fail : Succeed)
      └──────┴────────┴────────┴── Catch States.ALL → finalize with the error at $.error

Each step retries only the transient errors (and Lambda service errors) with its RetryPolicy.
Executions are named by job id (the API starts them; see mediajet.aws.orchestrator).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra import access, lambdas, names
from infra.layers import Layers
from infra.storage import Storage
from mediajet.pipeline.definition import FINALIZE, LAMBDA_SERVICE_ERRORS, STEPS, Step

ERROR_PATH = "$.error"  # where a Catch puts {Error, Cause}; finalize reads it (steps.parse_step_error)
JOB_FAILED = "JobFailed"


def sizing(step: Step) -> lambdas.Sizing:
    if step.heavy:
        return lambdas.VIDEO
    return lambdas.SMALL if step is FINALIZE else lambdas.TRANSFER


def invoke(scope: Construct, step: Step, function: lambda_.IFunction) -> tasks.LambdaInvoke:
    """A Task state named after the step: the state ({"job_id"}) goes in whole, the function's
    return value becomes the state; retries follow the step's RetryPolicy and nothing else."""
    task = tasks.LambdaInvoke(scope, step.name, lambda_function=function, payload_response_only=True,
                              retry_on_service_exceptions=False)
    task.add_retry(errors=[*step.retry.errors, *LAMBDA_SERVICE_ERRORS],
                   interval=Duration.seconds(step.retry.interval_s), max_attempts=step.retry.max_attempts,
                   backoff_rate=step.retry.backoff_rate)
    return task


def definition(scope: Construct, functions: Mapping[str, lambda_.IFunction]) -> sfn.IChainable:
    finalize = invoke(scope, FINALIZE, functions[FINALIZE.name])
    outcome = sfn.Choice(scope, "outcome").when(
        sfn.Condition.string_equals("$.status", "failed"),
        sfn.Fail(scope, "failed", error=JOB_FAILED, cause="the job failed; its record holds the error"),
    ).otherwise(sfn.Succeed(scope, "succeeded"))
    finalize.next(outcome)
    steps = [invoke(scope, step, functions[step.name]) for step in STEPS]
    for current, following in zip(steps, [*steps[1:], finalize], strict=True):
        current.add_catch(finalize, errors=[sfn.Errors.ALL], result_path=ERROR_PATH)
        current.next(following)
    return steps[0]


class Pipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        layers: Layers,
        environment: Mapping[str, str],
        architecture: str,
        log_retention: logs.RetentionDays,
        input_buckets: Sequence[s3.IBucket] = (),
        export_buckets: Sequence[s3.IBucket] = (),
        encode_memory_mb: int = lambdas.MAX_MB,
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.IRole] = {}
        for step in (*STEPS, FINALIZE):
            size = sizing(step)
            if step.heavy:
                size = lambdas.Sizing(encode_memory_mb, size.ephemeral_mb, size.timeout_s)
            uses_ffmpeg = step.name in names.FFMPEG_FUNCTIONS
            env = dict(environment)
            if uses_ffmpeg:
                env |= {names.ENV_FFMPEG: names.FFMPEG_PATH, names.ENV_FFPROBE: names.FFPROBE_PATH}
            made = lambdas.MediaJetFunction(
                self, step.name.capitalize(), name=step.name, description=f"MediaJet pipeline step: {step.name}",
                sizing=size, architecture=architecture, environment=env, log_retention=log_retention,
                layers=[layers.mediajet, layers.ffmpeg] if uses_ffmpeg else [layers.mediajet],
            )
            self.functions[step.name] = made.function
            self.roles[step.name] = made.role
            access.table(made.role, storage.table)
        self._grant_files(storage, input_buckets, export_buckets)

        log_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY)
        self.state_machine = sfn.StateMachine(
            self, "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition(self, self.functions)),
            state_machine_type=sfn.StateMachineType.STANDARD,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
            comment="MediaJet job pipeline (built from mediajet.pipeline.definition)",
        )

    def _grant_files(self, storage: Storage, input_buckets: Sequence[s3.IBucket],
                     export_buckets: Sequence[s3.IBucket]) -> None:
        role = self.roles
        encode = names.ENCODE_FUNCTION
        # probe fetches the input into the working bucket; import checks it is there (fetching it
        # when probe did not); encode reads it and writes its results next to it.
        for name in ("probe", "import", encode):
            access.objects(role[name], storage.work_bucket, read=True, write=True)
            for bucket in (storage.inbox_bucket, *input_buckets):  # s3:// inputs
                access.objects(role[name], bucket, read=True)
        # export copies the results out of the working bucket to the output bucket or a destination.
        access.objects(role["export"], storage.work_bucket, read=True)
        for bucket in (storage.output_bucket, *export_buckets):
            access.objects(role["export"], bucket, write=True)
        # Standalone tasks (POST /tasks) run in the encode function and keep their files in the
        # output bucket (removing their copied input); an `export` task writes to a destination.
        access.objects(role[encode], storage.output_bucket, read=True, write=True, delete=True)
        for bucket in export_buckets:
            access.objects(role[encode], bucket, write=True)
        # finalize removes the job's working files.
        access.objects(role[FINALIZE.name], storage.work_bucket, delete=True)
