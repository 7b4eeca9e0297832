"""The MCP server measured through the SDK's own client, as an agent uses it.

    python benchmarks/bench_mcp.py [--large DIR] [--small-from DIR] [-o benchmarks/results-mcp.json]

Three measurements, each against a real ``codesearch mcp`` subprocess over stdio:

1. **Warm search** on a large repository (default: CPython's standard library as
   ``benchmarks/corpora.py`` fetches it, about 70k functions and classes): the 151
   queries of ``benchmarks/queries/plain-english.json`` (several rounds), round-trip time
   at the client, p50 and p95; the freshness check before each answer is included. For
   scale, the same queries through the CLI (one process per query).
2. **First call on an unindexed repository** (default: a fresh copy of the standard
   library's ``idlelib``, ``tkinter`` and ``asyncio``, about 5.6k functions): seconds from
   the ``search`` call to its answer (the index is built inside it), and from spawning
   the server.
3. **Freshness**: lines are inserted above a function and a new function is added; the
   very next ``search`` must return the new function at its new lines (checked against the
   file), with no manual ``index``.

Timings depend on the machine; the JSON records its CPU count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

ROOT = Path(__file__).resolve().parents[1]
CODESEARCH = str(Path(sys.executable).with_name("codesearch"))
CACHE = Path(os.environ.get("CODESEARCH_CACHE", Path.home() / ".cache" / "codesearch"))
SMALL_PARTS = ("idlelib", "tkinter", "asyncio")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


SERVER_OPTIONS: list[str] = []  # ["--rerank"] with --rerank


def server(root: Path, index_dir: Path) -> StdioServerParameters:
    return StdioServerParameters(command=CODESEARCH, args=["mcp", str(root), "--index-dir", str(index_dir),
                                                           *SERVER_OPTIONS], env={"HF_HUB_OFFLINE": "1"})


async def call(session: ClientSession, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    text = result.content[0].text
    if result.is_error:
        raise RuntimeError(f"{tool} failed: {text}")
    return json.loads(text)


async def warm(large: Path, index_dir: Path, queries: list[str], rounds: int) -> dict[str, Any]:
    async with stdio_client(server(large, index_dir)) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        started = time.perf_counter()
        await call(session, "search", {"query": "warm up", "k": 10})
        first = time.perf_counter() - started
        status = await call(session, "index_status", {})
        times, related_times, last_round = [], [], []
        for _ in range(rounds):
            last_round = []
            for q in queries:
                started = time.perf_counter()
                found = await call(session, "search", {"query": q, "k": 10})
                last_round.append(time.perf_counter() - started)
            times += last_round
        for q in queries[:50]:
            found = await call(session, "search", {"query": q, "k": 1})
            if found["results"]:
                hit = found["results"][0]
                started = time.perf_counter()
                await call(session, "related", {"path": hit["path"], "line": hit["start_line"], "k": 10})
                related_times.append(time.perf_counter() - started)
    return {"repository": str(large), "files": status["files"], "chunks": status["chunks"],
            "functions": status["functions"],
            "first_call_s": round(first, 2), "searches": len(times),
            "search_ms_p50": round(percentile(times, 50) * 1000, 1),
            "search_ms_p95": round(percentile(times, 95) * 1000, 1),
            # the last round alone: with --rerank, every candidate's vector is cached by then
            "last_round_ms_p50": round(percentile(last_round, 50) * 1000, 1),
            "related_ms_p50": round(percentile(related_times, 50) * 1000, 1),
            "related_ms_p95": round(percentile(related_times, 95) * 1000, 1)}


def cli_baseline(large: Path, index_dir: Path, queries: list[str]) -> dict[str, Any]:
    times = []
    for q in queries:
        started = time.perf_counter()
        subprocess.run([CODESEARCH, "search", q, str(large), "--index-dir", str(index_dir), "-k", "10", "--json"],
                       capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return {"cli_searches": len(times), "cli_ms_p50": round(statistics.median(times) * 1000, 1)}


async def cold_and_fresh(small: Path) -> dict[str, Any]:
    index_dir = small / ".codesearch"
    spawned = time.perf_counter()
    async with stdio_client(server(small, index_dir)) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        started = time.perf_counter()
        await call(session, "search", {"query": "schedule a callback on the event loop", "k": 5})
        first_call = time.perf_counter() - started
        from_spawn = time.perf_counter() - spawned
        status = await call(session, "index_status", {})

        target = small / "asyncio" / "queues.py"
        text = target.read_text()
        target.write_text("# edited\n" * 25 + text + '''

def drain_with_deadline(queue, seconds):
    """Take every item off an asyncio queue until it is empty or a deadline in seconds passes."""
    return []
''')
        started = time.perf_counter()
        found = await call(session, "search", {"query": "take every item off a queue until empty or a deadline "
                                                         "passes", "k": 5})
        refresh_call = time.perf_counter() - started
        lines = target.read_text().splitlines()
        hit = next((r for r in found["results"] if r["qualname"] == "drain_with_deadline"), None)
        fresh = hit is not None and lines[hit["start_line"] - 1].startswith("def drain_with_deadline")
        moved = await call(session, "search", {"query": "Queue.get_nowait remove and return an item if one is "
                                                         "immediately available", "k": 10})
        old = next((r for r in moved["results"] if r["qualname"].endswith("get_nowait")
                    and r["path"] == "asyncio/queues.py"), None)
        moved_ok = old is not None and "def get_nowait" in lines[old["start_line"] - 1]
    return {"repository": " + ".join(SMALL_PARTS) + " (copy)", "files": status["files"],
            "chunks": status["chunks"], "functions": status["functions"], "first_call_s": round(first_call, 2),
            "first_call_from_spawn_s": round(from_spawn, 2), "edit_next_call_s": round(refresh_call, 2),
            "edited_function_found_at_new_lines": fresh, "moved_function_at_new_lines": moved_ok}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", type=Path, default=CACHE / "corpora" / "speed" / "python-stdlib")
    parser.add_argument("--small-from", type=Path, default=CACHE / "corpora" / "speed" / "python-stdlib")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rerank", action="store_true", help="run the server with --rerank (the warm part only)")
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args()
    if args.rerank:
        SERVER_OPTIONS.append("--rerank")
    for path in (args.large, args.small_from):
        if not path.is_dir():
            sys.exit(f"{path} is missing; run python benchmarks/corpora.py first")
    queries = [q["query"] for q in json.loads((ROOT / "benchmarks/queries/plain-english.json").read_text())["queries"]]
    index_dir = CACHE / "mcp-bench" / "large-index"
    result: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    print(f"large repository {args.large} (indexed on the first call if needed)...", file=sys.stderr)
    result["warm"] = asyncio.run(warm(args.large, index_dir, queries, args.rounds))
    result["warm"].update(cli_baseline(args.large, index_dir, queries[:20]))
    result["server_options"] = SERVER_OPTIONS
    if not args.rerank:  # the first call and freshness are measured without the rerank
        with tempfile.TemporaryDirectory() as tmp:
            small = Path(tmp) / "small"
            for part in SMALL_PARTS:
                shutil.copytree(args.small_from / part, small / part, ignore=shutil.ignore_patterns(".codesearch"))
            print(f"unindexed repository {small}...", file=sys.stderr)
            result["cold"] = asyncio.run(cold_and_fresh(small))
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
