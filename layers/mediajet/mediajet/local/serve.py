"""`mediajet serve`: the Jobs API on this machine (SQLite, a local folder, the in-process worker)."""

from __future__ import annotations

import hashlib
import logging
import signal
import sys
from pathlib import Path

from mediajet.local.runtime import LocalRuntime
from mediajet.settings import Settings
from mediajet.storage.fetch import warn_if_private_allowed

log = logging.getLogger("mediajet")
DEFAULT_PROJECT = "prj_default"
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def _link_host(host: str) -> str:
    """The host signed download links name when MEDIAJET_PUBLIC_URL is unset."""
    if host in WILDCARD_HOSTS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _ensure_key(runtime: LocalRuntime, settings: Settings) -> None:
    """MEDIAJET_API_KEY is accepted for the default project; without it, the first start makes a key
    and prints it once (only its hash is stored)."""
    from mediajet.api.auth import create_key

    if settings.api_key:
        runtime.jobs.add_api_key(hashlib.sha256(settings.api_key.encode()).hexdigest(), DEFAULT_PROJECT)
        return
    marker = runtime.data_dir / "first-key-issued"
    if not marker.exists():
        key = create_key(runtime.jobs, DEFAULT_PROJECT)
        marker.touch()
        print(f"Your API key (shown once; `mediajet keys create` makes more): {key}", flush=True)


def serve(settings: Settings, *, host: str, port: int, data_dir: str | Path | None = None,
          workers: int | None = None) -> int:
    from mediajet.api.app import create_app
    from mediajet.api.deps import ApiDeps
    from mediajet.library import LibraryContext
    from mediajet.local.asgi import serve_http
    from mediajet.local.uploads import Uploads
    from mediajet.local.webhook_sender import WebhookSender

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    base_url = (settings.public_url or f"http://{_link_host(host)}:{port}").rstrip("/")
    if not settings.public_url and host in WILDCARD_HOSTS:
        log.warning("listening on all interfaces, but download links will name %s; set MEDIAJET_PUBLIC_URL to "
                    "the address clients use", base_url)
    runtime = LocalRuntime.open(settings, Path(data_dir) if data_dir else None, base_url=base_url)
    warn_if_private_allowed(settings)  # at start, and only once: the fetcher would say it at the first job
    _ensure_key(runtime, settings)
    worker = runtime.worker(workers)
    uploads = Uploads(runtime.outputs, runtime.secret, base_url, settings,
                      LibraryContext(runtime.jobs, worker.start_task, runtime.sign_url))
    app = create_app(ApiDeps(jobs=runtime.jobs, orchestrator=worker, settings=settings, sign_url=runtime.sign_url,
                             delete_uri=runtime.delete_uri, uploads=uploads, cipher=runtime.cipher))
    server = serve_http(app.resolve, host, port, files=runtime.outputs, max_body_bytes=settings.max_body_bytes,
                        uploads=uploads)
    worker.start()
    webhooks = WebhookSender(runtime.jobs, runtime.sign_url, settings)
    webhooks.start()
    # uvicorn stops on SIGTERM/SIGINT by itself, then re-raises the signal to the handler it found
    # installed: let that be a no-op, so the worker below still stops its encoders.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    print(f"MediaJet API on {base_url} (data in {runtime.data_dir}, {worker.concurrency} workers)", flush=True)
    try:
        server.serve_forever()
    finally:
        worker.stop()
        webhooks.stop()
        server.server_close()
    print("stopped; unfinished jobs resume on the next start", file=sys.stderr)
    return 0
