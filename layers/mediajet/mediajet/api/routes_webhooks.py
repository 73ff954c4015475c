"""/webhooks and /events routes (spec §5.3 endpoints and events; the signing secret is a MediaJet extension):
Jobs API conventions whatever `Accept-Version` says (errors `{kind, message, field?}`, Unix-ms times, bare
arrays paged by `page` and `limit`). The handlers are in api/webhooks.py, imported on the first webhook request:
a cold start that serves /jobs does not pay for them."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from mediajet.api.deps import ApiDeps
from mediajet.api.openapi import EventView, Resolver, WebhookEndpointView, WebhookSecretView, route_doc
from mediajet.api.wire import WireContext

Page = Annotated[int, Query(ge=1, le=1_000_000, description="page number, from 1")]
Limit = Annotated[int, Query(ge=1, le=100, description="items per page (1-100)")]
SIGNING = ("Each delivery is a POST signed the Standard Webhooks way: headers `webhook-id` (the event id, "
           "`evt_…`, the same on every retry: drop duplicates by it), `webhook-timestamp` (Unix s) and "
           "`webhook-signature` (`v1,<base64 HMAC-SHA256 of \"<id>.<timestamp>.<body>\">` with the project's "
           "secret, GET /webhooks/secret). ")


def _doc(summary: str, operation: str, tag: str, description: str, model: Any, *codes: int,
         extension: bool = False) -> dict[str, Any]:
    return route_doc(summary, operation, tag, description, *codes, model=model, extension=extension)


def register(app: Resolver, deps: ApiDeps) -> None:
    def ctx() -> WireContext:
        return WireContext(deps, app.current_event)

    def handlers() -> Any:
        from mediajet.api import webhooks

        return webhooks

    @app.post("/webhooks/endpoints", **_doc(
        "Create a webhook endpoint", "createWebhookEndpoint", "webhooks",
        "`{url, topics, description?}`: `url` receives, as `{id: \"evt_…\", object: \"event\", kind: <topic>, data: "
        "<job or task>, created_at}`, every event of the project whose topic it subscribes to. " + SIGNING +
        "A 2xx within 5 s is a delivery; otherwise it is retried (MEDIAJET_WEBHOOK_RETRY_S). At most 20 endpoints "
        "per project (400 too_many_endpoints). `Idempotency-Key` makes a retry return the original (200).",
        WebhookEndpointView, 400, 401, 409))
    def create_webhook_endpoint():
        return handlers().create_endpoint(ctx())

    @app.get("/webhooks/endpoints", **_doc("List webhook endpoints", "listWebhookEndpoints", "webhooks",
             "Newest first, a bare array.", WebhookEndpointView, 400, 401))
    def list_webhook_endpoints(page: Page = 1, limit: Limit = 20):
        return handlers().list_endpoints(ctx(), page, limit)

    @app.get("/webhooks/endpoints/<endpoint_id>", **_doc("Get a webhook endpoint", "getWebhookEndpoint", "webhooks",
             "Another project's endpoint is a 404 webhook_endpoint_not_found.", WebhookEndpointView, 401, 404))
    def get_webhook_endpoint(endpoint_id: Annotated[str, Path()]):
        return handlers().get_endpoint(ctx(), endpoint_id)

    @app.patch("/webhooks/endpoints/<endpoint_id>", **_doc(
        "Update a webhook endpoint", "updateWebhookEndpoint", "webhooks",
        "Changes the given ones of url, topics, description and status (`disabled`: no new events for it).",
        WebhookEndpointView, 400, 401, 404))
    def update_webhook_endpoint(endpoint_id: Annotated[str, Path()]):
        return handlers().update_endpoint(ctx(), endpoint_id)

    @app.delete("/webhooks/endpoints/<endpoint_id>", **_doc(
        "Delete a webhook endpoint", "deleteWebhookEndpoint", "webhooks",
        "202: it receives no new events; deliveries already scheduled to it are still made.", dict[str, Any],
        401, 404))
    def delete_webhook_endpoint(endpoint_id: Annotated[str, Path()]):
        return handlers().delete_endpoint(ctx(), endpoint_id)

    @app.get("/webhooks/secret", **_doc(
        "Get the webhook signing secret", "getWebhookSecret", "webhooks",
        "The project's Standard Webhooks secret (made on first use): verify `webhook-signature` with it, e.g. "
        "`standardwebhooks.Webhook(secret).verify(body, headers)` in Python.", WebhookSecretView, 401,
        extension=True))
    def get_webhook_secret():
        return handlers().get_secret(ctx())

    @app.post("/webhooks/secret/rotate", **_doc(
        "Rotate the webhook signing secret", "rotateWebhookSecret", "webhooks",
        "A new secret signs from now on; the previous one keeps signing too for 24 h (`previous_expires_at`), so "
        "receivers can switch without missing a delivery.", WebhookSecretView, 401, extension=True))
    def rotate_webhook_secret():
        return handlers().rotate_secret(ctx())

    @app.get("/events", **_doc(
        "List events", "listEvents", "events",
        "The project's events, newest first, a bare array: each change of a job or standalone task that someone "
        "receives (its `webhook_url` or a subscribed endpoint), with its deliveries and their attempts. " + SIGNING,
        EventView, 400, 401))
    def list_events(page: Page = 1, limit: Limit = 20):
        return handlers().list_events(ctx(), page, limit)

    @app.get("/events/<event_id>", **_doc(
        "Get an event", "getEvent", "events",
        "`id` is the `webhook-id` header its receivers got. Another project's event is a 404 event_not_found.",
        EventView, 401, 404))
    def get_event(event_id: Annotated[str, Path()]):
        return handlers().get_event(ctx(), event_id)
