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


def fail_first_s3_copy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first copy of an s3:// input into S3 working storage fails as S3 throttling would (transient)."""
    from mediajet.storage import s3_fetch

    real_copy = s3_fetch.copy_s3
    calls: list[str] = []

    def flaky(url: str, *args: object, **kwargs: object) -> None:
        calls.append(url)
        if len(calls) == 1:
            raise TransientError("S3 could not serve the input right now (SlowDown)", kind="input_unreachable")
        real_copy(url, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(s3_fetch, "copy_s3", flaky)
    return calls
