"""The last steps of a search: the optional transformer rerank, the similarity floor, the first ``k``."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from codesearch.query import QueryInfo
from codesearch.ranking import rerank_score, rerank_weight
from codesearch.search.options import SearchOptions
from codesearch.search.results import SearchResult

if TYPE_CHECKING:
    from codesearch.rerank import Reranker

RERANK_CODE_CHARS = 1000
# The version of what ``rerank_text`` gives; part of every cached vector's key, so a change
# of the text never reuses vectors of the old one (the next ``index --deep`` drops those).
RERANK_TEXT_FORMAT = 2


def finished(results: list[SearchResult], query: QueryInfo, options: SearchOptions) -> list[SearchResult]:
    """The last steps: the optional rerank, the similarity floor (``min_score``), the first ``k``."""
    if options.rerank is not None:
        results = reranked(results, query, options.rerank)
    if options.min_score > 0:  # then renumbered: the ranks shown stay 1, 2, 3, ...
        kept = [r for r in results if r.score >= options.min_score][:options.k]
        return [r if r.rank == rank else replace(r, rank=rank) for rank, r in enumerate(kept, 1)]
    return results[:options.k]


def reranked(results: list[SearchResult], query: QueryInfo, reranker: Reranker) -> list[SearchResult]:
    """Results reordered by the reranker's cosine blended with their first-stage score, ranks renumbered.

    The transformer judges what the code does; the first stage's score carries the lexical
    evidence and the code-aware signals (the chunk defines a name the query mentions, the
    path matches, tests and code between definitions), so both count
    (``codesearch.ranking.rerank_score``), the reranker's share decided by the kind of query
    (``codesearch.ranking.rerank_weight``).
    """
    texts = [rerank_text(r.kind, r.qualname, r.signature, r.doc, r.code) for r in results]
    scores = reranker.score(query.text, texts, [rerank_key(r.content_hash) for r in results])
    top = max((r.scores.get("rank", 0.0) for r in results), default=0.0) or 1.0
    weight = rerank_weight(query)
    final = [rerank_score(float(scores[i]), r.scores.get("rank", 0.0) / top, weight) for i, r in enumerate(results)]
    order = sorted(range(len(results)), key=lambda i: -final[i])
    return [
        replace(results[i], rank=rank, score=min(1.0, max(0.0, float(scores[i]))),
                scores={**results[i].scores, "rerank": float(scores[i]), "rank": final[i]})
        for rank, i in enumerate(order, 1)
    ]


def rerank_key(content_hash: str) -> str:
    """The key of a chunk's reranker vector: its content hash and the text format."""
    return f"{content_hash}/{RERANK_TEXT_FORMAT}"


def rerank_text(kind: str, qualname: str, signature: str, doc: str, code: str) -> str:
    """What the reranker reads for a chunk: kind, name, signature, doc and the start of the code
    without the doc (a docstring or a comment inside the code is read once, as the doc)."""
    code = without_doc(code, doc)[:RERANK_CODE_CHARS]
    return "\n".join(p for p in (f"{kind} {qualname}", signature, doc, code) if p)


def without_doc(code: str, doc: str) -> str:
    """``code`` less the whole lines that hold ``doc`` inside it (a Python docstring, a comment
    block in the body), found by the doc's first and last lines, with the lines of quotes or
    comment marks alone around them; ``code`` itself where the doc is not inside it after its
    first line (a doc comment above the definition is not part of its code)."""
    lines = [line.strip() for line in doc.strip().splitlines() if line.strip()]
    if not lines:
        return code
    first = code.find(lines[0])
    last = code.find(lines[-1], first) if first >= 0 else -1
    start = code.rfind("\n", 0, first) + 1
    if last < 0 or start == 0:
        return code
    end = code.find("\n", last + len(lines[-1]))
    head, tail = code[:start].splitlines(keepends=True), code[end + 1:].splitlines(keepends=True) if end >= 0 else []
    while len(head) > 1 and _marks_only(head[-1]):
        head.pop()
    while tail and _marks_only(tail[0]):
        tail.pop(0)
    return "".join(head + tail)


def _marks_only(line: str) -> bool:
    """A line of quotes or comment marks alone (a docstring's opening or closing, ``*/``)."""
    text = line.strip().lstrip("rRuUbB")
    return bool(text) and all(c in _MARKS for c in text)


_MARKS = frozenset("\"'`*/#-[]=!;")
