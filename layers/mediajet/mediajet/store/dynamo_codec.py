"""DynamoDB attribute values <-> JSON-shaped records.

Numbers: DynamoDB stores Decimal. Floats go in as Decimal(repr(f)) (the shortest string that reads
back as the same float) and come back as float, integral values as int. DynamoDB trims trailing
zeros, so a float with an integral value (1.0) in free-form options or metadata reads back as 1;
typed model fields are coerced back by pydantic.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

from mediajet.store import dynamo_schema as schema

# Written next to a record's own fields (keys, index keys, TTL), left out when it is read back.
KEY_ATTRIBUTES = (schema.PARTITION_KEY, schema.SORT_KEY, schema.PROJECT_INDEX_PARTITION_KEY,
                  schema.PROJECT_INDEX_SORT_KEY, schema.OUTBOX_INDEX_PARTITION_KEY, schema.OUTBOX_INDEX_SORT_KEY,
                  schema.TTL_ATTRIBUTE)


# DynamoDB's numbers: 38 significant digits, exponents -130..125; anything it would round is refused
# (as boto3's TypeSerializer refuses it), never stored altered.
NUMBERS = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])


def attribute(value: Any) -> dict[str, Any]:
    """JSON-shaped data → a DynamoDB attribute value, as boto3's TypeSerializer writes it (floats are
    written as Decimal(repr(f)): the shortest string that reads back as the same float)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float, Decimal)):
        return {"N": _number(Decimal(repr(value)) if isinstance(value, float) else value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (bytes, bytearray)):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        return {"M": {str(k): attribute(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [attribute(v) for v in value]}
    raise TypeError(f"{type(value).__name__} cannot be stored in DynamoDB")


def plain_value(value: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value → JSON-shaped data (numbers as int when integral, else float)."""
    (kind, inner), = value.items()
    if kind == "N":
        number = NUMBERS.create_decimal(inner)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "M":
        return {k: plain_value(v) for k, v in inner.items()}
    if kind == "L":
        return [plain_value(v) for v in inner]
    if kind == "NULL":
        return None
    if kind == "NS":
        return [plain_value({"N": v}) for v in inner]
    if kind in ("SS", "BS"):
        return list(inner)
    if kind in ("S", "BOOL", "B"):
        return inner
    raise TypeError(f"unknown DynamoDB attribute type {kind}")


def _number(value: int | Decimal) -> str:
    text = str(NUMBERS.create_decimal(value))
    if text in ("Infinity", "-Infinity", "NaN", "sNaN", "-NaN"):
        raise TypeError(f"{text} cannot be stored in DynamoDB")
    return text


def to_item(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes (JSON-shaped) → a DynamoDB item."""
    return {name: attribute(value) for name, value in attributes.items()}


def to_record(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item → the record's fields (JSON-shaped), without the key attributes."""
    return {name: plain_value(value) for name, value in item.items() if name not in KEY_ATTRIBUTES}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {schema.PARTITION_KEY: {"S": pk}, schema.SORT_KEY: {"S": sk}}


def item_id(item: Mapping[str, Any]) -> str:
    """The record's id, read without loading it (for the quarantine log)."""
    return str(item.get("id", {}).get("S") or item.get(schema.PARTITION_KEY, {}).get("S", "?"))


def item_project(item: Mapping[str, Any]) -> str | None:
    return item.get("project_id", {}).get("S")
