"""The webhook routes over each store (SQLite, DynamoDB under moto): what the API handler does on a server is what
it does on AWS, project isolation and Idempotency-Key included."""

from __future__ import annotations

from mediajet.api.app import create_app
from mediajet.api.auth import hash_key
from mediajet.api.deps import ApiDeps
from mediajet.ids import now_ms
from mediajet.models.job import Job
from mediajet.models.requests import with_pipeline_tasks
from mediajet.settings import Settings
from tests.integration.test_store_contract import dynamodb_client, dynamodb_http_client, store  # noqa: F401
from tests.unit.api_support import KEY_A, KEY_B, Api, RecordingOrchestrator, sign

HOOK = "https://hooks.example.com/mediajet"


def _api(store, tmp_path) -> Api:  # noqa: F811
    store.add_api_key(hash_key(KEY_A), "prj_a")
    store.add_api_key(hash_key(KEY_B), "prj_b")
    settings = Settings(data_dir=tmp_path)
    api = Api(store, RecordingOrchestrator(), settings)
    api.app = create_app(ApiDeps(jobs=store, orchestrator=api.orchestrator, settings=settings, sign_url=sign))
    return api


def test_endpoints_events_and_secret_on_each_store(store, tmp_path) -> None:  # noqa: F811
    api = _api(store, tmp_path)
    body = {"url": HOOK, "topics": ["job.created"]}
    created = api.call("POST", "/webhooks/endpoints", body, headers={"Idempotency-Key": "k1"})
    assert created.status == 201, created.text
    replay = api.call("POST", "/webhooks/endpoints", body, headers={"Idempotency-Key": "k1"})
    assert replay.status == 200 and replay.body == created.body
    endpoint_id = created.body["id"]
    path = f"/webhooks/endpoints/{endpoint_id}"
    assert [e["id"] for e in api.call("GET", "/webhooks/endpoints").body] == [endpoint_id]
    assert api.call("GET", path, key=KEY_B).body["kind"] == "webhook_endpoint_not_found"
    assert api.call("PATCH", path, {"description": "prod"}).body["description"] == "prod"

    job, _ = store.create_job(with_pipeline_tasks(Job(project_id="prj_a", kind="audio",
                                                      input="https://example.com/in.mp4")))
    [event] = api.call("GET", "/events").body
    assert event["kind"] == "job.created" and event["data"]["id"] == job.id
    assert event["deliveries"][0]["endpoint_id"] == endpoint_id
    assert api.call("GET", f"/events/{event['id']}").body == event
    assert api.call("GET", f"/events/{event['id']}", key=KEY_B).body["kind"] == "event_not_found"
    assert api.call("GET", "/events", key=KEY_B).body == []

    first = api.call("GET", "/webhooks/secret").body["secret"]
    rotated = api.call("POST", "/webhooks/secret/rotate").body
    assert rotated["secret"] != first and rotated["previous_expires_at"] > now_ms()
    assert api.call("GET", "/webhooks/secret", key=KEY_B).body["secret"] not in (first, rotated["secret"])

    assert api.call("DELETE", path).status == 202
    assert api.call("GET", path).status == 404
