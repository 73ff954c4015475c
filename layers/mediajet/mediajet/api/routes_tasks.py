"""/tasks routes: standalone tasks (seed 001)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from mediajet.api import tasks
from mediajet.api.auth import project_for
from mediajet.api.body import json_body
from mediajet.api.deps import ApiDeps
from mediajet.api.errors import json_response
from mediajet.api.openapi import EXT, EXTENSION, Resolver, error_responses, ok
from mediajet.api.present import task_dict
from mediajet.models.job import Task


def register(app: Resolver, deps: ApiDeps) -> None:
    def caller() -> str:
        return project_for(app.current_event.headers, deps.jobs)

    @app.post("/tasks", summary="Create a task", tags=["tasks"], operation_id="createTask",
              description="One operation without a job: probe or import a URL, encode a File from an earlier "
              "task, or export one. Runs asynchronously; the 201 task is waiting. Chain tasks by posting one "
              "task's output as the next one's input.",
              responses={**ok(201, "the task, waiting", Task), **error_responses(400, 401, 413)})
    def create_task():
        project = caller()
        task = tasks.create_task(deps, project, json_body(app.current_event, deps.settings.max_body_bytes))
        return json_response(201, task_dict(task, deps.sign_url))

    @app.get("/tasks/<task_id>", summary="Get a task", tags=["tasks"], operation_id="getTask",
             description=EXTENSION + "A standalone task, or a task of a job.", openapi_extensions=EXT,
             responses={**ok(200, "the task", Task), **error_responses(401, 404)})
    def get_task(task_id: Annotated[str, Path()]):
        return json_response(200, task_dict(tasks.get_task(deps, caller(), task_id), deps.sign_url))
