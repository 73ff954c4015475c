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


def process_cpu(pid: int) -> float:
    """CPU-seconds of one running process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """The live processes below `pid` (children of children…), from /proc's children lists."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as children:
                    kids = [int(kid) for kid in children.read().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def tree_cpu(pid: int) -> tuple[float, float]:
    """(CPU-seconds of `pid`, of its live descendants): a server's own work and its workers'."""
    rest = 0.0
    for kid in descendants(pid):
        try:
            rest += process_cpu(kid)
        except OSError:
            pass  # ended meanwhile
    return process_cpu(pid), rest
