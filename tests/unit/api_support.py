"""Helpers for driving the API in-process: HTTP API (payload v2) events, a recording orchestrator,
an app over a real SqliteJobStore."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from mediajet.api.app import create_app
from mediajet.api.auth import hash_key
from mediajet.api.deps import ApiDeps
from mediajet.connections.crypto import KEY_FILE, LocalCipher
from mediajet.models.job import Job, Task
from mediajet.settings import Settings
from mediajet.store.sqlite import SqliteJobStore

KEY_A = "mj_live_project_a_key_0123456789abcdef"
KEY_B = "mj_live_project_b_key_0123456789abcdef"
SIGNED = "https://signed.example/"


class RecordingOrchestrator:
    """Records what the API asked the pipeline to do; runs nothing."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def start_job(self, job: Job) -> None:
        self.calls.append(("start_job", job.id))

    def start_task(self, task: Task) -> None:
        self.calls.append(("start_task", task.id))

    def cancel_job(self, job: Job) -> None:
        self.calls.append(("cancel_job", job.id))


def sign(uri: str) -> str:
    """Stands in for the runtime's signer: files in output storage (file:///data/files/…) become links,
    everything else (working storage, other people's URLs) passes through unchanged."""
    return SIGNED + uri.removeprefix("file:///") if uri.startswith("file:///data/files/") else uri


def event(method: str, path: str, body: Any = None, *, key: str | None = KEY_A, headers: dict[str, str] | None = None,
          query: dict[str, Any] | None = None, raw: bytes | str | None = None, b64: bool = False) -> dict[str, Any]:
    hdrs = {"host": "api.test", "user-agent": "pytest"}
    if key is not None:
        hdrs["authorization"] = f"Bearer {key}"
    if body is not None or raw is not None:
        hdrs["content-type"] = "application/json"
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    text: str | None
    if raw is not None:
        data = raw if isinstance(raw, bytes) else raw.encode()
        text = base64.b64encode(data).decode() if b64 else data.decode()
    elif body is not None:
        text = json.dumps(body)
        if b64:
            text = base64.b64encode(text.encode()).decode()
    else:
        text = None
    ev: dict[str, Any] = {
        "version": "2.0", "routeKey": "$default", "rawPath": path,
        "rawQueryString": urlencode(query or {}), "headers": hdrs,
        "requestContext": {"accountId": "test", "apiId": "test", "domainName": "api.test", "domainPrefix": "api",
                           "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                                    "userAgent": "pytest"},
                           "requestId": "req-test-1", "routeKey": "$default", "stage": "$default",
                           "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0},
        "isBase64Encoded": b64,
    }
    if query:
        ev["queryStringParameters"] = {k: str(v) for k, v in query.items()}
    if text is not None:
        ev["body"] = text
    return ev


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def body(self) -> Any:
        return json.loads(self.text)


@dataclass
class Api:
    store: SqliteJobStore
    orchestrator: RecordingOrchestrator
    settings: Settings
    app: Any = field(default=None)

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Reply:
        result = self.app.resolve(event(method, path, body, **kwargs), None)
        headers = {k: v for k, v in (result.get("headers") or {}).items()}
        return Reply(result["statusCode"], headers, result.get("body") or "")


def make_api(tmp_path: Path, **settings: Any) -> Api:
    store = SqliteJobStore(tmp_path / "api.db")
    store.add_api_key(hash_key(KEY_A), "prj_a")
    store.add_api_key(hash_key(KEY_B), "prj_b")
    orchestrator = RecordingOrchestrator()
    cfg = Settings(data_dir=tmp_path, **settings)
    api = Api(store, orchestrator, cfg)
    api.app = create_app(ApiDeps(jobs=store, orchestrator=orchestrator, settings=cfg, sign_url=sign,
                                 cipher=LocalCipher(tmp_path / KEY_FILE)))
    return api
