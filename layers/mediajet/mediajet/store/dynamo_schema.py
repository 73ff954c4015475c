"""The DynamoDB table the JobStore uses, as data: `infra/` builds the table from it and the tests
create it under moto from it, so the two can't drift.

Single-table design (every key is a string):

| item             | pk                       | sk     | gsi1pk            | gsi1sk   |
|------------------|--------------------------|--------|-------------------|----------|
| job              | JOB#<job id>             | JOB    | PROJECT#<project> | <job id> |
| standalone task  | TASK#<task id>           | TASK   | TASKS#<project>   | <task id>|
| job task pointer | TASK#<task id>           | JOB    | (holds job_id)    |          |
| idempotency      | IDEM#<project>#<key>     | IDEM   |                   |          |
| API key          | KEY#<sha256 hex>         | KEY    |                   |          |
| library record   | LIB#<file/med/auto/con id> | FILE, MEDIA, AUTO, CONN | LIB#<type>#<project> | <id> |

Library records (files, media, automations) and their access patterns: store/dynamo_library.py.
Webhook events also carry the outbox index keys (gsi2pk `OUTBOX#<shard>`, gsi2sk `<due at, 13 digits>#<event id>`)
while a delivery is pending: a sparse, keys-only index of what is due when (store/dynamo_outbox.py). The table's
stream (new images) feeds the webhook delivery function (mediajet/aws/webhooks.py).

Job ids are ULIDs, so `gsi1sk` order is creation order: `GET /jobs` is one Query on the GSI in
either direction, with `after`/`before` as key conditions. Standalone tasks sit in a partition of their own
(`TASKS#…`, never `PROJECT#…`), so the jobs list reads jobs only and `GET /tasks` is one Query too. `expires_at` (epoch seconds) is the TTL
attribute that removes idempotency records after 24 h.
"""

from __future__ import annotations

PARTITION_KEY = "pk"
SORT_KEY = "sk"
PROJECT_INDEX = "gsi1"
PROJECT_INDEX_PARTITION_KEY = "gsi1pk"
PROJECT_INDEX_SORT_KEY = "gsi1sk"
TTL_ATTRIBUTE = "expires_at"
OUTBOX_INDEX = "gsi2"
OUTBOX_INDEX_PARTITION_KEY = "gsi2pk"
OUTBOX_INDEX_SORT_KEY = "gsi2sk"
OUTBOX_PREFIX = "OUTBOX#"
OUTBOX_SHARDS = 4  # gsi2pk OUTBOX#0..3: pending events spread over partitions (store/dynamo_outbox.py)
STREAM_VIEW = "NEW_IMAGE"  # what the stream records carry: the webhook sender reads the event from it


def create_table_kwargs(table_name: str, *, stream: bool = False) -> dict:
    """Arguments for `dynamodb.create_table` (tests, moto) matching what infra/ deploys. `stream`: with the
    stream the webhook sender reads (infra/ always has it; tests that do not read it leave it out, since moto
    copies the whole stream with the table on every transaction)."""
    string = "S"
    kwargs: dict = {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": string}
            for name in (PARTITION_KEY, SORT_KEY, PROJECT_INDEX_PARTITION_KEY, PROJECT_INDEX_SORT_KEY,
                         OUTBOX_INDEX_PARTITION_KEY, OUTBOX_INDEX_SORT_KEY)
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": PROJECT_INDEX,
                "KeySchema": [
                    {"AttributeName": PROJECT_INDEX_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": PROJECT_INDEX_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": OUTBOX_INDEX,
                "KeySchema": [
                    {"AttributeName": OUTBOX_INDEX_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": OUTBOX_INDEX_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
    }
    if stream:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": STREAM_VIEW}
    return kwargs


# --- key strings (the table above, as code) ---------------------------------------------------

JOB_SK = "JOB"  # a job item, and a job task pointer (pk TASK#…, sk JOB: "this task lives in a job")
TASK_SK = "TASK"
IDEMPOTENCY_SK = "IDEM"
API_KEY_SK = "KEY"


def job_pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def task_pk(task_id: str) -> str:
    return f"TASK#{task_id}"


def project_pk(project_id: str) -> str:
    return f"PROJECT#{project_id}"


def task_list_pk(project_id: str) -> str:
    return f"TASKS#{project_id}"


def idempotency_pk(project_id: str, key: str) -> str:
    return f"IDEM#{project_id}#{key}"


def api_key_pk(key_hash: str) -> str:
    return f"KEY#{key_hash}"


LIBRARY_SK = {"file": "FILE", "media": "MEDIA", "automation": "AUTO", "webhook_endpoint": "WEBHOOK", "event": "EVENT",
              "webhook_secret": "WHSECRET", "connection": "CONN"}


# Library ids are prefixed per type (models/*.py): infra/access.py scopes grants to `LIB#<prefix>*` with them.
LIBRARY_ID_PREFIX = {"file": "file_", "media": "med_", "automation": "auto_", "webhook_endpoint": "we_",
                     "event": "evt_", "webhook_secret": "whs_", "connection": "con_"}


def library_pk(record_id: str) -> str:
    return f"LIB#{record_id}"


def library_sk(record_type: str) -> str:
    return LIBRARY_SK[record_type]


def library_list_pk(record_type: str, project_id: str) -> str:
    return f"LIB#{record_type}#{project_id}"


def outbox_pk(event_id: str) -> str:
    from zlib import crc32

    return outbox_shard_pk(crc32(event_id.encode()) % OUTBOX_SHARDS)


def outbox_shard_pk(shard: int) -> str:
    return f"{OUTBOX_PREFIX}{shard}"


def outbox_sk(due_at: int, event_id: str) -> str:
    return f"{max(0, due_at):013d}#{event_id}"
