"""Delivering the outbox to a receiver on loopback, as a receiver sees it: Standard Webhooks signatures that the
`standardwebhooks` library verifies, the same `webhook-id` on every retry, retries on 5xx/429/no answer and not on
other 4xx, a rotated secret that still verifies for a day, and one request per claim however many senders run."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from mediajet.ids import now_ms
from mediajet.models.job import Job
from mediajet.models.requests import with_pipeline_tasks
from mediajet.models.webhooks import Event, WebhookEndpoint
from mediajet.settings import Settings
from mediajet.store.sqlite import SqliteJobStore
from mediajet.webhooks import delivery, secrets
from mediajet.webhooks.signing import new_secret

PROJECT = "prj_hooks"


@pytest.fixture
def store(tmp_path) -> Iterator[SqliteJobStore]:
    db = SqliteJobStore(tmp_path / "jobs.db")
    yield db
    db.close()


def settings(**changes) -> Settings:
    return Settings(**{"allow_private_urls": True, "webhook_retry_s": "0.05,0.05", "webhook_timeout_s": 1.0, **changes})


def finished_job(store: SqliteJobStore, url: str, status: str = "succeeded") -> Job:
    job, _ = store.create_job(with_pipeline_tasks(Job(kind="image", input="https://example.com/a.mp4",
                                                      project_id=PROJECT, webhook_url=url)))
    running = store.save_job(job.model_copy(update={"status": "processing"}))
    return store.save_job(running.model_copy(update={"status": status, "output": "file:///nowhere/out.jpg"}))


def drain(store: SqliteJobStore, config: Settings, rounds: int = 20) -> None:
    for _ in range(rounds):
        delivery.deliver_due(store, sign=lambda uri: uri.replace("file:///", "https://cdn.example.com/"),
                             settings=config)
        if store.next_event_due() is None:
            return
        time.sleep(0.06)


def only_event(store: SqliteJobStore) -> Event:
    [event] = store.list_records(Event, PROJECT, 1, 10)
    return event


def test_a_receiver_verifies_the_signature_and_sees_the_job_as_the_api_shows_it(store, receiver) -> None:
    job = finished_job(store, receiver.url)
    drain(store, settings())
    [(headers, body)] = receiver.seen
    secret = secrets.project_secret(store, PROJECT).secret
    payload = Webhook(secret).verify(body, headers)
    assert payload["id"] == job.id and payload["status"] == "succeeded" and payload["kind"] == "image"
    assert payload["output"] == "https://cdn.example.com/nowhere/out.jpg"  # signed like GET /jobs/{id} signs it
    assert headers["webhook-id"] == only_event(store).id
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 30
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_5xx_and_429_are_retried_with_the_same_webhook_id_and_recorded(store, receiver) -> None:
    receiver.answers = [500, 429]
    finished_job(store, receiver.url)
    drain(store, settings())
    assert len(receiver.seen) == 3
    assert len({headers["webhook-id"] for headers, _ in receiver.seen}) == 1
    [sent] = only_event(store).deliveries
    assert sent.status == "succeeded" and [a.status_code for a in sent.attempts] == [500, 429, 200]
    assert all(a.latency_ms >= 0 for a in sent.attempts) and sent.next_attempt_at is None


def test_other_4xx_is_final_and_the_schedule_has_an_end(store, receiver) -> None:
    receiver.answers = [404]
    finished_job(store, receiver.url)
    drain(store, settings())
    assert len(receiver.seen) == 1
    assert only_event(store).deliveries[0].status == "failed"
    assert only_event(store).deliveries[0].attempts[0].error == "answered 404"


def test_after_the_last_retry_the_delivery_fails(store, receiver) -> None:
    receiver.answers = [503, 503, 503, 503]
    finished_job(store, receiver.url)
    drain(store, settings())
    assert len(receiver.seen) == 3  # the first attempt and two retries: "0.05,0.05"
    assert only_event(store).deliveries[0].status == "failed"


def test_an_endpoint_deleted_or_disabled_after_the_event_gets_no_more_retries(store, receiver) -> None:
    kept, deleted, disabled = (store.create_record(WebhookEndpoint(project_id=PROJECT, url=receiver.url,
                                                                   topics=["job.succeeded"])) for _ in range(3))
    receiver.answers = [503, 503, 503]  # each endpoint's first attempt
    finished_job(store, None)
    delivery.deliver_due(store, sign=lambda uri: uri, settings=settings())
    assert len(receiver.seen) == 3
    store.delete_record(WebhookEndpoint, deleted.id, PROJECT)
    store.save_record(disabled.touched(status="disabled"))

    drain(store, settings())

    assert len(receiver.seen) == 4, "only the endpoint still there is retried"
    by_endpoint = {d.endpoint_id: d for d in only_event(store).deliveries}
    assert by_endpoint[kept.id].status == "succeeded"
    assert (by_endpoint[deleted.id].status, by_endpoint[deleted.id].attempts[-1].error) == (
        "failed", "not sent: the webhook endpoint was deleted")
    assert (by_endpoint[disabled.id].status, by_endpoint[disabled.id].attempts[-1].error) == (
        "failed", "not sent: the webhook endpoint is disabled")
    assert by_endpoint[deleted.id].attempts[-1].status_code is None


def test_no_answer_in_time_is_retried(store, receiver) -> None:
    receiver.delay_s = 0.5
    finished_job(store, receiver.url)
    delivery.deliver_due(store, sign=str, settings=settings(webhook_timeout_s=0.2))
    [attempt] = only_event(store).deliveries[0].attempts
    assert attempt.status_code is None and "0.2 s" in attempt.error
    assert only_event(store).deliveries[0].status == "pending"


def test_private_and_plain_http_receivers_are_refused_by_default(store, receiver) -> None:
    finished_job(store, receiver.url)
    drain(store, Settings(webhook_retry_s="0.05"))
    assert receiver.seen == []
    [attempt] = only_event(store).deliveries[0].attempts
    assert only_event(store).deliveries[0].status == "failed" and "https" in attempt.error


def test_after_a_rotation_both_secrets_verify_for_a_day(store, receiver) -> None:
    old = secrets.project_secret(store, PROJECT).secret
    new = secrets.rotate(store, PROJECT).secret
    assert new != old
    finished_job(store, receiver.url)
    drain(store, settings())
    [(headers, body)] = receiver.seen
    assert len(headers["webhook-signature"].split(" ")) == 2
    for key in (old, new):
        assert json.loads(body) == Webhook(key).verify(body, headers)


def test_two_senders_send_one_request_per_claim(store, receiver) -> None:
    receiver.delay_s = 0.2
    finished_job(store, receiver.url)
    config = settings()
    senders = [threading.Thread(target=delivery.deliver_due, kwargs={"store": store, "sign": str, "settings": config})
               for _ in range(4)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    assert len(receiver.seen) == 1
    assert store.due_events(now_ms() + 10**9) == []


def test_events_past_their_retention_are_pruned_unless_a_delivery_is_pending(store, receiver) -> None:
    finished_job(store, receiver.url)
    drain(store, settings())
    delivered = only_event(store)
    finished_job(store, "http://127.0.0.1:9/nobody")  # refused connection: pending, due again later
    delivery.deliver_due(store, sign=str, settings=settings(webhook_retry_s="3600"))
    pending = next(e for e in store.list_records(Event, PROJECT, 1, 10) if e.id != delivered.id)
    assert pending.deliveries[0].status == "pending"
    assert store.prune_events(delivered.created_at) == 0  # nothing older than the first
    assert store.prune_events(now_ms() + 1) == 1  # the delivered one; the pending one stays in the outbox
    assert [e.id for e in store.list_records(Event, PROJECT, 1, 10)] == [pending.id]


def test_the_servers_sender_removes_events_past_their_retention(store) -> None:
    from mediajet.local.webhook_sender import WebhookSender
    from mediajet.models.webhooks import EVENT_RETENTION_MS

    old = now_ms() - EVENT_RETENTION_MS - 1000
    store.create_record(Event(project_id=PROJECT, kind="job.succeeded", subject_type="job", subject_id="job_x",
                              subject={}, created_at=old, updated_at=old))
    kept = store.create_record(Event(project_id=PROJECT, kind="job.failed", subject_type="job", subject_id="job_y",
                                     subject={}))
    sender = WebhookSender(store, str, settings())
    sender.start()
    deadline = time.monotonic() + 10
    while len(store.list_records(Event, PROJECT, 1, 10)) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    sender.stop()
    assert [e.id for e in store.list_records(Event, PROJECT, 1, 10)] == [kept.id]
