"""Several indexes searched as one corpus, in one process or spread over machines.

A search over several indexes runs in three steps:

1. ``gather``: each index runs its first stage (vector and lexical rankings with raw
   scores, definitions of the names the query mentions) and returns it as a ``Part`` of
   plain data. This needs the index in memory; a shard replica of ``codesearch serve`` runs it.
2. ``shortlist`` + ``fill``: the rankings of every part are cut to the depth one index over
   all of them would have searched, and each index fetches the rows, file states,
   similarities and identical chunks of its survivors only (a few dozen over all parts,
   however many parts there are).
3. ``merge`` (``codesearch.search.pool.ranked``, the path every search takes): the rankings
   are fused at once, each score divided by the best of that
   ranking over *all* parts (not per part), so an index with only weak matches does not
   get a hit at the top; then the code-aware ranking, the per-file limit, the freshness
   check against the files on disk and the optional rerank, over one pool. This needs only
   the parts and the files.

``MultiSearcher`` runs them in one process; every index must be built by the same model
so that vector scores are comparable.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codesearch.embed import Embedder
from codesearch.embed.static import StaticEmbedder
from codesearch.errors import BadQuery, CodeSearchError, IndexOutOfDate
from codesearch.freshness import FileChecks, check_stored, deleted_files, unchanged_places
from codesearch.pack import Mounts
from codesearch.query import QueryInfo
from codesearch.search import (
    ParsedQuery,
    Searcher,
    SearchOptions,
    SearchResult,
    as_checked,
    ranked,
    validate_query,
)
from codesearch.search import shortlist as pool_shortlist
from codesearch.search.first_stage import file_similarities, origin
from codesearch.search.pool import folds_by_vector, wants_file_topics
from indexer.chunk import definition_key, is_window


def prefixes(roots: Sequence[Path]) -> list[str]:
    """A short, unique name per repository: its directory name, with parents added until unique."""
    roots = [Path(r).resolve() for r in roots]
    depth = {i: 1 for i in range(len(roots))}
    while True:
        names = ["/".join(r.parts[-depth[i]:]) if r.parts[1:] else "root" for i, r in enumerate(roots)]
        counts = Counter(names)
        clashes = {n for n, c in counts.items() if c > 1}
        if not clashes:
            return names
        grew = False
        for i, name in enumerate(names):
            if name in clashes and depth[i] < len(roots[i].parts) - 1:
                depth[i] += 1
                grew = True
        if not grew:  # the same repository twice
            raise BadQuery(f"{clashes.pop()} is given twice")


@dataclass
class Part:
    """One index's share of a query, as plain (picklable) data."""

    repo: str
    root: str
    max_file_bytes: int
    static: list[tuple[int, float]]
    lexical: list[tuple[int, float]]
    defined: list[int]
    rows: dict[int, dict[str, Any]]
    similarity: dict[int, float]  # cosine of the query with every candidate
    files: dict[str, tuple[int, int, int, str]]  # path -> (size, mtime_ns, ctime_ns, sha1) as indexed
    same_content: dict[str, list[str]]  # content hash -> "path:line" of identical chunks in this index
    vector: Any = None  # the query's vector (numpy), for similarities ``fill`` computes
    stored: dict[int, Any] = field(default_factory=dict)  # chunk id -> its vector, for near-copy folding
    completed: dict[str, dict[int, float]] = field(default_factory=dict)  # scores the rankings left out
    file_similarity: dict[str, float] = field(default_factory=dict)  # path -> cosine with the file's topic
    topics: bool = False  # whether ``fill`` measures ``file_similarity`` (``pool.wants_file_topics``)
    mounts: Mounts = field(default_factory=Mounts)  # a pack's repositories (``codesearch.pack``)
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # a window's definition key -> its lines

    # What the pool asks of a shard (``codesearch.search.pool.Shard``).
    def chunks(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        return {i: self.rows[i] for i in ids if i in self.rows}

    def similarities(self, ids: Sequence[int]) -> list[float]:
        return [self.similarity.get(i, 0.0) for i in ids]

    def vectors(self, ids: Sequence[int]) -> Any:
        return [self.stored[i] for i in ids]

    def current_row(self, row: dict[str, Any], checks: FileChecks) -> tuple[dict[str, Any] | None, bool]:
        path = row["path"]
        if path not in checks:
            checks[path] = check_stored(self.mounts, self.root, path, row["language"],
                                        self.files.get(path, (-1, -1, -1, "")), self.max_file_bytes, checks)
        return as_checked(row, checks[path])

    def origin(self, path: str) -> tuple[str, str, str]:
        return origin(self.mounts, self.repo, self.root, path)

    def identical(self, hashes: Sequence[str]) -> dict[str, list[str]]:
        return {h: self.same_content[h] for h in hashes if h in self.same_content}

    def file_similarities(self, paths: Sequence[str]) -> dict[str, float]:
        return {p: self.file_similarity[p] for p in paths if p in self.file_similarity}

    def definition_lines(self, keys: Sequence[str]) -> dict[str, tuple[int, int]]:
        return {key: self.spans[key] for key in keys if key in self.spans}


def gather(searcher: Searcher, parsed: ParsedQuery, options: SearchOptions, repo: str = "",
           leave_out: frozenset[str] = frozenset()) -> Part | None:
    """One index's first stage for the query (None: the filters leave nothing): its rankings, the
    definitions of the names the query mentions and their similarities, but no rows yet (see ``fill``).

    :param parsed: the query parsed once for every index (``Searcher.parse``).
    :param repo: the name results of this index are shown under (a pack's paths name their repositories).
    :param leave_out: stored paths whose chunks are not searched (``Searcher.plan``).
    :raises BadQuery: for a bad filter.
    """
    plan = searcher.plan(parsed, options, leave_out)
    if plan is None:
        return None
    hits = searcher.first_stage(plan, options)
    similarity = {**hits.completed.get("static", {}), **dict(hits.static)}  # the cosines the first stage has
    lacking = [i for i in dict.fromkeys(hits.defined) if i not in similarity]
    similarity.update(zip(lacking, hits.similarities(lacking)))
    return Part("" if searcher.mounts else repo, hits.root, searcher.reader.max_file_bytes, hits.static,
                hits.lexical, hits.defined, {}, similarity, {}, {}, hits.vector, completed=hits.completed,
                topics=wants_file_topics(parsed.info, options), mounts=searcher.mounts)


def _shown_as(options: SearchOptions, name: str, searcher: Searcher, under: str = "") -> SearchOptions:
    """``options`` whose path globs also match a path as it is printed, under the repository's ``name`` (a pack's
    paths name their repositories already), and that search only below ``under`` (repo-relative; "": everywhere)."""
    if under:
        options = replace(options, paths=replace(options.paths, under=under))
    if searcher.mounts or not options.paths.active:
        return options
    return replace(options, paths=replace(options.paths, shown_as=f"{name}/"))


def fill(searcher: Searcher, part: Part | None, ids: Sequence[int]) -> Part | None:
    """``part`` with the rows, similarities, file states, identical chunks and windows' definition lines of
    ``ids`` (its shortlist)."""
    if part is None:
        return None
    rows = searcher.reader.chunks(list(ids)) if ids else {}
    similarity = dict(part.similarity)
    missing = [i for i in rows if i not in similarity]
    if missing:
        similarity.update(zip(missing, map(float, searcher.vectors.similarity(missing, part.vector))))
    files = searcher.reader.file_states(sorted({r["path"] for r in rows.values()})) if rows else {}
    same = searcher.reader.same_content([r["content_hash"] for r in rows.values()]) if rows else {}
    same = unchanged_places(searcher, searcher.mounts, str(searcher.root), same) if same else same
    folded = [i for i, r in rows.items() if folds_by_vector(r)]  # what near-copy folding reads
    stored = dict(zip(folded, searcher.vectors.vectors(folded))) if folded else {}
    topics = file_similarities(searcher, list(files), part.vector) if part.topics and part.vector is not None else {}
    windows = [definition_key(r["key"]) for r in rows.values() if is_window(r["key"])]
    spans = searcher.reader.key_spans(windows) if windows else {}
    return replace(part, rows=rows, similarity=similarity, files=files, same_content=same, stored=stored,
                   file_similarity=topics, spans=spans)


def shortlist(query: QueryInfo, parts: Sequence[Part | None], options: SearchOptions) -> list[list[int]]:
    """The chunk ids of each part that can make the merged pool (``fill`` fetches only those)."""
    return pool_shortlist(query, parts, options)


def merge(query: QueryInfo, parts: Sequence[Part | None], options: SearchOptions) -> list[SearchResult]:
    """The ``options.k`` best results over every (filled) part, ranked as one corpus (see the module doc)."""
    return ranked(query, parts, options)


# What opening a damaged, unreadable or foreign index raises: with ``keep_going``, that index's reason.
INDEX_FAILURES = (CodeSearchError, sqlite3.DatabaseError, OSError)


def _reason(exc: BaseException) -> str:
    """Why an index was left out, on one line, without the fix its message gives for one index (`codesearch
    index --rebuild` in the current directory is not how a workspace's index is rebuilt)."""
    from codesearch.render import one_line

    text = one_line(str(exc).strip())  # whole: a path in it may hold a line end (the last line was a name's tail)
    return _SINGLE_FIX.sub("", text) if text else type(exc).__name__


_SINGLE_FIX = re.compile(r";? *(?:run|rebuild it with) `codesearch index\b[^`]*`.*$")


class MultiSearcher:
    """Searches several indexes as one; results carry ``repo`` (a prefix of ``path``).

    :param names: the repositories' names (default: their directory names, made unique).
    :param mounts: per index, the repositories of a pack (``codesearch.pack``; empty for an ordinary index).
    :param keep_going: an index that cannot be opened (damaged, unreadable, another model's) is left out and
        named in ``left_out`` with its reason, instead of failing the search (a workspace of many repositories;
        ``names`` must be given). A repository whose root is gone (moved or deleted) is named there too: its
        files cannot be checked, so its hits are dropped.
    :param unders: by name, the repositories searched only below a subdirectory (``search Q app/src lib``: a PATH
        that is a subdirectory of its repository).
    :raises IndexOutOfDate: if the indexes were built by different models.
    (and everything ``Searcher`` raises, for each index; with ``keep_going``, the first index's error when
    none could be opened)
    """

    def __init__(self, index_dirs: Sequence[Path], embedder: Embedder | None = None,
                 names: Sequence[str] | None = None, mounts: Sequence[Mounts] | None = None,
                 keep_going: bool = False, unders: Mapping[str, str] | None = None) -> None:
        embedder = embedder or StaticEmbedder.default()
        self.unders = dict(unders or {})  # a repository's name -> the subdirectory searched in it (repo-relative)
        self.searchers: list[Searcher] = []
        self.left_out: dict[str, str] = {}  # a repository (or pack) name -> why it is not searched
        packs = list(mounts) if mounts is not None else [Mounts()] * len(index_dirs)
        given = list(names) if names is not None else None
        if keep_going and given is None:
            raise ValueError("keep_going needs the indexes' names")
        opened: list[str] = []
        first: BaseException | None = None
        try:
            for i, (directory, mounted) in enumerate(zip(index_dirs, packs, strict=True)):
                try:
                    self.searchers.append(Searcher(directory, embedder, mounts=mounted))
                except INDEX_FAILURES as exc:
                    if not keep_going:
                        raise
                    first = first or exc
                    self.left_out[given[i]] = _reason(exc)
                    continue
                if given is not None:
                    opened.append(given[i])
            if first is not None and not self.searchers:
                raise first
        except BaseException:
            self.close()
            raise
        self.names = opened if given is not None else prefixes([s.root for s in self.searchers])
        self.roots: dict[str, str] = {}  # every repository's name -> its root
        for name, searcher in zip(self.names, self.searchers):
            self.roots.update(searcher.mounts.roots if searcher.mounts else {name: str(searcher.root)})
        if keep_going:
            for name, root in self.roots.items():
                if not os.path.isdir(root):
                    self.left_out[name] = f"its repository {root} is gone (moved or deleted)"
        fingerprints = {s.reader.meta.model_fingerprint for s in self.searchers}
        if len(fingerprints) > 1:  # Searcher already checked each against the model; kept as a guard
            self.close()
            raise IndexOutOfDate("the indexes were built by different models; rebuild them with one")

    def close(self) -> None:
        for searcher in self.searchers:
            searcher.close()

    def __enter__(self) -> MultiSearcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def gather(self, parsed: ParsedQuery, options: SearchOptions, leave_out: Sequence[frozenset[str]] = ()
               ) -> list[Part | None]:
        """Every index's part for the query, in the order of the indexes (``leave_out``: per index, the stored
        paths not searched)."""
        gone = list(leave_out) or [frozenset()] * len(self.searchers)
        return [gather(s, parsed, _shown_as(options, name, s, self.unders.get(name, "")), repo=name, leave_out=out)
                for name, s, out in zip(self.names, self.searchers, gone, strict=True)]

    def fill(self, parts: Sequence[Part | None], keep: Sequence[Sequence[int]]) -> list[Part | None]:
        """``fill`` each part (as ``gather`` returned them) with the rows of its shortlist."""
        return [fill(s, part, ids) for s, part, ids in zip(self.searchers, parts, keep)]

    def search(self, query: str, k: int = 10, options: SearchOptions | None = None, **settings: Any
               ) -> list[SearchResult]:
        """As ``Searcher.search``, over every index. Path globs match paths within each repository."""
        options = SearchOptions.of(k, options, **settings)
        if not self.searchers:
            validate_query(query, k)
            return []
        return self.run(self.searchers[0].parse(query, k), options)  # one embedder for all

    def run(self, parsed: ParsedQuery, options: SearchOptions) -> list[SearchResult]:
        """``search`` for a query already parsed: gather, shortlist, fill, merge (see the module doc); again
        without the indexed files deleted since the last index runs when fewer results than asked for came
        back (as ``Searcher.run``)."""
        results = self._merged(parsed, options)
        if len(results) < options.k and any(gone := [frozenset(deleted_files(s)) for s in self.searchers]):
            results = self._merged(parsed, options, gone)
        return results

    def _merged(self, parsed: ParsedQuery, options: SearchOptions, leave_out: Sequence[frozenset[str]] = ()
                ) -> list[SearchResult]:
        parts = self.gather(parsed, options, leave_out)
        parts = self.fill(parts, shortlist(parsed.info, parts, options))
        return merge(parsed.info, parts, options)
