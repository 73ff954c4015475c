"""Domain errors. Each carries an Ittybit-style `kind`; the HTTP status is mapped once, here.

Request errors (4xx) are raised while validating or routing a request. Processing errors end a
job as `failed` with `error: {kind, message, task}`; `transient` ones are retried by the pipeline.
"""

from __future__ import annotations

from typing import Any, ClassVar


class MediaJetError(Exception):
    status: ClassVar[int] = 500
    default_kind: ClassVar[str] = "internal_error"
    transient: ClassVar[bool] = False

    def __init__(self, message: str, *, kind: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind or self.default_kind
        self.field = field

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": self.kind, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, message={self.message!r})"


# --- request errors -------------------------------------------------------------------------


class InvalidRequest(MediaJetError):
    """400: input_required, invalid_input, invalid_format, invalid_codec, kind_required,
    invalid_kind, invalid_option, end_required, request_invalid."""

    status = 400
    default_kind = "request_invalid"


class Unauthorized(MediaJetError):
    status = 401
    default_kind = "token_invalid"


class NotFound(MediaJetError):
    status = 404
    default_kind = "not_found"


class JobNotFound(NotFound):
    default_kind = "job_not_found"

    def __init__(self, job_id: str) -> None:
        super().__init__(f"No job with id '{job_id}' exists in this project.")


class TaskNotFound(NotFound):
    default_kind = "task_not_found"

    def __init__(self, task_id: str) -> None:
        super().__init__(f"No task with id '{task_id}' exists in this project.")


class FileNotFound(NotFound):
    default_kind = "file_not_found"


class MediaNotFound(NotFound):
    default_kind = "media_not_found"


class AutomationNotFound(NotFound):
    default_kind = "automation_not_found"


class EndpointNotFound(NotFound):
    default_kind = "webhook_endpoint_not_found"


class EventNotFound(NotFound):
    default_kind = "event_not_found"


class ConnectionNotFound(NotFound):
    default_kind = "connection_not_found"


class ConnectionRequired(InvalidRequest):
    """400: an s3:// input or output that no connection of the project (named or default) and no bucket the
    operator allowed for it can serve; refused when the job or task is created, never at export."""

    default_kind = "connection_required"


class MethodNotAllowed(MediaJetError):
    status = 405
    default_kind = "method_not_allowed"


class Conflict(MediaJetError):
    status = 409
    default_kind = "conflict"


class FileExists(Conflict):
    """409: an upload to a folder and filename that already hold a file (uploads never overwrite)."""

    default_kind = "file_exists"


class StepNotRun(MediaJetError):
    """422: an automation step of a kind this engine does not run, refused when the automation is saved."""

    status = 422
    default_kind = "unsupported_kind"


class PayloadTooLarge(MediaJetError):
    status = 413
    default_kind = "payload_too_large"


class RateLimited(MediaJetError):
    status = 429
    default_kind = "rate_limited"


class StaleWrite(Conflict):
    """A conditional write lost a race: the record changed since it was read."""

    default_kind = "stale_write"


# --- processing errors (end a job as failed) -------------------------------------------------


class ProcessingError(MediaJetError):
    """input_unreachable, input_forbidden, input_too_large, unsupported_media, resolution_too_large,
    duration_too_long, out_of_memory, encode_failed, export_failed, timeout, cancelled ..."""

    status = 422
    default_kind = "processing_failed"


class TransientError(ProcessingError):
    """A failure worth retrying: network blips, throttling, 5xx from a storage service."""

    transient = True
    default_kind = "transient_failure"


class Cancelled(ProcessingError):
    default_kind = "cancelled"


class ProcessFailed(ProcessingError):
    """A child process (ffmpeg, ffprobe) exited non-zero."""

    default_kind = "encode_failed"

    def __init__(
        self, message: str, *, kind: str | None = None, exit_code: int | None = None, stderr_tail: str = ""
    ) -> None:
        super().__init__(message, kind=kind)
        self.exit_code = exit_code
        self.stderr_tail = stderr_tail


class ShuttingDown(BaseException):
    """This process is stopping (SIGTERM, Ctrl-C): the running child was stopped and the job is left as
    it is, to resume at the next start. A BaseException, like KeyboardInterrupt, so that no
    `except Exception` on the way up records it as the job's failure."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_body(exc: BaseException) -> dict[str, Any]:
    """The `{kind, message}` a client sees for any exception; internals never leak."""
    if isinstance(exc, MediaJetError):
        return exc.to_dict()
    return {"kind": "internal_error", "message": "An unexpected error occurred; it has been logged."}
