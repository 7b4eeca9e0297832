"""SIGKILL `codesearch index` at random moments after an edit, then search: count the searches that fail.

Each round appends a function to one file of a copy of the repository, starts `codesearch index` in a session of
its own, kills the session after a random delay, and runs `codesearch search` (grep format) on what is left. A
round fails when the search exits with an error (2) or prints a traceback: a killed run must leave the previous
index, or its own, usable; in particular no write-ahead log that the next search calls foreign
(SECURITY.md, "A write-ahead log shipped into your own index").

    python benchmarks/kill_index.py REPO                     # 100 rounds, kills 0.05-1.3 s into the run
    python benchmarks/kill_index.py REPO --rounds 300 --edit src/attr/_funcs.py --json

The repository is copied to a temporary directory first (its own index is not touched).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def codesearch() -> list[str]:
    """The console script beside this interpreter, else the package's module."""
    script = Path(sys.executable).with_name("codesearch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "codesearch"]


def round_once(repo: Path, edited: Path, number: int, delay: float) -> str | None:
    """One round; what failed (the search's first lines), or None."""
    with edited.open("a", encoding="utf-8") as f:
        f.write(f"\n\ndef added_in_round_{number}(x):\n    return x + {number}\n")
    run = subprocess.Popen([*codesearch(), "index", "-q", str(repo)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    try:
        os.killpg(run.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    run.wait()
    found = subprocess.run([*codesearch(), "search", "where is a value added", str(repo), "-k", "3", "--format",
                            "grep"], capture_output=True, text=True)
    out = found.stdout + found.stderr
    if found.returncode not in (0, 1) or "Traceback" in out:
        return f"exit {found.returncode}: " + " | ".join(out.strip().splitlines()[:3])
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path, help="a repository with at least one Python file")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--min-delay", type=float, default=0.05)
    parser.add_argument("--max-delay", type=float, default=1.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--edit", help="the repository's file each round appends to (default: its first .py)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(args.repo, repo, symlinks=True, ignore=shutil.ignore_patterns(".codesearch"))
        edited = repo / args.edit if args.edit else next(iter(sorted(repo.rglob("*.py"))), None)
        if edited is None:
            sys.exit(f"no Python file under {args.repo}")
        subprocess.run([*codesearch(), "index", "-q", str(repo)], check=True)
        failures = []
        for number in range(1, args.rounds + 1):
            delay = round(rng.uniform(args.min_delay, args.max_delay), 2)
            if (failed := round_once(repo, edited, number, delay)) is not None:
                failures.append({"round": number, "delay": delay, "failed": failed})
                if not args.json:
                    print(f"round {number} (killed after {delay} s): {failed}")
    summary = {"rounds": args.rounds, "failures": len(failures), "details": failures}
    print(json.dumps(summary, indent=2) if args.json else f"failures: {len(failures)} of {args.rounds}")


if __name__ == "__main__":
    main()
