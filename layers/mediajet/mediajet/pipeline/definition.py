"""The pipeline as data: the single source of truth for the local worker and the state machine.

Every job runs probe → import → encode → export, then finalize (always, also after a failure).
Only transient failures are retried.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TRANSIENT_ERRORS: tuple[str, ...] = ("TransientError",)
# Lambda service hiccups, retried by the state machine only (the local worker never sees these).
LAMBDA_SERVICE_ERRORS: tuple[str, ...] = (
    "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)


@dataclass(frozen=True)
class RetryPolicy:
    errors: tuple[str, ...] = TRANSIENT_ERRORS
    max_attempts: int = 3  # retries after the first attempt
    interval_s: int = 2
    backoff_rate: float = 2.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1-based)."""
        return self.interval_s * self.backoff_rate ** (retry - 1)


@dataclass(frozen=True)
class Step:
    name: str  # also the Lambda function folder under functions/
    task: str  # the Task kind it drives; "encode" means the job's own kind
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    heavy: bool = False  # sized for video (memory, ephemeral storage, timeout)


STEPS: tuple[Step, ...] = (
    Step("probe", "probe"),
    Step("import", "import"),
    Step("encode", "encode", heavy=True),
    Step("export", "export"),
)
FINALIZE = Step("finalize", "finalize", retry=RetryPolicy(max_attempts=5))
STEP_NAMES: tuple[str, ...] = tuple(s.name for s in STEPS)


def step(name: str) -> Step:
    for candidate in (*STEPS, FINALIZE):
        if candidate.name == name:
            return candidate
    raise KeyError(name)
