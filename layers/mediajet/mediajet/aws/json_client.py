"""A client for AWS's JSON-protocol services (DynamoDB, Step Functions, Secrets Manager), standard library only.

Why not botocore here: on the API function's cold start, `import boto3` and building its clients (service
models and endpoint rules parsed from JSON) take ~220 ms of CPU, most of the 300 ms that a first
`POST /jobs` on 1024 MB may take (BENCHMARKS.md, "API Lambda first request"). These services are one
signed POST of JSON each: the call takes the parameters botocore's client method takes and answers the
dict it answers (blobs as bytes), and a refusal is an `AwsError` whose `response` has botocore's
ClientError shape (`Error.Code`, `ResponseMetadata.HTTPStatusCode` and the error's own fields).

Retries follow botocore's "standard" mode: 3 attempts, throttling, 5xx and broken connections retried
after a jittered exponential backoff. runtime.client() uses it on Lambda only (the credentials come from
the environment there); the tests run it against moto's server.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import random
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from mediajet.aws.sigv4 import Credentials, signed_headers

# client name → (signing name and endpoint prefix, X-Amz-Target prefix, JSON protocol version, the suffix of
# botocore's AWS_ENDPOINT_URL_<service id> variable)
SERVICES = {
    "dynamodb": ("dynamodb", "DynamoDB_20120810", "1.0", "DYNAMODB"),
    "stepfunctions": ("states", "AWSStepFunctions", "1.0", "SFN"),
    "secretsmanager": ("secretsmanager", "secretsmanager", "1.1", "SECRETS_MANAGER"),
}
ATTEMPTS = 3
MAX_BACKOFF_S = 20.0
TIMEOUT_S = 60.0
RETRYABLE_CODES = frozenset({  # botocore's standard retry mode: throttling and transient errors
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
    "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", "RequestTimeout", "RequestTimeoutException",
})
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})


class AwsError(Exception):
    """A service's refusal, shaped like botocore's ClientError."""

    def __init__(self, operation: str, response: dict[str, Any]) -> None:
        self.operation_name = operation
        self.response = response
        error = response["Error"]
        super().__init__(f"An error occurred ({error['Code']}) when calling the {operation} operation: "
                         f"{error['Message']}")


@cache
def error_class(code: str) -> type[AwsError]:
    """The class of one error code, as botocore models them: `client.exceptions.ExecutionAlreadyExists`."""
    return AwsError if code == "ClientError" else type(code, (AwsError,), {"__module__": __name__})


class _Exceptions:
    def __getattr__(self, code: str) -> type[AwsError]:
        return error_class(code)


class JsonClient:
    """`client.put_item(TableName=..., Item=...)` → the answer's dict, like a botocore client's; a refusal
    raises `client.exceptions.<Code>` (an AwsError)."""

    exceptions = _Exceptions()

    def __init__(self, service: str, region: str, credentials: Credentials, endpoint: str | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.signing_name, self._target, version, _ = SERVICES[service]
        self.region, self.credentials, self._sleep = region, credentials, sleep
        self.endpoint = endpoint or default_endpoint(self.signing_name, region)
        self._content_type = f"application/x-amz-json-{version}"
        self._decode: Callable[[Any], Any] = _unblob if service == "dynamodb" else (lambda answer: answer)
        self._local = threading.local()  # one kept-alive connection per thread
        if self.endpoint.startswith("https:"):
            _tls()  # with the client (on Lambda, in the init phase: handlers.prepare), not at its first call

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        if name.startswith("_"):
            raise AttributeError(name)
        operation = "".join(word.title() for word in name.split("_"))
        return lambda **params: self.call(operation, params)

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(params, default=_blob).encode()
        for attempt in range(1, ATTEMPTS + 1):
            try:
                status, answer = self._post(operation, body)
            except OSError:  # refused, reset, timed out, garbled: botocore retries these too
                if attempt == ATTEMPTS:
                    raise
            else:
                if status < 300:
                    return answer
                error = _error(operation, status, answer)
                if attempt == ATTEMPTS or not _retryable(error):
                    raise error
            self._sleep(min(MAX_BACKOFF_S, random.random() * 2 ** (attempt - 1)))
        raise AssertionError("unreachable")

    def _post(self, operation: str, body: bytes) -> tuple[int, dict[str, Any]]:
        headers = signed_headers(
            "POST", self.endpoint, {"Content-Type": self._content_type, "X-Amz-Target": f"{self._target}.{operation}"},
            body, self.credentials, self.region, self.signing_name, datetime.now(UTC))
        kept = getattr(self._local, "connection", None)
        try:
            return self._send(kept or self._connect(), body, headers)
        except (ConnectionResetError, BrokenPipeError):
            if kept is None:
                raise
            # The service closed the connection while it sat idle (a frozen container, say): the request never
            # reached it. Sent again at once on a new one, as urllib3 does, without using up an attempt.
            return self._send(self._connect(), body, headers)

    def _send(self, connection: Any, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            connection.request("POST", urlsplit(self.endpoint).path or "/", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.status, self._answer(response.status, response.read())
        except Exception as exc:
            connection.close()
            self._local.__dict__.pop("connection", None)
            if isinstance(exc, OSError):
                raise
            raise ConnectionError(f"{self.endpoint}: {exc}") from exc  # http.client's protocol errors
        self._local.connection = connection  # answered: kept for the thread's next call
        return answer

    def _answer(self, status: int, data: bytes) -> dict[str, Any]:
        try:
            return self._decode(json.loads(data)) if data else {}
        except ValueError:  # not JSON: a proxy's or load balancer's page
            if status < 300:
                raise ConnectionError(f"{self.endpoint}: an answer that is not JSON") from None
            return {"message": data[:200].decode(errors="replace")}

    def _connect(self) -> Any:
        parts = urlsplit(self.endpoint)
        if parts.scheme == "https":
            return http.client.HTTPSConnection(parts.netloc, timeout=TIMEOUT_S, context=_tls())
        return http.client.HTTPConnection(parts.netloc, timeout=TIMEOUT_S)


def default_endpoint(prefix: str, region: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{prefix}.{region}.{suffix}"


def from_environment(service: str) -> JsonClient | None:
    """A client from the Lambda environment's credentials and region (and AWS_ENDPOINT_URL_<SERVICE> or
    AWS_ENDPOINT_URL, as botocore reads them); None without credentials or for another service."""
    env = os.environ
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if service not in SERVICES or not region or not env.get("AWS_ACCESS_KEY_ID") or not env.get("AWS_SECRET_ACCESS_KEY"):
        return None
    endpoint = env.get(f"AWS_ENDPOINT_URL_{SERVICES[service][3]}") or env.get("AWS_ENDPOINT_URL")
    credentials = Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env.get("AWS_SESSION_TOKEN"))
    return JsonClient(service, region, credentials, endpoint)


# Folders of CA certificates named by their subject hash (OpenSSL's `rehash` layout): Amazon Linux's, then
# Debian's. A context that looks a CA up there when a handshake needs it is made in ~1.5 ms of CPU; one that
# parses the whole bundle, in ~21 ms, at every cold start (BENCHMARKS.md, API Lambda first request).
CA_FOLDERS = ("/etc/pki/ca-trust/extracted/pem/directory-hash", "/etc/ssl/certs")
_HASHED = re.compile(r"[0-9a-f]{8}\.[0-9]+")
_tls_context: Any = None


def _tls() -> Any:
    """One TLS context per process, verifying servers against the system's CAs."""
    global _tls_context
    if _tls_context is None:
        import ssl

        overridden = "SSL_CERT_FILE" in os.environ or "SSL_CERT_DIR" in os.environ
        folder = None if overridden else next((f for f in CA_FOLDERS if _is_hashed(f)), None)
        _tls_context = ssl.create_default_context(capath=folder) if folder else ssl.create_default_context()
    return _tls_context


def _is_hashed(folder: str) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(_HASHED.fullmatch(entry.name) for entry in entries)
    except OSError:
        return False


def _error(operation: str, status: int, answer: dict[str, Any]) -> AwsError:
    code = str(answer.pop("__type", "") or f"HTTP{status}").rsplit("#", 1)[-1]
    message = answer.pop("message", None) or answer.pop("Message", None) or ""
    return error_class(code)(operation, {**answer, "Error": {"Code": code, "Message": message},
                                "ResponseMetadata": {"HTTPStatusCode": status}})


def _retryable(error: AwsError) -> bool:
    return (error.response["Error"]["Code"] in RETRYABLE_CODES
            or error.response["ResponseMetadata"]["HTTPStatusCode"] in RETRYABLE_STATUS)


def _blob(value: Any) -> str:
    """bytes (a DynamoDB B or BS value) travel as base64 text."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def _unblob(value: Any) -> Any:
    """DynamoDB's binary attribute values back to bytes, as botocore gives them: a one-key {"B": text} or
    {"BS": [text]} dict is an attribute value (names map to dicts, never to text)."""
    if isinstance(value, dict):
        if len(value) == 1:
            (name, inner), = value.items()
            if name == "B" and isinstance(inner, str) and _BASE64.fullmatch(inner):
                return {"B": base64.b64decode(inner)}
            if name == "BS" and isinstance(inner, list) and all(isinstance(v, str) for v in inner):
                return {"BS": [base64.b64decode(v) for v in inner]}
        return {k: _unblob(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unblob(v) for v in value]
    return value
