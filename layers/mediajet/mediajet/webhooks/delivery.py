"""Delivering events: one signed POST per attempt, the retry schedule, and a pass over the outbox.

Retried (after `MEDIAJET_WEBHOOK_RETRY_S`, each delay stretched by up to 20 % of random jitter so receivers
that fail together are not hit together again): no answer (timeout, refused, reset, DNS failure), 408, 425,
429 and 5xx. Not retried: other 4xx (the receiver says the request is wrong; sending it again will not fix
it), redirects (not followed: a webhook URL names the receiver), and URLs the address policy refuses.

Senders may run side by side (threads, processes, Lambdas): before it sends, a sender claims the delivery by
pushing its `next_attempt_at` past the request's timeout with a conditional write; the sender that loses the
race skips it. A sender that dies after its claim leaves the delivery due again once the claim runs out:
at-least-once, and `webhook-id` (the event id) lets receivers drop the rare duplicate.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, Protocol

from mediajet import __version__
from mediajet.errors import MediaJetError, NotFound, StaleWrite, TransientError
from mediajet.ids import now_ms
from mediajet.models.webhooks import Attempt, Delivery, Event, WebhookEndpoint
from mediajet.settings import Settings
from mediajet.webhooks import payload, signing
from mediajet.webhooks.secrets import project_secret

log = logging.getLogger("mediajet.webhooks")

RETRYABLE_STATUSES = frozenset({408, 425, 429})
CLAIM_MARGIN_MS = 30_000
MAX_ERROR_CHARS = 300
JITTER = 0.2


class Outbox(Protocol):
    def due_events(self, now: int, limit: int = 100) -> list[Event]: ...

    def save_event(self, event: Event) -> Event: ...

    def get_record(self, cls: Any, record_id: str, project_id: str | None) -> Any: ...


Post = Callable[[str, bytes, dict[str, str], Settings], tuple[int | None, str | None]]


def retry_delays(settings: Settings) -> list[float]:
    """Seconds between attempts: `MEDIAJET_WEBHOOK_RETRY_S`, e.g. "5,300,1800" (three retries)."""
    return [float(part) for part in settings.webhook_retry_s.split(",") if part.strip()]


def post(url: str, body: bytes, headers: dict[str, str], settings: Settings) -> tuple[int | None, str | None]:
    """POST `body` to `url` through the address policy; (status code, None) or (None, why there was no answer)
    for a retryable failure. A URL the policy refuses raises MediaJetError (not retried)."""
    import http.client

    from mediajet.storage import http_fetch
    from mediajet.storage.pinned_http import PinnedHTTPConnection, PinnedHTTPSConnection

    try:
        target = http_fetch.resolve_target(url, check=not settings.allow_private_urls)
    except TransientError as exc:
        return None, exc.message
    timeout = settings.webhook_timeout_s
    if target.scheme == "https":
        conn: PinnedHTTPConnection = PinnedHTTPSConnection(target.host, target.port, target.addresses,
                                                           connect_timeout=timeout, read_timeout=timeout,
                                                           context=http_fetch.tls_context())
    else:
        conn = PinnedHTTPConnection(target.host, target.port, target.addresses, connect_timeout=timeout,
                                    read_timeout=timeout)
    sent = {"Content-Type": "application/json", "User-Agent": f"mediajet-webhooks/{__version__}",
            "Connection": "close", **headers}
    try:
        conn.request("POST", target.request_target, body=body, headers=sent)
        response = conn.getresponse()
        response.read(64 * 1024)  # a receiver's answer is not ours to keep
        return response.status, None
    except TimeoutError:
        return None, f"no answer within {timeout:g} s"
    except (OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
    except http.client.HTTPException as exc:  # not HTTP at all
        return None, f"not a valid HTTP answer ({type(exc).__name__})"
    finally:
        conn.close()


def check_url(url: str, settings: Settings, field: str = "webhook_url") -> None:
    """The rules of every webhook URL (a job's or task's `webhook_url`, an endpoint's `url`): https only (plain
    http as well where private URLs are allowed: local development), a valid port, no credentials (never sent:
    receivers check the signature), and no literal private address or `localhost` name. A host name is checked
    again at every delivery, against what it resolves to then."""
    from urllib.parse import urlsplit

    from mediajet.errors import InvalidRequest
    from mediajet.storage import ssrf

    def bad(why: str) -> InvalidRequest:
        return InvalidRequest(f"{field} {why}", kind="invalid_webhook_url", field=field)

    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number from 0 to 65535)
    except ValueError as exc:
        raise bad(f"is not a valid URL ({str(exc)[:80]})") from None
    allowed = ("https", "http") if settings.allow_private_urls else ("https",)
    if parts.scheme.lower() not in allowed or not host:
        raise bad("must be an https:// URL (plain http:// only where MEDIAJET_ALLOW_PRIVATE_URLS is set, for local "
                  "development)")
    if parts.username is not None or parts.password is not None:
        raise bad("must not carry credentials (user:password@): receivers check the webhook-signature header instead")
    if settings.allow_private_urls:
        return
    literal = ssrf.parse_host(host)
    reason = ssrf.classify_address(literal) if literal is not None else None
    if reason is None and (host.rstrip(".") == "localhost" or host.rstrip(".").endswith(".localhost")):
        literal, reason = host, "a loopback host"
    if reason is not None:
        raise bad(f"names {literal}, {reason}: webhooks go to public addresses only (MEDIAJET_ALLOW_PRIVATE_URLS "
                  "allows others, for local development)")


def _outcome(status: int | None, error: str | None) -> tuple[bool, bool]:
    """(delivered, worth retrying)."""
    if status is None:
        return False, True
    if 200 <= status < 300:
        return True, False
    return False, status in RETRYABLE_STATUSES or status >= 500


def _send(event: Event, delivery: Delivery, keys: list[str], sign: payload.Signer, settings: Settings,
          send: Post, started: int) -> tuple[int | None, str | None, bool, bool]:
    """(status, error, delivered, worth retrying) of sending `delivery` once."""
    try:
        check_url(delivery.url, settings)
        body = payload.body(event, delivery, sign)
        status, error = send(delivery.url, body, signing.headers(keys, event.id, started // 1000, body), settings)
    except MediaJetError as exc:  # refused by the address policy, or not an allowed scheme: final
        return None, exc.message[:MAX_ERROR_CHARS], False, False
    delivered, retry = _outcome(status, error)
    if status is not None and not delivered:
        error = f"answered {status}"
    return status, error, delivered, retry


def attempt(event: Event, index: int, *, keys: list[str], sign: payload.Signer, settings: Settings,
            send: Post = post, stopped: str | None = None) -> Event:
    """Send delivery `index` of `event` once; returns the event with the attempt and what happens next.
    `stopped`: why it must not be sent any more (its endpoint is gone), recorded as its last attempt."""
    delivery = event.deliveries[index]
    started = now_ms()
    clock = time.monotonic()
    if stopped is None:
        status, error, delivered, retry = _send(event, delivery, keys, sign, settings, send, started)
    else:
        status, error, delivered, retry = None, stopped, False, False
    latency = int((time.monotonic() - clock) * 1000)
    done = delivery.model_copy(update={"attempts": [*delivery.attempts, Attempt(
        at=started, status_code=status, latency_ms=latency, error=error)]})
    delays = retry_delays(settings)
    retries_used = len(done.attempts) - 1
    if delivered:
        done.status, done.next_attempt_at = "succeeded", None
    elif retry and retries_used < len(delays):
        wait_s = delays[retries_used] * (1 + random.uniform(0, JITTER))
        done.next_attempt_at = now_ms() + int(wait_s * 1000)
    else:
        done.status, done.next_attempt_at = "failed", None
    # shallow copies: the snapshot is never changed in place, and copying it per attempt cost more than sending
    deliveries = [done if i == index else d for i, d in enumerate(event.deliveries)]
    return event.model_copy(update={"deliveries": deliveries, "updated_at": now_ms()})


def _claim(store: Outbox, event: Event, due: list[int], settings: Settings) -> Event | None:
    """Push the due deliveries' next attempt past this sender's requests, conditionally; None: another sender
    claimed them first."""
    until = now_ms() + int(settings.webhook_timeout_s * 1000) * len(due) + CLAIM_MARGIN_MS
    held = event.model_copy(update={"deliveries": [d.model_copy(update={"next_attempt_at": until}) if i in due else d
                                                   for i, d in enumerate(event.deliveries)]})
    try:
        return store.save_event(held)
    except StaleWrite:
        return None


def deliver_due(store: Outbox, *, sign: payload.Signer, settings: Settings, limit: int = 50,
                send: Post = post) -> int:
    """One pass over the outbox: every delivery due now is attempted once. Returns the number of attempts."""
    now = now_ms()
    made = 0
    for event in store.due_events(now, limit):
        made += deliver_event(store, event, sign=sign, settings=settings, send=send, now=now)
    return made


def deliver_event(store: Outbox, event: Event, *, sign: payload.Signer, settings: Settings, send: Post = post,
                  now: int | None = None, recorded: Callable[[Event], None] | None = None) -> int:
    """Attempt each of `event`'s deliveries that is due (`now`, default: this moment); record every attempt.
    `recorded` gets the event as last saved, once every attempt is recorded (the AWS sender schedules its next
    due time from it: aws/webhooks.py)."""
    now = now_ms() if now is None else now
    due = [i for i, d in enumerate(event.deliveries) if _is_due(d, now)]
    if not due:
        return 0
    claimed = _claim(store, event, due, settings)
    if claimed is None:
        return 0
    keys = project_secret(store, event.project_id).signing_keys(now)
    for index in due:
        claimed = attempt(claimed, index, keys=keys, sign=sign, settings=settings, send=send,
                          stopped=_endpoint_stopped(store, claimed.project_id, claimed.deliveries[index]))
        try:
            claimed = store.save_event(claimed)
        except StaleWrite:
            log.warning("event %s changed while delivering; its attempt is not recorded", event.id)
            return len(due)
        last = claimed.deliveries[index].attempts[-1]
        log.info("webhook %s %s to %s: %s", event.id, event.kind, claimed.deliveries[index].url,
                 last.status_code or last.error, extra={"event_id": event.id})
    if recorded is not None:
        recorded(claimed)
    return len(due)


def _endpoint_stopped(store: Outbox, project_id: str, delivery: Delivery) -> str | None:
    """Why a delivery to an endpoint is not sent any more: the endpoint was deleted or disabled after the event
    (a record's own `webhook_url` is always tried)."""
    if delivery.endpoint_id is None:
        return None
    try:
        endpoint = store.get_record(WebhookEndpoint, delivery.endpoint_id, project_id)
    except NotFound:
        return "not sent: the webhook endpoint was deleted"
    return None if endpoint.status == "active" else "not sent: the webhook endpoint is disabled"


def _is_due(delivery: Delivery, now: int) -> bool:
    return delivery.status == "pending" and (delivery.next_attempt_at or 0) <= now
