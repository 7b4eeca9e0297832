"""Cost of the hostile-repository checks on a large index, each against its unchecked baseline.

Builds (or reuses) an index of a large real corpus (the JDK's src.zip plus the Python
standard library, as ``bench_speed.py``) and times, in this process:

- ``PRAGMA quick_check`` that every indexing run does when it opens ``index.db``,
  against a warm re-index (nothing changed) as a whole;
- loading the vector file with the id-map checksum check, against loading it without;
  and the checksum of pre-schema-3 indexes computed from SQLite's ids;
- reading source files through ``open_inside`` (one ``openat`` with ``O_NOFOLLOW`` per
  path component, ``fstat``, regular files only) against a plain ``open().read()``.

    python benchmarks/bench_integrity.py                      # JDK + Python stdlib
    python benchmarks/bench_integrity.py --corpus python-stdlib --output benchmarks/results-integrity.json
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpora  # noqa: E402
from bench_speed import prepare  # noqa: E402

from codesearch.pipeline import build_index  # noqa: E402
from codesearch.store import metadata as md  # noqa: E402
from codesearch.store.reader import IndexReader  # noqa: E402
from codesearch.store.vectors import VectorStore, id_checksum, vectors_path  # noqa: E402
from indexer.discover import FileEntry, read_source, walk  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # noqa: T201


def best(fn, repeat: int = 5) -> float:  # noqa: ANN001
    """Fastest of ``repeat`` runs, in seconds (the least disturbed by the other core's work)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", choices=sorted(corpora.CORPORA),
                        help="corpus to index (repeatable; default: jdk and python-stdlib)")
    parser.add_argument("--files", type=int, default=5000, help="source files read per read timing")
    parser.add_argument("--output", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    root = prepare(args.corpus or ["jdk", "python-stdlib"])
    index_dir = corpora.cache_dir() / "integrity-index"
    log(f"indexing {root} into {index_dir} (reused when already built) ...")
    started = time.perf_counter()
    report = build_index(root, index_dir)
    first = time.perf_counter() - started
    warm = best(lambda: build_index(root, index_dir), repeat=3)
    log(f"index: {report.chunks_total} functions ({first:.1f} s this run), warm re-index {warm:.2f} s")

    conn = md.connect(index_dir / "index.db")
    quick = best(lambda: md.quick_check(conn), repeat=3)
    sql_ids = best(lambda: id_checksum([r[0] for r in conn.execute("SELECT id FROM chunks")]), repeat=3)
    conn.close()
    with IndexReader(index_dir) as reader:
        meta = reader.meta
    path = vectors_path(index_dir, meta.generation)
    unchecked = best(lambda: VectorStore.load(path, meta.dim, meta.count))
    checked = best(lambda: VectorStore.load(path, meta.dim, meta.count, meta.id_checksum))

    candidates = [c for c in walk(root) if isinstance(c, FileEntry)]
    sample = random.Random(0).sample(candidates, min(args.files, len(candidates)))

    def plain() -> None:
        for c in sample:
            with open(c.abs_path, "rb") as fh:
                fh.read()

    def inside() -> None:
        for c in sample:
            read_source(c)

    def inside_read_only() -> None:
        from indexer.discover import read_inside

        for c in sample:
            read_inside(c.root, c.path, 1_000_000)

    plain_s, inside_s, safe_s = best(plain, 3), best(inside, 3), best(inside_read_only, 3)
    depth = statistics.mean(c.path.count("/") + 1 for c in sample)
    results = {
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}",
        "corpus": str(root),
        "functions": report.chunks_total,
        "index_db_bytes": (index_dir / "index.db").stat().st_size,
        "warm_reindex_s": round(warm, 3),
        "quick_check_s": round(quick, 3),
        "vector_load_unchecked_s": round(unchecked, 4),
        "vector_load_checked_s": round(checked, 4),
        "id_checksum_from_sqlite_s": round(sql_ids, 4),
        "files_read": len(sample),
        "mean_path_components": round(depth, 2),
        "plain_open_read_s": round(plain_s, 4),
        "read_inside_s": round(safe_s, 4),
        "read_source_s (read_inside + binary/minified checks)": round(inside_s, 4),
    }
    print(f"Corpus: {root} ({report.chunks_total:,} functions; index.db {results['index_db_bytes'] / 1e6:.0f} MB)")  # noqa: T201
    print(f"Machine: {results['machine']}\n")  # noqa: T201
    print("| check | with | without (baseline) | cost |")  # noqa: T201
    print("|---|---|---|---|")  # noqa: T201
    print(f"| quick_check at index open | {quick:.3f} s | warm re-index {warm:.3f} s | "  # noqa: T201
          f"{quick / warm:.0%} of a warm run |")
    print(f"| id-map checksum at vector load | {checked * 1e3:.1f} ms | {unchecked * 1e3:.1f} ms | "  # noqa: T201
          f"+{(checked - unchecked) * 1e3:.1f} ms |")
    print(f"| id checksum from SQLite (pre-schema-3 index, index only) | {sql_ids * 1e3:.1f} ms | - | - |")  # noqa: T201
    print(f"| read {len(sample)} files (mean {depth:.1f} components) via open_inside | {safe_s * 1e3:.0f} ms | "  # noqa: T201
          f"plain open {plain_s * 1e3:.0f} ms | {safe_s / plain_s:.2f}x |")
    if args.output:
        args.output.write_text(json.dumps(results, indent=2) + "\n")
        log(f"wrote {args.output}")


if __name__ == "__main__":
    main()
