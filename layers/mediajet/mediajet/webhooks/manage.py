"""Managing a project's webhooks: endpoints (create, list, read, change, delete), its events and the signing
secret, and how each looks on the wire. The API routes (api/webhooks.py) and `mediajet webhooks … --local`
(cli/webhooks.py) both call these, so a server and the CLI on its data directory answer alike.

Wire shapes (Jobs API conventions: Unix-ms times, bare arrays for lists):
- endpoint: `{id, object: "webhook_endpoint", url, topics, description, status, created_at, updated_at}`;
- event: `{id, object: "event", kind, data, created_at, deliveries: [{url, endpoint_id, status,
  next_attempt_at, attempts: [{at, status_code, latency_ms, error}]}]}`, `data` being the job or task as the
  API showed it when the change happened (webhooks/payload.py), links signed now;
- secret: `{object: "webhook_secret", secret, previous_expires_at}`.
"""

from __future__ import annotations

from typing import Any

from mediajet.errors import InvalidRequest
from mediajet.models.webhook_requests import MAX_ENDPOINTS, EndpointCreate, EndpointUpdate
from mediajet.models.webhooks import Event, SigningSecret, WebhookEndpoint
from mediajet.webhooks import payload


class TooManyEndpoints(InvalidRequest):
    default_kind = "too_many_endpoints"


# --- endpoints ----------------------------------------------------------------------------------------


def check_room(store: Any, project: str) -> None:
    """Refuse a new endpoint when the project has `MAX_ENDPOINTS` already."""
    if len(store.list_records(WebhookEndpoint, project, 1, MAX_ENDPOINTS)) >= MAX_ENDPOINTS:
        raise TooManyEndpoints(f"a project has at most {MAX_ENDPOINTS} webhook endpoints; delete one first, or "
                               "subscribe an existing one to more topics")


def new_endpoint(project: str, request: EndpointCreate) -> WebhookEndpoint:
    return WebhookEndpoint(project_id=project, url=request.url, topics=request.topics,
                           description=request.description)


def update_endpoint(store: Any, project: str, endpoint_id: str, request: EndpointUpdate) -> WebhookEndpoint:
    endpoint = store.get_record(WebhookEndpoint, endpoint_id, project)
    return store.save_record(endpoint.touched(**request.changes()))


def delete_endpoint(store: Any, project: str, endpoint_id: str) -> None:
    store.delete_record(WebhookEndpoint, endpoint_id, project)


def endpoint_view(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"id": endpoint.id, "object": "webhook_endpoint", "url": endpoint.url, "topics": endpoint.topics,
            "description": endpoint.description, "status": endpoint.status, "created_at": endpoint.created_at,
            "updated_at": endpoint.updated_at}


# --- events -------------------------------------------------------------------------------------------


def event_view(event: Event, sign: payload.Signer) -> dict[str, Any]:
    return {"id": event.id, "object": "event", "kind": event.kind, "data": payload.subject_view(event, sign),
            "created_at": event.created_at, "deliveries": [d.model_dump() for d in event.deliveries]}


# --- the signing secret -------------------------------------------------------------------------------


def secret_view(secret: SigningSecret, now: int) -> dict[str, Any]:
    """`previous_expires_at`: until when the secret before the last rotation still signs (null: none does)."""
    previous = secret.previous_until if secret.previous and (secret.previous_until or 0) > now else None
    return {"object": "webhook_secret", "secret": secret.secret, "previous_expires_at": previous}

