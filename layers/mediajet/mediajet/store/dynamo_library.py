"""The library store (store/library.py) on the DynamoDB single table (dynamo_schema.py).

| item       | pk               | sk      | gsi1pk                     | gsi1sk     |
|------------|------------------|---------|----------------------------|------------|
| file       | LIB#<file id>    | FILE    | LIB#file#<project>         | <file id>  |
| media      | LIB#<media id>   | MEDIA   | LIB#media#<project>        | <media id> |
| automation | LIB#<auto id>    | AUTO    | LIB#automation#<project>   | <auto id>  |

A deleted record is a tombstone item (same key, no index keys, `deleted`, TTL `expires_at`): see delete_record.

Access patterns: a record by id is one GetItem (the project is checked on the loaded record); a project's
list of one type, newest first, is one Query on the project index (ids sort in creation order), read until
the page is full. A media item's files are a Query on the project's file partition filtered on `media_id`:
it reads (and bills) all of the project's files, like `list_tasks`; a GSI on media_id is the next step when
libraries grow large.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from mediajet.errors import Conflict, StaleWrite
from mediajet.models.job import IdempotencyClaim
from mediajet.models.library import LibraryFile, LibraryRecord
from mediajet.store import dynamo_schema as schema
from mediajet.store.base import KEY_HELD_ELSEWHERE, IdempotencyKeyReused
from mediajet.store.dynamo_claims import DynamoClaims
from mediajet.store.dynamo_codec import item_id
from mediajet.store.dynamo_table import DynamoError, error_code
from mediajet.store.library import R, not_found

TOMBSTONE = "deleted"
TOMBSTONE_TTL_S = 24 * 3600


class DynamoLibrary(DynamoClaims):
    def _library_item(self, record: LibraryRecord) -> dict[str, Any]:
        return self._item({schema.PARTITION_KEY: schema.library_pk(record.id),
                           schema.SORT_KEY: schema.library_sk(record.record_type),
                           schema.PROJECT_INDEX_PARTITION_KEY: schema.library_list_pk(record.record_type,
                                                                                        record.project_id),
                           schema.PROJECT_INDEX_SORT_KEY: record.id, **record.model_dump(mode="json")})

    def _library_record(self, cls: type[R], item: Mapping[str, Any]) -> R | None:
        if TOMBSTONE in item:  # deleted (delete_record)
            return None
        return self._quarantine.load(cls.record_type, item_id(item), lambda: cls.model_validate(self._plain(item)))

    def create_record(self, record: R) -> R:
        stored = record.model_copy(update={"version": 1})
        try:
            self._call("put_item", Item=self._library_item(stored),
                       ConditionExpression=f"attribute_not_exists({schema.PARTITION_KEY})")
        except DynamoError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            raise Conflict(f"{stored.record_type} {stored.id} already exists") from None
        return stored

    def create_record_once(self, record: R, claim: IdempotencyClaim) -> tuple[R, bool]:
        """One transaction: the claim and the record, as a job's creation (dynamo_claims.py)."""
        stored = record.model_copy(update={"version": 1})

        def writes() -> list[dict[str, Any]]:
            put = {"TableName": self.table, "Item": self._library_item(stored),
                   "ConditionExpression": f"attribute_not_exists({schema.PARTITION_KEY})"}
            return [self._claim_write(claim), {"Put": put}]

        held = self._create(f"{stored.record_type} {stored.id}", writes, claim)
        if held is None:
            return stored, True
        item = self._get(schema.library_pk(held.resource_id), schema.library_sk(stored.record_type))
        found = None if item is None else self._library_record(type(record), item)
        if found is None or found.project_id != claim.project_id:
            raise IdempotencyKeyReused(KEY_HELD_ELSEWHERE)
        return found, False

    def get_record(self, cls: type[R], record_id: str, project_id: str | None) -> R:
        item = self._get(schema.library_pk(record_id), schema.library_sk(cls.record_type))
        record = None if item is None else self._library_record(cls, item)
        if record is None or (project_id is not None and record.project_id != project_id):
            raise not_found(cls.record_type, record_id)
        return record

    def save_record(self, record: R) -> R:
        saved = record.model_copy(update={"version": record.version + 1})
        written = self._put_versioned(self._library_item(saved), record.version)
        if written:
            return saved
        current = None if written is None else self._get(schema.library_pk(record.id),
                                                         schema.library_sk(record.record_type))
        if current is None or TOMBSTONE in current:  # absent, or deleted (a tombstone has no version)
            raise not_found(record.record_type, record.id)
        raise StaleWrite(f"{record.record_type} {record.id} changed since version {record.version} was read")

    def delete_record(self, cls: type[LibraryRecord], record_id: str, project_id: str) -> None:
        """A conditional Put of a tombstone over the record: the Lambdas' roles may Get, Put and Query, not
        DeleteItem (infra/access.py grants exactly what the code calls). The tombstone has no index keys, so it
        leaves every list at once; it reads as not found, and the table's TTL removes it within days."""
        tombstone = {schema.PARTITION_KEY: schema.library_pk(record_id),
                     schema.SORT_KEY: schema.library_sk(cls.record_type), "project_id": project_id,
                     TOMBSTONE: True, schema.TTL_ATTRIBUTE: int(time.time()) + TOMBSTONE_TTL_S}
        try:
            self._call("put_item", Item=self._item(tombstone),
                       ConditionExpression="#project = :project AND attribute_not_exists(#gone)",
                       ExpressionAttributeNames={"#project": "project_id", "#gone": TOMBSTONE},
                       ExpressionAttributeValues={":project": {"S": project_id}})
        except DynamoError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            raise not_found(cls.record_type, record_id) from None

    def list_records(self, cls: type[R], project_id: str, page: int, limit: int) -> list[R]:
        wanted = page * limit
        found = self._query_library(cls, project_id, wanted, forward=False)
        return found[(page - 1) * limit:wanted]

    def media_files(self, project_id: str, media_id: str) -> list[LibraryFile]:
        return self._query_library(LibraryFile, project_id, None, forward=True,
                                   filters=("#media = :media", {"#media": "media_id"}, {":media": {"S": media_id}}))

    def _query_library(self, cls: type[R], project_id: str, wanted: int | None, *, forward: bool,
                       filters: tuple[str, dict[str, str], dict[str, Any]] | None = None) -> list[R]:
        kwargs: dict[str, Any] = {
            "IndexName": schema.PROJECT_INDEX, "KeyConditionExpression": "#pk = :pk", "ScanIndexForward": forward,
            "ExpressionAttributeNames": {"#pk": schema.PROJECT_INDEX_PARTITION_KEY},
            "ExpressionAttributeValues": {":pk": {"S": schema.library_list_pk(cls.record_type, project_id)}}}
        if filters is not None:
            kwargs["FilterExpression"] = filters[0]
            kwargs["ExpressionAttributeNames"].update(filters[1])
            kwargs["ExpressionAttributeValues"].update(filters[2])
        found: list[R] = []
        while wanted is None or len(found) < wanted:
            if wanted is not None:
                kwargs["Limit"] = wanted - len(found)
            page = self._call("query", **kwargs)
            found.extend(filter(None, (self._library_record(cls, item) for item in page.get("Items", []))))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found
