"""SIGKILL at random points of `codesearch index`, and searches while an update runs.

The previous index must still answer, SQLite and FAISS must agree (same ids, same count),
and a re-run must finish the job. Uses the shipped model in real subprocesses.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codesearch.errors import IndexCorrupt
from codesearch.search import Searcher
from codesearch.store.reader import IndexReader
from tests.conftest import write

KILL_POINTS = 12


def _module(i: int, variant: int) -> str:
    return "\n".join(
        f"def handler_{i}_{j}(request, retries={j}):\n"
        f"    '''Handle request {j} of module {i}, version {variant}.'''\n"
        f"    return request.get('key_{j}') or retries + {variant}\n"
        for j in range(12)
    )


def _write_repo(root: Path, variant: int, n: int = 300) -> None:
    """n modules of 12 functions; each variant edits a third of them and moves files around."""
    for i in range(n):
        if i % 3 == variant % 3 or not (root / f"pkg{i % 10}/mod{i}.py").exists():
            write(root, f"pkg{i % 10}/mod{i}.py", _module(i, variant))
    gone = root / f"pkg0/extra{variant - 1}.py"
    gone.unlink(missing_ok=True)
    write(root, f"pkg0/extra{variant}.py", _module(1000 + variant, variant))


def _consistent(index_dir: Path) -> int:
    """SQLite ids == FAISS ids; the count the metadata states. Raises on any disagreement."""
    with IndexReader(index_dir) as reader:
        count = reader.verify()  # SQLite sound; its ids, the vector file's, the lexical file's and the count agree
        files = {r[0] for r in reader.conn.execute("SELECT DISTINCT path FROM chunks")}
        assert files <= set(reader.file_paths())
        return count


def _index(root: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "codesearch.cli", "index", str(root), "-q", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


@pytest.mark.slow
def test_sigkill_at_random_points_never_corrupts(tmp_path: Path) -> None:
    """Kill the indexer (and its workers) at seeded random moments; nothing is ever corrupt."""
    root = tmp_path / "repo"
    _write_repo(root, 0)
    assert _index(root).wait(120) == 0
    baseline = _consistent(root / ".codesearch")
    _write_repo(root, 1)
    started = time.monotonic()
    assert _index(root).wait(120) == 0  # an update like the ones we kill, to time them
    update_seconds = time.monotonic() - started
    baseline = _consistent(root / ".codesearch")
    rng = random.Random(20261122)
    timings = []
    for variant in range(2, KILL_POINTS + 2):
        _write_repo(root, variant)
        started = time.monotonic()
        proc = _index(root)
        delay = rng.uniform(0.02, update_seconds)  # anywhere from start-up to the commit
        try:
            proc.wait(delay)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        timings.append((round(delay, 2), proc.returncode, round(time.monotonic() - started, 2)))
        count = _consistent(root / ".codesearch")  # the previous (or the finished) index
        assert count in (baseline, 300 * 12 + 12), timings
        with Searcher(root / ".codesearch") as searcher:
            assert searcher.search("handle a request", k=5)
        baseline = count
    killed = sum(code == -signal.SIGKILL for _, code, _ in timings)
    print(f"kill points: {len(timings)}, killed mid-run: {killed}, timings: {timings}")  # noqa: T201
    assert killed >= KILL_POINTS // 2, f"too few runs were actually killed: {timings}"
    assert _index(root).wait(120) == 0
    assert _consistent(root / ".codesearch") == 300 * 12 + 12
    leftovers = [p.name for p in (root / ".codesearch").iterdir() if p.name.startswith((".vectors", "vectors"))]
    assert len(leftovers) == 1, leftovers


@pytest.mark.slow
def test_searches_during_an_update_see_a_complete_index(tmp_path: Path) -> None:
    """While an update runs, every search opens a complete index, old or new, never a partial one."""
    root = tmp_path / "repo"
    _write_repo(root, 0)
    assert _index(root).wait(120) == 0
    searches = 0
    for variant in (1, 2):
        _write_repo(root, variant)
        proc = _index(root)
        while proc.poll() is None:
            try:
                with Searcher(root / ".codesearch") as searcher:
                    assert len(searcher.search("handle request retries", k=10)) == 10
                    assert searcher.reader.meta.count == searcher.vectors.count
            except IndexCorrupt as exc:  # pragma: no cover - this is the failure being tested for
                pytest.fail(f"search saw a partial index: {exc}")
            searches += 1
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    assert searches >= 4
    _consistent(root / ".codesearch")
