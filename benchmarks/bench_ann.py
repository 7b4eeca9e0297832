"""Approximate FAISS indexes against flat search at 1M real code vectors.

The corpus is a workspace of real repositories (``index-many`` over every package in
``~/.cache/codesearch/src``, unpacked by ``scripts/build_datasets.py``): its chunk vectors,
cut at random to ``--size`` (1,000,000) while keeping every chunk our plain-English
queries are labelled with. The queries are the 151 of ``benchmarks/queries/plain-english.json``
(their six repositories are in the workspace), embedded by the shipped model.

For each index type and search setting: Recall@10 against the labels (the fraction of a
query's relevant chunks in its top 10, averaged; semantic stage only, no lexical
fusion), neighbour recall@10 (overlap with flat search's top 10) and latency per query on
one thread (one query at a time, as a serving replica answers them), next to exact flat
search (float32 and the fp16 flat index we ship).

    codesearch index-many sources.txt --out ~/.cache/codesearch/ann-workspace   # every package (see --sources)
    python benchmarks/bench_ann.py --sources          # writes that sources.txt and runs index-many first
    python benchmarks/bench_ann.py                    # the measurement, ~15 min on 2 cores

Writes ``benchmarks/results-ann.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import faiss
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from codesearch.embed.static import StaticEmbedder  # noqa: E402
from codesearch.manifest import Manifest  # noqa: E402
from codesearch.store.reader import IndexReader  # noqa: E402

CACHE = Path.home() / ".cache" / "codesearch"
SRC = CACHE / "src"
K = 10


def make_workspace(workspace: Path) -> None:
    from codesearch.cluster import connected
    from codesearch.cluster.index_many import index_many

    roots = sorted(p for language in SRC.iterdir() for p in language.iterdir() if p.is_dir())
    with connected("local"):
        report = index_many(roots, workspace)
    print(f"index-many: {len(roots)} repositories, {sum(r.chunks for r in report.repos)} chunks, "
          f"{report.seconds['index']:.0f}s, failed: {[r.name for r in report.failed]}", flush=True)


def load_corpus(workspace: Path, targets_by_root: dict[str, dict[str, str]]) -> tuple[np.ndarray, dict[str, int]]:
    """All chunk vectors of the workspace (float32) and the row of every labelled chunk."""
    manifest = Manifest.load(workspace)
    blocks, labelled, offset = [], {}, 0
    for name, directory in manifest.searchable():
        root = manifest.repos[name].root
        with IndexReader(directory) as reader:
            store = reader.vectors()
            inner = faiss.downcast_index(store.index.index)
            vectors = inner.reconstruct_n(0, store.count).astype(np.float32)
            if root in targets_by_root:
                ids = store.ids()
                row_of = {int(i): n for n, i in enumerate(ids)}
                keys = dict(reader.conn.execute("SELECT id, key FROM chunks").fetchall())
                wanted = targets_by_root[root]
                for chunk_id, key in keys.items():
                    if key in wanted:
                        labelled[wanted[key]] = offset + row_of[int(chunk_id)]
        blocks.append(vectors)
        offset += len(vectors)
    return np.vstack(blocks), labelled


def timed_search(index: faiss.Index, queries: np.ndarray) -> tuple[np.ndarray, float]:
    """Top-K rows for each query, one query at a time; mean milliseconds per query."""
    found = np.zeros((len(queries), K), dtype=np.int64)
    started = time.perf_counter()
    for n, q in enumerate(queries):
        found[n] = index.search(q[None, :], K)[1][0]
    return found, (time.perf_counter() - started) * 1000 / len(queries)


def scores(found: np.ndarray, exact: np.ndarray, relevant: list[list[int]]) -> dict[str, float]:
    label = np.mean([len(set(rows) & set(found[n].tolist())) / len(rows) for n, rows in enumerate(relevant)])
    neighbours = np.mean([len(set(found[n].tolist()) & set(exact[n].tolist())) / K for n in range(len(found))])
    return {"recall_at_10": round(float(label), 4), "neighbour_recall_at_10": round(float(neighbours), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=CACHE / "ann-workspace")
    parser.add_argument("--sources", action="store_true", help="Index every package of the source cache first.")
    parser.add_argument("--queries", type=Path, default=HERE / "queries" / "plain-english.json")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", type=Path, default=HERE / "results-ann.json")
    args = parser.parse_args()
    if args.sources:
        make_workspace(args.workspace)

    spec = json.loads(args.queries.read_text())
    targets_by_root: dict[str, dict[str, str]] = {}
    for name, repo in spec["repos"].items():
        parts = Path(repo["root"]).parts
        package_root, inside = str(SRC / parts[0] / parts[1]), "/".join(parts[2:])
        for query in spec["queries"]:
            if query["repo"] == name:
                for key in query["relevant"]:
                    full = f"{inside}/{key}" if inside else key
                    targets_by_root.setdefault(package_root, {})[full] = f"{name}:{key}"

    started = time.perf_counter()
    corpus, labelled = load_corpus(args.workspace, targets_by_root)
    available = len(corpus)
    queries = [q for q in spec["queries"] if all(f"{q['repo']}:{k}" in labelled for k in q["relevant"])]
    print(f"{available} vectors in the workspace, {len(labelled)} labelled chunks found, "
          f"{len(queries)}/{len(spec['queries'])} queries usable ({time.perf_counter() - started:.0f}s)", flush=True)

    rng = np.random.default_rng(args.seed)
    keep = set(labelled.values())
    others = np.setdiff1d(np.arange(available), np.fromiter(keep, dtype=np.int64))
    chosen = np.sort(np.concatenate([np.fromiter(keep, dtype=np.int64),
                                     rng.choice(others, size=min(args.size, available) - len(keep), replace=False)]))
    corpus = np.ascontiguousarray(corpus[chosen])
    new_row = {int(old): n for n, old in enumerate(chosen)}
    relevant = [[new_row[labelled[f"{q['repo']}:{k}"]] for k in q["relevant"]] for q in queries]
    vectors = StaticEmbedder.default().encode_queries([q["query"] for q in queries]).astype(np.float32)
    dim = corpus.shape[1]
    faiss.omp_set_num_threads(1)
    results: dict = {"machine": {"python": platform.python_version(), "faiss": faiss.__version__},
                     "workspace_vectors": available, "vectors": len(corpus), "dim": dim, "queries": len(queries),
                     "query_file": str(args.queries.relative_to(HERE.parent)), "threads_per_query": 1, "runs": []}

    def record(name: str, index: faiss.Index, build: float, setting: dict, exact: np.ndarray | None = None) -> np.ndarray:
        found, ms = timed_search(index, vectors)
        row = {"index": name, **setting, "build_seconds": round(build, 1), "ms_per_query": round(ms, 3),
               **scores(found, exact if exact is not None else found, relevant)}
        results["runs"].append(row)
        print(row, flush=True)
        return found

    flat = faiss.IndexFlatIP(dim)
    flat.add(corpus)
    exact = record("Flat (float32)", flat, 0.0, {})
    del flat
    clock = time.perf_counter()
    sq = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    sq.add(corpus)
    record("Flat fp16 (shipped)", sq, time.perf_counter() - clock, {}, exact)
    del sq

    faiss.omp_set_num_threads(2)  # building uses both cores; searching is timed on one
    clock = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    hnsw.add(corpus)
    build = time.perf_counter() - clock
    faiss.omp_set_num_threads(1)
    for ef in (16, 32, 64, 128, 256, 512):
        hnsw.hnsw.efSearch = ef
        record("HNSW32,Flat", hnsw, build, {"efSearch": ef}, exact)
    del hnsw

    faiss.omp_set_num_threads(2)
    clock = time.perf_counter()
    nlist = 4096
    quantizer = faiss.IndexFlatIP(dim)
    ivfpq = faiss.IndexIVFPQ(quantizer, dim, nlist, 32, 8, faiss.METRIC_INNER_PRODUCT)
    ivfpq.train(corpus[rng.choice(len(corpus), size=min(len(corpus), 200_000), replace=False)])
    ivfpq.add(corpus)
    refined = faiss.IndexRefineFlat(ivfpq, faiss.swig_ptr(corpus))
    build = time.perf_counter() - clock
    faiss.omp_set_num_threads(1)
    for nprobe in (8, 16, 32, 64, 128):
        ivfpq.nprobe = nprobe
        record("IVF4096,PQ32", ivfpq, build, {"nprobe": nprobe}, exact)
        for factor in (4, 16):
            refined.k_factor = factor
            record(f"IVF4096,PQ32 + refine x{factor}", refined, build, {"nprobe": nprobe}, exact)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    args.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
