"""Hand-written plain-English queries with function-level targets, over real repositories.

A query set is one JSON file::

    {"repos": {"click": {"language": "python", "root": "python/click/click-8.1.7/src/click"}, ...},
     "queries": [{"repo": "click", "query": "ask the user a yes or no question",
                  "relevant": ["termui.py::confirm"]}, ...]}

``root`` is relative to a source folder (``--sources``, default the dataset cache where
``scripts/fetch_query_repos.py`` unpacks the repositories). A target is
``path::qualname`` relative to that root; overloads share their qualified name, so any
of them counts. Metrics: Recall@5 (the share of a query's targets in the top 5), MRR
and NDCG@10 with binary gains, averaged over queries per repository, then over
repositories.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesearch.bench.datasets import DatasetError
from codesearch.bench.metrics import percentile

K = 10


@dataclass(frozen=True, slots=True)
class QueryRepo:
    """A repository of the set: its language and its folder under the sources."""

    name: str
    language: str
    root: str


@dataclass(frozen=True, slots=True)
class LabelledQuery:
    """One query and its relevant ``path::qualname`` keys."""

    repo: str
    text: str
    relevant: frozenset[str]


@dataclass
class QuerySetResult:
    """Metrics per system: overall, per repository and per language."""

    path: str
    queries: int
    systems: dict[str, dict[str, Any]] = field(default_factory=dict)
    # system -> one record per query: repository, query, its scores and the ranked keys of the first ten
    per_query: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def load(path: Path) -> tuple[list[QueryRepo], list[LabelledQuery]]:
    """The repositories and queries of a query-set file.

    :raises DatasetError: if the file is missing or malformed.
    """
    try:
        data = json.loads(Path(path).read_text())
        repos = [QueryRepo(name, r["language"], r["root"]) for name, r in data["repos"].items()]
        known = {r.name for r in repos}
        queries = [LabelledQuery(q["repo"], q["query"], frozenset(q["relevant"])) for q in data["queries"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DatasetError(f"{path} is not a query set ({exc})") from exc
    unknown = sorted({q.repo for q in queries} - known)
    if unknown:
        raise DatasetError(f"{path}: queries name repositories it does not list: {unknown}")
    return repos, queries


def run(
    path: Path,
    sources: Path,
    systems: dict[str, Callable[[str, Path], Callable[[str, int], list[Any]]]],
    *,
    log: Callable[[str], None] = lambda message: None,
) -> QuerySetResult:
    """Score every named search configuration (``codesearch.bench.configs``) on every query.

    :raises DatasetError: if a repository is missing under ``sources``.
    """
    repos, queries = load(path)
    result = QuerySetResult(str(path), len(queries))
    for name, factory in systems.items():
        per_query: dict[str, list[dict[str, float]]] = defaultdict(list)
        latencies: list[float] = []
        for repo in repos:
            root = Path(sources) / repo.root
            if not root.is_dir():
                raise DatasetError(f"no checkout of {repo.name} at {root}; run scripts/fetch_query_repos.py")
            mine = [q for q in queries if q.repo == repo.name]
            log(f"{name}: {repo.name} ({len(mine)} queries)")
            search = factory(repo.name, root)
            for query in mine:
                started = time.perf_counter()
                ranked = ranked_keys(search(query.text, K))
                latencies.append(time.perf_counter() - started)
                scored = scores(ranked, query.relevant)
                per_query[repo.name].append(scored)
                result.per_query.setdefault(name, []).append(
                    {"repo": repo.name, "query": query.text, **scored, "relevant": sorted(query.relevant),
                     "ranked": [sorted(keys) for keys in ranked[:K]]})
        result.systems[name] = _summary(repos, per_query, latencies)
    return result


def ranked_keys(results: Sequence[Any]) -> list[frozenset[str]]:
    """The ``path::qualname`` keys at each rank: one per chunk (overloads: the first), or each file's
    hits' keys for results grouped by file (``hybrid-files``)."""
    if results and hasattr(results[0], "hits"):
        return [frozenset(f"{r.path}::{r.qualname}" for r in group.hits) for group in results]
    return [frozenset({key}) for key in dict.fromkeys(f"{r.path}::{r.qualname}" for r in results)]


def scores(ranked: Sequence[Set[str]], relevant: Set[str]) -> dict[str, float]:
    """Recall@5, reciprocal rank and NDCG@10 of ranked key sets; with one key per rank these are
    ``metrics.recall_at``, ``reciprocal_rank`` and ``ndcg_at``. A rank holding several relevant keys (a
    file's hits) counts each at that rank; NDCG is then capped at 1."""
    first: dict[str, int] = {}
    for rank, keys in enumerate(ranked, 1):
        for key in keys & relevant:
            first.setdefault(key, rank)
    if not relevant:
        return {"recall@5": 0.0, "mrr": 0.0, "ndcg@10": 0.0}
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), K) + 1))
    return {"recall@5": sum(rank <= 5 for rank in first.values()) / len(relevant),
            "mrr": 1.0 / min(first.values()) if first else 0.0,
            "ndcg@10": min(1.0, sum(1.0 / math.log2(rank + 1) for rank in first.values() if rank <= K) / ideal)}


def _summary(repos: Sequence[QueryRepo], per_query: dict[str, list[dict[str, float]]],
             latencies: list[float]) -> dict[str, Any]:
    metrics = ("recall@5", "mrr", "ndcg@10")
    per_repo = {r.name: {m: statistics.mean(q[m] for q in per_query[r.name]) for m in metrics}
                for r in repos if per_query[r.name]}
    overall = {m: statistics.mean(v[m] for v in per_repo.values()) for m in metrics}
    language = {r.name: r.language for r in repos}
    return {**overall, "per_repo": per_repo,
            "per_language": {language[name]: values for name, values in sorted(per_repo.items())},
            "query_ms_p50": percentile(latencies, 50) * 1000, "query_ms_p95": percentile(latencies, 95) * 1000}


def to_markdown(result: QuerySetResult) -> str:
    """Overall metrics per system, then Recall@5 per repository."""
    lines = [f"plain-English query set: {result.path} ({result.queries} queries)", "",
             "| system | Recall@5 | MRR | NDCG@10 | p50 ms |", "|---|---|---|---|---|"]
    for name, s in result.systems.items():
        lines.append(f"| {name} | {s['recall@5']:.3f} | {s['mrr']:.3f} | {s['ndcg@10']:.3f} | {s['query_ms_p50']:.1f} |")
    names = list(result.systems)
    if names:
        repos = list(result.systems[names[0]]["per_repo"])
        lines += ["", "**Recall@5 per repository**", "", "| system | " + " | ".join(repos) + " |",
                  "|---" * (len(repos) + 1) + "|"]
        for name, s in result.systems.items():
            lines.append(f"| {name} | " + " | ".join(f"{s['per_repo'][r]['recall@5']:.3f}" for r in repos) + " |")
    return "\n".join(lines)
