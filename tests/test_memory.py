"""indexer.memory: freed memory goes back to the system."""

from __future__ import annotations

import subprocess
import sys

import pytest

from indexer import memory


def test_trim_returns_a_fragmented_heap_to_the_system() -> None:
    """Small objects freed in the middle of the heap (a few kept alive between them) stay resident until
    ``trim``: glibc returns their pages then. Elsewhere ``trim`` does nothing, and says so by its libc."""
    if memory._libc() is None:
        memory.trim()  # no glibc: nothing to do, and no error
        pytest.skip("not glibc")
    code = """
from indexer import memory
rss = lambda: int(open('/proc/self/statm').read().split()[1]) * 4096 >> 20
objects = [bytes(1000) + bytes([i % 256]) for i in range(200000)]
kept = objects[::1000]
del objects
before = rss(); memory.trim(); print(before, rss())
"""
    before, after = map(int, subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                            check=True).stdout.split())
    assert before > 150 and after < before - 100, (before, after)
