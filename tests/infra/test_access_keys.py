"""Least privilege on the table: each role's DynamoDB statements are scoped with `dynamodb:LeadingKeys`
(infra/access.py), and every request the functions make is allowed by their own role.

Two halves: the synthesized policies, evaluated (tests/infra/iam.py) against requests each role must and must not
be able to make; and a whole job with webhooks run under moto (API → state machine → steps writing events →
webhook delivery), whose recorded requests are checked against the roles. The `aws` fixture checks the same for
every moto test in tests/infra (conftest.iam_checked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra import access, names
from mediajet.api.auth import create_key
from mediajet.aws import runtime
from mediajet.pipeline.definition import ALL_STEPS, FINALIZE
from mediajet.store import dynamo_schema
from tests.infra import iam
from tests.infra.conftest import REGION
from tests.infra.harness import ACCOUNT, INBOX, TABLE, Aws, LambdaContext, http_event, load_handler
from tests.media import make_video
from tests.webhook_receiver import Receiver

TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
PROJECT_INDEX_ARN = f"{TABLE_ARN}/index/{dynamo_schema.PROJECT_INDEX}"
OUTBOX_INDEX_ARN = f"{TABLE_ARN}/index/{dynamo_schema.OUTBOX_INDEX}"
STEP_FUNCTIONS = [step.name for step in ALL_STEPS]
PROJECT = "prj_grants"
ULID = "01jq8z6y5x4w3v2t1s0r9q8p7n"


def get(key: str) -> iam.Request:
    return iam.Request("dynamodb:GetItem", TABLE_ARN, (key,))


def put(key: str) -> iam.Request:
    return iam.Request("dynamodb:PutItem", TABLE_ARN, (key,))


def query(key: str, resource: str = TABLE_ARN) -> iam.Request:
    return iam.Request("dynamodb:Query", resource, (key,))


@pytest.fixture(scope="module")
def statements(template: dict[str, Any], functions: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, list]:
    return {name: iam.function_statements(template, lid, table_arn=TABLE_ARN) for name, (lid, _) in functions.items()}


# --- the evaluator ---------------------------------------------------------------------------------------------------


def test_the_evaluator_reads_leading_keys_the_way_iam_does() -> None:
    statement = {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE_ARN,
                 "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["JOB#job_*", "LIB#evt_?"]}}}
    assert iam.allows([statement], get("JOB#job_1"))
    assert iam.allows([statement], get("LIB#evt_1")) and not iam.allows([statement], get("LIB#evt_12")), "? is one"
    assert not iam.allows([statement], get("KEY#abc")) and not iam.allows([statement], get("xJOB#job_1"))
    assert not iam.allows([statement], put("JOB#job_1")), "another action"
    assert not iam.allows([statement], iam.Request("dynamodb:GetItem", f"{TABLE_ARN}-other", ("JOB#job_1",)))
    assert not iam.allows([statement], iam.Request("dynamodb:GetItem", TABLE_ARN, ("JOB#job_1", "KEY#a"))), \
        "for all values: every key must match"
    # ForAllValues over no key at all holds: a Scan (no leading key) would pass such a condition
    assert iam.allows([statement | {"Action": "dynamodb:*"}], iam.Request("dynamodb:Scan", TABLE_ARN, ()))
    assert not iam.allows([statement, {"Effect": "Deny", "Action": "*", "Resource": "*"}], get("JOB#job_1"))
    with pytest.raises(AssertionError, match="does not know"):
        iam.allows([statement | {"Condition": {"StringEquals": {"aws:SourceVpc": "v"}}}], get("JOB#job_1"))


def test_requests_are_what_dynamodb_authorises_per_call() -> None:
    def table_arn(name: str) -> str:
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"

    item = {"pk": {"S": "JOB#job_1"}, "sk": {"S": "JOB"}}
    event = {"pk": {"S": "LIB#evt_1"}, "sk": {"S": "EVENT"}}
    assert iam.requests_of("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": TABLE, "Item": item}},
        {"ConditionCheck": {"TableName": TABLE, "Key": event, "ConditionExpression": "x"}}]}, table_arn) == [
        put("JOB#job_1"), iam.Request("dynamodb:ConditionCheckItem", TABLE_ARN, ("LIB#evt_1",))]
    on_index = {"TableName": TABLE, "IndexName": "gsi2", "KeyConditionExpression": "#sk <= :upto AND #pk = :pk",
                "ExpressionAttributeNames": {"#pk": "gsi2pk", "#sk": "gsi2sk"},
                "ExpressionAttributeValues": {":pk": {"S": "OUTBOX#3"}, ":upto": {"S": "9"}}}
    assert iam.requests_of("Query", on_index, table_arn) == [query("OUTBOX#3", OUTBOX_INDEX_ARN)]
    assert iam.requests_of("GetItem", {"TableName": TABLE, "Key": item}, table_arn) == [get("JOB#job_1")]
    assert iam.requests_of("Scan", {"TableName": TABLE}, table_arn) == [iam.Request("dynamodb:Scan", TABLE_ARN, ())]


# --- the synthesized policies ----------------------------------------------------------------------------------------


def test_every_table_statement_is_scoped_by_leading_keys(statements: dict[str, list]) -> None:
    assert set(statements) == {*STEP_FUNCTIONS, names.API_FUNCTION, names.UPLOAD_FUNCTION, names.WEBHOOKS_FUNCTION}
    for name, found in statements.items():
        table = [s for s in found if any(TABLE_ARN in r for r in iam._listed(s["Resource"]))]
        assert table, f"{name}: no table statement"
        for statement in table:
            assert statement["Effect"] == "Allow" and set(iam._listed(statement["Action"])) <= {
                "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}, (name, statement)
            keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            assert keys and "*" not in keys, (name, statement)
        for action in ("Scan", "UpdateItem", "DeleteItem", "BatchGetItem", "BatchWriteItem", "PartiQLSelect"):
            assert not iam.allows(found, iam.Request(f"dynamodb:{action}", TABLE_ARN, ())), (name, action)


KEY = "KEY#" + "ab" * 32
CLAIM = f"IDEM#{PROJECT}#retry-1"
UPLOAD_CLAIM = f"IDEM#prj_default#s3:{INBOX}/video/clip.mp4:abc123"
SECRET, ENDPOINT, CONNECTION = f"LIB#whs_{PROJECT}", f"LIB#we_{ULID}", f"LIB#con_{ULID}"
JOB, TASK, EVENT, FILE, MEDIA = f"JOB#job_{ULID}", f"TASK#task_{ULID}", f"LIB#evt_{ULID}", f"LIB#file_{ULID}", \
    f"LIB#med_{ULID}"
# (request, the roles that may make it): every role not named must be refused.
EVERYONE = {*STEP_FUNCTIONS, "api", "on_upload", "webhooks"}
JOB_WRITERS = {*STEP_FUNCTIONS, "api", "on_upload"}
EXPECTED = [
    (get(KEY), {"api"}),  # authentication; nobody else reads API keys
    (put(KEY), set()),  # made with `mediajet keys` (the operator's credentials)
    (get(CLAIM), {"api"}), (put(CLAIM), {"api"}),  # Idempotency-Key claims: the API's
    (get(UPLOAD_CLAIM), {"api", "on_upload"}), (put(UPLOAD_CLAIM), {"api", "on_upload"}),  # one upload, one job
    (get(JOB), JOB_WRITERS), (put(JOB), JOB_WRITERS), (put(TASK), JOB_WRITERS), (query(TASK), JOB_WRITERS),
    (put(EVENT), EVERYONE),  # events are written with the changes they report; the sender saves deliveries
    (get(EVENT), {"api", "webhooks"}),
    (get(SECRET), {"api", "webhooks"}), (put(SECRET), {"api", "webhooks"}),  # signing; made on first use
    (get(ENDPOINT), {"api", "webhooks"}), (put(ENDPOINT), {"api"}),  # the sender: still there, still active?
    (query(f"LIB#webhook_endpoint#{PROJECT}", PROJECT_INDEX_ARN), JOB_WRITERS),  # who gets a change's events
    (get(CONNECTION), JOB_WRITERS), (put(CONNECTION), {"api"}),  # steps and uploads only read connections
    (put(FILE), JOB_WRITERS), (put(MEDIA), JOB_WRITERS),  # results (finalize, encode) and uploads become files
    (put(f"LIB#auto_{ULID}"), {"api"}),
    (query(f"PROJECT#{PROJECT}", PROJECT_INDEX_ARN), {"api"}), (query(f"TASKS#{PROJECT}", PROJECT_INDEX_ARN), {"api"}),
    (query(f"LIB#event#{PROJECT}", PROJECT_INDEX_ARN), {"api"}),
    (query("OUTBOX#2", OUTBOX_INDEX_ARN), {"webhooks"}),
    (query(f"PROJECT#{PROJECT}", TABLE_ARN), set()),  # an index partition, asked of the table
    (query(JOB, PROJECT_INDEX_ARN), set()),
]


@pytest.mark.parametrize(("request_", "allowed"), EXPECTED, ids=[str(r) for r, _ in EXPECTED])
def test_each_role_may_make_exactly_the_requests_its_code_needs(statements: dict[str, list], request_: iam.Request,
                                                                allowed: set[str]) -> None:
    assert {name for name, found in statements.items() if iam.allows(found, request_)} == allowed


def test_the_grants_are_built_from_the_key_design() -> None:
    """The patterns follow dynamo_schema (a renamed prefix changes both) and the models' id prefixes."""
    from mediajet.models.connection import Connection
    from mediajet.models.library import Automation, LibraryFile, Media
    from mediajet.models.webhooks import Event, WebhookEndpoint, secret_id

    for cls, fields in ((LibraryFile, {"project_id": "p", "media_id": "m"}), (Media, {"project_id": "p"}),
                        (Automation, {"project_id": "p"}),
                        (WebhookEndpoint, {"project_id": "p", "url": "https://e.x/"}),
                        (Event, {"project_id": "p", "kind": "job.created", "subject_type": "job", "subject_id": "j",
                                 "subject": {}})):
        record = cls(**fields)
        assert record.id.startswith(dynamo_schema.LIBRARY_ID_PREFIX[cls.record_type]), cls
    assert Connection.model_fields["id"].default_factory().startswith(dynamo_schema.LIBRARY_ID_PREFIX["connection"])
    assert secret_id("prj_x").startswith(dynamo_schema.LIBRARY_ID_PREFIX["webhook_secret"])
    assert access.KEYS == [dynamo_schema.api_key_pk("*")] and access.JOBS == [dynamo_schema.job_pk("*")]
    assert all(f"LIB#{p}*" in access.library(t) for t, p in dynamo_schema.LIBRARY_ID_PREFIX.items())


# --- a whole job, with webhooks, under moto ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("grants") / "clip.mp4", seconds=1)


def api(method: str, path: str, key: str, body: Any = None, **headers: str) -> tuple[int, Any]:
    event = http_event(method, path, body, key=key)
    event["headers"].update(headers)
    result = load_handler(names.API_FUNCTION).handler(event, LambdaContext(names.API_FUNCTION, 29))
    return result["statusCode"], json.loads(result.get("body") or "null")


def deliver(queue_url: str) -> int:
    """The webhook function's feeds, as Lambda runs them: the sweep, then the retry queue's messages."""
    import boto3

    sqs, handler = boto3.client("sqs", region_name=REGION), load_handler(names.WEBHOOKS_FUNCTION).handler
    handler({"sweep": True}, LambdaContext(names.WEBHOOKS_FUNCTION, 60))
    handled = 0
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "eventSource": "aws:sqs", "awsRegion": REGION} for m in messages]
        answer = handler({"Records": records}, LambdaContext(names.WEBHOOKS_FUNCTION, 60))
        assert answer == {"batchItemFailures": []}
        for m in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        handled += len(messages)
    return handled


def test_a_job_with_webhooks_makes_only_requests_its_roles_allow(
        aws: Aws, iam_checked: iam.Recorder, receiver: Receiver, clip: Path, monkeypatch: pytest.MonkeyPatch,
        template: dict[str, Any], functions: dict[str, tuple[str, dict[str, Any]]]) -> None:
    import boto3

    from mediajet.aws import handlers
    from mediajet.settings import get_settings

    queue_url = boto3.client("sqs", region_name=REGION).create_queue(QueueName="hooks")["QueueUrl"]
    monkeypatch.setenv(names.ENV_WEBHOOK_QUEUE_URL, queue_url)
    monkeypatch.setenv("MEDIAJET_ALLOW_PRIVATE_URLS", "true")  # the receiver is on loopback
    get_settings.cache_clear()
    handlers.reset()
    aws.s3.upload_file(str(clip), INBOX, "uploads/clip.mp4")
    key = create_key(runtime.job_store(), PROJECT)  # `mediajet keys`: the operator's credentials, not a role

    status, endpoint = api("POST", "/webhooks/endpoints", key, {"url": receiver.url, "topics": ["job.*"]})
    assert status == 201, endpoint
    status, job = api("POST", "/jobs", key, {"input": f"s3://{INBOX}/uploads/clip.mp4", "kind": "video",
                                              "webhook_url": receiver.url, "options": {"width": 96}},
                      **{"idempotency-key": "grants-1"})
    assert status == 201, job
    assert aws.wait(aws.execution_arn(job["id"]))["status"] == "SUCCEEDED"
    for path in (f"/jobs/{job['id']}", "/jobs", f"/tasks/{job['tasks'][0]['id']}", "/webhooks/secret"):
        assert api("GET", path, key)[0] == 200, path
    assert deliver(queue_url) > 0
    kinds = [json.loads(body).get("kind") for _, body in receiver.seen]
    assert {"job.created", "job.succeeded"} <= set(kinds), kinds

    made = {(function, request.action, iam.key_pattern(request.leading_keys[0]).split("#")[0])
            for function, request in iam_checked.requests(lambda name: TABLE_ARN)}
    # the scenario reached what the grants are about: each role, events from steps, keys, claims, the outbox
    assert {f for f, _, _ in made} >= {names.API_FUNCTION, names.WEBHOOKS_FUNCTION, *STEP_FUNCTIONS} - {
        names.CHUNK_FUNCTION, names.JOIN_FUNCTION}
    assert {("api", "dynamodb:GetItem", "KEY"), ("api", "dynamodb:PutItem", "IDEM"),
            ("webhooks", "dynamodb:Query", "OUTBOX")} <= made
    step_events = {request.leading_keys[0][:8] for function, request in iam_checked.requests(lambda name: TABLE_ARN)
                   if function in STEP_FUNCTIONS and request.action == "dynamodb:PutItem"}
    assert "LIB#evt_" in step_events, "the steps wrote the events of the job's changes"

    by_lid = {name: lid for name, (lid, _) in functions.items()}
    assert iam.denied(template, by_lid, iam_checked, region=REGION, account=ACCOUNT) == []
    # …and the check can fail: the same requests made by a step are refused where a step has no business
    forged = iam.Recorder(calls=[(FINALIZE.name, "GetItem", {"TableName": TABLE, "Key": {"pk": {"S": KEY}, "sk": {"S": "KEY"}}}),
                                 ("webhooks", "PutItem", {"TableName": TABLE, "Item": {"pk": {"S": CLAIM}}})])
    assert len(iam.denied(template, by_lid, forged, region=REGION, account=ACCOUNT)) == 2
