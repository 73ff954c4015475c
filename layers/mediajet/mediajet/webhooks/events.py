"""Which events a state change makes, and who receives them: a pure function the stores call inside the
transaction that writes the change (the outbox is written with it, never after it).

- A job or standalone task that is created makes `<type>.created`; a status change makes `<type>.<status>`
  when it ends (succeeded, failed, cancelled) and `<type>.updated` otherwise. Progress alone is no event.
- The record's own `webhook_url` receives the terminal event only (one POST when it ends, spec §1.13);
  endpoints (spec §5.3) receive every topic they subscribe to.
- A change nobody receives records no event.
"""

from __future__ import annotations

from typing import Any

from mediajet.models.job import FINAL_STATUSES, Job, Task, task_record
from mediajet.models.webhooks import Delivery, Event, WebhookEndpoint


def topic_for(subject_type: str, before: str | None, after: str) -> str | None:
    if before is None:
        return f"{subject_type}.created"
    if before == after:
        return None
    if after in FINAL_STATUSES:
        return f"{subject_type}.{after}"
    return f"{subject_type}.updated"


def webhook_url(record: Job | Task) -> str | None:
    if isinstance(record, Job):
        return record.webhook_url
    url = (record.options or {}).get("webhook_url")
    return url if isinstance(url, str) and url else None


def snapshot(record: Job | Task) -> dict[str, Any]:
    return record.to_record() if isinstance(record, Job) else task_record(record)


def events_for(before: str | None, record: Job | Task, endpoints: list[WebhookEndpoint], now: int) -> list[Event]:
    """The events (zero or one) that `record` going from status `before` (None: just created) makes."""
    subject_type = "job" if isinstance(record, Job) else "task"
    if isinstance(record, Task) and record.job_id is not None:
        return []  # a job's own tasks are reported through their job
    topic = topic_for(subject_type, before, record.status)
    if topic is None:
        return []
    deliveries = []
    own = webhook_url(record)
    if own is not None and record.status in FINAL_STATUSES:
        deliveries.append(Delivery(url=own, next_attempt_at=now))
    deliveries += [Delivery(url=e.url, endpoint_id=e.id, next_attempt_at=now) for e in endpoints if e.wants(topic)]
    if not deliveries:
        return []
    return [Event(kind=topic, project_id=record.project_id, subject_type=subject_type, subject_id=record.id,
                  wire=record.wire, subject=snapshot(record), deliveries=deliveries, created_at=now, updated_at=now)]
