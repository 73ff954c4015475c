"""A storage connection (`con_…`, spec §5.4): a project's own S3-compatible bucket credentials.

The secret access key is never stored in plaintext: `secret` holds it encrypted by the runtime's cipher
(connections/crypto.py: AES-GCM with a key in the data dir locally, KMS on AWS), bound to the connection's
id and project, and `secret_hint` its last 4 characters, which is all any answer shows of it afterwards.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from mediajet.ids import new_id
from mediajet.models.library import RECORD_TYPES, LibraryRecord

CONNECTION_PREFIX = "con"
# Ittybit's guides spell connection ids `conn_…` (seeds 000, 001); the object's id is `con_…` (§5.4).
ALT_PREFIX = "conn"


class Connection(LibraryRecord):
    record_type: ClassVar[str] = "connection"

    id: str = Field(default_factory=lambda: new_id(CONNECTION_PREFIX))
    kind: Literal["s3"] = "s3"
    name: str
    endpoint: str | None = None  # None: AWS S3 itself; else an S3-compatible service (path-style addressing)
    region: str | None = None
    access_key_id: str
    secret: str  # the secret access key, encrypted (never plaintext)
    secret_hint: str = ""  # its last 4 characters
    is_default: bool = False


RECORD_TYPES[Connection.record_type] = Connection  # here, not in models/library.py: this module builds on it


def secret_context(project_id: str, connection_id: str) -> str:
    """What a connection's ciphertext is bound to: it decrypts for this record only."""
    return f"mediajet:connection:{project_id}:{connection_id}"
