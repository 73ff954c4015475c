"""Writes encoder progress to the job's task without flooding the store, and notices cancellation."""

from __future__ import annotations

import threading
import time

from mediajet.models.job import Job
from mediajet.store.base import JobStore, transition

MIN_INTERVAL_S = 1.0


class ProgressWriter:
    def __init__(self, jobs: JobStore, job_id: str, task_index: int, cancel: threading.Event | None) -> None:
        self.jobs = jobs
        self.job_id = job_id
        self.task_index = task_index
        self.cancel = cancel
        self.last_write = 0.0
        self.last_percent = -1

    def __call__(self, percent: int) -> None:
        now = time.monotonic()
        # 100 comes with the step's success, which writes it beside the result: a write of its own was one
        # more of a short job's ~13, for the only progress such a job reports
        if percent >= 100 or percent <= self.last_percent or now - self.last_write < MIN_INTERVAL_S:
            return
        self.last_write, self.last_percent = now, percent
        job = transition(self.jobs, self.job_id, self._apply(percent))
        if job.status == "cancelled" and self.cancel is not None:
            self.cancel.set()  # cancelled elsewhere (another process or the API): stop ffmpeg

    def _apply(self, percent: int):
        def change(job: Job) -> Job | None:
            task = job.tasks[self.task_index]
            if job.status != "processing" or task.status != "processing":
                return None
            task.progress = percent
            return job

        return change
