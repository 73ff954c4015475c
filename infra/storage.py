"""Records and files: the JobStore table (from mediajet.store.dynamo_schema) and the S3 buckets."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import names
from mediajet.store import dynamo_schema

ATTRIBUTE_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER,
                   "B": dynamodb.AttributeType.BINARY}
PROJECTIONS = {"ALL": dynamodb.ProjectionType.ALL, "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY}
LOG_EXPIRY_DAYS = 90


def _key(schema: list[dict], key_type: str, types: dict[str, str]) -> dynamodb.Attribute | None:
    name = next((k["AttributeName"] for k in schema if k["KeyType"] == key_type), None)
    return None if name is None else dynamodb.Attribute(name=name, type=ATTRIBUTE_TYPES[types[name]])


def job_table(scope: Construct, construct_id: str) -> dynamodb.Table:
    """The table exactly as `dynamo_schema.create_table_kwargs` describes it (the tests use the same
    data under moto), on demand, with point-in-time recovery, encryption and the TTL attribute."""
    spec = dynamo_schema.create_table_kwargs("unused", stream=True)
    types = {a["AttributeName"]: a["AttributeType"] for a in spec["AttributeDefinitions"]}
    table = dynamodb.Table(
        scope, construct_id,
        partition_key=_key(spec["KeySchema"], "HASH", types),
        sort_key=_key(spec["KeySchema"], "RANGE", types),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True),
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        time_to_live_attribute=dynamo_schema.TTL_ATTRIBUTE,
        removal_policy=RemovalPolicy.RETAIN,  # jobs and API keys outlive the stack; see README
        # the webhook delivery function reads it (infra/webhooks.py)
        stream=dynamodb.StreamViewType[spec["StreamSpecification"]["StreamViewType"]],
    )
    for index in spec.get("GlobalSecondaryIndexes", []):
        table.add_global_secondary_index(
            index_name=index["IndexName"],
            partition_key=_key(index["KeySchema"], "HASH", types),
            sort_key=_key(index["KeySchema"], "RANGE", types),
            projection_type=PROJECTIONS[index["Projection"]["ProjectionType"]],
        )
    return table


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = job_table(self, "Jobs")
        # Server access logs of the three data buckets land here (it does not log itself).
        self.log_bucket = self._bucket(
            "AccessLogs", log=False,
            rules=[s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(LOG_EXPIRY_DAYS))],
        )
        # Fetched inputs and encoder results while a job runs: temporary by design.
        self.work_bucket = self._bucket(
            "Work",
            rules=[s3.LifecycleRule(id="expire-temporary-files", expiration=Duration.days(names.WORK_EXPIRY_DAYS))],
        )
        # Results: kept until you delete them. Players read HLS segments from it with presigned GETs, in
        # browsers too (hls.js fetches them from the page's origin): GET and HEAD from any origin (a
        # presigned URL is the authorisation, as the signed /downloads/ links are; see infra/api.py).
        self.output_bucket = self._bucket("Output", cors=[s3.CorsRule(
            allowed_methods=[s3.HttpMethods.GET, s3.HttpMethods.HEAD], allowed_origins=["*"],
            allowed_headers=["Range"], exposed_headers=["Content-Length", "Content-Range", "Accept-Ranges", "ETag"],
            max_age=86400)])
        self.inbox_bucket = self._bucket("Inbox")  # uploads here become jobs (see infra.triggers)
        # Encrypts the secret access keys of storage connections (mediajet.connections.crypto.KmsCipher): the
        # API encrypts and decrypts, the steps that read or write s3:// URLs decrypt.
        self.connections_key = kms.Key(self, "ConnectionsKey", enable_key_rotation=True,
                                       description="MediaJet: secrets of storage connections (POST /connections)",
                                       removal_policy=RemovalPolicy.RETAIN)  # stored secrets outlive the stack

    def _bucket(self, construct_id: str, *, log: bool = True, rules: list[s3.LifecycleRule] | None = None,
                cors: list[s3.CorsRule] | None = None) -> s3.Bucket:
        bucket = s3.Bucket(
            self, construct_id,
            cors=cors,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                *(rules or []),
                s3.LifecycleRule(id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
            removal_policy=RemovalPolicy.RETAIN,  # data outlives the stack; see README "Remove the stack"
        )
        if log:
            self._log_to_access_logs(bucket, f"{construct_id.lower()}/")
        return bucket

    def _log_to_access_logs(self, bucket: s3.Bucket, prefix: str) -> None:
        """Server access logging into the log bucket, granted by a bucket policy (not the
        LogDeliveryWrite ACL, which BUCKET_OWNER_ENFORCED buckets refuse). Written out here rather than
        through `server_access_logs_bucket=`, whose result depends on the app's
        `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy` flag: without it (a bare `App()`), the CDK
        switches the log bucket to the ACL and the synth fails. This is what the flag renders."""
        cfn_bucket = bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
            destination_bucket_name=self.log_bucket.bucket_name, log_file_prefix=prefix)
        self.log_bucket.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[self.log_bucket.arn_for_objects(f"{prefix}*")],
            conditions={"ArnLike": {"aws:SourceArn": bucket.bucket_arn},
                        "StringEquals": {"aws:SourceAccount": Stack.of(bucket).account}},
        ))
