"""How the API hands work to the pipeline: a local queue (embedded) or Step Functions (AWS)."""

from __future__ import annotations

from typing import Protocol

from mediajet.models.job import Job, Task


class Orchestrator(Protocol):
    def start_job(self, job: Job) -> None:
        """Begin running the job's pipeline. Starting the same job twice runs it once."""
        ...

    def start_task(self, task: Task) -> None:
        """Run one standalone task (POST /tasks)."""
        ...

    def cancel_job(self, job: Job) -> None:
        """Stop the job's running step (the store already says `cancelled`)."""
        ...
