"""Many small repositories in one workspace: query cost with packs against one index per repository.

Simulates N small repositories by cutting a corpus of real code (default: ``corpora.monorepo``,
the JDK, Python and Go standard libraries and part of Linux) into N disjoint repositories of
consecutive files (so each is a piece of one package's tree), hard-linked into
``WORK/repos/`` (no copy, no duplicate content). Then, on a local Ray cluster:

1. ``index-many`` with packs (the default settings) over all N: time, packs, chunks;
2. the plain-English queries, one at a time, over the packed workspace in one process
   (``MultiSearcher``, as ``search --workspace``): p50 / p95, and the time to open it;
3. the same over the first ``--subset`` repositories, packed and one index each (``--pack-files 0``),
   to measure what one index per repository costs a query, per index.

    python benchmarks/bench_packs.py [--repos 10000] [--subset 1000] [--out benchmarks/results-packs.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import corpora  # noqa: E402

from codesearch.cluster import connected  # noqa: E402
from codesearch.cluster.index_many import index_many  # noqa: E402
from codesearch.manifest import Manifest  # noqa: E402
from codesearch.multi import MultiSearcher  # noqa: E402
from indexer.discover import FileEntry, walk  # noqa: E402


def split_corpus(source: Path, repos: int, dest: Path) -> list[Path]:
    """``repos`` repositories of consecutive indexable files of ``source`` (in path order), hard-linked."""
    files = sorted(item.path for item in walk(source) if isinstance(item, FileEntry))
    roots = [dest / f"r{n:05d}" for n in range(repos)]
    if (dest / ".complete").exists():
        return roots
    shutil.rmtree(dest, ignore_errors=True)
    bounds = np.linspace(0, len(files), repos + 1).astype(int)
    for n, root in enumerate(roots):
        for rel in files[bounds[n]:bounds[n + 1]]:
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / rel, target)  # a hard link is not read (its other name may lie outside)
        root.mkdir(parents=True, exist_ok=True)
    (dest / ".complete").write_text(f"{source}\n{len(files)} files\n")
    return roots


def timed_queries(workspace: Path, queries: list[str], k: int = 10) -> dict[str, float]:
    """Open the workspace as ``search --workspace`` does and run every query once (after one warm-up)."""
    listed = Manifest.load(workspace).searchable()
    clock = time.perf_counter()
    with MultiSearcher([d for _, d, _ in listed], names=[n for n, _, _ in listed],
                       mounts=[m for _, _, m in listed]) as multi:
        opened = time.perf_counter() - clock
        multi.search(queries[0], k)
        ms = []
        for query in queries:
            clock = time.perf_counter()
            multi.search(query, k)
            ms.append((time.perf_counter() - clock) * 1000)
    return {"indexes": len(listed), "open_s": round(opened, 2), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1), "mean_ms": round(statistics.mean(ms), 1)}


def build(roots: list[Path], workspace: Path, **settings: int) -> dict[str, float]:
    listing = workspace.parent / f"{workspace.name}.txt"
    listing.write_text("".join(f"{r}\n" for r in roots))
    clock = time.perf_counter()
    report = index_many(listing, workspace, **settings)
    seconds = time.perf_counter() - clock
    chunks = sum(r.chunks for r in report.repos)
    return {"repositories": len(report.repos), "failed": len(report.failed),
            "files": sum(r.files for r in report.repos),
            "chunks": chunks, "index_s": round(seconds, 1), "chunks_per_s": round(chunks / seconds),
            "packs": len(Manifest.load(workspace).packs())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, help="a folder of code to cut up (default: corpora.monorepo)")
    parser.add_argument("--repos", type=int, default=10_000)
    parser.add_argument("--subset", type=int, default=1_000, help="repositories of the per-index comparison")
    parser.add_argument("--work", type=Path, default=corpora.cache_dir() / "packs")
    parser.add_argument("--queries", type=Path, default=HERE / "queries" / "plain-english.json")
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    source = (args.source or corpora.monorepo()).resolve()
    queries = [q["query"] for q in json.loads(args.queries.read_text())["queries"]]
    roots = split_corpus(source, args.repos, args.work / f"repos-{args.repos}")
    results: dict = {"source": str(source), "queries": len(queries), "cpus": args.cpus}
    with connected("local", cpus=args.cpus):
        for name, chosen, settings in (("all", roots, {}), ("subset-packed", roots[:args.subset], {}),
                                        ("subset-one-index-each", roots[:args.subset], {"pack_files": 0})):
            workspace = args.work / f"ws-{args.repos}-{name}"
            shutil.rmtree(workspace, ignore_errors=True)
            results[name] = build(chosen, workspace, **settings)
            print(name, results[name], flush=True)
    for name in ("all", "subset-packed", "subset-one-index-each"):
        results[name].update(timed_queries(args.work / f"ws-{args.repos}-{name}", queries))
        print(name, results[name], flush=True)
    alone, packed = results["subset-one-index-each"], results["subset-packed"]
    per_index = (alone["mean_ms"] - packed["mean_ms"]) / max(1, alone["indexes"] - packed["indexes"])
    results["per_index_ms"] = round(per_index, 3)
    results["one_index_each_at_all_repositories_ms"] = round(packed["mean_ms"] + per_index * args.repos)
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
