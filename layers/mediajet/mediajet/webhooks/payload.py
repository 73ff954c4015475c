"""What a receiver gets: the job or task as the API shows it, in the generation it was created in.

The record's own `webhook_url` gets the bare object (spec §1.13: `{id, status, kind, input, output, ...}`);
an endpoint gets the §5.3 envelope `{id: "evt_…", object: "event", kind: <topic>, data: <object>, created_at}`.
Links in the object are signed when the body is built (each attempt), so a retry a day later still carries
links that work.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mediajet.models.job import Job, Task
from mediajet.models.webhooks import Delivery, Event

Signer = Callable[[str], str]
STEPS = "steps"


def subject_view(event: Event, sign: Signer) -> dict[str, Any]:
    from mediajet.api import present

    if event.subject_type == "job":
        return present.job_dict(Job.model_validate(event.subject), sign)
    task = Task.model_validate(event.subject)
    if event.wire == STEPS:
        from mediajet.api.wire.steps import step_dict

        return step_dict(task, sign)
    if event.wire == "2025-08-20":
        from mediajet.api.wire.v2025_08_20_present import task_view

        return task_view(task, sign)
    if event.wire == "2024-08-21":
        from mediajet.api.wire.v2024_08_21_present import task_data

        return task_data(task, sign)
    return present.task_dict(task, sign)


def envelope(event: Event, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": event.id, "object": "event", "kind": event.kind, "data": data, "created_at": event.created_at}


def body(event: Event, delivery: Delivery, sign: Signer) -> bytes:
    data = subject_view(event, sign)
    payload = data if delivery.endpoint_id is None else envelope(event, data)
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
