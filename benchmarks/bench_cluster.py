"""index-many throughput: one process against a local Ray cluster of 1 and 2 workers.

Over real repositories from the registries (``~/.cache/codesearch/src``, unpacked by
``scripts/build_datasets.py --split eval`` and ``--split train``: PyPI sdists, npm
tarballs, the JDK's src.zip, Debian's Go, Ruby and PHP packages): the
first ``--per-language`` repositories of each language whose folder is between
``--min-mb`` and ``--max-mb``. Every configuration indexes them cold into a fresh
directory, with the same embedder, after one pass that reads every file (so the page
cache favours none). Ray's start-up is timed apart from the indexing. The machine's speed
drifts by up to a quarter from minute to minute here, so the three configurations run
in turn for ``--rounds`` rounds; the report gives each round and the median.

    python benchmarks/bench_cluster.py                     # 60 repositories, ~10 min on 2 cores
    python benchmarks/bench_cluster.py --per-language 2    # a quick look

Writes ``benchmarks/results-cluster.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from codesearch.cluster import connected  # noqa: E402
from codesearch.cluster.index_many import index_many  # noqa: E402
from codesearch.embed.static import StaticEmbedder  # noqa: E402
from codesearch.pipeline import build_index  # noqa: E402

SRC = Path.home() / ".cache" / "codesearch" / "src"


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def pick(src: Path, per_language: int, min_mb: float, max_mb: float) -> list[Path]:
    chosen = []
    for language in sorted(p for p in src.iterdir() if p.is_dir()):
        fits = [p for p in sorted(language.iterdir()) if p.is_dir() and min_mb <= folder_mb(p) <= max_mb]
        chosen.extend(fits[:per_language])
    return chosen


def warm(roots: list[Path]) -> None:
    for root in roots:
        for f in root.rglob("*"):
            if f.is_file() and not f.is_symlink():
                f.read_bytes()


def single_process(roots: list[Path], out: Path) -> dict:
    embedder = StaticEmbedder.default()
    started = time.perf_counter()
    chunks = files = 0
    for n, root in enumerate(roots):
        report = build_index(root, out / f"{n:03d}", embedder, workers=1)
        chunks += report.chunks_total
        files += report.files
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "chunks": chunks, "files": files,
            "chunks_per_second": round(chunks / seconds, 1)}


def on_ray(roots: list[Path], out: Path, cpus: int) -> dict:
    started = time.perf_counter()
    with connected("local", cpus=cpus):
        connect = time.perf_counter() - started
        first = index_many(roots, out)
        cold = first.seconds["index"]
        again = index_many(roots, out)
        rerun = again.seconds["index"]
    chunks = sum(r.chunks for r in first.repos)
    return {"cpus": cpus, "ray_start_seconds": round(connect, 2), "seconds": round(cold, 2),
            "seconds_with_start": round(cold + connect, 2), "chunks": chunks,
            "files": sum(r.files for r in first.repos), "failed": [r.name for r in first.failed],
            "chunks_per_second": round(chunks / cold, 1),
            "chunks_per_second_with_start": round(chunks / (cold + connect), 1),
            "no_change_rerun_seconds": round(rerun, 2), "sharded_repositories": sum(r.shards > 0 for r in first.repos)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, default=SRC)
    parser.add_argument("--per-language", type=int, default=10)
    parser.add_argument("--min-mb", type=float, default=1.5)
    parser.add_argument("--max-mb", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "codesearch" / "cluster-bench")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "results-cluster.json")
    args = parser.parse_args()

    roots = pick(args.src, args.per_language, args.min_mb, args.max_mb)
    print(f"{len(roots)} repositories, {sum(folder_mb(r) for r in roots):.0f} MB", flush=True)
    warm(roots)
    shutil.rmtree(args.work, ignore_errors=True)
    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
               "repositories": [str(r.relative_to(args.src)) for r in roots],
               "source_mb": round(sum(folder_mb(r) for r in roots), 1)}
    rounds = []
    for n in range(args.rounds):
        one = {"single_process": single_process(roots, args.work / f"single{n}")}
        print(f"round {n + 1}: single process", one["single_process"], flush=True)
        for cpus in (1, 2):
            one[f"ray_{cpus}_workers"] = on_ray(roots, args.work / f"ray{cpus}-{n}", cpus)
            print(f"round {n + 1}: ray {cpus} workers", one[f"ray_{cpus}_workers"], flush=True)
        one["speedup_2_workers_vs_single_process"] = round(
            one["ray_2_workers"]["chunks_per_second"] / one["single_process"]["chunks_per_second"], 2)
        one["speedup_2_workers_with_start_vs_single_process"] = round(
            one["ray_2_workers"]["chunks_per_second_with_start"] / one["single_process"]["chunks_per_second"], 2)
        rounds.append(one)
        shutil.rmtree(args.work, ignore_errors=True)
    results["rounds"] = rounds
    median = lambda values: float(np.median(values))  # noqa: E731
    results["median"] = {
        "single_process_chunks_per_second": median([r["single_process"]["chunks_per_second"] for r in rounds]),
        **{f"ray_{c}_workers_chunks_per_second": median([r[f"ray_{c}_workers"]["chunks_per_second"] for r in rounds])
           for c in (1, 2)},
        "ray_start_seconds": median([r[f"ray_{c}_workers"]["ray_start_seconds"] for r in rounds for c in (1, 2)]),
        "speedup_2_workers_vs_single_process": median([r["speedup_2_workers_vs_single_process"] for r in rounds]),
        "speedup_2_workers_with_start_vs_single_process":
            median([r["speedup_2_workers_with_start_vs_single_process"] for r in rounds]),
    }
    results["peak_rss_mb_driver"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["median"], indent=2))
    shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
