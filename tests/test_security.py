"""A cloned repository must not run code, write outside the index, or break the indexer.

One test (or a few) per item of the hostile-repository review. Each reproduces the
attack or the bad input exactly as it was found, against the real CLI where that is
where it happened.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import write

CODESEARCH = Path(sys.executable).parent / "codesearch"  # the installed console script


def _run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CODESEARCH), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def _python_files(root: Path, n: int, functions: int = 1) -> None:
    for i in range(n):
        write(root, f"pkg{i % 10}/m{i}.py", "".join(
            f"def handler_{i}_{j}(request):\n    '''Handle request {j} of module {i}.'''\n    return {j}\n\n"
            for j in range(functions)))


# -- 1. repository code never runs -------------------------------------------------------


def test_repository_multiprocessing_package_is_never_imported(tmp_path: Path) -> None:
    """`cd repo && codesearch index` with a planted multiprocessing/__init__.py: workers start without it."""
    root = tmp_path / "repo"
    marker = tmp_path / "payload-ran.txt"
    write(root, "multiprocessing/__init__.py",
          f"import os\nwith open({str(marker)!r}, 'a') as fh:\n    fh.write(f'ran in {{os.getpid()}}\\n')\n")
    _python_files(root, 250)
    out = _run_cli("index", "--json", "--workers", "2", cwd=root)
    assert out.returncode == 0, out.stderr
    assert '"workers": 2' in out.stdout  # the worker pool really started
    assert not marker.exists(), marker.read_text()
    assert "Traceback" not in out.stderr and "resource_tracker" not in out.stderr


# -- 12. workers die with their parent ----------------------------------------------------


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                found.update(int(c) for c in fh.read().split())
    except OSError:
        pass
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            state = next(line for line in fh if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "zombie" not in state and "(dead)" not in state


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to find the worker processes")
def test_workers_die_when_the_indexer_is_killed(tmp_path: Path) -> None:
    """kill -9 of `codesearch index` leaves no worker or resource tracker behind."""
    root = tmp_path / "repo"
    _python_files(root, 3000, functions=4)
    proc = subprocess.Popen([str(CODESEARCH), "index", str(root), "-q", "--workers", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        children: set[int] = set()
        while time.monotonic() < deadline and proc.poll() is None and len(children) < 3:
            children = _children(proc.pid)  # two workers and the resource tracker
            time.sleep(0.05)
        assert len(children) >= 3, f"the pool never started (exit {proc.poll()})"
        time.sleep(0.5)  # let the workers load the model and start working
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(c) for c in children):
            time.sleep(0.1)
        assert not [c for c in children if _alive(c)], "orphaned worker processes"
    finally:
        for child in _children(proc.pid) | children:
            try:
                os.kill(child, signal.SIGKILL)
            except OSError:
                pass
