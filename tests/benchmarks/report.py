"""Writes one benchmark's section into BENCHMARKS.md (beside the README), replacing an older copy."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "BENCHMARKS.md"
HEADER = "# Benchmarks\n\nRun on demand, never in the test suite. Each section names the command that produced it.\n"


def write_section(title: str, command: str, lines: list[str]) -> None:
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
    body = "\n".join([f"## {title}", "", f"Command: `.venv/bin/{command}`  ", f"Measured: {dt.date.today()}", "",
                      *lines, ""])
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    text = pattern.sub(body + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + body
    BENCHMARKS.write_text(text)
