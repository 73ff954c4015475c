"""Webhook records (spec §1.13, §5.3): endpoints, events with their deliveries, the project's signing secret.

- `WebhookEndpoint` (`we_…`): a URL subscribed to topics (`job.*`, `task.succeeded`, ...).
- `Event` (`evt_…`): one state change of a job or standalone task (`job.succeeded`, `task.created`, ...),
  with a snapshot of the record as it was then and one `Delivery` per receiver: the record's own
  `webhook_url` (terminal topics only, the bare object as the API shows it) and each subscribed endpoint (the
  §5.3 envelope). An event with a pending delivery is in the outbox; it is written in the same transaction as
  the state change it reports (store/sqlite.py, store/dynamo*.py), so no change is ever lost.
- `SigningSecret`: the project's Standard Webhooks secret (`whsec_…`); after a rotation the previous one keeps
  signing too, for `ROTATION_GRACE_MS`, so receivers can switch without dropping deliveries.

Times are Unix ms like every record.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from mediajet.ids import new_id
from mediajet.models.library import LibraryRecord

JOB_TOPICS = ("job.created", "job.updated", "job.succeeded", "job.failed", "job.cancelled")
TASK_TOPICS = ("task.created", "task.updated", "task.succeeded", "task.failed", "task.cancelled")
TOPICS = JOB_TOPICS + TASK_TOPICS
WILDCARDS = ("*", "job.*", "task.*")
ROTATION_GRACE_MS = 24 * 3600 * 1000
# How long an event (and its delivery log) is kept: far past the last retry (~28 h), then removed (a DynamoDB
# TTL on its item; the embedded server's sender prunes SQLite).
EVENT_RETENTION_MS = 30 * 24 * 3600 * 1000

DeliveryStatus = Literal["pending", "succeeded", "failed"]


class WebhookEndpoint(LibraryRecord):
    record_type: ClassVar[str] = "webhook_endpoint"

    id: str = Field(default_factory=lambda: new_id("we"))
    url: str
    topics: list[str] = Field(default_factory=lambda: ["*"])
    description: str | None = None
    status: Literal["active", "disabled"] = "active"

    def wants(self, topic: str) -> bool:
        if self.status != "active":
            return False
        family = topic.split(".", 1)[0] + ".*"
        return any(t in (topic, family, "*") for t in self.topics)


class Attempt(BaseModel):
    at: int  # Unix ms the request started
    status_code: int | None = None  # None: no answer (timeout, refused, TLS, SSRF refusal)
    latency_ms: int = 0
    error: str | None = None


class Delivery(BaseModel):
    url: str
    endpoint_id: str | None = None  # None: the record's own `webhook_url`
    status: DeliveryStatus = "pending"
    attempts: list[Attempt] = Field(default_factory=list)
    next_attempt_at: int | None = None  # while pending


class Event(LibraryRecord):
    record_type: ClassVar[str] = "event"

    id: str = Field(default_factory=lambda: new_id("evt"))
    kind: str  # the topic
    subject_type: Literal["job", "task"]
    subject_id: str
    wire: str | None = None  # the API generation the subject was created in (api/wire); None: the Jobs API
    subject: dict[str, Any]  # the job or task record (to_record / task_record) at the time of the change
    deliveries: list[Delivery] = Field(default_factory=list)

    @property
    def due_at(self) -> int | None:
        """When the outbox should next look at this event; None once every delivery has ended."""
        due = [d.next_attempt_at or 0 for d in self.deliveries if d.status == "pending"]
        return min(due) if due else None


class SigningSecret(LibraryRecord):
    record_type: ClassVar[str] = "webhook_secret"

    id: str  # secret_id(project_id): one per project
    secret: str  # whsec_<base64>
    previous: str | None = None
    previous_until: int | None = None  # Unix ms until which `previous` signs too

    def signing_keys(self, now: int) -> list[str]:
        keys = [self.secret]
        if self.previous and (self.previous_until or 0) > now:
            keys.append(self.previous)
        return keys


def secret_id(project_id: str) -> str:
    return f"whs_{project_id}"
