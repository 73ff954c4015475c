"""Settings come from MEDIAJET_ variables (any case) without pydantic-settings; arguments win."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest
from pydantic import ValidationError

from mediajet.settings import Settings


def test_variables_are_read_typed_and_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAJET_MAX_PIXELS", "1000")
    monkeypatch.setenv("mediajet_s3_server_credentials", "true")
    monkeypatch.setenv("MEDIAJET_CHUNK_SECONDS", "12.5")
    settings = Settings()
    assert (settings.max_pixels, settings.s3_server_credentials, settings.chunk_seconds) == (1000, True, 12.5)
    assert Settings(max_pixels=5).max_pixels == 5


def test_a_bad_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAJET_MAX_JOB_MEMORY_MB", "-1")
    with pytest.raises(ValidationError):
        Settings()


def test_settings_travel_to_a_worker_process_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    sent = Settings(max_pixels=7)
    monkeypatch.setenv("MEDIAJET_MAX_PIXELS", "9")
    assert pickle.loads(pickle.dumps(sent)).max_pixels == 7


def test_reading_settings_does_not_load_pydantic_settings() -> None:
    program = ("import sys, mediajet.settings as s; s.Settings(); "
               "print('pydantic_settings' in sys.modules, 'dotenv' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", program],
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
