"""Fan-out latency of a workspace: in one process, and through ``codesearch serve`` (Ray Serve).

Runs the plain-English queries (``benchmarks/queries/plain-english.json``) against a
workspace made by ``index-many`` (default: the one ``bench_ann.py --sources`` builds over
every package of the source cache): first in this process (``MultiSearcher``, one thread),
then over HTTP through a local Ray Serve deployment with 1 and 2 shard groups, one query
at a time. Also reports the resident memory of the Serve replica processes.

    python benchmarks/bench_serve.py [--workspace DIR]

Writes ``benchmarks/results-serve.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from codesearch.manifest import Manifest  # noqa: E402
from codesearch.multi import MultiSearcher  # noqa: E402

CACHE = Path.home() / ".cache" / "codesearch"


def percentiles(ms: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(ms, 50)), 1), "p95": round(float(np.percentile(ms, 95)), 1)}


def replica_rss_mb() -> float:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().split(b"\0")[0]
            if title.startswith(b"ray::ServeReplica:codesearch:group"):
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=CACHE / "ann-workspace")
    parser.add_argument("--queries", type=Path, default=HERE / "queries" / "plain-english.json")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "results-serve.json")
    args = parser.parse_args()
    queries = [q["query"] for q in json.loads(args.queries.read_text())["queries"]]
    manifest = Manifest.load(args.workspace)
    listed = manifest.searchable()
    results: dict = {"workspace_repositories": len(manifest.repos), "workspace_indexes": len(listed),
                     "workspace_chunks": sum(e.chunks for e in manifest.repos.values()), "queries": len(queries)}

    clock = time.perf_counter()
    with MultiSearcher([d for _, d, _ in listed], names=[n for n, _, _ in listed],
                       mounts=[m for _, _, m in listed]) as multi:
        opened = time.perf_counter() - clock
        multi.search(queries[0], 10)
        ms = []
        for query in queries:
            started = time.perf_counter()
            multi.search(query, 10)
            ms.append((time.perf_counter() - started) * 1000)
    results["in_process"] = {"open_seconds": round(opened, 2), **percentiles(ms)}
    print("in process", results["in_process"], flush=True)

    from codesearch.cluster import connected
    from codesearch.cluster import serve

    for groups in (1, 2):
        with connected("local"):
            clock = time.perf_counter()
            url = serve.start(args.workspace, groups=groups, port=8765)
            started_s = time.perf_counter() - clock
            get = lambda q: urllib.request.urlopen(f"{url}?{urllib.parse.urlencode({'q': q, 'k': 10})}",  # noqa: E731
                                                   timeout=120).read()
            get(queries[0])
            ms = []
            for query in queries:
                started = time.perf_counter()
                get(query)
                ms.append((time.perf_counter() - started) * 1000)
            results[f"serve_{groups}_groups"] = {"deploy_seconds": round(started_s, 1), **percentiles(ms),
                                                 "replica_rss_mb": replica_rss_mb()}
            print(f"serve {groups} groups", results[f"serve_{groups}_groups"], flush=True)
            serve.stop()
    args.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
