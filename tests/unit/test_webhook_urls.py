"""`webhook_url` on every create that takes one is refused at POST time when no delivery could ever be made:
not https (http only with MEDIAJET_ALLOW_PRIVATE_URLS), a bad port, credentials in the URL, or a literal private
or loopback address (or a `localhost` name): the same rules as a webhook endpoint's URL. What is
accepted is kept, so the job's or task's end is reported there."""

from __future__ import annotations

import pytest

from mediajet.models.job import Job
from mediajet.models.webhooks import Event
from tests.unit.api_support import make_api

INPUT = "https://example.com/in.mp4"
REFUSED = ["http://hooks.example.com/in", "https://10.1.2.3/in", "https://[::1]:8443/in", "https://0x7f.1/in",
           "ftp://hooks.example.com/in", "https://user:secret@hooks.example.com/in", "https://localhost/in",
           "https://hooks.example.com:99999/in"]


def _bodies(url: str) -> list[tuple[str, dict, dict]]:
    return [("/jobs", {"input": INPUT, "kind": "video", "webhook_url": url}, {}),
            ("/tasks", {"kind": "video", "input": {"url": INPUT}, "webhook_url": url}, {}),
            ("/tasks", {"kind": "video", "url": INPUT, "webhook_url": url}, {"Accept-Version": "2025-08-20"})]


@pytest.mark.parametrize("url", REFUSED)
def test_a_webhook_url_no_delivery_could_reach_is_a_400(tmp_path, url: str) -> None:
    api = make_api(tmp_path)
    for path, body, headers in _bodies(url):
        reply = api.call("POST", path, body, headers=headers)
        assert reply.status == 400, (path, reply.text)
        if headers:  # version 2025-08-20 answers {message}
            assert "webhook_url" in reply.body["message"]
        else:
            assert reply.body["kind"] in ("invalid_webhook_url", "request_invalid"), reply.text
            assert reply.body["field"] == "webhook_url" and "webhook_url" in reply.body["message"]


def test_local_development_may_use_plain_http_on_loopback(tmp_path) -> None:
    api = make_api(tmp_path, allow_private_urls=True)
    for path, body, headers in _bodies("http://127.0.0.1:9000/in"):
        assert api.call("POST", path, body, headers=headers).status in (200, 201)


def test_an_accepted_webhook_url_is_where_the_end_is_reported(tmp_path) -> None:
    api = make_api(tmp_path)
    job_id = api.call("POST", "/jobs", {"input": INPUT, "kind": "video",
                                        "webhook_url": "https://hooks.example.com/in"}).body["id"]
    store = api.store
    job = store.get_job(job_id)
    assert job.webhook_url == "https://hooks.example.com/in"
    store.save_job(store.save_job(job.model_copy(update={"status": "processing"})).model_copy(
        update={"status": "failed"}))
    [event] = store.list_records(Event, job.project_id, 1, 10)
    assert event.kind == "job.failed" and Job.model_validate(event.subject).status == "failed"
    assert [d.url for d in event.deliveries] == ["https://hooks.example.com/in"]
