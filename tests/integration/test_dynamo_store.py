"""What only the DynamoDB store has to get right (the shared rules are in test_store_contract.py):
DynamoDB's own refusals (transaction conflicts, throttling) must not reach a client as a crash."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from mediajet.errors import TransientError
from mediajet.models.job import Job
from mediajet.store.base import JobQuery
from mediajet.store.dynamo import DynamoJobStore
from mediajet.store.dynamo_schema import create_table_kwargs

TABLE = "mediajet-dynamo"


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(**create_table_kwargs(TABLE))
        yield dynamodb


class Refusing:
    """Fails the first `times` calls of `operation` with `error`, then behaves like `client`."""

    def __init__(self, client: Any, operation: str, error: ClientError, times: int) -> None:
        self.client, self.operation, self.error, self.left = client, operation, error, times

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.client, name)
        if name != self.operation:
            return real

        def call(**kwargs: Any) -> Any:
            if self.left > 0:
                self.left -= 1
                raise self.error
            return real(**kwargs)

        return call


def error(code: str, status: int, operation: str, **extra: Any) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status},
                        **extra}, operation)


def test_a_transaction_conflict_is_retried_and_the_job_created_once(client: Any) -> None:
    conflict = error("TransactionCanceledException", 400, "TransactWriteItems",
                     CancellationReasons=[{"Code": "TransactionConflict"}, {"Code": "None"}])
    store = DynamoJobStore(TABLE, client=Refusing(client, "transact_write_items", conflict, times=2))

    job, created = store.create_job(Job(kind="video", input="https://media.example/a.mp4", project_id="prj"))

    assert created
    assert [j.id for j in store.list_jobs("prj", JobQuery()).items] == [job.id]


def test_throttling_that_outlasts_botocores_retries_is_transient(client: Any) -> None:
    throttled = error("ProvisionedThroughputExceededException", 400, "GetItem")
    store = DynamoJobStore(TABLE, client=Refusing(client, "get_item", throttled, times=1))

    with pytest.raises(TransientError) as caught:
        store.get_job("job_01anything00000000000000")
    assert caught.value.transient
