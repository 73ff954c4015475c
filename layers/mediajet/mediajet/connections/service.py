"""Connections (spec §5.4): create, read, update, delete, as functions of the store, the cipher and pydantic
models; the routes (api/connections.py) only read the request and present the answer.

Rules:
- A connection belongs to one project: another project's id reads as `connection_not_found`.
- A connection is named by its id (`con_…`, or Ittybit's `conn_…` spelling of it) or by its name, which is
  unique in the project (the CLI's `--connection <name>`).
- One default per project: saving one with `is_default: true` unsets the others. A project's first
  connection is its default unless the request says `is_default: false`, so "Output to S3" (seed 002) works
  as soon as the project has a connection.
- The secret access key is encrypted before it is stored (crypto.py) and shown afterwards only masked.
"""

from __future__ import annotations

import string
import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from mediajet.connections import endpoints
from mediajet.connections.crypto import Cipher
from mediajet.errors import Conflict, ConnectionNotFound, InvalidRequest, StaleWrite
from mediajet.models.connection import ALT_PREFIX, CONNECTION_PREFIX, Connection, secret_context
from mediajet.models.validation import clip
from mediajet.settings import Settings

FIELDS = ("kind", "name", "endpoint", "region", "access_key_id", "secret_access_key", "is_default")
READ_ONLY = frozenset({"id", "object", "created_at", "updated_at"})  # sent back by clients that PATCH the object
MAX_CONNECTIONS = 100  # per project: resolving a default or a name reads them all
NAME_CHARS, KEY_ID_CHARS, SECRET_CHARS, REGION_CHARS = 100, 128, 256, 64
HINT_MIN_CHARS = 12  # shorter secrets show nothing of themselves
_REGION_CHARS = frozenset(string.ascii_lowercase + string.digits + "-")
_KEY_CHARS = frozenset(string.printable) - frozenset(string.whitespace)


class ConnectionInput(BaseModel):
    """The checked fields of a create or an update; `model_fields_set` says which were given (null included)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["s3"] = "s3"
    name: str | None = None
    endpoint: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    is_default: bool | None = None


def parse_input(body: Any, *, create: bool) -> ConnectionInput:
    """A request body → ConnectionInput, with a `{kind, message, field}` 400 for the first bad field."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object: {kind: \"s3\", name, endpoint, region, "
                             "access_key_id, secret_access_key, is_default}", field="body")
    for name in body:
        if name not in FIELDS and name not in READ_ONLY:
            raise InvalidRequest(f"unknown field '{clip(str(name))}'; a connection has {', '.join(FIELDS)}",
                                 field=clip(str(name)))
    given = {name: body[name] for name in FIELDS if name in body}
    if "kind" in given and given["kind"] != "s3":
        raise InvalidRequest(f"kind must be \"s3\" (any S3-compatible service); got {clip(repr(given['kind']))}",
                             kind="invalid_kind", field="kind")
    if create:
        for name in ("name", "access_key_id", "secret_access_key"):
            if given.get(name) in (None, ""):
                raise InvalidRequest(f"{name} is required", kind=f"{name}_required", field=name)
    if "name" in given:
        given["name"] = _name(given["name"])
    if given.get("endpoint") is not None:
        given["endpoint"] = endpoints.normalise(_text("endpoint", given["endpoint"], endpoints.MAX_ENDPOINT_CHARS))
    if given.get("region") is not None:
        given["region"] = _region(given["region"])
    if "access_key_id" in given:
        given["access_key_id"] = _key("access_key_id", given["access_key_id"], KEY_ID_CHARS)
    if "secret_access_key" in given:
        given["secret_access_key"] = _key("secret_access_key", given["secret_access_key"], SECRET_CHARS)
    if "is_default" in given and not isinstance(given["is_default"], bool):
        raise InvalidRequest("is_default must be true or false", kind="invalid_is_default", field="is_default")
    return ConnectionInput(**given)


def _text(name: str, value: Any, limit: int) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise InvalidRequest(f"{name} must be a string of 1 to {limit} characters", kind=f"invalid_{name}",
                             field=name)
    return value


def _name(value: Any) -> str:
    if value is None:
        raise InvalidRequest("name must not be null", kind="invalid_name", field="name")
    name = _text("name", value, NAME_CHARS)
    if name != name.strip() or any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise InvalidRequest("name must not start or end with spaces or contain control characters",
                             kind="invalid_name", field="name")
    if looks_like_id(name):
        raise InvalidRequest(f"name must not look like a connection id ({CONNECTION_PREFIX}_…, {ALT_PREFIX}_…)",
                             kind="invalid_name", field="name")
    return name


def _region(value: Any) -> str:
    region = _text("region", value, REGION_CHARS)
    if not set(region) <= _REGION_CHARS or region.startswith("-") or region.endswith("-"):
        raise InvalidRequest(f"region must be a region name such as us-east-1, or auto (R2); got '{clip(region)}'",
                             kind="invalid_region", field="region")
    return region


def _key(name: str, value: Any, limit: int) -> str:
    if value is None:
        raise InvalidRequest(f"{name} must not be null", kind=f"invalid_{name}", field=name)
    key = _text(name, value, limit)
    if not set(key) <= _KEY_CHARS:
        raise InvalidRequest(f"{name} must be printable ASCII without spaces", kind=f"invalid_{name}", field=name)
    return key


def looks_like_id(ref: str) -> bool:
    return ref.startswith((f"{CONNECTION_PREFIX}_", f"{ALT_PREFIX}_"))


def canonical_id(ref: str) -> str:
    """`conn_<x>` (the guides' spelling) → `con_<x>`."""
    return CONNECTION_PREFIX + ref[len(ALT_PREFIX):] if ref.startswith(f"{ALT_PREFIX}_") else ref


# --- reading ---------------------------------------------------------------------------------------


def all_of(store: Any, project_id: str) -> list[Connection]:
    """The project's connections, newest first."""
    found: list[Connection] = []
    page = 1
    while True:
        batch = store.list_records(Connection, project_id, page, MAX_CONNECTIONS)
        found.extend(batch)
        if len(batch) < MAX_CONNECTIONS:
            return found
        page += 1


def find(store: Any, project_id: str, ref: str, *, field: str | None = None) -> Connection:
    """The project's connection named by id (either spelling) or by name; ConnectionNotFound (with `field`:
    a 400 about that field of a request) otherwise."""
    if isinstance(ref, str) and looks_like_id(ref):
        try:
            return store.get_record(Connection, canonical_id(ref), project_id)
        except ConnectionNotFound:
            pass
    elif isinstance(ref, str):
        named = next((c for c in all_of(store, project_id) if c.name == ref), None)
        if named is not None:
            return named
    shown = clip(str(ref))
    message = f"No connection '{shown}' exists in this project (connections: GET /connections)"
    if field is None:
        raise ConnectionNotFound(message)
    error = ConnectionNotFound(message, field=field)
    error.status = 400  # type: ignore[misc]  # a bad field of a request, not a missing resource
    raise error


def default_of(store: Any, project_id: str) -> Connection | None:
    """The project's default connection (the newest one marked default, should a race have left two)."""
    return next((c for c in all_of(store, project_id) if c.is_default), None)


def secret_of(connection: Connection, cipher: Cipher) -> str:
    return cipher.decrypt(connection.secret, secret_context(connection.project_id, connection.id)).decode()


def masked(connection: Connection) -> str:
    return "****" + connection.secret_hint


# --- writing ---------------------------------------------------------------------------------------


def _hint(secret: str) -> str:
    return secret[-4:] if len(secret) >= HINT_MIN_CHARS else ""


def _check_region(endpoint: str | None, region: str | None) -> None:
    if region == "auto" and endpoint is None:
        raise InvalidRequest("region auto is for S3-compatible services (Cloudflare R2, MinIO): give their endpoint "
                             "too, or an AWS region such as us-east-1", kind="invalid_region", field="region")


def _check_name_free(existing: list[Connection], name: str, own_id: str | None = None) -> None:
    if any(c.name == name and c.id != own_id for c in existing):
        raise Conflict(f"a connection named '{clip(name)}' already exists in this project; names are unique",
                       kind="connection_name_taken", field="name")


def create(store: Any, cipher: Cipher, settings: Settings, project_id: str, data: ConnectionInput, *,
           key: str | None = None, sent: Any = None) -> tuple[Connection, bool]:
    """Store a new connection (once per Idempotency-Key `key`, for the body `sent`). Returns (it, created)."""
    from mediajet.api import idempotency

    assert data.name and data.access_key_id and data.secret_access_key  # parse_input(create=True)
    existing = all_of(store, project_id)
    _check_region(data.endpoint, data.region)
    if data.endpoint is not None:
        endpoints.check_reachable(data.endpoint, settings, at_request=True)
    draft = Connection(project_id=project_id, name=data.name, endpoint=data.endpoint, region=data.region,
                       access_key_id=data.access_key_id, secret="", secret_hint=_hint(data.secret_access_key),
                       is_default=data.is_default if data.is_default is not None
                       else not any(c.is_default for c in existing))
    # A retry of a create that succeeded gets the original (the store decides), not the name check it would fail.
    if key is None or store.get_claim(project_id, key) is None:
        _check_name_free(existing, data.name)
        if len(existing) >= MAX_CONNECTIONS:
            raise Conflict(f"this project has {len(existing)} connections, the most it may have; delete one first",
                           kind="connection_limit_reached")
    draft.secret = cipher.encrypt(data.secret_access_key.encode(), secret_context(project_id, draft.id))
    stored, created = idempotency.create_record(store, draft, key, sent)
    if created and stored.is_default:
        _unset_other_defaults(store, stored)
    return stored, created


def update(store: Any, cipher: Cipher, settings: Settings, project_id: str, ref: str,
           data: ConnectionInput) -> Connection:
    """Change the given fields (an `endpoint` or `region` of null clears it); the secret is encrypted anew."""
    for _ in range(10):
        current = find(store, project_id, ref)
        changes: dict[str, Any] = {name: getattr(data, name) for name in ("name", "endpoint", "region",
                                                                          "access_key_id", "is_default")
                                   if name in data.model_fields_set}
        if changes.get("is_default") is None:
            changes.pop("is_default", None)
        endpoint = changes.get("endpoint", current.endpoint)
        _check_region(endpoint, changes.get("region", current.region))
        if "endpoint" in changes and endpoint is not None:
            endpoints.check_reachable(endpoint, settings, at_request=True)
        if "name" in changes:
            _check_name_free(all_of(store, project_id), changes["name"], current.id)
        if data.secret_access_key is not None:
            changes["secret"] = cipher.encrypt(data.secret_access_key.encode(), secret_context(project_id, current.id))
            changes["secret_hint"] = _hint(data.secret_access_key)
        try:
            saved = store.save_record(current.touched(**changes))
        except StaleWrite:
            continue
        if saved.is_default and changes.get("is_default"):
            _unset_other_defaults(store, saved)
        return saved
    raise StaleWrite(f"connection {ref} kept changing; send the update again")


def delete(store: Any, project_id: str, ref: str) -> Connection:
    connection = find(store, project_id, ref)
    store.delete_record(Connection, connection.id, project_id)
    return connection


def _unset_other_defaults(store: Any, keep: Connection) -> None:
    for other in all_of(store, keep.project_id):
        if other.id == keep.id or not other.is_default:
            continue
        for _ in range(10):
            try:
                store.save_record(other.touched(is_default=False))
                break
            except StaleWrite:
                other = store.get_record(Connection, other.id, keep.project_id)
                if not other.is_default:
                    break
            except ConnectionNotFound:
                break
