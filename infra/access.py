"""IAM grants with exactly the actions MediaJet's code calls (no `s3:Get*`-style action wildcards).

The action lists follow the clients in mediajet: store/dynamo*.py (GetItem, PutItem and conditional
transactional puts, Query on the table and the index a function reads: the project index, or the webhook
sender's outbox index) and storage/s3.py + storage/s3_fetch.py
(upload_file, download_file, head_object, list_objects_v2, delete_objects, presigned GETs).
tests/infra check that every operation those modules call is covered.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Resource
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

from infra import nag
from mediajet.store import dynamo_schema

# TransactWriteItems is authorised per item as PutItem; Scan (active_jobs) is for operators only.
TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")
READ_OBJECTS = ("s3:GetObject",)  # download_file, head_object, presigned GET
# s3:// inputs from your buckets (versioned or not): the fetcher pins the VersionId head_object saw
# (storage/s3_fetch.py), and a GET with a VersionId is authorised as GetObjectVersion. This stack's own
# buckets are not versioned: reading them needs GetObject only.
READ_VERSIONS = ("s3:GetObjectVersion",)
# ListBucket on the bucket: list_objects_v2, and a 404 (not 403) from head_object for a missing key.
LIST_BUCKET = ("s3:ListBucket",)
WRITE_OBJECTS = ("s3:PutObject", "s3:AbortMultipartUpload")  # upload_file (multipart above a threshold)
DELETE_OBJECTS = ("s3:DeleteObject",)  # delete_objects is authorised per key


def table(role: iam.IRole, jobs: dynamodb.ITable, indexes: Sequence[str] = (dynamo_schema.PROJECT_INDEX,)) -> None:
    """The table and the indexes the role queries (the project index; the webhook sender: the outbox index)."""
    index_arns = [f"{jobs.table_arn}/index/{index}" for index in indexes]
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(TABLE_ACTIONS),
                                                     resources=[jobs.table_arn, *index_arns]))


def objects(role: iam.IRole, bucket: s3.IBucket, *, read: bool = False, write: bool = False,
            delete: bool = False, list_keys: bool | None = None) -> None:
    """Object-level access to one bucket; listing comes with read and delete unless told otherwise.
    Reading a bucket this app does not own (yours, imported by name) includes its objects' versions."""
    versions = READ_VERSIONS if read and not Resource.is_owned_resource(bucket) else ()
    actions = [*(READ_OBJECTS if read else ()), *versions, *(WRITE_OBJECTS if write else ()),
               *(DELETE_OBJECTS if delete else ())]
    role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[bucket.arn_for_objects("*")]))
    if list_keys if list_keys is not None else (read or delete):
        role.add_to_principal_policy(iam.PolicyStatement(actions=list(LIST_BUCKET), resources=[bucket.bucket_arn]))
    # Object actions on `<bucket>/*`: objects are keyed per job and per task (jobs/<id>/…, outputs by
    # path template), so the grant is "the objects of this one bucket"; actions are listed one by one.
    nag.ack(role, f"AwsSolutions-IAM5[Resource::{nag.render(role, bucket.arn_for_objects('*'))}]",
            "Object-level actions on the objects of one bucket; keys are per job, so the resource is the bucket's objects.")


def invoke(role: iam.IRole, function: lambda_.IFunction) -> None:
    """The unqualified function only (no versions or aliases)."""
    role.add_to_principal_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                                     resources=[function.function_arn]))


CONNECTION_SECRETS_API = ("kms:Encrypt", "kms:Decrypt")  # POST/PATCH /connections encrypt; nothing else
CONNECTION_SECRETS_STEPS = ("kms:Decrypt",)  # a step makes a connection's client


def connection_secrets(role: iam.IRole, key: kms.IKey, actions: Sequence[str]) -> None:
    """Exactly `actions` on the connections' key (mediajet.connections.crypto.KmsCipher)."""
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(actions), resources=[key.key_arn]))


def decrypt(role: iam.IRole, key_arns: Sequence[str]) -> None:
    """kms:Decrypt on these keys (your input buckets' SSE-KMS keys): GET of an object encrypted with one."""
    if key_arns:
        role.add_to_principal_policy(iam.PolicyStatement(actions=["kms:Decrypt"], resources=list(key_arns)))
