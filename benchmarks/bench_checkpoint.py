"""What checkpoints cost a long index run, and what they save when it is killed.

    python benchmarks/bench_checkpoint.py --root DIR [--every 20000] [--kill-at 0.6] [--out FILE]

Three cold runs of ``build_index`` on ``--root``, each in a process of its own, into fresh index
directories: without checkpoints (``CHECKPOINT_CHUNKS`` above the repository's size), with a
checkpoint every ``--every`` new chunks, and the same again killed (SIGKILL) once ``--kill-at`` of
the first run's time has passed, then run again to the end. Printed: seconds and peak RSS of each
process (the indexing process and its largest worker), the checkpoints made, the chunks the killed run had committed, the resumed run's time
against a whole run's, and whether the resumed index holds the same chunks as the whole one.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUN = """
import json, resource, sys, time
from pathlib import Path
import codesearch.pipeline as pipeline
pipeline.CHECKPOINT_CHUNKS = int(sys.argv[3])
started = time.perf_counter()
report = pipeline.build_index(Path(sys.argv[1]), Path(sys.argv[2]))
print(json.dumps({"seconds": time.perf_counter() - started, "chunks": report.chunks_total,
                  "checkpoints": report.checkpoints, "files_parsed": report.files_parsed,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                  "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024}))
"""


def run(root: Path, index_dir: Path, every: int, kill_after: float | None = None) -> dict[str, object]:
    """One indexing process: its report (or how long it ran before it was killed) and its peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", RUN, str(root), str(index_dir), str(every)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if kill_after is not None:
        try:
            process.wait(kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode == -signal.SIGKILL:
        return {"killed_after_s": round(seconds, 2), "committed_chunks": chunk_count(index_dir)}
    if process.returncode != 0:
        raise RuntimeError(err)
    result = json.loads(out)
    result["seconds"] = round(result["seconds"], 2)
    return result


def chunk_count(index_dir: Path) -> int:
    try:
        with sqlite3.connect(f"file:{index_dir / 'index.db'}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT value FROM meta WHERE key = 'count'").fetchone()[0])
    except (sqlite3.Error, TypeError):
        return 0


def chunks_of(index_dir: Path) -> list[tuple[object, ...]]:
    from codesearch.store.layout import KEY_SQL

    with sqlite3.connect(index_dir / "index.db") as conn:
        return conn.execute(f"SELECT {KEY_SQL} AS k, content_hash FROM chunks ORDER BY k").fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--every", type=int, default=20_000, help="new chunks between checkpoints")
    parser.add_argument("--kill-at", type=float, default=0.6, help="kill the third run at this share of the first's time")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        whole = run(args.root, Path(tmp) / "whole", 1 << 40)
        parts = run(args.root, Path(tmp) / "parts", args.every)
        killed = run(args.root, Path(tmp) / "resumed", args.every, kill_after=float(whole["seconds"]) * args.kill_at)
        resumed = run(args.root, Path(tmp) / "resumed", args.every)
        same = chunks_of(Path(tmp) / "resumed") == chunks_of(Path(tmp) / "whole")
    result = {
        "root": str(args.root), "cpus": os.cpu_count(), "every": args.every,
        "whole": whole, "with_checkpoints": parts, "killed": killed, "resumed": resumed,
        "checkpoints_cost": round(float(parts["seconds"]) / float(whole["seconds"]), 3),
        "resumed_over_whole": round(float(resumed["seconds"]) / float(whole["seconds"]), 3),
        "resumed_index_same_chunks": same,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
