"""semble's code-search benchmark format: real short queries, file-level labels, NDCG@10.

A benchmark folder holds ``repos.json`` (each repository's ``name``, ``language``, git
``url``, pinned ``revision`` and optional ``benchmark_root``, the folder that is indexed)
and ``annotations/<name>.json`` (queries with ``relevant`` and ``secondary`` targets and a
``category``: semantic, architecture or symbol). A target is a path relative to the
repository root (or to ``benchmark_root``: a path matches when either ends with the other at
a ``/``, semble's suffix rule), or ``{path, start_line, end_line}``; an annotation without a
category gets semble's inferred one.

Scoring follows semble: relevant and secondary targets all have gain 1; a target is hit
by the first of the top 10 results whose path matches it (and whose lines overlap its
span, if it has one), and counts once; NDCG@10 is averaged over the queries of each
repository, then over repositories. Every query goes through the real index and the
real search path (``Searcher.search``) of the checked-out repository.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesearch.bench.datasets import DatasetError
from codesearch.bench.metrics import percentile

K = 10


@dataclass(frozen=True, slots=True)
class Repo:
    """One benchmark repository; ``root`` is the indexed folder, relative to the checkout ('' = all)."""

    name: str
    language: str
    url: str
    revision: str
    root: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """A relevant file (path relative to the repository root), optionally a line span in it."""

    path: str
    start_line: int | None = None
    end_line: int | None = None


@dataclass(frozen=True, slots=True)
class Query:
    """One query with its targets (relevant and secondary together: both have gain 1), and the one definition
    that answers it where the annotation names one (``function``: our sets' field, not scored by NDCG)."""

    repo: str
    text: str
    category: str
    targets: tuple[Target, ...]
    function: Target | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """What scoring needs of a result: its path relative to the repository root, and its lines."""

    path: str
    start_line: int
    end_line: int


@dataclass
class SembleResult:
    """NDCG@10 of each system: mean over repositories, per repository, language and category."""

    bench: str
    checkouts: dict[str, Any]
    queries: int
    systems: dict[str, dict[str, Any]] = field(default_factory=dict)
    # system -> one record per query: repository, query, category, NDCG@10 and the first ten hits
    # (``path:start-end``; a file's hits in one list when grouped), for reading a run query by query, and the
    # labelled definition's rank (``function_rank``) where the annotation names one
    per_query: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def load_repos(bench: Path) -> list[Repo]:
    """The repositories of a benchmark folder.

    :raises DatasetError: if ``repos.json`` is missing or malformed.
    """
    path = Path(bench) / "repos.json"
    try:
        rows = json.loads(path.read_text())
        return [Repo(r["name"], r["language"], r["url"], r["revision"], (r.get("benchmark_root") or "").strip("/"))
                for r in rows]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DatasetError(f"{path} is not a semble repos.json ({exc})") from exc


def load_queries(bench: Path, repos: Iterable[Repo]) -> list[Query]:
    """Every annotated query of the given repositories.

    :raises DatasetError: if an annotation file is missing or malformed.
    """
    queries = []
    for repo in repos:
        path = Path(bench) / "annotations" / f"{repo.name}.json"
        try:
            for row in json.loads(path.read_text()):
                targets = tuple(_target(t) for t in [*row.get("relevant", []), *row.get("secondary", [])])
                function = _target(row["function"]) if isinstance(row.get("function"), dict) else None
                queries.append(Query(repo.name, row["query"], row.get("category") or infer_category(row["query"]),
                                     targets, function))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"{path} is not a semble annotation file ({exc})") from exc
    return queries


def infer_category(query: str) -> str:
    """semble's category for an annotation without one: one word is a symbol query, a
    question starting with "how" an architecture one, anything else semantic."""
    text = query.strip()
    if " " not in text:
        return "symbol"
    return "architecture" if text.lower().startswith("how ") else "semantic"


def _target(raw: str | dict[str, Any]) -> Target:
    if isinstance(raw, str):
        return Target(raw)
    return Target(raw["path"], raw.get("start_line"), raw.get("end_line"))


def path_matches(path: str, target: str) -> bool:
    """semble's suffix rule: equal, or one path ends with the other at a ``/`` (some labels are
    relative to ``benchmark_root``, e.g. xmonad's ``Core.hs`` for ``src/XMonad/Core.hs``)."""
    path, target = path.replace("\\", "/"), target.replace("\\", "/")
    return path == target or path.endswith(f"/{target}") or target.endswith(f"/{path}")


def _hits_target(hit: Hit | tuple[Hit, ...], target: Target) -> bool:
    """Whether a result hits a target; a result grouped by file (a tuple of its hits) hits what any of them does."""
    if isinstance(hit, tuple):
        return any(_hits_target(one, target) for one in hit)
    if not path_matches(hit.path, target.path):
        return False
    if target.start_line is None or target.end_line is None:
        return True
    return hit.start_line <= target.end_line and target.start_line <= hit.end_line


def function_rank(hits: Sequence[Hit | tuple[Hit, ...]], function: Target) -> int | None:
    """The rank (from 1) of the first of the first ten results whose lines overlap the labelled definition's, in
    its file (a file's group: any of its hits); None when none does."""
    return next((n for n, hit in enumerate(hits[:K], 1) if _hits_target(hit, function)), None)


def ndcg_at_10(hits: Sequence[Hit | tuple[Hit, ...]], targets: Sequence[Target]) -> float:
    """semble's NDCG@10: each target is found at the rank of the first result that hits it.

    A result grouped by file (``hybrid-files``, ``semble-files``: a tuple of one file's hits) is one
    result: it hits a target when one of its hits does.

    The ideal ranking puts first the results that hit the most targets at once: a label of a
    file and another of a function in it are both hit by that function's chunk, so the best
    answer scores 1, not more. semble's labels name distinct files, where this is the usual
    ideal (one target per rank); our large-repository set labels a file and, where one
    function answers, that function too. One result spanning several labelled functions (a
    class) still hits them all at its rank, so the score is capped at 1.
    """
    if not targets:
        return 0.0
    dcg = 0.0
    for target in set(targets):
        rank = next((i for i, hit in enumerate(hits[:K], 1) if _hits_target(hit, target)), None)
        if rank is not None:
            dcg += 1.0 / math.log2(rank + 1)
    return min(1.0, dcg / _ideal_dcg(list(set(targets))))


def _ideal_dcg(targets: list[Target]) -> float:
    """The DCG@10 of the best ranking: at each rank one result hitting as many of the targets
    left as one result can (all in one file, their line spans sharing a line), chosen greedily."""
    left, ideal, rank = sorted(targets, key=lambda t: (t.path, t.start_line or 0)), 0.0, 1
    while left and rank <= K:
        best: list[Target] = []
        for seed in left:
            group = [seed]
            for other in left:
                if other is not seed and _one_hit_can_hit([*group, other]):
                    group.append(other)
            best = max(best, group, key=len)
        ideal += len(best) / math.log2(rank + 1)
        left = [t for t in left if all(t is not b for b in best)]
        rank += 1
    return ideal


def _one_hit_can_hit(targets: Sequence[Target]) -> bool:
    """Whether one result can hit every target: their paths match and their spans share a line."""
    if not all(path_matches(targets[0].path, t.path) for t in targets[1:]):
        return False
    spans = [(t.start_line, t.end_line) for t in targets if t.start_line is not None and t.end_line is not None]
    return not spans or max(s for s, _ in spans) <= min(e for _, e in spans)


# A system answers (repository, query text) with hits, or with files each holding its hits; built per repository.
SearchFn = Callable[[str], Sequence[Hit | tuple[Hit, ...]]]
SystemFactory = Callable[[Repo, Path], SearchFn]  # (repo, its indexed root) -> search function


def run(
    bench: Path,
    checkouts: Path,
    systems: dict[str, SystemFactory],
    *,
    repos: Sequence[str] | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> SembleResult:
    """Score every system on every query of the benchmark.

    :param checkouts: folder with one checkout per repository (``checkouts/<name>``), as made
        by ``scripts/checkout_semble_repos.py``.
    :param repos: only these repositories (default: all).
    :raises DatasetError: if the benchmark or a checkout is missing.
    """
    chosen = [r for r in load_repos(bench) if repos is None or r.name in repos]
    queries = load_queries(bench, chosen)
    record = Path(checkouts) / "checkouts.json"
    result = SembleResult(str(bench), json.loads(record.read_text()) if record.is_file() else {}, len(queries))
    by_repo: dict[str, list[Query]] = defaultdict(list)
    for query in queries:
        by_repo[query.repo].append(query)
    for name, factory in systems.items():
        scores: dict[str, list[tuple[Query, float]]] = defaultdict(list)
        ranks: list[int | None] = []  # the labelled definition's rank, for each query that names one
        latencies: list[float] = []
        for repo in chosen:
            root = Path(checkouts) / repo.name / repo.root
            if not root.is_dir():
                raise DatasetError(f"no checkout of {repo.name} at {root}; run scripts/checkout_semble_repos.py")
            log(f"{name}: {repo.name} ({len(by_repo[repo.name])} queries)")
            search = factory(repo, root)
            for query in by_repo[repo.name]:
                started = time.perf_counter()
                hits = search(query.text)
                latencies.append(time.perf_counter() - started)
                score = ndcg_at_10(hits, query.targets)
                scores[repo.name].append((query, score))
                record = {"repo": repo.name, "query": query.text, "category": query.category, "ndcg@10": score,
                          "hits": [_shown(hit) for hit in hits[:K]]}
                if query.function is not None:
                    rank = function_rank(hits, query.function)
                    record["function_rank"] = rank
                    ranks.append(rank)
                result.per_query.setdefault(name, []).append(record)
        result.systems[name] = _summary(chosen, scores, latencies)
        if ranks:
            result.systems[name]["function"] = _function_summary(ranks)
    return result


def _shown(hit: Hit | tuple[Hit, ...]) -> str | list[str]:
    """A hit as ``path:start-end`` (a file's group of hits as a list of them)."""
    if isinstance(hit, tuple):
        return [f"{h.path}:{h.start_line}-{h.end_line}" for h in hit]
    return f"{hit.path}:{hit.start_line}-{hit.end_line}"


def _summary(repos: Sequence[Repo], scores: dict[str, list[tuple[Query, float]]],
             latencies: list[float]) -> dict[str, Any]:
    per_repo = {r.name: statistics.mean(s for _, s in scores[r.name]) for r in repos if scores[r.name]}
    language_of = {r.name: r.language for r in repos}
    per_language: dict[str, list[float]] = defaultdict(list)
    for repo, value in per_repo.items():
        per_language[language_of[repo]].append(value)
    # Categories: mean over the repositories' per-category means, as for the overall score.
    per_category: dict[str, list[float]] = defaultdict(list)
    for repo in per_repo:
        by_category: dict[str, list[float]] = defaultdict(list)
        for query, value in scores[repo]:
            by_category[query.category].append(value)
        for category, values in by_category.items():
            per_category[category].append(statistics.mean(values))
    return {
        "ndcg@10": statistics.mean(per_repo.values()) if per_repo else 0.0,
        "per_repo": per_repo,
        "per_language": {k: statistics.mean(v) for k, v in sorted(per_language.items())},
        "per_category": {k: statistics.mean(v) for k, v in sorted(per_category.items())},
        "query_ms_p50": percentile(latencies, 50) * 1000,
        "query_ms_p95": percentile(latencies, 95) * 1000,
    }


def _function_summary(ranks: list[int | None]) -> dict[str, float]:
    """Recall@1 and @5 and MRR of the labelled definitions over the queries that name one (``function``): what a
    user who wants that very function gets, beside the file-level NDCG."""
    return {"queries": float(len(ranks)),
            "recall@1": sum(r == 1 for r in ranks) / len(ranks),
            "recall@5": sum(r is not None and r <= 5 for r in ranks) / len(ranks),
            "mrr": sum(1.0 / r for r in ranks if r is not None) / len(ranks)}


def to_markdown(result: SembleResult) -> str:
    """The result as markdown tables (overall, per language, per category, per repository)."""
    names = list(result.systems)
    lines = [f"semble-format benchmark: {result.bench} ({result.queries} queries)", ""]
    sections = [("overall", lambda s: {"NDCG@10": s["ndcg@10"], "p50 ms": s["query_ms_p50"],
                                       "p95 ms": s["query_ms_p95"]}),
                ("per language", lambda s: s["per_language"]), ("per category", lambda s: s["per_category"]),
                ("per repository", lambda s: s["per_repo"])]
    for title, pick in sections:
        columns = list(pick(result.systems[names[0]])) if names else []
        lines += [f"**{title}**", "", "| system | " + " | ".join(columns) + " |",
                  "|---" * (len(columns) + 1) + "|"]
        for name in names:
            values = pick(result.systems[name])
            lines.append(f"| {name} | " + " | ".join(f"{values.get(c, 0.0):.3f}" if "ms" not in c
                                                     else f"{values.get(c, 0.0):.1f}" for c in columns) + " |")
        lines.append("")
    with_functions = [name for name in names if "function" in result.systems[name]]
    if with_functions:
        count = int(result.systems[with_functions[0]]["function"]["queries"])
        lines += [f"**the labelled definition** ({count} queries name the one definition that answers)", "",
                  "| system | Recall@1 | Recall@5 | MRR |", "|---|---|---|---|"]
        for name in with_functions:
            f = result.systems[name]["function"]
            lines.append(f"| {name} | {f['recall@1']:.3f} | {f['recall@5']:.3f} | {f['mrr']:.3f} |")
        lines.append("")
    return "\n".join(lines)


def make_systems(names: Sequence[str], index_cache: Path, model: Path | None = None,
                 rerank_model: Path | None = None) -> dict[str, SystemFactory]:
    """Factories for codesearch configurations (see ``codesearch.bench.configs``), scored by path and lines."""
    from codesearch.bench.configs import searchers

    configs = searchers(names, index_cache, model, rerank_model)

    def factory(name: str) -> SystemFactory:
        def build(repo: Repo, root: Path) -> SearchFn:
            search = configs[name](repo.name, root)
            prefix = f"{repo.root}/" if repo.root else ""

            def hit(r: Any) -> Hit:
                return Hit(prefix + r.path, r.start_line, r.end_line)

            return lambda text: [tuple(map(hit, r.hits)) if hasattr(r, "hits") else hit(r) for r in search(text, K)]

        return build

    return {name: factory(name) for name in names}


PEER = "semble"  # the system name of semble itself in ``codesearch bench --semble -s hybrid,semble``
PEER_FILES = "semble-files"  # semble's ranking grouped by file as ``hybrid-files`` groups ours


def peer_system(model: Path | None = None, by_file: bool = False) -> SystemFactory:
    """semble 0.7 itself (the ``bench`` extra), running *our* static model, scored the same way.

    ``by_file``: its chunk ranking grouped by file exactly as ``codesearch.search.files`` groups
    ours (files in the order of their best chunk, each with its first ``SHOWN`` chunks among the
    first ``depth(K)``), so that ``hybrid-files`` is compared with the same shape.

    Its index cache goes where ``SEMBLE_CACHE_LOCATION`` says (semble's own default otherwise).

    :raises DatasetError: if semble is not installed.
    """
    try:
        from semble import SembleIndex
    except ImportError as exc:
        raise DatasetError("the semble system needs semble: pip install -e '.[bench]'") from exc
    from codesearch.embed.static import default_model_path
    from codesearch.search.files import depth, grouped

    model_path = str(model or default_model_path())

    def build(repo: Repo, root: Path) -> SearchFn:
        index = SembleIndex.from_path(root, model_path=model_path)
        prefix = f"{repo.root}/" if repo.root else ""

        def search(text: str) -> list[Hit | tuple[Hit, ...]]:
            hits = [Hit(prefix + r.chunk.file_path, r.chunk.start_line, r.chunk.end_line)
                    for r in index.search(text, top_k=depth(K) if by_file else K)]
            return [tuple(group) for group in grouped(hits, K, lambda hit: hit.path)] if by_file else list(hits)

        return search

    return build
