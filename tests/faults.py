"""Faults injected into the pipeline by tests, shared by the local and the Step Functions runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediajet.errors import TransientError
from mediajet.pipeline import transfer


def fail_first_fetch(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first input fetch fails as a dropped connection would (transient); later ones work.
    Returns the list of fetched URLs, one entry per attempt."""
    real_fetch = transfer.fetch
    calls: list[str] = []

    def flaky(url: str, dest: Path, **kwargs: object):
        calls.append(url)
        if len(calls) == 1:
            raise TransientError("connection reset by peer", kind="input_unreachable")
        return real_fetch(url, dest, **kwargs)

    monkeypatch.setattr(transfer, "fetch", flaky)
    return calls
