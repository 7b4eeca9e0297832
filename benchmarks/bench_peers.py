"""Side by side with the peers, on one real repository per language, in one run.

    python benchmarks/bench_peers.py [-o benchmarks/results-peers.json] [--queries 30] [--rounds 5]

Repositories (fetched from the registries with ``scripts/build_datasets.py``'s helpers into
the dataset cache; nothing is committed): flask (PyPI sdist), axios (npm), the JDK's
java.net.http module, gin (Debian golang), rack (Debian ruby), monolog (Debian php).

Systems, each on the same folders and the same queries (the first paragraphs of 30 doc
comments drawn from the repository, seed 3):

- **codesearch**: ``build_index`` cold (a new index directory) and warm (unchanged
  files), then ``Searcher.search`` (hybrid, the default) in-process, and the
  ``codesearch search`` CLI;
- **semble** (PyPI), with *our* model directory (its default model is on a hub that cannot
  be reached here): ``SembleIndex.from_path`` cold (empty cache folder) and warm (its
  cache, as its CLI leaves it), ``search`` in-process, and its CLI;
- **bm25s**: index build and retrieval over the same chunk texts as ours;
- **ripgrep** (Debian's ``ripgrep``): ``rg -i -l`` for the query's longest word, per call.

In-process searches of codesearch and semble are timed side by side: each query is asked of one and
then of the other (the first of the two alternating), ``--rounds`` times over the queries, so that the
load of this shared machine falls on both alike. Both models are loaded before anything is timed.
Ratios are codesearch / semble (lower is
better for us).
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from build_datasets import debian_packages, jdk_modules, npm_packages, python_packages  # noqa: E402

from codesearch.bench.metrics import percentile  # noqa: E402
from codesearch.cache import cache_root  # noqa: E402
from codesearch.embed.static import StaticEmbedder, default_model_path  # noqa: E402
from codesearch.pipeline import build_index  # noqa: E402
from codesearch.search import Searcher  # noqa: E402
from codesearch.store.codec import unpack_code  # noqa: E402
from indexer.docs import first_paragraph  # noqa: E402

BIN = Path(sys.executable).parent
CLI_CALLS = 5


def repositories() -> list[tuple[str, str, Path]]:
    """(name, language, folder) of the six repositories, fetched into the cache if missing."""
    cache = cache_root()
    fetched = [
        ("flask", "python", python_packages(["flask==3.0.3"], cache)),
        ("axios", "javascript", npm_packages(["axios@1.7.7"], cache)),
        ("java.net.http", "java", jdk_modules(["java.net.http"], cache)),
        ("gin", "go", debian_packages("go", ["golang-github-gin-gonic-gin-dev"], cache)),
        ("rack", "ruby", debian_packages("ruby", ["ruby-rack"], cache)),
        ("monolog", "php", debian_packages("php", ["php-monolog"], cache)),
    ]
    return [(name, language, found[0][3]) for name, language, found in fetched]


def _ms(times: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(times, 50) * 1000, 2), "p95": round(percentile(times, 95) * 1000, 2)}


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def ours(root: Path, work: Path, queries: list[str], embedder: StaticEmbedder) -> dict[str, Any]:
    """Index times, chunks and CLI time; the index stays in ``work`` for ``side_by_side``."""
    index_dir = work / "codesearch-index"
    cold = _timed(lambda: build_index(root, index_dir, embedder))
    warm = _timed(lambda: build_index(root, index_dir, embedder))
    with Searcher(index_dir, embedder) as searcher:
        chunks = searcher.reader.meta.count
    cli = [_timed(lambda q=q: subprocess.run([str(BIN / "codesearch"), "search", q, str(root), "--index-dir",
                                               str(index_dir), "-k", "10", "--format", "json"],
                                              capture_output=True, check=True)) for q in queries[:CLI_CALLS]]
    return {"chunks": chunks, "cold_index_ms": round(cold * 1000, 1), "warm_index_ms": round(warm * 1000, 1),
            "cli_ms_p50": round(statistics.median(cli) * 1000, 1)}


def semble_side(root: Path, work: Path, queries: list[str], model_dir: str) -> tuple[dict[str, Any], Any]:
    """Index times, chunks and CLI time, and the index for ``side_by_side``."""
    from semble import SembleIndex
    from semble.cache import save_index_to_cache

    os.environ["SEMBLE_CACHE_LOCATION"] = str(work / "semble-cache")
    os.environ["SEMBLE_MODEL_NAME"] = model_dir
    holder: dict[str, Any] = {}
    cold = _timed(lambda: holder.update(index=SembleIndex.from_path(root, model_path=model_dir)))
    index = holder["index"]
    save_index_to_cache(index, str(root))
    warm = _timed(lambda: SembleIndex.from_path(root, model_path=model_dir))
    env = {**os.environ}
    cli = [_timed(lambda q=q: subprocess.run([str(BIN / "semble"), "search", q, str(root), "-k", "10"],
                                              capture_output=True, check=True, env=env)) for q in queries[:CLI_CALLS]]
    return ({"chunks": len(index.chunks), "cold_index_ms": round(cold * 1000, 1),
             "warm_index_ms": round(warm * 1000, 1), "cli_ms_p50": round(statistics.median(cli) * 1000, 1)}, index)


def side_by_side(index_dir: Path, embedder: StaticEmbedder, semble_index: Any, queries: list[str],
                 rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    """In-process query times of codesearch and semble (p50 / p95 ms), each query asked of one and then the
    other, the first of the two alternating, ``rounds`` times over the queries: a burst of load on this shared
    machine falls on both alike (one system's pass after the other's once put semble's gin at 14 ms, 3 ms in
    the run before)."""
    mine: list[float] = []
    theirs: list[float] = []
    with Searcher(index_dir, embedder) as searcher:
        searcher.search(queries[0], 10)
        semble_index.search(queries[0], 10)
        for n in range(rounds):
            for i, q in enumerate(queries):
                pair = [(mine, lambda q=q: searcher.search(q, 10)), (theirs, lambda q=q: semble_index.search(q, 10))]
                for times, run in pair if (n + i) % 2 == 0 else pair[::-1]:
                    times.append(_timed(run))
    return _ms(mine), _ms(theirs)


def bm25s_side(texts: list[str], queries: list[str]) -> dict[str, Any]:
    import bm25s

    holder: dict[str, Any] = {}

    def build() -> None:
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)
        holder["r"] = retriever

    cold = _timed(build)
    retriever = holder["r"]
    k = min(10, len(texts))
    times = [_timed(lambda q=q: retriever.retrieve(bm25s.tokenize([q], show_progress=False), k=k,
                                                   show_progress=False)) for q in queries]
    return {"chunks": len(texts), "cold_index_ms": round(cold * 1000, 1), "query_ms": _ms(times)}


def ripgrep_side(root: Path, queries: list[str]) -> dict[str, Any]:
    rg = shutil.which("rg")
    if rg is None:
        return {"skipped": "ripgrep is not installed (apt-get install ripgrep)"}
    times = [_timed(lambda q=q: subprocess.run([rg, "-i", "-l", "-F", max(q.split(), key=len), str(root)],
                                                capture_output=True)) for q in queries]
    return {"query_ms": _ms(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5, help="times each query is asked of each system")
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args()
    embedder = StaticEmbedder.default()
    model_dir = str(default_model_path())
    try:
        from semble.index.dense import load_model
    except ImportError:
        sys.exit("semble is not installed: pip install -e '.[bench]'")
    load_model(model_dir)  # both models loaded before anything is timed
    results: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "repos": {}}
    for name, language, root in repositories():
        print(f"{name} ({language}): {root}", file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            probe = work / "probe"
            build_index(root, probe, embedder)
            rows = [(*r[:3], unpack_code(r[3])) for r in sqlite3.connect(probe / "index.db").execute(
                "SELECT qualname, signature, doc, code_z FROM chunks ORDER BY id")]
            docs = sorted({first_paragraph(r[2]) for r in rows if len(r[2].split()) >= 4})
            queries = random.Random(3).sample(docs, min(args.queries, len(docs)))
            texts = ["\n".join(r) for r in rows]
            mine = ours(root, work, queries, embedder)
            theirs, semble_index = semble_side(root, work, queries, model_dir)
            mine["query_ms"], theirs["query_ms"] = side_by_side(work / "codesearch-index", embedder, semble_index,
                                                                queries, args.rounds)
            entry = {"language": language, "root": str(root), "queries": len(queries), "rounds": args.rounds,
                     "codesearch": mine, "semble": theirs,
                     "bm25s": bm25s_side(texts, queries), "ripgrep": ripgrep_side(root, queries)}
            c, s = entry["codesearch"], entry["semble"]
            entry["ratio_to_semble"] = {
                "cold_index": round(c["cold_index_ms"] / s["cold_index_ms"], 2),
                "warm_index": round(c["warm_index_ms"] / s["warm_index_ms"], 2),
                "query_p50": round(c["query_ms"]["p50"] / s["query_ms"]["p50"], 2),
                "cli": round(c["cli_ms_p50"] / s["cli_ms_p50"], 2),
            }
            results["repos"][name] = entry
    print(json.dumps(results, indent=2))
    print(to_markdown(results), file=sys.stderr)
    if args.output:
        args.output.write_text(json.dumps(results, indent=2) + "\n")


def to_markdown(results: dict[str, Any]) -> str:
    lines = ["| repository | system | chunks | cold index ms | warm index ms | query p50 / p95 ms | CLI ms |",
             "|---|---|---|---|---|---|---|"]
    for name, entry in results["repos"].items():
        for system in ("codesearch", "semble", "bm25s", "ripgrep"):
            r = entry[system]
            if "skipped" in r:
                continue
            q = r["query_ms"]
            lines.append(f"| {name} | {system} | {r.get('chunks', '')} | {r.get('cold_index_ms', '')} | "
                         f"{r.get('warm_index_ms', '')} | {q['p50']} / {q['p95']} | {r.get('cli_ms_p50', '')} |")
        ratio = entry["ratio_to_semble"]
        lines.append(f"| {name} | **ours / semble** | | {ratio['cold_index']}x | {ratio['warm_index']}x | "
                     f"{ratio['query_p50']}x | {ratio['cli']}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
