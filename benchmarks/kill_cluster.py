"""Kill Ray workers at random points of `index-many`, then re-run it and check every index.

Over real repositories of the registry source cache (see ``bench_cluster.py``): each
round indexes them cold while a thread SIGKILLs a random worker busy with one of our
tasks (a repository's task or a shard's) ``--kills`` times at random moments, then runs
``index-many`` once more and checks every index as the single-machine kill test does:
SQLite ``quick_check``, vector count = chunk rows = metadata count, and the id checksum
of the FAISS and lexical files against SQLite.

    python benchmarks/kill_cluster.py                 # 3 rounds, 5 kills each, 30 repositories

Writes ``benchmarks/results-kill-cluster.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.bench_cluster import SRC, pick  # noqa: E402
from codesearch.cluster import connected  # noqa: E402
from codesearch.cluster.index_many import index_many, task_pids  # noqa: E402
from codesearch.errors import CodeSearchError  # noqa: E402
from codesearch.manifest import Manifest  # noqa: E402
from codesearch.store.reader import IndexReader  # noqa: E402


def sound(index_dir: Path) -> bool:
    try:
        with IndexReader(index_dir) as reader:
            reader.verify()
        return True
    except CodeSearchError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-language", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "codesearch" / "kill-cluster")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "results-kill-cluster.json")
    args = parser.parse_args()
    roots = pick(SRC, args.per_language, 1.5, 8.0)
    rng = random.Random(args.seed)
    rounds = []
    with connected("local", cpus=2):
        for n in range(args.rounds):
            out = args.work / f"round{n}"
            shutil.rmtree(out, ignore_errors=True)
            killed: list[float] = []
            done = threading.Event()
            started = time.perf_counter()

            def killer() -> None:
                for _ in range(args.kills):
                    if done.wait(rng.uniform(1.0, 8.0)):
                        return
                    busy = task_pids()
                    if busy:
                        try:
                            os.kill(rng.choice(busy), signal.SIGKILL)
                            killed.append(round(time.perf_counter() - started, 1))
                        except ProcessLookupError:
                            pass

            thread = threading.Thread(target=killer)
            thread.start()
            try:
                first = index_many(roots, out)
            finally:
                done.set()
                thread.join()
            manifest = Manifest.load(out)
            after_first = {e.name: e.status == "indexed" and sound(manifest.index_dir(e)) for e in first.repos}
            second = index_many(roots, out)
            manifest = Manifest.load(out)
            after_second = {e.name: e.status == "indexed" and sound(manifest.index_dir(e)) for e in second.repos}
            row = {"round": n + 1, "repositories": len(roots), "kills_at_seconds": killed,
                   "first_run_seconds": round(first.seconds["index"], 1),
                   "failed_after_first_run": [r.name for r in first.failed],
                   "sound_after_first_run": sum(after_first.values()),
                   "changed_by_rerun": sum(r.changed for r in second.repos),
                   "indexed_and_sound_after_rerun": sum(after_second.values())}
            rounds.append(row)
            print(row, flush=True)
            shutil.rmtree(out, ignore_errors=True)
    args.output.write_text(json.dumps({"rounds": rounds}, indent=2) + "\n")


if __name__ == "__main__":
    main()
