"""Parsing a file again at search time, so that a file that kills the parser costs one search, not every one.

A search parses a file again when it changed since indexing (``codesearch.freshness``), in the searching
process itself: the CLI, or a long-lived MCP server, ``resident`` or ``serve``. Bytes that crash a grammar's
C code, or run its error recovery away with memory until the kernel stops the process, would end every such
search that meets them (the indexer parses in capped worker processes and skips such a file, ``indexer.work``).

So each such parse holds a mark for its bytes (their language and hash) in the user's state directory
(``codesearch.store.trust.state_dir``; ``reparsing/``, mode 0700, files 0600), locked (``flock``) while the
parse runs and removed after it. A mark that is there and unlocked was left by a process that died parsing
those bytes: they are not parsed again by any process of this user (``REFUSED``; the file's hits are
dropped, as the next ``codesearch index`` skips it), until the bytes change. A mark another process holds is
waited for (``WAIT_SECONDS``, then refused as well: a parse that long is not ended by waiting).

Bytes whose grammar refused them (a parse past its deadline, too deep, too many definitions) are read as line
windows, as the indexer reads them; a search remembers that with an empty ``.windows`` mark, so the next
search of those bytes reads them so without parsing them again (``windowed``, ``remember_windowed``): twelve
changed Ruby files of 150,000 `<!--` lines each took every search 95 s to parse until their deadlines.

Where the state directory cannot hold marks (unwritable, a symlink, someone else's), files are parsed as
before, unguarded.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from codesearch.store.trust import state_dir

MARKS_DIR = "reparsing"
WAIT_SECONDS = 10.0  # how long a search waits for another process parsing the same bytes
_POLL_SECONDS = 0.02
_PARSING = b"parsing"  # what a mark holds while its parse runs (a mark left so: the parse never ended)
_WINDOWS = ".windows"  # the suffix of a mark of bytes their grammar refused (``windowed``)
# A search parses a changed file for at most this long (the indexer allows 0.5 s plus 10 s a megabyte): past
# it, the file is read as line windows until the next index run, which parses it with its full deadline.
SEARCH_PARSE_SECONDS = 1.0

T = TypeVar("T")


class Refused:
    """Bytes that are not parsed again: a process died parsing them, or another one has parsed them for too long."""

    def __repr__(self) -> str:
        return "REFUSED"


REFUSED = Refused()


def mark_name(language: str, sha1: str) -> str:
    """The mark's file name for a file's bytes (their SHA-1) in ``language``: hex, whatever the inputs."""
    return hashlib.sha1(f"{language}\0{sha1}".encode()).hexdigest()


def guarded(language: str, sha1: str, parse: Callable[[], T]) -> T | Refused:
    """``parse()``, holding the mark of these bytes; ``REFUSED`` (``parse`` not called) if a process died
    parsing them, or another has been parsing them for ``WAIT_SECONDS``. Parses unguarded where no mark can
    be kept."""
    directory = _marks_dir()
    if directory is None:
        return parse()
    path = directory / mark_name(language, sha1)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0),
                         0o600)
        except OSError:
            return parse()  # a link or something else planted there: no mark to keep
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_nlink > 1:
                return parse()
            if not _lock(fd, deadline):
                return REFUSED  # another process has been parsing these bytes for WAIT_SECONDS
            if os.fstat(fd).st_nlink == 0:
                continue  # its parse ended and removed the mark while this one waited: open it afresh
            if os.pread(fd, len(_PARSING), 0) == _PARSING:
                return REFUSED  # left by a process that died parsing these bytes
            os.pwrite(fd, _PARSING, 0)
            try:
                result = parse()
            finally:  # an exception is no crash: the process lives on, and so may the next parse
                os.ftruncate(fd, 0)
                _unlink(path, fd)
            return result
        finally:
            os.close(fd)  # releases the lock


def windowed(language: str, sha1: str) -> bool:
    """Whether a search found these bytes refused by their grammar before (``remember_windowed``)."""
    directory = _marks_dir()
    if directory is None:
        return False
    try:
        st = os.lstat(directory / (mark_name(language, sha1) + _WINDOWS))
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid()


def remember_windowed(language: str, sha1: str) -> None:
    """Mark these bytes as refused by their grammar: searches read them as line windows without parsing."""
    directory = _marks_dir()
    if directory is None:
        return
    try:
        os.close(os.open(directory / (mark_name(language, sha1) + _WINDOWS),
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600))
    except OSError:
        pass  # there already, or no room: the next search parses again


def _lock(fd: int, deadline: float) -> bool:
    """Whether this process took ``fd``'s exclusive lock before ``deadline``."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_SECONDS)


def _unlink(path: Path, fd: int) -> None:
    """Remove the mark ``fd`` holds, if ``path`` is still that file."""
    try:
        if os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
            os.unlink(path)
    except OSError:
        pass


def _ours(path: Path) -> bool:
    """Whether ``path`` is a directory of this user's, not a link."""
    st = os.lstat(path)
    return stat.S_ISDIR(st.st_mode) and not stat.S_ISLNK(st.st_mode) and st.st_uid == os.geteuid()


def _marks_dir() -> Path | None:
    """The marks' directory, created 0700 if missing; None if it cannot be used (not ours, a link, unwritable)."""
    directory = state_dir() / MARKS_DIR
    try:
        if not directory.parent.exists():
            directory.parent.mkdir(mode=0o700, parents=True)
        if not _ours(directory.parent):
            return None  # checked before anything is made in it: a link is never followed
        if not directory.exists():
            directory.mkdir(mode=0o700)
        if not _ours(directory):
            return None
        if os.lstat(directory).st_mode & 0o077:
            os.chmod(directory, 0o700)
    except OSError:
        return None
    return directory
