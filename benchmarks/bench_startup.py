"""How fast a one-shot ``codesearch search`` starts and answers, against Python's own start-up.

    python benchmarks/bench_startup.py [--repo DIR] [--index-dir DIR] [--runs 15] [--resident]
                                       [--baseline TREE] [--mcp-runs 5] [--out benchmarks/results-startup.json]

On one indexed repository (default: ansible-core as ``benchmarks/large`` fetches it into
``~/.cache/codesearch/large/``, about 21k chunks; indexed into a temporary directory
unless ``--index-dir`` names an index of it), every command below runs ``--runs`` times as a
subprocess, the commands interleaved round by round so that a noisy machine slows them
all alike:

- ``python -c pass``: the interpreter's floor;
- ``python -c "import numpy, faiss"``: the floor of any search in a fresh process;
- ``codesearch search QUERY REPO --index-dir IDX --format grep -k 5``: the one-shot search;
- the same search answered by a resident process (``codesearch resident``), when
  ``--resident`` is given: the client, its connect and the server's answer;
- with ``--baseline TREE`` (a copy of the package from another commit, e.g. a ``git worktree``),
  each search once more as that code runs it (``python -m codesearch.cli`` with
  ``PYTHONPATH=TREE``; its resident process too, on a copy of the index): before/after in one run.

Medians, and their ratios to the two floors, are printed and written with ``--out``. Then:
the modules a one-shot search imports (``python -X importtime``), summed by top-level package,
and the MCP server's first answer on the indexed repository (spawn to the first ``search``
result, through the SDK's client as ``benchmarks/bench_mcp.py`` drives it), ``--mcp-runs`` times
(alternating with the baseline's, if any): medians.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
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

CODESEARCH = str(Path(sys.executable).with_name("codesearch"))
CACHE = Path(os.environ.get("CODESEARCH_CACHE", Path.home() / ".cache" / "codesearch"))
DEFAULT_REPO = CACHE / "large" / "ansible-core"
QUERY = "retry a failed connection with a timeout"


Command = tuple[list[str], dict[str, str]]  # a command line and its environment


def timed(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one run of ``command`` (its output discarded).

    :raises RuntimeError: if it exits with an error (2 or more; 1 is "nothing found").
    """
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
    seconds = time.perf_counter() - started
    if done.returncode >= 2:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.decode(errors='replace')}")
    return seconds


def interleaved(commands: dict[str, Command], runs: int) -> dict[str, list[float]]:
    """Each command's wall times over ``runs`` rounds, one run of every command per round (after one warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command, env in commands.values():
        timed(command, env)  # warm the page cache and the .pyc files
    for _ in range(runs):
        for name, (command, env) in commands.items():
            times[name].append(timed(command, env))
    return times


def import_profile(command: list[str], env: dict[str, str], top: int = 15) -> dict[str, Any]:
    """Milliseconds of imports of one run of ``command`` (a ``python -m`` one), by top-level package
    (``codesearch`` and ``indexer`` by their modules): the sum of each module's own time."""
    done = subprocess.run([sys.executable, "-X", "importtime", *command], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, env=env, check=False, text=True)
    by_package: collections.Counter[str] = collections.Counter()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _, name = line.split(":", 1)[1].split("|")
        parts = name.strip().split(".")
        by_package[".".join(parts[:2]) if parts[0] in ("codesearch", "indexer") else parts[0]] += int(own)
    return {"total_ms": round(sum(by_package.values()) / 1000, 1),
            "by_package_ms": {name: round(us / 1000, 1) for name, us in by_package.most_common(top)}}


async def mcp_first_answer(repo: Path, index_dir: Path, baseline: Path | None = None,
                           extra: tuple[str, ...] = ()) -> dict[str, float]:
    """Seconds from spawning ``codesearch mcp`` on the indexed repository to its first ``search``
    answer, and from the ``initialize`` reply to it (the freshness check of the tree included);
    ``baseline``: the server of that tree (``python -m codesearch.cli mcp``, ``PYTHONPATH``);
    ``extra``: more arguments of ``codesearch mcp`` (``--read-only``: no freshness check)."""
    from bench_mcp import call, server  # the same client and server parameters as the MCP benchmark
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    parameters = server(repo, index_dir)
    parameters = StdioServerParameters(command=parameters.command, args=[*parameters.args, *extra],
                                       env=parameters.env)
    if baseline is not None:
        parameters = StdioServerParameters(command=sys.executable, args=["-m", "codesearch.cli", *parameters.args],
                                           env={**(parameters.env or {}), "PYTHONPATH": str(baseline)})
    spawned = time.perf_counter()
    async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        initialized = time.perf_counter()
        await call(session, "search", {"query": QUERY, "k": 5})
        answered = time.perf_counter()
    return {"spawn_to_first_answer_s": round(answered - spawned, 3),
            "initialize_to_first_answer_s": round(answered - initialized, 3)}


def summary(times: dict[str, list[float]]) -> dict[str, Any]:
    """Median milliseconds of each command and each one's ratio to the two floors."""
    medians = {name: statistics.median(values) for name, values in times.items()}
    out: dict[str, Any] = {"median_ms": {name: round(m * 1000, 1) for name, m in medians.items()},
                           "min_ms": {name: round(min(v) * 1000, 1) for name, v in times.items()}}
    for floor in ("python -c pass", "import numpy, faiss"):
        out[f"ratio_to[{floor}]"] = {name: round(m / medians[floor], 2) for name, m in medians.items()}
    return out


def ensure_index(repo: Path, index_dir: Path, env: dict[str, str]) -> int:
    """Index ``repo`` into ``index_dir`` (an update when it exists) and return its chunk count."""
    done = subprocess.run([CODESEARCH, "index", str(repo), "--index-dir", str(index_dir), "--json"],
                          capture_output=True, text=True, env=env, check=True)
    return int(json.loads(done.stdout)["chunks_total"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=DEFAULT_REPO)
    parser.add_argument("--index-dir", type=Path, help="An index of --repo (default: built in a temporary directory).")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--query", default=QUERY)
    parser.add_argument("--resident", action="store_true",
                        help="Also time the search answered by a resident process started for the run.")
    parser.add_argument("--baseline", type=Path, metavar="TREE",
                        help="Also time each search (and the MCP server) as the package in TREE runs it.")
    parser.add_argument("--no-mcp", action="store_true", help="Skip the MCP server's first answer.")
    parser.add_argument("--mcp-runs", type=int, default=5)
    parser.add_argument("--mcp-read-only", action="store_true",
                        help="Also time the MCP server with --read-only (a first answer without the freshness check).")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not args.repo.is_dir():
        sys.exit(f"{args.repo} is missing; fetch it (python benchmarks/large/...) or pass --repo")
    # As an installed package runs: with compiled .pyc files (the warm-up run writes any that are missing).
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["HF_HUB_OFFLINE"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = args.index_dir or Path(tmp) / "index"
        print(f"indexing {args.repo} into {index_dir}...", file=sys.stderr)
        chunks = ensure_index(args.repo, index_dir, env)
        search = [CODESEARCH, "search", args.query, str(args.repo), "--index-dir", str(index_dir),
                  "--format", "grep", "-k", "5"]
        old = {**env, "PYTHONPATH": str(args.baseline)}
        before = [sys.executable, "-m", "codesearch.cli", *search[1:]]  # as its console script ran it
        commands: dict[str, Command] = {"python -c pass": ([sys.executable, "-c", "pass"], env),
                                        "import numpy, faiss": ([sys.executable, "-c", "import numpy, faiss"], env),
                                        "codesearch search": (search, env)}
        if args.baseline:
            commands["baseline: codesearch search"] = (before, old)
        residents: list[subprocess.Popen[bytes]] = []
        if args.resident:
            residents.append(start_resident([CODESEARCH], args.repo, index_dir, env))
            commands["codesearch search (resident)"] = (search, env)
            commands["codesearch search --no-resident"] = ([*search, "--no-resident"], env)
            if args.baseline:  # its own resident process (the baseline's code), on a copy of the index
                copy = Path(tmp) / "baseline-index"
                shutil.copytree(index_dir, copy)
                residents.append(start_resident([sys.executable, "-m", "codesearch.cli"], args.repo, copy, old))
                at_copy = [*before[:-6], "--index-dir", str(copy), *before[-4:]]
                commands["baseline: codesearch search (resident)"] = (at_copy, old)
                commands["baseline: codesearch search --no-resident"] = ([*before, "--no-resident"], old)
        try:
            print(f"{chunks} chunks; timing {len(commands)} commands x {args.runs}...", file=sys.stderr)
            times = interleaved(commands, args.runs)
        finally:
            for resident in residents:
                resident.terminate()
                resident.wait(10)
        if residents:  # one command line, two states: the resident column ran with it up
            times.pop("codesearch search")
            times.pop("baseline: codesearch search", None)
        result: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "repo": str(args.repo),
                                  "chunks": chunks, "query": args.query, "runs": args.runs, **summary(times)}
        result["imports_of_one_search"] = import_profile(["-m", "codesearch.entry", *search[1:]], env)  # as the console script
        if not args.no_mcp:
            print("MCP server: first answer...", file=sys.stderr)
            result["mcp"] = mcp_medians(args.repo, index_dir, args.mcp_runs, args.baseline, args.mcp_read_only)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


def mcp_medians(repo: Path, index_dir: Path, runs: int, baseline: Path | None, read_only: bool) -> dict[str, Any]:
    """The MCP server's first answer, ``runs`` times (alternating with the baseline's and the
    ``--read-only`` server's, if asked): medians and all runs."""
    servers: dict[str, tuple[Path | None, tuple[str, ...]]] = {"": (None, ())}
    if baseline:
        servers["baseline: "] = (baseline, ())
    if read_only:
        servers["--read-only: "] = (None, ("--read-only",))
    measured: dict[str, list[dict[str, float]]] = {label: [] for label in servers}
    for _ in range(runs):
        for label, (tree, extra) in servers.items():
            measured[label].append(asyncio.run(mcp_first_answer(repo, index_dir, tree, extra)))
    out: dict[str, Any] = {}
    for label, runs_of in measured.items():
        for key in runs_of[0]:
            out[f"{label}{key}"] = round(statistics.median(r[key] for r in runs_of), 3)
        out[f"{label}spawn_to_first_answer_s (runs)"] = [r["spawn_to_first_answer_s"] for r in runs_of]
    return out


def start_resident(program: list[str], repo: Path, index_dir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A resident process for ``index_dir`` (``PROGRAM resident``), once it answers."""
    process = subprocess.Popen([*program, "resident", str(repo), "--index-dir", str(index_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    for _ in range(300):
        probe = subprocess.run([*program, "resident", str(repo), "--index-dir", str(index_dir), "--status"],
                               capture_output=True, env=env, check=False)
        if probe.returncode == 0:
            return process
        if process.poll() is not None:
            why = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the resident process ended: {why}")
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the resident process did not answer within 30 s")


if __name__ == "__main__":
    main()
