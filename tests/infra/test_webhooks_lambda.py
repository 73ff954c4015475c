"""The webhook delivery function (functions/webhooks/handler.py) under moto: driven with the table's own stream
records (read from moto's stream, filtered with the event source mapping's filter, shaped as Lambda delivers
them), the retry queue's messages and the sweep schedule, POSTing to a receiver on 127.0.0.1. And what the
template gives it: its three feeds, its queues, its grants and its alarm."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from infra import names
from infra import webhooks as construct
from mediajet.aws.webhooks import STREAM_FILTER
from mediajet.ids import now_ms
from mediajet.models.job import Job
from mediajet.models.requests import with_pipeline_tasks
from mediajet.models.webhooks import Event
from mediajet.store import dynamo_schema
from tests.infra.conftest import resources
from tests.infra.harness import LambdaContext, load_handler
from tests.webhook_receiver import Receiver

REGION = "eu-west-1"
TABLE, WORK, OUTPUT = "mediajet-jobs", "mediajet-work", "mediajet-output"
PROJECT = "prj_hooks"
PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "mediajet" / "mediajet"


# --- a receiver on loopback ------------------------------------------------------------------------------------


# --- AWS under moto ---------------------------------------------------------------------------------------------


class Aws:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import boto3

        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.dynamodb.create_table(**dynamo_schema.create_table_kwargs(TABLE, stream=True))
        # botocore routes stream calls to an account-specific host (<account>.streams.dynamodb…), which moto 5.2
        # does not answer: the regional endpoint is named instead.
        self.streams = boto3.client("dynamodbstreams", region_name=REGION,
                                    endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com")
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.queue_url = self.sqs.create_queue(QueueName="mediajet-webhook-retries")["QueueUrl"]
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (WORK, OUTPUT):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        for key, value in {names.ENV_TABLE: TABLE, names.ENV_WORK_BUCKET: WORK, names.ENV_OUTPUT_BUCKET: OUTPUT,
                           names.ENV_WEBHOOK_QUEUE_URL: self.queue_url, names.ENV_WEBHOOK_RETRY_S: "2,2",
                           "MEDIAJET_ALLOW_PRIVATE_URLS": "true"}.items():
            monkeypatch.setenv(key, value)
        self._iterator: str | None = None
        self.sent: list[dict[str, Any]] = []  # what the function sent to the queue

    @property
    def store(self) -> Any:
        from mediajet.aws import runtime

        return runtime.job_store()

    def watch_sends(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from mediajet.aws import runtime

        client = runtime.client("sqs")  # the function's own (cached) client
        real = client.send_message

        def send_message(**kwargs: Any) -> Any:
            self.sent.append(kwargs)
            return real(**kwargs)

        monkeypatch.setattr(client, "send_message", send_message)

    def stream(self) -> list[dict[str, Any]]:
        """The stream records written since the last call, as Lambda hands them over (JSON: binary as base64)
        and only those the event source mapping's filter lets through."""
        if self._iterator is None:
            arn = self.dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
            shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
            self._iterator = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        page = self.streams.get_records(ShardIterator=self._iterator)
        self._iterator = page["NextShardIterator"]
        records = json.loads(json.dumps(page["Records"], default=_lambda_json))
        return [r for r in records if matches(STREAM_FILTER, r)]

    def queued(self) -> tuple[int, int]:
        """(visible, delayed) messages on the retry queue."""
        found = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"])["Attributes"]
        return int(found["ApproximateNumberOfMessages"]), int(found["ApproximateNumberOfMessagesDelayed"])

    def receive(self, wait_s: int = 3) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                            WaitTimeSeconds=wait_s).get("Messages", [])
        return [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                 "eventSource": "aws:sqs", "awsRegion": REGION} for m in messages]

    def done(self, records: list[dict[str, Any]], answer: dict[str, Any]) -> None:
        """What the queue's event source mapping does after a batch: delete the messages that did not fail."""
        failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
        for record in records:
            if record["messageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"])


def _lambda_json(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    raise TypeError(type(value))


def matches(pattern: Any, value: Any) -> bool:
    """The part of Lambda's event filtering (EventBridge patterns) the filter uses: nested keys, a list of
    exact values or `{"prefix": …}`."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches(p, value[k]) for k, p in pattern.items())
    return any(value == option or (isinstance(option, dict) and isinstance(value, str)
                                   and value.startswith(option["prefix"])) for option in pattern)


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return load_handler(names.WEBHOOKS_FUNCTION).handler(event, LambdaContext(names.WEBHOOKS_FUNCTION, timeout_s=60))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, iam_checked: Any) -> Iterator[Aws]:  # grants checked: conftest
    from moto import mock_aws

    from mediajet.aws import handlers
    from mediajet.settings import get_settings

    for key, value in {"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        made = Aws(monkeypatch)
        get_settings.cache_clear()
        handlers.reset()
        made.watch_sends(monkeypatch)
        try:
            yield made
        finally:
            handlers.reset()
            get_settings.cache_clear()


def finished_job(store: Any, url: str) -> Job:
    job, _ = store.create_job(with_pipeline_tasks(Job(kind="video", input="https://example.com/a.mp4",
                                                      project_id=PROJECT, webhook_url=url)))
    running = store.save_job(job.model_copy(update={"status": "processing"}))
    return store.save_job(running.model_copy(update={"status": "succeeded", "finished_at": now_ms()}))


def only_event(store: Any) -> Event:
    [event] = store.list_records(Event, PROJECT, 1, 10)
    return event


def verified(receiver: Receiver, store: Any, n: int) -> dict[str, Any]:
    from standardwebhooks.webhooks import Webhook

    from mediajet.webhooks.secrets import project_secret

    headers, body = receiver.seen[n]
    return Webhook(project_secret(store, PROJECT).secret).verify(body, headers)


# --- deliveries ---------------------------------------------------------------------------------------------------


def test_a_new_event_is_delivered_from_the_stream_signed_with_a_stable_id(aws: Aws, receiver: Receiver) -> None:
    job = finished_job(aws.store, receiver.url)
    records = aws.stream()
    assert [r["eventName"] for r in records] == ["INSERT"], "only the event passes the filter, not the job's writes"
    assert invoke({"Records": records}) == {"batchItemFailures": []}

    event = only_event(aws.store)
    assert len(receiver.seen) == 1
    payload = verified(receiver, aws.store, 0)
    assert (payload["id"], payload["status"]) == (job.id, "succeeded")
    assert receiver.seen[0][0]["webhook-id"] == event.id
    assert event.deliveries[0].status == "succeeded" and event.deliveries[0].attempts[0].status_code == 200

    later = aws.stream()  # the claim (pending) passes the filter; the recorded success (nothing pending) does not
    assert [r["eventName"] for r in later] == ["MODIFY"]
    assert invoke({"Records": later}) == {"batchItemFailures": []}
    assert len(receiver.seen) == 1 and aws.sent == [] and aws.queued() == (0, 0)


def test_a_5xx_waits_in_the_queue_not_in_the_lambda_and_is_delivered_when_due(aws: Aws, receiver: Receiver) -> None:
    receiver.answers = [500, 200]
    finished_job(aws.store, receiver.url)
    assert invoke({"Records": aws.stream()}) == {"batchItemFailures": []}
    returned = now_ms()

    event = only_event(aws.store)
    [delivery] = event.deliveries
    assert delivery.status == "pending" and [a.status_code for a in delivery.attempts] == [500]
    attempted = delivery.attempts[0].at
    assert attempted + 2000 <= delivery.next_attempt_at <= attempted + 2400 + 1000, "2 s, up to 20 % jitter"
    assert returned < delivery.next_attempt_at, "the function returned without waiting for the retry"
    [message] = aws.sent
    assert json.loads(message["MessageBody"]) == {"event_id": event.id, "project_id": PROJECT}
    assert 2 <= message["DelaySeconds"] <= 3, "what is left of the wait, rounded up"
    assert aws.queued() == (0, 1)

    # a message that arrives before the event is due goes back for the rest of the wait
    early = {"Records": [{"messageId": "m-early", "body": message["MessageBody"], "eventSource": "aws:sqs"}]}
    assert invoke(early) == {"batchItemFailures": []}
    assert len(receiver.seen) == 1 and aws.queued() == (0, 2)
    assert 1 <= aws.sent[-1]["DelaySeconds"] <= 3

    deadline = time.monotonic() + 15
    while aws.queued() != (0, 0) and time.monotonic() < deadline:
        batch = aws.receive()
        if batch:
            answer = invoke({"Records": batch})
            assert answer == {"batchItemFailures": []}
            aws.done(batch, answer)
    assert len(receiver.seen) == 2, "delivered once when due; the other wake-up found nothing pending"
    assert receiver.seen[1][0]["webhook-id"] == receiver.seen[0][0]["webhook-id"] == event.id
    verified(receiver, aws.store, 1)
    done = only_event(aws.store)
    assert done.deliveries[0].status == "succeeded"
    assert [a.status_code for a in done.deliveries[0].attempts] == [500, 200]
    assert aws.queued() == (0, 0)


def test_a_4xx_is_final_and_queues_nothing(aws: Aws, receiver: Receiver) -> None:
    receiver.answers = [400]
    finished_job(aws.store, receiver.url)
    invoke({"Records": aws.stream()})
    [delivery] = only_event(aws.store).deliveries
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    assert [a.status_code for a in delivery.attempts] == [400]
    invoke({"Records": aws.stream()})
    assert aws.sent == [] and aws.queued() == (0, 0) and len(receiver.seen) == 1


def test_a_wait_longer_than_sqs_delays_is_chained(aws: Aws, receiver: Receiver) -> None:
    finished_job(aws.store, receiver.url)
    event = only_event(aws.store)
    later = event.model_copy(deep=True)
    later.deliveries[0].next_attempt_at = now_ms() + 2 * 3600 * 1000
    aws.store.save_event(later)
    body = json.dumps({"event_id": event.id, "project_id": PROJECT})
    assert invoke({"Records": [{"messageId": "m1", "body": body, "eventSource": "aws:sqs"}]}) == {
        "batchItemFailures": []}
    assert [m["DelaySeconds"] for m in aws.sent] == [900] and receiver.seen == []


def test_the_sweep_wakes_what_is_due_and_a_redriven_stream_failure_sweeps_too(aws: Aws, receiver: Receiver) -> None:
    finished_job(aws.store, receiver.url)  # its stream record is "lost": never handed to the function
    assert invoke({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}) == {"woken": 1}
    batch = aws.receive(0)
    assert [json.loads(m["body"])["project_id"] for m in batch] == [PROJECT]
    aws.done(batch, invoke({"Records": batch}))
    assert len(receiver.seen) == 1 and only_event(aws.store).deliveries[0].status == "succeeded"

    receiver.answers = [503]
    finished_job(aws.store, receiver.url)
    failure = {"requestContext": {"condition": "RetryAttemptsExhausted"}, "DDBStreamBatchInfo": {"batchSize": 1}}
    assert invoke({"Records": [{"messageId": "m-dlq", "body": json.dumps(failure), "eventSource": "aws:sqs"}]}) == {
        "batchItemFailures": []}
    assert len(aws.receive(0)) == 1, "the sweep woke the pending event"


def test_a_message_naming_no_event_fails_into_the_dead_letters(aws: Aws) -> None:
    answer = invoke({"Records": [{"messageId": "m-bad", "body": '{"hello": 1}', "eventSource": "aws:sqs"}]})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}
    with pytest.raises(Exception, match="not a stream batch"):
        invoke({"hello": "world"})


def test_an_event_whose_subject_is_too_large_to_inline_arrives_compressed_in_the_stream(aws: Aws,
                                                                                      receiver: Receiver) -> None:
    job, _ = aws.store.create_job(with_pipeline_tasks(Job(
        kind="video", input="https://example.com/a.mp4", project_id=PROJECT, webhook_url=receiver.url,
        metadata={"notes": "é" * 40_000})))
    running = aws.store.save_job(job.model_copy(update={"status": "processing"}))
    aws.store.save_job(running.model_copy(update={"status": "failed"}))
    [record] = aws.stream()
    assert "subject_z" in record["dynamodb"]["NewImage"] and "subject" not in record["dynamodb"]["NewImage"]
    invoke({"Records": [record]})
    assert verified(receiver, aws.store, 0)["metadata"]["notes"] == "é" * 40_000


# --- the template ---------------------------------------------------------------------------------------------------


def _webhook_ids(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r["Properties"] for lid, r in resources(template, kind).items() if "Webhooks" in lid}


def test_the_function_is_fed_by_the_filtered_stream_the_retry_queue_and_a_schedule(template: dict[str, Any],
                                                                                    functions: dict[str, Any]) -> None:
    function_id, function = functions[names.WEBHOOKS_FUNCTION]
    props = function["Properties"]
    assert props["ReservedConcurrentExecutions"] == construct.RESERVED_CONCURRENCY
    queues = _webhook_ids(template, "AWS::SQS::Queue")
    retries = next(lid for lid in queues if "Retries" in lid)
    dead = next(lid for lid in queues if "DeadLetters" in lid)
    env = props["Environment"]["Variables"]
    assert env[names.ENV_WEBHOOK_QUEUE_URL] == {"Ref": retries}
    assert env[names.ENV_WEBHOOK_RETRY_S] == "5,300,1800,7200,18000,36000,36000"

    mappings = [r["Properties"] for r in resources(template, "AWS::Lambda::EventSourceMapping").values()
                if r["Properties"]["FunctionName"] == {"Ref": function_id}]
    (stream,) = [m for m in mappings if "StreamArn" in json.dumps(m["EventSourceArn"])]
    assert json.loads(stream["FilterCriteria"]["Filters"][0]["Pattern"]) == STREAM_FILTER
    assert stream["BisectBatchOnFunctionError"] is True and stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [dead, "Arn"]}
    assert stream["MaximumRetryAttempts"] > 0 and stream["StartingPosition"] == "TRIM_HORIZON"
    (queue,) = [m for m in mappings if m["EventSourceArn"] == {"Fn::GetAtt": [retries, "Arn"]}]
    assert queue["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert queue["ScalingConfig"]["MaximumConcurrency"] < props["ReservedConcurrentExecutions"]

    assert queues[retries]["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dead, "Arn"]},
                                                "maxReceiveCount": construct.MAX_RECEIVES}
    assert queues[retries]["VisibilityTimeout"] >= props["Timeout"]
    assert queues[dead]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert all(q["SqsManagedSseEnabled"] for q in queues.values())
    guarded = {p["Properties"]["Queues"][0]["Ref"] for p in resources(template, "AWS::SQS::QueuePolicy").values()
               for s in p["Properties"]["PolicyDocument"]["Statement"]
               if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}}
    assert set(queues) <= guarded

    (rule,) = _webhook_ids(template, "AWS::Events::Rule").values()
    assert rule["ScheduleExpression"] == f"rate({construct.SWEEP_MINUTES} minutes)"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]} and json.loads(target["Input"]) == {"sweep": True}
    table = template["Resources"][stream["EventSourceArn"]["Fn::GetAtt"][0]]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}, "the sender reads events from it"


def test_the_function_may_send_only_what_its_code_sends_and_the_dead_letters_alarm(template: dict[str, Any],
                                                                                   functions: dict[str, Any]) -> None:
    from tests.infra.test_template import role_id, statements

    source = (PACKAGE / "aws" / "webhooks.py").read_text()
    calls = set(re.findall(r"self\.sqs\.(\w+)\(", source))
    assert calls == {"send_message", "send_message_batch"}, "both are authorised as sqs:SendMessage"
    queues = _webhook_ids(template, "AWS::SQS::Queue")
    retries = next(lid for lid in queues if "Retries" in lid)
    granted = [s for s in statements(template, role_id(functions[names.WEBHOOKS_FUNCTION][1]))
               if s["Resource"] == {"Fn::GetAtt": [retries, "Arn"]}]
    assert granted and all("sqs:SendMessage" in json.dumps(s["Action"]) for s in granted)
    senders = [name for name, (_, fn) in functions.items()
               for s in statements(template, role_id(fn)) if retries in json.dumps(s["Resource"])]
    assert set(senders) == {names.WEBHOOKS_FUNCTION}

    (alarm,) = [r["Properties"] for lid, r in resources(template, "AWS::CloudWatch::Alarm").items()
                if "DeadLettersWebhooks" in lid]
    dead = next(lid for lid in queues if "DeadLetters" in lid)
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dead, "QueueName"]}}]
    assert "start-message-move-task" in alarm["AlarmDescription"]
    assert set(template["Outputs"]) >= {names.OUTPUT_WEBHOOK_RETRY_QUEUE, names.OUTPUT_WEBHOOK_DEAD_LETTERS}
