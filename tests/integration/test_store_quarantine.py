"""One bad record must not take the store down: a row that no longer loads (too deep for pydantic's JSON reader,
not JSON, not UTF-8, not a Job) is quarantined. Lists, restarts (`active_*`) and reads of every other record
keep working; the bad one reads as not found, is logged once with its id, and stays in the store.

The bad rows are written by raw SQL / raw PutItem: that is how a record written before request bodies were
bounded (a job whose metadata nested 200 levels deep was accepted, then every list answered 500 and the
server refused to start) looks to the store today."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mediajet.errors import JobNotFound, TaskNotFound
from mediajet.models.job import Job, Task, task_record
from mediajet.models.requests import with_pipeline_tasks
from mediajet.store.base import JobQuery, transition
from mediajet.store.sqlite import SqliteJobStore
from tests.unit.api_support import make_api

PROJECT = "prj_q"


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def good_job(project: str = PROJECT) -> Job:
    return with_pipeline_tasks(Job(kind="video", input="https://media.example/in.mp4", project_id=project))


def insert_job_row(db: Path, job_id: str, record: str | bytes, *, status: str = "queued", project: str = PROJECT,
                   task_ids: tuple[str, ...] = ()) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO jobs (id, project_id, kind, status, input, version, record) "
                     "VALUES (?, ?, 'video', ?, 'https://media.example/in.mp4', 1, ?)",
                     (job_id, project, status, record))
        conn.executemany("INSERT INTO job_tasks (task_id, job_id) VALUES (?, ?)", [(t, job_id) for t in task_ids])


def deep_job_record(depth: int = 200) -> tuple[Job, str]:
    """A job exactly as the old API stored it for `metadata: {"a": {"a": … 1}}`."""
    job = good_job()
    record = job.to_record() | {"version": 1, "metadata": nested(depth)}
    return job, json.dumps(record)


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Good jobs interleaved (by id) with bad rows of every kind, plus a good and a bad standalone task."""
    db = tmp_path / "jobs.db"
    store = SqliteJobStore(db)
    good: list[str] = []
    bad: dict[str, str] = {}
    bad_job_task = ""
    for shape in ("deep", "not json", "not utf-8", "not a job"):
        job, _ = store.create_job(good_job())
        good.append(job.id)
        broken, deep = deep_job_record()
        record: str | bytes = {"deep": deep, "not json": '{"id": "job_', "not utf-8": b'{"id": "\xff\xfe"}',
                               "not a job": json.dumps({"id": broken.id, "kind": "sculpture"})}[shape]
        insert_job_row(db, broken.id, record, status="processing" if shape == "not json" else "queued",
                       task_ids=tuple(t.id for t in broken.tasks))
        bad[shape] = broken.id
        bad_job_task = bad_job_task or broken.tasks[0].id
    good.append(store.create_job(good_job())[0].id)
    task, _ = store.create_task(Task(kind="probe", project_id=PROJECT, input={"url": "https://media.example/a.mp4"}))
    bad_task = Task(kind="probe", project_id=PROJECT)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO tasks (id, project_id, status, version, record) VALUES (?, ?, 'waiting', 1, ?)",
                     (bad_task.id, PROJECT, json.dumps(task_record(bad_task) | {"input": nested(200)})))
    store.close()
    restarted = SqliteJobStore(db)  # what a server restart does
    yield {"store": restarted, "db": db, "good": good, "bad": bad, "task": task.id, "bad_task": bad_task.id,
           "bad_job_task": bad_job_task}
    restarted.close()


def test_the_reported_record_really_is_unreadable_to_pydantic() -> None:
    _, record = deep_job_record()
    with pytest.raises(ValueError, match="recursion limit"):
        Job.model_validate_json(record)


def test_restart_resumes_every_good_job_and_task(sqlite_world: dict[str, Any]) -> None:
    store = sqlite_world["store"]
    assert [job.id for job in store.active_jobs()] == sqlite_world["good"]
    assert [task.id for task in store.active_tasks()] == [sqlite_world["task"]]
    assert store.quarantined == {*sqlite_world["bad"].values(), sqlite_world["bad_task"]}


def test_a_list_steps_over_bad_rows_and_keeps_pages_full(sqlite_world: dict[str, Any]) -> None:
    store, good = sqlite_world["store"], sqlite_world["good"]
    newest_first = list(reversed(good))
    assert [job.id for job in store.list_jobs(PROJECT, JobQuery()).items] == newest_first

    # Two good jobs per page although a bad row sits between each: no page ends early, has_more stays right.
    seen, after = [], None
    while True:
        page = store.list_jobs(PROJECT, JobQuery(limit=2, after=after))
        assert len(page.items) == 2 or not page.has_more
        seen += [job.id for job in page.items]
        if not page.has_more:
            break
        after = page.items[-1].id
    assert seen == newest_first

    back = store.list_jobs(PROJECT, JobQuery(limit=2, order="asc", before=good[-1]))
    assert [job.id for job in back.items] == good[-3:-1] and back.has_more


@pytest.mark.parametrize("shape", ["deep", "not json", "not utf-8", "not a job"])
def test_a_bad_job_reads_as_not_found_and_cannot_be_changed(sqlite_world: dict[str, Any], shape: str) -> None:
    store, job_id = sqlite_world["store"], sqlite_world["bad"][shape]
    with pytest.raises(JobNotFound, match="cannot be read"):
        store.get_job(job_id, PROJECT)
    with pytest.raises(JobNotFound):
        transition(store, job_id, lambda job: job)
    with pytest.raises(JobNotFound, match="No job"):  # another project learns nothing
        store.get_job(job_id, "prj_other")


def test_bad_tasks_read_as_not_found(sqlite_world: dict[str, Any]) -> None:
    store = sqlite_world["store"]
    with pytest.raises(TaskNotFound, match="cannot be read"):
        store.get_task(sqlite_world["bad_task"], PROJECT)
    with pytest.raises(TaskNotFound, match="cannot be read"):  # a task of a bad job
        store.get_task(sqlite_world["bad_job_task"], PROJECT)
    assert store.get_task(sqlite_world["task"], PROJECT).id == sqlite_world["task"]


def test_each_bad_record_is_logged_once_by_id_and_kept(sqlite_world: dict[str, Any],
                                                       caplog: pytest.LogCaptureFixture) -> None:
    store, bad = sqlite_world["store"], sqlite_world["bad"]
    with caplog.at_level(logging.ERROR, logger="mediajet.store"):
        for _ in range(3):
            store.active_jobs()
            store.list_jobs(PROJECT, JobQuery())
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    for job_id in bad.values():
        assert sum(job_id in message for message in logged) == 1, logged
    assert any("recursion limit" in message for message in logged)
    with sqlite3.connect(sqlite_world["db"]) as conn:  # set aside, not deleted: an operator can repair it
        assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == len(sqlite_world["good"]) + len(bad)


def test_the_api_answers_around_a_bad_record(tmp_path: Path) -> None:
    api = make_api(tmp_path)
    good = api.call("POST", "/jobs", {"input": "https://example.com/a.mp4", "kind": "video"}).body["id"]
    broken, record = deep_job_record()
    insert_job_row(tmp_path / "api.db", broken.id, record, project="prj_a", task_ids=(broken.tasks[0].id,))

    listing = api.call("GET", "/jobs")
    assert listing.status == 200 and [job["id"] for job in listing.body] == [good]
    for method, path in [("GET", f"/jobs/{broken.id}"), ("POST", f"/jobs/{broken.id}/cancel"),
                         ("GET", f"/tasks/{broken.tasks[0].id}")]:
        reply = api.call(method, path)
        assert reply.status == 404, (path, reply.text)
        assert reply.body["kind"] in ("job_not_found", "task_not_found") and "cannot be read" in reply.body["message"]
    assert api.call("GET", f"/jobs/{good}").status == 200


# --- DynamoDB: the same rules ----------------------------------------------------------------------------


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    from mediajet.store.dynamo import DynamoJobStore
    from mediajet.store.dynamo_schema import create_table_kwargs

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**create_table_kwargs("mediajet-quarantine"))
        yield DynamoJobStore("mediajet-quarantine", client)


def test_dynamo_steps_over_an_item_that_is_not_a_job(dynamo: Any) -> None:
    first, _ = dynamo.create_job(good_job())
    broken, _ = dynamo.create_job(good_job())
    item = dynamo._job_item(broken)
    item["kind"] = {"S": "sculpture"}  # changed by hand, or by a MediaJet with other kinds
    dynamo.client.put_item(TableName=dynamo.table, Item=item)
    last, _ = dynamo.create_job(good_job())
    bad_task = Task(kind="probe", project_id=PROJECT, input={"url": "https://media.example/a.mp4"})
    task_item = dynamo._task_item(bad_task.model_copy(update={"version": 1}))
    task_item["status"] = {"S": "waiting"}
    task_item["progress"] = {"S": "half"}
    dynamo.client.put_item(TableName=dynamo.table, Item=task_item)

    assert [job.id for job in dynamo.active_jobs()] == [first.id, last.id]
    assert dynamo.active_tasks() == []
    page = dynamo.list_jobs(PROJECT, JobQuery(limit=1))
    assert [job.id for job in page.items] == [last.id] and page.has_more
    page = dynamo.list_jobs(PROJECT, JobQuery(limit=1, after=last.id))
    assert [job.id for job in page.items] == [first.id] and not page.has_more
    with pytest.raises(JobNotFound, match="cannot be read"):
        dynamo.get_job(broken.id, PROJECT)
    with pytest.raises(TaskNotFound, match="cannot be read"):
        dynamo.get_task(broken.tasks[0].id, PROJECT)
    with pytest.raises(TaskNotFound, match="cannot be read"):
        dynamo.get_task(bad_task.id, PROJECT)
    with pytest.raises(JobNotFound, match="No job"):
        dynamo.get_job(broken.id, "prj_other")
    assert dynamo.quarantined == {broken.id, bad_task.id}
