"""The approximate vector index (``codesearch.store.ivf``) against the exhaustive one, at up to 1M vectors.

Corpus: the chunk vectors of every index in ``~/.cache/codesearch/semble-index`` and
``queryset-index`` (the repositories of semble's dev set and of the plain-English set), padded
to ``--size`` with real code: 30-line windows of the source files under
``~/.cache/codesearch/src`` (every language), embedded as documents by the shipped model
(``--prepare`` writes them to ``~/.cache/codesearch/ann-bench``; about 5 minutes on 2 busy cores).

Queries: the 151 plain-English queries and semble's dev queries (those whose repository is
indexed), embedded by the shipped model. For the shipped flat index and the IVF index the
writer builds (``ivf.fitted``; then at other ``nprobe``), one query at a time on one thread:

- neighbour recall@10 and @100: overlap with the flat index's top 10 / 100 (the first stage
  asks for 110);
- label quality of the vector stage alone: plain-English Recall@10 (labelled chunks in the top
  10) and semble-dev file hits@10 (target files among the top 10's paths);
- p50 / p95 milliseconds per query;
- filtered search (``allowed``): one language's chunks, and a random 0.5% of the ids;
- build (training and adding), an incremental update (1% removed, 1% added), save and load
  times (also in a new process, as a one-shot search pays it), file size and peak RSS;
- the memory of converting a flat store to IVF in a process of its own (the padding vectors alone).

    python benchmarks/bench_ann.py --prepare           # the padding vectors, once
    python benchmarks/bench_ann.py --sources           # only: index-many over the source cache, for bench_serve
    nice python benchmarks/bench_ann.py                # the measurement (1M vectors), ~8 min on 2 busy cores
    nice python benchmarks/bench_ann.py --size 200000 -o benchmarks/results-ann-200k.json   # at the threshold

Writes ``benchmarks/results-ann.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from codesearch.bench import semble  # noqa: E402
from codesearch.embed.static import StaticEmbedder  # noqa: E402
from codesearch.store import ivf  # noqa: E402
from codesearch.store.layout import KEY_SQL  # noqa: E402
from codesearch.store.vectors import VectorStore  # noqa: E402

CACHE = Path.home() / ".cache" / "codesearch"
OUT = CACHE / "ann-bench"
SRC = CACHE / "src"
SEMBLE_DEV = HERE.parent.parent / "shared" / "bench" / "semble-dev"
SOURCE_SUFFIXES = {".py", ".go", ".java", ".js", ".ts", ".php", ".rb", ".rs", ".c", ".h", ".cc", ".cpp", ".hpp",
                   ".lua", ".sh", ".bash", ".scala", ".kt", ".swift", ".cs", ".hs", ".ex", ".zig", ".pl", ".m"}
DEPTH = 110  # the first stage's depth (CANDIDATES + slack)


def prepare(size: int) -> None:
    """Embed 30-line windows of the source cache's files (language by language) as padding vectors."""
    model = StaticEmbedder.default()
    languages = sorted(p.name for p in SRC.iterdir() if p.is_dir())
    vectors = np.zeros((size, model.dim), dtype=np.float16)
    labels = np.zeros(size, dtype=np.int16)
    texts: list[str] = []
    owners: list[int] = []
    n, started = 0, time.perf_counter()

    def flush() -> None:
        nonlocal n
        m = min(len(texts), size - n)
        vectors[n : n + m] = model.encode_documents(texts[:m])
        labels[n : n + m] = owners[:m]
        n += m
        texts.clear()
        owners.clear()
        print(f"{n:,} windows, {time.perf_counter() - started:.0f}s", flush=True)

    for number, language in enumerate(languages):
        for path in sorted((SRC / language).rglob("*")):
            if n >= size:
                break
            if path.suffix not in SOURCE_SUFFIXES or path.is_symlink() or not path.is_file():
                continue
            try:
                lines = path.read_text(errors="replace").splitlines()[:3000]
            except OSError:
                continue
            for start in range(0, len(lines), 30):
                body = "\n".join(lines[start : start + 30])
                if len(body.strip()) > 40:
                    texts.append(f"{path.name}\n{body[:4000]}")
                    owners.append(number)
            if len(texts) >= 4096:
                flush()
    if texts and n < size:
        flush()
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(OUT / "padding-vectors.npy", vectors[:n])
    np.save(OUT / "padding-languages.npy", labels[:n])
    (OUT / "padding-languages.txt").write_text("\n".join(languages) + "\n")


def make_workspace(workspace: Path) -> None:
    """``index-many`` over every package of the source cache (the workspace ``bench_serve.py`` reads)."""
    from codesearch.cluster import connected
    from codesearch.cluster.index_many import index_many

    roots = sorted(p for language in SRC.iterdir() for p in language.iterdir() if p.is_dir())
    with connected("local"):
        report = index_many(roots, workspace)
    print(f"index-many: {len(roots)} repositories, {sum(r.chunks for r in report.repos)} chunks, "
          f"{report.seconds['index']:.0f}s, failed: {[r.name for r in report.failed]}", flush=True)


def real_chunks() -> tuple[np.ndarray, list[str], list[tuple[str, str, str]]]:
    """Every chunk vector of the cached benchmark indexes (float16), its language and (index, key, path)."""
    blocks, languages, where = [], [], []
    for directory in sorted([*(CACHE / "semble-index").iterdir(), *(CACHE / "queryset-index").iterdir()]):
        if not (directory / "index.db").is_file():
            continue
        conn = sqlite3.connect(f"file:{directory / 'index.db'}?mode=ro", uri=True)
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        rows = {i: (k, p, lang) for i, k, p, lang in conn.execute(f"SELECT id, {KEY_SQL}, path, language FROM chunks")}
        conn.close()
        path = directory / f"vectors-{meta['generation']}.faiss"
        store = VectorStore.load(path, int(meta["dim"]), int(meta["count"]))
        codes = faiss.vector_to_array(faiss.downcast_index(store.index.index).codes)
        blocks.append(codes.view(np.float16).reshape(store.count, store.dim))
        for chunk_id in store.ids().tolist():
            key, file, language = rows[chunk_id]
            languages.append(language)
            where.append((f"{directory.parent.name}/{directory.name}", key, file))
    return np.vstack(blocks), languages, where


def query_sets(where: list[tuple[str, str, str]]) -> tuple[list[str], list[tuple[str, object]]]:
    """The query texts and, for each, how its label quality is scored: ("chunks", rows) for a
    plain-English query, ("files", (index, targets)) for a semble-dev one."""
    row_of = {(index, key): row for row, (index, key, _) in enumerate(where)}
    spec = json.loads((HERE / "queries" / "plain-english.json").read_text())
    texts, labels = [], []
    for query in spec["queries"]:
        rows = [row_of.get((f"queryset-index/{query['repo']}", key)) for key in query["relevant"]]
        if all(r is not None for r in rows):
            texts.append(query["query"])
            labels.append(("chunks", rows))
    indexed = {index for index, _, _ in where}
    repos = [r for r in semble.load_repos(SEMBLE_DEV) if f"semble-index/{r.name}" in indexed]
    for query in semble.load_queries(SEMBLE_DEV, repos):
        texts.append(query.text)
        labels.append(("files", (f"semble-index/{query.repo}", query.targets)))
    return texts, labels


def label_quality(found: np.ndarray, labels: list[tuple[str, object]], where: list[tuple[str, str, str]]
                  ) -> dict[str, float]:
    """Plain-English Recall@10 and semble-dev target files hit in the top 10 (vector stage only)."""
    chunk_scores, file_scores = [], []
    for row, (kind, label) in zip(found[:, :10].tolist(), labels, strict=True):
        if kind == "chunks":
            chunk_scores.append(len(set(label) & set(row)) / len(label))  # type: ignore[arg-type]
        else:
            index, targets = label  # type: ignore[misc]
            paths = [where[r][2] for r in row if r >= 0 and where[r][0] == index]
            file_scores.append(np.mean([any(semble.path_matches(p, t.path) for p in paths) for t in targets]))
    return {"plain_english_recall_at_10": round(float(np.mean(chunk_scores)), 4),
            "semble_dev_file_hits_at_10": round(float(np.mean(file_scores)), 4)}


def timed(store: VectorStore, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
          ) -> tuple[np.ndarray, dict[str, float]]:
    """Top-k ids of each query, one query at a time, and p50/p95 milliseconds."""
    found = np.full((len(queries), k), -1, dtype=np.int64)
    times = []
    for n, query in enumerate(queries):
        started = time.perf_counter()
        found[n] = store.search(query[None, :], k, allowed)[1][0]
        times.append((time.perf_counter() - started) * 1000)
    return found, {"p50_ms": round(float(np.percentile(times, 50)), 3),
                   "p95_ms": round(float(np.percentile(times, 95)), 3)}


def overlap(found: np.ndarray, exact: np.ndarray, k: int) -> float:
    """Mean fraction of the exact top-k (ignoring padding) that the approximate top-k holds."""
    scores = []
    for a, b in zip(found[:, :k].tolist(), exact[:, :k].tolist(), strict=True):
        truth = {i for i in b if i >= 0}
        if truth:
            scores.append(len(truth & set(a)) / len(truth))
    return round(float(np.mean(scores)), 4)


def fresh_load_seconds(path: Path, dim: int, count: int, checksum: str, *, mmap: bool) -> float:
    """Median seconds of ``VectorStore.load`` in a new process (as a one-shot ``codesearch search`` pays it)."""
    code = ("import sys, time; from pathlib import Path; from codesearch.store.vectors import VectorStore; "
            "t = time.perf_counter(); VectorStore.load(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), "
            "sys.argv[4], mmap=sys.argv[5] == '1'); print(time.perf_counter() - t)")
    runs = [float(subprocess.run([sys.executable, "-c", code, str(path), str(dim), str(count), checksum,
                                  "1" if mmap else "0"], capture_output=True, text=True, check=True,
                                 cwd=HERE.parent).stdout) for _ in range(3)]
    return round(float(np.median(runs)), 3)


def conversion_memory(size: int) -> None:
    """Print, as JSON, the resident memory of a process that holds a flat store of ``size`` padding
    vectors and converts it (``ivf.fitted``, what the writer does at the threshold): before, peak, after."""
    def status_mb(field: str) -> float:  # VmRSS, VmHWM (ru_maxrss would include the parent's, from fork)
        line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(field + ":"))
        return int(line.split()[1]) / 1024

    padding = np.load(OUT / "padding-vectors.npy", mmap_mode="r")
    flat = VectorStore.empty(padding.shape[1])
    for start in range(0, size, 1 << 14):
        block = np.asarray(padding[start : min(size, start + (1 << 14))], dtype=np.float32)
        flat.add(np.arange(start, start + len(block), dtype=np.int64), block)
    del padding
    before, peak_before = status_mb("VmRSS"), status_mb("VmHWM")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM starts again from here (Linux)
    ivf.ANN_THRESHOLD = 0
    started = time.perf_counter()
    store = ivf.fitted(flat)
    seconds = time.perf_counter() - started
    print(json.dumps({"vectors": store.count, "seconds": round(seconds, 1), "rss_before_mb": round(before),
                      "peak_rss_before_mb": round(peak_before), "rss_after_mb": round(status_mb("VmRSS")),
                      "peak_rss_mb": round(status_mb("VmHWM"))}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prepare", action="store_true", help="Embed the padding vectors first.")
    parser.add_argument("--sources", action="store_true",
                        help="Only build the workspace of every package of the source cache (for bench_serve.py).")
    parser.add_argument("--workspace", type=Path, default=CACHE / "ann-workspace")
    parser.add_argument("--conversion-memory", type=int, metavar="N", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("-o", "--output", type=Path, default=HERE / "results-ann.json")
    args = parser.parse_args()
    if args.sources:
        make_workspace(args.workspace)
        return
    if args.conversion_memory:
        conversion_memory(args.conversion_memory)
        return
    if args.prepare:
        prepare(args.size)

    real, languages, where = real_chunks()
    padding = np.load(OUT / "padding-vectors.npy", mmap_mode="r")
    names = (OUT / "padding-languages.txt").read_text().split()
    padding_languages = np.load(OUT / "padding-languages.npy")
    extra = min(len(padding), args.size - len(real))
    held_out = padding[extra : extra + args.size // 100]  # the update's new vectors
    corpus = np.vstack([real, padding[:extra]])
    languages += [names[i] for i in padding_languages[:extra]]
    where += [("padding", "", "")] * extra
    texts, labels = query_sets(where)
    queries = StaticEmbedder.default().encode_queries(texts).astype(np.float32)
    ids = np.arange(len(corpus), dtype=np.int64)
    print(f"{len(real):,} real chunk vectors + {extra:,} padding, {len(texts)} queries", flush=True)

    faiss.omp_set_num_threads(1)  # searching is timed on one thread, one query at a time
    flat = VectorStore.empty(corpus.shape[1])
    for start in range(0, len(corpus), 1 << 16):
        flat.add(ids[start : start + (1 << 16)], corpus[start : start + (1 << 16)].astype(np.float32))
    results: dict = {"machine": {"python": platform.python_version(), "faiss": faiss.__version__},
                     "vectors": len(corpus), "real_chunk_vectors": len(real), "dim": corpus.shape[1],
                     "queries": len(texts), "threads_per_query": 1, "runs": [], "filtered": [], "update": {}}
    exact, flat_times = timed(flat, queries, DEPTH)
    baseline = {"index": "Flat fp16 (shipped)", **flat_times, **label_quality(exact, labels, where)}
    results["runs"].append(baseline)
    print(baseline, flush=True)

    faiss.omp_set_num_threads(2)  # training and adding use both cores
    previous = ivf.ANN_THRESHOLD
    ivf.ANN_THRESHOLD = 0
    started = time.perf_counter()
    store = ivf.fitted(flat)
    results["build_seconds"] = round(time.perf_counter() - started, 1)
    ivf.ANN_THRESHOLD = previous
    assert isinstance(store, ivf.IvfVectorStore)
    default_nprobe = store.nprobe
    results.update(nlist=store.nlist, default_nprobe=default_nprobe)
    # The previous layout, for comparison in the same run: float16 codes in the same lists.
    float16 = ivf.IvfVectorStore.untrained(store.centroids(), default_nprobe, store.trained_for)
    for start in range(0, len(corpus), 1 << 16):
        float16.add(ids[start : start + (1 << 16)], corpus[start : start + (1 << 16)].astype(np.float32))
    faiss.omp_set_num_threads(1)
    sweeps = [(store, sorted({16, 32, 64, 128, 256, 512, 768, 1024, default_nprobe})),
              (float16, sorted({256, 512, 768, 1024, default_nprobe}))]
    for swept, nprobes in sweeps:
        codes = "int8" if swept.magic == ivf.MAGIC else "fp16"
        for nprobe in nprobes:
            swept.index.nprobe = nprobe
            found, times = timed(swept, queries, DEPTH)
            row = {"index": f"IVF{swept.nlist},{codes}", "nprobe": nprobe, **times,
                   "neighbour_recall_at_10": overlap(found, exact, 10),
                   "neighbour_recall_at_100": overlap(found, exact, 100),
                   "flat_time_ratio": round(times["p50_ms"] / flat_times["p50_ms"], 4),
                   **label_quality(found, labels, where)}
            results["runs"].append(row)
            print(row, flush=True)
    del float16
    store.index.nprobe = default_nprobe

    language_array = np.array(languages)
    filters = {"language=python": ids[language_array == "python"], "language=go": ids[language_array == "go"],
               "language=rust": ids[language_array == "rust"],
               "random 0.5%": np.sort(np.random.default_rng(1).choice(ids, size=len(ids) // 200, replace=False))}
    for name, allowed in filters.items():
        truth, flat_filtered = timed(flat, queries, DEPTH, allowed)
        found, times = timed(store, queries, DEPTH, allowed)
        row = {"filter": name, "allowed": len(allowed), "flat": flat_filtered, "ivf": times,
               "neighbour_recall_at_10": overlap(found, truth, 10),
               "neighbour_recall_at_100": overlap(found, truth, 100)}
        results["filtered"].append(row)
        print(row, flush=True)

    rng = np.random.default_rng(2)
    removed = rng.choice(ids, size=len(held_out), replace=False)
    added = np.arange(len(corpus), len(corpus) + len(held_out), dtype=np.int64)
    started = time.perf_counter()
    store.remove(removed.tolist())
    store.add(added, np.asarray(held_out, dtype=np.float32))
    update_seconds = time.perf_counter() - started
    started = time.perf_counter()
    flat.remove(removed.tolist())
    flat.add(added, np.asarray(held_out, dtype=np.float32))
    flat_update_seconds = time.perf_counter() - started
    exact, _ = timed(flat, queries, DEPTH)
    found, times = timed(store, queries, DEPTH)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vectors-1.faiss"
        started = time.perf_counter()
        store.save(path)
        save_seconds = time.perf_counter() - started
        checksum = store.id_checksum()
        started = time.perf_counter()
        loaded = VectorStore.load(path, store.dim, store.count, checksum)
        load_seconds = time.perf_counter() - started
        flat_path = Path(tmp) / "vectors-2.faiss"
        flat.save(flat_path)
        started = time.perf_counter()
        VectorStore.load(flat_path, flat.dim, flat.count, checksum)
        flat_load_seconds = time.perf_counter() - started
        results["update"] = {
            "removed": len(removed), "added": len(added), "ivf_seconds": round(update_seconds, 2),
            "flat_seconds": round(flat_update_seconds, 2), **times,
            "neighbour_recall_at_10": overlap(found, exact, 10),
            "neighbour_recall_at_100": overlap(found, exact, 100),
            "ivf_save_seconds": round(save_seconds, 2), "ivf_load_seconds": round(load_seconds, 2),
            "flat_load_seconds": round(flat_load_seconds, 2),
            "ivf_load_seconds_new_process": fresh_load_seconds(path, store.dim, store.count, checksum, mmap=True),
            "flat_mapped_load_seconds_new_process": fresh_load_seconds(flat_path, flat.dim, flat.count, checksum,
                                                                       mmap=True),
            "ivf_file_bytes": path.stat().st_size,
            "flat_file_bytes": flat_path.stat().st_size,
            "loaded_equal": bool((loaded.search(queries[:20], 10)[1] == store.search(queries[:20], 10)[1]).all()),
        }
    print(results["update"], flush=True)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    del flat, store, loaded
    size = min(len(padding), args.size)
    results["conversion_memory"] = json.loads(subprocess.run(
        [sys.executable, __file__, "--conversion-memory", str(size)], capture_output=True, text=True, check=True
    ).stdout)
    print(results["conversion_memory"], flush=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
