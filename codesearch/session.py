"""One repository kept open for many requests: what a long-running server (``codesearch mcp``) needs.

The model, the index snapshot and the optional reranker are loaded once. Before each
answer the session checks, from ``stat`` alone (``codesearch.watch``), whether any file
changed since it last looked; if one did, it runs the incremental index (only changed
files are parsed and embedded) and opens the new index generation, so a result never
points at old lines. The first request on a repository without an index builds it.

Every call runs on one private thread: SQLite connections belong to the thread that
opened them, and one writer at a time is all an index allows anyway. Another process
indexing the same repository holds the writer lock; the session then answers from
the index it has, and says so in ``status``.

The repository is the directory that was at ``root`` when the session opened (same
device and inode, held open so that no new directory can take that inode number). If it
is moved, deleted or replaced later, every call fails with ``RepositoryMoved`` and nothing
is written: the session never creates the root, nor an index directory inside a root
that is gone. When the same directory comes back, the next call re-opens the index and
checks for changes as usual.

Constructing a session is cheap (no model, no index, no numpy); ``start_loading``
loads them on the session's thread in the background, and calls queue behind it.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from codesearch.errors import BadQuery, CodeSearchError, IndexLocked, IndexNotFound, RepositoryMoved
from codesearch.store.indexdir import default_index_dir, prepare_index_dir
from codesearch.store.layout import DB_NAME, INDEX_DIR_NAME
from codesearch.store.trust import wal_standing
from codesearch.watch import Snapshot
from indexer.discover import Limits

if TYPE_CHECKING:  # the heavy modules (numpy, SQLite helpers, the model) load on the session's thread
    from codesearch.embed import Embedder
    from codesearch.pipeline import IndexReport
    from codesearch.related import Source
    from codesearch.rerank import Reranker
    from codesearch.search import Searcher, SearchResult

T = TypeVar("T")
log = logging.getLogger("codesearch.session")
LOCK_WAIT = 2.0  # seconds to wait for another process's index run before answering from the current index


@dataclass
class Refresh:
    """What the last freshness check did."""

    checked_at: float = 0.0
    indexed: bool = False  # an index run happened
    changed: list[str] = field(default_factory=list)  # first changed paths seen
    seconds: float = 0.0
    skipped: str = ""  # why no index run happened although something changed
    report: IndexReport | None = None


SKIPPED_LISTED = 20  # skipped files and directories ``status`` lists (``skipped_files`` counts them all)


def served_root(path: Path) -> Path:
    """The repository to serve for ``path``: the nearest directory at or above it that holds an index, unless
    a git work tree's top (``.git``) without one comes first; else ``path`` (indexed on first use). An agent's
    server started in a subdirectory of an indexed repository (an editor's workspace folder) built a second,
    partial index there, while ``codesearch search`` in the same place used the repository's."""
    from codesearch.resident_client import refuse_escaping

    refuse_escaping(path)
    start = Path(path).resolve()
    for directory in (start, *start.parents):
        if directory != start and _own_index(directory / INDEX_DIR_NAME):
            return directory
        if os.path.lexists(directory / ".git"):
            break
    return start


def _own_index(index_dir: Path) -> bool:
    """An index directory (not a link) with a database, both this user's: another user's ``/tmp/.codesearch`` is
    never taken for the index of a directory below it."""
    try:
        st, db = os.lstat(index_dir), os.lstat(index_dir / DB_NAME)
    except OSError:
        return False
    uid = os.getuid() if hasattr(os, "getuid") else st.st_uid
    return stat.S_ISDIR(st.st_mode) and stat.S_ISREG(db.st_mode) and st.st_uid == db.st_uid == uid


class RepositorySession:
    """A repository, its index and its model, kept open.

    :param root: the repository.
    :param index_dir: default ``root/.codesearch``.
    :param auto_index: index on first use and refresh before each answer (False: read-only).
    :param rerank: rerank every search with ``rerank_model`` (default: the shipped reranker), loaded
        once, on the session's thread, next to the index (its vector cache lives there).
    :raises IndexNotFound: (when used) if there is no index and ``auto_index`` is off.
    """

    def __init__(self, root: Path, *, index_dir: Path | None = None, embedder: Embedder | None = None,
                 rerank: bool = False, rerank_model: Path | None = None, limits: Limits = Limits(),
                 use_ignore_files: bool = True, workers: int | None = None, auto_index: bool = True) -> None:
        self.root = Path(root).resolve()
        if any(d.name == INDEX_DIR_NAME and (d / DB_NAME).is_file() for d in (self.root, *self.root.parents)):
            # `codesearch mcp repo/.codesearch` built an index inside the index
            raise IndexNotFound(f"{root} is an index directory, not a repository; serve the repository it is in")
        try:  # held open while the session lives, so that no new directory can take the root's inode number
            flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
            self._root_fd = os.open(self.root, flags)
        except OSError:
            raise IndexNotFound(f"{root} is not a directory") from None
        st = os.fstat(self._root_fd)
        if not stat.S_ISDIR(st.st_mode):
            os.close(self._root_fd)
            raise IndexNotFound(f"{root} is not a directory")
        self._root_id = (st.st_dev, st.st_ino)
        self._gone = False  # the last check found the root moved or deleted
        self.index_dir = Path(index_dir).resolve() if index_dir else default_index_dir(self.root)
        self.limits, self.use_ignore_files, self.workers, self.auto_index = limits, use_ignore_files, workers, auto_index
        self.rerank, self.rerank_model = rerank, rerank_model
        self._reranker: Reranker | None = None
        self._embedder = embedder
        self._searcher: Searcher | None = None
        self._snapshot: Snapshot | None = None
        self.last = Refresh()
        self.last_index_run: Refresh | None = None  # the last refresh that ran an index
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codesearch-session")
        self._closed = threading.Event()

    # -- running on the private thread -------------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on the session's thread and wait for it."""
        return self._thread.submit(fn, *args, **kwargs).result()

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any):  # -> Future[T]
        """Schedule ``fn`` on the session's thread (for async callers)."""
        return self._thread.submit(fn, *args, **kwargs)

    def start_loading(self) -> Future[None]:
        """Load the model, the index (indexing first when needed) and the reranker in the background.

        Calls submitted meanwhile run after it. A failure is not raised here: the first call
        meets it again and answers with it.
        """
        return self._thread.submit(self._load)

    def _load(self) -> None:
        try:
            self.refresh()
            _ = self.reranker
        except CodeSearchError:
            pass  # the first call refreshes again and reports it

    def close(self) -> None:
        """Release the index and stop the thread."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._thread.submit(self._close_all).result()
        self._thread.shutdown(wait=True)
        os.close(self._root_fd)

    def _close_all(self) -> None:
        cache = getattr(self._reranker, "cache", None)
        if cache is not None:
            cache.conn.close()
        self._reranker = None
        self._close_searcher()

    def _close_searcher(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    # -- the work (call these through ``call``) ---------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from codesearch.embed.static import StaticEmbedder

            self._embedder = StaticEmbedder.default()
        return self._embedder

    def check_root(self) -> None:
        """The root is still the directory it was at start; after it came back, the index is re-opened.

        :raises RepositoryMoved: if it was moved, deleted or replaced (nothing is written then).
        """
        try:
            st = os.lstat(self.root)
            same = stat.S_ISDIR(st.st_mode) and (st.st_dev, st.st_ino) == self._root_id
        except OSError:
            same = False
        if not same:
            if not self._gone:
                self._gone = True
                self._close_all()  # its files moved with it (or are gone); re-open if it comes back
            raise self._gone_error()
        self._gone = False

    def _gone_error(self) -> RepositoryMoved:
        return RepositoryMoved(f"repository gone: {self.root} was moved or deleted after the server started "
                               "(nothing was written); move it back, or restart the server on its new path")

    def _make_index_dir(self) -> None:
        """Create the index directory, never the root: inside the root, only while the root exists."""
        if self.index_dir.parent == self.root:
            try:
                os.mkdir(self.index_dir, 0o700)  # yours alone, whatever the umask (prepare_index_dir)
            except FileExistsError:
                pass  # prepare_index_dir checks what it is
            except FileNotFoundError:
                raise self._gone_error() from None
            except OSError:
                pass  # prepare_index_dir reports it in one line
        prepare_index_dir(self.index_dir)

    def refresh(self) -> Refresh:
        """Index what changed since the last look (everything, the first time).

        :raises RepositoryMoved: if the repository is no longer where it was at start.
        """
        from codesearch.pipeline import build_index

        started = time.perf_counter()
        self.check_root()
        has_index = (self.index_dir / DB_NAME).is_file()
        if not self.auto_index:
            if not has_index:
                raise IndexNotFound(f"no index at {self.index_dir}; run `codesearch index {self.root}`")
            self._open()
            return self.last
        if self._snapshot is not None and has_index:
            changed = self._snapshot.changes()
            if not changed:
                self.last = Refresh(time.time(), seconds=time.perf_counter() - started)
                self._open()
                return self.last
        else:
            changed = ["(first use)"]
        self._make_index_dir()  # first: creating it changes the root's mtime
        refresh = Refresh(time.time(), changed=changed)
        snapshots: list[Snapshot] = []  # of the index run's own walk, before it reads a file: see watch.py
        if has_index and self._searcher is not None and wal_standing(self.index_dir, locked=True) in (
                "foreign", "unregistered"):
            self._close_searcher()  # its snapshot would keep the run from emptying that log (``fold_journal``)
        try:
            refresh.report = build_index(self.root, self.index_dir, self.embedder, limits=self.limits,
                                         wait=LOCK_WAIT if has_index else 600.0, workers=self.workers,
                                         use_ignore_files=self.use_ignore_files,
                                         walked=lambda items, dirs: snapshots.append(Snapshot.of_walk(self.root, items, dirs)))
            refresh.indexed = True
            self._snapshot = snapshots[0]  # build_index reports its walk before it returns
        except IndexLocked:
            if not has_index:
                raise
            refresh.skipped = "another process is indexing this repository; answered from the current index"
        if refresh.report is not None and refresh.report.changed:
            self._close_searcher()
        self._open()
        refresh.seconds = time.perf_counter() - started
        self.last = refresh
        from codesearch.render import deleted_untrusted

        deleted = deleted_untrusted(refresh.report) if refresh.report is not None else []
        for line in deleted:  # and index_status's last_index_run says it (the CLI's summary does)
            from codesearch.render import one_line

            log.warning("%s: %s", one_line(str(self.index_dir)), line)  # a folder's name may hold a terminal's escape
        if refresh.indexed and refresh.report is not None and (refresh.report.changed or refresh.report.files_parsed
                                                               or deleted):
            self.last_index_run = refresh  # the first look at an index that was up to date indexed nothing
        return refresh

    def _open(self) -> Searcher:
        if self._searcher is None:
            from codesearch.search import Searcher

            self._searcher = Searcher(self.index_dir, self.embedder, root=self.root)  # files read under root only
        return self._searcher

    @property
    def searcher(self) -> Searcher:
        """The open index, refreshed first."""
        self.refresh()
        return self._open()

    @property
    def reranker(self) -> Reranker | None:
        """The reranker, when asked for (loaded on first use). :raises ModelNotFound, MissingExtra."""
        if self.rerank and self._reranker is None:
            from codesearch.rerank import load_reranker

            self._reranker = load_reranker(self.rerank_model, self.index_dir)
        return self._reranker

    def search(self, query: str, k: int = 10, *, language: str | None = None, include: Sequence[str] = (),
               exclude: Sequence[str] = (), kinds: Sequence[str] = ()) -> list[SearchResult]:
        """``Searcher.search`` on today's files (reranked when the session was asked to).

        :raises BadQuery: for a bad query or filter.
        """
        from codesearch.search import PathFilter, SearchOptions, validate_query

        validate_query(query, k)  # before any refresh: a pasted file is refused at once
        paths = PathFilter(include=tuple(include), exclude=tuple(exclude))  # as many and as long as it takes
        for glob in include:
            self._glob_inside(glob)
        searcher = self.searcher
        options = SearchOptions(k=k, language=language, paths=paths, kinds=tuple(kinds), rerank=self.reranker)
        return searcher.run(searcher.parse(query, k), options)

    def related(self, *, path: str | None = None, line: int | None = None, symbol: str | None = None,
                k: int = 10, language: str | None = None, include: Sequence[str] = (),
                exclude: Sequence[str] = (), kinds: Sequence[str] = ()) -> tuple[Source, list[SearchResult]]:
        """Code like the definition at ``path``:``line`` or named ``symbol``.

        :raises BadQuery: for a bad place or name (outside the repository, missing, not indexed),
            and AmbiguousSymbol (a BadQuery) for a name of several definitions, listing them.
        """
        from codesearch.related import at_line, one_named, related
        from codesearch.search import PathFilter

        searcher = self.searcher
        if symbol:
            source = one_named(searcher, symbol)
        elif path and line is not None:
            source = at_line(searcher, self._inside(path), line)
        else:
            raise BadQuery("give a file and a line, or a symbol name")
        for glob in include:
            self._glob_inside(glob)
        paths = PathFilter(include=tuple(include), exclude=tuple(exclude))
        return source, related(searcher, source, k, language=language, paths=paths, kinds=kinds)

    def _glob_inside(self, glob: str) -> None:
        """A path glob can match inside the repository: :raises BadQuery: for an absolute one elsewhere, or one that
        climbs out of it (``../../etc/*``), which matched nothing without a word."""
        if os.path.isabs(glob):
            outside = not Path(os.path.normpath(glob)).is_relative_to(self.root)
        else:
            outside = os.path.normpath(glob).split(os.sep, 1)[0] == ".."
        if outside:
            raise BadQuery(f"path {glob} is outside the repository {self.root}")

    def out_of_date(self, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> dict[str, Any]:
        """A read-only server's (which indexes nothing) ``unindexed`` and ``deleted`` (``resident.unindexed``): the
        files added and deleted since the last index run that the path globs let through, as the CLI's JSON names
        them (the recheck: an agent was not told); {} for a server that indexes them before it answers."""
        if self.auto_index:
            return {}
        from codesearch.resident import unindexed
        from codesearch.search import PathFilter

        return unindexed(self.searcher, "", PathFilter(include=tuple(include), exclude=tuple(exclude)))

    def filtered_out(self, results: Sequence[SearchResult], language: str | None, globs: Sequence[str],
                     kinds: Sequence[str] = (), exclude: Sequence[str] = ()) -> dict[str, Any]:
        """``{"note": ...}`` when nothing was found because a filter matches nothing in the index, or the index
        holds nothing (``resident.filtered_out``: a language it has no file of, a path no indexed file matches, a
        kind it has no chunk of)."""
        from codesearch.resident import filtered_out

        return filtered_out(self.searcher, results, language, globs, kinds, exclude)

    def _inside(self, path: str) -> Path:
        """A path relative to the root (or absolute inside it). :raises BadQuery: if it leads outside."""
        candidate = Path(path)
        full = candidate if candidate.is_absolute() else self.root / candidate
        try:  # by its words, not where links lead: what is there is looked for without following one (the recheck:
            # resolving told an agent whether an outside path is a link, and a planted loop was a traceback)
            Path(os.path.normpath(full)).relative_to(self.root)
        except ValueError:
            raise BadQuery(f"{path} is outside the repository {self.root}") from None
        return Path(full)

    def status(self) -> dict[str, Any]:
        """Files, chunks, functions (and methods), languages, last update, stale files, the last refresh."""
        from indexer.discover import encodable

        searcher = self.searcher
        stats = searcher.reader.stats()
        meta = searcher.reader.meta
        return {
            "root": encodable(str(self.root)),
            "index_dir": encodable(str(self.index_dir)),
            "files": stats["files"],
            "chunks": stats["chunks"],
            "functions": sum(n for kind, n in stats["chunks_by_kind"].items() if kind in ("function", "method")),
            "files_by_language": stats["files_by_language"],
            "chunks_by_kind": stats["chunks_by_kind"],
            "updated_at": meta.updated_at,
            "model": meta.model_name,
            "stale_files": stale_files(searcher),
            "last_refresh": {"indexed": self.last.indexed, "changed": self.last.changed,
                             "seconds": round(self.last.seconds, 4), "note": self.last.skipped},
            # The last check that indexed something, whichever call made it (a search's refresh is not this
            # call's own check, which found nothing left to do: an agent saw `indexed: false` after an edit).
            "last_index_run": None if self.last_index_run is None else {
                # in UTC with its offset, as updated_at (it had no time zone)
                "at": datetime.fromtimestamp(self.last_index_run.checked_at, timezone.utc).isoformat("T", "seconds"),
                "changed": self.last_index_run.changed, "seconds": round(self.last_index_run.seconds, 4),
                # what the run did (its changed list says "(first use)" for the first: every file)
                **_run_counts(self.last_index_run.report)},
            "skipped_files": len(stats["skipped"]),
            # what was left out and why (an agent saw only a count, while build/ was skipped as build output)
            "skipped": stats["skipped"][:SKIPPED_LISTED],
        }


def _run_counts(report: IndexReport | None) -> dict[str, Any]:
    """The files an index run parsed and the chunks it added and removed (none: no report)."""
    if report is None:
        return {}
    counts: dict[str, Any] = {"files_parsed": report.files_parsed, "chunks_added": report.chunks_added,
                              "chunks_removed": report.chunks_removed}
    from codesearch.render import deleted_untrusted

    if deleted := deleted_untrusted(report):
        counts["deleted"] = deleted  # a journal or index not this user's (the recheck: MCP deleted it without a word)
    return counts


def stale_files(searcher: Searcher, limit: int = 20) -> list[str]:
    """Indexed files whose size, mtime or ctime on disk differ from the index's (at most ``limit``)."""
    stale = []
    for path, (size, mtime_ns, ctime_ns, _) in searcher.reader.all_file_states().items():
        try:
            st = os.lstat(searcher.root / path)
            state = (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        except OSError:
            state = None
        if state != (size, mtime_ns, ctime_ns):
            stale.append(path)
            if len(stale) >= limit:
                break
    return stale
