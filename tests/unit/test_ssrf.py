"""The address policy, seen from the URL a stranger sends: every spelling of an internal address ends
in input_forbidden before any connection is made; public addresses pass."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from mediajet.errors import ProcessingError, TransientError
from mediajet.settings import Settings
from mediajet.storage import ssrf
from mediajet.storage.fetch import fetch
from mediajet.storage.http_fetch import resolve_target

STRICT = Settings(allow_private_urls=False, connect_timeout_s=0.5, read_timeout_s=0.5)

# Names the fake resolver answers; anything else goes to the real one (localhost stays real).
FAKE_DNS: dict[str, list[str]] = {
    "internal.example": ["10.0.0.5"],
    "internal.example.": ["10.0.0.5"],  # the absolute form of the same name
    "metadata.example": ["169.254.169.254"],
    "loopback6.example": ["::1"],
    "ula.example": ["fd12:3456::1"],
    "mapped.example": ["::ffff:192.168.0.10"],
    "mixed.example": ["93.184.216.34", "10.0.0.1"],
    "mixed6.example": ["2606:2800:220:1::1", "fe80::1"],
    "public.example": ["93.184.216.34", "2606:2800:220:1::1"],
}


def _answer(address: str, port: int) -> tuple:
    if ":" in address:
        return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))


@pytest.fixture(autouse=True)
def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fake DNS for the names above, and a tripwire: nothing in this file may open a connection."""
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        lookups.append(host)
        if host in FAKE_DNS:
            return [_answer(a, int(port)) for a in FAKE_DNS[host]]
        return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]

    def refuse_connect(self: socket.socket, address: object) -> None:
        raise AssertionError(f"the fetcher connected to {address} although the address is forbidden")

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    return lookups


def forbidden_reason(url: str, tmp_path: Path) -> str:
    dest = tmp_path / "input"
    with pytest.raises(ProcessingError) as caught:
        fetch(url, dest, settings=STRICT)
    assert caught.value.kind == "input_forbidden", caught.value.message
    assert not caught.value.transient
    assert not dest.exists()
    return caught.value.message


LITERAL_PAYLOADS = [
    # (url, the address the message must name, words the message must contain)
    ("http://127.0.0.1/", "127.0.0.1", "loopback"),
    ("http://127.0.0.1:8080/admin", "127.0.0.1", "loopback"),
    ("http://2130706433/", "127.0.0.1", "loopback"),  # one decimal integer
    ("http://0177.0.0.1/", "127.0.0.1", "loopback"),  # octal
    ("http://017700000001/", "127.0.0.1", "loopback"),  # one octal integer
    ("http://0x7f.1/", "127.0.0.1", "loopback"),  # hex, short form
    ("http://0x7f000001/", "127.0.0.1", "loopback"),
    ("http://127.1/", "127.0.0.1", "loopback"),  # short form
    ("http://127.0.1/", "127.0.0.1", "loopback"),
    ("http://127.0.0.1./", "127.0.0.1", "loopback"),  # trailing dot
    ("HTTP://127.0.0.1/", "127.0.0.1", "loopback"),
    ("http://[::1]/", "::1", "loopback"),
    ("http://[0:0:0:0:0:0:0:1]/", "::1", "loopback"),
    ("http://[::1%25lo]/", "::1", "loopback"),  # zone id
    ("http://[::ffff:127.0.0.1]/", "127.0.0.1", "IPv4-mapped"),
    ("http://[::ffff:7f00:1]/", "127.0.0.1", "IPv4-mapped"),
    ("http://[::ffff:169.254.169.254]/", "169.254.169.254", "metadata"),
    ("http://[::127.0.0.1]/", "127.0.0.1", "IPv4-compatible"),
    ("http://[64:ff9b::7f00:1]/", "127.0.0.1", "NAT64"),
    ("http://[2002:7f00:1::]/", "127.0.0.1", "6to4"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254", "metadata"),
    ("http://169.254.169.254/latest/meta-data/iam/", "169.254.169.254", "metadata"),
    ("http://169.254.169.254./", "169.254.169.254", "metadata"),
    ("http://0xa9fea9fe/", "169.254.169.254", "metadata"),
    ("http://2852039166/", "169.254.169.254", "metadata"),
    ("http://169.254.170.2/v2/credentials", "169.254.170.2", "metadata"),  # ECS task role
    ("http://169.254.1.1/", "169.254.1.1", "link-local"),
    ("http://[fe80::1%25eth0]/", "fe80::1", "link-local"),
    ("http://0.0.0.0/", "0.0.0.0", "unspecified"),
    ("http://0/", "0.0.0.0", "unspecified"),
    ("http://[::]/", "::", "unspecified"),
    ("http://0.1.2.3/", "0.1.2.3", "this network"),
    ("http://10.0.0.1/", "10.0.0.1", "private"),
    ("http://172.16.0.1/", "172.16.0.1", "private"),
    ("http://172.31.255.255/", "172.31.255.255", "private"),
    ("http://192.168.1.1/", "192.168.1.1", "private"),
    ("http://[fc00::1]/", "fc00::1", "unique local"),
    ("http://100.64.0.1/", "100.64.0.1", "carrier-grade NAT"),
    ("http://100.127.255.254/", "100.127.255.254", "carrier-grade NAT"),
    ("http://224.0.0.1/", "224.0.0.1", "multicast"),
    ("http://[ff02::1]/", "ff02::1", "multicast"),
    ("http://255.255.255.255/", "255.255.255.255", "broadcast"),
    ("http://240.0.0.1/", "240.0.0.1", "reserved"),
    ("http://192.0.0.192/", "192.0.0.192", "metadata"),  # Oracle Cloud; Python 3.11 calls it global
    ("http://192.0.0.9/", "192.0.0.9", "IETF protocol"),
    ("http://198.18.0.1/", "198.18.0.1", "benchmarking"),
    ("http://203.0.113.7/", "203.0.113.7", "documentation"),
    ("http://[3fff::1]/", "3fff::1", "documentation"),  # Python 3.11 and 3.13 call it global
    ("http://[5f00::1]/", "5f00::1", "segment routing"),
    ("http://[2001:20::1]/", "2001:20::1", "IETF protocol"),
    ("http://[2001:db8::1]/", "2001:db8::1", "documentation"),
    ("http://[::ffff:0:7f00:1]/", "::ffff:0:7f00:1", "reserved"),  # IPv4-translated
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "2001:0:4136", "Teredo"),
    ("https://127.0.0.1:8443/", "127.0.0.1", "loopback"),
    # userinfo tricks: the part before the last @ is credentials, never the host
    ("http://example.com@127.0.0.1/", "127.0.0.1", "loopback"),
    ("http://user:pass@169.254.169.254/", "169.254.169.254", "metadata"),
    ("http://example.com:80@10.0.0.1:80/", "10.0.0.1", "private"),
    ("http://127.0.0.1#@example.com/", "127.0.0.1", "loopback"),
    # percent-encoded and Unicode spellings are decoded, then checked
    ("http://%31%32%37.0.0.1/", "127.0.0.1", "loopback"),
    ("http://127%2e0%2e0%2e1/", "127.0.0.1", "loopback"),
    ("http://%6c%6f%63%61%6c%68%6f%73%74/", "127.0.0.1", "loopback"),  # "localhost"
    ("http://①②⑦.0.0.1/", "127.0.0.1", "loopback"),  # circled digits fold to ASCII under IDNA
    ("http://127。0。0。1/", "127.0.0.1", "loopback"),  # ideographic full stops
]


@pytest.mark.parametrize(("url", "address", "why"), LITERAL_PAYLOADS, ids=[p[0] for p in LITERAL_PAYLOADS])
def test_every_spelling_of_an_internal_address_is_forbidden(url: str, address: str, why: str,
                                                            tmp_path: Path) -> None:
    message = forbidden_reason(url, tmp_path)
    assert address in message
    assert why in message
    assert "public internet addresses" in message


NAME_PAYLOADS = [
    ("http://localhost/", "127.0.0.1", "loopback"),
    ("http://internal.example./", "10.0.0.5", "private"),
    ("http://LOCALHOST:9000/", "127.0.0.1", "loopback"),
    ("http://internal.example/", "10.0.0.5", "private"),
    ("http://metadata.example/latest/", "169.254.169.254", "metadata"),
    ("http://loopback6.example/", "::1", "loopback"),
    ("http://ula.example/", "fd12:3456::1", "unique local"),
    ("http://mapped.example/", "192.168.0.10", "private"),
    # one private answer among public ones forbids the name: rebinding attacks hedge this way
    ("http://mixed.example/", "10.0.0.1", "private"),
    ("https://mixed6.example/", "fe80::1", "link-local"),
]


@pytest.mark.parametrize(("url", "address", "why"), NAME_PAYLOADS, ids=[p[0] for p in NAME_PAYLOADS])
def test_names_that_resolve_to_internal_addresses_are_forbidden(url: str, address: str, why: str,
                                                                tmp_path: Path) -> None:
    message = forbidden_reason(url, tmp_path)
    assert address in message and why in message
    assert "resolves to" in message  # the message names the host and what it resolved to


def test_a_literal_spelled_oddly_is_named_with_the_address_it_means(tmp_path: Path) -> None:
    message = forbidden_reason("http://0x7f.1/", tmp_path)
    assert "0x7f.1" in message and "127.0.0.1" in message


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111",
                                     "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert ssrf.classify_address(address) is None
    ssrf.check_address(address)
    assert [str(a) for a in ssrf.resolve_host(address, 443)] == [address if ":" not in address
                                                            else str(ssrf.parse_host(address))]


def test_a_public_url_resolves_once_to_a_pinned_target_without_credentials(no_connections: list[str]) -> None:
    target = resolve_target("http://user:secret@PUBLIC.example:8080/my clip.mp4?sig=a b#part")
    assert (target.scheme, target.host, target.port) == ("http", "public.example", 8080)
    assert [str(a) for a in target.addresses] == ["93.184.216.34", "2606:2800:220:1::1"]
    assert target.request_target == "/my%20clip.mp4?sig=a%20b"
    assert "secret" not in target.url and "#" not in target.url
    assert no_connections == ["public.example"]


def test_an_international_name_is_sent_in_its_ascii_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(FAKE_DNS, "xn--bcher-kva.example", ["93.184.216.34"])
    assert resolve_target("https://BÜCHER.example/a.mp4").host == "xn--bcher-kva.example"


@pytest.mark.parametrize("host", ["0x7_f.1", "0x+8.8.8.8", "0x 7f.0.0.1", "0+17.0.0.1", "1.2.3.4.5",
                                  "08.0.0.1", "256.0.0.1", "4294967296", "example.com", "1.2.3.-4"])
def test_text_that_inet_aton_rejects_is_a_name_not_an_address(host: str) -> None:
    # A looser parse would connect somewhere for text the system resolver treats as a name.
    assert ssrf.parse_host(host) is None


@pytest.mark.parametrize("url", ["http://a b.example/", "http:///clip.mp4", "http://exa<mple.com/",
                                 "http://host:99999/", "http://host:0/", "http://[::1/", "http://[nope]/",
                                 "http://%zz.example/", "http://example.com%2f@127.0.0.1/",
                                 "http://127.0.0.1\\@example.com/", "http://a..b/"])
def test_malformed_urls_are_invalid_input(url: str, tmp_path: Path) -> None:
    with pytest.raises(ProcessingError) as caught:
        fetch(url, tmp_path / "input", settings=STRICT)
    assert caught.value.kind in ("invalid_input", "input_forbidden"), caught.value.message
    if "@127.0.0.1" not in url:
        assert caught.value.kind == "invalid_input"


@pytest.mark.parametrize("url", ["ftp://example.com/clip.mp4", "file:///etc/passwd", "/etc/passwd",
                                 "gopher://127.0.0.1:6379/_INFO", "data:video/mp4;base64,AAAA",
                                 "dict://127.0.0.1:11211/", "jar:http://example.com/a!/b"])
def test_other_schemes_are_refused_for_api_inputs(url: str, tmp_path: Path) -> None:
    with pytest.raises(ProcessingError) as caught:
        fetch(url, tmp_path / "input", settings=STRICT)
    assert caught.value.kind == "invalid_input"
    assert "http://, https://, s3://" in caught.value.message


@pytest.mark.parametrize(("errno", "error_type"), [(socket.EAI_NONAME, ProcessingError),
                                                   (socket.EAI_AGAIN, TransientError)])
def test_dns_failures_are_unreachable_and_only_temporary_ones_retried(
        errno: int, error_type: type[ProcessingError], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def failing(*args: object, **kwargs: object) -> list[tuple]:
        raise socket.gaierror(errno, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", failing)
    with pytest.raises(ProcessingError) as caught:
        fetch("https://nowhere.example/clip.mp4", tmp_path / "input", settings=STRICT)
    assert type(caught.value) is error_type
    assert caught.value.kind == "input_unreachable"
    assert "nowhere.example" in caught.value.message


def test_the_check_is_off_only_when_private_urls_are_allowed() -> None:
    assert [str(a) for a in ssrf.resolve_host("internal.example", 80, check=False)] == ["10.0.0.5"]
    with pytest.raises(ProcessingError):
        ssrf.resolve_host("internal.example", 80)


def test_a_zone_id_survives_for_connecting_but_not_for_classifying() -> None:
    address = ssrf.parse_host("fe80::1%eth0")
    assert address is not None and str(address) == "fe80::1%eth0"
    assert ssrf.classify_address("fe80::1%eth0") == "a link-local address"
    assert ssrf.classify_address("fd00:ec2::254%eth0") == "a cloud metadata address"
