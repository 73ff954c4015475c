"""Wire formats: one engine, several generations of Ittybit's API on the wire.

The engine is api/jobs.py and api/tasks.py over the stores and the pipeline; nothing here runs media.
Each generation's module parses its requests into the engine's models and presents the engine's
records (and errors) in its own shape:

| generation | selected by | module |
|---|---|---|
| A: Jobs API (seeds 001/002) | no `Accept-Version` | `jobs_api` (and routes_jobs.py) |
| B: steps (seed 000) | the path `/steps` | `steps` (routes_steps.py) |
| C: 2025-08-20 (seed 003, the `ittybit` SDK 1.0.0) | `Accept-Version: 2025-08-20` or `latest` | `v2025_08_20` |
| D: 2024-08-21 (seed 004) | `Accept-Version: 2024-08-21` | `v2024_08_21` |

The header is read on the routes the dated versions share with the Jobs API (`DATED_PATHS`); `/jobs` and
`/steps` exist in one generation each and ignore it. The SDK sends the header both as `Accept-Version`
and, for its client-level option, literally as `ACCEPT_VERSION`: both are read. A value that names no
version is a 400 `invalid_version` (in the Jobs API's error shape: no generation could be chosen).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Protocol

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from mediajet.api.auth import project_for
from mediajet.api.body import json_body
from mediajet.api.deps import ApiDeps
from mediajet.errors import InvalidRequest

GEN_A = "jobs"
GEN_C = "2025-08-20"
GEN_D = "2024-08-21"
VERSIONS = {"2025-08-20": GEN_C, "latest": GEN_C, "2024-08-21": GEN_D}
MODULES = {GEN_A: "mediajet.api.wire.jobs_api", GEN_C: "mediajet.api.wire.v2025_08_20",
           GEN_D: "mediajet.api.wire.v2024_08_21"}
# Paths (and their sub-paths) where Accept-Version picks the generation: of the answers on /tasks, of the
# errors only on the media library's paths (only version 2025-08-20 has them: api/routes_library.py).
DATED_PATHS = ("/tasks", "/files", "/media", "/automations", "/signatures")


def requested_version(headers: Mapping[str, str]) -> str | None:
    """The Accept-Version a request sent, under either spelling (header names arrive lower-cased)."""
    value = headers.get("accept-version") or headers.get("accept_version")
    return None if value is None else value.strip()


def generation(headers: Mapping[str, str]) -> str:
    value = requested_version(headers)
    if not value:
        return GEN_A
    chosen = VERSIONS.get(value.lower())
    if chosen is None:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise InvalidRequest(f"Accept-Version '{shown}' is not a version this API serves: send 2025-08-20 (or latest) "
                             "or 2024-08-21, or no Accept-Version for the Jobs API", kind="invalid_version",
                             field="Accept-Version")
    return chosen


def dated(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in DATED_PATHS)


def error_generation(event: BaseProxyEvent) -> str:
    """The generation an error is presented in: the request's, where the header applies and names one."""
    if not dated(event.path):
        return GEN_A
    try:
        return generation(event.headers)
    except InvalidRequest:
        return GEN_A


@dataclass
class WireContext:
    """One request as a generation's module sees it."""

    deps: ApiDeps
    event: BaseProxyEvent

    def project(self) -> str:
        return project_for(self.event.headers, self.deps.jobs)

    def body(self) -> Any:
        return json_body(self.event, self.deps.settings.max_body_bytes)

    def query(self) -> dict[str, str]:
        return dict(self.event.query_string_parameters or {})


class Wire(Protocol):
    """What each generation's module provides for the routes it shares (`DATED_PATHS`)."""

    def create_task(self, ctx: WireContext) -> Response: ...

    def get_task(self, ctx: WireContext, task_id: str) -> Response: ...

    def list_tasks(self, ctx: WireContext) -> Response: ...

    def error(self, event: BaseProxyEvent, status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
        """`body` is the engine's `{kind, message[, field]}`."""
        ...


def wire(gen: str) -> Wire:
    """The generation's module, imported on first use (a cold start pays only for the one it serves)."""
    return import_module(MODULES[gen])  # type: ignore[return-value]
