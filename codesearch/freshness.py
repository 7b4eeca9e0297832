"""Is an indexed file still what the index says? Re-locate symbols in files that changed.

A search hit must never be shown with wrong line numbers. For each file behind a hit:
unchanged size, mtime and ctime → fresh (restoring an old size and mtime with
``touch -r`` still changes the ctime); otherwise the file is read again and its hash
compared: same bytes → fresh; missing, unreadable, now a symlink or special file, or
larger than the indexing limit → gone (its hits are dropped, and a huge file is never
read); changed → the current file is parsed again and hits are matched by chunk key,
so they carry today's lines and code (or are dropped if the symbol no longer exists); bytes that a
process died parsing are not parsed again, and count as gone (``codesearch.reparse``); bytes their grammar
refuses (a parse past ``SEARCH_PARSE_SECONDS``, too deep) are read as line windows, and a hit moves to the
window that holds its first line.
Every file is looked at and read from ``root`` down without following a symlink and without
blocking (``indexer.discover.open_inside/read_inside``); ``root`` is the repository the user gave, never a
directory an index names, so a forged index cannot point reads outside it.
"""

from __future__ import annotations

import itertools
import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesearch.pack import Mounts
from indexer.discover import Limits, Tree, content_problem, lstat_inside, read_inside, source_bytes
from indexer.types import Chunk, SourceFile

FRESH, CHANGED, GONE = "fresh", "changed", "gone"
# A search parses each changed file for at most ``codesearch.reparse.SEARCH_PARSE_SECONDS``, and all of them for at
# most this long; a changed file past it is read as line windows, for this search only (twelve changed files whose
# grammar gives up at its deadline took a search 16 s).
SEARCH_PARSE_BUDGET = 3.0


@dataclass(frozen=True, slots=True)
class FileCheck:
    """The state of one indexed file now; ``chunks`` (by key) only for changed files."""

    status: str
    chunks: dict[str, Chunk] = field(default_factory=dict)
    windowed: bool = False  # a changed file its grammar refused: ``chunks`` are its line windows


class FileChecks(dict[str, FileCheck]):
    """What one search found of the files behind its hits (path -> check), and the trees it looked at them in
    (``indexer.discover.Tree``, by root), their directories open until ``close``: a search looks at about 15
    files in a few directories, and opened every directory from the root down again for each file."""

    def __init__(self) -> None:
        super().__init__()
        self._trees: dict[str, Tree] = {}
        self.parse_seconds = SEARCH_PARSE_BUDGET  # what is left of it for this search

    def tree(self, root: str) -> Tree:
        """The tree under ``root``, opened as files are looked at."""
        tree = self._trees.get(root)
        if tree is None:
            tree = self._trees[root] = Tree(root)
        return tree

    def close(self) -> None:
        """Close the directories the trees opened (the checks stay)."""
        trees, self._trees = self._trees, {}
        for tree in trees.values():
            tree.close()


def check_file(
    root: str | Path, path: str, language: str, indexed: tuple[int, int, int, str], max_bytes: int = Limits().max_bytes,
    stored: str | None = None, tree: Tree | None = None, looked: FileChecks | None = None,
) -> FileCheck:
    """Compare the file ``root/path`` with its indexed (size, mtime_ns, ctime_ns, sha1).

    :param root: the repository root as the user gave it (``path`` must resolve inside it).
    :param max_bytes: the indexing limit: a changed file larger than this is gone, and not read.
    :param stored: the path the index stores the file as, when not ``path`` (a pack's ``NAME/PATH``):
        what a changed file's chunk keys are made of.
    :param tree: ``root``'s tree, when several of its files are looked at (``FileChecks.tree``).
    :param looked: the search's checks: what is left of its time to parse (``SEARCH_PARSE_BUDGET``).
    """
    size, mtime_ns, ctime_ns, sha1 = indexed
    st = _stat_inside(root, path, tree)
    if st is None or not stat.S_ISREG(st.st_mode):
        return FileCheck(GONE)
    if (st.st_size, st.st_mtime_ns, st.st_ctime_ns) == (size, mtime_ns, ctime_ns):
        return FileCheck(FRESH)
    if st.st_size > max_bytes:
        return FileCheck(GONE)
    # The file's stat is not the indexed one: what reading it found is kept for as long as its stat stays
    # this one (see ``_Checked``), so a process that searches again (MCP, ``resident``, ``serve``) reads it once.
    key = (str(root), path, stored, language, max_bytes, indexed,
           (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    known = _CHECKED.get(key)
    if known is None:
        from codesearch.reparse import SEARCH_PARSE_SECONDS

        seconds = SEARCH_PARSE_SECONDS if looked is None else min(SEARCH_PARSE_SECONDS, looked.parse_seconds)
        started = time.monotonic()
        known, settled = _read_check(root, path, language, sha1, max_bytes, stored, seconds)
        if looked is not None:
            looked.parse_seconds -= time.monotonic() - started
        if settled:  # not windows for want of this search's time: what the next search would find too
            _CHECKED.put(key, known)
    return known


def _read_check(root: str | Path, path: str, language: str, sha1: str, max_bytes: int, stored: str | None,
                seconds: float) -> tuple[FileCheck, bool]:
    """``check_file`` of a file whose stat is not the indexed one: it is read, and its hash compared; a changed file
    is parsed for at most ``seconds`` (none: read as line windows). And whether that is settled: not line windows
    because ``seconds`` was short of ``SEARCH_PARSE_SECONDS``."""
    read = read_inside(root, path, max_bytes)
    if isinstance(read, str):
        return FileCheck(GONE), True
    current, data = read
    if len(data) > max_bytes:
        return FileCheck(GONE), True
    import hashlib  # here, as the parser below: a search whose files are unchanged needs neither

    data = source_bytes(language, data)  # as the indexer hashed and parsed them
    digest = hashlib.sha1(data).hexdigest()
    if digest == sha1:
        return FileCheck(FRESH), True  # the bytes the index was built from (which passed ``content_problem`` then)
    if content_problem(data) is not None:
        return FileCheck(GONE), True
    from codesearch.reparse import REFUSED, SEARCH_PARSE_SECONDS, guarded, remember_windowed, windowed
    from indexer.chunk import chunks_or_windows, line_windows

    source = SourceFile(stored or path, language, data, current.st_mtime_ns, current.st_ctime_ns)
    known = windowed(language, digest)  # refused by its grammar at an earlier search: not parsed again
    if known or seconds <= 0:
        return FileCheck(CHANGED, {c.key: c for c in line_windows(source)}, windowed=True), known
    found = guarded(language, digest, lambda: chunks_or_windows(source, seconds))
    if found is REFUSED:
        return FileCheck(GONE), True  # a process died parsing these bytes (``codesearch.reparse``)
    chunks, refused = found
    settled = not refused or seconds >= SEARCH_PARSE_SECONDS
    if refused and settled:
        remember_windowed(language, digest)
    return FileCheck(CHANGED, {c.key: c for c in chunks}, windowed=bool(refused)), settled


class _Checked:
    """What reading a file found (``_read_check``), by the file and its stat, for the whole process (several
    indexes, threads): the ``most`` last ones, the oldest let go first.

    A file whose size, mtime and ctime are not the indexed ones was read and hashed at every search: after
    ``git checkout`` or a copy of the tree (every ctime new, the bytes the same), or an edit not yet indexed
    (parsed again at every search), each hit's file was read, and a search of a 20k-chunk repository whose
    ctimes had all changed took 9.4 ms instead of 5. Any write changes the ctime, and a file replaced by
    another has another inode, so the same stat means the same bytes, as it does for the index itself.
    """

    def __init__(self, most: int) -> None:
        self.most = most
        self.items: dict[Any, FileCheck] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> FileCheck | None:
        return self.items.get(key)

    def put(self, key: Any, check: FileCheck) -> None:
        with self._lock:
            if len(self.items) >= self.most:
                for old in list(itertools.islice(self.items, self.most // 4)):
                    del self.items[old]
            self.items[key] = check


# A search checks the files of its ~10 hits: 256 covers many searches' files, and bounds the changed files'
# chunks kept (each file at most ``max_bytes``).
_CHECKED = _Checked(256)


def check_stored(mounts: Mounts, root: str, path: str, language: str, indexed: tuple[int, int, int, str],
                 max_bytes: int, looked: FileChecks | None = None) -> FileCheck:
    """``check_file`` of a path as the index stores it: under ``root``, or, in a pack (``mounts``), the
    file of its repository, never one under the pack's own directory (gone if no repository holds it).

    :param looked: the search's checks, whose trees keep the directories open for its next files.
    """
    place = mounts.locate(root, path)
    if place is None:
        return FileCheck(GONE)
    tree = looked.tree(place[0]) if looked is not None else None
    return check_file(place[0], place[1], language, indexed, max_bytes, stored=path, tree=tree, looked=looked)


def unchanged_places(searcher: Any, mounts: Mounts, root: str, same: dict[str, list[str]]) -> dict[str, list[str]]:
    """``same`` (content hash -> ``path:line`` of identical indexed chunks) without the places whose file is gone
    or changed since indexing (by its stat: a changed file is not read for this): "+2 identical at b.py:4, c.py:4"
    named a deleted file and a line that was no longer the function (an operations review)."""
    paths = sorted({place.rsplit(":", 1)[0] for places in same.values() for place in places})
    if not paths:
        return same
    states = searcher.reader.file_states(paths)
    kept: set[str] = set()
    for path in paths:
        state, place = states.get(path), mounts.locate(root, path)
        if state is None or place is None:
            continue
        st = _stat_inside(place[0], place[1])
        if st is not None and stat.S_ISREG(st.st_mode) and (st.st_size, st.st_mtime_ns, st.st_ctime_ns) == state[:3]:
            kept.add(path)
    return {digest: [p for p in places if p.rsplit(":", 1)[0] in kept] for digest, places in same.items()}


def _stat_inside(root: str | Path, path: str, tree: Tree | None = None) -> os.stat_result | None:
    """The stat of ``root/path`` itself, its directories opened from ``root`` down without following a link
    (``Tree``; None if it cannot be reached: missing, under a link, outside, unreadable). A link or a FIFO
    there is one (not a regular file): nothing is opened or followed."""
    if tree is None:
        return lstat_inside(root, path)
    try:
        return tree.lstat(path)
    except OSError:
        return None


# At most this many directories are looked at for files added since indexing (``unindexed_files``); an index
# that records more (or a forged one) is not checked.
MAX_CHECKED_DIRECTORIES = 200_000


@dataclass(frozen=True, slots=True)
class Unindexed:
    """Source files in the repository that the index does not hold: added since its last run."""

    root: str
    count: int
    paths: tuple[str, ...]  # the first few, by path, relative to ``root``

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.count, "paths": list(self.paths), "root": self.root}


def changed_directories(searcher: Any) -> set[str] | None:
    """The directories (repo-relative, "" the root) that the last index run's walk read and that changed since (their
    mtime: an entry created, removed or renamed in them) or are gone: one ``lstat`` each, from ``searcher.root``
    down without following a link (``Tree``: the paths come from the index, which the repository may have forged).
    None for an index that cannot tell: a pack, or one written before the directories were recorded."""
    if searcher.mounts:
        return None
    recorded = searcher.reader.directory_mtimes(MAX_CHECKED_DIRECTORIES)
    if not recorded:
        return None
    root = str(searcher.root)
    with Tree(root) as tree:
        return {rel for rel, mtime in recorded.items() if _directory_changed(tree, root, rel, mtime)}


def unindexed_files(searcher: Any, under: str = "", shown: int = 5, keep: Callable[[str], bool] | None = None,
                    changed: set[str] | None = None) -> Unindexed | None:
    """The source files (below ``under``, repo-relative) that the walk of the repository finds and its index
    neither holds nor skipped: files added since the last index run, which a one-shot search does not search
    (the MCP server and ``serve`` index them before they answer). None when there are none.

    Cheap when nothing was added: one ``lstat`` per directory the last run's walk read (``IndexReader.
    directory_mtimes``; a directory's mtime changes when an entry is created, removed or renamed in it); only
    when one of them changed is the repository walked, as the indexer walks it, and its files compared with the
    index's (a directory that changed for an editor's swap file has nothing to report). Directories are looked
    at from ``searcher.root`` down without following a link (``Tree``): the paths come from the index, which
    the repository may have forged. An index of several repositories (a pack) or one written before the
    directories were recorded is not checked.

    :param keep: the search's path filters (a stored path -> whether it may be a result): only such files are named.
    :param changed: ``changed_directories(searcher)``, when the caller has it.
    """
    changed = changed_directories(searcher) if changed is None else changed
    inside = (lambda rel: not under or rel == under or rel.startswith(under + "/")
              or under.startswith(rel + "/") or not rel)  # the directories that can gain a file below ``under``
    if not changed or not any(inside(rel) for rel in changed):
        return None
    root = str(searcher.root)
    from indexer.discover import FileEntry, walk

    known = set(searcher.reader.file_paths()) | searcher.reader.skipped_paths()
    added = sorted(item.path for item in walk(Path(root)) if isinstance(item, FileEntry) and item.path not in known
                   and (not under or item.path.startswith(under + "/") or item.path == under)
                   and (keep is None or keep(item.path)))
    return Unindexed(root, len(added), tuple(added[:shown])) if added else None


def deleted_files(searcher: Any, under: str = "", keep: Callable[[str], bool] | None = None,
                  changed: set[str] | None = None) -> list[str]:
    """The indexed files (below ``under``, repo-relative, sorted) that are gone from the repository: deleted since
    the last index run (a branch switched to one without them), whose hits a search drops. [] when none.

    Cheap when nothing changed, as ``unindexed_files``: a file's deletion changes its directory's mtime, so only
    the index's files in a directory the last run read and that changed since (or is gone) are looked at, from
    ``searcher.root`` down without following a link. A pack or an index without recorded directories: [].

    :param keep: the search's path filters (a stored path -> whether it may be a result): only such files are named.
    :param changed: ``changed_directories(searcher)``, when the caller has it.
    """
    changed = changed_directories(searcher) if changed is None else changed
    if not changed:
        return []
    gone = []
    with Tree(str(searcher.root)) as tree:
        for path in searcher.reader.file_paths():
            if path.rpartition("/")[0] not in changed or (under and path != under and not path.startswith(under + "/")):
                continue
            if (keep is None or keep(path)) and _is_gone(tree, path):
                gone.append(path)
    return sorted(gone)


def _is_gone(tree: Tree, path: str) -> bool:
    """Whether the stored ``path`` names no file now: nothing, or a directory or a link in its place (an index run
    drops it as the search does; a directory on its way swapped for a link or a file counts as gone too: neither
    follows it); a path that is no plain relative one (a forged index's) is not looked at."""
    if any(part in ("", ".", "..") for part in path.split("/")):
        return False
    try:
        return not stat.S_ISREG(tree.lstat(path).st_mode)
    except ValueError:
        return False
    except OSError:
        return True


def _directory_changed(tree: Tree, root: str, rel: str, mtime: int) -> bool:
    """Whether the directory ``rel`` (``""``: the root) is gone or has another mtime than ``mtime`` (a path that is
    no plain relative one, which only a forged index holds, is not looked at)."""
    if rel and any(part in ("", ".", "..") for part in rel.split("/")):
        return False
    try:
        st = os.stat(root) if not rel else tree.lstat(rel)
    except (OSError, ValueError):  # gone, or a link now (a deleted directory: its files' hits are dropped)
        return True
    return not stat.S_ISDIR(st.st_mode) or st.st_mtime_ns != mtime
