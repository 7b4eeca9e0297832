"""How cost grows with the repository: index time, peak memory, index size and search latency.

    python benchmarks/bench_scaling.py [--sizes 10000,30000,100000,300000] [-o benchmarks/results-scaling.json]

The corpus is the speed corpus (the JDK's ``src.zip`` and the Python standard library,
``benchmarks/corpora.py``). It is indexed once; then, for each size, files drawn in a
fixed random order (seed 5) are hard-linked into a new folder until their chunks reach
the size, and that folder is indexed cold by ``codesearch index`` in a subprocess, with
the process tree's resident memory sampled every 20 ms (workers included). Search is timed
in-process over 100 queries (first paragraphs of doc comments of the subset), hybrid
(default) and vectors only, plus the ``codesearch search`` CLI (median of 5).

Writes the numbers as JSON and a PNG of the curves (``--plot``, default
``benchmarks/scaling.png``; needs matplotlib, in the ``bench`` extra).
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
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpora  # noqa: E402

from codesearch.bench.metrics import percentile  # noqa: E402
from codesearch.cache import cache_root  # noqa: E402
from codesearch.pipeline import build_index  # noqa: E402
from codesearch.search import Searcher  # noqa: E402
from indexer.docs import first_paragraph  # noqa: E402

CLI = str(Path(sys.executable).parent / "codesearch")


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    return sum(tree_rss_parts(pid))


def tree_rss_parts(pid: int) -> tuple[int, int]:
    """Resident bytes of a process itself and of all its descendants together (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, list(children.get(pid, []))
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return rss.get(pid, 0), total


def index_subprocess(root: Path, index_dir: Path) -> tuple[float, int, dict[str, Any]]:
    """Wall seconds, peak tree RSS and the JSON report of a cold ``codesearch index``; the report gains
    ``rss_trace``: each second's largest (seconds, MB of the main process, MB of its workers together)."""
    started = time.perf_counter()
    proc = subprocess.Popen([CLI, "index", str(root), "--index-dir", str(index_dir), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0
    trace: dict[int, tuple[int, int]] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            main, workers = tree_rss_parts(proc.pid)
            peak = max(peak, main + workers)
            second = int(time.perf_counter() - started)
            if sum(trace.get(second, (0, 0))) < main + workers:
                trace[second] = (main, workers)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"codesearch index failed on {root}")
    report = json.loads(out)
    report["rss_trace"] = [(t, m >> 20, w >> 20) for t, (m, w) in sorted(trace.items())]
    return time.perf_counter() - started, peak, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,30000,100000,300000")
    parser.add_argument("-o", "--output", type=Path)
    parser.add_argument("--plot", type=Path, default=Path(__file__).resolve().parent / "scaling.png")
    parser.add_argument("--monorepo", action="store_true",
                        help="Index the whole monorepo corpus (corpora.monorepo: about 1M chunks) once, cold, "
                             "instead of subsets of the speed corpus (--sizes is then unused).")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.monorepo:
        corpus, sizes = corpora.monorepo(), [0]
    else:
        corpus = corpora.cache_dir() / "speed"
        corpora.jdk()
        corpora.python_stdlib()
        full_index = cache_root() / "scaling" / "full-index"
        print(f"indexing the whole corpus once ({corpus}) ...", file=sys.stderr)
        build_index(corpus, full_index)
        conn = sqlite3.connect(full_index / "index.db")
        per_file = dict(conn.execute("SELECT path, COUNT(*) FROM chunks GROUP BY path"))
        paths = sorted(per_file)
        random.Random(5).shuffle(paths)
    points = []
    for size in sizes:
        chosen: list[str] = []
        total = 0
        for path in paths if not args.monorepo else []:
            if total >= size:
                break
            chosen.append(path)
            total += per_file[path]
        with tempfile.TemporaryDirectory() as tmp:
            root = corpus if args.monorepo else Path(tmp) / "repo"
            for rel in chosen:
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(corpus / rel, root / rel)  # a hard link is not read (indexer.discover)
            index_dir = Path(tmp) / "index"
            print(f"{size or 'whole corpus'}: {len(chosen) or 'all'} files ...", file=sys.stderr)
            wall, peak, report = index_subprocess(root, index_dir)
            index_bytes = sum(p.stat().st_size for p in index_dir.iterdir() if p.is_file())
            if args.monorepo:  # every indexed file, as the index records it
                chosen = [r[0] for r in sqlite3.connect(index_dir / "index.db").execute("SELECT path FROM files")]
            source_bytes = sum((root / rel).stat().st_size for rel in chosen)
            rows = sqlite3.connect(index_dir / "index.db").execute("SELECT doc FROM chunks WHERE doc != ''").fetchall()
            docs = sorted({first_paragraph(r[0]) for r in rows if len(r[0].split()) >= 4})
            queries = random.Random(7).sample(docs, min(100, len(docs)))
            with Searcher(index_dir) as searcher:
                searcher.search(queries[0], 10)
                hybrid = [_timed(lambda q=q: searcher.search(q, 10)) for q in queries]
                vectors = [_timed(lambda q=q: searcher.search(q, 10, hybrid=False)) for q in queries]
                functions = searcher.reader.conn.execute(
                    "SELECT COUNT(*) FROM chunks WHERE kind IN ('function', 'method')").fetchone()[0]
            cli = [_timed(lambda q=q: subprocess.run([CLI, "search", q, str(root), "--index-dir", str(index_dir),
                                                       "--format", "grep"], capture_output=True)) for q in queries[:5]]
            chunks = report["chunks_total"]
            points.append({
                "target": size, "files": len(chosen), "chunks": chunks, "functions": functions,
                "index_seconds": round(wall, 2), "chunks_per_second": round(chunks / wall),
                "peak_rss_mb": round(peak / 2**20), "index_mb": round(index_bytes / 2**20, 1),
                "source_mb": round(source_bytes / 2**20, 1), "index_to_source": round(index_bytes / source_bytes, 2),
                "index_bytes_per_chunk": round(index_bytes / chunks),
                "hybrid_ms": {"p50": round(percentile(hybrid, 50), 2), "p95": round(percentile(hybrid, 95), 2)},
                "vectors_ms": {"p50": round(percentile(vectors, 50), 2), "p95": round(percentile(vectors, 95), 2)},
                "cli_s": round(statistics.median(cli) / 1000, 3),
                "checkpoints": report.get("checkpoints"), "rss_trace": report["rss_trace"],
            })
            print(json.dumps({k: v for k, v in points[-1].items() if k != "rss_trace"}), file=sys.stderr)
    result = {"cpus": os.cpu_count(), "corpus": str(corpus), "points": points}
    print(json.dumps(result, indent=2))
    if args.output:
        args.output.write_text(json.dumps(result, indent=2) + "\n")
    plot(points, args.plot)


def plot(points: list[dict[str, Any]], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing: no plot (pip install -e '.[bench]')", file=sys.stderr)
        return
    x = [p["chunks"] for p in points]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    panels = [
        ("cold index (s)", [p["index_seconds"] for p in points]),
        ("peak RSS while indexing (MB)", [p["peak_rss_mb"] for p in points]),
        ("index size (MB)", [p["index_mb"] for p in points]),
        ("search p50 (ms): hybrid, vectors", None),
    ]
    for ax, (title, ys) in zip(axes, panels):
        if ys is None:
            ax.plot(x, [p["hybrid_ms"]["p50"] for p in points], "o-", label="hybrid")
            ax.plot(x, [p["vectors_ms"]["p50"] for p in points], "s--", label="vectors only")
            ax.legend()
        else:
            ax.plot(x, ys, "o-")
        ax.set_xscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("chunks")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}", file=sys.stderr)


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()
