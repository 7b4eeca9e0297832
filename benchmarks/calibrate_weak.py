"""Calibrate the weak-match note: which best similarity separates a useful answer from noise.

The text output says "Weak matches only" when the best cosine similarity among the hits
is below ``codesearch.render.WEAK_SIMILARITY``. This script measures, on the development
sets only (semble's dev split in our languages and our plain-English set):

- **answered**: queries run on their own repository whose top 10 holds a labelled target.
  Flagging one of these is a false alarm.
- **mismatched**: every query run on another repository of the same set (the next one in
  the list), where the labelled code does not exist, as "open a database connection" on a
  repository without a database. Flagging these is the point of the note.

For each threshold it prints the share of each that the note would flag, and picks the
highest threshold whose false-alarm rate stays at or under ``--max-false-alarms``.

    python scripts/checkout_semble_repos.py ../shared/bench/semble-dev --mirror /work/.mirror
    python scripts/fetch_query_repos.py
    python benchmarks/calibrate_weak.py --semble ../shared/bench/semble-dev \
        --queries benchmarks/queries/plain-english.json --out benchmarks/results-weak.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codesearch.bench import queryset, semble  # noqa: E402
from codesearch.cache import cache_root  # noqa: E402
from codesearch.pipeline import build_index  # noqa: E402
from codesearch.search import SearchResult, Searcher  # noqa: E402

K = 10
OURS = {"python", "javascript", "typescript", "java", "php", "ruby", "go"}


def best_similarity(results: Sequence[SearchResult]) -> float:
    return max((r.score for r in results), default=0.0)


def measure(repos: list[tuple[str, Path]], queries: list[tuple[str, str, Callable[[Sequence[SearchResult]], bool]]],
            cache: Path, log: Callable[[str], None]) -> tuple[list[float], list[float]]:
    """(best similarity of answered queries on their own repository, of every query on the next repository)."""
    searchers: dict[str, Searcher] = {}
    for name, root in repos:
        index_dir = cache / name
        build_index(root, index_dir)
        searchers[name] = Searcher(index_dir)
        log(f"indexed {name}")
    names = [name for name, _ in repos]
    answered, mismatched = [], []
    for repo, text, is_relevant in queries:
        own = searchers[repo].search(text, k=K)
        if is_relevant(own):
            answered.append(best_similarity(own))
        other = names[(names.index(repo) + 1) % len(names)]
        mismatched.append(best_similarity(searchers[other].search(text, k=K)))
    for searcher in searchers.values():
        searcher.close()
    return answered, mismatched


def semble_set(bench: Path, checkouts: Path) -> tuple[list[tuple[str, Path]], list]:
    chosen = [r for r in semble.load_repos(bench) if r.language in OURS]
    roots = [(f"semble-{r.name}", checkouts / r.name / r.root) for r in chosen]
    queries = []
    for q in semble.load_queries(bench, chosen):
        prefix = next(r.root for r in chosen if r.name == q.repo)
        prefix = f"{prefix}/" if prefix else ""

        def relevant(results: Sequence[SearchResult], q: semble.Query = q, prefix: str = prefix) -> bool:
            hits = [semble.Hit(prefix + r.path, r.start_line, r.end_line) for r in results]
            return semble.ndcg_at_10(hits, q.targets) > 0

        queries.append((f"semble-{q.repo}", q.text, relevant))
    return roots, queries


def plain_set(path: Path, sources: Path) -> tuple[list[tuple[str, Path]], list]:
    repos, labelled = queryset.load(path)
    roots = [(f"plain-{r.name}", sources / r.root) for r in repos]
    queries = [(f"plain-{q.repo}", q.text,
                lambda results, q=q: bool({f"{r.path}::{r.qualname}" for r in results} & q.relevant))
               for q in labelled]
    return roots, queries


def rates(answered: list[float], mismatched: list[float], threshold: float) -> tuple[float, float]:
    """(share of answered queries flagged, share of mismatched queries flagged)."""
    return (sum(s < threshold for s in answered) / max(len(answered), 1),
            sum(s < threshold for s in mismatched) / max(len(mismatched), 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--semble", type=Path, required=True, help="semble-format dev benchmark folder")
    parser.add_argument("--checkouts", type=Path, default=cache_root() / "semble-repos")
    parser.add_argument("--queries", type=Path, required=True, help="plain-English query set")
    parser.add_argument("--sources", type=Path, default=cache_root() / "src")
    parser.add_argument("--index-cache", type=Path, default=cache_root() / "weak-indexes")
    parser.add_argument("--max-false-alarms", type=float, default=0.05)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    log = lambda message: print(message, file=sys.stderr)  # noqa: E731
    answered: list[float] = []
    mismatched: list[float] = []
    per_set = {}
    for label, (roots, queries) in (("semble-dev", semble_set(args.semble, args.checkouts)),
                                    ("plain-english", plain_set(args.queries, args.sources))):
        a, m = measure(roots, queries, args.index_cache, log)
        per_set[label] = {"answered": len(a), "mismatched": len(m), "scores": (a, m)}
        answered += a
        mismatched += m
    thresholds = [round(0.20 + 0.01 * i, 2) for i in range(41)]
    table = {t: rates(answered, mismatched, t) for t in thresholds}
    chosen = max((t for t in thresholds if table[t][0] <= args.max_false_alarms), default=thresholds[0])
    print("| threshold | answered flagged (false alarms) | mismatched flagged |")
    print("|---|---|---|")
    for t in thresholds:
        mark = " (chosen)" if t == chosen else ""
        print(f"| {t:.2f}{mark} | {table[t][0]:.3f} | {table[t][1]:.3f} |")
    print()
    print("| set | queries answered / mismatched | at 0.30: false alarms, caught | "
          f"at {chosen:.2f}: false alarms, caught |")
    print("|---|---|---|---|")
    for label, info in per_set.items():
        a, m = info.pop("scores")
        old, new = rates(a, m, 0.30), rates(a, m, chosen)
        info.update({"at_0.30": old, f"at_{chosen:.2f}": new})
        print(f"| {label} | {len(a)} / {len(m)} | {old[0]:.3f}, {old[1]:.3f} | {new[0]:.3f}, {new[1]:.3f} |")
    result = {"sets": per_set, "answered": len(answered), "mismatched": len(mismatched), "chosen": chosen,
              "max_false_alarms": args.max_false_alarms,
              "rates": {f"{t:.2f}": {"answered_flagged": a, "mismatched_flagged": m} for t, (a, m) in table.items()}}
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
