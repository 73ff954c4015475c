"""`mediajet webhooks …` and `mediajet events` as a user runs them: on this machine's data directory with
`--local`, and against a server (the same answers, the key's project)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from mediajet.ids import now_ms
from mediajet.local.runtime import LocalRuntime
from mediajet.models.job import Job
from mediajet.models.requests import with_pipeline_tasks
from mediajet.models.webhooks import Attempt, Event
from mediajet.settings import Settings
from tests.integration.test_cli import CLI, in_process, serving

HOOK = "https://hooks.example.com/mediajet"


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MEDIAJET_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MEDIAJET_API_KEY", raising=False)
    monkeypatch.delenv("MEDIAJET_ALLOW_PRIVATE_URLS", raising=False)
    return tmp_path / "data"


def lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_secret_prints_the_secret_alone_and_rotate_makes_a_new_one(data: Path, capsys) -> None:
    code, out, err = in_process(capsys, "webhooks", "secret", "--local", "--tty")
    assert code == 0, err
    secret = out.strip()
    assert secret.startswith("whsec_") and len(out.splitlines()) == 1, out
    assert in_process(capsys, "webhooks", "secret", "--local", "--tty")[1].strip() == secret, "stable"

    code, out, err = in_process(capsys, "webhooks", "secret", "--rotate", "--local", "--tty")
    assert code == 0 and out.strip().startswith("whsec_") and out.strip() != secret
    assert "previous secret keeps signing until" in err
    [shown] = lines(in_process(capsys, "webhooks", "secret", "--local", "--json")[1])
    assert shown["object"] == "webhook_secret" and shown["secret"] == out.strip()
    assert shown["previous_expires_at"] > now_ms()

    other = in_process(capsys, "webhooks", "secret", "--local", "--project", "prj_other", "--tty")[1].strip()
    assert other.startswith("whsec_") and other != shown["secret"], "one secret per project"


def test_endpoints_create_list_delete(data: Path, capsys) -> None:
    code, out, err = in_process(capsys, "webhooks", "endpoints", "create", "--url", HOOK, "--topics",
                                "job.*, task.failed", "--description", "prod", "--local", "--json")
    assert code == 0, err
    [endpoint] = lines(out)
    assert endpoint["id"].startswith("we_") and endpoint["topics"] == ["job.*", "task.failed"]
    assert endpoint["description"] == "prod" and endpoint["status"] == "active"

    code, out, _ = in_process(capsys, "webhooks", "endpoints", "list", "--local")  # piped: JSON Lines
    assert code == 0 and lines(out) == [endpoint]
    code, out, _ = in_process(capsys, "webhooks", "endpoints", "list", "--local", "--tty")
    header, row = out.splitlines()
    assert header.split() == ["ID", "STATUS", "TOPICS", "URL"]
    assert row.split() == [endpoint["id"], "active", "job.*,task.failed", HOOK]
    assert in_process(capsys, "webhooks", "endpoints", "list", "--local", "--project", "prj_other")[1] == ""

    code, out, err = in_process(capsys, "webhooks", "endpoints", "delete", endpoint["id"], "--local", "--tty")
    assert code == 0 and out.strip() == f"{endpoint['id']} deleted", err
    assert in_process(capsys, "webhooks", "endpoints", "list", "--local")[1] == ""
    code, out, err = in_process(capsys, "webhooks", "endpoints", "delete", endpoint["id"], "--local")
    assert code == 2 and out == "" and json.loads(err)["kind"] == "webhook_endpoint_not_found"


@pytest.mark.parametrize(("args", "kind"), [
    (["--url", "http://hooks.example.com/x", "--topics", "*"], "invalid_webhook_url"),
    (["--url", "https://127.0.0.1/x", "--topics", "*"], "invalid_webhook_url"),
    (["--url", HOOK, "--topics", "job.done"], "invalid_topic"),
    (["--url", HOOK, "--topics", ","], "invalid_topic"),
])
def test_a_bad_endpoint_exits_2_with_the_kind(data: Path, capsys, args: list[str], kind: str) -> None:
    code, out, err = in_process(capsys, "webhooks", "endpoints", "create", *args, "--local")
    assert code == 2 and out == ""
    assert json.loads(err)["kind"] == kind


def test_events_list_and_show_one_with_its_attempts(data: Path, capsys) -> None:
    code, out, _ = in_process(capsys, "webhooks", "endpoints", "create", "--url", HOOK, "--topics", "job.created",
                              "--local", "--json")
    endpoint = lines(out)[0]
    store = LocalRuntime.open(Settings()).jobs
    job, _ = store.create_job(with_pipeline_tasks(Job(project_id="prj_default", kind="audio",
                                                      input="https://example.com/in.mp4")))
    [event] = store.list_records(Event, "prj_default", 1, 10)
    tried = event.model_copy(deep=True)
    tried.deliveries[0].attempts.append(Attempt(at=now_ms(), status_code=503, latency_ms=41, error="answered 503"))
    store.save_event(tried)

    code, out, err = in_process(capsys, "events", "--local")
    assert code == 0, err
    [listed] = lines(out)
    assert (listed["id"], listed["kind"], listed["data"]["id"]) == (event.id, "job.created", job.id)
    assert listed["deliveries"][0]["endpoint_id"] == endpoint["id"]
    assert listed["deliveries"][0]["attempts"][0]["status_code"] == 503

    code, out, _ = in_process(capsys, "events", "--local", "--tty")
    header, row = out.splitlines()
    assert header.split()[:2] == ["ID", "CREATED"] and event.id in row and job.id in row and "1 pending" in row

    code, out, _ = in_process(capsys, "events", event.id, "--local", "--json")
    assert lines(out) == [listed]
    code, out, _ = in_process(capsys, "events", event.id, "--local", "--tty")
    assert event.id in out and "503" in out and "answered 503" in out and endpoint["id"] in out

    assert in_process(capsys, "events", "--local", "--project", "prj_other")[1] == ""
    code, _, err = in_process(capsys, "events", event.id, "--local", "--project", "prj_other")
    assert code == 2 and json.loads(err)["kind"] == "event_not_found"
    code, _, err = in_process(capsys, "events", "--local", "--limit", "0")
    assert code == 2 and json.loads(err)["field"] == "limit"


def test_without_local_the_commands_ask_the_server_for_the_keys_project(data: Path, capsys,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    key = in_process(capsys, "keys", "create", "--project", "prj_cli")[1].strip()
    with serving(env=dict(os.environ)) as url:
        monkeypatch.setenv("MEDIAJET_API_URL", url)
        monkeypatch.setenv("MEDIAJET_API_KEY", key)

        code, out, err = in_process(capsys, "webhooks", "endpoints", "create", "--url", HOOK, "--topics", "*")
        assert code == 0, err
        [endpoint] = lines(out)
        local = in_process(capsys, "webhooks", "endpoints", "list", "--local", "--project", "prj_cli")[1]
        assert lines(local) == [endpoint], "the server's project, in the same data directory"
        assert lines(in_process(capsys, "webhooks", "endpoints", "list")[1]) == [endpoint]

        secret = in_process(capsys, "webhooks", "secret", "--tty")[1].strip()
        assert secret == in_process(capsys, "webhooks", "secret", "--local", "--project", "prj_cli", "--tty")[1].strip()
        assert in_process(capsys, "events")[1] == ""

        code, out, err = in_process(capsys, "webhooks", "endpoints", "create", "--url", HOOK, "--topics", "nope")
        assert code == 2 and json.loads(err)["kind"] == "invalid_topic"
        code, out, err = in_process(capsys, "webhooks", "endpoints", "delete", endpoint["id"])
        assert code == 0 and lines(out) == [{"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}]
        assert in_process(capsys, "webhooks", "endpoints", "list")[1] == ""


def test_help_names_the_topics(tmp_path: Path) -> None:
    result = subprocess.run([*CLI, "webhooks", "endpoints", "--help"], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0 and "task.failed" in result.stdout and "--rotate" in result.stdout
