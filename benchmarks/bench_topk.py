"""Hybrid search latency on one large index: the lexical stage's sampled top-k (``postings._holding_top``)
against sorting every chunk a query scores (the previous way), in alternating rounds of the same process.

    python benchmarks/bench_topk.py INDEX_DIR [--rounds 2] [--out FILE]

The queries are 100 first paragraphs of the index's doc comments (as ``bench_scaling.py`` picks them);
the first 30 are also checked to give the same top 10 both ways. Build the index first, e.g.
``codesearch index ~/.cache/codesearch/corpora/monorepo --index-dir DIR`` (``corpora.monorepo()``).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scaling import first_paragraph  # noqa: E402

from codesearch.search import Searcher  # noqa: E402
from codesearch.store import postings  # noqa: E402


def every_scored(scores: np.ndarray, k: int) -> np.ndarray:
    """The previous way: every chunk with a score is a candidate."""
    return np.flatnonzero(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = sqlite3.connect(args.index_dir / "index.db").execute("SELECT doc FROM chunks WHERE doc != ''").fetchall()
    docs = sorted({first_paragraph(r[0]) for r in rows if len(r[0].split()) >= 4})
    queries = random.Random(7).sample(docs, min(100, len(docs)))
    sampled = postings._holding_top
    ways: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {"every scored chunk": every_scored,
                                                               "sampled threshold": sampled}
    timings: dict[str, list[dict[str, float]]] = {name: [] for name in ways}
    try:
        with Searcher(args.index_dir) as searcher:
            def top10(way: Callable[[np.ndarray, int], np.ndarray]) -> list[list[tuple[str, int]]]:
                postings._holding_top = way
                return [[(r.path, r.start_line) for r in searcher.search(q, 10)] for q in queries[:30]]

            same = top10(every_scored) == top10(sampled)
            for _ in range(args.rounds):
                for name, way in ways.items():
                    postings._holding_top = way
                    times = []
                    for q in queries:
                        started = time.perf_counter()
                        searcher.search(q, 10)
                        times.append((time.perf_counter() - started) * 1000)
                    times.sort()
                    timings[name].append({"p50": round(statistics.median(times), 2),
                                          "p95": round(times[int(len(times) * 0.95) - 1], 2)})
                    print(name, timings[name][-1], file=sys.stderr)
            chunks = searcher.reader.meta.count
    finally:
        postings._holding_top = sampled
    result: dict[str, Any] = {"index": str(args.index_dir), "chunks": chunks, "queries": len(queries),
                              "same_top10_on_30_queries": same, "hybrid_ms_by_round": timings}
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
