"""The webhook outbox contract, run against SQLite and DynamoDB (moto): a job's or task's state change and the
events it makes are written together; the record's own `webhook_url` hears of the end only, endpoints of every
topic they subscribe to; due events come out of the outbox until each delivery has ended; an attempt recorded
from a stale read is refused (a second sender never double-sends the same claim)."""

from __future__ import annotations

import pytest

from mediajet.errors import StaleWrite
from mediajet.ids import now_ms
from mediajet.models.job import Job, Task
from mediajet.models.requests import with_pipeline_tasks
from mediajet.models.webhooks import Event, WebhookEndpoint
from tests.integration.test_store_contract import (  # noqa: F401
    OTHER,
    PROJECT,
    dynamodb_client,
    dynamodb_http_client,
    store,
)

HOOK = "https://hooks.example.com/mediajet"


def _job(**fields) -> Job:
    return with_pipeline_tasks(Job(kind="video", input="https://example.com/a.mp4", project_id=PROJECT, **fields))


def _events(store, project=PROJECT) -> list[Event]:  # noqa: F811
    return list(reversed(store.list_records(Event, project, 1, 100)))  # oldest first


def _finish(store, job: Job, status: str = "succeeded") -> Job:  # noqa: F811
    running = store.save_job(job.model_copy(update={"status": "processing"}))
    return store.save_job(running.model_copy(update={"status": status, "finished_at": now_ms()}))


def test_a_job_with_a_webhook_url_makes_one_event_when_it_ends(store) -> None:  # noqa: F811
    job, _ = store.create_job(_job(webhook_url=HOOK, wire=None))
    assert _events(store) == []  # created and started: nothing a webhook_url hears of
    ended = _finish(store, job)
    [event] = _events(store)
    assert (event.kind, event.subject_type, event.subject_id) == ("job.succeeded", "job", job.id)
    assert Job.model_validate(event.subject).status == "succeeded" and event.subject["webhook_url"] == HOOK
    assert [(d.url, d.endpoint_id, d.status) for d in event.deliveries] == [(HOOK, None, "pending")]
    assert [e.id for e in store.due_events(now_ms() + 1)] == [event.id]
    store.save_job(ended.model_copy(update={"metadata": {"note": "x"}}))  # no status change: no event
    assert len(_events(store)) == 1


def test_endpoints_hear_the_topics_they_subscribe_to_in_their_own_project(store) -> None:  # noqa: F811
    every = store.create_record(WebhookEndpoint(project_id=PROJECT, url="https://a.example.com/", topics=["job.*"]))
    failures = store.create_record(WebhookEndpoint(project_id=PROJECT, url="https://b.example.com/",
                                                   topics=["job.failed", "task.failed"]))
    store.create_record(WebhookEndpoint(project_id=OTHER, url="https://other.example.com/", topics=["*"]))
    job, _ = store.create_job(_job())
    _finish(store, job, "failed")
    kinds = [(e.kind, [d.endpoint_id for d in e.deliveries]) for e in _events(store)]
    assert kinds == [("job.created", [every.id]), ("job.updated", [every.id]), ("job.failed", [every.id, failures.id])]
    assert _events(store, OTHER) == []


def test_standalone_tasks_report_their_changes_and_job_tasks_do_not(store) -> None:  # noqa: F811
    store.create_record(WebhookEndpoint(project_id=PROJECT, url="https://a.example.com/", topics=["task.*"]))
    task, _ = store.create_task(Task(kind="image", input={"url": "https://example.com/a.png"}, project_id=PROJECT,
                                     options={"webhook_url": HOOK}, wire="2025-08-20"))
    running = store.save_task(task.model_copy(update={"status": "processing"}))
    store.save_task(running.model_copy(update={"status": "succeeded"}))
    job, _ = store.create_job(_job())
    _finish(store, job)
    events = _events(store)
    assert [e.kind for e in events] == ["task.created", "task.updated", "task.succeeded"]
    assert events[-1].wire == "2025-08-20"
    assert [d.url for d in events[-1].deliveries] == [HOOK, "https://a.example.com/"]


def test_the_outbox_gives_due_events_until_every_delivery_ends(store) -> None:  # noqa: F811
    job, _ = store.create_job(_job(webhook_url=HOOK))
    _finish(store, job)
    [event] = store.due_events(now_ms() + 1)
    later = event.model_copy(deep=True)
    later.deliveries[0].next_attempt_at = now_ms() + 60_000
    saved = store.save_event(later)
    assert saved.version == event.version + 1
    assert store.due_events(now_ms() + 1) == []
    assert [e.id for e in store.due_events(now_ms() + 120_000)] == [event.id]
    with pytest.raises(StaleWrite):  # another sender's claim won
        store.save_event(later)
    done = saved.model_copy(deep=True)
    done.deliveries[0].status, done.deliveries[0].next_attempt_at = "succeeded", None
    store.save_event(done)
    assert store.due_events(now_ms() + 10**9) == []
    assert store.get_record(Event, event.id, PROJECT).deliveries[0].status == "succeeded"
