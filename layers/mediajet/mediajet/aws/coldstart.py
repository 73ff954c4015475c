"""The cold start's garbage collector: off from the handler's import to the end of the first request.

A container's first request allocates hundreds of thousands of objects that all live on: modules, Pydantic
schemas and validators, botocore's service models and clients. While they pile up the cyclic collector runs
its generation-2 passes over them again and again and frees nothing. So it is paused during the cold start,
and afterwards everything that survived is frozen (gc.freeze: moved to a permanent generation), so later
collections do not walk it either. Garbage made in the meantime by reference counting is freed as usual; only
cycles made during the cold start wait, in the frozen set (a few kB).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class ColdStart:
    def __init__(self) -> None:
        self.pending = gc.isenabled()
        if self.pending:
            gc.disable()

    def call(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)`; after the first call the collector is back on, with the cold start's objects frozen."""
        if not self.pending:
            return function(*args)
        try:
            return function(*args)
        finally:
            self.pending = False
            gc.freeze()
            gc.enable()
