"""What the webhook routes do (api/routes_webhooks.py): endpoints, events, the signing secret of the caller's
project. Parsing is models/webhook_requests.py, the rules and wire shapes webhooks/manage.py; errors are the
Jobs API's `{kind, message, field?}`. Another project's endpoint or event is a 404 of its kind
(webhook_endpoint_not_found, event_not_found), exactly as one that never existed."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from mediajet.api import idempotency
from mediajet.api.errors import json_response
from mediajet.api.wire import WireContext
from mediajet.ids import now_ms
from mediajet.models.webhook_requests import EndpointCreate, EndpointUpdate, parse_endpoint
from mediajet.models.webhooks import Event, WebhookEndpoint
from mediajet.webhooks import manage, secrets


def create_endpoint(ctx: WireContext) -> Response:
    project, key, body, store = ctx.project(), idempotency.key_from(ctx.event.headers), ctx.body(), ctx.deps.jobs
    request = parse_endpoint(EndpointCreate, body, ctx.deps.settings)
    if key is None or store.get_claim(project, key) is None:  # a replay is answered even at the limit
        manage.check_room(store, project)
    endpoint, created = idempotency.create_record(store, manage.new_endpoint(project, request), key, body)
    return json_response(201 if created else 200, manage.endpoint_view(endpoint))


def list_endpoints(ctx: WireContext, page: int, limit: int) -> Response:
    found = ctx.deps.jobs.list_records(WebhookEndpoint, ctx.project(), page, limit)
    return json_response(200, [manage.endpoint_view(e) for e in found])


def get_endpoint(ctx: WireContext, endpoint_id: str) -> Response:
    return json_response(200, manage.endpoint_view(ctx.deps.jobs.get_record(WebhookEndpoint, endpoint_id,
                                                                            ctx.project())))


def update_endpoint(ctx: WireContext, endpoint_id: str) -> Response:
    project, request = ctx.project(), parse_endpoint(EndpointUpdate, ctx.body(), ctx.deps.settings)
    return json_response(200, manage.endpoint_view(manage.update_endpoint(ctx.deps.jobs, project, endpoint_id,
                                                                          request)))


def delete_endpoint(ctx: WireContext, endpoint_id: str) -> Response:
    manage.delete_endpoint(ctx.deps.jobs, ctx.project(), endpoint_id)
    return json_response(202, {"message": f"webhook endpoint {endpoint_id} is deleted; deliveries already "
                                          "scheduled to it are still made"})


def list_events(ctx: WireContext, page: int, limit: int) -> Response:
    found = ctx.deps.jobs.list_records(Event, ctx.project(), page, limit)
    return json_response(200, [manage.event_view(e, ctx.deps.sign_url) for e in found])


def get_event(ctx: WireContext, event_id: str) -> Response:
    event = ctx.deps.jobs.get_record(Event, event_id, ctx.project())
    return json_response(200, manage.event_view(event, ctx.deps.sign_url))


def get_secret(ctx: WireContext) -> Response:
    return json_response(200, manage.secret_view(secrets.project_secret(ctx.deps.jobs, ctx.project()), now_ms()))


def rotate_secret(ctx: WireContext) -> Response:
    return json_response(200, manage.secret_view(secrets.rotate(ctx.deps.jobs, ctx.project()), now_ms()))
