"""The embedded server's worker: runs jobs and standalone tasks on a thread pool.

It is the local Orchestrator. On start it resumes every job and task that a previous process left
queued or processing (including after kill -9), so nothing stays `processing` forever. `stop` is
how a job comes to be left that way on purpose: its encoder is stopped and the job is not failed.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import threading
import time
from collections.abc import Callable

from mediajet.errors import ShuttingDown
from mediajet.media.runner import STOP_GRACE_S
from mediajet.models.job import Job, Task
from mediajet.pipeline.context import StepContext
from mediajet.pipeline.execute import run_job
from mediajet.pipeline.tasks import run_task
from mediajet.store.base import JobStore

log = logging.getLogger("mediajet.worker")

ContextFactory = Callable[[threading.Event], StepContext]
_STOP = ("stop", "", False)


class LocalWorker:
    def __init__(self, jobs: JobStore, make_context: ContextFactory, concurrency: int | None = None, *,
                 on_stop: Callable[[], None] | None = None) -> None:
        self.jobs = jobs
        self.on_stop = on_stop  # after the workers let go: e.g. stop the idle Pillow processes
        self.make_context = make_context
        self.concurrency = concurrency or os.cpu_count() or 1
        self._queue: queue.Queue[tuple[str, str, bool]] = queue.Queue()
        self._pending: set[str] = set()
        self._running: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()  # every step's ctx.stop: set, it ends each running child

    # Orchestrator
    def start_job(self, job: Job) -> None:
        self._enqueue("job", job.id)

    def start_task(self, task: Task) -> None:
        self._enqueue("task", task.id)

    def cancel_job(self, job: Job) -> None:
        with self._lock:
            event = self._running.get(job.id)
        if event is not None:
            event.set()

    # lifecycle
    def start(self) -> None:
        self._stopping.clear()
        for job in self.jobs.active_jobs():
            self._enqueue("job", job.id, resume=True)
        for task in self.jobs.active_tasks():
            self._enqueue("task", task.id, resume=True)
        for n in range(self.concurrency):
            thread = threading.Thread(target=self._loop, name=f"mediajet-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking work and stop every running ffmpeg/ffprobe (SIGTERM, then SIGKILL after
        STOP_GRACE_S). Their jobs and tasks stay `processing`, queued ones `queued`: all of them resume
        on the next start. Waits up to `timeout` seconds past the grace for the workers to let go (a
        step that is downloading finishes its download first; its job resumes all the same)."""
        self._stopping.set()
        self._drop_queued()
        for _ in self._threads:
            self._queue.put(_STOP)
        deadline = time.monotonic() + STOP_GRACE_S + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []
        if self.on_stop is not None:
            self.on_stop()

    def _drop_queued(self) -> None:
        """Their records stay queued (or processing, when resumed): the next start picks them up."""
        while True:
            try:
                _, ident, _ = self._queue.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                self._pending.discard(ident)

    def idle(self) -> bool:
        with self._lock:
            return not self._pending and not self._running

    def _enqueue(self, what: str, ident: str, resume: bool = False) -> None:
        with self._lock:
            if ident in self._pending or ident in self._running:
                return  # started twice (API and resume): run once
            self._pending.add(ident)
        self._queue.put((what, ident, resume))

    def _loop(self) -> None:
        while True:
            what, ident, resume = self._queue.get()
            if what == "stop" or self._stopping.is_set():
                with self._lock:
                    self._pending.discard(ident)
                return
            cancel = threading.Event()
            with self._lock:
                self._pending.discard(ident)
                self._running[ident] = cancel
            try:
                ctx = dataclasses.replace(self.make_context(cancel), stop=self._stopping, start_task=self.start_task)
                if what == "job":
                    run_job(ident, ctx, resume=resume)
                else:
                    run_task(ident, ctx)
            except ShuttingDown:
                log.info("%s %s stopped by shutdown; it resumes on the next start", what, ident)
                return
            except Exception:
                log.exception("%s %s could not be run", what, ident)
            finally:
                with self._lock:
                    self._running.pop(ident, None)
