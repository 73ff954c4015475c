"""The DynamoDB table under DynamoJobStore: API calls (throttling as TransientError), conditional puts,
scans, and records loaded from items (an item that does not load is quarantined, store.base)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mediajet.errors import TransientError
from mediajet.models.job import Job, Task
from mediajet.store.base import Quarantine
from mediajet.store.dynamo_codec import ItemCodec, item_id, key

# Throttling and service-side failures: worth a retry by the pipeline after botocore's own retries.
TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "LimitExceededException",
})


class DynamoTable:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table = table_name
        self.client = client
        self._quarantine = Quarantine()
        self._codec = ItemCodec()

    @property
    def quarantined(self) -> frozenset[str]:
        """Ids of the records this process found unreadable (and logged)."""
        return self._quarantine.ids

    # --- (de)serialization ------------------------------------------------------------------------

    def _item(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        return self._codec.item(attributes)

    def _plain(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return self._codec.plain(item)

    def _job(self, item: Mapping[str, Any]) -> Job | None:
        return self._quarantine.load("job", item_id(item), lambda: Job.model_validate(self._plain(item)))

    def _task(self, item: Mapping[str, Any]) -> Task | None:
        return self._quarantine.load("task", item_id(item), lambda: Task.model_validate(self._plain(item)))

    @staticmethod
    def _key(pk: str, sk: str) -> dict[str, Any]:
        return key(pk, sk)

    # --- calls ------------------------------------------------------------------------------------

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        return self._request(operation, TableName=self.table, **kwargs)

    def _request(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One API call; throttling and 5xx (after botocore's own retries) become TransientError."""
        from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            code = error_code(exc)
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in TRANSIENT_CODES or status >= 500:
                raise TransientError(f"DynamoDB {operation} failed: {code}") from exc
            raise
        except (ConnectionError, HTTPClientError) as exc:
            raise TransientError(f"DynamoDB {operation} failed: {exc}") from exc

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        # Strongly consistent: read-modify-write loops must see the last write, or they spin on StaleWrite.
        return self._call("get_item", Key=self._key(pk, sk), ConsistentRead=True).get("Item")

    def _put_versioned(self, item: dict[str, Any], expected_version: int) -> bool | None:
        """Conditional put: True when written, False when another version is stored, None when absent."""
        from botocore.exceptions import ClientError

        try:
            self._call("put_item", Item=item, ConditionExpression="#version = :expected",
                       ExpressionAttributeNames={"#version": "version"},
                       ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False if exc.response.get("Item") else None
        return True

    def _scan(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self._call("scan", **kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]



def error_code(exc: Any) -> str:
    """A botocore ClientError's error code."""
    return exc.response.get("Error", {}).get("Code", "")
