"""Webhook endpoints, events and the signing secret through the API handler (api/routes_webhooks.py): what a
client sees, in the Jobs API's conventions, scoped to the caller's project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mediajet.ids import now_ms
from mediajet.models.job import Job
from mediajet.models.webhook_requests import MAX_ENDPOINTS
from mediajet.models.webhooks import ROTATION_GRACE_MS, Attempt, Delivery, Event, SigningSecret, secret_id
from tests.unit.api_support import KEY_B, SIGNED, Api, make_api

HOOK = "https://hooks.example.com/mediajet"


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return make_api(tmp_path)


def _create(api: Api, key: str | None = None, **body: Any) -> Any:
    sent = {"url": HOOK, "topics": ["job.*"], **body}
    return api.call("POST", "/webhooks/endpoints", sent, **({"key": key} if key else {}))


# --- endpoints ----------------------------------------------------------------------------------------


def test_create_then_list_get_patch_delete_an_endpoint(api: Api) -> None:
    created = _create(api, topics=["job.*", "task.failed", "job.*"], description="prod")
    assert created.status == 201, created.text
    endpoint = created.body
    assert endpoint["id"].startswith("we_") and endpoint["object"] == "webhook_endpoint"
    assert (endpoint["url"], endpoint["topics"], endpoint["description"], endpoint["status"]) == (
        HOOK, ["job.*", "task.failed"], "prod", "active"), "duplicates dropped, order kept"
    assert isinstance(endpoint["created_at"], int) and endpoint["created_at"] == endpoint["updated_at"]

    second = _create(api, topics=["*"]).body
    assert [e["id"] for e in api.call("GET", "/webhooks/endpoints").body] == [second["id"], endpoint["id"]]
    assert [e["id"] for e in api.call("GET", "/webhooks/endpoints", query={"limit": 1, "page": 2}).body] == [
        endpoint["id"]]
    assert api.call("GET", f"/webhooks/endpoints/{endpoint['id']}").body == endpoint

    patched = api.call("PATCH", f"/webhooks/endpoints/{endpoint['id']}",
                       {"status": "disabled", "topics": ["task.*"], "description": None})
    assert patched.status == 200, patched.text
    assert (patched.body["status"], patched.body["topics"], patched.body["description"], patched.body["url"]) == (
        "disabled", ["task.*"], None, HOOK)
    assert patched.body["updated_at"] >= endpoint["updated_at"]
    assert api.call("GET", f"/webhooks/endpoints/{endpoint['id']}").body == patched.body

    deleted = api.call("DELETE", f"/webhooks/endpoints/{endpoint['id']}")
    assert deleted.status == 202 and "deleted" in deleted.body["message"]
    gone = api.call("GET", f"/webhooks/endpoints/{endpoint['id']}")
    assert gone.status == 404 and gone.body["kind"] == "webhook_endpoint_not_found"
    assert [e["id"] for e in api.call("GET", "/webhooks/endpoints").body] == [second["id"]]


@pytest.mark.parametrize(("body", "kind", "field"), [
    ({"url": "http://hooks.example.com/x"}, "invalid_webhook_url", "url"),
    ({"url": "ftp://hooks.example.com/x"}, "invalid_webhook_url", "url"),
    ({"url": "https://127.0.0.1/x"}, "invalid_webhook_url", "url"),
    ({"url": "https://[::1]:8443/x"}, "invalid_webhook_url", "url"),
    ({"url": "https://169.254.169.254/latest"}, "invalid_webhook_url", "url"),
    ({"url": "https://10.0.0.7/x"}, "invalid_webhook_url", "url"),
    ({"url": "https://localhost/x"}, "invalid_webhook_url", "url"),
    ({"url": "https://user:pw@hooks.example.com/x"}, "invalid_webhook_url", "url"),
    ({"url": "https:///x"}, "invalid_webhook_url", "url"),
    ({"url": 42}, "invalid_webhook_url", "url"),
    ({"url": None}, "url_required", "url"),
    ({"topics": None}, "topics_required", "topics"),
    ({"topics": []}, "invalid_topic", "topics"),
    ({"topics": "job.*"}, "invalid_topic", "topics"),
    ({"topics": ["job.finished"]}, "invalid_topic", "topics"),
    ({"topics": ["job.*", 7]}, "invalid_topic", "topics"),
    ({"description": "x" * 1001}, "request_invalid", "description"),
    ({"status": "disabled"}, "request_invalid", "status"),  # not a create field
    ({"secret": "mine"}, "request_invalid", "secret"),
])
def test_create_refuses_with_a_kind_and_the_field(api: Api, body: dict[str, Any], kind: str, field: str) -> None:
    sent = {key: value for key, value in {"url": HOOK, "topics": ["*"], **body}.items() if value is not None}
    reply = api.call("POST", "/webhooks/endpoints", sent)
    assert reply.status == 400, reply.text
    assert (reply.body["kind"], reply.body["field"]) == (kind, field), reply.body
    assert api.call("GET", "/webhooks/endpoints").body == [], "nothing stored"


def test_every_topic_and_wildcard_is_accepted_up_to_the_limit(api: Api) -> None:
    topics = ["*", "job.*", "task.*", "job.created", "job.updated", "job.succeeded", "job.failed", "job.cancelled",
              "task.created", "task.updated", "task.succeeded", "task.failed", "task.cancelled"]
    assert _create(api, topics=topics).body["topics"] == topics
    assert "task.created" in _create(api, topics=[]).body["message"], "the message lists the topics"


def test_private_hosts_and_plain_http_are_accepted_where_private_urls_are_allowed(tmp_path: Path) -> None:
    api = make_api(tmp_path, allow_private_urls=True)
    reply = _create(api, url="http://127.0.0.1:9000/hooks")
    assert reply.status == 201 and reply.body["url"] == "http://127.0.0.1:9000/hooks"


def test_patch_checks_what_it_changes(api: Api) -> None:
    endpoint = _create(api).body
    path = f"/webhooks/endpoints/{endpoint['id']}"
    for body, kind in [({"url": "https://192.168.1.2/x"}, "invalid_webhook_url"), ({"topics": ["nope"]}, "invalid_topic"),
                       ({"status": "paused"}, "request_invalid"), ({"status": None}, "request_invalid"),
                       ({"id": "we_other"}, "request_invalid")]:
        reply = api.call("PATCH", path, body)
        assert reply.status == 400 and reply.body["kind"] == kind, (body, reply.body)
    assert api.call("GET", path).body == endpoint, "unchanged"
    moved = api.call("PATCH", path, {"url": "https://other.example.com/in"}).body
    assert moved["url"] == "https://other.example.com/in" and moved["topics"] == endpoint["topics"]


def test_a_project_has_at_most_so_many_endpoints(api: Api) -> None:
    for _ in range(MAX_ENDPOINTS):
        assert _create(api).status == 201
    reply = _create(api)
    assert reply.status == 400 and reply.body["kind"] == "too_many_endpoints"
    assert _create(api, key=KEY_B).status == 201, "per project"


def test_idempotency_key_replays_the_create(api: Api) -> None:
    headers = {"Idempotency-Key": "hook-1"}
    body = {"url": HOOK, "topics": ["job.succeeded"]}
    first = api.call("POST", "/webhooks/endpoints", body, headers=headers)
    again = api.call("POST", "/webhooks/endpoints", body, headers=headers)
    assert (first.status, again.status) == (201, 200) and again.body == first.body
    other = api.call("POST", "/webhooks/endpoints", {**body, "topics": ["job.failed"]}, headers=headers)
    assert other.status == 409 and other.body["kind"] == "idempotency_key_reused"
    assert len(api.call("GET", "/webhooks/endpoints").body) == 1


def test_endpoints_are_invisible_to_other_projects(api: Api) -> None:
    endpoint = _create(api).body
    path = f"/webhooks/endpoints/{endpoint['id']}"
    assert api.call("GET", "/webhooks/endpoints", key=KEY_B).body == []
    for method, body in [("GET", None), ("PATCH", {"status": "disabled"}), ("DELETE", None)]:
        reply = api.call(method, path, body, key=KEY_B)
        assert reply.status == 404 and reply.body["kind"] == "webhook_endpoint_not_found", (method, reply.body)
    assert api.call("GET", path).body == endpoint, "untouched"


def test_the_routes_need_a_key(api: Api) -> None:
    for method, path in [("GET", "/webhooks/endpoints"), ("POST", "/webhooks/endpoints"), ("GET", "/events"),
                         ("GET", "/webhooks/secret"), ("POST", "/webhooks/secret/rotate")]:
        reply = api.call(method, path, key=None)
        assert reply.status == 401 and reply.body["kind"] == "token_missing", path


# --- events -------------------------------------------------------------------------------------------


def _event(api: Api, project: str = "prj_a", **fields: Any) -> Event:
    job = Job(project_id=project, kind="video", input="https://example.com/in.mp4", status="succeeded",
              output="file:///data/files/out.mp4", webhook_url=HOOK)
    event = Event(project_id=project, kind="job.succeeded", subject_type="job", subject_id=job.id,
                  subject=job.to_record(), **fields)
    return api.store.create_record(event)


def test_an_event_shows_its_subject_as_the_api_does_and_every_delivery_attempt(api: Api) -> None:
    failed = Delivery(url=HOOK, status="pending", next_attempt_at=now_ms() + 5000,
                      attempts=[Attempt(at=now_ms() - 1000, status_code=500, latency_ms=12, error="answered 500")])
    done = Delivery(url="https://b.example.com/", endpoint_id="we_1", status="succeeded",
                    attempts=[Attempt(at=now_ms() - 900, status_code=204, latency_ms=8)])
    event = _event(api, deliveries=[failed, done])
    shown = api.call("GET", f"/events/{event.id}")
    assert shown.status == 200, shown.text
    body = shown.body
    assert (body["id"], body["object"], body["kind"], body["created_at"]) == (
        event.id, "event", "job.succeeded", event.created_at)
    assert body["data"]["id"] == event.subject_id and body["data"]["object"] == "job"
    assert body["data"]["output"] == SIGNED + "data/files/out.mp4", "links are signed when read"
    assert body["deliveries"] == [
        {"url": HOOK, "endpoint_id": None, "status": "pending", "next_attempt_at": failed.next_attempt_at,
         "attempts": [{"at": failed.attempts[0].at, "status_code": 500, "latency_ms": 12, "error": "answered 500"}]},
        {"url": "https://b.example.com/", "endpoint_id": "we_1", "status": "succeeded", "next_attempt_at": None,
         "attempts": [{"at": done.attempts[0].at, "status_code": 204, "latency_ms": 8, "error": None}]},
    ]
    assert api.call("GET", "/events").body == [body]


def test_events_list_newest_first_by_page(api: Api) -> None:
    ids = [_event(api).id for _ in range(3)]
    assert [e["id"] for e in api.call("GET", "/events").body] == ids[::-1]
    assert [e["id"] for e in api.call("GET", "/events", query={"limit": 2, "page": 2}).body] == [ids[0]]
    for query in ({"limit": 101}, {"limit": 0}, {"page": 0}, {"limit": "ten"}):
        reply = api.call("GET", "/events", query=query)
        assert reply.status == 400 and reply.body["kind"] == "request_invalid", query


def test_an_endpoint_hears_a_new_job_and_the_event_shows_the_job_as_get_jobs_does(api: Api) -> None:
    endpoint = _create(api, topics=["job.created"]).body
    job = api.call("POST", "/jobs", {"input": "https://example.com/in.mp4", "kind": "audio"}).body
    [event] = api.call("GET", "/events").body
    assert event["kind"] == "job.created" and event["data"] == job
    assert [(d["url"], d["endpoint_id"], d["status"]) for d in event["deliveries"]] == [
        (HOOK, endpoint["id"], "pending")]
    assert api.call("GET", "/events", key=KEY_B).body == []


def test_a_disabled_endpoint_hears_nothing_new(api: Api) -> None:
    endpoint = _create(api, topics=["*"]).body
    api.call("PATCH", f"/webhooks/endpoints/{endpoint['id']}", {"status": "disabled"})
    api.call("POST", "/jobs", {"input": "https://example.com/in.mp4", "kind": "audio"})
    assert api.call("GET", "/events").body == []


def test_a_finished_job_with_a_webhook_url_has_one_event_for_it(api: Api) -> None:
    job_id = api.call("POST", "/jobs", {"input": "https://example.com/in.mp4", "kind": "audio",
                                        "webhook_url": HOOK}).body["id"]
    running = api.store.save_job(api.store.get_job(job_id).model_copy(update={"status": "processing"}))
    api.store.save_job(running.model_copy(update={"status": "failed", "finished_at": now_ms()}))
    [event] = api.call("GET", "/events").body
    assert event["kind"] == "job.failed" and event["data"]["status"] == "failed"
    assert [(d["url"], d["endpoint_id"]) for d in event["deliveries"]] == [(HOOK, None)]


def test_events_are_invisible_to_other_projects(api: Api) -> None:
    event = _event(api)
    reply = api.call("GET", f"/events/{event.id}", key=KEY_B)
    assert reply.status == 404 and reply.body["kind"] == "event_not_found"
    assert api.call("GET", "/events/evt_nothing").body["kind"] == "event_not_found"


# --- the signing secret ---------------------------------------------------------------------------------


def test_the_secret_is_made_once_per_project_and_rotation_keeps_the_previous_signing(api: Api) -> None:
    first = api.call("GET", "/webhooks/secret")
    assert first.status == 200
    assert first.body["object"] == "webhook_secret" and first.body["secret"].startswith("whsec_")
    assert first.body["previous_expires_at"] is None
    assert api.call("GET", "/webhooks/secret").body == first.body, "stable until rotated"
    other = api.call("GET", "/webhooks/secret", key=KEY_B).body
    assert other["secret"] != first.body["secret"], "one per project"

    before = now_ms()
    rotated = api.call("POST", "/webhooks/secret/rotate")
    assert rotated.status == 200, rotated.text
    new = rotated.body
    assert new["secret"].startswith("whsec_") and new["secret"] != first.body["secret"]
    assert before + ROTATION_GRACE_MS <= new["previous_expires_at"] <= now_ms() + ROTATION_GRACE_MS
    assert api.call("GET", "/webhooks/secret").body == new
    stored = api.store.get_record(SigningSecret, secret_id("prj_a"), "prj_a")
    assert stored.signing_keys(now_ms()) == [new["secret"], first.body["secret"]], "both sign for a day"
    assert stored.signing_keys(new["previous_expires_at"] + 1) == [new["secret"]]
    assert api.call("GET", "/webhooks/secret", key=KEY_B).body == other, "the other project's is untouched"
