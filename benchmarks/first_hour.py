"""Everyday queries and identifier lookups over the Python stdlib and the JDK's java.base.

- precision@5 of ten everyday queries (``benchmarks/queries/everyday.json``, written with
  their labels before measuring): the share of the top five hits that are relevant;
- identifier Recall@1: names of functions, methods and classes drawn at random (seeded)
  from both indexes, each searched alone; a hit when the first result defines that name.

Uses only ``build_index`` and ``Searcher(index_dir).search(query, k)``, so the same script
measures an older checkout too (put it first on ``PYTHONPATH``) for before/after figures.

    python benchmarks/first_hour.py --names 60 [--output benchmarks/results-first-hour.json]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import random
import re
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpora  # noqa: E402

from codesearch.pipeline import build_index  # noqa: E402
from codesearch.search import Searcher  # noqa: E402

QUERIES = Path(__file__).resolve().parent / "queries" / "everyday.json"


def relevant(hit: object, labels: list[dict[str, str]]) -> bool:
    path, qualname = getattr(hit, "path"), getattr(hit, "qualname")
    return any(fnmatch.fnmatchcase(path, label["path"]) and re.search(label["qualname"], qualname) for label in labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=60, help="identifier queries, half from each corpus")
    parser.add_argument("--index-cache", type=Path, help="where to keep the two indexes (default: the corpora cache)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    spec = json.loads(QUERIES.read_text())
    corpora.python_stdlib()
    corpora.jdk()
    base = corpora.cache_dir() / "speed"
    cache = args.index_cache or corpora.cache_dir() / "first-hour-index"
    searchers = {}
    for name, folder in spec["corpora"].items():
        index_dir = cache / name
        build_index(base / folder, index_dir)
        searchers[name] = Searcher(index_dir)
    per_query = []
    for q in spec["queries"]:
        hits = searchers[q["corpus"]].search(q["query"], 5)
        good = [relevant(h, q["relevant"]) for h in hits[:5]]
        per_query.append({"query": q["query"], "precision@5": sum(good) / 5,
                          "top5": [f"{h.path}::{h.qualname}" + (" *" if g else "") for h, g in zip(hits, good)]})
    rng = random.Random(11)
    names: list[tuple[str, str]] = []
    for name in spec["corpora"]:
        conn = sqlite3.connect(cache / name / "index.db")
        rows = sorted({r[0] for r in conn.execute(
            "SELECT name FROM chunks WHERE kind IN ('function', 'method', 'class', 'interface', 'enum')")
            if len(r[0]) >= 6 and not r[0].startswith("_") and r[0].isidentifier()})
        names += [(name, n) for n in rng.sample(rows, args.names // 2)]
    found = []
    for corpus, name in names:
        top = searchers[corpus].search(name, 1)
        found.append({"corpus": corpus, "name": name, "hit": bool(top) and top[0].name == name,
                      "top1": f"{top[0].path}::{top[0].qualname}" if top else ""})
    dictreader = searchers["python-stdlib"].search("DictReader", 1)
    results = {
        "precision@5": round(sum(q["precision@5"] for q in per_query) / len(per_query), 3),
        "identifier_recall@1": round(sum(f["hit"] for f in found) / len(found), 3),
        "identifier_queries": len(found),
        "DictReader_top1": f"{dictreader[0].path}::{dictreader[0].qualname}" if dictreader else "",
        "queries": per_query,
        "misses": [f for f in found if not f["hit"]],
    }
    print(json.dumps(results, indent=2))  # noqa: T201
    if args.output:
        args.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
