"""Does packing change answers? The plain-English set over its six repositories as one workspace.

Each of the 151 plain-English queries is asked of all six repositories at once (click, commander,
java.net.http, gorilla/mux, rack, monolog; fetched by ``scripts/fetch_query_repos.py``), in two
layouts built from the same files in this process (no Ray): one index per repository, as
``index-many --pack-files 0`` makes them, and one pack holding all six, as ``index-many`` makes
for small repositories. A hit counts when it is in the query's repository and its key is a label.
Prints R@5, MRR and NDCG@10 for each layout, and how often the two top 10s are the same.

    python benchmarks/bench_packs_quality.py [--out benchmarks/results-packs-quality.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from codesearch.cache import cache_root  # noqa: E402
from codesearch.multi import MultiSearcher  # noqa: E402
from codesearch.pack import Mounts  # noqa: E402
from codesearch.pipeline import build_index  # noqa: E402


def scores(ranked: list[tuple[str, str]], repo: str, relevant: set[str]) -> dict[str, float]:
    hits = [r == repo and key in relevant for r, key in ranked]
    first = next((n for n, hit in enumerate(hits, 1) if hit), 0)
    dcg = sum(1 / math.log2(n + 1) for n, hit in enumerate(hits[:10], 1) if hit)
    ideal = sum(1 / math.log2(n + 1) for n in range(1, min(10, len(relevant)) + 1))
    return {"r5": sum(hits[:5]) / len(relevant), "mrr": 1 / first if first else 0.0, "ndcg10": dcg / ideal}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=Path, default=HERE / "queries" / "plain-english.json")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    data = json.loads(args.queries.read_text())
    roots = {name: str(cache_root() / "src" / repo["root"]) for name, repo in data["repos"].items()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, root in roots.items():
            build_index(Path(root), work / "alone" / name)
        pack = work / "packs" / "pack-00001"
        pack.mkdir(parents=True)
        build_index(pack, pack / ".codesearch", mounts=Mounts(roots))
        names = sorted(roots)
        layouts = {
            "one index each": MultiSearcher([work / "alone" / n for n in names], names=names),
            "one pack": MultiSearcher([pack / ".codesearch"], names=["packs/pack-00001"], mounts=[Mounts(roots)]),
        }
        totals: dict[str, dict[str, float]] = {layout: {"r5": 0.0, "mrr": 0.0, "ndcg10": 0.0} for layout in layouts}
        same_top10 = 0
        for query in data["queries"]:
            tops = {}
            for layout, multi in layouts.items():
                results = multi.search(query["query"], 10)
                tops[layout] = [(r.repo, r.key) for r in results]
                for metric, value in scores(tops[layout], query["repo"], set(query["relevant"])).items():
                    totals[layout][metric] += value
            same_top10 += len({tuple(t) for t in tops.values()}) == 1
        for multi in layouts.values():
            multi.close()
    count = len(data["queries"])
    results = {"queries": count, "same_top10": same_top10,
               **{layout: {m: round(v / count, 4) for m, v in t.items()} for layout, t in totals.items()}}
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
