"""Webhook delivery: how many deliveries per second the embedded sender makes to a receiver on loopback, and
what a `webhook_url` adds to a job's critical path (the store writes that record the job's changes, which now
also write the outbox).

    .venv/bin/python -m tests.benchmarks.bench_webhooks [--deliveries 2000] [--jobs 500]

- Deliveries: `--deliveries` finished jobs with a `webhook_url` sit in a fresh SQLite outbox; the sender that
  `mediajet serve` runs (local/webhook_sender.py) drains it to a receiver in another process (ThreadingHTTPServer
  answering 200), so receiver and sender share no GIL. Rate = deliveries / wall time to an empty outbox.
- Critical path: the same job lifecycle (create, processing, succeeded: three store writes) with and without a
  `webhook_url`, alternating, `--jobs` times each; the median per job and the difference. Delivery itself runs
  on the sender's threads, after the job's final write has committed: no part of it is on the job's path.
"""

from __future__ import annotations

import argparse
import http.server
import multiprocessing
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from mediajet.ids import now_ms
from mediajet.models.job import Job
from mediajet.models.requests import with_pipeline_tasks
from mediajet.settings import Settings
from mediajet.store.sqlite import SqliteJobStore
from tests.benchmarks.report import write_section

PROJECT = "prj_bench"


def _receive(port_out: multiprocessing.Queue) -> None:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    server.serve_forever()


def _lifecycle(store: SqliteJobStore, webhook_url: str | None) -> float:
    started = time.perf_counter()
    job, _ = store.create_job(with_pipeline_tasks(Job(kind="image", input="https://example.com/a.mp4",
                                                      project_id=PROJECT, webhook_url=webhook_url)))
    running = store.save_job(job.model_copy(update={"status": "processing"}))
    store.save_job(running.model_copy(update={"status": "succeeded", "finished_at": now_ms()}))
    return time.perf_counter() - started


def critical_path(root: Path, jobs: int) -> tuple[float, float]:
    store = SqliteJobStore(root / "path.db")
    plain, hooked = [], []
    for _ in range(20):  # warm up
        _lifecycle(store, None)
    for _ in range(jobs):
        plain.append(_lifecycle(store, None))
        hooked.append(_lifecycle(store, "https://hooks.example.com/in"))
    store.close()
    return statistics.median(plain), statistics.median(hooked)


def deliveries_per_second(root: Path, count: int, url: str) -> tuple[float, float]:
    from mediajet.local.webhook_sender import WebhookSender

    store = SqliteJobStore(root / "outbox.db")
    for _ in range(count):
        _lifecycle(store, url)
    sender = WebhookSender(store, str, Settings(allow_private_urls=True))
    started = time.perf_counter()
    sender.start()
    while store.next_event_due() is not None:
        time.sleep(0.01)
    wall = time.perf_counter() - started
    sender.stop()
    store.close()
    return count / wall, wall


def bare_posts_per_second(url: str, count: int, body_bytes: int) -> float:
    """The baseline: plain http.client POSTs of a body that size, a new connection each (as the sender makes),
    on as many threads as the sender uses; nothing signed, stored or recorded."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    from mediajet.local.webhook_sender import SENDERS

    parts = urlsplit(url)
    body = b"x" * body_bytes

    def one(_: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        conn.request("POST", parts.path, body=body, headers={"Content-Type": "application/json"})
        conn.getresponse().read()
        conn.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(one, range(count)))
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=500)
    args = parser.parse_args()
    ports: multiprocessing.Queue = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_receive, args=(ports,), daemon=True)
    receiver.start()
    url = f"http://127.0.0.1:{ports.get(timeout=10)}/hook"
    with tempfile.TemporaryDirectory() as tmp:
        rate, wall = deliveries_per_second(Path(tmp), args.deliveries, url)
        bare = bare_posts_per_second(url, args.deliveries, 1200)  # about a job's JSON
        plain, hooked = critical_path(Path(tmp), args.jobs)
    receiver.terminate()
    added_ms = (hooked - plain) * 1000
    lines = [
        (f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; SQLite store, "
         "receiver in its own process on loopback."),
        "",
        "| measure | value |",
        "|---|---|",
        f"| deliveries per second (embedded sender, {args.deliveries} events) | {rate:,.0f} ({wall:.2f} s) |",
        f"| baseline: bare POSTs per second to the same receiver, same threads | {bare:,.0f} |",
        f"| sender / baseline | {rate / bare:.2f}x |",
        f"| job lifecycle writes without webhook_url (median of {args.jobs}) | {plain * 1000:.2f} ms |",
        f"| the same with webhook_url (event + outbox row in the final write) | {hooked * 1000:.2f} ms |",
        f"| added to the job's critical path | {added_ms:+.2f} ms (target < 5 ms) |",
        "",
        ("Delivery runs on the sender's threads after the final write commits; a slow or failing receiver never "
         "delays a job (it only delays its own retries)."),
    ]
    write_section("Webhook delivery", "python -m tests.benchmarks.bench_webhooks", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
