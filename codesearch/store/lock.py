"""An exclusive writer lock on an index directory (``fcntl.flock`` on ``lock``).

The kernel releases a flock when its process dies, so a killed ``codesearch index``
never leaves a stale lock behind. The lock file is opened without following links or
blocking, and must be a plain file of ours with one link before anything is written to
it (a hard link planted by a repository would have its target overwritten); the holder checks that the file at the lock's path is still the one it locked: a
lock file deleted or replaced during a run would let a second writer in, so the run
stops before it commits anything.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from codesearch.errors import IndexCorrupt, IndexLocked, IndexUnavailable, UnsafeIndexDir
from codesearch.store.indexdir import check_plain_file, open_nofollow

LOCK_NAME = "lock"


class WriterLock:
    """A held lock; ``verify()`` before committing."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    def is_current(self) -> bool:
        """True while the file at the lock's path is the one this process locked."""
        try:
            on_disk = os.lstat(self.path)
        except OSError:
            return False
        held = os.fstat(self.fd)
        return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)

    def verify(self) -> None:
        """:raises IndexLocked: if the lock file was deleted or replaced since it was taken."""
        if not self.is_current():
            raise IndexLocked(
                f"the lock file {self.path} was deleted or replaced while indexing, so another run could "
                "have started; nothing was written. Run `codesearch index` again"
            )


@contextmanager
def writer_lock(index_dir: Path, wait: float = 0.0) -> Iterator[WriterLock]:
    """Hold the index's writer lock; wait up to ``wait`` seconds for it.

    :raises IndexLocked: if another process still holds it after ``wait`` seconds.
    :raises UnsafeIndexDir: if the lock file is a symlink.
    :raises IndexUnavailable: if the lock file cannot be created (permissions, read-only disk).
    """
    path = index_dir / LOCK_NAME
    deadline = time.monotonic() + wait
    while True:
        fd = _open(path)
        try:
            _acquire(fd, path, index_dir, deadline)
        except BaseException:
            os.close(fd)
            raise
        lock = WriterLock(path, fd)
        if lock.is_current():
            break
        os.close(fd)  # a previous holder's file was removed under us: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield lock
    finally:
        os.close(fd)


def _open(path: Path) -> int:
    """The lock file, opened (created if missing) without truncating, following or blocking.

    :raises UnsafeIndexDir: if it is a symlink, a hard link or not a plain file of ours.
    """
    try:
        fd = open_nofollow(path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        if os.path.islink(path):
            raise UnsafeIndexDir(f"the lock file {path} is a symlink; refusing to follow it") from exc
        if os.path.isdir(path):
            raise UnsafeIndexDir(f"the lock file {path} is a directory; remove it") from exc
        raise IndexUnavailable(f"cannot create the lock file {path} ({exc.strerror or exc})") from exc
    try:
        st = check_plain_file(fd, path, "the lock file")
        if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
            raise UnsafeIndexDir(f"the lock file {path} belongs to user id {st.st_uid}, not to you; remove it")
    except IndexCorrupt as exc:
        os.close(fd)
        raise UnsafeIndexDir(f"the lock file {path} is not a regular file; remove it") from exc
    except BaseException:
        os.close(fd)
        raise
    return fd


def _acquire(fd: int, path: Path, index_dir: Path, deadline: float) -> None:
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise IndexLocked(
                    f"another `codesearch index` is updating {index_dir}{_read_holder(fd)}; "
                    "wait for it to finish, or pass --wait SECONDS"
                ) from None
            time.sleep(0.1)


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


def writer_running(index_dir: Path) -> bool:
    """Whether a process holds the index's writer lock now, as the kernel's lock table says (``/proc/locks``), not as
    the lock file does: a repository can ship a lock file naming any live process. Where there is no such table, a
    shared lock is tried without waiting (and let go at once)."""
    try:
        st = os.lstat(index_dir / LOCK_NAME)
    except OSError:
        return False
    place = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as table:
            return any("FLOCK" in line and place in line.split() for line in table)
    except OSError:
        pass
    try:
        fd = open_nofollow(index_dir / LOCK_NAME, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
