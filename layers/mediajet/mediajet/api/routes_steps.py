"""/steps routes: generation B, the steps variant (seed 000). The path alone selects it (no
`Accept-Version`); api/wire/steps.py translates between B's names and the engine's standalone tasks."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field

from mediajet.api.deps import ApiDeps
from mediajet.api.openapi import EXT, EXTENSION, Resolver, StepKind, error_responses, ok
from mediajet.api.wire import WireContext
from mediajet.api.wire import steps as wire_steps
from mediajet.models.job import TaskStatus


class StepError(BaseModel):
    kind: str
    message: str


class Step(BaseModel):
    """A step as `/steps` answers it (seed 000)."""

    id: str = Field(description="`step_…`", examples=["step_01jq6x3v0m7h2c8k4n5p9r0s1t"])
    object: Literal["step"] = "step"
    kind: StepKind
    input: dict[str, Any] | None = Field(
        description="`{object: \"external_file\", url}` for a URL, or a Source object (`object: \"source\"`)")
    output: dict[str, Any] | None = Field(
        description="null until the step succeeded; then a Source object (`object: \"source\"`, url, kind, format, "
        "width, height, duration, codecs, …) whose `url` is a signed download link")
    options: dict[str, Any]
    status: TaskStatus
    progress: int | None = Field(description="0-100 while an encode step runs; null for probe, ingest, upload")
    error: StepError | None
    created_at: int = Field(description="Unix milliseconds")
    started_at: int | None
    finished_at: int | None
    updated_at: int




def register(app: Resolver, deps: ApiDeps) -> None:
    def context() -> WireContext:
        return WireContext(deps, app.current_event)

    @app.post("/steps", summary="Create a step", tags=["steps"], operation_id="createStep",
              description="The steps variant of the API (seed 000): one operation without a parent task. Kinds "
              "probe and ingest take `{url}`; video, audio, image, adaptive_video and upload take a Source object "
              "from a probe step that has succeeded. Runs asynchronously: the 201 step is waiting; poll "
              "GET /steps/{id}. Errors `{kind, message}`; an unknown kind is invalid_kind.",
              responses={**ok(201, "the step, waiting", Step), **error_responses(400, 401, 413)})
    def create_step():
        return wire_steps.create_step(context())

    @app.get("/steps/<step_id>", summary="Get a step", tags=["steps"], operation_id="getStep",
             description=EXTENSION + "A step created with POST /steps, with its status and (once it succeeded) "
             "its output. Unknown ids are a 404 step_not_found.", openapi_extensions=EXT,
             responses={**ok(200, "the step", Step), **error_responses(401, 404)})
    def get_step(step_id: Annotated[str, Path()]):
        return wire_steps.get_step(context(), step_id)
