"""Remote mode with local files: a local `-i` is uploaded through the media library (POST /signatures, then
a PUT of the bytes), and a local `-o` receives the result: one file, or an HLS result's whole tree with its
playlists rewritten to relative paths that play from disk.

Bytes stream in 1 MiB chunks both ways (never whole in memory); a download lands in a temporary file that
is renamed into place, so an interrupted one leaves no half file under the requested name.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from mediajet.cli.remote import ApiError, Client, send

CHUNK = 1024 * 1024
Progress = Callable[[str, int, int], None]  # (what, bytes done, bytes in all)
_URI_ATTR = re.compile(r'URI="([^"]*)"')


def is_local(path: str) -> bool:
    return "://" not in path


def upload(client: Client, path: Path, on_progress: Progress, poll_s: float = 0.5) -> dict[str, Any]:
    """Upload `path` to the library; returns its File once it is ready (its `url` is a link a job can read)."""
    if not path.is_file():
        raise ApiError(400, {"kind": "invalid_input", "field": "input", "message": f"{path}: no such file"})
    folder = f"cli/{secrets.token_hex(6)}"  # a fresh folder: uploads never overwrite
    signed = client.request("POST", "/signatures", {"filename": path.name, "folder": folder, "method": "put"})
    size = path.stat().st_size
    with path.open("rb") as body:
        request = urllib.request.Request(signed["url"], data=_Reading(body, size, on_progress), method="PUT",
                                         headers={"Content-Length": str(size),
                                                  "Content-Type": "application/octet-stream"})
        answer = send(request, client.timeout, where="the upload URL", kind="upload_failed")
    if isinstance(answer, dict) and answer.get("id", "").startswith("file_"):
        file = answer
    else:  # S3 answers a presigned PUT with an empty 200: the server files the upload on its own time
        file = _filed(client, folder, path.name, poll_s)
    while file.get("status") not in ("ready", "failed"):
        time.sleep(poll_s)
        file = client.request("GET", f"/files/{file['id']}")
    if file["status"] != "ready":
        raise ApiError(422, {"kind": "invalid_input", "field": "input",
                             "message": f"the server could not read {path}: {file.get('error') or 'not media'}"})
    return file


def _filed(client: Client, folder: str, filename: str, poll_s: float, limit_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        for file in client.request("GET", "/files", query={"page": 1, "limit": 100}):
            if file.get("folder") == folder and file.get("filename") == filename:
                return file
        time.sleep(poll_s)
    raise ApiError(504, {"kind": "timeout", "message": f"the uploaded {filename} did not show up as a file"})


class _Reading:
    """A request body read in chunks, reporting progress (urllib streams any object with read())."""

    def __init__(self, file: Any, size: int, on_progress: Progress) -> None:
        self.file, self.size, self.done, self.on_progress = file, size, 0, on_progress

    def read(self, n: int = CHUNK) -> bytes:
        data = self.file.read(min(n if n > 0 else CHUNK, CHUNK))
        self.done += len(data)
        self.on_progress("upload", self.done, self.size)
        return data

    def __len__(self) -> int:
        return self.size


def download(url: str, target: Path, on_progress: Progress, timeout: float = 60) -> list[Path]:
    """The result at `url` into `target`; an HLS playlist brings every playlist and segment it names, under
    `target`'s folder at their relative paths. Returns the files written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if urlsplit(url).path.endswith(".m3u8"):
        return _playlist_tree(url, target, on_progress, timeout)
    return [_file(url, target, on_progress, timeout)]


def _playlist_tree(url: str, target: Path, on_progress: Progress, timeout: float) -> list[Path]:
    root, written = target.parent, []
    pending: list[tuple[str, Path]] = [(url, target)]
    while pending:
        link, path = pending.pop(0)
        text = _get(link, timeout).decode("utf-8")
        _write(path, _localised(text, link, path, root, pending).encode())
        written.append(path)
        pending_media = [(u, p) for u, p in pending if not urlsplit(u).path.endswith(".m3u8")]
        pending = [(u, p) for u, p in pending if urlsplit(u).path.endswith(".m3u8")]
        for index, (segment, segment_path) in enumerate(pending_media):
            written.append(_file(segment, segment_path, lambda *_: None, timeout))
            on_progress("download", index + 1, len(pending_media))
    return written


def _localised(text: str, link: str, path: Path, root: Path, pending: list[tuple[str, Path]]) -> str:
    """The playlist with each URI it names relative and without its query, each queued for download."""
    lines = []
    for line in text.splitlines():
        if line.startswith("#"):
            line = _URI_ATTR.sub(lambda m: f'URI="{_queue(link, m.group(1), path, root, pending)}"', line)
        elif line.strip():
            line = _queue(link, line.strip(), path, root, pending)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _queue(base: str, uri: str, playlist: Path, root: Path, pending: list[tuple[str, Path]]) -> str:
    """The relative path a playlist keeps for `uri` (its query dropped), and the download it needs."""
    absolute = urljoin(base, uri)
    relative = urlsplit(uri).path
    if urlsplit(uri).scheme or relative.startswith("/") or ".." in relative.split("/"):
        return uri  # not part of this result's tree: left as the server wrote it
    local = (playlist.parent / relative).resolve()
    if root.resolve() not in local.parents:
        return uri
    pending.append((absolute, local))
    return relative


def _file(url: str, target: Path, on_progress: Progress, timeout: float) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".part-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            size, done = int(resp.headers.get("Content-Length") or 0), 0
            while chunk := resp.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                on_progress("download", done, size)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return target


def _get(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.read()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".part-", dir=path.parent)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(name, path)
