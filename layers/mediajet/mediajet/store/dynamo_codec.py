"""DynamoDB attribute values <-> JSON-shaped records.

Numbers: DynamoDB stores Decimal. Floats go in as Decimal(repr(f)) (the shortest string that reads
back as the same float) and come back as float, integral values as int. DynamoDB trims trailing
zeros, so a float with an integral value (1.0) in free-form options or metadata reads back as 1;
typed model fields are coerced back by pydantic.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cached_property
from typing import Any

from mediajet.store import dynamo_schema as schema

# Written next to a record's own fields (keys, index keys, TTL), left out when it is read back.
KEY_ATTRIBUTES = (schema.PARTITION_KEY, schema.SORT_KEY, schema.PROJECT_INDEX_PARTITION_KEY,
                  schema.PROJECT_INDEX_SORT_KEY, schema.OUTBOX_INDEX_PARTITION_KEY, schema.OUTBOX_INDEX_SORT_KEY,
                  schema.TTL_ATTRIBUTE)


def to_dynamo(value: Any) -> Any:
    """JSON-shaped data → what TypeSerializer accepts (floats as Decimal)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_dynamo(v) for v in value]
    return value


def from_dynamo(value: Any) -> Any:
    """TypeDeserializer output → JSON-shaped data (Decimal as int when integral, else float)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    return value



class ItemCodec:
    """boto3's (de)serializers, made on first use (boto3 is imported then, not at import time)."""

    @cached_property
    def _serializer(self) -> Any:
        from boto3.dynamodb.types import TypeSerializer

        return TypeSerializer()

    @cached_property
    def _deserializer(self) -> Any:
        from boto3.dynamodb.types import TypeDeserializer

        return TypeDeserializer()

    def item(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """Attributes (JSON-shaped) → a DynamoDB item."""
        return {name: self._serializer.serialize(to_dynamo(value)) for name, value in attributes.items()}

    def plain(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """A DynamoDB item → the record's fields (JSON-shaped), without the key attributes."""
        return {name: from_dynamo(self._deserializer.deserialize(value)) for name, value in item.items()
                if name not in KEY_ATTRIBUTES}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {schema.PARTITION_KEY: {"S": pk}, schema.SORT_KEY: {"S": sk}}


def item_id(item: Mapping[str, Any]) -> str:
    """The record's id, read without loading it (for the quarantine log)."""
    return str(item.get("id", {}).get("S") or item.get(schema.PARTITION_KEY, {}).get("S", "?"))


def item_project(item: Mapping[str, Any]) -> str | None:
    return item.get("project_id", {}).get("S")
