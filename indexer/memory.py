"""Freed memory given back to the system.

glibc's allocator keeps what a process frees in its heap for later use: after a large index run's
checkpoint frees hundreds of megabytes (the previous vector index once retrained, the merge's
blocks), the process's resident size stays at its peak, and the next peak comes on top. ``trim``
asks glibc to return every free page (``malloc_trim(0)``, which also releases free pages inside the
heap). Elsewhere (musl, macOS, Windows) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from typing import Any


@cache
def _libc() -> Any:
    for name in ("libc.so.6", None):  # glibc's name first: find_library runs ldconfig
        try:
            libc = ctypes.CDLL(name or ctypes.util.find_library("c"))
        except (OSError, TypeError):
            continue
        return libc if hasattr(libc, "malloc_trim") else None
    return None


def trim() -> None:
    """Return the free pages of this process's heap to the system, where glibc allows it."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
