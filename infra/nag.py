"""cdk-nag (AwsSolutions) for MediaJet, and every acknowledged finding with the reason it stands.

v3 form: `Validations.of(app).add_plugins(AwsSolutionsChecks(app))`; findings are acknowledged one by
one with `Validations.of(construct).acknowledge(...)` (it covers the construct's children), on the
narrowest construct that carries them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_cdk import Acknowledgment, Arn, ArnComponents, ArnFormat, Aws, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks
from constructs import Construct, IConstruct

if TYPE_CHECKING:
    from infra.stack import MediaJet

# The S3 notifications custom resource: a singleton the CDK adds to the stack for bucket events.
NOTIFICATIONS_HANDLER_ID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"


def check(app: Construct) -> None:
    """Run the AwsSolutions pack at synth: an unacknowledged finding stops the synth. Acknowledged
    findings are also written into each resource's Metadata (`cdk_nag.rules_to_suppress`) as an audit
    trail in the deployed template."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))


def _ack(scope: IConstruct, rule: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def _render(scope: IConstruct, value: str) -> str:
    """A (token) string as cdk-nag prints it in a finding: `<Logical.Arn>`, `<AWS::Region>`, …"""
    return _flatten(Stack.of(scope).resolve(value))


def _flatten(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_flatten(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    if isinstance(value, dict) and "Fn::Select" in value:  # printed as the intrinsic's compact JSON
        return json.dumps(value, separators=(",", ":"))
    raise ValueError(f"cannot render {value!r}")


def acknowledge_objects(role: iam.IRole, bucket: s3.IBucket) -> None:
    # Object actions on `<bucket>/*`: objects are keyed per job and per task (jobs/<id>/…, outputs by
    # path template), so the grant is "the objects of this one bucket"; actions are listed one by one.
    _ack(role, f"AwsSolutions-IAM5[Resource::{_render(role, bucket.arn_for_objects('*'))}]",
         "Object-level actions on the objects of one bucket; keys are per job, so the resource is the bucket's objects.")


def acknowledge(mediajet: MediaJet) -> None:
    # Python 3.13 on purpose: the mediajet layer is built for cp313 (pydantic-core, Pillow wheels);
    # moving to a newer runtime means rebuilding that layer, a deliberate change.
    for function in mediajet.functions.values():
        _ack(function, "AwsSolutions-L1", "Pinned to python3.13: the mediajet layer's native wheels are built for it.")
    # X-Ray active tracing: xray:PutTraceSegments/PutTelemetryRecords support no resource scoping.
    for role in mediajet.roles.values():
        _ack(role, "AwsSolutions-IAM5[Resource::*]", "X-Ray tracing actions do not support resource-level permissions.")

    pipeline = mediajet.pipeline
    machine_role = pipeline.state_machine.role
    # Log delivery to CloudWatch Logs (logs:CreateLogDelivery, …) and X-Ray require Resource "*".
    _ack(machine_role, "AwsSolutions-IAM5[Resource::*]",
         "Step Functions log delivery and X-Ray actions only accept Resource '*'.")
    # LambdaInvoke grants each step function and its versions (`:*`); the step functions only.
    for function in pipeline.functions.values():
        _ack(machine_role, f"AwsSolutions-IAM5[Resource::{_render(machine_role, function.function_arn)}:*]",
             "Invoke of this step's function (and its versions) as granted by the LambdaInvoke task.")
    # The chunks' Distributed Map reads the list of parts (jobs/<id>/chunks/items.json) from the working
    # bucket: its ItemReader has s3:GetObject on that bucket's objects.
    items = Arn.format(ArnComponents(partition=Aws.PARTITION, service="s3", region="", account="",
                                     resource=pipeline.work_bucket.bucket_name, resource_name="*"))
    _ack(machine_role, f"AwsSolutions-IAM5[Resource::{_render(machine_role, items)}]",
         "GetObject on the working bucket's objects: the Map's ItemReader reads each job's list of parts.")
    # It runs each part in a child execution of this same state machine (the CDK grants it in
    # DistributedMapPolicy): Describe/StopExecution on its executions, and RedriveExecution on the Map
    # Run's children (<machine>/<label>:<id>); their names are made at run time.
    map_policy = pipeline.state_machine.node.try_find_child("DistributedMapPolicy")
    if map_policy is not None:
        machine = pipeline.state_machine
        name = Arn.split(machine.state_machine_arn, ArnFormat.COLON_RESOURCE_NAME).resource_name
        for executions, reason in (
            (f"{name}:*", "Describe/StopExecution on this state machine's executions (the Map's child executions)."),
            (f"{name}/{pipeline.map_label}:*", "RedriveExecution on the child executions of the chunks' Map Run."),
        ):
            arn = Stack.of(machine).format_arn(service="states", resource="execution", resource_name=executions,
                                               arn_format=ArnFormat.COLON_RESOURCE_NAME)
            _ack(map_policy, f"AwsSolutions-IAM5[Resource::{_render(machine, arn)}]", reason)

    api = mediajet.api
    # Cancel stops the job's execution; executions are named by job id, so they are not known upfront.
    _ack(api.role, f"AwsSolutions-IAM5[Resource::{_render(api.role, api.execution_arns)}]",
         "StopExecution on the executions of this one state machine (named by job id at run time).")
    # Authentication is MediaJet's own, as in the Ittybit API: `Authorization: Bearer <key>`, checked in
    # the API function against sha256 hashes in the table (a missing or wrong key is a 401 with an
    # Ittybit error body). An API Gateway authorizer would add a second key store and latency.
    _ack(api.http_api.node.find_child("DefaultRoute"), "AwsSolutions-APIG4",
         "Bearer API keys are verified by the API function against hashed keys in DynamoDB (Ittybit-compatible).")

    # The CDK's own S3-notifications handler (configures the inbox bucket's event): it uses the AWS
    # managed basic-execution policy; it runs only during deployments.
    handler = Stack.of(mediajet).node.try_find_child(NOTIFICATIONS_HANDLER_ID)
    if handler is not None:
        _ack(handler, "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                      "AWSLambdaBasicExecutionRole]",
             "CDK-provided S3 notifications handler; runs only at deploy time to configure the inbox bucket.")
