"""What the CLI prints: a progress bar on a terminal, JSON Lines otherwise."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

# A job's steps, weighed by the time they usually take: the encode is most of it.
STEP_WEIGHT = {"probe": 0.05, "import": 0.05, "export": 0.05}
ENCODE_WEIGHT = 0.85


class Renderer:
    def __init__(self, json_lines: bool, *, progress_lines: bool = True) -> None:
        """`progress_lines=False` prints only the final record in JSON mode, so that `mediajet task … --json`
        is exactly one JSON document that the next task can take as its input."""
        self.json_lines = json_lines
        self.progress_lines = progress_lines
        self._last: tuple[Any, ...] | None = None
        self._started = time.monotonic()

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
        done = sum(1 for t in tasks if t.get("status") == "succeeded")
        label = running["kind"] if running else str(record.get("status", ""))
        step = f"step {done + (1 if running else 0)}/{len(tasks)} {label}"
        self._bar(overall_percent(tasks), step)

    def transfer(self, what: str, done: int, total: int) -> None:
        """An upload or download of remote mode; a terminal gets a bar (JSON mode keeps its lines for records)."""
        if self.json_lines or total <= 0:
            return
        self._bar(min(100, done * 100 // total), what, eta=False)

    def _bar(self, percent: int, label: str, *, eta: bool = True) -> None:
        elapsed = time.monotonic() - self._started
        timing = f"{_clock(elapsed)} elapsed"
        if eta and 0 < percent < 100:
            timing += f", ~{_clock(elapsed * (100 - percent) / percent)} left"
        bar = "#" * (percent // 5) + "-" * (20 - percent // 5)
        sys.stderr.write(f"\r[{bar}] {percent:3d}%  {label:<20} {timing:<28}")
        sys.stderr.flush()

    def finish(self, record: dict[str, Any]) -> None:
        if self.json_lines:
            if not self.progress_lines or (record.get("status"), None, None) != self._last:
                print(json.dumps(record), flush=True)
            return
        status = record.get("status")
        if status == "succeeded":
            tasks = record.get("tasks") or [record]
            self._bar(100, f"{len(tasks)}/{len(tasks)} done")
        sys.stderr.write("\n")
        sys.stderr.flush()
        if status == "succeeded":
            where = record.get("saved") or (record.get("output") if "tasks" in record else _out(record))
            print(f"{record.get('id')} succeeded: {where}", flush=True)
        else:
            print(f"{record.get('id')} {status}: {json.dumps(record.get('error'))}", file=sys.stderr)


def overall_percent(tasks: list[dict[str, Any]]) -> int:
    """The whole job's share done: finished steps whole, the running one by its own progress."""
    weights = [STEP_WEIGHT.get(str(t.get("kind")), ENCODE_WEIGHT) for t in tasks]
    done = 0.0
    for task, weight in zip(tasks, weights, strict=True):
        if task.get("status") == "succeeded":
            done += weight
        elif task.get("status") == "processing":
            done += weight * min(100, task.get("progress") or 0) / 100
    return min(99, int(done * 100 / sum(weights))) if weights else 0


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _out(task: dict[str, Any]) -> str:
    output = task.get("output") or {}
    return output.get("url", "") if isinstance(output, dict) else str(output)


def error(body: dict[str, Any], *, human: bool = False) -> None:
    """`{kind, message, field}` on stderr: as JSON for scripts, as a sentence on a terminal."""
    if not human:
        print(json.dumps(body), file=sys.stderr)
        return
    where = f", field {body['field']}" if body.get("field") else ""
    print(f"mediajet: {body.get('message')} ({body.get('kind')}{where})", file=sys.stderr)
