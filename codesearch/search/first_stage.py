"""The first stage on one open index: the vector ranking, the lexical ranking and the definitions
of the names the query mentions, within the filters; the hits stay a ``Shard`` for the pool."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from codesearch.freshness import FileChecks, unchanged_places
from codesearch.pack import Mounts
from codesearch.query import QueryInfo
from codesearch.ranking import in_scopes, scoped_names
from codesearch.search.options import DEFINITIONS, SearchOptions
from codesearch.search.parse import ParsedQuery
from codesearch.store.postings import QueryScores

if TYPE_CHECKING:
    from codesearch.search.searcher import Searcher

# From this many vectors the vector search runs in a thread beside the lexical stage (FAISS releases the GIL).
# Search p50, one after the other -> side by side: 970k chunks 19.6 -> 15.8 ms, 300k 14.2-16.3 -> 13.0-14.0,
# 20k about 0.25 ms less; at 1.8k the thread costs 0.35 ms more than it saves.
PARALLEL_FROM = 10_000


@dataclass(frozen=True)
class Plan:
    """A parsed query on one index: the chunk ids the filters allow (None: all) and the language."""

    parsed: ParsedQuery
    language: str | None
    allowed: np.ndarray | None

    @property
    def query(self) -> str:
        return self.parsed.text

    @property
    def info(self) -> QueryInfo:
        return self.parsed.info

    @property
    def vector(self) -> np.ndarray:
        return self.parsed.vector

    @property
    def terms(self) -> np.ndarray:
        return self.parsed.terms

    @property
    def allowed_set(self) -> set[int] | None:
        return None if self.allowed is None else set(self.allowed.tolist())


@dataclass
class IndexHits:
    """One open index's first-stage hits for a query; reads rows, files and vectors as the pool asks
    (a ``codesearch.search.pool.Shard``)."""

    searcher: Searcher
    vector: np.ndarray  # the query's vector, (dim,)
    static: list[tuple[int, float]]
    lexical: list[tuple[int, float]]
    defined: list[int]
    repo: str = ""
    completed: dict[str, dict[int, float]] = field(default_factory=dict)  # see ``completed``

    @property
    def root(self) -> str:
        return str(self.searcher.root)

    def chunks(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        return self.searcher.reader.chunks(list(ids)) if ids else {}

    def similarities(self, ids: Sequence[int]) -> list[float]:
        return [float(s) for s in self.searcher.vectors.similarity(list(ids), self.vector)] if ids else []

    def current_row(self, row: dict[str, Any], checks: FileChecks) -> tuple[dict[str, Any] | None, bool]:
        return self.searcher.current_row(row, checks)

    def origin(self, path: str) -> tuple[str, str, str]:
        return origin(self.searcher.mounts, self.repo, self.root, path)

    def identical(self, hashes: Sequence[str]) -> dict[str, list[str]]:
        same = self.searcher.reader.same_content(list(hashes))
        return unchanged_places(self.searcher, self.searcher.mounts, self.root, same) if same else same

    def vectors(self, ids: Sequence[int]) -> Any:
        return self.searcher.vectors.vectors(list(ids))

    def file_similarities(self, paths: Sequence[str]) -> dict[str, float]:
        return file_similarities(self.searcher, paths, self.vector)

    def definition_lines(self, keys: Sequence[str]) -> dict[str, tuple[int, int]]:
        return self.searcher.reader.key_spans(list(keys)) if keys else {}


def origin(mounts: Mounts, repo: str, root: str, path: str) -> tuple[str, str, str]:
    """``(repository name, root, path in it)`` of a stored path: in a pack (``mounts``), its repository's."""
    found = mounts.split(path) if mounts else None
    return (repo, root, path) if found is None else found


def first_stage(searcher: Searcher, plan: Plan, options: SearchOptions, *, vector: bool = True) -> IndexHits:
    """The vector ranking (``vector``) and, when ``options.hybrid``, the lexical one, ``options.depth``
    deep with raw scores; and (when the definition signal is on) the chunks defining a name the query mentions.
    """
    depth = options.depth
    search = (lambda: searcher.vectors.search(plan.vector, depth, plan.allowed)) if vector else None
    found: dict[str, Any] = {}
    thread = None
    if search is not None and options.hybrid and searcher.vectors.count >= PARALLEL_FROM:
        thread = threading.Thread(target=run_into, args=(found, search), daemon=True)
        thread.start()
    try:
        scored = searcher.lexical.score(plan.terms) if options.hybrid else None
        lexical = scored.top(depth, plan.allowed) if scored is not None else []
        defined = definitions(searcher, plan) if options.signals.definition else []
    finally:
        if thread is not None:
            thread.join()
    if thread is not None and "error" in found:
        raise found["error"]
    static: list[tuple[int, float]] = []
    if search is not None:
        scores, ids = found["value"] if thread is not None else search()
        static = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]
    hits = IndexHits(searcher, plan.vector[0], static, lexical, defined)
    hits.completed = completed(hits, scored) if options.complete else {}
    return hits


def completed(hits: IndexHits, scored: QueryScores | None) -> dict[str, dict[int, float]]:
    """The stage scores the rankings leave out: for each candidate (either ranking's, or a definition)
    that one ranking did not reach, that ranking's raw score of it (``static``: its cosine with the
    query; ``lexical``: its BM25 score), so that the fusion weighs every candidate on both.

    A class whose doc says what the query says can be the lexical ranking's best and miss the
    vector ranking's first hundred (its vector also holds its fields): counted as 0 there, it fell
    below every method that both rankings found.
    """
    out: dict[str, dict[int, float]] = {"static": {}, "lexical": {}}
    candidates = list(dict.fromkeys([i for i, _ in hits.static] + [i for i, _ in hits.lexical] + hits.defined))
    if hits.static:
        reached = {i for i, _ in hits.static}
        missing = [i for i in candidates if i not in reached]
        out["static"] = dict(zip(missing, hits.similarities(missing)))
    if hits.lexical and scored is not None:
        reached = {i for i, _ in hits.lexical}
        missing = [i for i in candidates if i not in reached]
        out["lexical"] = dict(zip(missing, scored.of(missing)))
    return out


def definitions(searcher: Searcher, plan: Plan) -> list[int]:
    """Chunks that define a name the query mentions or spells (within the filters), at most ``DEFINITIONS``."""
    names = [*plan.info.identifiers, *plan.info.spelled_lookup]
    if not names:
        return []
    scoped = scoped_names(plan.info)  # `Session.request`: that scope's chunks first, of a name many share
    found = searcher.reader.ids_named(names, plan.language, limit=DEFINITIONS,
                                      first=(lambda qualname: in_scopes(qualname, scoped)) if scoped else None)
    allowed = plan.allowed_set
    return [i for i in found if allowed is None or i in allowed]


def file_similarities(searcher: Searcher, paths: Sequence[str], vector: np.ndarray) -> dict[str, float]:
    """The cosine of the query's ``vector`` with the topic of each file of ``paths`` that has one (the
    normalised mean of its chunks' vectors, stored by the writer: ``files.topic``), in [-1, 1]."""
    topics = searcher.reader.file_topics(list(dict.fromkeys(paths))) if paths else {}
    if not topics:
        return {}
    cosines = np.vstack(list(topics.values())).astype(np.float32) @ np.asarray(vector, dtype=np.float32).reshape(-1)
    return {path: float(c) for path, c in zip(topics, np.clip(np.nan_to_num(cosines), -1.0, 1.0))}


def run_into(box: dict[str, Any], fn: Callable[[], Any]) -> None:
    """``box["value"] = fn()``, or ``box["error"]`` the exception it raised (a thread's result)."""
    try:
        box["value"] = fn()
    except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits for it
        box["error"] = exc
