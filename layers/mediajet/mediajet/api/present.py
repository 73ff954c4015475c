"""Job/Task → the dict a client sees. Stored outputs are storage URIs; here they become links the
client can fetch (deps.sign_url), at read time, so a link never outlives its signature in the store.

A `file://` URI that the signer leaves as it is names a path on the server's own disk (working
storage: the imported input, the encoder's result before export). A client can neither fetch it nor
should learn the server's paths, and the file is deleted when the job ends, so its `url` reads null;
the rest of the File object (format, size, codecs) stays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mediajet.models.job import Job, Task

Signer = Callable[[str], str]


def link(url: Any, sign: Signer) -> str | None:
    """A link a client can fetch, or None: no URL, or a path on the server's own disk (see above)."""
    if not isinstance(url, str):
        return None
    signed = sign(url)
    return None if signed.startswith("file:") else signed


def _file(value: Any, sign: Signer) -> Any:
    if isinstance(value, dict) and isinstance(value.get("url"), str):
        return {**value, "url": link(value["url"], sign)}
    return value


def _task(data: dict[str, Any], sign: Signer) -> dict[str, Any]:
    data["input"] = _file(data.get("input"), sign)
    data["output"] = _file(data.get("output"), sign)
    return data


def task_dict(task: Task, sign: Signer) -> dict[str, Any]:
    return _task(task.model_dump(mode="json"), sign)


def job_dict(job: Job, sign: Signer) -> dict[str, Any]:
    data = job.model_dump(mode="json")
    if data["output"]:
        data["output"] = link(data["output"], sign)
    data["tasks"] = [_task(t, sign) for t in data["tasks"]]
    return data
