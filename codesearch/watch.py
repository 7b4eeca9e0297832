"""Has anything in a repository changed since we last looked? Answered from ``stat`` alone.

A ``Snapshot`` records, for one walk of the repository, the mtime of every directory
read (a directory's mtime changes when an entry is created, removed or renamed in it,
which covers new files, deleted files and new ignore files) and the size, mtime and
ctime of every file the walk saw (sources, skipped files, ignore files: an edit changes
them). Checking it is one ``stat`` per directory and file, a few milliseconds for
thousands of files, so a long-running server can afford it before every answer; only
when it reports a change is the (much slower) incremental index run started.

Take the snapshot *before* indexing: a change made while the index run works then
differs from the snapshot, and the next check catches it. Like git's index and our own
incremental check, an edit that keeps a file's size within the same timestamp tick as
the snapshot can go unseen until the file changes again.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from indexer.discover import IGNORE_FILES, FileEntry, Limits, walk
from indexer.types import SkippedFile, UnsupportedFile

FileState = tuple[int, int, int]  # size, mtime_ns, ctime_ns


@dataclass
class Snapshot:
    """What one walk of ``root`` saw, by repo-relative path."""

    root: Path
    directories: dict[str, int] = field(default_factory=dict)  # path -> mtime_ns
    files: dict[str, FileState] = field(default_factory=dict)

    @classmethod
    def take(cls, root: Path, limits: Limits = Limits(), use_ignore_files: bool = True) -> Snapshot:
        """Walk ``root`` as the indexer does and record every directory and file it saw."""
        directories: list[str] = []
        items = list(walk(Path(root).resolve(), limits, use_ignore_files, directories=directories))
        return cls.of_walk(root, items, directories)

    @classmethod
    def of_walk(cls, root: Path, items: Sequence[FileEntry | SkippedFile | UnsupportedFile],
                directories: Sequence[str]) -> Snapshot:
        """The snapshot of a walk already made (``walk`` with ``directories``), such as the index run's own
        (``codesearch.pipeline.build_index``'s ``walked``): made before the files are read, it records
        them as the run found them."""
        root = Path(root).resolve()
        snapshot = cls(root)
        seen: list[str] = []
        for item in items:
            if isinstance(item, (SkippedFile, UnsupportedFile)):
                seen.append(item.path)
            else:
                snapshot.files[item.path] = (item.size, item.mtime_ns, item.ctime_ns)
        snapshot.directories = directory_mtimes(root, directories)
        for rel in directories:
            for name in IGNORE_FILES:
                seen.append(f"{rel}/{name}" if rel else name)
        for rel in seen:
            state = _lstat(root, rel)
            if state is not None:
                snapshot.files[rel] = state
        return snapshot

    def changes(self, limit: int = 10) -> list[str]:
        """Up to ``limit`` paths that changed since the snapshot (empty: nothing did).

        A directory that gained or lost an entry is listed with a trailing ``/``.
        """
        changed: list[str] = []
        for rel, mtime in self.directories.items():
            state = _lstat(self.root, rel)
            if state is None or state[1] != mtime:
                changed.append(f"{rel}/" if rel else "./")
                if len(changed) >= limit:
                    return changed
        for rel, recorded in self.files.items():
            if _lstat(self.root, rel) != recorded:
                changed.append(rel)
                if len(changed) >= limit:
                    break
        return changed


def directory_mtimes(root: Path, directories: Sequence[str]) -> dict[str, int]:
    """rel -> mtime_ns of each of ``directories`` (repo-relative, ``""`` the root) that is still a directory."""
    mtimes: dict[str, int] = {}
    for rel in directories:
        state = _lstat(root, rel)
        if state is not None:
            mtimes[rel] = state[1]
    return mtimes


def _lstat(root: Path, rel: str) -> FileState | None:
    """(size, mtime_ns, ctime_ns) of a directory or regular file, without following links; None otherwise."""
    try:
        st = os.lstat(os.path.join(root, rel) if rel else root)
    except OSError:
        return None
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns
