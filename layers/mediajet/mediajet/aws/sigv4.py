"""AWS Signature Version 4 for a request with a body (the JSON-protocol services of aws/json_client.py).

Standard library only: the API function signs its DynamoDB and Step Functions calls without importing
botocore (aws/json_client.py says why). Pure: the same request, credentials and time give the same
headers as botocore's SigV4Auth (tests/unit/test_sigv4.py compares them).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signed_headers(method: str, url: str, headers: dict[str, str], body: bytes, credentials: Credentials,
                   region: str, service: str, now: datetime) -> dict[str, str]:
    """`headers` plus Host, X-Amz-Date, X-Amz-Security-Token (with a session token) and Authorization.
    `now` is UTC. Every header given is signed. `url` has no query string."""
    parts = urlsplit(url)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    out = {**headers, "Host": parts.netloc, "X-Amz-Date": stamp}
    if credentials.token:
        out["X-Amz-Security-Token"] = credentials.token
    canonical_headers = sorted((name.lower(), " ".join(value.split())) for name, value in out.items())
    names = ";".join(name for name, _ in canonical_headers)
    canonical = "\n".join([
        method, quote(parts.path or "/", safe="/~"), "",  # the JSON protocol has no query string
        "".join(f"{name}:{value}\n" for name, value in canonical_headers), names,
        hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{stamp[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{credentials.secret_key}".encode(), stamp[:8]), region), service),
                "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
                            f"SignedHeaders={names}, Signature={signature}")
    return out

