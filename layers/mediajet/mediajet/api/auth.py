"""API keys: `Authorization: Bearer <key>`. Only sha256 digests are stored, so a leaked database
does not leak usable keys; a digest lookup is enough because the keys are long random strings."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping

from mediajet.errors import Unauthorized
from mediajet.store.base import JobStore

KEY_PREFIX = "mj_live_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_key(store: JobStore, project_id: str) -> str:
    """A new key for `project_id`; returned once, stored only as its digest."""
    key = new_api_key()
    store.add_api_key(hash_key(key), project_id)
    return key


def bearer_token(headers: Mapping[str, str]) -> str:
    value = (headers.get("authorization") or "").strip()
    if not value:
        raise Unauthorized("Send your API key in the Authorization header: 'Bearer <key>'", kind="token_missing")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized("The Authorization header must use the Bearer scheme: 'Bearer <key>'",
                           kind="token_invalid")
    token = token.strip()
    if not token:
        raise Unauthorized("The Authorization header has no key after 'Bearer'", kind="token_missing")
    return token


def project_for(headers: Mapping[str, str], store: JobStore) -> str:
    """The project the caller's key belongs to; 401 token_missing / token_invalid otherwise."""
    project = store.project_for_key(hash_key(bearer_token(headers)))
    if project is None:
        raise Unauthorized("The API key is not valid", kind="token_invalid")
    return project
