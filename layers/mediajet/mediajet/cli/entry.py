"""The `mediajet` console script.

A one-shot command allocates its whole import graph (pydantic models, their schemas) at start and frees
nothing at exit, so the cyclic garbage collector only costs time there: about 50 ms of collections
during the imports and 80 ms of a final collection over every object at exit, on this 2-vCPU machine
(BENCHMARKS.md, "CLI fixed cost"). It is off while the CLI imports, and what exists then is frozen
(moved out of the collector's reach) after the imports and again before exit; the work in between runs
with the collector on.
"""

from __future__ import annotations

import gc


def run() -> int:
    gc.disable()
    try:
        from mediajet.cli.main import main
    finally:
        gc.freeze()
        gc.enable()
    try:
        return main()
    finally:
        gc.freeze()  # the interpreter's last collection at exit then has nothing left to walk
