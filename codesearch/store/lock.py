"""An exclusive writer lock on an index directory (``fcntl.flock`` on ``lock``).

The kernel releases a flock when its process dies, so a killed ``codesearch index``
never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from codesearch.errors import IndexLocked

LOCK_NAME = "lock"


@contextmanager
def writer_lock(index_dir: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the index's writer lock; wait up to ``wait`` seconds for it.

    :raises IndexLocked: if another process still holds it after ``wait`` seconds.
    """
    path = index_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_holder(fd)
                    raise IndexLocked(
                        f"another `codesearch index` is updating {index_dir}{holder}; "
                        "wait for it to finish, or pass --wait SECONDS"
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid else ""
