"""The JobStore contract, run against both implementations: SQLite (embedded) and DynamoDB (moto), the
latter through boto3 and through the client the Lambda functions use (aws/json_client.py, moto's server).

What a client sees depends on these rules: a job reads back as written, concurrent writers never
lose each other's updates, lists page without gaps or repeats in either direction, one project never
sees another's jobs, and an Idempotency-Key creates exactly one job (or standalone task) however the
retries race. Standalone tasks list by page number with a total, in each sort and order, filtered by kind
and by any of several statuses, a project's own and never a job's.
"""

from __future__ import annotations

import inspect
import itertools
import json
import threading
import typing
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from mediajet.errors import JobNotFound, StaleWrite, TaskNotFound
from mediajet.ids import now_ms
from mediajet.models.job import ErrorInfo, IdempotencyClaim, Job, Task
from mediajet.store import dynamo
from mediajet.store.base import (
    IDEMPOTENCY_TTL_MS,
    IdempotencyKeyReused,
    JobQuery,
    JobStore,
    TaskQuery,
    transition,
)
from mediajet.store.dynamo import DynamoJobStore
from mediajet.store.dynamo_schema import create_table_kwargs
from mediajet.store.sqlite import SqliteJobStore
from tests.moto_server import moto_server

PROJECT = "prj_alpha"
OTHER = "prj_beta"
_tables = itertools.count()


class SerializedClient:
    """moto interleaves concurrent requests (a transaction's condition check and its write can straddle
    another thread's write), while DynamoDB executes each request atomically. One lock per request
    restores that, so the races these tests provoke are the store's, not moto's."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return call


@pytest.fixture(scope="module")
def dynamodb_client() -> Iterator[Any]:
    """One moto mock for the module (starting one costs more than most tests); each test gets a table."""
    import boto3
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as env, mock_aws():
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        yield SerializedClient(boto3.client("dynamodb", region_name="us-east-1"))


@pytest.fixture(scope="module")
def dynamodb_http_client() -> Iterator[Any]:
    """The client the Lambda functions use (aws/json_client.py: signed JSON over HTTP), against moto's server."""
    from mediajet.aws.json_client import JsonClient
    from mediajet.aws.sigv4 import Credentials

    with moto_server() as url:
        yield SerializedClient(JsonClient("dynamodb", "us-east-1", Credentials("testing", "testing"), url))


@pytest.fixture(params=["sqlite", "dynamodb", "dynamodb-http"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[JobStore]:
    if request.param == "sqlite":
        sqlite_store = SqliteJobStore(tmp_path / "jobs.db")
        yield sqlite_store
        sqlite_store.close()
        return
    client = request.getfixturevalue("dynamodb_client" if request.param == "dynamodb" else "dynamodb_http_client")
    table = f"mediajet-{next(_tables)}"
    client.create_table(**create_table_kwargs(table))
    yield DynamoJobStore(table, client=client)
    client.delete_table(TableName=table)


def new_job(project: str = PROJECT, *, kind: str = "video", status: str = "queued", input: str = "https://media.example/in.mp4",
            **fields: Any) -> Job:
    job = Job(kind=kind, input=input, status=status, project_id=project, **fields)  # type: ignore[arg-type]
    job.tasks = [Task(kind=k, project_id=project, job_id=job.id, created_at=job.created_at,  # type: ignore[arg-type]
                      updated_at=job.created_at) for k in ("probe", "import", kind, "export")]
    return job


def claim_for(job: Job | Task, key: str, *, body_hash: str = "body-1", created_at: int | None = None) -> IdempotencyClaim:
    return IdempotencyClaim(project_id=job.project_id, key=key, body_hash=body_hash, resource_id=job.id,
                            created_at=created_at if created_at is not None else now_ms())


def everything(job: Job) -> str:
    """The job as stored, wire and internal fields, as exact JSON text (so 0.1 vs 0.1000001 would show)."""
    return json.dumps(job.to_record(), sort_keys=True)


# --- jobs: round trip, scoping ---------------------------------------------------------------------


def test_a_created_job_reads_back_with_every_field(store: JobStore) -> None:
    job = new_job(
        options={"width": 1280, "height": "50%", "fps": 29.97, "start": 0.5, "codec": "h264", "flags": [True, None]},
        metadata={"customer": {"id": 12345678901234, "tags": ["a", "b"], "score": 0.1}, "empty": {}, "blank": ""},
        destination="s3://bucket/out/{id}.mp4", webhook_url="https://hooks.example/mj", connection_id="conn_1",
    )
    job.tasks[0].output = {"object": "file", "kind": "video", "duration": 10.04, "width": 320, "codecs": {"video": "h264"}}
    job.tasks[0].input = {"object": "external_file", "url": job.input}
    job.tasks[1].error = ErrorInfo(kind="input_unreachable", message="503 from origin", task="import")
    job.tasks[2].progress = 42

    created, was_created = store.create_job(job)
    got = store.get_job(job.id)

    assert was_created and created.version == 1 and got.version == 1
    assert everything(got) == everything(job.model_copy(update={"version": 1}))
    assert got.model_dump(mode="json") == job.model_dump(mode="json")  # the wire view
    assert (got.destination, got.webhook_url, got.connection_id, got.project_id) == (
        "s3://bucket/out/{id}.mp4", "https://hooks.example/mj", "conn_1", PROJECT)
    assert [t.job_id for t in got.tasks] == [job.id] * 4


def test_unknown_job_is_job_not_found(store: JobStore) -> None:
    with pytest.raises(JobNotFound) as caught:
        store.get_job("job_01doesnotexist0000000000")
    assert caught.value.kind == "job_not_found" and caught.value.status == 404


def test_another_projects_job_is_not_found_and_not_listed(store: JobStore) -> None:
    mine, theirs = new_job(PROJECT), new_job(OTHER)
    store.create_job(mine)
    store.create_job(theirs)

    with pytest.raises(JobNotFound):
        store.get_job(theirs.id, PROJECT)
    assert store.get_job(theirs.id, OTHER).id == theirs.id
    assert store.get_job(theirs.id).id == theirs.id  # no project given: internal callers (the pipeline)
    assert [j.id for j in store.list_jobs(PROJECT, JobQuery()).items] == [mine.id]
    with pytest.raises(TaskNotFound):
        store.get_task(theirs.tasks[0].id, PROJECT)


# --- conditional writes ----------------------------------------------------------------------------


def test_saving_a_job_persists_the_change_and_bumps_the_version(store: JobStore) -> None:
    job, _ = store.create_job(new_job())
    job.status, job.started_at = "processing", now_ms()
    job.tasks[0].status = "processing"

    saved = store.save_job(job)
    got = store.get_job(job.id)

    assert saved.version == got.version == 2
    assert got.status == "processing" and got.tasks[0].status == "processing"
    assert got.started_at == job.started_at


def test_two_writers_from_one_version_only_one_wins(store: JobStore) -> None:
    job, _ = store.create_job(new_job())
    canceller, worker = store.get_job(job.id), store.get_job(job.id)

    canceller.status = "cancelled"
    store.save_job(canceller)
    worker.status = "processing"
    with pytest.raises(StaleWrite):
        store.save_job(worker)

    assert store.get_job(job.id).status == "cancelled"


def test_saving_a_job_that_was_never_created_is_job_not_found(store: JobStore) -> None:
    with pytest.raises(JobNotFound):
        store.save_job(new_job().model_copy(update={"version": 1}))


def test_transition_loses_no_update_under_concurrent_writers(store: JobStore) -> None:
    job, _ = store.create_job(new_job())

    def bump(j: Job) -> Job:
        j.metadata["count"] = j.metadata.get("count", 0) + 1
        return j

    def writer() -> None:
        for _ in range(5):
            transition(store, job.id, bump, attempts=200)

    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(writer) for _ in range(4)]:
            future.result()

    got = store.get_job(job.id)
    assert got.metadata["count"] == 20
    assert got.version == 21


def test_transition_that_no_longer_applies_leaves_the_job_alone(store: JobStore) -> None:
    job, _ = store.create_job(new_job(status="succeeded"))

    result = transition(store, job.id, lambda j: None if j.is_final else j)

    assert result.version == 1 and store.get_job(job.id).version == 1


# --- listing ---------------------------------------------------------------------------------------


@pytest.fixture
def five(store: JobStore) -> list[str]:
    """Five jobs in creation order (ids 0..4), with another project's jobs created in between."""
    ids = []
    for n in range(5):
        ids.append(store.create_job(new_job(input=f"https://media.example/{n}.mp4"))[0].id)
        store.create_job(new_job(OTHER))
    return ids


@pytest.mark.parametrize(("query", "expected", "has_more"), [
    ({}, [4, 3, 2, 1, 0], False),
    ({"limit": 2}, [4, 3], True),
    ({"limit": 2, "after": 3}, [2, 1], True),
    ({"limit": 2, "after": 1}, [0], False),
    ({"limit": 2, "before": 2}, [4, 3], False),
    ({"limit": 2, "before": 0}, [2, 1], True),
    ({"order": "asc", "limit": 2}, [0, 1], True),
    ({"order": "asc", "limit": 2, "after": 1}, [2, 3], True),
    ({"order": "asc", "limit": 2, "after": 2}, [3, 4], False),
    ({"order": "asc", "limit": 2, "before": 3}, [1, 2], True),
    ({"order": "asc", "limit": 2, "before": 1}, [0], False),
    ({"order": "asc", "after": 0, "before": 4}, [1, 2, 3], False),
    ({"order": "desc", "after": 4, "before": 0}, [3, 2, 1], False),
    ({"order": "asc", "after": 3, "before": 1}, [], False),
])
def test_list_pages_by_cursor_in_both_orders(store: JobStore, five: list[str], query: dict[str, Any],
                                             expected: list[int], has_more: bool) -> None:
    resolved = {k: five[v] if k in ("after", "before") else v for k, v in query.items()}
    page = store.list_jobs(PROJECT, JobQuery(**resolved))
    assert [five.index(j.id) for j in page.items] == expected
    assert page.has_more is has_more


def test_following_cursors_visits_every_job_once(store: JobStore, five: list[str]) -> None:
    seen, after = [], None
    while True:
        page = store.list_jobs(PROJECT, JobQuery(limit=2, after=after))
        seen += [j.id for j in page.items]
        if not page.has_more:
            break
        after = page.items[-1].id
    assert seen == five[::-1]


def test_an_empty_project_lists_nothing(store: JobStore) -> None:
    page = store.list_jobs("prj_empty", JobQuery())
    assert page.items == [] and page.has_more is False


@pytest.fixture
def mixed(store: JobStore) -> list[Job]:
    specs = [("video", "failed", "a"), ("audio", "succeeded", "b"), ("video", "succeeded", "a"),
             ("image", "failed", "c"), ("video", "failed", "b"), ("video", "queued", "a"), ("audio", "failed", "a")]
    return [store.create_job(new_job(kind=kind, status=status, input=f"https://media.example/{name}.mp4"))[0]
            for kind, status, name in specs]


@pytest.mark.parametrize(("filters", "expected", "has_more"), [
    ({"kind": "video"}, [5, 4], True),
    ({"status": "failed"}, [6, 4], True),
    ({"kind": "video", "status": "failed"}, [4, 0], False),
    ({"input": "https://media.example/a.mp4"}, [6, 5], True),
    ({"input": "https://media.example/c.mp4", "kind": "image"}, [3], False),
    ({"kind": "adaptive_video"}, [], False),
])
def test_filters_fill_the_page_even_when_matches_are_sparse(
    store: JobStore, mixed: list[Job], monkeypatch: pytest.MonkeyPatch, filters: dict[str, str],
    expected: list[int], has_more: bool,
) -> None:
    monkeypatch.setattr(dynamo, "FILTERED_PAGE_SIZE", 2)  # DynamoDB: make filtered reads span several pages
    page = store.list_jobs(PROJECT, JobQuery(limit=2, **filters))
    assert [mixed.index(j) for j in page.items] == expected
    assert page.has_more is has_more


def test_filters_combine_with_cursors(store: JobStore, mixed: list[Job]) -> None:
    page = store.list_jobs(PROJECT, JobQuery(status="failed", order="asc", after=mixed[0].id, limit=2))
    assert [mixed.index(j) for j in page.items] == [3, 4] and page.has_more is True


# --- idempotency -----------------------------------------------------------------------------------


def test_same_idempotency_key_returns_the_first_job_and_creates_nothing(store: JobStore) -> None:
    first = new_job()
    created, was_created = store.create_job(first, claim_for(first, "retry-1"))
    retry = new_job()
    again, created_again = store.create_job(retry, claim_for(retry, "retry-1", body_hash="body-2"))

    assert was_created and not created_again
    assert again.id == created.id
    assert [j.id for j in store.list_jobs(PROJECT, JobQuery()).items] == [first.id]
    with pytest.raises(JobNotFound):
        store.get_job(retry.id)
    claim = store.get_claim(PROJECT, "retry-1")
    assert claim is not None and (claim.body_hash, claim.resource_id) == ("body-1", first.id)


def test_idempotency_keys_are_per_project(store: JobStore) -> None:
    mine, theirs = new_job(PROJECT), new_job(OTHER)
    assert store.create_job(mine, claim_for(mine, "k"))[1]
    assert store.create_job(theirs, claim_for(theirs, "k"))[1]
    assert store.get_claim(OTHER, "k").resource_id == theirs.id  # type: ignore[union-attr]


def test_a_claim_older_than_a_day_is_replaced(store: JobStore) -> None:
    old = new_job()
    store.create_job(old, claim_for(old, "daily", created_at=now_ms() - IDEMPOTENCY_TTL_MS - 60_000))
    assert store.get_claim(PROJECT, "daily") is None

    fresh = new_job()
    stored, created = store.create_job(fresh, claim_for(fresh, "daily", body_hash="body-2"))

    assert created and stored.id == fresh.id
    claim = store.get_claim(PROJECT, "daily")
    assert claim is not None and (claim.resource_id, claim.body_hash) == (fresh.id, "body-2")
    assert store.get_job(old.id).id == old.id  # the old job itself stays


def test_concurrent_creates_with_one_key_create_one_job(store: JobStore) -> None:
    barrier = threading.Barrier(8)

    def attempt(_: int) -> tuple[str, bool]:
        job = new_job()
        barrier.wait()
        stored, created = store.create_job(job, claim_for(job, "race"))
        return stored.id, created

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))

    assert sum(created for _, created in results) == 1
    assert len({job_id for job_id, _ in results}) == 1
    assert len(store.list_jobs(PROJECT, JobQuery()).items) == 1


# --- tasks -----------------------------------------------------------------------------------------


def new_task(project: str = PROJECT, *, kind: str = "probe", **fields: Any) -> Task:
    return Task(kind=kind, input={"object": "external_file", "url": "https://media.example/in.mp4"},  # type: ignore[arg-type]
                project_id=project, **fields)


def test_a_standalone_task_reads_back_and_saves_conditionally(store: JobStore) -> None:
    task, _ = store.create_task(new_task(options={"fps": 23.976}))
    assert task.version == 1
    got = store.get_task(task.id, PROJECT)
    assert got == task and got.job_id is None

    got.status, got.output = "succeeded", {"object": "file", "duration": 1.5}
    saved = store.save_task(got)
    stale = task.model_copy(update={"status": "failed"})

    with pytest.raises(StaleWrite):
        store.save_task(stale)
    assert saved.version == 2
    assert store.get_task(task.id).output == {"object": "file", "duration": 1.5}


def test_a_job_task_is_found_by_its_id_with_its_current_state(store: JobStore) -> None:
    job, _ = store.create_job(new_job())
    job.tasks[2].status, job.tasks[2].progress = "processing", 55
    store.save_job(job)

    task = store.get_task(job.tasks[2].id, PROJECT)

    assert (task.kind, task.status, task.progress, task.job_id) == ("video", "processing", 55, job.id)


def test_unknown_tasks_are_task_not_found(store: JobStore) -> None:
    with pytest.raises(TaskNotFound) as caught:
        store.get_task("task_01doesnotexist000000000")
    assert caught.value.kind == "task_not_found"
    with pytest.raises(TaskNotFound):
        store.save_task(new_task().model_copy(update={"version": 1}))
    theirs, _ = store.create_task(new_task(OTHER))
    with pytest.raises(TaskNotFound):
        store.get_task(theirs.id, PROJECT)



def test_a_task_with_an_idempotency_key_is_created_once(store: JobStore) -> None:
    first = new_task()
    created, was_created = store.create_task(first, claim_for(first, "task-retry"))
    retry = new_task()
    again, created_again = store.create_task(retry, claim_for(retry, "task-retry", body_hash="body-2"))

    assert was_created and not created_again
    assert again == created and created.version == 1
    assert [t.id for t in store.list_tasks(PROJECT, TaskQuery()).items] == [first.id]
    with pytest.raises(TaskNotFound):
        store.get_task(retry.id)
    claim = store.get_claim(PROJECT, "task-retry")
    assert claim is not None and (claim.body_hash, claim.resource_id) == ("body-1", first.id)


def test_an_expired_task_claim_is_replaced(store: JobStore) -> None:
    old = new_task()
    store.create_task(old, claim_for(old, "daily-task", created_at=now_ms() - IDEMPOTENCY_TTL_MS - 60_000))
    fresh = new_task()
    stored, created = store.create_task(fresh, claim_for(fresh, "daily-task"))
    assert created and stored.id == fresh.id
    assert store.get_claim(PROJECT, "daily-task").resource_id == fresh.id  # type: ignore[union-attr]


def test_concurrent_task_creates_with_one_key_create_one_task(store: JobStore) -> None:
    barrier = threading.Barrier(8)

    def attempt(_: int) -> tuple[str, bool]:
        task = new_task()
        barrier.wait()
        stored, created = store.create_task(task, claim_for(task, "task-race"))
        return stored.id, created

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))

    assert sum(created for _, created in results) == 1
    assert len({task_id for task_id, _ in results}) == 1
    assert store.list_tasks(PROJECT, TaskQuery()).total == 1


def test_a_key_held_by_a_job_is_no_key_for_a_task_nor_the_reverse(store: JobStore) -> None:
    job = new_job()
    store.create_job(job, claim_for(job, "for-a-job"))
    task = new_task()
    with pytest.raises(IdempotencyKeyReused) as caught:
        store.create_task(task, claim_for(task, "for-a-job"))
    assert (caught.value.status, caught.value.kind) == (409, "idempotency_key_reused")
    assert store.list_tasks(PROJECT, TaskQuery()).total == 0

    held = new_task()
    store.create_task(held, claim_for(held, "for-a-task"))
    other = new_job()
    with pytest.raises(IdempotencyKeyReused):
        store.create_job(other, claim_for(other, "for-a-task"))
    assert [j.id for j in store.list_jobs(PROJECT, JobQuery()).items] == [job.id]


# --- listing standalone tasks (page-based) ---------------------------------------------------------


@pytest.fixture
def listed(store: JobStore) -> list[Task]:
    """Seven standalone tasks of PROJECT in creation order (indexes 0..6), with `updated_at` and output
    filesizes in other orders, and ties; another project's tasks and a job's tasks in between."""
    specs = [  # kind, status, updated_at, output filesize (None: no output)
        ("probe", "succeeded", 5_000, 300),
        ("video", "failed", 2_000, None),
        ("import", "succeeded", 7_000, 100),
        ("video", "succeeded", 2_000, 900),
        ("export", "waiting", 1_000, None),
        ("video", "processing", 9_000, 100),
        ("audio", "cancelled", 3_000, 50),
    ]
    tasks = []
    for n, (kind, status, updated, size) in enumerate(specs):
        output = None if size is None else {"object": "file", "url": f"file:///data/files/{n}.mp4", "filesize": size}
        tasks.append(store.create_task(new_task(kind=kind, status=status, updated_at=updated, created_at=1_000 + n,
                                                output=output))[0])
        store.create_task(new_task(OTHER, kind=kind, status=status))
        if n % 3 == 0:
            store.create_job(new_job(kind="video", status="queued"))  # its four tasks: never listed
    return tasks


def listed_indexes(store: JobStore, tasks: list[Task], **query: Any) -> tuple[list[int], int]:
    page = store.list_tasks(PROJECT, TaskQuery(**query))
    ids = [t.id for t in tasks]
    return [ids.index(t.id) for t in page.items], page.total


@pytest.mark.parametrize(("query", "expected", "total"), [
    ({}, [6, 5, 4, 3, 2, 1, 0], 7),  # newest first by default
    ({"order": "asc"}, [0, 1, 2, 3, 4, 5, 6], 7),
    ({"limit": 3}, [6, 5, 4], 7),
    ({"limit": 3, "page": 2}, [3, 2, 1], 7),
    ({"limit": 3, "page": 3}, [0], 7),
    ({"limit": 3, "page": 4}, [], 7),  # past the end: empty, the total still told
    ({"limit": 3, "page": 2, "order": "asc"}, [3, 4, 5], 7),
    ({"limit": 100, "page": 1}, [6, 5, 4, 3, 2, 1, 0], 7),
])
def test_task_pages_by_number_with_the_total(store: JobStore, listed: list[Task], query: dict[str, Any],
                                             expected: list[int], total: int) -> None:
    assert listed_indexes(store, listed, **query) == (expected, total)


@pytest.mark.parametrize(("sort", "order", "expected"), [
    ("created", "asc", [0, 1, 2, 3, 4, 5, 6]),
    ("created", "desc", [6, 5, 4, 3, 2, 1, 0]),
    # updated_at 5000, 2000, 7000, 2000, 1000, 9000, 3000: the tie (1 and 3) goes by creation, same direction
    ("updated", "asc", [4, 1, 3, 6, 0, 2, 5]),
    ("updated", "desc", [5, 2, 0, 6, 3, 1, 4]),
    # filesize 300, -, 100, 900, -, 100, 50: no output sorts as smallest (SQLite's NULL), ties by creation
    ("filesize", "asc", [1, 4, 6, 2, 5, 0, 3]),
    ("filesize", "desc", [3, 0, 5, 2, 6, 4, 1]),
])
def test_tasks_sort_by_created_updated_and_filesize_both_ways(store: JobStore, listed: list[Task], sort: str,
                                                              order: str, expected: list[int]) -> None:
    assert listed_indexes(store, listed, sort=sort, order=order) == (expected, 7)


def test_sorted_pages_follow_on_without_gaps_or_repeats(store: JobStore, listed: list[Task]) -> None:
    whole, _ = listed_indexes(store, listed, sort="filesize", order="desc")
    paged = [i for n in (1, 2, 3) for i in listed_indexes(store, listed, sort="filesize", order="desc", limit=3,
                                                           page=n)[0]]
    assert paged == whole


@pytest.mark.parametrize(("filters", "expected", "total"), [
    ({"kind": "video"}, [5, 3, 1], 3),
    ({"kind": "import"}, [2], 1),  # the engine's kind names (each wire format translates its own first)
    ({"kind": "animation"}, [], 0),
    ({"status": ("succeeded",)}, [3, 2, 0], 3),
    ({"status": ("failed", "cancelled")}, [6, 1], 2),
    ({"status": ("waiting", "processing", "waiting")}, [5, 4], 2),
    ({"kind": "video", "status": ("succeeded", "failed")}, [3, 1], 2),
    ({"kind": "video", "status": ("succeeded", "failed"), "limit": 1, "page": 2}, [1], 2),
    ({"kind": "audio", "status": ("succeeded",)}, [], 0),
])
def test_task_filters_by_kind_and_any_of_several_statuses(store: JobStore, listed: list[Task],
                                                         filters: dict[str, Any], expected: list[int],
                                                         total: int) -> None:
    assert listed_indexes(store, listed, **filters) == (expected, total)


def test_the_task_list_is_the_projects_standalone_tasks_only(store: JobStore, listed: list[Task]) -> None:
    page = store.list_tasks(PROJECT, TaskQuery(limit=100))
    assert {t.id for t in page.items} == {t.id for t in listed} and page.total == 7
    assert all(t.project_id == PROJECT and t.job_id is None for t in page.items)
    theirs = store.list_tasks(OTHER, TaskQuery(limit=100))
    assert theirs.total == 7 and all(t.project_id == OTHER for t in theirs.items)
    assert store.list_tasks("prj_empty", TaskQuery()) == store.list_tasks("prj_empty", TaskQuery(page=3))
    assert store.list_tasks("prj_empty", TaskQuery()).total == 0
    # the jobs list is not disturbed by the tasks beside it
    assert len(store.list_jobs(PROJECT, JobQuery(limit=100)).items) == 3


def test_listed_tasks_read_back_whole_and_follow_their_saves(store: JobStore, listed: list[Task]) -> None:
    first = store.list_tasks(PROJECT, TaskQuery(order="asc", limit=1)).items[0]
    assert first == listed[0]  # every field, the version included

    changed = store.get_task(listed[4].id)
    changed.status, changed.updated_at = "succeeded", 99_000
    store.save_task(changed)

    assert listed_indexes(store, listed, sort="updated", limit=1) == ([4], 7)
    assert listed_indexes(store, listed, status=("waiting",)) == ([], 0)
    assert listed_indexes(store, listed, status=("succeeded",))[1] == 4


def test_a_page_number_far_past_the_end_is_an_empty_page(store: JobStore, listed: list[Task]) -> None:
    # TaskQuery bounds `page` below only; a wire format passes the client's number through.
    page = store.list_tasks(PROJECT, TaskQuery(page=2**62, limit=100))
    assert page.items == [] and page.total == 7


def damage(store: JobStore, task: Task) -> None:
    """The task's stored record no longer loads (its kind is a number), as an old or hand-edited one might."""
    if isinstance(store, SqliteJobStore):
        with store._write() as conn:
            conn.execute("UPDATE tasks SET record = json_set(record, '$.kind', 7) WHERE id = ?", (task.id,))
        return
    assert isinstance(store, DynamoJobStore)
    key = {"pk": {"S": f"TASK#{task.id}"}, "sk": {"S": "TASK"}}
    item = store.client.get_item(TableName=store.table, Key=key)["Item"]
    store.client.put_item(TableName=store.table, Item={**item, "kind": {"N": "7"}})


def test_a_quarantined_task_is_neither_listed_nor_counted(store: JobStore, listed: list[Task]) -> None:
    damage(store, listed[2])
    page = store.list_tasks(PROJECT, TaskQuery(limit=100))
    assert listed[2].id not in {t.id for t in page.items} and len(page.items) == 6
    assert page.total == 6  # the pages hold 6 tasks: a total of 7 would promise one that never comes


def test_dynamodb_indexes_standalone_tasks_written_before_the_list_existed(dynamodb_client: Any) -> None:
    """DynamoDB only: items from before `list_tasks` have no index key; the operator's backfill adds it."""
    table = f"mediajet-{next(_tables)}"
    dynamodb_client.create_table(**create_table_kwargs(table))
    try:
        store = DynamoJobStore(table, client=dynamodb_client)
        old, _ = store.create_task(new_task())
        new, _ = store.create_task(new_task())
        dynamodb_client.update_item(TableName=table, Key={"pk": {"S": f"TASK#{old.id}"}, "sk": {"S": "TASK"}},
                                    UpdateExpression="REMOVE gsi1pk, gsi1sk")  # as written before
        assert [t.id for t in store.list_tasks(PROJECT, TaskQuery()).items] == [new.id]

        assert store.index_standalone_tasks() == 1
        assert store.index_standalone_tasks() == 0
        assert [t.id for t in store.list_tasks(PROJECT, TaskQuery()).items] == [new.id, old.id]
        assert store.get_task(old.id) == old  # the same record, the same version
    finally:
        dynamodb_client.delete_table(TableName=table)


# --- resume after restart --------------------------------------------------------------------------


def test_active_jobs_and_tasks_are_the_unfinished_ones_oldest_first(store: JobStore) -> None:
    statuses = ["queued", "succeeded", "processing", "failed", "queued", "cancelled"]
    jobs = [store.create_job(new_job(PROJECT if n % 2 else OTHER, status=s))[0] for n, s in enumerate(statuses)]
    tasks = [store.create_task(new_task(status=s))[0] for s in ("waiting", "succeeded", "processing", "failed")]

    assert [j.id for j in store.active_jobs()] == [jobs[0].id, jobs[2].id, jobs[4].id]
    assert [t.id for t in store.active_tasks()] == [tasks[0].id, tasks[2].id]

    finished = store.get_job(jobs[0].id)
    finished.status = "succeeded"
    store.save_job(finished)
    assert [j.id for j in store.active_jobs()] == [jobs[2].id, jobs[4].id]


# --- API keys --------------------------------------------------------------------------------------


def test_api_keys_resolve_to_their_project(store: JobStore) -> None:
    store.add_api_key("a" * 64, PROJECT)
    store.add_api_key("b" * 64, OTHER)
    assert store.project_for_key("a" * 64) == PROJECT
    assert store.project_for_key("b" * 64) == OTHER
    assert store.project_for_key("c" * 64) is None


def test_both_stores_satisfy_the_protocol() -> None:
    """Same methods, same parameters (names, kinds, defaults) and the same resolved type hints, return
    included: a store that renamed a keyword or returned something else would break its callers."""
    implementations: list[Callable[..., JobStore]] = [SqliteJobStore, DynamoJobStore]
    protocol = [name for name in vars(JobStore) if not name.startswith("_")]
    assert {"create_job", "get_job", "save_job", "list_jobs", "project_for_key"} <= set(protocol)
    for name in protocol:
        wanted = inspect.signature(getattr(JobStore, name))
        hints = typing.get_type_hints(getattr(JobStore, name))
        assert "return" in hints, f"JobStore.{name} declares what it returns"
        for implementation in implementations:
            method = getattr(implementation, name, None)
            assert callable(method), f"{implementation.__name__}.{name} is missing"
            found = inspect.signature(method)
            assert [(p.name, p.kind, p.default) for p in found.parameters.values()] == \
                [(p.name, p.kind, p.default) for p in wanted.parameters.values()], \
                f"{implementation.__name__}.{name}{found} != JobStore.{name}{wanted}"
            assert typing.get_type_hints(method) == hints, f"{implementation.__name__}.{name}: type hints differ"
