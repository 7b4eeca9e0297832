"""The open index: a ``Searcher`` holds one index snapshot and its model, and runs a search's stages on it."""

from __future__ import annotations

import os
import shlex
import stat
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from codesearch.embed import Embedder
from codesearch.embed.static import StaticEmbedder
from codesearch.errors import (
    BadQuery,
    IndexConflict,
    IndexCorrupt,
    IndexNotFound,
    IndexOutOfDate,
    IndexUnavailable,
    UnsafeIndexDir,
    naming_index,
)
from codesearch.freshness import FileCheck, FileChecks, check_stored, deleted_files
from codesearch.pack import Mounts
from codesearch.resident_client import refuse_escaping
from codesearch.search.first_stage import IndexHits, Plan, first_stage, run_into
from codesearch.search.options import PathFilter, SearchOptions
from codesearch.search.parse import ParsedQuery, parse_query
from codesearch.search.pool import ranked
from codesearch.search.results import SearchResult, as_checked
from codesearch.store.indexdir import unreadable
from codesearch.store.layout import DB_NAME, INDEX_DIR_NAME
from codesearch.store.reader import IndexReader, check_model, check_schema
from indexer.languages import UnknownLanguage, canonical_language


def find_index(start: Path) -> Path:
    """The index directory for ``start``: ``.codesearch`` in it or its nearest parent.

    A path that goes through a symlink inside an indexed repository (one the repository may have planted:
    ``dirlink -> /elsewhere``) is refused unless it stays in that repository: it led the search to the index of
    another repository above the link's target, and printed its code. A link above every repository (``~/src``
    pointing at the disk the repositories are on) is followed as before.

    :raises IndexNotFound: if there is none.
    :raises UnsafeIndexDir: if the nearest ``.codesearch`` is a symlink, or ``start`` leads out of a repository
        through a symlink.
    :raises IndexUnavailable: if the nearest ``.codesearch`` cannot be read (permissions).
    """
    written = Path(os.path.abspath(start))
    refuse_escaping(written)
    found = _nearest_index(written.resolve())
    if found is None and os.path.lexists(odd := written.resolve() / INDEX_DIR_NAME) and not os.path.isdir(odd):
        raise UnsafeIndexDir(f"{odd} is not a directory, so it holds no index: remove it, or pass --index-dir "
                             "to keep the index elsewhere")
    if found is None:
        below = _indexes_below(written)
        here = shlex.quote(str(written))
        if below:  # a new user searched the folder above two indexed repositories and was told to index it all
            shown = " ".join(shlex.quote(os.path.relpath(p)) for p in below[:INDEXES_NAMED])
            more = f" and {len(below) - INDEXES_NAMED} more" if len(below) > INDEXES_NAMED else ""
            which = "it is indexed: give it" if len(below) == 1 else "they are indexed: give one"
            raise IndexNotFound(f"no index found in {written} or its parents; below it, {shown}{more}: {which} as "
                                f"PATH (a search takes several: `codesearch search QUERY {shown}`), or run "
                                f"`codesearch index {here}` to index it all")
        raise IndexNotFound(f"no index found in {written} or its parents; run `codesearch index {here}` first")
    return found


INDEXES_NAMED = 5  # the indexed repositories below a folder that a missing index's message names
_LOOKED_BELOW = 2000  # at most this many directories are looked at for them


def _indexes_below(top: Path, depth: int = 2) -> list[Path]:
    """The directories below ``top``, ``depth`` levels down at most, that hold an index (``.codesearch`` with its
    database; not below one, nor hidden ones, nor through a link), by path; a bounded look."""
    found: list[Path] = []
    level, looked = [top], 0
    for _ in range(depth):
        deeper = []
        for directory in level:
            try:
                entries = sorted((e for e in os.scandir(directory) if not e.name.startswith(".")),
                                 key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                looked += 1
                if looked > _LOOKED_BELOW:
                    return found
                try:
                    if not entry.is_dir(follow_symlinks=False):
                        continue
                    index = Path(entry.path) / INDEX_DIR_NAME
                    if stat.S_ISDIR(os.lstat(index).st_mode) and stat.S_ISREG(os.lstat(index / DB_NAME).st_mode):
                        found.append(Path(entry.path))
                        continue
                except OSError:
                    pass
                deeper.append(Path(entry.path))
        level = deeper
    return sorted(found)


def _nearest_index(start: Path) -> Path | None:
    """``.codesearch`` in ``start`` or its nearest parent (None: none). :raises UnsafeIndexDir, IndexUnavailable."""
    for directory in (start, *start.parents):
        candidate = directory / INDEX_DIR_NAME
        try:
            if stat.S_ISLNK(os.lstat(candidate).st_mode):
                raise UnsafeIndexDir(f"{candidate} is a symlink; refusing to follow it (remove it, or pass "
                                     "--index-dir)")
            os.lstat(candidate / DB_NAME)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            raise IndexUnavailable(unreadable(candidate, exc)) from exc
        return candidate
    return None


class Searcher:
    """Searches one index with the model it was built with.

    Only an index this user built is opened, and files are re-read only under ``root``
    (the repository the user pointed at; by default the directory above a ``.codesearch``
    index, or the root this user indexed there), never under a root the index names.

    :raises trust.ForeignIndex: (an ``UnsafeIndexDir``) if this user did not build the index.
    :raises IndexConflict: if ``root`` is not the repository the index was built for.
    :raises IndexNotFound: if ``index_dir`` holds no index (``RepositoryMoved``: its repository is gone).
    :raises IndexOutOfDate: if the index was built by another model or schema.
    :raises IndexCorrupt: if the index files are damaged.
    :raises UnsafeIndexDir: if the index directory holds symlinks or someone else's files.

    :param mounts: the index is a pack of these repositories (``codesearch.pack``): a stored path
        ``NAME/PATH`` is the file ``PATH`` under the root of ``NAME``, and path filters match ``PATH``.
    """

    def __init__(self, index_dir: Path, embedder: Embedder | None = None, root: Path | None = None,
                 mounts: Mounts | None = None) -> None:
        self.mounts = mounts or Mounts()
        try:
            self.reader = IndexReader(index_dir, root)
        except (IndexCorrupt, IndexOutOfDate) as exc:
            raise naming_index(exc, root, Path(index_dir).resolve()) from exc
        try:
            self._open(embedder)
        except (IndexCorrupt, IndexOutOfDate) as exc:
            self.reader.close()
            raise naming_index(exc, root or getattr(self, "root", None), self.reader.index_dir) from exc
        except BaseException:
            self.reader.close()
            raise

    def _open(self, embedder: Embedder | None) -> None:
        self.root = self.reader.root  # first: a repository that moved away is the clearest error
        registered = self.reader.registration.mounts if self.reader.registration is not None else ""
        if registered != self.mounts.digest():  # this user's registry binds a pack to its repositories
            where = self.reader.index_dir
            if not self.mounts:
                why = f"the index in {where} is a pack of several repositories; search it with --workspace"
            elif not registered:
                why = f"the index in {where} is one repository's, not a pack"
            else:
                why = (f"the repositories of the pack in {where} are not those it was built with (the workspace "
                       "manifest changed, or a repository moved); run `codesearch index-many` again")
            raise IndexConflict(why)
        meta = self.reader.meta
        check_schema(meta)
        # Read the vector file in a thread (FAISS releases the GIL) while the model loads.
        # The thread only reads the file; if a writer replaced it meanwhile, the retry with
        # a fresh snapshot happens here, in the thread that owns the SQLite connection.
        # (A plain thread: concurrent.futures and the logging it imports cost a one-shot search ~5 ms.)
        read: dict[str, Any] = {}
        thread = threading.Thread(target=run_into, args=(read, self.reader.snapshot_files), daemon=True)
        thread.start()
        try:
            self.embedder = embedder or StaticEmbedder.default()
            check_model(meta, self.embedder.fingerprint)
        finally:
            thread.join()
        error = read.get("error")
        if isinstance(error, IndexCorrupt):
            self.vectors, self.lexical = self.reader.files()
            check_model(self.reader.meta, self.embedder.fingerprint)
        elif error is not None:
            raise error
        else:
            self.vectors, self.lexical = read["value"]

    def close(self) -> None:
        """Release the index snapshot: the database connection and the mapped vector and lexical files."""
        self.reader.close()
        self.__dict__.pop("vectors", None)
        self.__dict__.pop("lexical", None)

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def search(self, query: str, k: int = 10, options: SearchOptions | None = None, **settings: Any
               ) -> list[SearchResult]:
        """The ``k`` chunks that best answer ``query``, best first.

        Stages: the vector ranking and (``hybrid``) the lexical ranking, each ``CANDIDATES``
        deep, fused by score with weights chosen by the kind of query; the
        definitions of names the query mentions join the pool; the code-aware ``signals``
        (``codesearch.ranking``) score the pool; at most ``per_file`` hits of one file come
        before every other file's; an optional transformer ``rerank`` reorders the top
        (``codesearch.search.pool.ranked``).

        :param options: what to search for besides the query (``SearchOptions``; its ``k`` is replaced by ``k``).
        :param settings: ``SearchOptions`` fields overriding ``options`` (and ``path_glob``: one include glob).
        :raises BadQuery: for an empty query, a bad ``k`` or an unknown language.

        Chunks with the same content hash (identical code at several paths) come back once,
        the others listed in ``duplicates``.
        """
        options = SearchOptions.of(k, options, **settings)
        return self.run(self.parse(query, k), options)

    def run(self, parsed: ParsedQuery, options: SearchOptions) -> list[SearchResult]:
        """``search`` for a query already parsed (``parse``).

        Fewer results than asked for, and indexed files deleted since the last index run: the search again without
        them (their hits, dropped as the files are gone, had taken the pool's places: after a switch to a branch
        without 336 indexed files, a new user's `-k 10` found one result, or none)."""
        plan = self.plan(parsed, options)
        if plan is None:
            return []
        results = ranked(parsed.info, [self.first_stage(plan, options)], options)
        if len(results) < options.k and (gone := deleted_files(self)):
            plan = self.plan(parsed, options, leave_out=frozenset(gone))
            results = [] if plan is None else ranked(parsed.info, [self.first_stage(plan, options)], options)
        return results

    def parse(self, query: str, k: int = 10) -> ParsedQuery:
        """The query validated, analysed and embedded (the same for every index of this model).

        :raises BadQuery: for an empty query, a bad ``k``, or a query with no known word.
        """
        return parse_query(query, k, self.embedder)

    def plan(self, parsed: ParsedQuery, options: SearchOptions, leave_out: frozenset[str] = frozenset()
             ) -> Plan | None:
        """The parsed query and the chunks the filters allow (None: no chunk passes), none of the files
        ``leave_out`` (stored paths).

        :raises BadQuery: for an unknown language.
        """
        language = _language(options.language)
        allowed = self.allowed(language=language, paths=options.paths, kinds=options.kinds, leave_out=leave_out)
        if allowed is not None and allowed.size == 0:
            return None
        return Plan(parsed, language, allowed)

    def allowed(self, *, language: str | None = None, paths: PathFilter | None = None,
                kinds: Sequence[str] = (), leave_out: frozenset[str] = frozenset()) -> np.ndarray | None:
        """Ids of the chunks the filters let through (``None``: no filter, all of them), none of the files
        ``leave_out``.

        :raises BadQuery: for an unknown language.
        """
        language = _language(language)
        if language is None and not kinds and not (paths is not None and paths.active) and not leave_out:
            return None
        files = None
        if paths is not None and paths.active:
            files = [p for p in self.reader.file_paths() if self._matches(paths, p)]
        if leave_out:
            files = [p for p in (self.reader.file_paths() if files is None else files) if p not in leave_out]
        return self.reader.ids_where(language=language, paths=files, kinds=list(kinds))

    def _matches(self, paths: PathFilter, path: str) -> bool:
        if not self.mounts:
            return paths.matches(self.root, path)
        place = self.mounts.split(path)
        return place is not None and paths.matches(Path(place[1]), place[2])

    def first_stage(self, plan: Plan, options: SearchOptions, *, vector: bool = True) -> IndexHits:
        """This index's first-stage hits for ``plan`` (``codesearch.search.first_stage``)."""
        return first_stage(self, plan, options, vector=vector)

    def current_row(self, row: dict[str, Any], checks: FileChecks) -> tuple[dict[str, Any] | None, bool]:
        """A chunk's row as its file is now (``None``: the file or the symbol is gone) and whether it changed."""
        if row["path"] not in checks:
            checks.update(self.check_files({row["path"]: row["language"]}, checks))
        return as_checked(row, checks[row["path"]])

    def check_files(self, languages: dict[str, str], looked: FileChecks | None = None) -> dict[str, FileCheck]:
        """Fresh / changed / gone for each file (path -> its language), read under ``root``.

        :param looked: the search's checks, whose trees keep directories open for its next files.
        """
        states = self.reader.file_states(sorted(languages))
        limit = self.reader.max_file_bytes
        return {path: check_stored(self.mounts, str(self.root), path, language, states.get(path, (-1, -1, -1, "")),
                                   limit, looked)
                for path, language in languages.items()}


def _language(language: str | None) -> str | None:
    """The registry's name of a language (``py`` -> ``python``). :raises BadQuery: if unknown."""
    if language is None:
        return None
    try:
        return canonical_language(language)
    except UnknownLanguage as exc:
        raise BadQuery(str(exc)) from None
