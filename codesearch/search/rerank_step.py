"""The last steps of a search: the optional transformer rerank, the similarity floor, the first ``k``."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from codesearch.ranking import rerank_score
from codesearch.search.options import SearchOptions
from codesearch.search.results import SearchResult

if TYPE_CHECKING:
    from codesearch.rerank import Reranker

RERANK_CODE_CHARS = 1000


def finished(results: list[SearchResult], query: str, options: SearchOptions) -> list[SearchResult]:
    """The last steps: the optional rerank, the similarity floor (``min_score``), the first ``k``."""
    if options.rerank is not None:
        results = reranked(results, query, options.rerank)
    if options.min_score > 0:  # then renumbered: the ranks shown stay 1, 2, 3, ...
        kept = [r for r in results if r.score >= options.min_score][:options.k]
        return [r if r.rank == rank else replace(r, rank=rank) for rank, r in enumerate(kept, 1)]
    return results[:options.k]


def reranked(results: list[SearchResult], query: str, reranker: Reranker) -> list[SearchResult]:
    """Results reordered by the reranker's cosine blended with their first-stage score, ranks renumbered.

    The transformer judges what the code does; the first stage's score carries the lexical
    evidence and the code-aware signals (the chunk defines a name the query mentions, the
    path matches, tests and code between definitions), so both count
    (``codesearch.ranking.rerank_score``).
    """
    texts = [rerank_text(r.kind, r.qualname, r.signature, r.doc, r.code) for r in results]
    scores = reranker.score(query, texts, [r.content_hash for r in results])
    top = max((r.scores.get("rank", 0.0) for r in results), default=0.0) or 1.0
    final = [rerank_score(float(scores[i]), r.scores.get("rank", 0.0) / top) for i, r in enumerate(results)]
    order = sorted(range(len(results)), key=lambda i: -final[i])
    return [
        replace(results[i], rank=rank, score=min(1.0, max(0.0, float(scores[i]))),
                scores={**results[i].scores, "rerank": float(scores[i]), "rank": final[i]})
        for rank, i in enumerate(order, 1)
    ]


def rerank_text(kind: str, qualname: str, signature: str, doc: str, code: str) -> str:
    """What the reranker reads for a chunk: kind, name, signature, doc and the start of the code."""
    return "\n".join(p for p in (f"{kind} {qualname}", signature, doc, code[:RERANK_CODE_CHARS]) if p)
