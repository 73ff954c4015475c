"""Downloading an http(s) input: one checked DNS answer per hop, connections pinned to it, every
redirect re-checked, timeouts and the size limit enforced, the body streamed to disk.

Fail closed: anything this module cannot classify as safe ends the fetch with a typed error, and a
failed fetch leaves no file behind.
"""

from __future__ import annotations

import http.client
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

import mediajet
from mediajet.errors import ProcessingError, TransientError
from mediajet.settings import Settings
from mediajet.storage import ssrf
from mediajet.storage.fetch_result import FetchResult, display_url, remove_partial, too_large
from mediajet.storage.pinned_http import PinnedHTTPConnection, PinnedHTTPSConnection
from mediajet.storage.ssrf import IPAddress

HTTP_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
USER_AGENT = f"mediajet/{mediajet.__version__}"
CHUNK_BYTES = 1024 * 1024  # large enough that per-chunk overhead vanishes, small enough to stay flat
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Worth another try later: the server said so (429, 503 ...) or it failed on its side.
RETRYABLE_CLIENT_STATUSES = frozenset({408, 425, 429})

# A host after percent-decoding and IDNA: DNS labels (underscores occur in real names) and dots.
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
# Characters a request target may carry as they are; anything else (spaces, non-ASCII) gets escaped.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


@dataclass(frozen=True)
class HttpTarget:
    """One hop: where the request goes, and the addresses its connection may use."""

    url: str  # normalised: no userinfo, no fragment
    scheme: str
    host: str  # ASCII (IDNA), lower case, as sent in Host and SNI
    port: int
    request_target: str  # path?query
    addresses: tuple[IPAddress, ...]


def invalid(url: str, why: str) -> ProcessingError:
    return ProcessingError(f"the input URL {display_url(url)} is not valid: {why}", kind="invalid_input")


def normalize_host(url: str, raw_host: str | None) -> str:
    """The host as it will be resolved and sent. Percent-escapes are decoded first, as browsers do,
    so `%31%32%37.0.0.1` is checked as the 127.0.0.1 it spells rather than passed on as a name."""
    if not raw_host:
        raise invalid(url, "it has no host")
    host = unquote(raw_host, errors="strict")
    if ":" in host:  # an IPv6 literal (urlsplit took the brackets off)
        if ssrf.parse_host(host) is None:
            raise invalid(url, f"{host!r} is not an IPv6 address")
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise invalid(url, f"{host!r} is not a valid host name") from exc
    if not _HOST_NAME.fullmatch(ascii_host):
        raise invalid(url, f"{host!r} is not a valid host name")
    return ascii_host


def parse_http_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, request target) of an http(s) URL; userinfo and fragment are dropped:
    MediaJet never sends credentials it was handed inside a URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except (ValueError, UnicodeError) as exc:
        raise invalid(url, str(exc)) from exc
    scheme = parts.scheme.lower()
    if scheme not in HTTP_SCHEMES:
        raise invalid(url, "only http:// and https:// URLs are fetched over HTTP")
    if "\\" in parts.netloc:
        # Browsers read a backslash as the end of the host, urlsplit does not: refuse the ambiguity.
        raise invalid(url, "it has a backslash in its host part, which browsers and servers read differently")
    try:
        host = normalize_host(url, parts.hostname)
    except UnicodeError as exc:  # a percent-escape that is not UTF-8
        raise invalid(url, "the host is not valid UTF-8") from exc
    if port == 0:
        raise invalid(url, "port 0")
    request_target = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        request_target += "?" + quote(parts.query, safe=_QUERY_SAFE)
    return scheme, host, port or DEFAULT_PORTS[scheme], request_target


def resolve_target(url: str, *, check: bool = True) -> HttpTarget:
    """Parse `url` and resolve its host once; with `check`, every address must be public."""
    scheme, host, port, request_target = parse_http_url(url)
    addresses = ssrf.resolve_host(host, port, check=check)
    netloc = f"[{host}]" if ":" in host else host
    if port != DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    normalized = urlunsplit((scheme, netloc, *request_target.partition("?")[::2], ""))
    return HttpTarget(normalized, scheme, host, port, request_target, tuple(addresses))


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """Certificate and host name verification on, the system's CA store, TLS 1.2 or later."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def fetch_http(url: str, dest: Path, *, settings: Settings) -> FetchResult:
    """Download `url` to `dest`, following at most `settings.max_redirects` redirects."""
    check = not settings.allow_private_urls
    first = display_url(url)
    current = url
    for hop in range(settings.max_redirects + 1):
        target = _resolve_hop(current, first, hop, check=check)
        connection = _open(target, settings)
        try:
            response = _send(connection, target)
            if response.status in REDIRECT_STATUSES:
                if hop == settings.max_redirects:
                    raise ProcessingError(
                        f"the input URL {first} redirected more than {settings.max_redirects} times "
                        "(MEDIAJET_MAX_REDIRECTS); link to the file itself",
                        kind="input_unreachable",
                    )
                current = _next_hop(target, response)
                continue
            _raise_for_status(target, response)
            content_type = response.getheader("Content-Type")
            size = _stream_body(target, response, dest, settings)
            return FetchResult(path=dest, size=size, content_type=content_type, final_url=target.url)
        finally:
            connection.close()
    raise AssertionError("unreachable: the last hop either returns or raises")


def _resolve_hop(url: str, first: str, hop: int, *, check: bool) -> HttpTarget:
    try:
        return resolve_target(url, check=check)
    except ProcessingError as exc:
        if hop == 0:
            raise
        # Say where the redirect led: the user only ever saw the first URL.
        raise type(exc)(f"the input URL {first} redirected to {display_url(url)}, and {exc.message}",
                        kind=exc.kind) from exc


def _next_hop(target: HttpTarget, response: http.client.HTTPResponse) -> str:
    location = response.getheader("Location")
    if not location:
        raise ProcessingError(
            f"the input URL {display_url(target.url)} answered HTTP {response.status} without a Location",
            kind="input_unreachable",
        )
    next_url = urljoin(target.url, location.strip())
    scheme = urlsplit(next_url).scheme.lower()
    if scheme not in HTTP_SCHEMES:
        raise ProcessingError(
            f"the input URL {display_url(target.url)} redirected to a {scheme or 'scheme-less'} URL; "
            "redirects may only lead to http:// or https://",
            kind="input_forbidden",
        )
    if target.scheme == "https" and scheme == "http":
        raise ProcessingError(
            f"the input URL {display_url(target.url)} redirected from https to plain http "
            f"({display_url(next_url)}); downgrades are refused",
            kind="input_forbidden",
        )
    return next_url


def _open(target: HttpTarget, settings: Settings) -> PinnedHTTPConnection:
    timeouts = {"connect_timeout": settings.connect_timeout_s, "read_timeout": settings.read_timeout_s}
    connection: PinnedHTTPConnection
    if target.scheme == "https":
        connection = PinnedHTTPSConnection(target.host, target.port, target.addresses,
                                           context=tls_context(), **timeouts)
    else:
        connection = PinnedHTTPConnection(target.host, target.port, target.addresses, **timeouts)
    where = f"{target.host}:{target.port}"
    try:
        connection.connect()
    except ssl.SSLCertVerificationError as exc:
        raise ProcessingError(
            f"TLS error: the certificate of {where} could not be verified ({exc.verify_message})",
            kind="input_unreachable",
        ) from exc
    except ssl.SSLError as exc:
        raise ProcessingError(f"TLS error: the handshake with {where} failed ({exc.reason or exc})",
                              kind="input_unreachable") from exc
    except ConnectionRefusedError as exc:
        raise ProcessingError(f"{where} refused the connection; nothing listens there",
                              kind="input_unreachable") from exc
    except TimeoutError as exc:
        raise TransientError(f"connecting to {where} timed out after {settings.connect_timeout_s:g} s",
                             kind="input_unreachable") from exc
    except OSError as exc:
        raise TransientError(f"could not connect to {where}: {exc.strerror or exc}",
                             kind="input_unreachable") from exc
    except ValueError as exc:  # ssl refuses the server name (e.g. an IPv6 zone id in an https URL)
        raise ProcessingError(f"cannot open a connection to {where}: {exc}", kind="input_unreachable") from exc
    return connection


def _send(connection: PinnedHTTPConnection, target: HttpTarget) -> http.client.HTTPResponse:
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close"}
    with _reading(target, connection.read_timeout, "waiting for the response"):
        connection.request("GET", target.request_target, headers=headers)
        return connection.getresponse()


def _raise_for_status(target: HttpTarget, response: http.client.HTTPResponse) -> None:
    status = response.status
    if 200 <= status < 300:
        return
    answer = f"the input URL {display_url(target.url)} answered HTTP {status} {response.reason}".rstrip()
    if status >= 500 or status in RETRYABLE_CLIENT_STATUSES:
        raise TransientError(f"{answer}; the request will be retried", kind="input_unreachable")
    if status in (401, 403):
        answer += "; the file needs credentials or the link has expired (make it public or presign it)"
    raise ProcessingError(answer, kind="input_unreachable")


def _stream_body(target: HttpTarget, response: http.client.HTTPResponse, dest: Path,
                 settings: Settings) -> int:
    limit = settings.max_input_bytes
    where = display_url(target.url)
    declared = response.length  # Content-Length as http.client parsed it; None when chunked or absent
    if declared is not None and declared > limit:
        raise too_large(declared, limit, where=where)
    written = 0
    try:
        with open(dest, "wb") as out:
            while True:
                with _reading(target, settings.read_timeout_s, f"after {written} bytes"):
                    chunk = response.read(CHUNK_BYTES)
                if not chunk:
                    break
                written += len(chunk)
                if written > limit:
                    raise too_large(None, limit, where=where)
                out.write(chunk)
        if declared is not None and written < declared:
            # http.client ends a short body quietly; a truncated input must not look complete.
            raise TransientError(f"the connection to {target.host} closed after {written} of {declared} bytes",
                                 kind="input_unreachable")
    except BaseException:
        remove_partial(dest)
        raise
    return written


@contextmanager
def _reading(target: HttpTarget, read_timeout: float, when: str) -> Iterator[None]:
    """Errors while talking to a connected server: blips are transient, nonsense is not."""
    where = f"{target.host}:{target.port}"
    try:
        yield
    except TimeoutError as exc:
        raise TransientError(f"{where} sent nothing for {read_timeout:g} s ({when})",
                             kind="input_unreachable") from exc
    except http.client.IncompleteRead as exc:
        raise TransientError(f"the connection to {where} closed mid-body ({when})",
                             kind="input_unreachable") from exc
    except ConnectionError as exc:  # resets, broken pipes, RemoteDisconnected
        raise TransientError(f"the connection to {where} was lost ({when}): {exc}",
                             kind="input_unreachable") from exc
    except http.client.HTTPException as exc:  # not HTTP at all, absurd header lines
        raise ProcessingError(f"{where} did not answer with valid HTTP ({type(exc).__name__}: {exc})",
                              kind="input_unreachable") from exc
    except ssl.SSLError as exc:
        raise TransientError(f"TLS error while reading from {where} ({when}): {exc.reason or exc}",
                             kind="input_unreachable") from exc
    except OSError as exc:
        raise TransientError(f"reading from {where} failed ({when}): {exc.strerror or exc}",
                             kind="input_unreachable") from exc
