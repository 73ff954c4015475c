"""Job and Task wire models (spec §1.6, §1.9), with the internal fields the stores keep."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mediajet.ids import new_id, now_ms

JobKind = Literal["video", "audio", "image", "animation", "adaptive_video"]
TaskKind = Literal["probe", "import", "video", "audio", "image", "animation", "adaptive_video", "export"]
JobStatus = Literal["queued", "processing", "succeeded", "failed", "cancelled"]
TaskStatus = Literal["waiting", "processing", "succeeded", "failed", "cancelled"]

JOB_KINDS: tuple[str, ...] = ("video", "audio", "image", "animation", "adaptive_video")
TASK_KINDS: tuple[str, ...] = ("probe", "import", *JOB_KINDS, "export")
# Where each pipeline task sits in `Job.tasks` (models.requests.with_pipeline_tasks: probe, import,
# <kind>, export); the steps and the stores address them by these, never by a bare number.
PROBE, IMPORT, ENCODE, EXPORT = range(4)
FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
OPEN_TASK_STATUSES = frozenset({"waiting", "processing"})


class ErrorInfo(BaseModel):
    kind: str
    message: str
    task: str | None = None


class Task(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(default_factory=lambda: new_id("task"))
    object: Literal["task"] = "task"
    kind: TaskKind
    input: dict[str, Any] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    output: dict[str, Any] | None = None
    status: TaskStatus = "waiting"
    progress: int | None = None
    error: ErrorInfo | None = None
    created_at: int = Field(default_factory=now_ms)
    started_at: int | None = None
    finished_at: int | None = None
    updated_at: int = Field(default_factory=now_ms)

    # internal: never on the wire
    project_id: str = Field(default="", exclude=True)
    job_id: str | None = Field(default=None, exclude=True)
    wire: str | None = Field(default=None, exclude=True)  # the API generation it was created in (webhooks)
    version: int = Field(default=0, exclude=True)


class Job(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(default_factory=lambda: new_id("job"))
    object: Literal["job"] = "job"
    kind: JobKind
    input: str
    output: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    status: JobStatus = "queued"
    error: ErrorInfo | None = None
    tasks: list[Task] = Field(default_factory=list)
    created_at: int = Field(default_factory=now_ms)
    started_at: int | None = None
    finished_at: int | None = None
    updated_at: int = Field(default_factory=now_ms)

    # internal: never on the wire
    project_id: str = Field(default="", exclude=True)
    destination: str | None = Field(default=None, exclude=True)  # requested `output` (s3:// or template)
    webhook_url: str | None = Field(default=None, exclude=True)
    connection_id: str | None = Field(default=None, exclude=True)
    wire: str | None = Field(default=None, exclude=True)  # the API generation it was created in (webhooks)
    version: int = Field(default=0, exclude=True)

    def task(self, kind: str) -> Task:
        return next(t for t in self.tasks if t.kind == kind)

    @property
    def probe_task(self) -> Task:
        return self.tasks[PROBE]

    @property
    def import_task(self) -> Task:
        return self.tasks[IMPORT]

    @property
    def encode_task(self) -> Task:
        """The task of the job's own kind (video, image, ...)."""
        return self.tasks[ENCODE]

    @property
    def export_task(self) -> Task:
        return self.tasks[EXPORT]

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def cancel_open_tasks(self, now: int) -> bool:
        """Every waiting or processing task becomes cancelled; False when none was open."""
        open_tasks = [t for t in self.tasks if t.status in OPEN_TASK_STATUSES]
        for task in open_tasks:
            task.status, task.finished_at, task.updated_at = "cancelled", now, now
        return bool(open_tasks)

    def to_record(self) -> dict[str, Any]:
        """Everything, internal fields included: what the stores persist."""
        data = self.model_dump(mode="json")
        data.update(project_id=self.project_id, destination=self.destination, webhook_url=self.webhook_url,
                    connection_id=self.connection_id, wire=self.wire, version=self.version)
        data["tasks"] = [t.model_dump(mode="json") | {"project_id": t.project_id, "job_id": t.job_id}
                         for t in self.tasks]
        return data


def task_record(task: Task) -> dict[str, Any]:
    return task.model_dump(mode="json") | {"project_id": task.project_id, "job_id": task.job_id,
                                           "wire": task.wire, "version": task.version}


class IdempotencyClaim(BaseModel):
    """What `POST` with an `Idempotency-Key` stores: replayed for 24 h when the body matches."""

    project_id: str
    key: str
    body_hash: str
    resource_id: str
    created_at: int = Field(default_factory=now_ms)
