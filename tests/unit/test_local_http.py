"""The embedded HTTP server over a real socket: request → API Gateway v2 event → response, body
limits, and signed downloads (Range, HLS playlists, bad or expired links)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from mediajet.local.asgi import EmbeddedServer as Server
from mediajet.local.asgi import serve_http
from mediajet.storage.links import LEGACY_DOWNLOADS_ROUTE, sign
from mediajet.storage.local import LocalBlobStore
from tests.unit.api_support import KEY_A, make_api

SECRET = b"test-signing-secret"


def start(resolve: Any, files: LocalBlobStore, max_body_bytes: int = 4096) -> Server:
    server = serve_http(resolve, "127.0.0.1", 0, files=files, max_body_bytes=max_body_bytes)
    files.base_url = server.url
    threading.Thread(target=server.serve_forever, daemon=True).start()
    wait_until_up(server)
    return server


def wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.started:
            return
        time.sleep(0.01)
    raise TimeoutError("the server did not start")


@pytest.fixture
def files(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "files", base_url="http://placeholder", secret=SECRET)


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        return {"statusCode": 202, "headers": {"Content-Type": "application/json", "X-Thing": "a, b"},
                "cookies": ["a=1; Path=/", "b=2; Path=/"], "isBase64Encoded": False, "body": '{"ok":true}'}


@pytest.fixture
def recorded(files: LocalBlobStore) -> Iterator[tuple[Server, Recorder]]:
    recorder = Recorder()
    server = start(recorder, files)
    yield server, recorder
    server.shutdown()
    server.server_close()


def test_a_request_becomes_an_http_api_v2_event(recorded: tuple[Server, Recorder]) -> None:
    server, recorder = recorded
    resp = requests.post(f"{server.url}/jobs/job_1/cancel?limit=5&kind=a&kind=b&empty=", data=b'{"x": 1}',
                         headers={"Authorization": "Bearer k", "X-Custom": "Yes", "Cookie": "s=1; t=2"}, timeout=5)
    assert resp.status_code == 202 and resp.json() == {"ok": True}
    assert resp.headers["X-Thing"] == "a, b"
    assert resp.raw.headers.getlist("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    event = recorder.events[0]
    assert event["version"] == "2.0" and event["rawPath"] == "/jobs/job_1/cancel"
    assert event["rawQueryString"] == "limit=5&kind=a&kind=b&empty="
    assert event["queryStringParameters"] == {"limit": "5", "kind": "a,b", "empty": ""}
    assert event["headers"]["authorization"] == "Bearer k" and event["headers"]["x-custom"] == "Yes"
    assert all(name == name.lower() for name in event["headers"])
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["body"] == '{"x": 1}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"]["method"] == "POST" and context["http"]["sourceIp"] == "127.0.0.1"
    assert context["requestId"] and context["stage"] == "$default"


def test_a_binary_body_is_base64_encoded(recorded: tuple[Server, Recorder]) -> None:
    server, recorder = recorded
    requests.post(f"{server.url}/x", data=b"\xff\x00\xfe", timeout=5)
    event = recorder.events[0]
    assert event["isBase64Encoded"] is True and event["body"] == "/wD+"


def test_keep_alive_serves_several_requests_on_one_connection(recorded: tuple[Server, Recorder]) -> None:
    server, recorder = recorded
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    for _ in range(3):
        conn.request("GET", "/health")
        resp = conn.getresponse()
        assert resp.status == 202 and resp.read() == b'{"ok":true}'
    sock = conn.sock
    conn.request("GET", "/health")
    conn.getresponse().read()
    assert conn.sock is sock  # still the same TCP connection
    conn.close()
    assert len(recorder.events) == 4


def _raw(server: Server, data: bytes) -> bytes:
    with socket.create_connection(server.server_address[:2], timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_body_over_the_limit_is_refused_before_it_is_read(recorded: tuple[Server, Recorder]) -> None:
    server, recorder = recorded
    # Declares 10 MB but sends none of it: the answer must come anyway, without waiting for the body.
    reply = _raw(server, b"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body)["kind"] == "payload_too_large"
    assert recorder.events == []


def test_a_client_that_sends_the_whole_oversized_body_still_reads_the_413(
        recorded: tuple[Server, Recorder]) -> None:
    server, recorder = recorded
    for _ in range(5):  # without a lingering close this would sometimes end in a connection reset
        resp = requests.post(f"{server.url}/jobs", data=b"x" * 2_000_000, timeout=10)
        assert resp.status_code == 413 and resp.json()["kind"] == "payload_too_large"
    assert recorder.events == []


def test_expect_100_continue_gets_413_instead_of_continue(recorded: tuple[Server, Recorder]) -> None:
    server, recorder = recorded
    reply = _raw(server, b"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 413") and b"100 Continue" not in reply
    assert recorder.events == []


def test_a_chunked_body_over_the_limit_is_413(recorded: tuple[Server, Recorder]) -> None:
    server, recorder = recorded
    resp = requests.post(f"{server.url}/jobs", data=iter([b"x" * 3000, b"y" * 300_000]), timeout=5)
    assert resp.status_code == 413 and resp.json()["kind"] == "payload_too_large"
    small = requests.post(f"{server.url}/jobs", data=iter([b'{"a":', b"1}"]), timeout=5)
    assert small.status_code == 202 and recorder.events[-1]["body"] == '{"a":1}'


# --- the real API behind the socket ---------------------------------------------------------------


@pytest.fixture
def api_server(tmp_path: Path, files: LocalBlobStore) -> Iterator[tuple[Server, Any]]:
    api = make_api(tmp_path, max_body_bytes=4096)
    server = start(api.app.resolve, files)
    yield server, api
    server.shutdown()
    server.server_close()


def test_the_seed_request_works_over_http(api_server: tuple[Server, Any]) -> None:
    server, _ = api_server
    # The seed page's Python example, with only the base URL changed.
    res = requests.post(f"{server.url}/jobs", headers={"Authorization": f"Bearer {KEY_A}"},
                        json={"input": "https://example.com/upload.mov", "kind": "video",
                              "options": {"width": 1280, "height": 720, "format": "mp4", "quality": "high"}},
                        timeout=5)
    assert res.status_code == 201 and res.json()["status"] == "queued"
    listed = requests.get(f"{server.url}/jobs?limit=1", headers={"Authorization": f"Bearer {KEY_A}"}, timeout=5)
    assert listed.json()[0]["id"] == res.json()["id"] and listed.headers["Has-More"] == "false"
    unauthorised = requests.get(f"{server.url}/jobs", timeout=5)
    assert unauthorised.status_code == 401 and unauthorised.json()["kind"] == "token_missing"


def test_concurrent_posts_with_one_idempotency_key_create_one_job(api_server: tuple[Server, Any]) -> None:
    server, api = api_server
    barrier = threading.Barrier(8)
    replies: list[requests.Response] = []

    def post() -> None:
        barrier.wait()
        replies.append(requests.post(f"{server.url}/jobs", timeout=10, json={"input": "https://e.com/a.mp4",
                                     "kind": "audio"}, headers={"Authorization": f"Bearer {KEY_A}",
                                                                "Idempotency-Key": "once"}))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in replies) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in replies}) == 1
    assert len(api.orchestrator.calls) == 1


# --- signed downloads -------------------------------------------------------------------------------


def test_a_signed_link_downloads_the_file_with_its_media_type(api_server: tuple[Server, Any], files: LocalBlobStore,
                                                              tmp_path: Path) -> None:
    payload = bytes(range(256)) * 40
    source = tmp_path / "src.mp4"
    source.write_bytes(payload)
    files.put_file("jobs/job_1/clip.mp4", source)
    url = files.signed_url("jobs/job_1/clip.mp4", 60)
    resp = requests.get(url, timeout=5)  # no API key
    assert resp.status_code == 200 and resp.content == payload
    assert resp.headers["Content-Type"] == "video/mp4" and resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    head = requests.head(url, timeout=5)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(payload)) and not head.content


def test_links_issued_under_files_before_the_move_still_download(api_server: tuple[Server, Any],
                                                                 files: LocalBlobStore, tmp_path: Path) -> None:
    (tmp_path / "old.mp4").write_bytes(b"old link")
    files.put_file("jobs/old/clip.mp4", tmp_path / "old.mp4")
    fresh = files.signed_url("jobs/old/clip.mp4", 60)
    assert "/downloads/jobs/old/clip.mp4?" in fresh
    expires = int(fresh.split("expires=")[1].split("&")[0])
    legacy = fresh.replace("/downloads/", "/files/").split("signature=")[0] + "signature=" + sign(
        files.secret, "jobs/old/clip.mp4", expires, LEGACY_DOWNLOADS_ROUTE)
    resp = requests.get(legacy, headers={"Range": "bytes=0-2"}, timeout=5)
    assert (resp.status_code, resp.content) == (206, b"old")
    # the new link's signature covers /downloads/ only: moved back under /files/ it is no link
    moved = requests.get(fresh.replace("/downloads/", "/files/"), timeout=5)
    assert (moved.status_code, moved.json()["kind"]) == (403, "signature_invalid")


@pytest.mark.parametrize(("header", "status", "content_range", "part"), [
    ("bytes=10-19", 206, "bytes 10-19/10240", slice(10, 20)),
    ("bytes=10240-", 416, "bytes */10240", slice(0, 0)),
    ("bytes=10000-", 206, "bytes 10000-10239/10240", slice(10000, None)),
    ("bytes=-16", 206, "bytes 10224-10239/10240", slice(-16, None)),
    ("bytes=0-99999", 206, "bytes 0-10239/10240", slice(0, None)),
    ("bytes=0-1,5-6", 200, None, slice(None)),  # several ranges: the whole file is a valid answer
    ("items=1-2", 200, None, slice(None)),
])
def test_range_requests(api_server: tuple[Server, Any], files: LocalBlobStore, tmp_path: Path, header: str,
                        status: int, content_range: str | None, part: slice) -> None:
    payload = bytes(range(256)) * 40
    (tmp_path / "a.mp3").write_bytes(payload)
    files.put_file("jobs/j/a.mp3", tmp_path / "a.mp3")
    resp = requests.get(files.signed_url("jobs/j/a.mp3", 60), headers={"Range": header}, timeout=5)
    assert resp.status_code == status
    assert resp.headers.get("Content-Range") == content_range
    assert resp.content == payload[part]
    assert resp.headers["Content-Type"] == ("audio/mpeg" if status != 416 else resp.headers["Content-Type"])


def test_bad_missing_and_expired_signatures_are_403(api_server: tuple[Server, Any], files: LocalBlobStore,
                                                    tmp_path: Path) -> None:
    (tmp_path / "x.mp4").write_bytes(b"secret")
    files.put_file("jobs/a/x.mp4", tmp_path / "x.mp4")
    files.put_file("jobs/b/y.mp4", tmp_path / "x.mp4")
    good = files.signed_url("jobs/a/x.mp4", 60)
    base, _, query = good.partition("?")
    cases = {
        "signature_missing": base,
        "signature_invalid": base + "?" + query.replace("signature=", "signature=AAAA"),
        "link_expired": files.signed_url("jobs/a/x.mp4", -10),
    }
    other = files.signed_url("jobs/b/y.mp4", 60)
    cases_tampered = [base.replace("jobs/a/x.mp4", "jobs/b/y.mp4") + "?" + query,  # a's signature on b's file
                      other.replace("expires=", "expires=9")]  # a longer life than was signed
    for kind, url in cases.items():
        resp = requests.get(url, timeout=5)
        assert (resp.status_code, resp.json()["kind"]) == (403, kind), url
        assert resp.json()["message"]
    for url in cases_tampered:
        resp = requests.get(url, timeout=5)
        assert (resp.status_code, resp.json()["kind"]) == (403, "signature_invalid")
    assert requests.get(good, timeout=5).content == b"secret"
    assert requests.post(good, timeout=5).status_code == 405


def test_a_signed_link_to_a_deleted_file_is_404(api_server: tuple[Server, Any], files: LocalBlobStore) -> None:
    resp = requests.get(files.signed_url("jobs/gone/x.mp4", 60), timeout=5)
    assert (resp.status_code, resp.json()["kind"]) == (404, "not_found")


MASTER = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360
360p/stream.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2800000,RESOLUTION=1280x720
720p/stream.m3u8
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio/stream.m3u8"
../../elsewhere/private.m3u8
https://cdn.example/absolute.m3u8
"""
RENDITION = """#EXTM3U
#EXT-X-TARGETDURATION:6
#EXT-X-MAP:URI="init.mp4"
#EXTINF:6.0,
segment-0.ts
#EXTINF:6.0,
segment-1.ts
#EXT-X-ENDLIST
"""


def test_a_signed_hls_master_playlist_is_playable_through_relative_links(
        api_server: tuple[Server, Any], files: LocalBlobStore, tmp_path: Path) -> None:
    tree = tmp_path / "hls"
    (tree / "720p").mkdir(parents=True)
    (tree / "360p").mkdir()
    (tree / "upload.m3u8").write_text(MASTER)
    (tree / "720p" / "stream.m3u8").write_text(RENDITION)
    (tree / "360p" / "stream.m3u8").write_text(RENDITION)
    (tree / "720p" / "segment-0.ts").write_bytes(b"\x47" * 188)
    (tree / "720p" / "init.mp4").write_bytes(b"init")
    files.put_tree("jobs/job_9", tree)
    master_url = files.signed_url("jobs/job_9/upload.m3u8", 120)

    master = requests.get(master_url, timeout=5)
    assert master.status_code == 200
    assert master.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    lines = master.text.splitlines()
    expires = dict(p.split("=") for p in urlsplit(master_url).query.split("&"))["expires"]
    assert lines[3].startswith("360p/stream.m3u8?expires=" + expires + "&signature=")
    assert 'URI="audio/stream.m3u8?expires=' in master.text
    assert "../../elsewhere/private.m3u8\n" in master.text  # outside the job folder: not signed
    assert "https://cdn.example/absolute.m3u8\n" in master.text

    # What a player does: resolve the rendition against the master URL, then the segments against that.
    rendition_url = urljoin(master_url, lines[5])
    rendition = requests.get(rendition_url, timeout=5)
    assert rendition.status_code == 200
    segment_line = next(line for line in rendition.text.splitlines() if line.startswith("segment-0.ts"))
    segment = requests.get(urljoin(rendition_url, segment_line), timeout=5)
    assert segment.status_code == 200 and segment.content == b"\x47" * 188
    assert segment.headers["Content-Type"] == "video/mp2t"
    init_uri = rendition.text.split('URI="')[1].split('"')[0]
    assert requests.get(urljoin(rendition_url, init_uri), timeout=5).content == b"init"
    # Without the signature the same segment is refused.
    unsigned = urljoin(rendition_url, "segment-0.ts")
    assert requests.get(unsigned, timeout=5).status_code == 403


def test_a_slow_client_does_not_block_others(api_server: tuple[Server, Any]) -> None:
    server, _ = api_server
    with socket.create_connection(server.server_address[:2], timeout=5) as idle:
        idle.sendall(b"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")  # never finishes
        assert requests.get(f"{server.url}/health", timeout=30).status_code == 200


# --- framing and numbers an attacker controls (each of these once got a 500, two answers or no limit) ----


def _responses(reply: bytes) -> list[bytes]:
    return [part for part in reply.split(b"HTTP/1.1 ")[1:]]


@pytest.mark.parametrize("request_bytes", [
    # a chunk size of -1 once lifted the body limit: the server buffered 1 GB
    b"POST /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n" + b"a" * 100_000,
    b"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: \xb2\r\n\r\n{}",  # a superscript two
    b"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n{}",
    b"GARBAGE\r\n\r\n",  # a malformed request line once got no answer at all
], ids=["chunk-size-minus-one", "non-ascii-content-length", "5000-digit-content-length", "bad-request-line"])
def test_malformed_framing_gets_one_json_400_and_the_connection_closes(recorded: tuple[Server, Recorder],
                                                                        request_bytes: bytes) -> None:
    server, recorder = recorded
    responses = _responses(_raw(server, request_bytes))  # _raw reads until the server closes
    assert len(responses) == 1 and responses[0].startswith(b"400")
    assert json.loads(responses[0].partition(b"\r\n\r\n")[2])["kind"] == "request_invalid"
    assert recorder.events == []
    assert requests.get(f"{server.url}/health", timeout=5).status_code == 202  # still serving


@pytest.mark.parametrize("headers", [b"Content-Length: 2\r\nContent-Length: 30\r\n",
                                     b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"],
                         ids=["two-content-lengths", "content-length-and-chunked"])
def test_ambiguous_framing_is_answered_once_not_as_two_requests(recorded: tuple[Server, Recorder],
                                                                headers: bytes) -> None:
    server, recorder = recorded
    # Behind a proxy that reads the other length, the bytes after the body would be a smuggled request.
    smuggled = b"POST /jobs HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    responses = _responses(_raw(server, smuggled))
    assert len(responses) == 1 and responses[0].startswith(b"400")
    assert not any(event["rawPath"] == "/smuggled" for event in recorder.events)


@pytest.mark.parametrize("query", ["expires=%C2%B2&signature=x", "expires=" + "9" * 5000 + "&signature=x",
                                   "expires=%EF%BC%91%EF%BC%92&signature=x"],  # fullwidth digits
                         ids=["superscript", "5000-digits", "fullwidth"])
def test_an_expiry_that_is_not_an_ascii_number_is_a_403_not_a_500(api_server: tuple[Server, Any],
                                                                   query: str) -> None:
    server, _ = api_server
    resp = requests.get(f"{server.url}/downloads/jobs/a/x.mp4?{query}", timeout=5)
    assert (resp.status_code, resp.json()["kind"]) == (403, "signature_missing")


@pytest.mark.parametrize("header", ["bytes=" + "9" * 5000 + "-", "bytes=-" + "9" * 5000, "bytes=\u00b2-\u00b3"])
def test_a_range_with_huge_or_non_ascii_numbers_is_ignored(api_server: tuple[Server, Any], files: LocalBlobStore,
                                                           tmp_path: Path, header: str) -> None:
    (tmp_path / "a.mp4").write_bytes(b"0123456789")
    files.put_file("jobs/j/a.mp4", tmp_path / "a.mp4")
    resp = requests.get(files.signed_url("jobs/j/a.mp4", 60), headers={"Range": header.encode()}, timeout=5)
    assert resp.status_code == 200 and resp.content == b"0123456789"


def test_a_client_that_never_reads_a_big_answer_does_not_hold_up_others(
        api_server: tuple[Server, Any], files: LocalBlobStore, tmp_path: Path) -> None:
    server, _ = api_server
    (tmp_path / "big.mp4").write_bytes(b"\0" * 8_000_000)
    files.put_file("jobs/j/big.mp4", tmp_path / "big.mp4")
    request = f"GET {files.signed_url('jobs/j/big.mp4', 60).split(server.url, 1)[1]} HTTP/1.1\r\nHost: x\r\n\r\n"
    stalled = []
    for _ in range(20):  # each asks for 8 MB and never reads a byte of it
        sock = socket.create_connection(server.server_address[:2], timeout=5)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(request.encode())
        stalled.append(sock)
    try:
        assert requests.get(f"{server.url}/health", timeout=10).status_code == 200
    finally:
        for sock in stalled:
            sock.close()
