"""Generation B, the steps variant (seed 000, spec §4): `POST /steps` and `GET /steps/{id}`.

B is the Jobs API's standalone task under other names, so a step *is* an engine Task:

| B (on the wire)                          | engine                                  |
|------------------------------------------|-----------------------------------------|
| `object: "step"`, id `step_<suffix>`     | `object: "task"`, id `task_<suffix>`    |
| kind `ingest`                            | kind `import`                           |
| kind `upload`                            | kind `export`                           |
| `object: "source"` (step input / output) | `object: "file"` (`external_file` stays)|

Requests are checked here first, in B's words (B's kinds, a Source object), then handed to the engine as
the Jobs API's task body `{kind, input, options}`; its answers are renamed back. Transport is the Jobs
API's: Bearer key, ms timestamps, errors `{kind, message[, field]}` (the app's error handlers render them,
because `/steps` is not a dated path).

Decisions:
- An encode step (video, audio, image, adaptive_video) or an upload step needs a Source object from an
  earlier step: `input: null` (the probe step's `output` before it succeeded) is a 400 `input_required` that
  says to wait for the probe step, and anything that is not a Source (`{url}` alone, an `external_file`) is a
  400 `invalid_input`. The Jobs API's name for the same object, `object: "file"`, is accepted as well.
- `upload` needs `options.url` = `s3://bucket/key`; `options.connection_id` (`conn_…`/`con_…` or a name) is
  optional: without it the project's default connection serves it (connections/access.py); the answer shows
  the connection that will (`con_…`), and a URL nothing can serve is a 400 `connection_required`.
- Unknown ids, ids that are not `step_…`, and steps that are a job's task (or of a kind B does not have,
  `animation`, made through the Jobs API) are all 404 `step_not_found`.
- Engine tasks of B's kinds are steps whichever API created them: `GET /steps/step_<suffix>` reads a task
  that `POST /tasks` created as `task_<suffix>` too.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.event_handler import Response

from mediajet.api import idempotency, tasks
from mediajet.api.errors import json_response
from mediajet.api.present import Signer, task_dict
from mediajet.api.wire import WireContext
from mediajet.errors import InvalidRequest, NotFound, TaskNotFound
from mediajet.models.job import Task
from mediajet.models.validation import clip
from mediajet.store.base import TaskUnreadable

STEP_KINDS: tuple[str, ...] = ("probe", "ingest", "video", "audio", "image", "adaptive_video", "upload")
URL_KINDS = frozenset({"probe", "ingest"})  # input: {url}; the other kinds take a Source object
TO_ENGINE = {"ingest": "import", "upload": "export"}
FROM_ENGINE = {engine: step for step, engine in TO_ENGINE.items()}
ENGINE_KINDS = frozenset(TO_ENGINE.get(kind, kind) for kind in STEP_KINDS)
# The Jobs API's names for things B calls otherwise: a hint in the 400.
_OTHER_NAMES = {"import": "ingest", "export": "upload"}
SOURCE_OBJECTS = ("source", "file")  # B's name, and the Jobs API's name for the same object
STEP_PREFIX, TASK_PREFIX = "step_", "task_"
STEP_ID = re.compile(r"step_[0-9a-z]{1,64}")
FIELD_ORDER = ("id", "object", "kind", "input", "output", "options", "status", "progress", "error", "created_at",
               "started_at", "finished_at", "updated_at")  # seed 000's order


class StepNotFound(NotFound):
    default_kind = "step_not_found"

    def __init__(self, step_id: str, message: str | None = None) -> None:
        super().__init__(message or f"No step with id '{clip(step_id, 80)}' exists in this project.")


# --- requests: B → engine --------------------------------------------------------------------------


def engine_body(body: Any) -> dict[str, Any]:
    """A `POST /steps` body checked in B's terms, as the engine's standalone task body."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object: {\"kind\", \"input\", \"options\"}",
                             kind="request_invalid", field="body")
    kind = _kind(body.get("kind"))
    raw = body.get("input")
    if kind in URL_KINDS:
        step_input = _url_input(raw)
    else:
        step_input = _source_input(kind, raw)
    engine: dict[str, Any] = {"kind": TO_ENGINE.get(kind, kind), "input": to_engine_file(step_input)}
    if "options" in body:
        engine["options"] = body["options"]
    if kind == "upload":
        _check_upload(body.get("options"))
    return engine


def _kind(kind: Any) -> str:
    listed = ", ".join(STEP_KINDS)
    if kind is None or kind == "":
        raise InvalidRequest(f"kind is required: one of {listed}", kind="kind_required", field="kind")
    if not isinstance(kind, str) or kind not in STEP_KINDS:
        shown = clip(str(kind))
        other = _OTHER_NAMES.get(kind) if isinstance(kind, str) else None
        hint = f" (the steps API calls '{shown}' {other})" if other else ""
        raise InvalidRequest(f"kind '{shown}' is not a step kind{hint}: use one of {listed}", kind="invalid_kind",
                             field="kind")
    return kind


def _url_input(raw: Any) -> dict[str, Any]:
    if raw is None or raw == "":
        raise InvalidRequest("input is required: {\"url\": \"https://…\"}, the file to read", kind="input_required",
                             field="input")
    if not isinstance(raw, dict):
        raise InvalidRequest("input must be an object: {\"url\": \"https://…\"}", kind="invalid_input",
                             field="input")
    return raw


def _source_input(kind: str, raw: Any) -> dict[str, Any]:
    what = "an upload step" if kind == "upload" else f"a {kind} step"
    if raw is None or raw == "":
        raise InvalidRequest(
            f"input is required: {what} takes a Source object, the output of an earlier step (a probe step's "
            "output). A probe step's output is null until the step has succeeded: poll GET /steps/{id} until its "
            "status is succeeded, then post its output as input", kind="input_required", field="input")
    if not isinstance(raw, dict):
        raise InvalidRequest(f"input must be a Source object (the output of a probe step), not "
                             f"{type(raw).__name__ if not isinstance(raw, list) else 'an array'}",
                             kind="invalid_input", field="input")
    found = raw.get("object")
    if found not in SOURCE_OBJECTS:
        shown = "no object field" if found is None else f"object '{clip(str(found))}'"
        raise InvalidRequest(
            f"input must be a Source object (object: \"source\", url, kind, format, …), the output of a "
            f"succeeded probe step; this input has {shown}. To start from a URL, run a probe step first",
            kind="invalid_input", field="input.object")
    return raw


def _check_upload(options: Any) -> None:
    if options is not None and not isinstance(options, dict):
        raise InvalidRequest("options must be an object: {\"url\": \"s3://bucket/key\", \"connection_id\": …}",
                             kind="invalid_option", field="options")
    tasks.check_s3_destination((options or {}).get("url"), "an upload step")
    connection = (options or {}).get("connection_id")
    if connection is not None and (not isinstance(connection, str) or not connection):
        raise InvalidRequest("options.connection_id must be a connection id string, e.g. conn_abc123",
                             kind="invalid_option", field="options.connection_id")


def to_engine_file(value: dict[str, Any]) -> dict[str, Any]:
    return {**value, "object": "file"} if value.get("object") == "source" else dict(value)


# --- answers: engine → B ---------------------------------------------------------------------------


def step_id(task_id: str) -> str:
    return STEP_PREFIX + task_id.removeprefix(TASK_PREFIX)


def task_id_of(step: str) -> str | None:
    """The engine id a step id names; None when it is not a step id at all."""
    return TASK_PREFIX + step.removeprefix(STEP_PREFIX) if STEP_ID.fullmatch(step) else None


def is_step(task: Task) -> bool:
    """A standalone task of a kind B has."""
    return task.job_id is None and task.kind in ENGINE_KINDS


def _source(value: Any) -> Any:
    if isinstance(value, dict) and value.get("object") == "file":
        return {**value, "object": "source"}
    return value


def step_dict(task: Task, sign: Signer) -> dict[str, Any]:
    """The step a client sees. Only for `is_step(task)`: anything else is no step (StepNotFound)."""
    if not is_step(task):
        raise StepNotFound(step_id(task.id))
    data = task_dict(task, sign)
    data.update(id=step_id(task.id), object="step", kind=FROM_ENGINE.get(task.kind, task.kind),
                input=_source(data.get("input")), output=_source(data.get("output")))
    if data.get("error") is not None:
        # {kind, message}: the engine's `task` names the failing task's kind, which a lone step is.
        data["error"] = {"kind": data["error"]["kind"], "message": data["error"]["message"]}
    return {name: data[name] for name in FIELD_ORDER}


# --- routes ----------------------------------------------------------------------------------------


def create_step(ctx: WireContext) -> Response:
    project, key = ctx.project(), idempotency.key_from(ctx.event.headers)
    body = ctx.body()
    task, created = tasks.create_task(ctx.deps, project, engine_body(body), key, sent=body, wire="steps")
    return json_response(201 if created else 200, step_dict(task, ctx.deps.sign_url))  # 200: a key's replay


def get_step(ctx: WireContext, step: str) -> Response:
    project = ctx.project()  # a bad key is a 401 before any id is looked at
    engine_id = task_id_of(step)
    if engine_id is None:
        raise StepNotFound(step)
    try:
        task = tasks.get_task(ctx.deps, project, engine_id)
    except TaskUnreadable:
        raise StepNotFound(step, f"Step '{step}' exists but its stored record cannot be read; it has been set "
                                 "aside (the server log names the fault).") from None
    except TaskNotFound:
        raise StepNotFound(step) from None
    return json_response(200, step_dict(task, ctx.deps.sign_url))
