"""Job/Task → the dict a client sees. Stored outputs are storage URIs; here they become links the
client can fetch (deps.sign_url), at read time, so a link never outlives its signature in the store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mediajet.models.job import Job, Task

Signer = Callable[[str], str]


def _task(data: dict[str, Any], sign: Signer) -> dict[str, Any]:
    output = data.get("output")
    if isinstance(output, dict) and isinstance(output.get("url"), str):
        data["output"] = {**output, "url": sign(output["url"])}
    return data


def task_dict(task: Task, sign: Signer) -> dict[str, Any]:
    return _task(task.model_dump(mode="json"), sign)


def job_dict(job: Job, sign: Signer) -> dict[str, Any]:
    data = job.model_dump(mode="json")
    if data["output"]:
        data["output"] = sign(data["output"])
    data["tasks"] = [_task(t, sign) for t in data["tasks"]]
    return data
