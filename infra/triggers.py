"""The S3 trigger: an object created in the inbox bucket becomes a job (rules in mediajet.aws.uploads:
kind from the key's first folder, options from an optional `<key>.json` sidecar), or, under `library/`
(POST /signatures' presigned PUTs), a media library file and its ingest task (mediajet.aws.library_uploads)."""

from __future__ import annotations

from aws_cdk import CfnResource, RemovalPolicy, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from constructs import Construct

from infra import access, lambdas, nag, names
from infra.pipeline import Pipeline
from infra.storage import Storage

# The S3 notifications custom resource: a singleton the CDK adds to the stack for bucket events.
NOTIFICATIONS_HANDLER_ID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"


class UploadTrigger(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        pipeline: Pipeline,
        defaults: lambdas.FunctionDefaults,
    ) -> None:
        super().__init__(scope, construct_id)
        encode = pipeline.functions[names.ENCODE_FUNCTION]
        made = lambdas.MediaJetFunction(
            self, "Handler", name=names.UPLOAD_FUNCTION, description="MediaJet inbox upload → job or library file",
            sizing=lambdas.SMALL, defaults=defaults,
            environment={names.ENV_STATE_MACHINE_ARN: pipeline.state_machine.state_machine_arn,
                         names.ENV_ENCODE_FUNCTION: encode.function_name},
        )
        self.function = made.function
        self.role = made.role
        access.table(made.role, storage.table, access.UPLOADS)
        access.objects(made.role, storage.inbox_bucket, read=True)  # the object's sidecar (or its absence)
        pipeline.state_machine.grant_start_execution(made.role)
        access.invoke(made.role, encode)  # a library upload's ingest task (mediajet.aws.library_uploads)
        storage.inbox_bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(made.function))
        # S3 invokes asynchronously: Lambda retries twice, then the event (the upload's job) would be lost;
        # it lands here instead (one upload is one job however often it is redriven: mediajet.aws.uploads).
        self.dead_letters = lambdas.dead_letters(self, "DeadLetters", made.function, retry_attempts=2,
                                                 what="the inbox upload trigger (on_upload)")
        # The CDK's own S3-notifications handler (configures the inbox bucket's event): it uses the AWS
        # managed basic-execution policy; it runs only during deployments.
        handler = Stack.of(self).node.try_find_child(NOTIFICATIONS_HANDLER_ID)
        if handler is not None:
            notifications_handler_logs(handler, defaults.log_retention)
            nag.ack(handler, "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                             "AWSLambdaBasicExecutionRole]",
                    "CDK-provided S3 notifications handler; runs only at deploy time to configure the inbox bucket.")


def notifications_handler_logs(handler: Construct, retention: logs.RetentionDays) -> logs.LogGroup:
    """The CDK's S3-notifications handler logs to /aws/lambda/<name>, created by Lambda without expiry;
    it logs to a log group of ours with a retention instead (its function's LoggingConfig). The handler is
    one per stack: so is this log group (a second MediaJet in the stack finds the first one's)."""
    existing = handler.node.try_find_child("Logs")
    if isinstance(existing, logs.LogGroup):
        return existing
    log_group = logs.LogGroup(handler, "Logs", retention=retention, removal_policy=RemovalPolicy.DESTROY)
    function = handler.node.default_child
    assert isinstance(function, CfnResource), "the CDK's notifications handler is a raw AWS::Lambda::Function"
    function.add_property_override("LoggingConfig.LogGroup", log_group.log_group_name)
    return log_group
