"""The pipeline as data: the single source of truth for the local worker and the state machine.

Every job runs probe → import → encode → export, then finalize (always, also after a failure).
A long video's encode fans out: when the encode step's result names parts (`state["chunks"]`), each
part runs `encode_chunk` in parallel, then `join` runs once and the pipeline goes on with export.
Only transient failures are retried; each part is retried alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TRANSIENT_ERRORS: tuple[str, ...] = ("TransientError",)
# Lambda service hiccups, retried by the state machine only (the local worker never sees these).
LAMBDA_SERVICE_ERRORS: tuple[str, ...] = (
    "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
)
# A throttled invocation (the function's reserved concurrency or the account's is in use) ran nothing:
# it waits for capacity, with jittered backoff, for up to about ten minutes instead of failing the job.
THROTTLED: tuple[str, ...] = ("Lambda.TooManyRequestsException",)


@dataclass(frozen=True)
class RetryPolicy:
    errors: tuple[str, ...] = TRANSIENT_ERRORS
    max_attempts: int = 3  # retries after the first attempt
    interval_s: int = 2
    backoff_rate: float = 2.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1-based)."""
        return self.interval_s * self.backoff_rate ** (retry - 1)


THROTTLE_RETRY = RetryPolicy(errors=THROTTLED, max_attempts=12, interval_s=2, backoff_rate=1.5)
THROTTLE_MAX_DELAY_S = 60


@dataclass(frozen=True)
class FanOut:
    """Runs after its step when the step's result has `state[key]` = {"key": <items in working
    storage>, "count": n}: `each` once per item (in parallel), then `join` once."""

    each: Step
    join: Step
    key: str = "chunks"


@dataclass(frozen=True)
class Step:
    name: str  # also the Lambda function folder under functions/
    task: str  # the Task kind it drives; "encode" means the job's own kind
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    heavy: bool = False  # sized for video (memory, ephemeral storage, timeout)
    fan_out: FanOut | None = None


ENCODE_CHUNK = Step("encode_chunk", "encode", heavy=True)
JOIN = Step("join", "encode")
STEPS: tuple[Step, ...] = (
    Step("probe", "probe"),
    Step("import", "import"),
    Step("encode", "encode", heavy=True, fan_out=FanOut(each=ENCODE_CHUNK, join=JOIN)),
    Step("export", "export"),
)
FINALIZE = Step("finalize", "finalize", retry=RetryPolicy(max_attempts=5))
STEP_NAMES: tuple[str, ...] = tuple(s.name for s in STEPS)


ALL_STEPS: tuple[Step, ...] = (*STEPS, ENCODE_CHUNK, JOIN, FINALIZE)  # one Lambda function each


def step(name: str) -> Step:
    for candidate in ALL_STEPS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)
