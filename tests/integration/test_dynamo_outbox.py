"""The DynamoDB outbox beyond the shared contract (test_webhook_outbox.py): a save of a record this store did not
load still knows the status it replaces, a large snapshot is stored compressed and reads back whole, due events
come out oldest first across the outbox shards, and the index holds only events with a pending delivery."""

from __future__ import annotations

from typing import Any

import pytest

from mediajet.errors import StaleWrite
from mediajet.ids import now_ms
from mediajet.models.job import Job
from mediajet.models.requests import with_pipeline_tasks
from mediajet.models.webhooks import EVENT_RETENTION_MS, Event
from mediajet.store import dynamo_schema
from mediajet.store.dynamo import DynamoJobStore
from mediajet.store.dynamo_outbox import SUBJECT_INLINE_BYTES
from tests.integration.test_store_contract import PROJECT, dynamodb_client  # noqa: F401

HOOK = "https://hooks.example.com/mediajet"


@pytest.fixture
def table(dynamodb_client: Any) -> Any:  # noqa: F811
    name = f"mediajet-outbox-{now_ms()}"
    dynamodb_client.create_table(**dynamo_schema.create_table_kwargs(name))
    yield name
    dynamodb_client.delete_table(TableName=name)


def _job(**fields: Any) -> Job:
    return with_pipeline_tasks(Job(kind="video", input="https://example.com/a.mp4", project_id=PROJECT,
                                   webhook_url=HOOK, **fields))


def _outbox(client: Any, table: str) -> list[str]:
    found = []
    for shard in range(dynamo_schema.OUTBOX_SHARDS):
        found += [i[dynamo_schema.OUTBOX_INDEX_SORT_KEY]["S"] for i in client.query(
            TableName=table, IndexName=dynamo_schema.OUTBOX_INDEX, KeyConditionExpression="gsi2pk = :pk",
            ExpressionAttributeValues={":pk": {"S": dynamo_schema.outbox_shard_pk(shard)}})["Items"]]
    return sorted(found)


def test_a_record_loaded_elsewhere_is_saved_with_the_status_it_replaces(dynamodb_client: Any, table: str) -> None:  # noqa: F811
    writer, other = DynamoJobStore(table, client=dynamodb_client), DynamoJobStore(table, client=dynamodb_client)
    job, _ = writer.create_job(_job())
    running = writer.save_job(job.model_copy(update={"status": "processing"}))
    # another process (a fresh store: nothing remembered) saves a copy it got as JSON: one read tells the status
    copy = Job.model_validate(running.to_record())
    other.save_job(copy.model_copy(update={"status": "succeeded"}))
    [event] = other.list_records(Event, PROJECT, 1, 10)
    assert event.kind == "job.succeeded"
    with pytest.raises(StaleWrite):  # the version it replaced is gone: refused before any event is made
        DynamoJobStore(table, client=dynamodb_client).save_job(copy.model_copy(update={"status": "failed"}))
    assert len(other.list_records(Event, PROJECT, 1, 10)) == 1


def test_a_large_snapshot_is_stored_compressed_and_reads_back_whole(dynamodb_client: Any, table: str) -> None:  # noqa: F811
    store = DynamoJobStore(table, client=dynamodb_client)
    notes = "ü" * (SUBJECT_INLINE_BYTES + 1000)
    job, _ = store.create_job(_job(metadata={"notes": notes}))
    running = store.save_job(job.model_copy(update={"status": "processing"}))
    store.save_job(running.model_copy(update={"status": "succeeded"}))
    [event] = store.due_events(now_ms() + 1)
    item = dynamodb_client.get_item(TableName=table, Key={"pk": {"S": f"LIB#{event.id}"}, "sk": {"S": "EVENT"}})["Item"]
    assert "subject" not in item and len(item["subject_z"]["B"]) < SUBJECT_INLINE_BYTES // 4
    assert event.subject["metadata"]["notes"] == notes
    assert store.get_record(Event, event.id, PROJECT).subject == event.subject


def test_due_events_come_oldest_first_across_shards_and_the_index_keeps_only_pending_ones(
        dynamodb_client: Any, table: str) -> None:  # noqa: F811
    store = DynamoJobStore(table, client=dynamodb_client)
    base = now_ms()
    events = []
    for n in range(8):
        job, _ = store.create_job(_job())
        running = store.save_job(job.model_copy(update={"status": "processing"}))
        store.save_job(running.model_copy(update={"status": "succeeded"}))
        [event] = [e for e in store.list_records(Event, PROJECT, 1, 100) if e.subject_id == job.id]
        later = event.model_copy(deep=True)
        later.deliveries[0].next_attempt_at = base + (8 - n) * 1000  # the last made is due first
        events.append(store.save_event(later))
    assert len({dynamo_schema.outbox_pk(e.id) for e in events}) > 1, "spread over shards"
    assert store.next_event_due() == base + 1000
    due = store.due_events(base + 8000, limit=5)
    assert [e.id for e in due] == [e.id for e in reversed(events)][:5]
    assert store.due_events(base + 500) == []

    done = due[0].model_copy(deep=True)
    done.deliveries[0].status, done.deliveries[0].next_attempt_at = "succeeded", None
    store.save_event(done)
    assert len(_outbox(dynamodb_client, table)) == 7, "an event with nothing pending leaves the index"
    assert store.next_event_due() == base + 2000


def test_an_event_item_expires_with_the_tables_ttl_after_its_retention(dynamodb_client: Any, table: str) -> None:  # noqa: F811
    store = DynamoJobStore(table, client=dynamodb_client)
    job, _ = store.create_job(_job())
    store.save_job(store.save_job(job.model_copy(update={"status": "processing"})).model_copy(
        update={"status": "failed"}))
    [event] = store.list_records(Event, PROJECT, 1, 10)
    item = dynamodb_client.get_item(TableName=table, Key={"pk": {"S": f"LIB#{event.id}"}, "sk": {"S": "EVENT"}})["Item"]
    days = (int(item[dynamo_schema.TTL_ATTRIBUTE]["N"]) - event.created_at // 1000) / 86_400
    assert days == pytest.approx(EVENT_RETENTION_MS / 86_400_000, abs=0.01)
    assert store.get_record(Event, event.id, PROJECT) == event  # the TTL attribute is no field of the event
