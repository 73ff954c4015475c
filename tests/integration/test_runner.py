"""The one place that runs ffmpeg, in the conditions of a busy server."""

from __future__ import annotations

import os
import resource

import pytest

from mediajet.media import runner
from mediajet.media.binaries import ffmpeg

BUSY = 1100  # descriptors a server with ~1000 open connections holds: numbers past select()'s 1024


def test_an_encode_runs_in_a_process_holding_more_than_1024_descriptors() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < BUSY + 64:
        pytest.skip(f"this machine allows {hard} open files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, BUSY + 64) if hard == resource.RLIM_INFINITY
                                                else min(hard, max(soft, BUSY + 64)), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(BUSY)]
    try:
        result = runner.run([ffmpeg(), "-hide_banner", "-nostdin", "-f", "lavfi", "-i", "testsrc2=size=64x48:d=0.5",
                             "-f", "null", "-"], timeout=60)
        assert result.exit_code == 0
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
