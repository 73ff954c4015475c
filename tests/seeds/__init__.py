"""The seed pages the project was created from (../shared/seeds/, copied here so a clone of this repository
alone can run the tests): tests read their examples verbatim. `page(n)` prefers the shared copy when it is
there, so an edited seed is what the tests see."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared" / "seeds"


def page(number: int) -> str:
    """The text of seed page `number` (0-4)."""
    for folder in (SHARED, HERE):
        found = sorted(folder.glob(f"{number:03d}_*.txt")) if folder.is_dir() else []
        if found:
            return found[0].read_text(encoding="utf-8")
    raise FileNotFoundError(f"no seed page {number:03d} in {SHARED} or {HERE}")
