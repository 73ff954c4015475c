"""Webhook delivery on AWS: the outbox (events in DynamoDB, store/dynamo_outbox.py) drained by one function fed
three ways, none of which holds a Lambda waiting for a retry.

- The table's stream (new images), filtered on event items with a pending delivery (STREAM_FILTER, used by
  infra/webhooks.py): a new event (or one made due again) is delivered as soon as it is committed
  (webhooks.delivery.deliver_event: claim, signed POST, attempt recorded). Images of events due later (a claim
  running, a retry scheduled by the sender that made the attempt) are passed over.
- The retry queue (SQS): when an attempt leaves a delivery pending, its sender sends `{event_id, project_id}`
  delayed until the next attempt is due. SQS delays at most 15 min: a message that arrives early is sent again
  with what is left, so longer waits chain. On arrival the event is read again (consistently): delivered when
  due, put back when not yet, dropped when nothing is pending. A message that keeps failing (DynamoDB down, a
  bug) moves to the dead-letter queue after a few receives.
- A schedule (EventBridge, every few minutes) sweeps the outbox: whatever is due and was not woken (a stream
  batch that failed for good, a sender that died between recording an attempt and queueing the next one, or
  after its claim) is put on the retry queue. A Lambda on-failure record of a stream batch, redriven from the
  dead-letter queue into the retry queue, triggers the same sweep.

Senders race safely: the claim is a conditional write, the loser skips (webhooks/delivery.py); a duplicate
wake-up costs a read. An attempt that would not fit in what is left of this invocation is handed to the retry
queue instead of being started.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mediajet.errors import MediaJetError, NotFound
from mediajet.ids import now_ms
from mediajet.store import dynamo_schema as schema

log = logging.getLogger("mediajet.webhooks")

# The event source mapping's filter (infra/webhooks.py): writes of event items with a pending delivery (the outbox
# index keys are present exactly then, store/dynamo_outbox.py).
STREAM_FILTER = {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {
    schema.SORT_KEY: {"S": [schema.library_sk("event")]},
    schema.OUTBOX_INDEX_PARTITION_KEY: {"S": [{"prefix": schema.OUTBOX_PREFIX}]}}}}
MAX_DELAY_S = 900  # SQS's longest DelaySeconds
SWEEP_LIMIT = 500  # events woken per sweep; the next sweep takes the rest
MARGIN_MS = 5_000  # left over after the last attempt of an invocation (recording it, the next batch)
SEND_BATCH = 10  # SQS SendMessageBatch's maximum


class UnknownMessage(MediaJetError):
    """A retry-queue message that names no event and is no Lambda failure record: left to fail into the DLQ."""

    default_kind = "unknown_message"


@dataclass
class WebhookSender:
    store: Any  # DynamoJobStore (the outbox: due_events, save_event, event_from_item, get_record)
    sqs: Any
    queue_url: str
    settings: Any  # mediajet.settings.Settings
    sign: Callable[[str], str]
    remaining_ms: Callable[[], int] = lambda: 15 * 60 * 1000

    # --- the three feeds ---------------------------------------------------------------------------------

    def on_stream(self, records: list[Mapping[str, Any]]) -> dict[str, Any]:
        """A batch of stream records, in order. On an error the batch is retried from that record (the records
        before it are done): DynamoDB streams report failures as a checkpoint."""
        for record in records:
            try:
                image = record.get("dynamodb", {}).get("NewImage")
                event = self.store.event_from_item(image) if image else None
                if event is not None:
                    self._handle(event, woken=False)
            except Exception:
                log.exception("a webhook stream record failed; the batch is retried from it")
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    def on_queue(self, messages: list[Mapping[str, Any]]) -> dict[str, Any]:
        """A batch of retry-queue messages; each failed one comes back after its visibility timeout."""
        from mediajet.models.webhooks import Event

        failures = []
        for message in messages:
            try:
                body = json.loads(message["body"])
                if not isinstance(body, dict):
                    raise UnknownMessage("not a JSON object")
                if "event_id" not in body:
                    if not _is_failure_record(body):
                        raise UnknownMessage(f"no event_id in a message with {sorted(body)[:5]}")
                    self.sweep()  # a failed stream batch, redriven: its events are still in the outbox
                    continue
                try:
                    event = self.store.get_record(Event, body["event_id"], body.get("project_id"))
                except NotFound:
                    continue
                self._handle(event, woken=True)
            except Exception:
                log.exception("a webhook retry message failed; it comes back after its visibility timeout")
                failures.append({"itemIdentifier": message["messageId"]})
        return {"batchItemFailures": failures}

    def sweep(self) -> dict[str, Any]:
        """Wake every event due now (up to SWEEP_LIMIT) through the retry queue."""
        due = self.store.due_events(now_ms(), SWEEP_LIMIT)
        for start in range(0, len(due), SEND_BATCH):
            entries = [{"Id": str(n), "MessageBody": _body(event)} for n, event in enumerate(due[start:start + SEND_BATCH])]
            answer = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            if answer.get("Failed"):
                log.warning("%d wake-ups were refused by SQS; the next sweep tries again", len(answer["Failed"]))
        if due:
            log.info("webhook sweep woke %d due events", len(due))
        return {"woken": len(due)}

    # --- one event -----------------------------------------------------------------------------------

    def _handle(self, event: Any, *, woken: bool) -> str:
        """Deliver what is due. Not due yet: a woken event goes back on the queue for the rest of its wait; a
        stream image is passed over (a claim is running, or a retry is already queued)."""
        from mediajet.webhooks.delivery import deliver_event

        now = now_ms()
        due = event.due_at
        if due is None:
            return "done"
        if due > now:
            if woken:
                self.wake(event, due - now)
            return "not due"
        attempts = sum(1 for d in event.deliveries if d.status == "pending" and (d.next_attempt_at or 0) <= now)
        if self.remaining_ms() < attempts * int(self.settings.webhook_timeout_s * 1000) + MARGIN_MS:
            self.wake(event, 0)  # no time left for it here: another invocation takes it
            return "handed off"
        deliver_event(self.store, event, sign=self.sign, settings=self.settings, now=now, recorded=self._next)
        return "delivered"

    def _next(self, event: Any) -> None:
        """After the attempts: a delivery still pending is woken when its retry is due."""
        due = event.due_at
        if due is not None:
            self.wake(event, due - now_ms())

    def wake(self, event: Any, wait_ms: int) -> None:
        """A retry-queue message that brings `event` back in `wait_ms` (at most 15 min: then it is sent again)."""
        delay = min(MAX_DELAY_S, max(0, math.ceil(wait_ms / 1000)))
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=_body(event), DelaySeconds=delay)


def _body(event: Any) -> str:
    return json.dumps({"event_id": event.id, "project_id": event.project_id})


def _is_failure_record(body: Mapping[str, Any]) -> bool:
    """Lambda's on-failure record of a stream batch (`DDBStreamBatchInfo`, `requestContext`)."""
    return "DDBStreamBatchInfo" in body or "requestContext" in body


def sender(context: Any = None) -> WebhookSender:
    """The sender of this Lambda (settings from the environment infra/webhooks.py sets)."""
    from mediajet.aws import runtime
    from mediajet.settings import get_settings

    queue_url = runtime.aws_settings().webhook_queue_url
    if not queue_url:
        raise RuntimeError("MEDIAJET_WEBHOOK_QUEUE_URL is not set: this function cannot schedule retries")
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return WebhookSender(store=runtime.job_store(), sqs=runtime.client("sqs"), queue_url=queue_url,
                         settings=get_settings(), sign=runtime.sign_url,
                         **({"remaining_ms": remaining} if callable(remaining) else {}))


def handle(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """Dispatch on the feed: stream records, queue messages, or the schedule (anything else is refused)."""
    records = event.get("Records") or []
    source = records[0].get("eventSource") if records else None
    if source == "aws:dynamodb":
        return sender(context).on_stream(records)
    if source == "aws:sqs":
        return sender(context).on_queue(records)
    if event.get("source") == "aws.events" or event.get("sweep"):
        return sender(context).sweep()
    raise UnknownMessage(f"not a stream batch, a queue batch or the sweep schedule: {sorted(event)[:5]}")
