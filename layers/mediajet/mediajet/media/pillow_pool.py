"""CPU-bound Pillow work (decode, resize, encode a still) in worker processes, for the server.

Threads of one interpreter take turns on its lock, so two workers making stills at once ran at about
half of what two processes do (issue 15). The server's worker (local/runtime.py) hands an image plan's
`finish` to this pool; the CLI and the Lambda steps run it in their own thread, where one job is all
there is.

A worker process is what a child of media/runner.py is: it has the same memory limit (RLIMIT_DATA of
`memory_limit_mb`) and dies with the process that made it; the pixel limits travel with the work (the
settings are an argument of every call, and media/stills.py checks them before anything is decoded).
While it works the caller watches `cancel`, `stop` and its deadline, like the runner: any of them kills
that worker (SIGKILL: it holds nothing of ours but a half-written output in a scratch folder), and the
next call starts a fresh one. Workers are forked from a small server process (multiprocessing's
forkserver), never from this many-threaded one, so making one costs milliseconds after the first.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any, TypeVar

from mediajet.errors import Cancelled, ProcessingError, ShuttingDown
from mediajet.media.limits import MB, child_setup, memory_limit_mb
from mediajet.settings import Settings

T = TypeVar("T")
POLL_S = 0.05
PRELOAD = ["mediajet.media.pillow_pool", "mediajet.media.stills", "mediajet.media.plans.image"]


def _context() -> BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # Pillow and the plans load once, in the fork server
    return ctx


def _serve(conn: Connection, data_limit: int | None) -> None:
    """A worker's life: take `(function, args)`, answer `("ok", value)` or `("error", exception)`."""
    child_setup(data_limit, os.getppid())()
    while True:
        try:
            function, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[str, Any] = ("ok", function(*args))
        except MemoryError:
            answer = ("error", ProcessingError(
                f"making the image ran out of memory: one job may use {data_limit // MB if data_limit else '?'} MB "
                "(MEDIAJET_MAX_JOB_MEMORY_MB). Ask for a smaller size, or raise the limit", kind="out_of_memory"))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            answer = ("error", exc if _picklable(exc) else ProcessingError(
                f"making the image failed ({type(exc).__name__}: {exc})", kind="encode_failed"))
        conn.send(answer)


def _picklable(exc: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001
        return False
    return True


class _Worker:
    def __init__(self, ctx: BaseContext, data_limit: int | None) -> None:
        self.conn, theirs = ctx.Pipe()  # type: ignore[attr-defined]
        self.process = ctx.Process(target=_serve, args=(theirs, data_limit), name="mediajet-pillow",  # type: ignore[attr-defined]
                                   daemon=True)
        self.process.start()
        theirs.close()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class PillowPool:
    """At most `size` worker processes, started on first use, each doing one call at a time."""

    def __init__(self, size: int, settings: Settings) -> None:
        self.size = max(1, size)
        self.settings = settings
        self._idle: list[_Worker] = []
        self._busy = 0
        self._lock = threading.Condition()
        self._ctx: BaseContext | None = None

    def run(self, function: Callable[..., T], *args: Any, timeout: float, cancel: threading.Event | None = None,
            stop: threading.Event | None = None) -> T:
        """`function(*args)` in a worker (both picklable: a module-level function). Raises what it raised;
        Cancelled, ShuttingDown or a `timeout` ProcessingError when the caller's events or deadline end it."""
        if stop is not None and stop.is_set():
            raise ShuttingDown("the image was not started: this process is shutting down")
        worker = self._take()
        keep = False
        try:
            worker.conn.send((function, args))
            status, value = self._wait(worker, time.monotonic() + timeout, cancel, stop)
            keep = True
        finally:
            self._give_back(worker, keep)
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        """Stop the idle workers (busy ones are stopped by their caller's `stop`); a later call starts anew."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()

    def _take(self) -> _Worker:
        with self._lock:
            while not self._idle and self._busy >= self.size:
                self._lock.wait()
            self._busy += 1
            while self._idle:
                worker = self._idle.pop()
                if worker.process.is_alive():
                    return worker
                worker.kill()
        try:
            if self._ctx is None:
                self._ctx = _context()
            limit = memory_limit_mb(self.settings)
            return _Worker(self._ctx, limit * MB if limit else None)
        except BaseException:
            self._give_back(None, False)
            raise

    def _give_back(self, worker: _Worker | None, keep: bool) -> None:
        if worker is not None and not keep:
            worker.kill()
        with self._lock:
            self._busy -= 1
            if worker is not None and keep:
                self._idle.append(worker)
            self._lock.notify()

    def _wait(self, worker: _Worker, deadline: float, cancel: threading.Event | None,
              stop: threading.Event | None) -> tuple[str, Any]:
        while not worker.conn.poll(POLL_S):
            if stop is not None and stop.is_set():
                raise ShuttingDown("the image was stopped because this process is shutting down")
            if cancel is not None and cancel.is_set():
                raise Cancelled("the image was stopped because the job was cancelled")
            if time.monotonic() > deadline:
                raise ProcessingError("making the image took too long and was stopped", kind="timeout")
            if not worker.process.is_alive() and not worker.conn.poll(0):
                raise _died(worker)
        try:
            answer: tuple[str, Any] = worker.conn.recv()
        except (EOFError, OSError):
            raise _died(worker) from None
        return answer


def _died(worker: _Worker) -> ProcessingError:
    worker.process.join(1)
    code = worker.process.exitcode
    if code is not None and code < 0:  # a signal: SIGKILL or SIGSEGV near the memory limit is running out of it
        return ProcessingError(f"making the image was ended by signal {-code}; it may have run out of memory",
                               kind="out_of_memory")
    return ProcessingError(f"the image worker exited unexpectedly (exit code {code})", kind="encode_failed")
