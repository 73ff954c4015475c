"""Prefixed ULIDs (`job_01…`): lexical order is creation order, which the list cursors rely on."""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
_lock = threading.Lock()
_last: tuple[int, int] = (0, 0)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def ulid() -> str:
    """Monotonic within a process: ids made in the same millisecond still sort in order."""
    global _last
    with _lock:
        ms = now_ms()
        last_ms, last_rand = _last
        if ms <= last_ms:
            ms, rand = last_ms, last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1  # headroom for increments
        _last = (ms, rand)
    return _encode(ms, 10) + _encode(rand, 16)


def new_id(prefix: str) -> str:
    return f"{prefix}_{ulid()}"
