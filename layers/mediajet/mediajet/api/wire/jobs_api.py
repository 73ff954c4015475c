"""Generation A, the Jobs API (seed 001): standalone tasks as the engine keeps them, errors
`{kind, message[, field]}`. It has no task list: `GET /tasks` points at the versions that do."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from mediajet.api import idempotency, tasks
from mediajet.api.errors import json_response
from mediajet.api.present import task_dict
from mediajet.api.wire import WireContext
from mediajet.errors import MediaJetError


class ListNotInJobsApi(MediaJetError):
    status = 405
    default_kind = "method_not_allowed"


def create_task(ctx: WireContext) -> Response:
    project, key = ctx.project(), idempotency.key_from(ctx.event.headers)
    task, created = tasks.create_task(ctx.deps, project, ctx.body(), key)
    return json_response(201 if created else 200, task_dict(task, ctx.deps.sign_url))  # 200: a key's replay


def get_task(ctx: WireContext, task_id: str) -> Response:
    return json_response(200, task_dict(tasks.get_task(ctx.deps, ctx.project(), task_id), ctx.deps.sign_url))


def list_tasks(ctx: WireContext) -> Response:
    ctx.project()  # a bad key is still a 401 first
    raise ListNotInJobsApi("the Jobs API has no task list: list jobs with GET /jobs, or send Accept-Version: "
                           "2025-08-20 (or 2024-08-21) to list tasks in that version's shape")


def error(event: BaseProxyEvent, status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
    return json_response(status, body, headers)
