"""Runs a whole job, or one standalone task, in this process: the local worker and the CLI use it.
(On AWS the state machine does the same from the same definition.)"""

from __future__ import annotations

import logging
import time

from mediajet.errors import MediaJetError
from mediajet.pipeline.context import StepContext
from mediajet.pipeline.definition import FINALIZE, STEPS, Step
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
        except Exception as exc:
            if not isinstance(exc, MediaJetError):
                log.exception("step %s of job %s crashed", step.name, job_id)
            state = {"job_id": job_id, "error": error_info(exc).model_dump()}
            break
    return _with_retries(FINALIZE, state, ctx)
