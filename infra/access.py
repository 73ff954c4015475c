"""IAM grants with exactly the actions MediaJet's code calls (no `s3:Get*`-style action wildcards).

The action lists follow the clients in mediajet: store/dynamo*.py (GetItem, PutItem and conditional
transactional puts, Query on the table and the index a function reads: the project index, or the webhook
sender's outbox index) and storage/s3.py + storage/s3_fetch.py
(upload_file, download_file, head_object, list_objects_v2, delete_objects, presigned GETs).
tests/infra check that every operation those modules call is covered.

Table items are scoped per caller with `dynamodb:LeadingKeys` (the partition key of the item, or of the index a
Query reads): TableAccess below lists, per role, the key patterns each action may touch (dynamo_schema.py has
the key design). tests/infra/iam.py evaluates every DynamoDB request the functions make under moto against these
statements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aws_cdk import Resource
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager

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


JOBS = [dynamo_schema.job_pk("*")]  # JOB#<job id>
TASKS = [dynamo_schema.task_pk("*")]  # TASK#<task id>: standalone tasks, and job task pointers
KEYS = [dynamo_schema.api_key_pk("*")]  # KEY#<sha256 of an API key>
CLAIMS = [dynamo_schema.idempotency_pk("*", "*")]  # IDEM#<project>#<Idempotency-Key>
# The upload trigger's claims: keyed by the object (mediajet.aws.uploads: `s3:<bucket>/<key>:<etag>`).
UPLOAD_CLAIMS = [dynamo_schema.idempotency_pk("*", "s3:*")]
LIBRARY = [dynamo_schema.library_pk("*")]  # every library item (LIB#<id>), including the list partitions


def library(*record_types: str) -> list[str]:
    """LIB#<prefix>_* for these record types (ids are prefixed per type: dynamo_schema.LIBRARY_ID_PREFIX)."""
    return [dynamo_schema.library_pk(f"{dynamo_schema.LIBRARY_ID_PREFIX[t]}*") for t in record_types]


def library_lists(*record_types: str) -> list[str]:
    """The project index partitions of these record types' lists (LIB#<type>#<project>)."""
    return [dynamo_schema.library_list_pk(t, "*") for t in record_types]


@dataclass(frozen=True)
class TableAccess:
    """Leading-key patterns (StringLike) per action: items read (GetItem), written (PutItem; a transaction's
    Puts are authorised one by one), partitions queried on the table, and partitions queried per index."""

    get: Sequence[str]
    put: Sequence[str]
    query: Sequence[str] = ()
    index_queries: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def statements(self, table_arn: str) -> list[iam.PolicyStatement]:
        wanted = [("dynamodb:GetItem", table_arn, self.get), ("dynamodb:PutItem", table_arn, self.put),
                  ("dynamodb:Query", table_arn, self.query),
                  *(("dynamodb:Query", f"{table_arn}/index/{index}", keys)
                    for index, keys in self.index_queries.items())]
        return [iam.PolicyStatement(actions=[action], resources=[resource],
                                    conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(keys)}})
                for action, resource, keys in wanted if keys]


# Webhook events: written with the job or task change they report (store/dynamo_outbox.py), so whoever changes a
# job or a standalone task's status writes events, after reading the project's endpoints (a Query of their list).
EVENT_WRITERS_QUERY = library_lists("webhook_endpoint")

# The API: every kind of item (it is the one that serves them all), but it only reads API keys (GetItem, to
# authenticate): keys are made with `mediajet keys`, with the operator's credentials.
API = TableAccess(
    get=[*JOBS, *TASKS, *CLAIMS, *KEYS, *LIBRARY],
    put=[*JOBS, *TASKS, *CLAIMS, *LIBRARY],
    query=TASKS,  # GET /tasks/{id}: the task's items (the task, or its pointer into a job)
    index_queries={dynamo_schema.PROJECT_INDEX: [dynamo_schema.project_pk("*"), dynamo_schema.task_list_pk("*"),
                                                 *LIBRARY]},
)
# The pipeline's steps: jobs and tasks (standalone tasks run in the encode function and start an automation's
# next tasks); their results become library files in media items (library/files.py), automations are read to go
# on, connections are read to make a client; events are written with status changes. No API keys, no
# idempotency claims, no endpoints, secrets or connections written.
STEPS = TableAccess(
    get=[*JOBS, *TASKS, *library("file", "media", "automation", "connection")],
    put=[*JOBS, *TASKS, *library("file", "media", "event")],
    query=TASKS,
    index_queries={dynamo_schema.PROJECT_INDEX: [*EVENT_WRITERS_QUERY,
                                                 *library_lists("file", "automation", "connection")]},
)
# The upload trigger: a job per inbox object, or a library file and its ingest task, each claimed once per
# object (UPLOAD_CLAIMS), looking up the connection that may own the bucket.
UPLOADS = TableAccess(
    get=[*JOBS, *TASKS, *UPLOAD_CLAIMS, *library("file", "media", "connection")],
    put=[*JOBS, *TASKS, *UPLOAD_CLAIMS, *library("file", "media", "event")],
    query=TASKS,
    index_queries={dynamo_schema.PROJECT_INDEX: [*EVENT_WRITERS_QUERY, *library_lists("file", "connection")]},
)
# Webhook delivery: events (read, and saved with their deliveries' state), the project's signing secret (read,
# made on first use), the endpoint a delivery goes to (read: deleted or disabled since, it is not sent), and
# what is due (the outbox index). No jobs, tasks, keys or claims.
WEBHOOKS = TableAccess(
    get=library("event", "webhook_secret", "webhook_endpoint"),
    put=library("event", "webhook_secret"),
    index_queries={dynamo_schema.OUTBOX_INDEX: [f"{dynamo_schema.OUTBOX_PREFIX}*"]},
)


def table(role: iam.IRole, jobs: dynamodb.ITable, grants: TableAccess) -> None:
    """Exactly `grants` on the table and its indexes: a statement per action and resource, each scoped to its
    leading keys. (No Scan: a Scan has no leading key, which a ForAllValues condition would let through.)"""
    for statement in grants.statements(jobs.table_arn):
        role.add_to_principal_policy(statement)


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


def read_secret(role: iam.IRole, secret: secretsmanager.ISecret) -> None:
    """GetSecretValue on this one secret (the download links' signing key, mediajet.aws.runtime.downloads)."""
    role.add_to_principal_policy(iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"],
                                                     resources=[secret.secret_arn]))


def decrypt(role: iam.IRole, key_arns: Sequence[str]) -> None:
    """kms:Decrypt on these keys (your input buckets' SSE-KMS keys): GET of an object encrypted with one."""
    if key_arns:
        role.add_to_principal_policy(iam.PolicyStatement(actions=["kms:Decrypt"], resources=list(key_arns)))
