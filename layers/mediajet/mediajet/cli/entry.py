"""The `mediajet` console script.

A one-shot command allocates its whole import graph (pydantic models, their schemas) at start and frees
nothing at exit, so the cyclic garbage collector only costs time there: about 50 ms of collections
during the imports and 80 ms of a final collection over every object at exit, on this 2-vCPU machine
(BENCHMARKS.md, "CLI fixed cost"). It is off while the CLI imports, and what exists then is frozen
(moved out of the collector's reach) after the imports and again before exit; the work in between runs
with the collector on.

Pydantic's plugins (a package can register one through an entry point) are off unless the environment
says otherwise: looking for them reads the metadata of every installed package when the first model is
built, 20-30 ms of each command's start, for a feature MediaJet does not use (the stack sets the same for
its Lambda functions).
"""

from __future__ import annotations

import gc
import os


def run() -> int:
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
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
