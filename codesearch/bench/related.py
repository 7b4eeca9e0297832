"""Code-to-code pairs for ``codesearch related``: Recall@5 and MRR against a BM25 baseline.

A pair set is one JSON file (``benchmarks/queries/related.json``)::

    {"repos": {"click": {"language": "python", "root": "python/click/click-8.1.7/src/click"}, ...},
     "pairs": [{"repo": "click", "category": "implementation",
                "source": {"path": "core.py", "line": 2366},
                "targets": [{"path": "core.py", "line": 2896}], "note": "..."}, ...]}

The source is the definition at ``source`` (as ``codesearch related FILE:LINE`` finds it);
a result hits a target when it is in the target's file, its lines include the target's
line, and it is not a container (a class outline includes its methods' lines).
Recall@5 is the share of a pair's targets in the top 5, out of at most 5 (a base method
with twelve overrides is fully recalled by five of them); MRR is the reciprocal rank of
the first target. Both are averaged over the pairs of a repository, then over repositories.

Systems: ``related`` (the default: the source's vector, the name signal on),
``related-hybrid`` (fused with a lexical ranking of the source's own terms),
``related-no-name`` (no name signal), and ``bm25`` (the lexical ranking alone, the
source's terms as the query).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesearch.bench.datasets import DatasetError
from codesearch.bench.metrics import percentile

K = 10
SYSTEMS: dict[str, dict[str, Any]] = {
    "related": {},
    "related-hybrid": {"hybrid": True},
    "related-no-name": {"names": False},
    "bm25": {"lexical_only": True},
}
CONTAINERS = frozenset({"class", "interface", "module", "trait", "enum", "type"})


@dataclass(frozen=True, slots=True)
class Place:
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class Pair:
    repo: str
    category: str
    source: Place
    targets: tuple[Place, ...]


@dataclass
class RelatedResult:
    path: str
    pairs: int
    systems: dict[str, dict[str, Any]] = field(default_factory=dict)


def load(path: Path) -> tuple[dict[str, dict[str, str]], list[Pair]]:
    """The repositories and pairs of a pair-set file. :raises DatasetError: if missing or malformed."""
    try:
        data = json.loads(Path(path).read_text())
        repos = {name: {"language": r["language"], "root": r["root"]} for name, r in data["repos"].items()}
        pairs = [Pair(p["repo"], p["category"], Place(p["source"]["path"], int(p["source"]["line"])),
                      tuple(Place(t["path"], int(t["line"])) for t in p["targets"])) for p in data["pairs"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DatasetError(f"{path} is not a related-code pair set ({exc})") from exc
    unknown = sorted({p.repo for p in pairs} - set(repos))
    if unknown:
        raise DatasetError(f"{path}: pairs name repositories it does not list: {unknown}")
    return repos, pairs


def hits(results: Sequence[Any], targets: Sequence[Place]) -> list[int]:
    """For each result, the index of the target it hits, or -1."""
    out = []
    for r in results:
        found = -1
        if r.kind not in CONTAINERS:
            for n, t in enumerate(targets):
                if r.local_path == t.path and r.start_line <= t.line <= r.end_line:
                    found = n
                    break
        out.append(found)
    return out


def score(results: Sequence[Any], targets: Sequence[Place]) -> dict[str, float]:
    """Recall@5 (out of at most 5 targets) and the reciprocal rank of the first target."""
    marks = hits(results, targets)
    top5 = {m for m in marks[:5] if m >= 0}
    first = next((rank for rank, m in enumerate(marks, 1) if m >= 0), 0)
    return {"recall@5": len(top5) / min(len(targets), 5), "mrr": 1.0 / first if first else 0.0}


def run(path: Path, sources: Path, index_cache: Path, systems: Sequence[str], *,
        log: Callable[[str], None] = lambda message: None, model: Path | None = None) -> RelatedResult:
    """Index each repository (incrementally, under ``index_cache``) and score every system on every pair.

    :raises DatasetError: for an unknown system or a repository missing under ``sources``.
    """
    from codesearch.embed.static import StaticEmbedder
    from codesearch.errors import BadQuery
    from codesearch.pipeline import build_index
    from codesearch.related import at_line, related
    from codesearch.search import Searcher

    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise DatasetError(f"unknown related system(s) {unknown}; choose from {', '.join(SYSTEMS)}")
    repos, pairs = load(path)
    embedder = StaticEmbedder(model) if model else StaticEmbedder.default()
    result = RelatedResult(str(path), len(pairs))
    per_pair: dict[str, dict[str, list[dict[str, float]]]] = {s: defaultdict(list) for s in systems}
    latencies: dict[str, list[float]] = {s: [] for s in systems}
    for name, repo in repos.items():
        mine = [p for p in pairs if p.repo == name]
        if not mine:
            continue
        root = Path(sources) / repo["root"]
        if not root.is_dir():
            raise DatasetError(f"no checkout of {name} at {root}; run scripts/fetch_query_repos.py")
        log(f"{name}: {len(mine)} pairs")
        build_index(root, Path(index_cache) / name, embedder)
        with Searcher(Path(index_cache) / name, embedder) as searcher:
            for pair in mine:
                try:
                    source = at_line(searcher, root / pair.source.path, pair.source.line)
                except BadQuery as exc:
                    raise DatasetError(f"{name}: {pair.source.path}:{pair.source.line}: {exc}") from exc
                for system in systems:
                    started = time.perf_counter()
                    found = related(searcher, source, K, **SYSTEMS[system])
                    latencies[system].append(time.perf_counter() - started)
                    per_pair[system][name].append({**score(found, pair.targets), "category": pair.category})
    for system in systems:
        result.systems[system] = _summary(per_pair[system], latencies[system])
    return result


def _summary(per_repo_pairs: dict[str, list[dict[str, Any]]], latencies: list[float]) -> dict[str, Any]:
    metrics = ("recall@5", "mrr")
    per_repo = {name: {m: statistics.mean(p[m] for p in rows) for m in metrics}
                for name, rows in sorted(per_repo_pairs.items())}
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rows in per_repo_pairs.values():
        for p in rows:
            by_category[p["category"]].append(p)
    per_category = {c: {**{m: statistics.mean(p[m] for p in rows) for m in metrics}, "pairs": len(rows)}
                    for c, rows in sorted(by_category.items())}
    overall = {m: statistics.mean(v[m] for v in per_repo.values()) for m in metrics}
    return {**overall, "per_repo": per_repo, "per_category": per_category,
            "ms_p50": percentile(latencies, 50) * 1000, "ms_p95": percentile(latencies, 95) * 1000}


def to_markdown(result: RelatedResult) -> str:
    """Overall metrics per system, then Recall@5 per category and per repository."""
    lines = [f"related-code pairs: {result.path} ({result.pairs} pairs)", "",
             "| system | Recall@5 | MRR | p50 ms |", "|---|---|---|---|"]
    for name, s in result.systems.items():
        lines.append(f"| {name} | {s['recall@5']:.3f} | {s['mrr']:.3f} | {s['ms_p50']:.1f} |")
    names = list(result.systems)
    if names:
        first = result.systems[names[0]]
        for title, key in (("category", "per_category"), ("repository", "per_repo")):
            columns = list(first[key])
            header = [f"{c} ({first[key][c]['pairs']})" if "pairs" in first[key][c] else c for c in columns]
            lines += ["", f"**Recall@5 / MRR per {title}**", "", "| system | " + " | ".join(header) + " |",
                      "|---" * (len(columns) + 1) + "|"]
            for name, s in result.systems.items():
                lines.append(f"| {name} | " + " | ".join(
                    f"{s[key][c]['recall@5']:.2f} / {s[key][c]['mrr']:.2f}" for c in columns) + " |")
    return "\n".join(lines)
