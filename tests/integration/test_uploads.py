"""Uploads to the embedded server (local/uploads.py) over real HTTP: a signed PUT stores a probed file in a new
media item and answers the File; a signed GET downloads it. Unsigned, tampered, expired, wrong-method, oversized,
aborted and non-media uploads are refused and leave nothing behind, not even a partial file."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mediajet.api.app import create_app
from mediajet.api.deps import ApiDeps
from mediajet.library import LibraryContext
from mediajet.local.asgi import EmbeddedServer, serve_http
from mediajet.local.uploads import Uploads
from mediajet.models.library import LibraryFile, Media
from mediajet.storage.local import LocalBlobStore
from tests.media import make_video
from tests.unit.api_support import KEY_A, KEY_B, make_api

SECRET = b"upload-test-secret"
LIMIT = 200_000
C = {"Accept-Version": "2025-08-20"}


class Env:
    def __init__(self, tmp_path: Path) -> None:
        self.api = make_api(tmp_path, max_upload_bytes=LIMIT)
        self.files = LocalBlobStore(tmp_path / "files", base_url="http://placeholder", secret=SECRET)
        self.uploads = Uploads(self.files, SECRET, "http://placeholder", self.api.settings,
                               LibraryContext(self.api.store, self.api.orchestrator.start_task, self.sign))
        self.api.app = create_app(ApiDeps(jobs=self.api.store, orchestrator=self.api.orchestrator,
                                          settings=self.api.settings, sign_url=self.sign, uploads=self.uploads))
        self.server: EmbeddedServer = serve_http(self.api.app.resolve, "127.0.0.1", 0, files=self.files,
                                                 max_body_bytes=4096, uploads=self.uploads)
        self.files.base_url = self.uploads.base_url = self.server.url
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        while not self.server.started:
            time.sleep(0.01)

    def sign(self, uri: str) -> str:
        key = self.files.key_for_uri(uri)
        return uri if key is None else self.files.signed_url(key, 60)

    def signature(self, filename: str, method: str = "put", folder: str | None = "in", key: str = KEY_A) -> dict:
        reply = requests.post(f"{self.server.url}/signatures", headers={**C, "Authorization": f"Bearer {key}"},
                              json={"filename": filename, "folder": folder, "method": method}, timeout=5)
        assert reply.status_code == 201, reply.text
        return reply.json()

    def leftovers(self) -> list[str]:
        root = self.files.root
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    env = Env(tmp_path)
    yield env
    env.server.shutdown()
    env.server.server_close()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_video(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=1, size="320x240").read_bytes()


def test_a_signed_put_stores_a_file_in_a_new_media_item_and_a_signed_get_downloads_it(env: Env, clip: bytes) -> None:
    sig = env.signature("clip.mp4")
    assert sig["url"].startswith(f"{env.server.url}/uploads/prj_a/in/clip.mp4?expiry=")
    assert (sig["domain"], sig["folder"], sig["method"]) == (env.server.url.split("//")[1], "in", "put")
    preflight = requests.options(sig["url"], headers={"Origin": "https://app.example",
                                                      "Access-Control-Request-Method": "PUT"}, timeout=5)
    assert preflight.status_code == 204 and "PUT" in preflight.headers["Access-Control-Allow-Methods"]
    put = requests.put(sig["url"], data=iter([clip[:1000], clip[1000:]]), timeout=10)  # chunked: streamed
    assert put.status_code == 201, put.text
    assert put.headers["Access-Control-Allow-Origin"] == "*"  # a browser may read the File it uploaded
    file = put.json()
    assert (file["kind"], file["width"], file["height"], file["filesize"], file["status"]) == (
        "video", 320, 240, len(clip), "ready")
    assert (file["folder"], file["filename"], file["original"]) == ("in", "clip.mp4", True)
    assert requests.get(file["url"], timeout=5).content == clip
    stored = env.api.store.get_record(LibraryFile, file["id"], "prj_a")
    assert env.api.store.get_record(Media, stored.media_id, "prj_a").announced  # media.created fired
    got = requests.get(env.signature("clip.mp4", "get")["url"], headers={"Range": "bytes=4-7"}, timeout=5)
    assert got.status_code == 206 and got.content == clip[4:8] == b"ftyp"
    assert requests.put(sig["url"], data=clip, timeout=5).status_code == 409  # never overwritten
    assert env.leftovers() == ["uploads/prj_a/in/clip.mp4"]


def test_an_api_key_of_the_project_may_put_without_a_signature(env: Env, clip: bytes) -> None:
    url = f"{env.server.url}/uploads/prj_a/direct/a.mp4"
    assert requests.put(url, data=clip, headers={"Authorization": f"Bearer {KEY_B}"}, timeout=5).status_code == 403
    assert requests.put(url, data=clip, timeout=5).status_code == 403
    put = requests.put(url, data=clip, headers={"Authorization": f"Bearer {KEY_A}"}, timeout=10)
    assert put.status_code == 201 and put.json()["folder"] == "direct"


def test_tampered_expired_and_wrong_method_urls_are_refused_and_store_nothing(env: Env, clip: bytes) -> None:
    sig = env.signature("a.mp4")
    expired = env.uploads.signature("prj_a", "in", "a.mp4", int(time.time()) - 1, "put")["url"]
    cases = [sig["url"].replace("/a.mp4?", "/b.mp4?"),  # another file
             sig["url"].replace("/prj_a/", "/prj_b/"),  # another project
             sig["url"].replace("expiry=", "expiry=9"),  # a longer life
             expired,
             env.signature("a.mp4", "get")["url"]]  # a download URL is no upload URL
    for url in cases:
        reply = requests.put(url, data=clip, timeout=5)
        assert reply.status_code == 403 and reply.json()["kind"] == "signature_invalid", url
    assert requests.get(sig["url"], timeout=5).status_code == 403  # nor the reverse
    assert env.leftovers() == []


def test_oversized_aborted_and_non_media_uploads_leave_nothing(env: Env) -> None:
    sig = env.signature("big.mp4")
    declared = requests.put(sig["url"], data=b"\0" * (LIMIT + 1), timeout=5)
    assert declared.status_code == 413  # by Content-Length, before reading
    streamed = requests.put(sig["url"], data=iter([b"\0" * 100_000] * 3), timeout=5)  # chunked, no length
    assert streamed.status_code == 413
    not_media = requests.put(sig["url"], data=b"hello, not a video", timeout=5)
    assert not_media.status_code == 422 and not_media.json()["kind"] == "unsupported_media"
    target = sig["url"].split(env.server.url, 1)[1]
    with socket.create_connection(env.server.server_address[:2], timeout=5) as sock:
        sock.sendall(f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 150000\r\n\r\n".encode() + b"\0" * 5000)
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    while env.leftovers() and time.monotonic() < deadline:  # the server notices the client left
        time.sleep(0.05)
    assert env.leftovers() == []
    assert env.api.store.list_records(LibraryFile, "prj_a", 1, 10) == []


def test_a_signature_checks_its_fields(env: Env) -> None:
    def post(body: dict[str, Any]) -> requests.Response:
        return requests.post(f"{env.server.url}/signatures", headers={**C, "Authorization": f"Bearer {KEY_A}"},
                             json=body, timeout=5)

    assert post({"filename": "a.mp4", "expiry": int(time.time()) - 10}).status_code == 400
    assert post({"filename": "a.mp4", "method": "delete"}).status_code == 400
    assert post({"filename": "../a.mp4"}).status_code == 400
    assert post({"filename": "a.mp4", "folder": "x/../../y"}).status_code == 400
    assert post({"folder": "x"}).json() == {"message": "filename is required"}
