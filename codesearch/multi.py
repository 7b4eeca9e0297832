"""Several indexes searched as one corpus, in one process or spread over machines.

A search over several indexes runs in three steps:

1. ``gather``: each index runs its first stage (vector and lexical rankings with raw
   scores, definitions of the names the query mentions) and returns it as a ``Part`` of
   plain data. This needs the index in memory; a shard replica of ``codesearch serve`` runs it.
2. ``shortlist`` + ``fill``: the rankings of every part are cut to the depth one index over
   all of them would have searched, and each index fetches the rows, file states,
   similarities and identical chunks of its survivors only (a few dozen over all parts,
   however many parts there are).
3. ``merge``: the rankings are fused at once, each score divided by the best of that
   ranking over *all* parts (not per part), so an index with only weak matches does not
   get a hit at the top; then the code-aware ranking, the per-file limit, the freshness
   check against the files on disk and the optional rerank, over one pool. This needs only
   the parts and the files.

``MultiSearcher`` runs them in one process; every index must be built by the same model
so that vector scores are comparable.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Any

from codesearch.embed import Embedder
from codesearch.embed.static import StaticEmbedder
from codesearch.errors import BadQuery, IndexOutOfDate
from codesearch.freshness import FileCheck, check_file
from codesearch.query import analyse
from codesearch.ranking import Candidate, Signals, diversified, rank
from codesearch.rerank import Reranker
from codesearch.search import (
    DEFAULT_HYBRID,
    DEFINITIONS,
    LEXICAL_WEIGHTS,
    PER_FILE,
    RERANK_CANDIDATES,
    ParsedQuery,
    PathFilter,
    Searcher,
    SearchResult,
    _depth,
    _finished,
    as_checked,
    clipped,
    fuse,
    pick,
    validate_query,
    with_duplicates,
)


def prefixes(roots: Sequence[Path]) -> list[str]:
    """A short, unique name per repository: its directory name, with parents added until unique."""
    roots = [Path(r).resolve() for r in roots]
    depth = {i: 1 for i in range(len(roots))}
    while True:
        names = ["/".join(r.parts[-depth[i]:]) if r.parts[1:] else "root" for i, r in enumerate(roots)]
        clashes = {n for n in names if names.count(n) > 1}
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

    # What ``search.pick`` asks of the owner of a candidate.
    def current_row(self, row: dict[str, Any], checks: dict[str, FileCheck]) -> tuple[dict[str, Any] | None, bool]:
        path = row["path"]
        if path not in checks:
            checks[path] = check_file(Path(self.root), path, row["language"], self.files.get(path, (-1, -1, -1, "")),
                                      self.max_file_bytes)
        return as_checked(row, checks[path])

    def place(self, path: str) -> str:
        return f"{self.repo}/{path}" if self.repo else path

    def finish(self, results: list[SearchResult]) -> list[SearchResult]:
        """Similarity for hits without a vector score, clipped to [0, 1]; identical chunks listed."""
        out = []
        for r in results:
            score = r.score if "static" in r.scores else self.similarity.get(r.chunk_id, 0.0)
            r = replace(r, score=clipped(score))
            out.append(with_duplicates(r, map(self.place, self.same_content.get(r.content_hash, []))))
        return out


def gather(searcher: Searcher, query: str, k: int = 10, *, repo: str = "", language: str | None = None,
           paths: PathFilter | None = None, kinds: Sequence[str] = (), hybrid: bool = DEFAULT_HYBRID,
           signals: Signals = Signals(), candidates: int = 0, parsed: ParsedQuery | None = None) -> Part | None:
    """One index's first stage for ``query`` (None: the filters leave nothing): its rankings, the
    definitions of the names the query mentions and their similarities, but no rows yet (see ``fill``).

    :param candidates: rerank depth (0: no rerank); deepens the first stage like ``Searcher.search``.
    :param parsed: the query parsed once for every index (``Searcher.parse``).
    :raises BadQuery: for a bad query or filter.
    """
    plan = searcher.plan(query, k, language=language, paths=paths, kinds=kinds, parsed=parsed)
    if plan is None:
        return None
    rankings, _ = searcher.first_stage(plan, _depth(k, candidates), hybrid)
    static, lexical = rankings[0], rankings[1] if hybrid else []
    defined = searcher.definitions(plan) if signals.definition else []
    similarity = dict(static)
    lacking = [i for i in dict.fromkeys(defined) if i not in similarity]
    if lacking:
        similarity.update(zip(lacking, map(float, searcher.vectors.similarity(lacking, plan.vector[0]))))
    return Part(repo, str(searcher.root), searcher.reader.max_file_bytes, static, lexical, defined, {},
                similarity, {}, {}, plan.vector[0])


def fill(searcher: Searcher, part: Part | None, ids: Sequence[int]) -> Part | None:
    """``part`` with the rows, similarities, file states and identical chunks of ``ids`` (its shortlist)."""
    if part is None:
        return None
    rows = searcher.reader.chunks(list(ids)) if ids else {}
    similarity = dict(part.similarity)
    missing = [i for i in rows if i not in similarity]
    if missing:
        similarity.update(zip(missing, map(float, searcher.vectors.similarity(missing, part.vector))))
    files = searcher.reader.file_states(sorted({r["path"] for r in rows.values()})) if rows else {}
    same = searcher.reader.same_content([r["content_hash"] for r in rows.values()]) if rows else {}
    return replace(part, rows=rows, similarity=similarity, files=files, same_content=same)


def _pool(query: str, parts: Sequence[Part | None], k: int, hybrid: bool, signals: Signals, rerank_depth: int
          ) -> tuple[dict[tuple[int, int], float], dict[tuple[int, int], dict[str, float]]]:
    """Fused scores and stage scores of the candidates, keyed by (part number, chunk id).

    Each ranking is cut to the depth one index over every part would have searched, so the
    pool (and the cost of ranking it) stays that of one corpus, however many parts.
    """
    info = analyse(query)
    depth = _depth(k, rerank_depth)
    stage: dict[tuple[int, int], dict[str, float]] = {}
    rankings: list[list[tuple[tuple[int, int], float]]] = []
    for name in ("static", "lexical"):
        # Each part's ranking is best first: a lazy k-way merge reads about ``depth`` hits in
        # all, not every part's whole list (ties keep the parts' order, as a stable sort would).
        streams = [_keyed(n, getattr(part, name)) for n, part in enumerate(parts) if part is not None]
        ranking = list(islice(heapq.merge(*streams, key=lambda pair: -pair[1]), depth))
        for key, score in ranking:
            stage.setdefault(key, {})[name] = score
        rankings.append(ranking)
    used = rankings if hybrid else rankings[:1]
    fused = dict(fuse(used, [1.0, LEXICAL_WEIGHTS[info.kind]][: len(used)]))
    if signals.definition:
        # Definitions of the names the query mentions, the most similar first, as many as one index gives.
        defined = sorted(((n, i) for n, part in enumerate(parts) if part is not None for i in part.defined),
                         key=lambda key: -parts[key[0]].similarity.get(key[1], 0.0))  # type: ignore[union-attr]
        for key in defined[:DEFINITIONS]:
            fused.setdefault(key, 0.0)
            stage.setdefault(key, {})
    return fused, stage


def _keyed(n: int, ranking: list[tuple[int, float]]) -> Iterator[tuple[tuple[int, int], float]]:
    return (((n, i), score) for i, score in ranking)


def shortlist(query: str, parts: Sequence[Part | None], k: int = 10, *, hybrid: bool = DEFAULT_HYBRID,
              signals: Signals = Signals(), candidates: int = 0) -> list[list[int]]:
    """The chunk ids of each part that can make the merged pool (``fill`` fetches only those).

    :param candidates: rerank depth (0: no rerank), as given to ``gather``.
    """
    fused, _ = _pool(validate_query(query, k), parts, k, hybrid, signals, candidates)
    keep: list[list[int]] = [[] for _ in parts]
    for n, i in fused:
        keep[n].append(i)
    return keep


def merge(query: str, parts: Sequence[Part | None], k: int = 10, *, hybrid: bool = DEFAULT_HYBRID,
          signals: Signals = Signals(), per_file: int = PER_FILE, min_score: float = 0.0,
          rerank: Reranker | None = None, candidates: int = RERANK_CANDIDATES) -> list[SearchResult]:
    """The ``k`` best results over every (filled) part, ranked as one corpus (see the module doc)."""
    query = validate_query(query, k)
    if all(p is None for p in parts):
        return []
    fused, stage = _pool(query, parts, k, hybrid, signals, candidates if rerank else 0)
    pool = [Candidate(key, parts[key[0]].rows[key[1]], s, dict(stage[key], fused=s))  # type: ignore[union-attr]
            for key, s in fused.items() if key[1] in parts[key[0]].rows]  # type: ignore[union-attr]
    ranked = diversified(rank(analyse(query), pool, signals), per_file, path_of=lambda c: (c.id[0], c.path))
    picked = pick(((parts[c.id[0]], c) for c in ranked), max(k, candidates) if rerank else k)  # type: ignore[misc]
    results = [owner.finish([result])[0] for owner, result in picked]  # type: ignore[union-attr]
    return _finished(results, query, k, rerank, min_score)


class MultiSearcher:
    """Searches several indexes as one; results carry ``repo`` (a prefix of ``path``).

    :param names: the repositories' names (default: their directory names, made unique).
    :raises IndexOutOfDate: if the indexes were built by different models.
    (and everything ``Searcher`` raises, for each index)
    """

    def __init__(self, index_dirs: Sequence[Path], embedder: Embedder | None = None,
                 names: Sequence[str] | None = None) -> None:
        embedder = embedder or StaticEmbedder.default()
        self.searchers: list[Searcher] = []
        try:
            for directory in index_dirs:
                self.searchers.append(Searcher(directory, embedder))
        except BaseException:
            self.close()
            raise
        self.names = list(names) if names is not None else prefixes([s.root for s in self.searchers])
        self.roots = {name: str(s.root) for name, s in zip(self.names, self.searchers)}
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

    def gather(self, query: str, k: int = 10, **options: Any) -> list[Part | None]:
        """Every index's part for ``query`` (``gather``'s options), in the order of the indexes."""
        parsed = self.searchers[0].parse(query, k) if self.searchers else None  # one embedder for all
        return [gather(s, query, k, repo=name, parsed=parsed, **options)
                for name, s in zip(self.names, self.searchers)]

    def fill(self, parts: Sequence[Part | None], keep: Sequence[Sequence[int]]) -> list[Part | None]:
        """``fill`` each part (as ``gather`` returned them) with the rows of its shortlist."""
        return [fill(s, part, ids) for s, part, ids in zip(self.searchers, parts, keep)]

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        language: str | None = None,
        paths: PathFilter | None = None,
        hybrid: bool = DEFAULT_HYBRID,
        rerank: Reranker | None = None,
        candidates: int = RERANK_CANDIDATES,
        signals: Signals = Signals(),
        per_file: int = PER_FILE,
        min_score: float = 0.0,
        kinds: Sequence[str] = (),
    ) -> list[SearchResult]:
        """As ``Searcher.search``, over every index. Path globs match paths within each repository."""
        depth = candidates if rerank else 0
        parts = self.gather(query, k, language=language, paths=paths, kinds=kinds, hybrid=hybrid, signals=signals,
                            candidates=depth)
        parts = self.fill(parts, shortlist(query, parts, k, hybrid=hybrid, signals=signals, candidates=depth))
        return merge(query, parts, k, hybrid=hybrid, signals=signals, per_file=per_file, min_score=min_score,
                     rerank=rerank, candidates=candidates)
