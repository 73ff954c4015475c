"""The media library's logic (files, media, automations) over the library store; no HTTP, no wire format.

`LibraryContext` is what it needs: the store, and, to run automations, a way to start a standalone task and
to sign a stored file's URI into a link the task can fetch. The API passes its orchestrator and signer; the
embedded worker passes itself (pipeline/tasks.py calls `files.task_finished`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mediajet.models.job import Task


@dataclass
class LibraryContext:
    store: Any  # a JobStore that is also a LibraryStore (store/library.py)
    start_task: Callable[[Task], None] | None = None  # None: automations are not run here
    sign_url: Callable[[str], str] | None = None
