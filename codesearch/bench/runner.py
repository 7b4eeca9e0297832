"""Run retrieval benchmarks: every system on the same corpus and queries, in one process.

Protocols:

- ``full``: each language's documents are indexed (real SQLite + FAISS index for the
  embedding systems) and every query is searched against its language's whole corpus.
- ``distractor``: the CodeSearchNet paper's protocol: the true document is ranked
  among 999 others of its language drawn with a fixed seed (all of them if fewer).
"""

from __future__ import annotations

import random
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from codesearch.bench.corpus import Corpus, materialise
from codesearch.bench.datasets import Example
from codesearch.bench.metrics import first_relevant_rank, percentile, rank_metrics
from codesearch.bench.systems import System, make_system
from codesearch.errors import CodeSearchError, MissingExtra, ModelNotFound

PROTOCOLS = ("full", "distractor")
DISTRACTORS = 999
FULL_K = 100  # full-corpus depth: ranks beyond it count as FULL_K + 1 in the mean rank


@dataclass
class SystemResult:
    """Metrics of one system under one protocol, per language and overall."""

    system: str
    protocol: str
    per_language: dict[str, dict[str, float]] = field(default_factory=dict)
    overall: dict[str, float] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)


@dataclass
class BenchResult:
    """Everything one `codesearch bench` run measured."""

    dataset: str
    queries_per_language: dict[str, int]
    corpus_per_language: dict[str, int]
    unparsable: int = 0
    gap_chunks: dict[str, int] = field(default_factory=dict)  # per language: documents that are no definition
    results: list[SystemResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    seed: int = 0


def select(examples: Sequence[Example], max_queries: int | None, corpus_size: int | None, seed: int) -> list[Example]:
    """A seeded sample per language: at most ``corpus_size`` documents (queries come from them)."""
    by_language: dict[str, list[Example]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for example in examples:
        key = (example.language, example.code)
        if key not in seen and example.query:  # the same body twice would make two right answers
            seen.add(key)
            by_language[example.language].append(example)
    rng = random.Random(seed)
    chosen = []
    for language in sorted(by_language):
        pool = by_language[language]
        rng.shuffle(pool)
        size = max(corpus_size or len(pool), max_queries or 0)
        chosen.extend(pool[:size])
    return chosen


def run(
    examples: Sequence[Example],
    systems: Sequence[str],
    protocols: Sequence[str] = PROTOCOLS,
    max_queries: int | None = None,
    corpus_size: int | None = None,
    seed: int = 0,
    model: Path | None = None,
    dataset_name: str = "",
    log: Callable[[str], None] = lambda message: None,
    rerank_model: Path | None = None,
) -> BenchResult:
    """Benchmark ``systems`` on ``examples``.

    :param max_queries: queries per language (the first of each language's sample).
    :param corpus_size: documents per language.
    :raises CodeSearchError: for an unknown protocol or an empty dataset.
    """
    bad = [p for p in protocols if p not in PROTOCOLS]
    if bad:
        raise CodeSearchError(f"unknown protocol {bad[0]!r}; choose from {', '.join(PROTOCOLS)}")
    corpus = select(examples, max_queries, corpus_size, seed)
    if not corpus:
        raise CodeSearchError("the dataset has no usable examples")
    work = Path(tempfile.mkdtemp(prefix="codesearch-bench-"))
    try:
        docs, kept = materialise(corpus, work / "corpus")
        if len(kept) < len(corpus):
            log(f"left out {len(corpus) - len(kept)} of {len(corpus)} examples whose code does not parse to a symbol")
        queries = _queries(kept, docs.paths, max_queries)
        result = BenchResult(
            dataset=dataset_name,
            queries_per_language={lang: len(qs) for lang, qs in queries.items()},
            corpus_per_language={lang: len(t[0]) for lang, t in docs.by_language.items()},
            unparsable=len(corpus) - len(kept),
            gap_chunks=dict(docs.gap_chunks),
            seed=seed,
        )
        for name in systems:
            try:
                system = make_system(name, model, rerank_model)
            except (MissingExtra, ModelNotFound) as exc:
                result.skipped[name] = str(exc)
                log(f"skipping {name}: {exc}")
                continue
            try:
                log(f"{name}: indexing {len(corpus)} documents ...")
                cost = system.build(docs, work)
                if "full" in protocols:
                    log(f"{name}: full-corpus retrieval ...")
                    result.results.append(_full(system, queries, cost))
                if "distractor" in protocols:
                    log(f"{name}: 1-vs-{DISTRACTORS} distractors ...")
                    try:
                        result.results.append(_distractor(system, queries, docs, seed))
                    except NotImplementedError as exc:
                        log(f"{name}: no distractor protocol ({exc})")
            finally:
                system.close()
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _queries(corpus: Sequence[Example], paths: Sequence[str], max_queries: int | None) -> dict[str, list[tuple[str, str]]]:
    """language -> [(query, path of its document)]; every system gets the same queries."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for example, path in zip(corpus, paths):
        if max_queries is None or len(out[example.language]) < max_queries:
            out[example.language].append((within_query_limit(example.query), path))
    return dict(out)


def within_query_limit(query: str) -> str:
    """A query cut at the last word that fits ``MAX_QUERY_CHARS``, which search refuses beyond
    (89 of the Java set's first paragraphs are longer: up to 15,915 characters)."""
    from codesearch.query import MAX_QUERY_CHARS

    if len(query) <= MAX_QUERY_CHARS:
        return query
    cut = query[:MAX_QUERY_CHARS]
    space = cut.rfind(" ")
    return cut[:space] if space > 0 else cut


def _full(system: System, queries: dict[str, list[tuple[str, str]]], cost: dict[str, float]) -> SystemResult:
    result = SystemResult(system.name, "full", cost=dict(cost))
    latencies: list[float] = []
    for language, pairs in sorted(queries.items()):
        positions = []
        for query, target in pairs:
            started = time.perf_counter()
            ranked = system.rank(query, language, FULL_K)
            latencies.append((time.perf_counter() - started) * 1000)
            positions.append(first_relevant_rank(ranked, {target}))
        result.per_language[language] = _metrics(positions)
    result.overall = _macro(result.per_language)
    result.cost["query_p50_ms"] = percentile(latencies, 50)
    result.cost["query_p95_ms"] = percentile(latencies, 95)
    return result


def _distractor(system: System, queries: dict[str, list[tuple[str, str]]], corpus: Corpus, seed: int) -> SystemResult:
    result = SystemResult(system.name, "distractor")
    rng = random.Random(seed)
    for language, pairs in sorted(queries.items()):
        paths, _ = corpus.by_language[language]
        index = {p: i for i, p in enumerate(paths)}
        positions: list[int | None] = []
        for query, target in pairs:
            true = index[target]
            others = [i for i in range(len(paths)) if i != true]
            picked = [true] + rng.sample(others, min(DISTRACTORS, len(others)))
            scores = system.scores(query, language, picked)
            positions.append(int(np.sum(scores[1:] >= scores[0])) + 1)  # ties count against it
        result.per_language[language] = _metrics(positions)
    result.overall = _macro(result.per_language)
    return result


def _metrics(positions: Sequence[int | None]) -> dict[str, float]:
    """Metrics for queries with one relevant document, from its 1-based rank (None: not found)."""
    n = len(positions)
    ranks = [r if r is not None else FULL_K + 1 for r in positions]
    return {
        "queries": n,
        "mrr": sum(rank_metrics(r)["mrr"] for r in positions) / n,
        "ndcg@10": sum(rank_metrics(r)["ndcg@10"] for r in positions) / n,
        "recall@1": sum(r is not None and r <= 1 for r in positions) / n,
        "recall@5": sum(r is not None and r <= 5 for r in positions) / n,
        "recall@10": sum(r is not None and r <= 10 for r in positions) / n,
        "mean_rank": statistics.fmean(ranks),
    }


def _macro(per_language: dict[str, dict[str, float]]) -> dict[str, float]:
    """Mean over languages (each language counts once, as in CodeSearchNet)."""
    keys = [k for k in next(iter(per_language.values())) if k != "queries"]
    overall: dict[str, Any] = {k: statistics.fmean(m[k] for m in per_language.values()) for k in keys}
    overall["queries"] = sum(m["queries"] for m in per_language.values())
    return overall
