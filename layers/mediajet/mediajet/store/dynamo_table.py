"""The DynamoDB table under DynamoJobStore: API calls (throttling as TransientError), conditional puts,
scans, and records loaded from items (an item that does not load is quarantined, store.base)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mediajet.errors import TransientError
from mediajet.models.job import Job, Task
from mediajet.store.base import Quarantine
from mediajet.store.dynamo_codec import item_id, key, to_item, to_record

# Throttling and service-side failures: worth a retry by the pipeline after botocore's own retries.
TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "LimitExceededException",
})


class DynamoError(Exception):
    """A DynamoDB refusal (a failed condition, a cancelled transaction, a validation error…) from whichever
    client made the call: botocore's ClientError or aws/json_client's AwsError, which share `response`."""

    def __init__(self, operation: str, response: dict[str, Any]) -> None:
        self.response = response
        error = response.get("Error", {})
        super().__init__(f"DynamoDB {operation} failed: {error.get('Code', '')}: {error.get('Message', '')}")


class DynamoTable:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table = table_name
        self.client = client
        self._quarantine = Quarantine()

    @property
    def quarantined(self) -> frozenset[str]:
        """Ids of the records this process found unreadable (and logged)."""
        return self._quarantine.ids

    # --- (de)serialization ------------------------------------------------------------------------

    def _item(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        return to_item(attributes)

    def _plain(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return to_record(item)

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
        """One API call (after the client's own retries): throttling, 5xx and a broken connection become
        TransientError, any other refusal DynamoError."""
        try:
            return getattr(self.client, operation)(**kwargs)
        except Exception as exc:
            response = getattr(exc, "response", None)
            if not isinstance(response, dict) or "Error" not in response:
                if isinstance(exc, OSError) or _is_botocore_connection_error(exc):
                    raise TransientError(f"DynamoDB {operation} failed: {exc}") from exc
                raise
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if error_code(exc) in TRANSIENT_CODES or status >= 500:
                raise TransientError(f"DynamoDB {operation} failed: {error_code(exc)}") from exc
            raise DynamoError(operation, response) from exc

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        # Strongly consistent: read-modify-write loops must see the last write, or they spin on StaleWrite.
        return self._call("get_item", Key=self._key(pk, sk), ConsistentRead=True).get("Item")

    def _put_versioned(self, item: dict[str, Any], expected_version: int) -> bool | None:
        """Conditional put: True when written, False when another version is stored, None when absent."""
        try:
            self._call("put_item", Item=item, ConditionExpression="#version = :expected",
                       ExpressionAttributeNames={"#version": "version"},
                       ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except DynamoError as exc:
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
    """The error code of a DynamoError (or of the client's error it came from)."""
    return exc.response.get("Error", {}).get("Code", "")


def _is_botocore_connection_error(exc: Exception) -> bool:
    if not type(exc).__module__.startswith("botocore"):
        return False  # botocore is not imported for a client that is not its own (aws/json_client.py)
    from botocore.exceptions import ConnectionError, HTTPClientError

    return isinstance(exc, (ConnectionError, HTTPClientError))
