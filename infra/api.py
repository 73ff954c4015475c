"""The HTTP API: API Gateway HTTP API (catch-all `$default` route, access logs, throttling) → the API
Lambda, which authenticates each request with a hashed API key from the table (see README)."""

from __future__ import annotations

import json

import jsii
from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct

from infra import access, lambdas, nag, names
from infra.pipeline import Pipeline
from infra.storage import Storage

# JSON lines with HTTP API ($context) variables only; never headers (they carry the API key).
ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(json.dumps({
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "time": "$context.requestTime",
    "method": "$context.httpMethod", "path": "$context.path", "route": "$context.routeKey",
    "status": "$context.status", "bytes": "$context.responseLength", "latencyMs": "$context.responseLatency",
    "integrationError": "$context.integrationErrorMessage",
}))


@jsii.implements(apigwv2.IAccessLogSettings)
class AccessLogs:
    """Access logs as JSON lines (the stage props take an interface, not a struct)."""

    def __init__(self, destination: apigwv2.IAccessLogDestination) -> None:
        self._destination = destination

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return ACCESS_LOG_FORMAT


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        pipeline: Pipeline,
        defaults: lambdas.FunctionDefaults,
        rate_limit: int = 100,
        burst_limit: int = 200,
        memory_mb: int = lambdas.API.memory_mb,
    ) -> None:
        super().__init__(scope, construct_id)
        encode = pipeline.functions[names.ENCODE_FUNCTION]
        # Signs the /downloads/ links of HLS results (mediajet.aws.downloads: the API answers them, rewriting
        # each playlist so every URI in it works). Rotating it ends the links issued before.
        self.download_secret = secretsmanager.Secret(
            self, "DownloadLinkSecret", description="MediaJet: HMAC key of signed /downloads/ links (HLS results)",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
            removal_policy=RemovalPolicy.DESTROY)
        nag.ack(self.download_secret, "AwsSolutions-SMG4",
                "An HMAC key of download links, which live at most link_ttl_s; rotating it only ends those links early.")
        made = lambdas.MediaJetFunction(
            self, "Handler", name=names.API_FUNCTION, description="MediaJet HTTP API",
            sizing=lambdas.Sizing(memory_mb, lambdas.API.ephemeral_mb, lambdas.API.timeout_s), defaults=defaults,
            environment={names.ENV_STATE_MACHINE_ARN: pipeline.state_machine.state_machine_arn,
                         names.ENV_ENCODE_FUNCTION: encode.function_name,
                         names.ENV_DOWNLOAD_SECRET: self.download_secret.secret_arn},
        )
        self.function = made.function
        self.role = made.role
        access.table(made.role, storage.table, access.API)
        # Presigned download links of results are signed by this role (HLS: the segments in the playlists it
        # answers under /downloads/, which reads the playlists); DELETE /files and /media remove a library
        # file's bytes (a task's folder: listed, then deleted).
        access.objects(made.role, storage.output_bucket, read=True, delete=True)
        access.read_secret(made.role, self.download_secret)
        # …and the media library's upload URLs (POST /signatures: a presigned PUT or GET of library/… in the
        # inbox bucket, which the upload trigger files).
        access.objects(made.role, storage.inbox_bucket, read=True, write=True, list_keys=False)
        pipeline.state_machine.grant_start_execution(made.role)
        # Cancel stops the job's execution, which is named by the job id.
        self.execution_arns = execution_arns(self, pipeline)
        made.role.add_to_principal_policy(iam.PolicyStatement(actions=["states:StopExecution"],
                                                              resources=[self.execution_arns]))
        access.invoke(made.role, encode)  # standalone tasks (POST /tasks) run in the encode function
        # …invoked asynchronously (mediajet.aws.orchestrator): a task's own errors mark it failed, but a run
        # that dies (timeout, out of memory) leaves it `processing`; no retry (it would die again, after up
        # to 15 minutes): the invocation lands in this queue and its alarm goes off.
        self.task_dead_letters = lambdas.dead_letters(self, "TaskDeadLetters", encode, retry_attempts=0,
                                                      what="standalone tasks (POST /tasks: the encode function)")

        self.http_api = apigwv2.HttpApi(
            self, "HttpApi", description="MediaJet (Ittybit-compatible Jobs API)", create_default_stage=False,
            default_integration=HttpLambdaIntegration("Lambda", made.function),
        )
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=defaults.log_retention,
                                         removal_policy=RemovalPolicy.DESTROY)
        self.stage = apigwv2.HttpStage(
            self, "Stage", http_api=self.http_api, stage_name="$default", auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
            access_log_settings=AccessLogs(apigwv2.LogGroupLogDestination(self.access_logs)),
        )
        self.url = self.stage.url
        # Cancel stops the job's execution; executions are named by job id, so they are not known upfront.
        nag.ack(made.role, f"AwsSolutions-IAM5[Resource::{nag.render(made.role, self.execution_arns)}]",
                "StopExecution on the executions of this one state machine (named by job id at run time).")
        # Authentication is MediaJet's own, as in the Ittybit API: `Authorization: Bearer <key>`, checked in
        # the API function against sha256 hashes in the table (a missing or wrong key is a 401 with an
        # Ittybit error body). An API Gateway authorizer would add a second key store and latency. Signed
        # download links (/downloads/…?expires=…&signature=…) reach the function through the same route and
        # carry no key: their HMAC is checked there (mediajet.aws.downloads).
        nag.ack(self.http_api.node.find_child("DefaultRoute"), "AwsSolutions-APIG4",
                "Bearer API keys are verified by the API function against hashed keys in DynamoDB (Ittybit-compatible).")


def execution_arns(scope: Construct, pipeline: Pipeline) -> str:
    """arn:…:execution:<state machine name>:* — the executions of this state machine only."""
    return Stack.of(scope).format_arn(
        service="states", resource="execution",
        resource_name=f"{pipeline.state_machine.state_machine_name}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
