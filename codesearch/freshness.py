"""Is an indexed file still what the index says? Re-locate symbols in files that changed.

A search hit must never be shown with wrong line numbers. For each file behind a hit:
unchanged size and mtime (or bytes) → fresh; missing, unreadable or now a symlink →
gone (its hits are dropped); changed → the current file is parsed again and hits are
matched by chunk key, so they carry today's lines and code (or are dropped if the
symbol no longer exists). Reads never follow a symlink out of the repository.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from indexer.chunk import chunks_for_file
from indexer.discover import content_problem
from indexer.types import Chunk, SourceFile

FRESH, CHANGED, GONE = "fresh", "changed", "gone"


@dataclass(frozen=True, slots=True)
class FileCheck:
    """The state of one indexed file now; ``chunks`` (by key) only for changed files."""

    status: str
    chunks: dict[str, Chunk] = field(default_factory=dict)


def check_file(root: Path, path: str, language: str, indexed: tuple[int, int, str]) -> FileCheck:
    """Compare a file on disk with its indexed (size, mtime_ns, sha1)."""
    size, mtime_ns, sha1 = indexed
    absolute = root / path
    try:
        st = os.lstat(absolute)
    except OSError:
        return FileCheck(GONE)
    if st.st_size == size and st.st_mtime_ns == mtime_ns:
        return FileCheck(FRESH)
    data = read_inside(root, path)
    if data is None or content_problem(data) is not None:
        return FileCheck(GONE)
    if hashlib.sha1(data).hexdigest() == sha1:
        return FileCheck(FRESH)
    chunks = chunks_for_file(SourceFile(path, language, data, st.st_mtime_ns))
    return FileCheck(CHANGED, {c.key: c for c in chunks})


def read_inside(root: Path, path: str) -> bytes | None:
    """The bytes of ``root/path`` if it is a regular file reached without any symlink."""
    absolute = root / path
    try:
        if absolute.resolve(strict=True) != absolute or not absolute.is_file():
            return None
        with open(absolute, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW)) as fh:
            return fh.read()
    except (OSError, RuntimeError):
        return None
