"""The project's webhook signing secret: made on first use, rotated on request (the previous one keeps signing
alongside for a day, models/webhooks.py ROTATION_GRACE_MS)."""

from __future__ import annotations

from typing import Any

from mediajet.errors import Conflict, NotFound, StaleWrite
from mediajet.ids import now_ms
from mediajet.models.webhooks import ROTATION_GRACE_MS, SigningSecret, secret_id
from mediajet.webhooks.signing import new_secret


def project_secret(store: Any, project_id: str) -> SigningSecret:
    """The project's secret, created when it has none (two racing creators agree: the loser reads the winner's)."""
    try:
        return store.get_record(SigningSecret, secret_id(project_id), project_id)
    except NotFound:
        pass
    try:
        return store.create_record(SigningSecret(id=secret_id(project_id), project_id=project_id, secret=new_secret()))
    except Conflict:
        return store.get_record(SigningSecret, secret_id(project_id), project_id)


def rotate(store: Any, project_id: str) -> SigningSecret:
    for _ in range(10):
        current = project_secret(store, project_id)
        now = now_ms()
        try:
            return store.save_record(current.touched(secret=new_secret(), previous=current.secret,
                                                     previous_until=now + ROTATION_GRACE_MS))
        except StaleWrite:
            continue
    raise StaleWrite("the signing secret kept changing; try again")
