"""What a child process may cost: the memory limit (RLIMIT_DATA), the setup that runs in the child
between fork and exec (the limit, and death with the thread that started it), and the child's memory
read from /proc. media/runner.py applies them; its docstring says why RLIMIT_DATA and not RLIMIT_AS."""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from mediajet.settings import Settings

MB = 1024 * 1024
# The automatic memory limit (MEDIAJET_MAX_JOB_MEMORY_MB unset): a share of the machine, because an
# encoder's memory grows with the cores it uses (SVT-AV1 at 4K: 1.9 GB on 2 cores, 8.5 GB from 5).
AUTO_MEMORY_SHARE = 0.75
AUTO_MEMORY_MIN_MB = 2048
# A child killed by one of these while near its memory limit ran out of memory (an unchecked malloc).
CRASH_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGKILL})
PR_SET_PDEATHSIG = 1


def memory_limit_mb(settings: Settings) -> int | None:
    """The RLIMIT_DATA of every child in MB, or None for none. MEDIAJET_MAX_JOB_MEMORY_MB: 0 turns it
    off; unset, it is AUTO_MEMORY_SHARE of this machine's (or container's) memory. On Lambda the
    function's memory already bounds the one job it runs, so there is none."""
    if settings.max_job_memory_mb is not None:
        return settings.max_job_memory_mb if settings.max_job_memory_mb > 0 else None
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return None
    total = machine_memory_mb()
    return max(AUTO_MEMORY_MIN_MB, int(total * AUTO_MEMORY_SHARE)) if total else None


def machine_memory_mb() -> int | None:
    """Physical memory, or the cgroup's limit when that is lower (a container sees the host's RAM)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // MB
    except (ValueError, OSError, AttributeError):
        return None
    for cgroup in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(cgroup).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text) // MB)
    return total


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


def child_setup(data_limit: int | None, parent: int) -> Callable[[], None]:
    """Runs in the child between fork and exec: only async-safe calls, nothing that could block."""
    die_with_parent = (ctypes.c_ulong(PR_SET_PDEATHSIG), ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0),
                       ctypes.c_ulong(0), ctypes.c_ulong(0))

    def setup() -> None:
        if data_limit:
            resource.setrlimit(resource.RLIMIT_DATA, (data_limit, data_limit))
        if _PRCTL is not None:
            _PRCTL(*die_with_parent)
            if os.getppid() != parent:  # the parent died before the line above: nobody would stop us
                os._exit(1)

    return setup


def data_mb(pid: int) -> int:
    """The child's writable private memory now (what RLIMIT_DATA counts); 0 when unknown."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmData:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def crashed_at_limit(exit_code: int, peak_mb: int, limit_mb: int | None) -> bool:
    """A crash (signal) of a child that had come near its memory limit: it ran out of memory."""
    return bool(limit_mb) and -exit_code in CRASH_SIGNALS and peak_mb >= 0.8 * (limit_mb or 0)
