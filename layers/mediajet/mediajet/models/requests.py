"""Request bodies: POST /jobs (spec §1.4) and POST /tasks (spec §1.9)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic_core import PydanticCustomError

from mediajet.errors import InvalidRequest
from mediajet.models.job import JOB_KINDS, TASK_KINDS, Job, Task
from mediajet.models.options import OPTIONS_BY_KIND, MediaOptions
from mediajet.models.validation import parse

INPUT_SCHEMES = ("http", "https", "s3")


def check_input_url(url: str, schemes: tuple[str, ...] = INPUT_SCHEMES) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in schemes or not parts.netloc:
        listed = ", ".join(f"{s}://" for s in schemes)
        raise PydanticCustomError("invalid_input", f"input must be a URL using one of the {listed} schemes")
    return url.strip()


class JobCreate(BaseModel):
    """Unknown top-level fields are ignored (guides send extras); options are strict."""

    model_config = ConfigDict(extra="ignore")

    input: str
    kind: str
    options: dict[str, Any] | None = None
    output: str | None = None
    metadata: dict[str, Any] | None = None
    webhook_url: str | None = None
    connection_id: str | None = None
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
        return None if value is None else check_input_url(value, ("http", "https"))

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
    return job


def parse_task_create(body: Any) -> TaskCreate:
    task = parse(TaskCreate, body)
    if task.kind in OPTIONS_BY_KIND:
        parse_options(task.kind, task.options)
    return task


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
