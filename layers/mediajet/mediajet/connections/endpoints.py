"""A connection's `endpoint`: an S3-compatible service's base URL, chosen by a tenant, so it goes through the
same address policy as job inputs (storage/ssrf.py): loopback, private and metadata addresses are refused
unless MEDIAJET_ALLOW_PRIVATE_URLS is on. Checked when the connection is saved and again each time a step
makes a client from it (the name may resolve elsewhere by then)."""

from __future__ import annotations

from urllib.parse import urlsplit

from mediajet.errors import InvalidRequest, ProcessingError, TransientError
from mediajet.settings import Settings
from mediajet.storage import ssrf

MAX_ENDPOINT_CHARS = 2048


def normalise(value: str) -> str:
    """`https://host[:port]` (a trailing / dropped); InvalidRequest(invalid_endpoint) for anything else."""
    def bad(why: str) -> InvalidRequest:
        return InvalidRequest(f"endpoint {why}; e.g. https://<account>.r2.cloudflarestorage.com or "
                              "http://127.0.0.1:9000 (leave it out for AWS S3)", kind="invalid_endpoint",
                              field="endpoint")

    text = value.strip()
    if not text or len(text) > MAX_ENDPOINT_CHARS:
        raise bad(f"must be a URL of 1 to {MAX_ENDPOINT_CHARS} characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise bad(f"is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise bad("must be an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise bad("must not carry credentials (put them in access_key_id and secret_access_key)")
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        raise bad("must be the service's base URL, without a path, query or fragment (the bucket goes in s3:// URLs)")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


def check_reachable(endpoint: str, settings: Settings, *, at_request: bool) -> None:
    """The endpoint's host resolves to addresses a tenant may make this machine connect to. `at_request`:
    a 400 naming the field (saving a connection); otherwise the step's ProcessingError."""
    if settings.allow_private_urls:
        return
    parts = urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        ssrf.resolve_host(parts.hostname or "", port)
    except (ProcessingError, TransientError) as exc:
        forbidden = exc.kind == "input_forbidden"
        message = exc.message.replace("the input host", "the endpoint host").replace("the input address",
                                                                                       "the endpoint address")
        if forbidden:
            message += " (set MEDIAJET_ALLOW_PRIVATE_URLS=true on a server whose tenants you trust)"
        kind = "endpoint_forbidden" if forbidden else "invalid_endpoint"
        if at_request:
            raise InvalidRequest(message, kind=kind, field="endpoint") from None
        raise ProcessingError(message, kind=kind) from None
