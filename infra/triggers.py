"""The S3 trigger: an object created in the inbox bucket becomes a job (rules in mediajet.aws.uploads:
kind from the key's first folder, options from an optional `<key>.json` sidecar)."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from constructs import Construct

from infra import access, lambdas, names
from infra.layers import Layers
from infra.pipeline import Pipeline
from infra.storage import Storage


class UploadTrigger(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        layers: Layers,
        pipeline: Pipeline,
        environment: Mapping[str, str],
        architecture: str,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        made = lambdas.MediaJetFunction(
            self, "Handler", name=names.UPLOAD_FUNCTION, description="MediaJet inbox upload → job",
            sizing=lambdas.SMALL, architecture=architecture, layers=[layers.mediajet], log_retention=log_retention,
            environment={**environment, names.ENV_STATE_MACHINE_ARN: pipeline.state_machine.state_machine_arn},
        )
        self.function = made.function
        self.role = made.role
        access.table(made.role, storage.table)
        access.objects(made.role, storage.inbox_bucket, read=True)  # the object's sidecar (or its absence)
        pipeline.state_machine.grant_start_execution(made.role)
        storage.inbox_bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(made.function))
