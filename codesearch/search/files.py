"""Results grouped by file, as rg prints them: files ranked, each with its best chunks.

A chunk ranking serves a question that one function answers; a question about how something
works is answered by files, and a ranking of chunks spends its first places on one file's
chunks. Grouping serves both: the files come in the order of their best chunk, and each shows
the best ``shown`` of its chunks among the first ``depth(files, shown)`` of the chunk ranking, in
their order. Ranking the files by more than their best chunk (a bonus for each further chunk)
measured worse on every set (docs/BENCHMARKS.md, "Results grouped by file").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from codesearch.search.options import MAX_K
from codesearch.search.results import SearchResult

SHOWN = 3  # chunks shown under each file by default
# The fewest chunks a grouped answer reads: what ten files with their three hits read, so that the hits shown under a
# file do not depend on how many files were asked for (`-k 1` showed the first file's hits among the first 4 chunks).
DEPTH_FLOOR = 40
# How much deeper a grouped answer reads when its depth held fewer files than asked for (nats-server's `Sublist`
# `--by-file -k 6`: 3 files, while 17 mention it), up to ``MAX_K`` chunks.
DEEPER = 4
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FileHits:
    """One file of a grouped answer: its rank among the files and its best chunks, best first."""

    rank: int
    hits: tuple[SearchResult, ...]

    @property
    def path(self) -> str:
        """The file's path as its hits show it."""
        return self.hits[0].path

    @property
    def score(self) -> float:
        """The similarity of the file's best chunk."""
        return self.hits[0].score

    def to_dict(self, hit: Any = None) -> dict[str, Any]:
        """A JSON-ready dict: rank, path, score and the hits (each made by ``hit``, default ``to_dict``)."""
        make = hit or (lambda result: result.to_dict())
        return {"rank": self.rank, "path": self.path, "root": self.hits[0].root, "score": self.score,
                "hits": [make(result) for result in self.hits]}


def depth(files: int, shown: int = SHOWN) -> int:
    """How many chunks of the ranking a grouped answer of ``files`` files reads (one more than it
    shows per file, so that files beyond the first ones' chunks are reached; ``DEPTH_FLOOR`` at least),
    at most ``MAX_K``."""
    return min(MAX_K, max(DEPTH_FLOOR, files * (shown + 1)))


def search_by_file(search: Callable[[int], Sequence[SearchResult]], files: int, shown: int = 0) -> list[FileHits]:
    """The grouped answer of ``search(k)`` (a chunk search for ``k`` hits, run for ``depth(files, shown)``):
    ``files`` files, each with up to ``shown`` hits (0: ``SHOWN``). The CLI, the resident process and the
    benchmarks' ``hybrid-files`` group so (``answer``); MCP groups the session's ``depth(k)`` hits with ``by_file``."""
    return answer(search, files, grouped=True, shown=shown).groups or []


WEAK_TOP = 10  # the first results whose best similarity tells a weak answer (``render.WEAK_SIMILARITY``)


@dataclass(frozen=True, slots=True)
class Answer:
    """What a search prints: its results (the hits of ``groups`` when grouped by file), and ``best``, the best
    similarity of the first ``WEAK_TOP`` chunks of its ranking, which tells a weak answer the same way whatever
    ``k`` is (the best of the hits shown did not: "weak" at `-k 3` and `-k 5`, not at `-k 8`, the same ranking)."""

    results: list[SearchResult]
    groups: list[FileHits] | None
    best: float


def answer(search: Callable[[int], Sequence[SearchResult]], k: int, grouped: bool = False, shown: int = 0) -> Answer:
    """The answer of ``search(n)`` (a chunk search for ``n`` hits) for ``k`` results, or ``k`` files with up to
    ``shown`` hits each (``grouped``); the CLI and the resident process print it."""
    if grouped:
        shown = shown or SHOWN
        wanted = depth(k, shown)
        ranked = list(search(wanted))
        groups = by_file(ranked, k, shown)
        while len(groups) < k and len(ranked) >= wanted < MAX_K:  # a few files held the depth read: read on
            wanted = min(MAX_K, wanted * DEEPER)
            ranked = list(search(wanted))
            groups = by_file(ranked, k, shown)
        return Answer(hits_of(groups), groups, best_similarity(ranked))
    ranked = list(search(max(k, WEAK_TOP)))
    return Answer(ranked[:k], None, best_similarity(ranked))


def at_best_lines(query: str, results: Sequence[SearchResult], groups: Sequence[FileHits] | None
                  ) -> tuple[list[SearchResult], list[FileHits] | None]:
    """An answer as it is shown (the CLI, the resident process, MCP): its hits at their best lines for the query
    (``results.best_lines``), grouped by file or not (``results`` are then the groups' hits)."""
    from dataclasses import replace

    from codesearch.search.results import best_lines

    if groups is None:
        return best_lines(query, results), None
    shown = [replace(group, hits=tuple(best_lines(query, group.hits))) for group in groups]
    return hits_of(shown), shown


def names_a_hit(query: str, results: Sequence[SearchResult]) -> bool:
    """Whether one of the first ``WEAK_TOP`` hits is named as the query is (``select``, ``join!``, ``parse()``), or
    holds the message the query pastes: such an answer is no weak one, whatever its similarity (tokio's
    `macro_rules! select` came first under "Weak matches only (best similarity 0.30)")."""
    name = query.strip().rstrip("!?()").strip().lower()
    if not name:
        return False
    if any(r.name.lower() == name or r.qualname.lower() == name for r in results[:WEAK_TOP]):
        return True
    if len(name.split()) == 1 and any(r.line for r in results[:WEAK_TOP]):
        return True  # a name that stands alone in a hit (``line``): requests' `CONTENT_TYPE_FORM_URLENCODED = ...`
    # A file whose name the query spells in two words or more (regex-syntax's `general_category.rs`, first for "general
    # category table" under "weak matches only ... the code may not be here": an agent could drop a right answer).
    from codesearch.query import words_of

    words = set(words_of(name))
    if any(len(parts := set(words_of(r.path.rsplit("/", 1)[-1].split(".", 1)[0]))) > 1 and parts <= words
           for r in results[:WEAK_TOP]):
        return True
    # A message pasted from the code that a hit holds as written (``ranking.phrase``: mobx's "Cycle detected in
    # computation" came 2nd under "the code may not be here").
    from codesearch.query import analyse
    from codesearch.ranking import phrase

    pasted = phrase(analyse(query))
    return pasted is not None and any(pasted.search(r.code) for r in results[:WEAK_TOP])


def best_similarity(ranked: Sequence[SearchResult]) -> float:
    """The best similarity of a ranking's first ``WEAK_TOP`` hits: what tells a weak answer (``Answer.best``)."""
    return max((r.score for r in ranked[:WEAK_TOP]), default=0.0)


def hits_of(groups: Sequence[FileHits]) -> list[SearchResult]:
    """Every hit of a grouped answer, file by file (what ``--format grep`` prints)."""
    return [hit for group in groups for hit in group.hits]


def by_file(results: Sequence[SearchResult], files: int, shown: int = SHOWN) -> list[FileHits]:
    """The first ``files`` files of a chunk ranking, in the order of their best chunk, each with its
    first ``shown`` chunks (``shown`` < 1: all of them)."""
    return [FileHits(rank, tuple(chunks))
            for rank, chunks in enumerate(grouped(results, files, lambda r: r.path, shown), 1)]


def grouped(items: Iterable[T], files: int, path_of: Callable[[T], str], shown: int = SHOWN) -> list[list[T]]:
    """``by_file`` for any ranked items with a path (``path_of``): the benchmarks group a peer's ranking so."""
    groups: dict[str, list[T]] = {}
    for item in items:
        path = path_of(item)
        chunks = groups.get(path)
        if chunks is None:
            if len(groups) == files:
                continue
            chunks = groups[path] = []
        if shown < 1 or len(chunks) < shown:
            chunks.append(item)
    return list(groups.values())
