"""The CLI without `--local`: a small client for MEDIAJET_API_URL with MEDIAJET_API_KEY."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode

from mediajet.errors import MediaJetError, Unauthorized


class ApiError(MediaJetError):
    """What the API answered: its `{kind, message, field}` and HTTP status (0: it could not be reached), so
    the CLI's exit code says whose fault it was (a 4xx is the request's: exit 2)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        field = body.get("field")
        super().__init__(str(body.get("message", "request failed")), kind=str(body.get("kind", "api_error")),
                         field=str(field) if field else None)
        self.http_status = status
        if 400 <= status < 600:
            self.status = status  # type: ignore[misc]  # the instance's own, instead of the class's 500


def send(request: urllib.request.Request, timeout: float, *, where: str, kind: str = "api_error") -> Any:
    """The JSON answer (None for an empty or non-JSON body), or ApiError with the server's `{kind, message,
    field}` and status (0 when it could not be reached)."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        try:
            payload = json.loads(exc.read() or b"{}")
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        payload.setdefault("kind", kind)
        payload.setdefault("message", f"HTTP {exc.code} from {where}")
        raise ApiError(exc.code, payload) from None
    except urllib.error.URLError as exc:
        raise ApiError(0, {"kind": "api_unreachable", "message": f"{where}: {exc.reason}"}) from None
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


class Client:
    def __init__(self, base_url: str, api_key: str | None, timeout: float = 30) -> None:
        if not api_key:
            raise Unauthorized("set MEDIAJET_API_KEY (or use --local to run on this machine)", kind="token_missing")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        url = self.base_url + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json",
        })
        return send(req, self.timeout, where=self.base_url)

    def create_job(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/jobs", body)

    def get_job(self, job_id: str) -> dict[str, Any]:
        return self.request("GET", f"/jobs/{job_id}")

    def list_jobs(self, **query: Any) -> list[dict[str, Any]]:
        return self.request("GET", "/jobs", query=query)

    def create_task(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/tasks", body)

    def get_task(self, task_id: str) -> dict[str, Any]:
        return self.request("GET", f"/tasks/{task_id}")

    def list_connections(self) -> list[dict[str, Any]]:
        return self.request("GET", "/connections")

    def create_connection(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/connections", body)

    def delete_connection(self, ref: str) -> dict[str, Any]:
        return self.request("DELETE", f"/connections/{quote(ref, safe='')}")

    def wait(self, read: Any, on_update: Any, poll_s: float = 0.5) -> dict[str, Any]:
        while True:
            record = read()
            if record.get("status") in ("succeeded", "failed", "cancelled"):
                return record
            on_update(record)
            time.sleep(poll_s)
