"""The webhook outbox on the DynamoDB single table (dynamo_schema.py): events are library items (sk EVENT) that
also carry the outbox index keys while a delivery is pending.

| item  | pk           | sk    | gsi1pk              | gsi1sk     | gsi2pk (while pending) | gsi2sk                      |
|-------|--------------|-------|---------------------|------------|------------------------|-----------------------------|
| event | LIB#<evt id> | EVENT | LIB#event#<project> | <event id> | OUTBOX#<0..3>          | <due at: 13 digits>#<evt id> |

Access patterns:
- A job's or standalone task's change writes the events it makes (webhooks/events.py) in the same
  TransactWriteItems as the record: the record's Put conditional on its version, and a Put per event
  (attribute_not_exists). Both land or neither does. Only a status change can make an event, and only then are
  the project's endpoints read: one Query on the project index (`LIB#webhook_endpoint#<project>`, at most 20
  items; eventually consistent, so an endpoint created a moment ago may miss a change made at that moment).
- The status before the change: every job and task this store loads or writes is remembered as (id, version) →
  status (a small per-process map: the status a version had never changes), so the usual read-modify-write
  needs no extra read; a record that came from elsewhere costs one consistent GetItem of its status and version.
- `due_events`: one Query per outbox shard on gsi2 (keys only, gsi2sk up to now, oldest first), merged by due
  time; each event is then read with a consistent GetItem (the index is eventually consistent and holds keys
  only) and kept when it is still due.
- `next_event_due`: one Query per shard, Limit 1. `save_event`: a Put conditional on the event's version; the
  gsi2 keys follow its next due time, and are left out once no delivery is pending (the index stays sparse).

The index is keys-only so that the event's snapshot (up to a whole job record) is not copied into it on every
write; it is sharded (OUTBOX_SHARDS partition keys, by a hash of the event id) so a burst of events does not
pile onto one index partition (about 1,000 writes per second each).

Sizes: an item stays under DynamoDB's 400 KB. An event holds a snapshot of its job (at most 256 KiB at
creation, api/records.py, plus the outputs it gains) and up to 21 deliveries (MAX_ENDPOINTS + the record's own
webhook_url) of at most 8 attempts each (~100 KB at worst); a snapshot over SUBJECT_INLINE_BYTES is stored
zlib-compressed in the binary attribute `subject_z`, which takes JSON text to a fraction of its size.

On AWS the table's stream (new images) feeds the delivery function, filtered on sk EVENT with gsi2pk present:
every write of an event with a pending delivery, and no other (mediajet/aws/webhooks.py).
"""

from __future__ import annotations

import base64
import json
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from mediajet.errors import StaleWrite
from mediajet.ids import now_ms
from mediajet.models.job import Job, Task
from mediajet.models.library import LibraryRecord
from mediajet.models.webhooks import EVENT_RETENTION_MS, Event, WebhookEndpoint
from mediajet.store import dynamo_schema as schema
from mediajet.store.dynamo_claims import TRANSACTION_ATTEMPTS
from mediajet.store.dynamo_codec import item_id
from mediajet.store.dynamo_library import DynamoLibrary
from mediajet.store.dynamo_table import DynamoError, error_code
from mediajet.store.library import R
from mediajet.webhooks.events import events_for

SUBJECT_INLINE_BYTES = 16 * 1024
SUBJECT_Z = "subject_z"
REMEMBERED_VERSIONS = 4096


class StatusMemo:
    """(kind, id, version) → the status that version has: what a save needs to know whether it changes the status.
    Bounded (least recently used out) and thread-safe."""

    def __init__(self, size: int = REMEMBERED_VERSIONS) -> None:
        self._seen: OrderedDict[tuple[str, str, int], str] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def remember(self, kind: str, record: Job | Task) -> None:
        with self._lock:
            self._seen[(kind, record.id, record.version)] = record.status
            self._seen.move_to_end((kind, record.id, record.version))
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)

    def status(self, kind: str, record: Job | Task) -> str | None:
        with self._lock:
            return self._seen.get((kind, record.id, record.version))


class DynamoOutbox(DynamoLibrary):
    def __init__(self, table_name: str, client: Any) -> None:
        super().__init__(table_name, client)
        self._statuses = StatusMemo()

    # --- the status a record had when it was read ----------------------------------------------------

    def _job(self, item: Mapping[str, Any]) -> Job | None:
        job = super()._job(item)
        if job is not None:
            self._statuses.remember("job", job)
        return job

    def _task(self, item: Mapping[str, Any]) -> Task | None:
        task = super()._task(item)
        if task is not None:
            self._statuses.remember("task", task)
        return task

    def _status_before(self, kind: str, record: Job | Task, key: dict[str, Any],
                       not_found: Callable[[], Exception]) -> str:
        """The stored status of `record`'s version: remembered, or read (StaleWrite when another version is stored)."""
        known = self._statuses.status(kind, record)
        if known is not None:
            return known
        item = self._call("get_item", Key=key, ConsistentRead=True, ProjectionExpression="#status, #version",
                          ExpressionAttributeNames={"#status": "status", "#version": "version"}).get("Item")
        if item is None:
            raise not_found()
        if int(item.get("version", {}).get("N", "-1")) != record.version:
            raise StaleWrite(f"{kind} {record.id} changed since version {record.version} was read")
        return item["status"]["S"]

    # --- writing a change with its events ------------------------------------------------------------

    def _events_of(self, before: str | None, record: Job | Task) -> list[Event]:
        if before == record.status or (isinstance(record, Task) and record.job_id is not None):
            return []
        endpoints = self._query_library(WebhookEndpoint, record.project_id, None, forward=True)
        return [e.model_copy(update={"version": 1}) for e in events_for(before, record, endpoints, now_ms())]

    def _event_puts(self, events: list[Event]) -> list[dict[str, Any]]:
        return [{"Put": {"TableName": self.table, "Item": self._event_item(event),
                         "ConditionExpression": f"attribute_not_exists({schema.PARTITION_KEY})"}} for event in events]

    def _save_changed(self, kind: str, record: Job | Task, saved: Job | Task, item: dict[str, Any],
                      not_found: Callable[[], Exception]) -> None:
        """Write `saved` over `record`'s version, with the events of its status change in the same transaction."""
        key = {schema.PARTITION_KEY: item[schema.PARTITION_KEY], schema.SORT_KEY: item[schema.SORT_KEY]}
        before = self._status_before(kind, record, key, not_found)
        events = self._events_of(before, saved)
        stale = StaleWrite(f"{kind} {record.id} changed since version {record.version} was read")
        if not events:
            written = self._put_versioned(item, record.version)
            if written is None:
                raise not_found()
            if not written:
                raise stale
        else:
            put = {"TableName": self.table, "Item": item, "ConditionExpression": "#version = :expected",
                   "ExpressionAttributeNames": {"#version": "version"},
                   "ExpressionAttributeValues": {":expected": {"N": str(record.version)}}}
            for attempt in range(TRANSACTION_ATTEMPTS):
                try:
                    self._request("transact_write_items", TransactItems=[{"Put": put}, *self._event_puts(events)])
                    break
                except DynamoError as exc:
                    if error_code(exc) != "TransactionCanceledException":
                        raise
                    reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                    if reasons and reasons[0] == "ConditionalCheckFailed":
                        if self._get(key[schema.PARTITION_KEY]["S"], key[schema.SORT_KEY]["S"]) is None:
                            raise not_found() from None
                        raise stale from None
                    if "TransactionConflict" not in reasons or attempt == TRANSACTION_ATTEMPTS - 1:
                        raise
        self._statuses.remember(kind, saved)

    # --- event items ---------------------------------------------------------------------------------

    def _library_item(self, record: LibraryRecord) -> dict[str, Any]:
        if isinstance(record, Event):
            return self._event_item(record)
        return super()._library_item(record)

    def _event_item(self, event: Event) -> dict[str, Any]:
        fields = event.model_dump(mode="json")
        attributes = {schema.PARTITION_KEY: schema.library_pk(event.id), schema.SORT_KEY: schema.library_sk("event"),
                      schema.PROJECT_INDEX_PARTITION_KEY: schema.library_list_pk("event", event.project_id),
                      schema.PROJECT_INDEX_SORT_KEY: event.id}
        attributes[schema.TTL_ATTRIBUTE] = (event.created_at + EVENT_RETENTION_MS) // 1000  # the table's TTL
        due = event.due_at
        if due is not None:
            attributes[schema.OUTBOX_INDEX_PARTITION_KEY] = schema.outbox_pk(event.id)
            attributes[schema.OUTBOX_INDEX_SORT_KEY] = schema.outbox_sk(due, event.id)
        subject = json.dumps(fields["subject"], ensure_ascii=False, separators=(",", ":")).encode()
        if len(subject) > SUBJECT_INLINE_BYTES:
            del fields["subject"]
            attributes[SUBJECT_Z] = zlib.compress(subject, 6)
        return self._item({**attributes, **fields})

    def _library_record(self, cls: type[R], item: Mapping[str, Any]) -> R | None:
        if SUBJECT_Z not in item:
            return super()._library_record(cls, item)

        def load() -> R:
            packed = item[SUBJECT_Z]["B"]  # bytes from boto3; base64 text in a Lambda's stream event
            raw = base64.b64decode(packed) if isinstance(packed, str) else bytes(packed)
            plain = self._plain({k: v for k, v in item.items() if k != SUBJECT_Z})
            return cls.model_validate({**plain, "subject": json.loads(zlib.decompress(raw))})

        return self._quarantine.load(cls.record_type, item_id(item), load)

    def event_from_item(self, item: Mapping[str, Any]) -> Event | None:
        """An event from its item (a stream record's NewImage, say); None when it does not load (quarantined)."""
        return self._library_record(Event, item)

    # --- the outbox ----------------------------------------------------------------------------------

    def due_events(self, now: int, limit: int = 100) -> list[Event]:
        """Events with a delivery due at `now` or earlier, the longest waiting first."""
        keys = sorted(self._outbox_keys(schema.outbox_sk(now, "~"), limit),
                      key=lambda k: k[schema.OUTBOX_INDEX_SORT_KEY]["S"])[:limit]
        due = []
        for key in keys:
            item = self._get(key[schema.PARTITION_KEY]["S"], key[schema.SORT_KEY]["S"])
            if item is None:
                continue
            event = self.event_from_item(item)
            if event is None:  # unreadable: out of the outbox, or it would be due forever
                self._unschedule(item)
            elif event.due_at is not None and event.due_at <= now:
                due.append(event)
        return due

    def next_event_due(self) -> int | None:
        keys = self._outbox_keys(None, 1)
        return min((int(k[schema.OUTBOX_INDEX_SORT_KEY]["S"].split("#", 1)[0]) for k in keys), default=None)

    def save_event(self, event: Event) -> Event:
        """The event with its deliveries' new state (conditional on its version); its outbox keys follow."""
        return self.save_record(event)

    def _outbox_keys(self, upto: str | None, limit: int) -> list[dict[str, Any]]:
        """The first `limit` keys of each shard (due up to `upto` when given)."""
        keys: list[dict[str, Any]] = []
        for shard in range(schema.OUTBOX_SHARDS):
            names = {"#pk": schema.OUTBOX_INDEX_PARTITION_KEY}
            values: dict[str, Any] = {":pk": {"S": schema.outbox_shard_pk(shard)}}
            condition = "#pk = :pk"
            if upto is not None:
                names["#sk"], values[":upto"] = schema.OUTBOX_INDEX_SORT_KEY, {"S": upto}
                condition += " AND #sk <= :upto"
            keys += self._call("query", IndexName=schema.OUTBOX_INDEX, KeyConditionExpression=condition,
                               ExpressionAttributeNames=names, ExpressionAttributeValues=values,
                               ScanIndexForward=True, Limit=limit).get("Items", [])
        return keys

    def _unschedule(self, item: Mapping[str, Any]) -> None:
        """The same item without its outbox keys, unless it was written again meanwhile."""
        kept = {k: v for k, v in item.items()
                if k not in (schema.OUTBOX_INDEX_PARTITION_KEY, schema.OUTBOX_INDEX_SORT_KEY)}
        try:
            self._call("put_item", Item=kept, ConditionExpression="#due = :due",
                       ExpressionAttributeNames={"#due": schema.OUTBOX_INDEX_SORT_KEY},
                       ExpressionAttributeValues={":due": item[schema.OUTBOX_INDEX_SORT_KEY]})
        except DynamoError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
