"""Runs a whole job, or one standalone task, in this process: the local worker and the CLI use it.
(On AWS the state machine does the same from the same definition.)"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from mediajet.errors import MediaJetError
from mediajet.pipeline.context import StepContext
from mediajet.pipeline.definition import FINALIZE, STEPS, FanOut, Step
from mediajet.pipeline.steps import error_info, run_step

log = logging.getLogger("mediajet.pipeline")


def _with_retries(step: Step, state: dict, ctx: StepContext) -> dict:
    attempt = 0
    while True:
        try:
            return run_step(step.name, state, ctx)
        except MediaJetError as exc:
            attempt += 1
            if not exc.transient or attempt > step.retry.max_attempts:
                raise
            delay = step.retry.delay(attempt)
            log.warning("%s: transient failure (%s); retry %d in %.0f s", step.name, exc.message, attempt, delay)
            if ctx.cancel is not None and ctx.cancel.wait(delay):
                raise
            if ctx.cancel is None:
                time.sleep(delay)


def _fan_out(fan_out: FanOut, state: dict, ctx: StepContext) -> dict:
    """Every item through `each` on a pool as wide as the machine (each item is an ffmpeg process, so
    the threads only wait), each retried alone; the first failure stops the others; then `join`."""
    listing = state[fan_out.key]
    with ctx.work.local_path(listing["key"]) as path:
        items = json.loads(path.read_text())
    stop = threading.Event()  # set by the first failure, or relayed from the job's own cancel
    part_ctx = dataclasses.replace(ctx, cancel=stop)
    relay = threading.Thread(target=_relay, args=(ctx.cancel, stop), daemon=True)
    relay.start()
    workers = ctx.settings.chunk_workers or os.cpu_count() or 1
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mediajet-part") as pool:
            futures = [pool.submit(_with_retries, fan_out.each, item, part_ctx) for item in items]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = next((f for f in done if f.exception() is not None), None)
            if failed is not None:
                stop.set()
                raise failed.exception()  # type: ignore[misc]
    finally:
        stop.set()
    return _with_retries(fan_out.join, state, ctx)


def _relay(source: threading.Event | None, target: threading.Event) -> None:
    while source is not None and not target.is_set():
        if source.wait(0.2):
            target.set()


def run_job(job_id: str, ctx: StepContext, *, resume: bool = False) -> dict:
    """Run every step, then finalize. With `resume`, steps whose task already succeeded are skipped
    (a restart after a crash picks up where the job stopped)."""
    state: dict = {"job_id": job_id}
    done = {t.kind for t in ctx.jobs.get_job(job_id).tasks if t.status == "succeeded"} if resume else set()
    kinds = [t.kind for t in ctx.jobs.get_job(job_id).tasks]
    for index, step in enumerate(STEPS):
        if kinds[index] in done:
            continue
        try:
            state = _with_retries(step, state, ctx)
            if step.fan_out is not None and state.get(step.fan_out.key):
                state = _fan_out(step.fan_out, state, ctx)
        except Exception as exc:
            if not isinstance(exc, MediaJetError):
                log.exception("step %s of job %s crashed", step.name, job_id)
            state = {"job_id": job_id, "error": error_info(exc).model_dump()}
            break
    return _with_retries(FINALIZE, state, ctx)
