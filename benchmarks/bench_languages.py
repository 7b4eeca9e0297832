"""Indexing speed per chunk, language by language, as a ratio to Python's in the same run.

Each repository is indexed cold (the real pipeline: discovery, parsing, chunking,
embedding, writing) into a fresh index directory, ``--repeat`` times, alternating with
the Python baseline so that a noisy machine loads both alike, after one untimed run that
loads its grammar. A run's fixed cost (opening and writing an index: the time to index a
one-file repository, measured in the same run) is subtracted, so small repositories are not
charged for it per chunk. The figure of merit is seconds per chunk relative to Python's
(1.0 = as fast as Python; the issue's bound is 1.5). One worker process, so the ratio
measures the language's parse and chunk cost, not how files happen to spread over cores.

    python benchmarks/bench_languages.py --checkouts ~/.cache/codesearch/semble-repos \\
        --bench ../shared/bench/semble-dev --baseline flask --output benchmarks/results-languages.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from codesearch.bench.semble import load_repos
from codesearch.pipeline import build_index


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays the report."""
    print(message, file=sys.stderr, flush=True)  # noqa: T201


def index_seconds(root: Path, work: Path) -> tuple[float, int, dict[str, int]]:
    """Index ``root`` cold once: seconds, chunks, and chunks by language."""
    index_dir = work / "index"
    shutil.rmtree(index_dir, ignore_errors=True)
    started = time.perf_counter()
    report = build_index(root, index_dir, workers=1)
    return time.perf_counter() - started, report.chunks_total, dict(report.chunks_by_language)


def fixed_cost(work: Path, repeat: int = 5) -> float:
    """Seconds to index a one-function repository (the cost of a run, whatever its size)."""
    tiny = work / "tiny"
    tiny.mkdir(exist_ok=True)
    (tiny / "one.py").write_text("def one():\n    return 1\n")
    return statistics.median(index_seconds(tiny, work)[0] for _ in range(repeat))


def seconds_per_chunk(root: Path, work: Path, overhead: float) -> tuple[float, int, dict[str, int]]:
    """Index ``root`` cold once; seconds per chunk beyond ``overhead``, chunks, and chunks by language."""
    elapsed, chunks, by_language = index_seconds(root, work)
    return max(elapsed - overhead, 1e-6) / max(chunks, 1), chunks, by_language


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=Path, required=True, help="semble-format folder (repos.json)")
    parser.add_argument("--checkouts", type=Path, required=True, help="folder of checked-out repositories")
    parser.add_argument("--baseline", default="flask", help="the Python repository every ratio is against")
    parser.add_argument("--repo", action="append", default=[], help="only these repositories (repeatable)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    repos = {r.name: r for r in load_repos(args.bench)}
    names = [n for n in (args.repo or repos) if n != args.baseline]

    def root(name: str) -> Path:
        repo = repos[name]
        return args.checkouts / name / repo.root if repo.root else args.checkouts / name

    work = Path(tempfile.mkdtemp(prefix="codesearch-langs-"))
    rows = []
    try:
        index_seconds(root(args.baseline), work)  # warm-up: model load, imports, page cache
        overhead = fixed_cost(work)
        log(f"fixed cost of a run: {overhead * 1000:.0f} ms")
        for name in names:
            ours, base = [], []
            index_seconds(root(name), work)  # loads the grammar, warms the page cache
            for attempt in range(args.repeat):
                log(f"{name}: run {attempt + 1}/{args.repeat}")
                spc, chunks, by_language = seconds_per_chunk(root(name), work, overhead)
                base_spc, base_chunks, _ = seconds_per_chunk(root(args.baseline), work, overhead)
                ours.append(spc)
                base.append(base_spc)
            ratio = statistics.median(o / b for o, b in zip(ours, base))
            rows.append({"repo": name, "language": repos[name].language, "chunks": chunks,
                         "chunks_by_language": by_language, "chunks_per_s": round(1 / statistics.median(ours)),
                         "baseline_chunks_per_s": round(1 / statistics.median(base)),
                         "baseline_chunks": base_chunks, "ratio_to_python": round(ratio, 2)})
            log(f"{name}: {rows[-1]['chunks_per_s']} chunks/s, {ratio:.2f}x Python's seconds per chunk")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("| repository | language | chunks | chunks/s | Python chunks/s (same run) | s per chunk vs Python |")  # noqa: T201
    print("|---|---|---|---|---|---|")  # noqa: T201
    for r in rows:
        print(f"| {r['repo']} | {r['language']} | {r['chunks']} | {r['chunks_per_s']} | "  # noqa: T201
              f"{r['baseline_chunks_per_s']} | {r['ratio_to_python']}x |")
    if args.output:
        args.output.write_text(json.dumps({"baseline": args.baseline, "fixed_cost_s": round(overhead, 3),
                                           "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
