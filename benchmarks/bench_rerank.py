"""Rerank latency: the transformer second stage over the top 50, cold and warm.

Indexes a corpus (default: the Python standard library copy made by bench_speed.py, or
any folder given), then times ``Searcher.search(..., rerank=...)`` for a set of queries
twice: the first pass embeds the candidates (cold), the second finds them in the
content-hash cache (warm). Also times whole ``codesearch search --rerank`` CLI calls.
Needs the rerank extra (``pip install -e '.[rerank]'``).

    python benchmarks/bench_rerank.py [--root DIR] [--queries 100]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpora  # noqa: E402

from codesearch.bench.metrics import percentile  # noqa: E402
from codesearch.pipeline import build_index  # noqa: E402
from codesearch.rerank import load_reranker  # noqa: E402
from codesearch.search import Searcher  # noqa: E402
from indexer.docs import first_paragraph  # noqa: E402


def main() -> None:
    """Time cold and warm reranking, and the CLI."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, help="folder to index (default: the Python stdlib copy)")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--candidates", type=int, default=50)
    args = parser.parse_args()
    root = args.root or corpora.python_stdlib()
    work = Path(tempfile.mkdtemp(prefix="codesearch-rerank-"))
    try:
        index_dir = work / "index"
        report = build_index(root, index_dir)
        docs = [r[0] for r in sqlite3.connect(index_dir / "index.db").execute("SELECT doc FROM chunks WHERE doc != ''")]
        queries = random.Random(7).sample([first_paragraph(d) for d in docs if len(d.split()) >= 4], args.queries)
        started = time.perf_counter()
        reranker = load_reranker(None, index_dir)
        load_s = time.perf_counter() - started
        with Searcher(index_dir) as searcher:
            first_stage = [_time(lambda q=q: searcher.search(q, 10)) for q in queries]
            cold = [_time(lambda q=q: searcher.search(q, 10, rerank=reranker, candidates=args.candidates)) for q in queries]
            warm = [_time(lambda q=q: searcher.search(q, 10, rerank=reranker, candidates=args.candidates)) for q in queries]
        walls = []
        for query in queries[:3]:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "codesearch.cli", "search", query, "--index-dir", str(index_dir),
                            "--rerank", "--format", "grep"], check=True, capture_output=True)
            walls.append(time.perf_counter() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rerank_warm = [w - f for w, f in zip(warm, first_stage)]
    print(f"corpus: {root} ({report.chunks_total} functions); {len(queries)} queries, top {args.candidates} reranked")  # noqa: T201
    print(f"reranker load: {load_s:.2f} s")  # noqa: T201
    print(f"first stage only (hybrid): p50 {percentile(first_stage, 50):.1f} ms, p95 {percentile(first_stage, 95):.1f} ms")  # noqa: T201
    print(f"with rerank, cold cache: p50 {percentile(cold, 50):.1f} ms, p95 {percentile(cold, 95):.1f} ms")  # noqa: T201
    print(f"with rerank, warm cache: p50 {percentile(warm, 50):.1f} ms, p95 {percentile(warm, 95):.1f} ms "  # noqa: T201
          f"(rerank share p50 {percentile(rerank_warm, 50):.1f} ms)")
    print(f"`codesearch search --rerank` CLI wall: median {statistics.median(walls):.2f} s over {len(walls)} calls")  # noqa: T201


def _time(fn) -> float:  # noqa: ANN001
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()
