"""Fixtures every kind of test uses."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from mediajet.settings import get_settings
from tests.webhook_receiver import Receiver


@pytest.fixture
def env_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], None]]:
    """Set MEDIAJET_* variables for one test: the runner and the argv builders read the process's
    settings, so the cached Settings are dropped on the way in and out."""
    def setenv(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield setenv
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback (tests/webhook_receiver.py), listening for the test's duration."""
    made = Receiver()
    made.start()
    yield made
    made.stop()
