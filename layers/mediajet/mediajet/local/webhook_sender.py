"""The embedded server's webhook sender: a thread that delivers what the outbox (SQLite) holds.

It wakes when a commit puts a delivery in the outbox (a finished job's event is in the same commit as the
job), not at every write, or when the next retry falls due, whichever comes first, and sends on a small
pool so one slow receiver (5 s timeout) does not hold up the others. Everything it has not delivered is in the database: after a restart, kill -9 included,
the next start sends it (a claim taken by the dead process runs out within a minute, delivery.py).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from mediajet.ids import now_ms
from mediajet.models.webhooks import EVENT_RETENTION_MS
from mediajet.settings import Settings
from mediajet.webhooks.delivery import deliver_event
from mediajet.webhooks.payload import Signer

log = logging.getLogger("mediajet.webhooks")
IDLE_WAIT_S = 30.0  # with nothing due, look again at least this often (another process may write the file)
PRUNE_EVERY_S = 3600.0  # events past their retention are removed this often (models/webhooks.py)
SENDERS = 8
BATCH = 64


class WebhookSender:
    def __init__(self, store, sign: Signer, settings: Settings) -> None:
        self.store = store
        self.sign = sign
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pruned_at = 0.0  # time.monotonic() of the last prune; 0: prune on the first pass

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="mediajet-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.store.outbox_ready.set()  # wake the loop
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        with ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="mediajet-webhook") as pool:
            while not self._stop.is_set():
                self.store.outbox_ready.clear()  # before reading: a delivery after this wakes the wait below
                try:
                    self._prune()
                    events = self.store.due_events(now_ms(), BATCH)
                    list(pool.map(self._deliver, events))
                except Exception:
                    log.exception("the webhook sender failed a pass; it tries again")
                    self._stop.wait(1.0)
                    continue
                if len(events) == BATCH:
                    continue  # more are due
                self.store.outbox_ready.wait(self._idle_s())

    def _prune(self) -> None:
        if self._pruned_at and time.monotonic() - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = time.monotonic()
        removed = self.store.prune_events(now_ms() - EVENT_RETENTION_MS)
        if removed:
            log.info("removed %d webhook events older than %d days", removed, EVENT_RETENTION_MS // 86_400_000)

    def _deliver(self, event) -> None:
        try:
            deliver_event(self.store, event, sign=self.sign, settings=self.settings)
        except Exception:
            log.exception("delivering event %s failed; it stays in the outbox", event.id)

    def _idle_s(self) -> float:
        due = self.store.next_event_due()
        if due is None:
            return IDLE_WAIT_S
        return min(IDLE_WAIT_S, max(0.0, (due - now_ms()) / 1000))
