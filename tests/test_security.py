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


# -- 2. nothing is written outside the index directory through planted links ---------------

from codesearch.errors import (  # noqa: E402
    CodeSearchError,
    IndexConflict,
    IndexCorrupt,
    IndexLocked,
    IndexUnavailable,
    RepositoryMoved,
    UnsafeIndexDir,
)
from codesearch.pipeline import build_index  # noqa: E402
from codesearch.search import Searcher, find_index  # noqa: E402
from codesearch.store.reader import IndexReader  # noqa: E402
from tests.conftest import FakeEmbedder  # noqa: E402


def _repo(root: Path) -> Path:
    write(root, "a.py", "def alpha():\n    '''Alpha helper.'''\n    return 1\n")
    write(root, "b.py", "def gamma():\n    '''Gamma helper.'''\n    return 3\n")
    return root


def _foreign_sqlite(path: Path) -> bytes:
    import sqlite3

    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE accounts (name TEXT, balance INT)")
        conn.execute("INSERT INTO accounts VALUES ('alice', 100)")
    return path.read_bytes()


@pytest.mark.parametrize("entry", ["lock", ".gitignore", "index.db", "index.db-wal", "vectors-1.faiss"])
def test_planted_symlink_in_the_index_dir_is_refused(tmp_path: Path, entry: str) -> None:
    """A repository shipping .codesearch/<entry> as a link: index refuses, the target is untouched."""
    root = _repo(tmp_path / "repo")
    (root / ".codesearch").mkdir()
    target = tmp_path / "victim"
    original = _foreign_sqlite(target) if entry == "index.db" else b"precious\n"
    target.write_bytes(original)
    os.symlink(target, root / ".codesearch" / entry)
    with pytest.raises(UnsafeIndexDir, match="symlink"):
        build_index(root, embedder=FakeEmbedder())
    assert target.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo", "victim"]


def test_planted_gitignore_link_to_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    """.codesearch/.gitignore -> a path outside that does not exist yet: it is never created."""
    root = _repo(tmp_path / "repo")
    (root / ".codesearch").mkdir()
    os.symlink(tmp_path / "created-outside", root / ".codesearch" / ".gitignore")
    with pytest.raises(UnsafeIndexDir):
        build_index(root, embedder=FakeEmbedder())
    assert not (tmp_path / "created-outside").exists()


def test_foreign_database_is_refused_unless_rebuild(tmp_path: Path) -> None:
    """An index.db that codesearch did not write is not extended with our tables; --rebuild replaces it."""
    root = _repo(tmp_path / "repo")
    original = _foreign_sqlite(root / ".codesearch" / "index.db")
    with pytest.raises(UnsafeIndexDir, match="not a codesearch index"):
        build_index(root, embedder=FakeEmbedder())
    assert (root / ".codesearch" / "index.db").read_bytes() == original
    report = build_index(root, embedder=FakeEmbedder(), rebuild=True)
    assert report.chunks_total == 2


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_entry_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    """An index directory entry that belongs to someone else is refused, for index and search."""
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    os.chown(root / ".codesearch" / "lock", 65534, 65534)
    with pytest.raises(UnsafeIndexDir, match="belongs to user id 65534"):
        build_index(root, embedder=FakeEmbedder())
    with pytest.raises(UnsafeIndexDir, match="belongs to user id 65534"):
        Searcher(root / ".codesearch", embedder=FakeEmbedder())


def test_search_refuses_a_symlinked_index_dir(tmp_path: Path) -> None:
    """search, like index, never follows a .codesearch that is a link (to someone else's index)."""
    other = _repo(tmp_path / "other")
    build_index(other, embedder=FakeEmbedder())
    root = _repo(tmp_path / "repo")
    os.symlink(other / ".codesearch", root / ".codesearch")
    with pytest.raises(UnsafeIndexDir, match="symlink"):
        find_index(root)
    with pytest.raises(UnsafeIndexDir, match="symlink"):
        Searcher(root / ".codesearch", embedder=FakeEmbedder())
    out = _run_cli("search", "alpha", str(root))
    assert out.returncode == 1 and "symlink" in out.stderr and "Traceback" not in out.stderr


# -- 3. and 9. reads stay inside the root and never block ----------------------------------


def _swap_after_discovery(monkeypatch: pytest.MonkeyPatch, swap) -> None:  # noqa: ANN001
    """Run ``swap`` once discovery has finished and before any file is read."""
    import codesearch.pipeline as pipeline

    real_walk = pipeline.walk

    def walk_then_swap(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        yield from real_walk(*args, **kwargs)
        swap()

    monkeypatch.setattr(pipeline, "walk", walk_then_swap)


def _index_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (root / ".codesearch").iterdir() if p.name.startswith("index.db"))


def test_file_swapped_for_an_outside_link_after_discovery_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race of item 3: b.py becomes a link to a secret between discovery and read."""
    root = _repo(tmp_path / "repo")
    secret = write(tmp_path, "secret.py", "def stolen():\n    '''TOPSECRET token.'''\n")

    def swap() -> None:
        (root / "b.py").unlink()
        os.symlink(secret, root / "b.py")

    _swap_after_discovery(monkeypatch, swap)
    report = build_index(root, embedder=FakeEmbedder())
    assert "symlink" in {s.path: s.reason for s in report.skipped}["b.py"]
    assert b"TOPSECRET" not in _index_bytes(root)


def test_directory_swapped_for_an_outside_link_after_discovery_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A parent directory replaced by a link to a directory holding a file of the same name."""
    root = _repo(tmp_path / "repo")
    write(root, "pkg/c.py", "def harmless():\n    return 0\n")
    write(tmp_path, "outside/c.py", "def stolen():\n    '''TOPSECRET token.'''\n")

    def swap() -> None:
        (root / "pkg" / "c.py").unlink()
        (root / "pkg").rmdir()
        os.symlink(tmp_path / "outside", root / "pkg")

    _swap_after_discovery(monkeypatch, swap)
    report = build_index(root, embedder=FakeEmbedder())
    assert "symlink" in {s.path: s.reason for s in report.skipped}["pkg/c.py"]
    assert b"TOPSECRET" not in _index_bytes(root)


def test_fifo_swapped_in_after_discovery_is_skipped_without_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file replaced by a FIFO (nobody writes to it) is skipped with a reason; the run does not hang."""
    root = _repo(tmp_path / "repo")
    os.mkfifo(root / "present.py")  # a FIFO at discovery time is reported too

    def swap() -> None:
        (root / "b.py").unlink()
        os.mkfifo(root / "b.py")

    _swap_after_discovery(monkeypatch, swap)
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("indexing blocked on a FIFO"))
    signal.alarm(30)
    try:
        report = build_index(root, embedder=FakeEmbedder())
    finally:
        signal.alarm(0)
    skipped = {s.path: s.reason for s in report.skipped}
    assert skipped["b.py"] == "not a regular file (FIFO)"
    assert skipped["present.py"] == "not a regular file (FIFO)"
    assert report.files == 1


# -- 4. and 13. moved repositories and shared index directories ---------------------------


def test_moved_repository_keeps_working(tmp_path: Path) -> None:
    """After `mv repo repo2`, search finds repo2's code (not whatever now sits at the old path)."""
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    moved = tmp_path / "repo2"
    root.rename(moved)
    write(root, "a.py", "def impostor():\n    '''Alpha helper, but from the old path.'''\n    return 9\n")
    with Searcher(moved / ".codesearch", embedder=FakeEmbedder()) as searcher:
        assert searcher.root == moved
        hits = searcher.search("alpha helper", k=5)
    assert hits and hits[0].qualname == "alpha" and hits[0].root == str(moved) and not hits[0].stale
    out = _run_cli("stats", "--json", str(moved))
    assert f'"root": "{moved}"' in out.stdout
    report = build_index(moved, embedder=FakeEmbedder())
    assert not report.changed  # nothing to re-read: paths are relative, the move is free


def test_repository_moved_away_from_an_external_index_is_detected(tmp_path: Path) -> None:
    """An index kept elsewhere says its repository is gone, and follows it when told the new place."""
    root = _repo(tmp_path / "repo")
    index_dir = tmp_path / "indexes" / "repo"
    build_index(root, index_dir, embedder=FakeEmbedder())
    moved = tmp_path / "repo2"
    root.rename(moved)
    with pytest.raises(RepositoryMoved, match="no longer exists"):
        Searcher(index_dir, embedder=FakeEmbedder())
    out = _run_cli("search", "alpha", "--index-dir", str(index_dir))
    assert out.returncode == 1 and "no longer exists" in out.stderr and "Traceback" not in out.stderr
    report = build_index(moved, index_dir, embedder=FakeEmbedder())
    assert report.moved_from == str(root)
    with Searcher(index_dir, embedder=FakeEmbedder()) as searcher:
        assert searcher.search("alpha helper", k=1)[0].root == str(moved)


def test_shared_index_dir_is_refused_for_a_second_repository(tmp_path: Path) -> None:
    """--index-dir of repository A used for repository B: refused naming A, unless --rebuild."""
    first = _repo(tmp_path / "first")
    second = write(tmp_path / "second", "c.go", "package c\n\nfunc Other() {}\n").parent
    shared = tmp_path / "shared-index"
    build_index(first, shared, embedder=FakeEmbedder())
    with pytest.raises(IndexConflict, match=str(first)):
        build_index(second, shared, embedder=FakeEmbedder())
    with IndexReader(shared) as reader:
        assert reader.root == first and reader.meta.count == 2
    report = build_index(second, shared, embedder=FakeEmbedder(), rebuild=True)
    assert report.chunks_total == 1
    with IndexReader(shared) as reader:
        assert reader.root == second
