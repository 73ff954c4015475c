"""CPU accounting for benchmarks on a shared machine: what everything used, and what this process did."""

from __future__ import annotations

import os


def machine_busy() -> float:
    """CPU-seconds every process on the machine has used (since boot)."""
    with open("/proc/stat") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    """CPU-seconds of this process and its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
