"""What the CLI prints: a progress bar on a terminal, JSON Lines otherwise."""

from __future__ import annotations

import json
import sys
from typing import Any


class Renderer:
    def __init__(self, json_lines: bool, *, progress_lines: bool = True) -> None:
        """`progress_lines=False` prints only the final record in JSON mode, so that `mediajet task … --json`
        is exactly one JSON document that the next task can take as its input."""
        self.json_lines = json_lines
        self.progress_lines = progress_lines
        self._last: tuple[Any, ...] | None = None

    def update(self, record: dict[str, Any]) -> None:
        """Called for every poll of a job or task; prints only when something changed."""
        tasks = record.get("tasks") or [record]
        running = next((t for t in tasks if t.get("status") == "processing"), None)
        key = (record.get("status"), running and running.get("kind"), running and running.get("progress"))
        if key == self._last:
            return
        self._last = key
        if self.json_lines:
            if self.progress_lines:
                print(json.dumps(record), flush=True)
            return
        label = running["kind"] if running else record.get("status", "")
        percent = (running or {}).get("progress") or 0
        done = sum(1 for t in tasks if t.get("status") == "succeeded")
        bar = "#" * (percent // 5) + "-" * (20 - percent // 5)
        sys.stderr.write(f"\r[{bar}] {percent:3d}%  step {done + (1 if running else 0)}/{len(tasks)} {label:<16}")
        sys.stderr.flush()

    def finish(self, record: dict[str, Any]) -> None:
        if self.json_lines:
            if not self.progress_lines or (record.get("status"), None, None) != self._last:
                print(json.dumps(record), flush=True)
            return
        sys.stderr.write("\n")
        status = record.get("status")
        if status == "succeeded":
            print(f"{record.get('id')} succeeded: {record.get('output') if 'tasks' in record else _out(record)}")
        else:
            print(f"{record.get('id')} {status}: {json.dumps(record.get('error'))}", file=sys.stderr)


def _out(task: dict[str, Any]) -> str:
    output = task.get("output") or {}
    return output.get("url", "") if isinstance(output, dict) else str(output)


def error(body: dict[str, Any]) -> None:
    print(json.dumps(body), file=sys.stderr)
