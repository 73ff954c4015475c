"""Request bodies: POST /jobs (spec §1.4) and POST /tasks (spec §1.9).

The free-form objects a job or task keeps as sent (`metadata`; a task's `input` and `options`) are bounded
here, like the typed fields, so every stored record stays small and flat (README "Limits"):
- `metadata`: Stripe's rule. At most 50 keys of at most 40 characters; values are strings of at most 500
  characters, numbers, booleans or null, not objects or arrays (the spec calls it key-value pairs).
- a task's `input`: a File object (models/file.py) or `{url}`: at most 32 keys, scalar values and strings up
  to 8192 characters (URLs), objects one level deep (`codecs`).
- a task's `options`: at most 32 keys; scalars, or arrays of at most 32 scalars.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from mediajet.errors import InvalidRequest
from mediajet.models.job import JOB_KINDS, TASK_KINDS, Job, Task
from mediajet.models.options import OPTIONS_BY_KIND, MediaOptions
from mediajet.models.validation import clip, parse

INPUT_SCHEMES = ("http", "https", "s3")
MAX_URL_CHARS = 8192  # what GET /jobs?input= accepts: every stored input can be looked up again
MAX_OUTPUT_CHARS = 2048  # an S3 bucket and a 1024-byte key, with room for path templates
MAX_ID_CHARS = 256
# Numbers kept as sent: within I-JSON's exact range (RFC 7493), what every JSON client reads back unchanged,
# and, unless 0, no smaller than DynamoDB can store (boto3's number context: Emin -128).
MAX_NUMBER = 2**53 - 1
MIN_MAGNITUDE = 1e-128


@dataclass(frozen=True)
class Bounds:
    """How big one free-form object may be."""

    keys: int
    key_chars: int
    text_chars: int


METADATA_BOUNDS = Bounds(keys=50, key_chars=40, text_chars=500)
TASK_BOUNDS = Bounds(keys=32, key_chars=40, text_chars=MAX_URL_CHARS)
# What a nested value may be; None: nothing nests.
Nested = Callable[[Any, str], None] | None


def check_input_url(url: str, schemes: tuple[str, ...] = INPUT_SCHEMES, *, name: str = "input",
                    kind: str = "invalid_input") -> str:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in schemes or not parts.netloc:
        listed = ", ".join(f"{s}://" for s in schemes)
        raise PydanticCustomError(kind, f"{name} must be a URL using one of the {listed} schemes")
    return url.strip()


class JobCreate(BaseModel):
    """Unknown top-level fields are ignored (guides send extras); options are strict."""

    model_config = ConfigDict(extra="ignore")

    input: str = Field(max_length=MAX_URL_CHARS)
    kind: str
    options: dict[str, Any] | None = None
    output: str | None = Field(default=None, max_length=MAX_OUTPUT_CHARS)
    metadata: dict[str, Any] | None = None
    webhook_url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    connection_id: str | None = Field(default=None, max_length=MAX_ID_CHARS)
    quality: str | None = None  # the /cloud page sends it at the top level

    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise PydanticCustomError("request_invalid", "the body must be a JSON object")
        if data.get("input") in (None, ""):
            raise PydanticCustomError("input_required", "input is required: the URL of the file to process")
        if data.get("kind") in (None, ""):
            raise PydanticCustomError("kind_required", f"kind is required: one of {', '.join(JOB_KINDS)}")
        return data

    @field_validator("input")
    @classmethod
    def _input(cls, value: str) -> str:
        return check_input_url(value)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in JOB_KINDS:
            raise PydanticCustomError("invalid_kind", f"kind must be one of {', '.join(JOB_KINDS)}")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        return None if value is None else check_input_url(value, ("http", "https"), name="webhook_url",
                                                           kind="request_invalid")

    def parsed_options(self) -> MediaOptions:
        raw = dict(self.options or {})
        if self.quality is not None:
            raw.setdefault("quality", self.quality)
        return parse_options(self.kind, raw)


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: str
    input: dict[str, Any]
    options: dict[str, Any] | None = None
    webhook_url: str | None = Field(default=None, max_length=MAX_URL_CHARS)  # kept in options, as 2025-08-20 does

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        return None if value is None else check_input_url(value, ("http", "https"), name="webhook_url",
                                                           kind="request_invalid")

    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise PydanticCustomError("request_invalid", "the body must be a JSON object")
        if data.get("kind") in (None, ""):
            raise PydanticCustomError("kind_required", f"kind is required: one of {', '.join(TASK_KINDS)}")
        if data.get("input") in (None, ""):
            raise PydanticCustomError("input_required", "input is required: {\"url\": ...} or a File object")
        if not isinstance(data.get("input"), dict):
            raise PydanticCustomError("invalid_input", "input must be an object: {\"url\": ...} or a File")
        return data

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in TASK_KINDS:
            raise PydanticCustomError("invalid_kind", f"kind must be one of {', '.join(TASK_KINDS)}")
        return value

    @field_validator("input")
    @classmethod
    def _input(cls, value: dict[str, Any]) -> dict[str, Any]:
        url = value.get("url")
        if not isinstance(url, str) or not url:
            raise PydanticCustomError("input_required", "input.url is required")
        check_input_url(url)
        return value


def parse_options(kind: str, raw: dict[str, Any] | None) -> MediaOptions:
    if kind not in OPTIONS_BY_KIND:
        raise InvalidRequest(f"kind must be one of {', '.join(JOB_KINDS)}", kind="invalid_kind", field="kind")
    if raw is not None and not isinstance(raw, dict):
        raise InvalidRequest("options must be an object", kind="invalid_option", field="options")
    return parse(OPTIONS_BY_KIND[kind], raw or {}, prefix="options.")  # type: ignore[return-value]


def parse_job_create(body: Any) -> JobCreate:
    job = parse(JobCreate, body)
    job.parsed_options()  # validate now: a bad option is a 400, not a failed job
    if job.metadata is not None:
        check_object(job.metadata, "metadata", "request_invalid", METADATA_BOUNDS)
    return job


def parse_task_create(body: Any) -> TaskCreate:
    task = parse(TaskCreate, body)
    check_object(task.input, "input", "invalid_input", TASK_BOUNDS, nested=_flat_object(TASK_BOUNDS, "invalid_input"))
    if task.kind in OPTIONS_BY_KIND:
        parse_options(task.kind, task.options)
    elif task.options is not None:  # probe, import, export: kept as sent, so bounded as sent
        check_object(task.options, "options", "invalid_option", TASK_BOUNDS,
                     nested=_scalar_list(TASK_BOUNDS, "invalid_option"))
    return task


def check_object(value: dict[str, Any], field: str, kind: str, bounds: Bounds, nested: Nested = None) -> None:
    """`value` has at most `bounds.keys` keys, each short and printable, and scalar values (strings up to
    `bounds.text_chars`); an object or array value goes to `nested`, or is refused when there is none."""
    if len(value) > bounds.keys:
        raise InvalidRequest(f"{field} has {len(value)} keys; at most {bounds.keys} are allowed", kind=kind,
                             field=field)
    for key, item in value.items():
        _check_key(key, field, kind, bounds)
        where = f"{field}.{key}"
        if isinstance(item, dict | list) and nested is not None:
            nested(item, where)
        else:
            _check_scalar(item, where, kind, bounds)


def _check_key(key: str, field: str, kind: str, bounds: Bounds) -> None:
    if not key or len(key) > bounds.key_chars:
        raise InvalidRequest(f"{field} keys must be 1 to {bounds.key_chars} characters long; "
                             f"'{clip(key)}' has {len(key)}", kind=kind, field=field)
    if any(unicodedata.category(char) == "Cc" for char in key):
        raise InvalidRequest(f"{field} keys must not contain control characters: {key!r}", kind=kind, field=field)


def _check_scalar(value: Any, field: str, kind: str, bounds: Bounds) -> None:
    if isinstance(value, dict | list):
        raise InvalidRequest(f"{field}: values must be strings, numbers, booleans or null, not "
                             f"{'objects' if isinstance(value, dict) else 'arrays'}", kind=kind, field=field)
    if isinstance(value, str) and len(value) > bounds.text_chars:
        raise InvalidRequest(f"{field}: strings may be at most {bounds.text_chars} characters long; this one has "
                             f"{len(value)}", kind=kind, field=field)
    if isinstance(value, int | float) and not isinstance(value, bool) and not number_in_range(value):
        raise InvalidRequest(f"{field}: numbers must be 0 or between {MIN_MAGNITUDE:g} and {MAX_NUMBER} in "
                             "magnitude", kind=kind, field=field)


def number_in_range(value: float) -> bool:
    """Within ±MAX_NUMBER and, unless 0, at least MIN_MAGNITUDE in magnitude (NaN is not)."""
    return value == 0 or MIN_MAGNITUDE <= abs(value) <= MAX_NUMBER


def _flat_object(bounds: Bounds, kind: str) -> Nested:
    """One more level: an object of scalars (a File's `codecs`); arrays are no part of a File."""
    def check(value: Any, field: str) -> None:
        if not isinstance(value, dict):
            raise InvalidRequest(f"{field}: arrays are not allowed here", kind=kind, field=field)
        check_object(value, field, kind, bounds)

    return check


def _scalar_list(bounds: Bounds, kind: str) -> Nested:
    def check(value: Any, field: str) -> None:
        if not isinstance(value, list):
            raise InvalidRequest(f"{field}: values must be scalars or arrays of scalars, not objects", kind=kind,
                                 field=field)
        if len(value) > bounds.keys:
            raise InvalidRequest(f"{field} has {len(value)} items; at most {bounds.keys} are allowed", kind=kind,
                                 field=field)
        for item in value:
            _check_scalar(item, field, kind, bounds)

    return check


def build_job(request: JobCreate, project_id: str) -> Job:
    """A new queued job with its four waiting tasks: probe, import, <kind>, export."""
    job = Job(kind=request.kind, input=request.input, options=dict(request.options or {}),  # type: ignore[arg-type]
              metadata=dict(request.metadata or {}), project_id=project_id, destination=request.output,
              webhook_url=request.webhook_url, connection_id=request.connection_id)
    if request.quality is not None:
        job.options.setdefault("quality", request.quality)
    return with_pipeline_tasks(job)


def with_pipeline_tasks(job: Job) -> Job:
    """Give `job` its four waiting tasks, in pipeline order: probe, import, <kind>, export."""
    job.tasks = [Task(kind=kind, project_id=job.project_id, job_id=job.id, created_at=job.created_at,  # type: ignore[arg-type]
                      updated_at=job.created_at) for kind in ("probe", "import", job.kind, "export")]
    return job
