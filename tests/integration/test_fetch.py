"""The input fetcher against real sockets: a local HTTP(S) server on 127.0.0.1, S3 under moto, files.

127.0.0.1 is forbidden to API inputs, so tests either turn the address check off
(`allow_private_urls=True`) or, to exercise the check itself, use `public_names`: a fake resolver
that maps a few names to the local server and treats exactly those names as public.
"""

from __future__ import annotations

import datetime
import http.server
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mediajet.errors import ProcessingError, TransientError
from mediajet.settings import Settings
from mediajet.storage import fetch as fetch_module
from mediajet.storage import http_fetch, ssrf
from mediajet.storage.fetch import fetch

CLIP = bytes(range(256)) * 1024  # 256 KiB, more than one read chunk of a slow path, less than a second
OPEN = Settings(allow_private_urls=True, connect_timeout_s=1.0, read_timeout_s=0.3, max_redirects=2,
                max_input_bytes=1024 * 1024)
STRICT = OPEN.model_copy(update={"allow_private_urls": False})


# --- a local server whose paths script the behaviours under test ----------------------------------


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class LocalServer:
    port: int
    requests: list[Seen] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    sni: list[str | None] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        state: LocalServer = self.server.state
        state.requests.append(Seen(self.path, dict(self.headers.items())))
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        route = getattr(self, "route_" + parts.path.strip("/").replace("-", "_").split("/")[0], None)
        if route is None:
            self.send_error(404, "no such file")
            return
        route(state, query)

    def send_bytes(self, body: bytes, content_type: str = "video/mp4") -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route_clip(self, state: LocalServer, query: dict[str, str]) -> None:
        self.send_bytes(CLIP)

    def route_redirect(self, state: LocalServer, query: dict[str, str]) -> None:
        self.redirect(query["to"], int(query.get("status", "302")))

    def route_hops(self, state: LocalServer, query: dict[str, str]) -> None:
        left = int(self.path.split("/")[2])  # /hops/3 → /hops/2 → ... → /clip, relative each time
        self.redirect(f"../hops/{left - 1}" if left > 1 else "/clip")

    def route_declared_huge(self, state: LocalServer, query: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(10**12))
        self.end_headers()
        self.wfile.write(b"x" * 1024)

    def route_chunked(self, state: LocalServer, query: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        piece = b"y" * 64 * 1024
        for _ in range(int(query.get("chunks", "40"))):
            try:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            except OSError:  # the client gave up: that is the point
                return
        self.wfile.write(b"0\r\n\r\n")

    def route_short(self, state: LocalServer, query: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5000")
        self.end_headers()
        self.wfile.write(b"z" * 100)
        self.close_connection = True

    def route_status(self, state: LocalServer, query: dict[str, str]) -> None:
        self.send_error(int(self.path.split("/")[2]))

    def route_stall(self, state: LocalServer, query: dict[str, str]) -> None:
        state.release.wait(5)

    def route_stall_body(self, state: LocalServer, query: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(CLIP)))
        self.end_headers()
        self.wfile.write(CLIP[:1000])
        self.wfile.flush()
        state.release.wait(5)


def start_server(tls: ssl.SSLContext | None = None) -> tuple[http.server.ThreadingHTTPServer, LocalServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]  # refused handshakes are the point
    state = LocalServer(server.server_address[1])
    server.state = state  # type: ignore[attr-defined]
    if tls is not None:
        tls.sni_callback = lambda sock, name, ctx: state.sni.append(name)  # type: ignore[assignment]
        # Handshake in the handler thread, not in the accept loop.
        server.socket = tls.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server, state


@pytest.fixture
def local() -> Iterator[LocalServer]:
    server, state = start_server()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def public_names(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """name → the answers the fake resolver gives, one per lookup (the last one repeats). Exactly these
    names count as public to the address check; every other name and literal is checked for real."""
    answers: dict[str, list[str]] = {}
    lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo
    real_check = ssrf.check_address

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        lookups.append(host)
        if host not in answers:
            return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]
        queue = answers[host]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    def check_treating_names_as_public(ip: Any, *, host: str | None = None) -> None:
        if host in answers:
            return
        real_check(ip, host=host)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(ssrf, "check_address", check_treating_names_as_public)
    answers["__lookups__"] = lookups  # read by tests that count lookups
    return answers


def fetch_error(url: str, tmp_path: Path, settings: Settings = OPEN, **kwargs: Any) -> ProcessingError:
    dest = tmp_path / "input"
    with pytest.raises(ProcessingError) as caught:
        fetch(url, dest, settings=settings, **kwargs)
    assert not dest.exists(), "a failed fetch must leave no file behind"
    return caught.value


# --- downloads -----------------------------------------------------------------------------------


def test_a_download_streams_the_exact_bytes_to_disk(local: LocalServer, tmp_path: Path) -> None:
    result = fetch(local.url("/clip?sig=abc"), tmp_path / "input", settings=OPEN)
    assert result.path.read_bytes() == CLIP
    assert (result.size, result.content_type) == (len(CLIP), "video/mp4")
    assert result.final_url == local.url("/clip?sig=abc")
    sent = local.requests[0].headers
    assert sent["User-Agent"].startswith("mediajet/")
    assert sent["Host"] == f"127.0.0.1:{local.port}"


def test_credentials_cookies_and_proxies_are_never_used(local: LocalServer, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # a proxy that would refuse every request
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    result = fetch(local.url("/clip", host="user:secret@127.0.0.1"), tmp_path / "input", settings=OPEN)
    assert result.path.read_bytes() == CLIP
    sent = {k.lower() for k in local.requests[0].headers}
    assert not sent & {"authorization", "cookie", "proxy-authorization"}
    assert "secret" not in result.final_url


def test_the_loopback_server_is_forbidden_without_the_private_flag(local: LocalServer, tmp_path: Path) -> None:
    error = fetch_error(local.url("/clip"), tmp_path, STRICT)
    assert error.kind == "input_forbidden"
    assert "127.0.0.1" in error.message and "loopback" in error.message
    assert local.requests == [], "nothing may reach the forbidden address"


def test_the_connection_goes_to_the_checked_address_without_a_second_lookup(
        local: LocalServer, public_names: dict[str, Any], tmp_path: Path) -> None:
    # First answer: the local server. Any later lookup would get 127.0.0.2, where nothing listens.
    public_names["media.example"] = ["127.0.0.1", "127.0.0.2"]
    result = fetch(local.url("/clip", host="media.example"), tmp_path / "input", settings=STRICT)
    assert result.path.read_bytes() == CLIP
    assert public_names["__lookups__"] == ["media.example"]
    assert local.requests[0].headers["Host"] == f"media.example:{local.port}"  # the name, not the address


def test_relative_redirects_are_followed_within_the_limit(local: LocalServer, tmp_path: Path) -> None:
    result = fetch(local.url("/hops/2"), tmp_path / "input", settings=OPEN)
    assert result.path.read_bytes() == CLIP
    assert result.final_url == local.url("/clip")
    assert [r.path for r in local.requests] == ["/hops/2", "/hops/1", "/clip"]


def test_more_redirects_than_allowed_fail(local: LocalServer, tmp_path: Path) -> None:
    error = fetch_error(local.url("/hops/3"), tmp_path)
    assert error.kind == "input_unreachable" and not error.transient
    assert "more than 2 times" in error.message
    assert len(local.requests) == 3


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/clip", "http://169.254.169.254/latest/meta-data/",
                                    "http://localhost:{port}/clip", "http://[::ffff:127.0.0.1]:{port}/clip",
                                    "http://0x7f.1:{port}/clip"])
def test_a_redirect_to_an_internal_address_is_refused_after_an_allowed_first_hop(
        target: str, local: LocalServer, public_names: dict[str, Any], tmp_path: Path) -> None:
    public_names["media.example"] = ["127.0.0.1"]
    location = target.format(port=local.port)
    url = local.url(f"/redirect?to={location}", host="media.example")
    error = fetch_error(url, tmp_path, STRICT)
    assert error.kind == "input_forbidden"
    assert "redirected to" in error.message and "media.example" in error.message
    assert [r.path.split("?")[0] for r in local.requests] == ["/redirect"], "the second hop never connects"


@pytest.mark.parametrize("location", ["ftp://example.com/clip.mp4", "file:///etc/passwd",
                                      "gopher://127.0.0.1:6379/_INFO"])
def test_a_redirect_to_another_scheme_is_refused(location: str, local: LocalServer, tmp_path: Path) -> None:
    error = fetch_error(local.url(f"/redirect?to={location}"), tmp_path)
    assert error.kind == "input_forbidden"
    assert "http:// or https://" in error.message


# --- limits ---------------------------------------------------------------------------------------


def test_a_declared_length_over_the_limit_is_refused_before_reading(local: LocalServer, tmp_path: Path) -> None:
    error = fetch_error(local.url("/declared-huge"), tmp_path)
    assert error.kind == "input_too_large"
    assert "931.3 GiB" in error.message and "1.0 MiB" in error.message  # the declared size, the limit


def test_a_chunked_body_over_the_limit_is_cut_off(local: LocalServer, tmp_path: Path) -> None:
    error = fetch_error(local.url("/chunked?chunks=40"), tmp_path)  # 2.5 MiB against a 1 MiB limit
    assert error.kind == "input_too_large"
    assert "larger than 1.0 MiB" in error.message


def test_a_chunked_body_under_the_limit_is_kept(local: LocalServer, tmp_path: Path) -> None:
    result = fetch(local.url("/chunked?chunks=3"), tmp_path / "input", settings=OPEN)
    assert result.size == 3 * 64 * 1024 == result.path.stat().st_size


def test_a_body_shorter_than_its_content_length_is_retried_not_kept(local: LocalServer, tmp_path: Path) -> None:
    error = fetch_error(local.url("/short"), tmp_path)
    assert isinstance(error, TransientError) and error.kind == "input_unreachable"


# --- failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410, 401, 403])
def test_client_errors_are_unreachable_and_final(status: int, local: LocalServer, tmp_path: Path) -> None:
    error = fetch_error(local.url(f"/status/{status}"), tmp_path)
    assert error.kind == "input_unreachable" and not error.transient
    assert f"HTTP {status}" in error.message


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_throttling_are_retried(status: int, local: LocalServer, tmp_path: Path) -> None:
    error = fetch_error(local.url(f"/status/{status}"), tmp_path)
    assert isinstance(error, TransientError) and error.kind == "input_unreachable"
    assert f"HTTP {status}" in error.message


@pytest.mark.parametrize("path", ["/stall", "/stall-body"])
def test_a_server_that_stalls_times_out_and_is_retried(path: str, local: LocalServer, tmp_path: Path) -> None:
    error = fetch_error(local.url(path), tmp_path)
    assert isinstance(error, TransientError) and error.kind == "input_unreachable"
    assert "sent nothing for 0.3 s" in error.message


def test_a_refused_connection_is_unreachable(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    error = fetch_error(f"http://127.0.0.1:{port}/clip", tmp_path)
    assert error.kind == "input_unreachable" and not error.transient
    assert "refused" in error.message


def test_a_non_http_server_is_unreachable(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def babble() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

        threading.Thread(target=babble, daemon=True).start()
        error = fetch_error(f"http://127.0.0.1:{listener.getsockname()[1]}/clip", tmp_path)
    assert error.kind == "input_unreachable" and not error.transient
    assert "valid HTTP" in error.message


# --- TLS ------------------------------------------------------------------------------------------


@dataclass
class TlsFiles:
    ca: Path
    cert_chain: Path
    key: Path


def make_tls_files(directory: Path, name: str) -> TlsFiles:
    """A throwaway CA and a leaf certificate for `name`, strict enough for Python 3.13's verifier."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mediajet test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "chain.pem", directory / "key.pem")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert_chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    return files


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"), "media.example")


@pytest.fixture
def tls_server(tls_files: TlsFiles) -> Iterator[LocalServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files.cert_chain, tls_files.key)
    server, state = start_server(context)
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def trust_test_ca(tls_files: TlsFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    context = ssl.create_default_context(cafile=str(tls_files.ca))
    monkeypatch.setattr(http_fetch, "tls_context", lambda: context)


def test_https_verifies_the_certificate_against_the_name_while_connecting_to_the_checked_address(
        tls_server: LocalServer, trust_test_ca: None, public_names: dict[str, Any], tmp_path: Path) -> None:
    public_names["media.example"] = ["127.0.0.1", "127.0.0.2"]
    result = fetch(tls_server.url("/clip", host="media.example", scheme="https"), tmp_path / "input",
                   settings=STRICT)
    assert result.path.read_bytes() == CLIP
    assert tls_server.sni == ["media.example"]
    assert public_names["__lookups__"] == ["media.example"]


def test_a_certificate_for_another_name_is_a_tls_error(tls_server: LocalServer, trust_test_ca: None,
                                                       public_names: dict[str, Any], tmp_path: Path) -> None:
    public_names["other.example"] = ["127.0.0.1"]
    error = fetch_error(tls_server.url("/clip", host="other.example", scheme="https"), tmp_path, STRICT)
    assert error.kind == "input_unreachable" and not error.transient
    assert "TLS" in error.message and "other.example" in error.message


def test_an_untrusted_certificate_is_a_tls_error(tls_server: LocalServer, public_names: dict[str, Any],
                                                 tmp_path: Path) -> None:
    public_names["media.example"] = ["127.0.0.1"]
    error = fetch_error(tls_server.url("/clip", host="media.example", scheme="https"), tmp_path, STRICT)
    assert error.kind == "input_unreachable"
    assert "TLS" in error.message and "certificate" in error.message


def test_a_redirect_from_https_down_to_http_is_refused(tls_server: LocalServer, local: LocalServer,
                                                       trust_test_ca: None, public_names: dict[str, Any],
                                                       tmp_path: Path) -> None:
    public_names["media.example"] = ["127.0.0.1"]
    down = local.url("/clip", host="media.example")
    error = fetch_error(tls_server.url(f"/redirect?to={down}", host="media.example", scheme="https"),
                        tmp_path, STRICT)
    assert error.kind == "input_forbidden" and "https to plain http" in error.message
    assert local.requests == []


# --- schemes and local files ----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/clip.mp4", "file:///etc/hostname", "/etc/hostname"])
def test_api_inputs_may_not_use_other_schemes_or_local_files(url: str, tmp_path: Path) -> None:
    error = fetch_error(url, tmp_path)
    assert error.kind == "invalid_input"


def test_the_local_cli_may_read_file_urls_and_paths(tmp_path: Path) -> None:
    source = tmp_path / "my clip.mp4"
    source.write_bytes(CLIP)
    by_url = fetch(source.as_uri(), tmp_path / "a" / "input", settings=OPEN, allow_local=True)
    by_path = fetch(str(source), tmp_path / "b" / "input", settings=OPEN, allow_local=True)
    for result in (by_url, by_path):
        assert result.path.read_bytes() == CLIP and result.size == len(CLIP)
        assert result.content_type == "video/mp4"
    assert source.read_bytes() == CLIP, "the original is left in place"


def test_a_missing_local_file_is_unreachable_and_named(tmp_path: Path) -> None:
    error = fetch_error((tmp_path / "missing.mp4").as_uri(), tmp_path, allow_local=True)
    assert error.kind == "input_unreachable" and "missing.mp4" in error.message


def test_a_local_file_over_the_limit_is_too_large(tmp_path: Path) -> None:
    source = tmp_path / "big.mp4"
    source.write_bytes(b"\0" * (OPEN.max_input_bytes + 1))
    assert fetch_error(str(source), tmp_path, allow_local=True).kind == "input_too_large"


def test_turning_the_address_check_off_is_logged_once(local: LocalServer, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(fetch_module, "_private_warning_logged", False)
    with caplog.at_level(logging.WARNING, logger="mediajet.storage.fetch"):
        fetch(local.url("/clip"), tmp_path / "one", settings=OPEN)
        fetch(local.url("/clip"), tmp_path / "two", settings=OPEN)
    warnings = [r for r in caplog.records if "address check is off" in r.getMessage()]
    assert len(warnings) == 1


# --- S3 -------------------------------------------------------------------------------------------


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="inputs")
        client.put_object(Bucket="inputs", Key="clips/my clip?.mp4", Body=CLIP, ContentType="video/mp4")
        yield client


def test_an_s3_input_is_downloaded(s3: Any, tmp_path: Path) -> None:
    result = fetch("s3://inputs/clips/my clip?.mp4", tmp_path / "input", settings=OPEN, s3_client=s3)
    assert result.path.read_bytes() == CLIP
    assert (result.size, result.content_type) == (len(CLIP), "video/mp4")


def test_an_s3_client_is_created_when_none_is_given(s3: Any, tmp_path: Path) -> None:
    result = fetch("s3://inputs/clips/my clip?.mp4", tmp_path / "input", settings=OPEN)
    assert result.path.read_bytes() == CLIP


def test_a_missing_s3_key_is_unreachable(s3: Any, tmp_path: Path) -> None:
    error = fetch_error("s3://inputs/clips/nope.mp4", tmp_path, s3_client=s3)
    assert error.kind == "input_unreachable" and not error.transient
    assert "s3://inputs/clips/nope.mp4" in error.message


def test_an_s3_object_over_the_limit_is_refused_before_download(s3: Any, tmp_path: Path) -> None:
    small = OPEN.model_copy(update={"max_input_bytes": 1000})
    error = fetch_error("s3://inputs/clips/my clip?.mp4", tmp_path, small, s3_client=s3)
    assert error.kind == "input_too_large" and "256.0 KiB" in error.message


class RefusingS3:
    """A client whose every call fails with one S3 error code."""

    def __init__(self, code: str, status: int) -> None:
        self.code, self.status = code, status

    def head_object(self, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": self.code, "Message": "no"},
                           "ResponseMetadata": {"HTTPStatusCode": self.status}}, "HeadObject")


@pytest.mark.parametrize(("code", "status", "kind", "transient"), [
    ("403", 403, "input_forbidden", False),
    ("AccessDenied", 403, "input_forbidden", False),
    ("NoSuchBucket", 404, "input_unreachable", False),
    ("SlowDown", 503, "input_unreachable", True),
    ("InternalError", 500, "input_unreachable", True),
])
def test_s3_errors_map_to_job_errors(code: str, status: int, kind: str, transient: bool, tmp_path: Path) -> None:
    error = fetch_error("s3://inputs/clip.mp4", tmp_path, s3_client=RefusingS3(code, status))
    assert (error.kind, error.transient) == (kind, transient)


@pytest.mark.parametrize("url", ["s3://", "s3://bucket-only", "s3://bucket/"])
def test_an_s3_url_without_a_key_is_invalid(url: str, tmp_path: Path) -> None:
    assert fetch_error(url, tmp_path, s3_client=RefusingS3("500", 500)).kind == "invalid_input"


# --- S3 to S3: the input is copied inside S3 and probed where it lands ------------------------------


def test_an_s3_input_is_copied_inside_s3_pinned_to_the_version_it_sized(s3: Any) -> None:
    from mediajet.storage.s3 import S3BlobStore
    from mediajet.storage.s3_fetch import copy_s3

    s3.create_bucket(Bucket="work")
    s3.put_bucket_versioning(Bucket="inputs", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="inputs", Key="v.mp4", Body=CLIP)
    work = S3BlobStore("work", client=s3, multipart_threshold=5 * 1024 * 1024)
    copy_s3("s3://inputs/v.mp4", work, "jobs/j/input", settings=OPEN)
    assert s3.get_object(Bucket="work", Key="jobs/j/input")["Body"].read() == CLIP

    small = OPEN.model_copy(update={"max_input_bytes": 1000})
    with pytest.raises(ProcessingError) as caught:
        copy_s3("s3://inputs/v.mp4", work, "jobs/k/input", settings=small)
    assert caught.value.kind == "input_too_large" and not work.exists("jobs/k/input"), "refused before copying"
    with pytest.raises(ProcessingError) as missing:
        copy_s3("s3://inputs/nope.mp4", work, "jobs/k/input", settings=OPEN)
    assert missing.value.kind == "input_unreachable" and "s3://inputs/nope.mp4" in missing.value.message


def test_a_video_in_s3_is_probed_in_working_storage_without_a_download(s3: Any, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from mediajet.pipeline import transfer
    from mediajet.pipeline.context import StepContext
    from mediajet.storage.s3 import S3BlobStore
    from tests.media import make_video

    s3.create_bucket(Bucket="work")
    s3.upload_file(str(make_video(tmp_path / "clip.mp4")), "inputs", "clip.mp4")
    work = S3BlobStore("work", client=s3)

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("the input passed through this process")

    monkeypatch.setattr(transfer, "fetch", no_download)
    monkeypatch.setattr(S3BlobStore, "local_path", no_download)
    ctx = StepContext(jobs=None, work=work, outputs=work, settings=OPEN, scratch=tmp_path / "scratch",  # type: ignore[arg-type]
                      s3_client=s3)
    found = transfer.fetch_and_probe(ctx, "s3://inputs/clip.mp4", "jobs/j/input")
    assert (found.kind, found.format, found.width, found.height) == ("video", "mp4", 320, 240)
    assert found.duration == pytest.approx(2, abs=0.1) and found.url == "s3://inputs/clip.mp4"
    assert work.size("jobs/j/input") == (tmp_path / "clip.mp4").stat().st_size
