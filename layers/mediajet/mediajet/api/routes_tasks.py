"""/tasks routes, shared by the Jobs API (seed 001: standalone tasks) and the dated API versions
2025-08-20 (seed 003) and 2024-08-21 (seed 004). Each request's `Accept-Version` picks the wire format
(api/wire); the engine underneath is the same."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from mediajet.api.deps import ApiDeps
from mediajet.api.openapi import EXT, EXTENSION, Resolver, error_responses, ok
from mediajet.api.wire import Wire, WireContext, generation, wire
from mediajet.models.job import Task

VERSIONS_NOTE = (
    " The request's `Accept-Version` picks the wire format: none → the Jobs API's task (shown here); "
    "`2025-08-20` or `latest` → version 2025-08-20 (flat body with `url` or `file_id`, ISO `created`/`updated`, "
    "errors `{message}`); `2024-08-21` → the `{meta, data, links}` envelope (create answers 200 there, as the "
    "seed shows). Any other value is a 400 `invalid_version`. See the README's \"API generations\".")


def register(app: Resolver, deps: ApiDeps) -> None:
    def chosen() -> tuple[Wire, WireContext]:
        event = app.current_event
        return wire(generation(event.headers)), WireContext(deps, event)

    @app.post("/tasks", summary="Create a task", tags=["tasks"], operation_id="createTask",
              description="One operation without a job: probe or import a URL, encode a File from an earlier "
              "task, or export one. Runs asynchronously; the 201 task is waiting. Chain tasks by posting one "
              "task's output as the next one's input." + VERSIONS_NOTE,
              responses={**ok(201, "the task, waiting", Task), **error_responses(400, 401, 413)})
    def create_task():
        module, ctx = chosen()
        return module.create_task(ctx)

    @app.get("/tasks", summary="List tasks", tags=["tasks"], operation_id="listTasks",
             description="Versions 2025-08-20 (`page`, `limit`: a bare array) and 2024-08-21 (`page`, `limit`, "
             "`sort`, `order`, `kind`, `status`: an envelope with `links.next`/`prev`). The Jobs API has no task "
             "list: without `Accept-Version` this is a 405 that says so." + VERSIONS_NOTE,
             responses={**ok(200, "a page of tasks", list[Task]), **error_responses(400, 401, 405)})
    def list_tasks():
        module, ctx = chosen()
        return module.list_tasks(ctx)

    @app.get("/tasks/<task_id>", summary="Get a task", tags=["tasks"], operation_id="getTask",
             description=EXTENSION + "A standalone task, or a task of a job." + VERSIONS_NOTE, openapi_extensions=EXT,
             responses={**ok(200, "the task", Task), **error_responses(401, 404)})
    def get_task(task_id: Annotated[str, Path()]):
        module, ctx = chosen()
        return module.get_task(ctx, task_id)
