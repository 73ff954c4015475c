"""Uploads to the embedded server (spec §6.7): signed URLs from POST /signatures, and the PUT that stores a file.

- URL: `<base>/uploads/<project>/<folder>/<filename>?expiry=<unix s>&method=<get|put>&signature=<sig>`; the
  signature is base64url HMAC-SHA256 of `<path>?expiry=<expiry>&method=<method>` (the Ittybit scheme), keyed by
  the server's signing secret (MediaJet stores API keys hashed, so it cannot key by them). The project is in
  the path, so a signature names one project's file and no other.
- `PUT` with the raw bytes (signed with method put, or with `Authorization: Bearer <key>` of that project)
  stores the file and answers 201 with the File, in a new media item (which fires `media.created`). The body
  streams to a temporary file next to its final place, never whole in memory, at most
  `MEDIAJET_MAX_UPLOAD_BYTES` (413 before reading when Content-Length says more). An aborted, oversized or
  unreadable upload (not media: 422) leaves nothing; the finished file is linked into place, so a reader
  never sees half of it. Uploads never overwrite: a path that holds a file is a 409 until it is deleted.
- `GET` of a URL signed with method get downloads that file (Range, as every download).
- Browsers may PUT from any origin (CORS, preflight answered): a signed URL is a capability, as a download's is.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from mediajet.api.wire.v2025_08_20_library import file_view
from mediajet.errors import FileExists, InvalidRequest, MediaJetError
from mediajet.library import LibraryContext, automations, files
from mediajet.local.downloads import CORS, Download, reply, reply_json
from mediajet.media.probe import probe
from mediajet.models.library import LibraryFile, Media
from mediajet.settings import Settings
from mediajet.storage.links import check_key
from mediajet.storage.local import LocalBlobStore
from mediajet.storage.paths import split_upload_path, upload_path

UPLOADS_ROUTE = "/uploads/"
STORE_PREFIX = "uploads"  # the key of an upload in output storage: uploads/<project>/<folder>/<filename>
MAX_EXPIRY_DIGITS = 12
UPLOAD_PREFLIGHT = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "GET, HEAD, PUT"),
                    ("Access-Control-Allow-Headers", "Content-Type, Range, Authorization"),
                    ("Access-Control-Max-Age", "86400")]


def is_upload(path: str) -> bool:
    return path.startswith(UPLOADS_ROUTE)


@dataclass
class Upload:
    project: str
    key: str  # in output storage
    folder: str | None
    filename: str


class Uploads:
    def __init__(self, outputs: LocalBlobStore, secret: bytes, base_url: str, settings: Settings,
                 library: LibraryContext) -> None:
        self.outputs, self.secret, self.base_url = outputs, secret, base_url.rstrip("/")
        self.settings, self.library = settings, library

    # --- signing (POST /signatures) ---------------------------------------------------------------

    def signature(self, project: str, folder: str | None, filename: str, expiry: int, method: str) -> dict[str, Any]:
        path = UPLOADS_ROUTE + quote(upload_path(project, folder, filename), safe="/")
        check_key(unquote(path.removeprefix("/")))  # a folder of ".." or "a//b" names no place
        signature = self._sign(path, expiry, method)
        return {"domain": urlsplit(self.base_url).netloc, "filename": filename, "folder": folder, "expiry": expiry,
                "method": method, "signature": signature,
                "url": f"{self.base_url}{path}?expiry={expiry}&method={method}&signature={signature}"}

    def _sign(self, path: str, expiry: int, method: str) -> str:
        digest = hmac.new(self.secret, f"{path}?expiry={expiry}&method={method}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def _signed_for(self, path: str, query: str, method: str) -> bool:
        params = parse_qs(query)
        expiry, signature = params.get("expiry", [""])[0], params.get("signature", [""])[0]
        if params.get("method", [""])[0] != method or not signature:
            return False
        if not (expiry.isascii() and expiry.isdigit()) or len(expiry) > MAX_EXPIRY_DIGITS or int(expiry) < time.time():
            return False
        expected = self._sign(quote(path, safe="/"), int(expiry), method)
        return hmac.compare_digest(expected.encode(), signature.rstrip("=").encode("ascii", "replace"))

    # --- requests -----------------------------------------------------------------------------------

    async def respond(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        method, path = scope["method"], scope["path"]
        query = scope["query_string"].decode("latin-1")
        try:
            upload = _parse(path)
        except InvalidRequest as exc:
            await _error(send, 400, exc.kind, exc.message)
            return
        if method == "OPTIONS":  # a browser's preflight before a client-side PUT: the signed URL is the capability
            await reply(send, 204, UPLOAD_PREFLIGHT, b"")
            return
        if method in ("GET", "HEAD"):
            if not self._signed_for(path, query, "get"):
                await _error(send, 403, "signature_invalid", "this download URL is not signed for get, or expired")
                return
            await _SignedDownload(self.outputs, method, upload.key, _header(scope, b"range")).respond(send)
            return
        if method != "PUT":
            await _error(send, 405, "method_not_allowed", f"{method} is not allowed here; PUT uploads, GET "
                             "downloads", [("Allow", "GET, HEAD, PUT")])
            return
        if not (self._signed_for(path, query, "put") or await self._key_of(scope, upload.project)):
            await _error(send, 403, "signature_invalid", "this upload URL is not signed for put, or expired, "
                             "and no API key of its project was sent; get a URL from POST /signatures")
            return
        await self._put(scope, receive, send, upload)

    async def _key_of(self, scope: dict[str, Any], project: str) -> bool:
        auth = _header(scope, b"authorization") or ""
        if not auth.lower().startswith("bearer "):
            return False
        digest = hashlib.sha256(auth[7:].strip().encode()).hexdigest()
        found = await asyncio.to_thread(self.library.store.project_for_key, digest)
        return found == project

    async def _put(self, scope: dict[str, Any], receive: Any, send: Any, upload: Upload) -> None:
        limit = self.settings.max_upload_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or len(declared) > 18 or int(declared) > limit):
            await _error(send, 413, "payload_too_large", f"uploads are at most {limit} bytes",
                             [("Connection", "close")])
            return
        target = self.outputs.path(upload.key)
        if target.exists():
            await _exists(send, upload)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                written = 0
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return  # aborted: the temporary file goes below, nothing was stored
                    chunk = message.get("body", b"")
                    written += len(chunk)
                    if written > limit:
                        await _error(send, 413, "payload_too_large", f"uploads are at most {limit} bytes",
                                         [("Connection", "close")])
                        return
                    out.write(chunk)
                    if not message.get("more_body"):
                        break
            try:
                status, body = 201, await asyncio.to_thread(self._store, upload, tmp)
            except MediaJetError as exc:
                status, body = exc.status, exc.to_dict()
            await reply(send, status, [("Content-Type", "application/json"), *CORS],
                        json.dumps(body, separators=(",", ":")).encode())
        finally:
            tmp.unlink(missing_ok=True)

    def _store(self, upload: Upload, tmp: Path) -> dict[str, Any]:
        """Probe, link into place (never over another file), and record: the File as the API answers it."""
        found = probe(tmp, settings=self.settings)
        target = self.outputs.path(upload.key)
        try:
            os.link(tmp, target)  # atomic, and fails rather than replace a file another upload put there first
        except FileExistsError:
            raise _occupied(upload) from None
        store = self.library.store
        media = store.create_record(Media(project_id=upload.project))
        file = store.create_record(LibraryFile(
            project_id=upload.project, media_id=media.id, original=True, folder=upload.folder,
            filename=upload.filename, **{**files.probed(found), "uri": self.outputs.uri(upload.key)}))
        automations.file_ready(self.library, file, None)  # media.created
        return file_view(file, self.library.sign_url or (lambda uri: uri))


def _occupied(upload: Upload) -> FileExists:
    return FileExists(f"{'/'.join(p for p in (upload.folder, upload.filename) if p)} already holds a file; "
                      "delete it (DELETE /files/{id}) or upload under another name")


async def _exists(send: Any, upload: Upload) -> None:
    exc = _occupied(upload)
    await _error(send, exc.status, exc.kind, exc.message)


class _SignedDownload(Download):
    """A download whose URL was checked by Uploads (its own signature scheme)."""

    def __init__(self, files: LocalBlobStore, method: str, key: str, range_header: str | None) -> None:
        self.files, self.method, self.range_header, self.key = files, method, range_header, key
        self.expires, self.signature, self.route = "0", "", UPLOADS_ROUTE

    def _refusal(self) -> tuple[str, str] | None:
        return None

    async def respond(self, send: Any) -> int:
        path = self.files.path(self.key)
        if not path.is_file():
            return await _error(send, 404, "not_found", "no file at this URL (it may have been deleted)")
        return await self._send_file(send, path)


async def _error(send: Any, status: int, kind: str, message: str, headers: Sequence[tuple[str, str]] = ()) -> int:
    """`{kind, message}`, readable by the browser page that sent the upload (CORS), as the File it gets on success."""
    return await reply_json(send, status, kind, message, [*CORS, *headers])


def _parse(path: str) -> Upload:
    rest = path.removeprefix(UPLOADS_ROUTE)
    found = split_upload_path(rest)
    if found is None:
        raise InvalidRequest("an upload URL is /uploads/<project>/<folder>/<filename>; get one from POST /signatures")
    key = check_key(f"{STORE_PREFIX}/{rest}")
    project, folder, filename = found
    return Upload(project=project, key=key, folder=folder, filename=filename)


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
