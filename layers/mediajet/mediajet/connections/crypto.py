"""Connection secrets at rest: a cipher the runtime passes in (ApiDeps.cipher, StepContext.cipher).

- `LocalCipher` (`mediajet serve`, `--local`): AES-256-GCM with a key file in the data dir
  (`connections.key`, created 0600 on first use, like the signing key). Keep the data dir's backups
  together with this file: without it the stored secrets cannot be read.
- `KmsCipher` (AWS): KMS Encrypt/Decrypt with the key the stack creates (MEDIAJET_CONNECTIONS_KMS_KEY);
  the client is made on first use.

Both bind a ciphertext to a `context` (the connection's project and id): a secret copied onto another
record, or into another project, does not decrypt.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Any, Protocol

from mediajet.errors import MediaJetError

KEY_FILE = "connections.key"
LOCAL_PREFIX = "v1:"  # versioned, so the format can change without guessing
KMS_PREFIX = "kms1:"
NONCE_BYTES = 12


class SecretUnreadable(MediaJetError):
    """A stored secret that this runtime's key cannot decrypt (another data dir's key, a tampered record)."""

    status = 500
    default_kind = "connection_unreadable"


class Cipher(Protocol):
    def encrypt(self, plaintext: bytes, context: str = "") -> str: ...

    def decrypt(self, token: str, context: str = "") -> bytes: ...


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key_file(path: Path) -> bytes:
    """The 32-byte key in `path`, made on first use: written to a private temporary file, then linked into
    place, so two processes starting at once agree on one key and nobody reads a half-written one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(_b64(secrets.token_bytes(32)))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            tmp.unlink(missing_ok=True)
    key = _unb64(path.read_text().strip())
    if len(key) != 32:
        raise SecretUnreadable(f"{path} does not hold a 32-byte key")
    return key


class LocalCipher:
    def __init__(self, key_path: Path) -> None:
        self.key_path = key_path
        self._aead: Any = None

    def _cipher(self) -> Any:
        if self._aead is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._aead = AESGCM(_key_file(self.key_path))
        return self._aead

    def encrypt(self, plaintext: bytes, context: str = "") -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return LOCAL_PREFIX + _b64(nonce + self._cipher().encrypt(nonce, plaintext, context.encode()))

    def decrypt(self, token: str, context: str = "") -> bytes:
        from cryptography.exceptions import InvalidTag

        if not token.startswith(LOCAL_PREFIX):
            raise SecretUnreadable("this connection's secret was not encrypted by this server (mediajet serve)")
        try:
            raw = _unb64(token[len(LOCAL_PREFIX):])
            return self._cipher().decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except (InvalidTag, ValueError):
            raise SecretUnreadable(f"this connection's secret does not decrypt with {self.key_path}; was the data "
                                   "dir restored without its key? Update the connection with its secret again") from None


class KmsCipher:
    """`client` is a boto3 KMS client, or a callable that makes one (on first use)."""

    def __init__(self, key_id: str, client: Any) -> None:
        self.key_id = key_id
        self._client = client

    def _kms(self) -> Any:
        if callable(self._client) and not hasattr(self._client, "encrypt"):
            self._client = self._client()
        return self._client

    @staticmethod
    def _context(context: str) -> dict[str, str]:
        return {"mediajet": context} if context else {}

    def encrypt(self, plaintext: bytes, context: str = "") -> str:
        blob = self._kms().encrypt(KeyId=self.key_id, Plaintext=plaintext,
                                   EncryptionContext=self._context(context))["CiphertextBlob"]
        return KMS_PREFIX + _b64(blob)

    def decrypt(self, token: str, context: str = "") -> bytes:
        from botocore.exceptions import ClientError

        if not token.startswith(KMS_PREFIX):
            raise SecretUnreadable("this connection's secret was not encrypted with this stack's KMS key")
        try:
            return self._kms().decrypt(KeyId=self.key_id, CiphertextBlob=_unb64(token[len(KMS_PREFIX):]),
                                       EncryptionContext=self._context(context))["Plaintext"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise SecretUnreadable(f"KMS could not decrypt this connection's secret ({code})") from exc


class NoCipher:
    """A runtime without a key for connections (tests that build ApiDeps by hand, a stack without the key)."""

    def encrypt(self, plaintext: bytes, context: str = "") -> str:
        raise ConnectionsUnavailable("this server has no key to encrypt connection secrets with")

    def decrypt(self, token: str, context: str = "") -> bytes:
        raise ConnectionsUnavailable("this server has no key to decrypt connection secrets with")


class ConnectionsUnavailable(MediaJetError):
    status = 501
    default_kind = "not_supported"
