"""Lambda entry points. `functions/<name>/handler.py` are one-liners that call these.

Step errors leave as exceptions whose *type name* the state machine matches (`TransientError`, the
one of mediajet.errors, is retried, see pipeline.definition.TRANSIENT_ERRORS; `StepFailed` is caught)
and whose message is the JSON `{kind, message, task}` that finalize records on the job
(pipeline.steps.parse_step_error).

A chunked encode runs its parts in a Distributed Map. When a part fails for good, the Map fails with
an error of its own (States.ExceedToleratedFailureThreshold or the like) whose cause does not say
what went wrong in the part; so the part leaves its `{kind, message}` in working storage
(`jobs/<id>/chunks/failed.json`) and finalize records that instead of the Map's error.

Importing this module is cheap on purpose: off Lambda (tests, tools) everything heavy loads on first use;
on Lambda, `prepare` loads it in the init phase.
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from mediajet.errors import TransientError  # retried by the state machine, by this name

log = logging.getLogger("mediajet")


class StepFailed(Exception):
    """Not retried: the Catch sends it to finalize."""


# The errors our steps raise; any other error a Catch hands to finalize comes from Step Functions itself.
STEP_ERRORS = (TransientError.__name__, StepFailed.__name__)
# A Distributed Map's own errors: too many items failed, the item list could not be read.
MAP_ERRORS = ("States.ExceedToleratedFailureThreshold", "States.ItemReaderFailed")


def run_step(name: str, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    from mediajet.aws.runtime import step_context
    from mediajet.errors import MediaJetError
    from mediajet.pipeline.steps import error_info
    from mediajet.pipeline.steps import run_step as run

    try:
        return run(name, event, step_context(context))
    except Exception as exc:
        if not isinstance(exc, MediaJetError):
            log.exception("step %s crashed", name, extra={"job_id": event.get("job_id")})
        body = json.dumps(error_info(exc).model_dump(exclude_none=True))
        raise (TransientError if getattr(exc, "transient", False) else StepFailed)(body) from exc


def probe(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return run_step("probe", event, context)


def import_(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return run_step("import", event, context)


def encode(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Also runs standalone tasks (`{"task_id": …}`, invoked asynchronously by the API)."""
    if "task_id" in event:
        from mediajet.aws.runtime import step_context
        from mediajet.pipeline.tasks import run_task

        task = run_task(event["task_id"], step_context(context))
        return {"task_id": task.id, "status": task.status}
    return run_step("encode", event, context)


def encode_chunk(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """One part of a chunked encode (`{"job_id", "part"}`), run by the state machine's Map."""
    try:
        return run_step("encode_chunk", event, context)
    except StepFailed as failed:  # for good: the Map fails, finalize reports this part's error
        _keep_part_error(event["job_id"], str(failed))
        raise


def join(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return run_step("join", event, context)


def export(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return run_step("export", event, context)


def finalize(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return run_step("finalize", _with_part_error(event), context)


def _part_error_key(job_id: str) -> str:
    from mediajet.pipeline.chunked import prefix

    return f"{prefix(job_id)}/failed.json"


def _keep_part_error(job_id: str, body: str) -> None:
    """Best effort: without it the job still fails, with the Map's own error."""
    from mediajet.aws import runtime

    s3 = runtime.client("s3")
    try:
        s3.put_object(Bucket=runtime.aws_settings().work_bucket, Key=_part_error_key(job_id), Body=body.encode(),
                      ContentType="application/json")
    except Exception:  # the part's own failure is what matters
        log.warning("could not keep the error of a failed part", exc_info=True, extra={"job_id": job_id})


def _with_part_error(event: dict[str, Any]) -> dict[str, Any]:
    """The state finalize gets after the chunks' Map failed: the error of the part that failed for good
    when it left one, or else the Map's error, saying it is about a part."""
    error = event.get("error")
    if "chunks" not in event or not isinstance(error, dict) or error.get("Error") in STEP_ERRORS:
        return event  # no Map ran, or a step (encode, join) failed with its own error
    from botocore.exceptions import BotoCoreError, ClientError

    from mediajet.aws import runtime

    s3 = runtime.client("s3")
    part_error = None
    try:
        found = s3.get_object(Bucket=runtime.aws_settings().work_bucket, Key=_part_error_key(event["job_id"]))
        part_error = json.loads(found["Body"].read())
    except s3.exceptions.NoSuchKey:
        pass  # none left: a part throttled or timed out to the end, the list of parts unreadable…
    except (BotoCoreError, ClientError, ValueError):
        log.warning("could not read the error of a failed part", exc_info=True, extra={"job_id": event["job_id"]})
    if isinstance(part_error, dict) and "kind" in part_error:
        return {**event, "error": part_error}
    if error.get("Error") not in MAP_ERRORS:
        return event  # e.g. join timed out
    cause = error.get("Cause") or "no cause given"
    return {**event, "error": {**error, "Cause": f"a part of the chunked encode did not finish "
                                                 f"({error['Error']}): {cause}"}}


@lru_cache(maxsize=1)
def _api():  # built once per container, on the first request
    from mediajet.api.app import create_app

    return create_app(_deps())


@lru_cache(maxsize=1)
def _deps() -> Any:  # the API's and the upload trigger's: built once per container
    from mediajet.api.deps import ApiDeps
    from mediajet.aws import runtime
    from mediajet.aws.library_uploads import S3Uploads
    from mediajet.settings import get_settings

    inbox = runtime.aws_settings().inbox_bucket
    return ApiDeps(jobs=runtime.job_store(), orchestrator=runtime.orchestrator(), settings=get_settings(),
                   sign_url=runtime.sign_url, delete_uri=runtime.delete_uri,
                   uploads=S3Uploads(inbox, lambda: runtime.client("s3")) if inbox else None, cipher=runtime.cipher())


def reset() -> None:
    """Forget everything built on first use (tests)."""
    from mediajet.aws import runtime

    _api.cache_clear()
    _deps.cache_clear()
    runtime.reset()


def api(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    from mediajet.aws import downloads, runtime

    if downloads.is_download(event):  # a signed link (no API key): answered without building the API
        return downloads.answer(event, runtime.downloads())
    token = runtime.REQUEST_URL.set(downloads.public_url(event))  # where HLS links point (runtime.sign_url)
    try:
        return _api().resolve(event, context)
    finally:
        runtime.REQUEST_URL.reset(token)


def webhooks(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Webhook deliveries: the table's stream, the retry queue and the sweep schedule (mediajet.aws.webhooks)."""
    from mediajet.aws.webhooks import handle

    return handle(event, context)


def on_upload(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """S3 ObjectCreated on the inbox bucket → one job per object (rules in mediajet.aws.uploads), or, under
    `library/`, one media library file (mediajet.aws.library_uploads).

    S3 may deliver an event twice; the upload's idempotency claim makes that one job, and starting
    it again is a no-op (the execution is named by the job id)."""
    from mediajet.aws import runtime
    from mediajet.aws.library_uploads import file_for_upload, parse_upload_key
    from mediajet.aws.uploads import job_for_upload

    created, filed = [], []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        etag = record["s3"]["object"].get("eTag", "")
        if parse_upload_key(key) is not None:  # a media library upload (POST /signatures): a file, not a job
            file_id = file_for_upload(bucket, key, etag, _deps())
            log.info("upload s3://%s/%s → file %s", bucket, key, file_id)
            filed.append(file_id)
            continue
        found = job_for_upload(bucket, key, runtime.client("s3"), runtime.aws_settings().upload_project, etag)
        if found is None:
            continue
        job, _ = runtime.job_store().create_job(*found)
        if job.status == "queued":  # also after a crash between the write and the start
            runtime.orchestrator().start_job(job)
        log.info("upload s3://%s/%s → job %s", bucket, key, job.id, extra={"job_id": job.id})
        created.append(job.id)
    return {"jobs": created, **({"files": filed} if filed else {})}


def _prepare_api() -> None:
    import mediajet.aws.downloads  # noqa: F401 - every request asks it whether it is a download

    _api()


def _prepare_steps() -> None:
    import mediajet.pipeline.steps  # noqa: F401 - every step's modules
    from mediajet.aws.runtime import step_context

    step_context()


def _prepare_webhooks() -> None:
    from mediajet.aws.webhooks import sender

    sender()


def _prepare_uploads() -> None:
    import mediajet.aws.uploads  # noqa: F401 - _deps brings library_uploads
    from mediajet.aws import runtime

    _deps()
    runtime.client("s3")


PREPARE = {"api": _prepare_api, "webhooks": _prepare_webhooks, "on_upload": _prepare_uploads,
           **dict.fromkeys(("probe", "import", "encode", "encode_chunk", "join", "export", "finalize"), _prepare_steps)}


def prepare(function: str) -> None:
    """What every first call of `function` would build, built at its import, on Lambda only: imports,
    settings, stores and clients (no network). Lambda runs a function's init phase on a whole vCPU whatever
    its memory, and its calls on their share (0.58 of one at 1024 MB), so this work costs a cold start about
    half as long there as in its first call (BENCHMARKS.md, API Lambda first request). Off Lambda (tests,
    tools) importing a handler stays cheap. A failure is left to the first call, which reports it as its
    own error."""
    if not os.environ.get("AWS_LAMBDA_RUNTIME_API"):  # set by the Lambda runtime only
        return
    try:
        PREPARE[function]()
    except Exception:
        log.warning("could not prepare %s at init: its first call will", function, exc_info=True)
