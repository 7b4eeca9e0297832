"""Several repositories searched as one corpus.

Each index runs its own first stage; the rankings are then fused across all indexes at
once, each score divided by the best of that ranking over every repository (not per
repository), so a repository with only weak matches does not get a hit at the top. The
code-aware ranking, the pick and the optional rerank then see one pool. Every index
must be built by the same model, so that the vector scores are comparable.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from codesearch.embed import Embedder
from codesearch.embed.static import StaticEmbedder
from codesearch.errors import BadQuery, IndexOutOfDate
from codesearch.ranking import Candidate, Signals, diversified, rank
from codesearch.rerank import Reranker
from codesearch.search import (
    DEFAULT_HYBRID,
    LEXICAL_WEIGHTS,
    PER_FILE,
    RERANK_CANDIDATES,
    PathFilter,
    Searcher,
    SearchResult,
    _depth,
    _finished,
    fuse,
    pick,
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


class MultiSearcher:
    """Searches several indexes as one; results carry ``repo`` (a prefix of ``path``).

    :raises IndexOutOfDate: if the indexes were built by different models.
    (and everything ``Searcher`` raises, for each index)
    """

    def __init__(self, index_dirs: Sequence[Path], embedder: Embedder | None = None) -> None:
        embedder = embedder or StaticEmbedder.default()
        self.searchers: list[Searcher] = []
        try:
            for directory in index_dirs:
                self.searchers.append(Searcher(directory, embedder))
        except BaseException:
            self.close()
            raise
        self.names = prefixes([s.root for s in self.searchers])
        for name, searcher in zip(self.names, self.searchers):
            searcher.repo = name  # results' paths start with it
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
        depth = _depth(k, candidates if rerank else 0)
        rankings: list[list[tuple[tuple[int, int], float]]] = [[], []]
        stage: dict[tuple[int, int], dict[str, float]] = {}
        defined: list[tuple[int, int]] = []
        plans = {}
        for n, searcher in enumerate(self.searchers):
            plan = searcher.plan(query, k, language=language, paths=paths, kinds=kinds)
            if plan is None:
                continue
            plans[n] = plan
            own, own_stage = searcher.first_stage(plan, depth, hybrid)
            for ranking, scored in zip(rankings, own):
                ranking.extend(((n, i), s) for i, s in scored)
            stage.update({(n, i): scores for i, scores in own_stage.items()})
            if signals.definition:
                defined.extend((n, i) for i in searcher.definitions(plan))
        if not plans:
            return []
        info = next(iter(plans.values())).info
        for ranking in rankings:
            ranking.sort(key=lambda pair: -pair[1])
        used = rankings if hybrid else rankings[:1]
        fused = dict(fuse(used, [1.0, LEXICAL_WEIGHTS[info.kind]][: len(used)]))
        for key in defined:
            fused.setdefault(key, 0.0)
            stage.setdefault(key, {})
        pool = []
        for n, searcher in enumerate(self.searchers):
            ids = [i for (m, i) in fused if m == n]
            rows = searcher.reader.chunks(ids) if ids else {}
            pool.extend(Candidate((n, i), rows[i], fused[(n, i)], dict(stage[(n, i)], fused=fused[(n, i)]))
                        for i in ids if i in rows)
        ranked = diversified(rank(info, pool, signals), per_file, path_of=lambda c: (c.id[0], c.path))
        picked = pick(((self.searchers[c.id[0]], c) for c in ranked), max(k, candidates) if rerank else k)
        finished: dict[int, SearchResult] = {}
        for n, searcher in enumerate(self.searchers):
            mine = [(i, r) for i, (s, r) in enumerate(picked) if s is searcher]
            if mine:
                done = searcher.finish([r for _, r in mine], plans[n].vector)
                finished.update({i: r for (i, _), r in zip(mine, done)})
        results = [finished[i] for i in range(len(picked))]
        return _finished(results, plans[min(plans)].query, k, rerank, min_score)
