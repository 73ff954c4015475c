"""The API entry point pauses the cyclic garbage collector until its first request is answered."""

from __future__ import annotations

import gc

import pytest

from mediajet.aws.coldstart import ColdStart


@pytest.fixture(autouse=True)
def _restore_gc():
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_the_collector_is_off_until_the_first_call_ends_and_its_objects_are_frozen() -> None:
    gc.enable()
    cold = ColdStart()
    seen = []
    assert cold.call(lambda x: seen.append(gc.isenabled()) or x * 2, 21) == 42
    assert seen == [False], "off during the first call"
    assert gc.isenabled() and gc.get_freeze_count() > 0, "on again, with what the cold start made frozen"
    assert cold.call(lambda: gc.isenabled()) is True, "later calls run with the collector on"


def test_a_failing_first_call_turns_the_collector_back_on() -> None:
    gc.enable()
    cold = ColdStart()

    def boom() -> None:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        cold.call(boom)
    assert gc.isenabled()


def test_a_process_that_turned_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    cold = ColdStart()
    cold.call(lambda: None)
    assert not gc.isenabled()
