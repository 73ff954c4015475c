"""Idempotency-Key claims and API keys on the DynamoDB table, and the creation transaction that takes a
claim together with what it creates (so two retries racing with one key still create one record)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mediajet.errors import Conflict, TransientError
from mediajet.ids import now_ms
from mediajet.models.job import IdempotencyClaim
from mediajet.store import dynamo_schema as schema
from mediajet.store.base import IDEMPOTENCY_TTL_MS
from mediajet.store.dynamo_table import DynamoError, DynamoTable, error_code

TRANSACTION_ATTEMPTS = 5


class DynamoClaims(DynamoTable):
    def _create(self, what: str, writes: Callable[[], list[dict[str, Any]]],
                claim: IdempotencyClaim | None) -> IdempotencyClaim | None:
        """Run the creation transaction `writes()` (the claim first, when there is one). Returns None when
        written, or the live claim that already holds the key (nothing written)."""
        for _ in range(TRANSACTION_ATTEMPTS):
            try:
                # TransactWriteItems has no TableName of its own: each write names the table.
                self._request("transact_write_items", TransactItems=writes())
                return None
            except DynamoError as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if claim is not None and reasons and reasons[0] == "ConditionalCheckFailed":
                    existing = self.get_claim(claim.project_id, claim.key)
                    if existing is not None:
                        return existing
                    continue  # the claim expired in between: try to take it again
                if "TransactionConflict" in reasons:
                    continue  # another transaction touched the same items: DynamoDB asks for a retry
                raise Conflict(f"{what} already exists") from exc
        raise TransientError(f"could not record {what}: kept conflicting with concurrent writes")

    def _claim_write(self, claim: IdempotencyClaim) -> dict[str, Any]:
        """The claim's Put, taken when absent or expired."""
        return {"Put": {
            "TableName": self.table, "Item": self._claim_item(claim),
            "ConditionExpression": f"attribute_not_exists({schema.PARTITION_KEY}) OR created_at <= :expired",
            "ExpressionAttributeValues": {":expired": {"N": str(now_ms() - IDEMPOTENCY_TTL_MS)}},
        }}

    # --- idempotency ------------------------------------------------------------------------------

    def _claim_item(self, claim: IdempotencyClaim) -> dict[str, Any]:
        return self._item({
            schema.PARTITION_KEY: schema.idempotency_pk(claim.project_id, claim.key),
            schema.SORT_KEY: schema.IDEMPOTENCY_SK,
            **claim.model_dump(),
            # DynamoDB's TTL deletes the record some time after this (epoch seconds); until then the
            # created_at checks below keep an expired claim from counting.
            schema.TTL_ATTRIBUTE: (claim.created_at + IDEMPOTENCY_TTL_MS) // 1000,
        })

    def get_claim(self, project_id: str, key: str) -> IdempotencyClaim | None:
        item = self._get(schema.idempotency_pk(project_id, key), schema.IDEMPOTENCY_SK)
        if item is None:
            return None
        claim = IdempotencyClaim.model_validate(self._plain(item))
        return claim if claim.created_at > now_ms() - IDEMPOTENCY_TTL_MS else None

    # --- API keys ---------------------------------------------------------------------------------

    def add_api_key(self, key_hash: str, project_id: str) -> None:
        self._call("put_item", Item=self._item({
            schema.PARTITION_KEY: schema.api_key_pk(key_hash), schema.SORT_KEY: schema.API_KEY_SK,
            "project_id": project_id, "created_at": now_ms(),
        }))

    def project_for_key(self, key_hash: str) -> str | None:
        item = self._get(schema.api_key_pk(key_hash), schema.API_KEY_SK)
        return None if item is None else item["project_id"]["S"]
