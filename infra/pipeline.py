"""The job pipeline: one Lambda per step and a Standard state machine built from
`mediajet.pipeline.definition` (the same data the local worker runs).

    probe → import → encode → encode_chunks ─┬─ single pass ─────────────────────┬→ export → finalize → outcome
                                             └─ parts → encode_chunk_map → join ─┘
                                                        (encode_chunk × n)
    every Task, the Map and join: Catch States.ALL → finalize, with the error at $.error

A step with a fan-out (encode) is followed by a Choice: when its result names parts
(`$.chunks` = {"key": <items.json in the working bucket>, "count"}), a Distributed Map reads the
item list from S3 (the state stays small, whatever the number of parts), runs the part step once
per item (each in its own child execution, retried alone), discards the results, then the join
step runs and the pipeline goes on. A failed part fails the Map (no failure is tolerated), whose
Catch sends the job to finalize like any step's.

Each Lambda task retries only the transient errors (and Lambda service errors) with its step's
RetryPolicy, and a throttled invocation (Lambda.TooManyRequestsException: reserved or account
concurrency in use) with THROTTLE_RETRY, full jitter, capped at THROTTLE_MAX_DELAY_S.
Executions are named by job id (the API starts them; see mediajet.aws.orchestrator).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from aws_cdk import Arn, ArnComponents, ArnFormat, Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra import access, lambdas, nag, names
from infra.storage import Storage
from mediajet.pipeline.definition import (
    ALL_STEPS,
    FINALIZE,
    JOIN,
    LAMBDA_SERVICE_ERRORS,
    STEPS,
    THROTTLE_MAX_DELAY_S,
    THROTTLE_RETRY,
    FanOut,
    Step,
)

ERROR_PATH = "$.error"  # where a Catch puts {Error, Cause}; finalize reads it (steps.parse_step_error)
JOB_FAILED = "JobFailed"
# Parts of one job encoded at once (the Map's MaxConcurrency), and by default the concurrency reserved
# for the part function.
DEFAULT_CHUNK_CONCURRENCY = 100
SAME_AS_CHUNK_CONCURRENCY = "chunk_concurrency"
MAP_LABEL = "parts"  # names the Map's child executions (<machine>/parts:<id>); also scopes its IAM grants


def sizing(step: Step) -> lambdas.Sizing:
    if step.heavy:
        return lambdas.VIDEO
    if step is JOIN:
        return lambdas.JOIN
    return lambdas.SMALL if step is FINALIZE else lambdas.TRANSFER


def invoke(scope: Construct, step: Step, function: lambda_.IFunction) -> tasks.LambdaInvoke:
    """A Task state named after the step: the state ({"job_id"}, or a part's item) goes in whole, the
    function's return value becomes the state; retries follow the step's RetryPolicy, and throttling
    THROTTLE_RETRY, and nothing else."""
    task = tasks.LambdaInvoke(scope, step.name, lambda_function=function, payload_response_only=True,
                              retry_on_service_exceptions=False)
    task.add_retry(errors=[*step.retry.errors, *LAMBDA_SERVICE_ERRORS],
                   interval=Duration.seconds(step.retry.interval_s), max_attempts=step.retry.max_attempts,
                   backoff_rate=step.retry.backoff_rate)
    task.add_retry(errors=list(THROTTLE_RETRY.errors), interval=Duration.seconds(THROTTLE_RETRY.interval_s),
                   max_attempts=THROTTLE_RETRY.max_attempts, backoff_rate=THROTTLE_RETRY.backoff_rate,
                   max_delay=Duration.seconds(THROTTLE_MAX_DELAY_S), jitter_strategy=sfn.JitterType.FULL)
    return task


def fan_out(scope: Construct, step: Step, spec: FanOut, functions: Mapping[str, lambda_.IFunction], *,
            work_bucket: s3.IBucket, concurrency: int, then: sfn.IChainable,
            finalize: sfn.IChainable) -> sfn.Choice:
    """After `step`: the Choice between its single-pass result (straight to `then`) and its parts
    (Map over them, join, then `then`)."""
    each = invoke(scope, spec.each, functions[spec.each.name])  # a part failing for good fails the Map
    parts = sfn.DistributedMap(
        scope, f"{spec.each.name}_map",
        item_reader=sfn.S3JsonItemReader(bucket=work_bucket, key=sfn.JsonPath.string_at(f"$.{spec.key}.key")),
        max_concurrency=concurrency,
        # Standard child executions: a part may run (and be retried) for longer than an Express one's 5 min.
        map_execution_type=sfn.StateMachineType.STANDARD,
        # No failure tolerated (the default, 0: the CDK writes no ToleratedFailure* field for it).
        label=MAP_LABEL,
        result_path=sfn.JsonPath.DISCARD,  # the parts' results stay out of the state (256 KB limit)
    )
    parts.item_processor(each)
    join = invoke(scope, spec.join, functions[spec.join.name])
    for state in (parts, join):
        state.add_catch(finalize, errors=[sfn.Errors.ALL], result_path=ERROR_PATH)
    parts.next(join)
    join.next(then)
    return sfn.Choice(scope, f"{step.name}_{spec.key}").when(
        sfn.Condition.is_present(f"$.{spec.key}.key"), parts).otherwise(then)


def definition(scope: Construct, functions: Mapping[str, lambda_.IFunction], *, work_bucket: s3.IBucket,
               chunk_concurrency: int = DEFAULT_CHUNK_CONCURRENCY) -> sfn.IChainable:
    finalize = invoke(scope, FINALIZE, functions[FINALIZE.name])
    outcome = sfn.Choice(scope, "outcome").when(
        sfn.Condition.string_equals("$.status", "failed"),
        sfn.Fail(scope, "failed", error=JOB_FAILED, cause="the job failed; its record holds the error"),
    ).otherwise(sfn.Succeed(scope, "succeeded"))
    finalize.next(outcome)
    following: sfn.IChainable = finalize
    for step in reversed(STEPS):  # built back to front: each step knows what follows it
        task = invoke(scope, step, functions[step.name])
        task.add_catch(finalize, errors=[sfn.Errors.ALL], result_path=ERROR_PATH)
        if step.fan_out is not None:
            task.next(fan_out(scope, step, step.fan_out, functions, work_bucket=work_bucket,
                              concurrency=chunk_concurrency, then=following, finalize=finalize))
        else:
            task.next(following)
        following = task
    return following


class Pipeline(Construct):
    """The step functions and the state machine. `chunk_concurrency`: parts of one job encoded at once
    (the Map's MaxConcurrency). `chunk_reserved_concurrency`: executions reserved for (and the ceiling of)
    the part function, so a burst of parts cannot take the concurrency the API needs (parts beyond it
    are throttled and wait, see THROTTLE_RETRY); by default as many as `chunk_concurrency`; None
    reserves nothing (accounts whose concurrency quota is too low to reserve any: Lambda keeps 100
    unreserved)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        defaults: lambdas.FunctionDefaults,
        input_buckets: Sequence[s3.IBucket] = (),
        export_buckets: Sequence[s3.IBucket] = (),
        encode_memory_mb: int = lambdas.MAX_MB,
        chunk_concurrency: int = DEFAULT_CHUNK_CONCURRENCY,
        chunk_reserved_concurrency: int | None | Literal["chunk_concurrency"] = SAME_AS_CHUNK_CONCURRENCY,
    ) -> None:
        super().__init__(scope, construct_id)
        if chunk_reserved_concurrency == SAME_AS_CHUNK_CONCURRENCY:
            chunk_reserved_concurrency = chunk_concurrency
        if chunk_concurrency < 1 or (chunk_reserved_concurrency is not None and chunk_reserved_concurrency < 1):
            raise ValueError("chunk_concurrency and chunk_reserved_concurrency must be at least 1 (or None)")
        self.map_label = MAP_LABEL
        self.work_bucket = storage.work_bucket  # the Map's ItemReader reads the list of parts from it
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.IRole] = {}
        # Admission at probe (and for standalone tasks) refuses what an encoder could not finish: it
        # needs the encoders' time limit and speed (their vCPUs over the reference machine's 2 cores).
        # The plan (and admission) size chunks so that a long input still takes one wave of the Map.
        environment = {names.ENV_STEP_TIMEOUT: str(lambdas.VIDEO.timeout_s),
                       names.ENV_ENCODE_SPEED: f"{lambdas.vcpus(encode_memory_mb) / 2:.2f}",
                       names.ENV_CHUNK_PARALLELISM: str(chunk_concurrency)}
        for step in ALL_STEPS:
            size = sizing(step)
            if step.heavy:
                size = lambdas.Sizing(encode_memory_mb, size.ephemeral_mb, size.timeout_s)
            uses_ffmpeg = step.name in names.FFMPEG_FUNCTIONS
            env = dict(environment)
            if uses_ffmpeg:
                env |= {names.ENV_FFMPEG: names.FFMPEG_PATH, names.ENV_FFPROBE: names.FFPROBE_PATH}
            made = lambdas.MediaJetFunction(
                self, _construct_id(step.name), name=step.name, description=f"MediaJet pipeline step: {step.name}",
                sizing=size, defaults=defaults, environment=env, ffmpeg=uses_ffmpeg,
                reserved_concurrency=chunk_reserved_concurrency if step.name == names.CHUNK_FUNCTION else None,
            )
            self.functions[step.name] = made.function
            self.roles[step.name] = made.role
            access.table(made.role, storage.table, access.STEPS)
        self._grant_files(storage, input_buckets, export_buckets)

        log_group = logs.LogGroup(self, "Logs", retention=defaults.log_retention, removal_policy=RemovalPolicy.DESTROY)
        chain = definition(self, self.functions, work_bucket=storage.work_bucket, chunk_concurrency=chunk_concurrency)
        self.state_machine = sfn.StateMachine(
            self, "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(chain),
            state_machine_type=sfn.StateMachineType.STANDARD,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
            comment="MediaJet job pipeline (built from mediajet.pipeline.definition)",
        )
        self._acknowledge()

    def _acknowledge(self) -> None:
        """The state machine role's cdk-nag findings, each with the reason it stands."""
        machine = self.state_machine
        machine_role = machine.role
        # Log delivery to CloudWatch Logs (logs:CreateLogDelivery, …) and X-Ray require Resource "*".
        nag.ack(machine_role, "AwsSolutions-IAM5[Resource::*]",
                "Step Functions log delivery and X-Ray actions only accept Resource '*'.")
        # LambdaInvoke grants each step function and its versions (`:*`); the step functions only.
        for function in self.functions.values():
            nag.ack(machine_role, f"AwsSolutions-IAM5[Resource::{nag.render(machine_role, function.function_arn)}:*]",
                    "Invoke of this step's function (and its versions) as granted by the LambdaInvoke task.")
        # The chunks' Distributed Map reads the list of parts (jobs/<id>/chunks/items.json) from the working
        # bucket: its ItemReader has s3:GetObject on that bucket's objects.
        items = Arn.format(ArnComponents(partition=Aws.PARTITION, service="s3", region="", account="",
                                         resource=self.work_bucket.bucket_name, resource_name="*"))
        nag.ack(machine_role, f"AwsSolutions-IAM5[Resource::{nag.render(machine_role, items)}]",
                "GetObject on the working bucket's objects: the Map's ItemReader reads each job's list of parts.")
        # It runs each part in a child execution of this same state machine (the CDK grants it in
        # DistributedMapPolicy): Describe/StopExecution on its executions, and RedriveExecution on the Map
        # Run's children (<machine>/<label>:<id>); their names are made at run time.
        map_policy = machine.node.try_find_child("DistributedMapPolicy")
        if map_policy is not None:
            name = Arn.split(machine.state_machine_arn, ArnFormat.COLON_RESOURCE_NAME).resource_name
            for executions, reason in (
                (f"{name}:*", "Describe/StopExecution on this state machine's executions (the Map's child executions)."),
                (f"{name}/{self.map_label}:*", "RedriveExecution on the child executions of the chunks' Map Run."),
            ):
                arn = Stack.of(machine).format_arn(service="states", resource="execution", resource_name=executions,
                                                   arn_format=ArnFormat.COLON_RESOURCE_NAME)
                nag.ack(map_policy, f"AwsSolutions-IAM5[Resource::{nag.render(machine, arn)}]", reason)

    def _grant_files(self, storage: Storage, input_buckets: Sequence[s3.IBucket],
                     export_buckets: Sequence[s3.IBucket]) -> None:
        role = self.roles
        encode = names.ENCODE_FUNCTION
        # probe fetches the input into the working bucket; import checks it is there (fetching it
        # when probe did not); encode reads it and writes its results next to it (or, cutting a long
        # video into parts, the pieces, the plan and the list of parts the Map reads).
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
        # A finished task's file starts the media library's automations: more tasks, in this same function
        # (invoked asynchronously, as the API does). A policy of its own: the function's default policy is
        # created before the function, so it cannot name the function's ARN.
        iam.Policy(self, "EncodeStartsTasks", roles=[role[encode]], statements=[iam.PolicyStatement(
            actions=["lambda:InvokeFunction"], resources=[self.functions[encode].function_arn])])
        for bucket in export_buckets:
            access.objects(role[encode], bucket, write=True)
        # A part reads its piece (or the input, for the sound) and the plan, and writes its output (and,
        # when it fails for good, its error: mediajet.aws.handlers).
        access.objects(role[names.CHUNK_FUNCTION], storage.work_bucket, read=True, write=True)
        # An HLS part bound for the output bucket writes its segments there, where the join writes the playlists.
        access.objects(role[names.CHUNK_FUNCTION], storage.output_bucket, write=True)
        # join reads the encoded parts, writes the result next to the input and removes the parts; an MP4
        # bound for the output bucket it writes there itself (copying the parts' bytes inside S3) and reads
        # back its header to describe it.
        access.objects(role[names.JOIN_FUNCTION], storage.work_bucket, read=True, write=True, delete=True)
        access.objects(role[names.JOIN_FUNCTION], storage.output_bucket, read=True, write=True)
        # finalize removes the job's working files (reading a failed part's error first).
        access.objects(role[FINALIZE.name], storage.work_bucket, read=True, delete=True)
        # ... and a failed HLS job's segments that its parts had already written into the output bucket.
        access.objects(role[FINALIZE.name], storage.output_bucket, delete=True)


def _construct_id(step_name: str) -> str:
    """encode_chunk → EncodeChunk (the ids of the first steps, e.g. Probe, are unchanged)."""
    return "".join(part.capitalize() for part in step_name.split("_"))
