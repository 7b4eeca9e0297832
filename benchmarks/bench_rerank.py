"""Rerank latency and deep-index throughput of the shipped reranker (ONNX int8, onnxruntime, no torch).

Indexes a corpus (default: the Python standard library copy made by ``bench_speed.py``, or
any folder given with ``--root``) and measures, against the first stage run in the same
process:

- in-process search with the rerank of the top ``RERANK_CANDIDATES`` (20), with a cold
  vector cache (every candidate embedded) and a warm one (every candidate cached, as after
  ``index --deep``); and, for reference, a cold rerank of the top 50;
- ``codesearch search`` CLI calls without the rerank, with it on an empty rerank cache, and
  with it on a deep index (every candidate cached);
- deep-index throughput (``codesearch.deep.deep_index``) on a sample of chunks.

    python benchmarks/bench_rerank.py [--root DIR] [--queries 50] [--rerank-model DIR] [--output results.json]
"""

from __future__ import annotations

import argparse
import json
import os
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
from codesearch.rerank import CACHE_NAME, load_reranker  # noqa: E402
from codesearch.search import RERANK_CANDIDATES, Searcher, rerank_text  # noqa: E402
from codesearch.store.codec import unpack_code
from indexer.docs import first_paragraph  # noqa: E402

CLI = str(Path(sys.executable).parent / "codesearch")


def main() -> None:
    """Time the first stage, cold and warm reranking, the CLI, and deep indexing."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, help="folder to index (default: the Python stdlib copy)")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--candidates", type=int, default=RERANK_CANDIDATES)
    parser.add_argument("--deep-sample", type=int, default=2000, help="chunks embedded to time deep indexing")
    parser.add_argument("--rerank-model", type=Path, help="an exported reranker (default: the shipped one)")
    parser.add_argument("--output", type=Path, help="write the numbers as JSON here")
    args = parser.parse_args()
    model = ["--rerank-model", str(args.rerank_model)] if args.rerank_model else []
    root = args.root or corpora.python_stdlib()
    work = Path(tempfile.mkdtemp(prefix="codesearch-rerank-"))
    try:
        index_dir = work / "index"
        report = build_index(root, index_dir)
        conn = sqlite3.connect(index_dir / "index.db")
        docs = [r[0] for r in conn.execute("SELECT doc FROM chunks WHERE doc != ''")]
        queries = random.Random(7).sample([first_paragraph(d) for d in docs if len(d.split()) >= 4], args.queries)
        started = time.perf_counter()
        reranker = load_reranker(args.rerank_model, index_dir)
        load_s = time.perf_counter() - started
        with Searcher(index_dir) as searcher:
            first_stage = [_time(lambda q=q: searcher.search(q, 10)) for q in queries]
            cold = [_time(lambda q=q: searcher.search(q, 10, rerank=reranker, candidates=args.candidates))
                    for q in queries]
            warm = [_time(lambda q=q: searcher.search(q, 10, rerank=reranker, candidates=args.candidates))
                    for q in queries]
            reranker.cache = None  # every candidate embedded again
            cold50 = [_time(lambda q=q: searcher.search(q, 10, rerank=reranker, candidates=50)) for q in queries]
            reranker = load_reranker(args.rerank_model, index_dir)
        cli_plain, cli_cold, cli_deep = [], [], []
        for query in queries[:5]:
            (index_dir / CACHE_NAME).unlink(missing_ok=True)
            for suffix in ("-wal", "-shm"):
                Path(f"{index_dir / CACHE_NAME}{suffix}").unlink(missing_ok=True)
            cli_plain.append(_cli(query, index_dir, []))
            cli_cold.append(_cli(query, index_dir, ["--rerank", *model]))
            cli_deep.append(_cli(query, index_dir, ["--rerank", *model]))  # the cold call left its candidates cached
        rows = [(*r[:5], unpack_code(r[5]))
                for r in conn.execute("SELECT content_hash, kind, qualname, signature, doc, code_z FROM chunks")]
        sample = random.Random(1).sample(rows, min(args.deep_sample, len(rows)))
        started = time.perf_counter()
        reranker.encode_documents([rerank_text(*row[1:]) for row in sample])
        deep_per_s = len(sample) / (time.perf_counter() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = {
        "corpus": str(root), "chunks": report.chunks_total, "queries": len(queries), "candidates": args.candidates,
        "cores": os.cpu_count(), "reranker": reranker.name, "reranker_load_s": round(load_s, 3),
        "first_stage_ms": _summary(first_stage), "rerank_cold_ms": _summary(cold), "rerank_warm_ms": _summary(warm),
        "rerank_cold_50_candidates_ms": _summary(cold50),
        "rerank_cold_share_p50_ms": round(percentile([c - f for c, f in zip(cold, first_stage)], 50), 1),
        "cli_first_stage_s": round(statistics.median(cli_plain), 3),
        "cli_empty_cache_s": round(statistics.median(cli_cold), 3), "cli_deep_index_s": round(statistics.median(cli_deep), 3),
        "deep_index_chunks_per_s": round(deep_per_s, 1),
    }
    print(json.dumps(results, indent=2))  # noqa: T201
    if args.output:
        args.output.write_text(json.dumps(results, indent=2) + "\n")


def _cli(query: str, index_dir: Path, extra: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([CLI, "search", query, "--index-dir", str(index_dir), "--no-resident", "--format", "grep", *extra],
                   check=True, capture_output=True)
    return time.perf_counter() - started


def _summary(times: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(times, 50), 1), "p95": round(percentile(times, 95), 1)}


def _time(fn) -> float:  # noqa: ANN001
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()
