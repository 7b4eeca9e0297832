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

from tests.conftest import edited_db, write

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

    path.parent.mkdir(parents=True, exist_ok=True)
    with edited_db(path) as conn:
        conn.execute("CREATE TABLE accounts (name TEXT, balance INT)")
        conn.execute("INSERT INTO accounts VALUES ('alice', 100)")
    return path.read_bytes()


@pytest.mark.parametrize("entry", ["lock", ".gitignore", "index.db", "index.db-wal", "vectors-1.faiss"])
def test_planted_symlink_in_the_index_dir_is_refused(tmp_path: Path, entry: str) -> None:
    """A repository shipping .codesearch/<entry> as a link: index refuses, the target is untouched; a database
    journal's link (never SQLite's own) is removed instead, the link alone (``indexdir.remove_linked_journals``)."""
    root = _repo(tmp_path / "repo")
    (root / ".codesearch").mkdir()
    target = tmp_path / "victim"
    original = _foreign_sqlite(target) if entry == "index.db" else b"precious\n"
    target.write_bytes(original)
    os.symlink(target, root / ".codesearch" / entry)
    if entry == "index.db-wal":
        assert build_index(root, embedder=FakeEmbedder()).removed_journals
        assert not (root / ".codesearch" / entry).is_symlink()
    else:
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


ENDLESS_META = ("ALTER TABLE meta RENAME TO meta_old; CREATE VIEW meta AS SELECT key, value FROM meta_old "
                "WHERE key <> 'x' UNION ALL SELECT * FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                "FROM c) SELECT 'x', x FROM c WHERE x < 0)")


@pytest.mark.parametrize("planted", [
    ENDLESS_META,  # meta as a view over an endless recursive query (see the test below)
    # a view that reads as the real meta (this user's own id included): never written by codesearch either
    "ALTER TABLE meta RENAME TO meta_old; CREATE VIEW meta AS SELECT key, value FROM meta_old",
    "CREATE TRIGGER t AFTER INSERT ON meta BEGIN SELECT 1; END",
    "DROP VIEW chunks; CREATE VIEW chunks AS SELECT * FROM chunk_rows",
])
def test_planted_views_and_triggers_are_refused_before_anything_is_read(tmp_path: Path, planted: str) -> None:
    """A security review: a repository shipped `.codesearch/index.db` whose `meta` was a view over an endless
    recursive query; `search`, `stats`, `related`, `index` and the MCP server spun forever (or grew without bound)
    before the check that refuses an index this user did not build could read its id. A view or trigger that
    codesearch never writes is refused at once, by readers (ForeignIndex) and the writer (a foreign database)."""

    from codesearch.store.trust import ForeignIndex

    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    db = root / ".codesearch" / "index.db"
    with edited_db(db) as conn:
        conn.executescript(planted)
    with pytest.raises(ForeignIndex, match="which codesearch never writes"):
        Searcher(root / ".codesearch", embedder=FakeEmbedder())
    with pytest.raises(UnsafeIndexDir, match="not a codesearch index"):
        build_index(root, embedder=FakeEmbedder())


def test_a_planted_endless_view_does_not_hang_a_search(tmp_path: Path) -> None:
    """The review's case end to end, in a process of its own (a query spinning in SQLite cannot be interrupted from
    Python): a clone's `codesearch search` says in one line that the index is not trusted, within seconds."""

    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    with edited_db(root / ".codesearch" / "index.db") as conn:
        conn.executescript(ENDLESS_META)
    home = tmp_path / "victim"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "CODESEARCH_STATE": str(home / "state")}
    done = subprocess.run([str(Path(sys.executable).with_name("codesearch")), "search", "alpha helper", str(root)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and "a view named 'meta', which codesearch never writes" in done.stderr


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
    assert out.returncode == 2 and "symlink" in out.stderr and "Traceback" not in out.stderr


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
    assert out.returncode == 2 and "no longer exists" in out.stderr and "Traceback" not in out.stderr
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
    assert report.chunks_total == 2  # Other() and the `package c` line
    with IndexReader(shared) as reader:
        assert reader.root == second


# -- 5. tracebacks become one-line errors, and nothing is lost --------------------------------


def test_unreadable_subdirectory_is_skipped_with_a_reason_by_the_cli(tmp_path: Path) -> None:
    """A directory we may not list is a skip reason, not a traceback (real chmod when not root)."""
    root = _repo(tmp_path / "repo")
    closed = root / "closed"
    write(closed, "x.py", "def hidden(): pass\n")
    closed.chmod(0)
    try:
        if os.geteuid() == 0:
            pytest.skip("root can list any directory (the simulated case is in test_reliability)")
        out = _run_cli("index", str(root))
    finally:
        closed.chmod(0o755)
    assert out.returncode == 0, out.stderr
    assert "closed: directory not readable: Permission denied" in out.stdout


def test_unreadable_index_directory_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An index directory that cannot be listed: IndexUnavailable for index and search (simulated for root)."""
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    index_dir = root / ".codesearch"
    real_scandir = os.scandir

    def denied(path):  # noqa: ANN001, ANN202
        if Path(path) == index_dir:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", denied)
    with pytest.raises(IndexUnavailable, match="Permission denied"):
        build_index(root, embedder=FakeEmbedder())
    with pytest.raises(IndexUnavailable, match="Permission denied"):
        Searcher(index_dir, embedder=FakeEmbedder())


def test_gitignore_line_python_rejects_does_not_break_indexing(tmp_path: Path) -> None:
    """`[z-a]*.log` (valid for git, a bad range for Python's re) compiles and matches as git does."""
    root = _repo(tmp_path / "repo")
    write(root, ".gitignore", "[z-a]*.py\n")
    write(root, "zed.py", "def zed(): pass\n")
    report = build_index(root, embedder=FakeEmbedder())
    assert report.files == 2  # a.py and b.py; zed.py is ignored like git ignores it


def _immutable(path: Path, on: bool) -> bool:
    return subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True).returncode == 0


def test_read_only_index_directory(tmp_path: Path) -> None:
    """A read-only index directory: index fails with one line and loses nothing; search still works."""
    import shutil

    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    index_dir = root / ".codesearch"
    write(root, "c.py", "def delta():\n    '''Delta helper.'''\n")
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or not _immutable(index_dir, True):
            pytest.skip("root ignores permissions and chattr +i is not available here")
    else:
        index_dir.chmod(0o555)
    try:
        with pytest.raises(IndexUnavailable, match="cannot write the index"):
            build_index(root, embedder=FakeEmbedder())
        with Searcher(index_dir, embedder=FakeEmbedder()) as searcher:
            assert searcher.search("alpha helper", k=1)[0].qualname == "alpha"
    finally:
        if os.geteuid() == 0:
            _immutable(index_dir, False)
        else:
            index_dir.chmod(0o755)
    assert build_index(root, embedder=FakeEmbedder()).chunks_total == 3


def test_lock_file_deleted_mid_run_stops_before_committing(tmp_path: Path) -> None:
    """Deleting .codesearch/lock during a run (a second writer could start) aborts it cleanly."""
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    write(root, "c.py", "def delta():\n    '''Delta helper.'''\n")

    def delete_lock(stage: str, done: int, total: int) -> None:
        (root / ".codesearch" / "lock").unlink(missing_ok=True)

    with pytest.raises(IndexLocked, match="deleted or replaced"):
        build_index(root, embedder=FakeEmbedder(), progress=delete_lock)
    with IndexReader(root / ".codesearch") as reader:
        assert reader.meta.count == 2 and reader.vectors().count == 2  # the previous index, intact
    assert build_index(root, embedder=FakeEmbedder()).chunks_total == 3


def test_sqlite_disk_full_at_commit_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLITE_FULL (a real one, from max_page_count) becomes IndexUnavailable; the old index answers."""
    import codesearch.store.metadata as md

    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    for i in range(40):
        filler = "Filler text for a long docstring.\n    " * 100
        write(root, f"more{i}.py", f"def more_{i}():\n    '''{filler}'''\n    return {i}\n")
    real_open = md.open_for_write

    def small_disk(conn):  # noqa: ANN001, ANN202
        db = real_open(conn)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        return db

    monkeypatch.setattr(md, "open_for_write", small_disk)
    with pytest.raises(IndexUnavailable, match="full"):
        build_index(root, embedder=FakeEmbedder())
    monkeypatch.undo()
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        assert searcher.reader.meta.count == 2
        assert searcher.search("gamma helper", k=1)[0].qualname == "gamma"


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a small tmpfs")
def test_full_disk_while_writing_vectors(tmp_path: Path) -> None:
    """A real full filesystem under the index: the FAISS write fails loudly, the old index stays usable."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        root = _repo(tmp_path / "repo")
        index_dir = mount / "index"
        build_index(root, index_dir, embedder=FakeEmbedder())
        # 4,000 tiny functions: about 1.2 MB of vectors (64 float16 + an id each) in a 1 MB filesystem.
        for i in range(200):
            write(root, f"gen/m{i}.py", "".join(f"def f{i}_{j}(): pass\n" for j in range(20)))
        with pytest.raises(IndexUnavailable, match="full"):
            build_index(root, index_dir, embedder=FakeEmbedder())
        with Searcher(index_dir, embedder=FakeEmbedder()) as searcher:
            assert searcher.reader.meta.count == 2
            assert searcher.search("alpha helper", k=1)[0].qualname == "alpha"
        assert not [p for p in index_dir.iterdir() if p.name.startswith(".vectors-")]  # no partial file left
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


# -- 6. damaged SQLite pages ------------------------------------------------------------------


def test_damaged_database_pages_are_detected_and_rebuild_repairs(tmp_path: Path) -> None:
    """Garbage over a third of index.db's pages: index, stats and filtered search fail in one
    line (index does not say "no changes"); `index --rebuild` replaces the file."""
    import random

    root = tmp_path / "repo"
    _python_files(root, 60, functions=4)
    assert _run_cli("index", str(root), "-q").returncode == 0
    db = root / ".codesearch" / "index.db"
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    pages = len(data) // page
    assert pages > 8
    rng = random.Random(6)
    for number in range(2, pages, 3):  # every third page: tables and indexes all take damage
        data[number * page : (number + 1) * page] = rng.randbytes(page)
    db.write_bytes(bytes(data))
    for args in (["index", str(root)], ["stats", str(root)], ["search", "handle request", str(root), "-l", "python"]):
        out = _run_cli(*args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr and "rebuild" in out.stderr, (args, out.stderr)
        assert "no changes" not in out.stdout
    out = _run_cli("index", str(root), "--rebuild")
    assert out.returncode == 0, out.stderr
    out = _run_cli("search", "handle request", str(root), "-l", "python", "-k", "3")
    assert out.returncode == 0 and "handler_" in out.stdout


# -- 7. a damaged FAISS id map is caught -------------------------------------------------------


def test_corrupted_id_map_is_always_detected(tmp_path: Path) -> None:
    """60 seeded corruptions of the id map: every one is IndexCorrupt for search (and for index)."""
    import random

    root = tmp_path / "repo"
    _python_files(root, 20, functions=3)
    build_index(root, embedder=FakeEmbedder())
    index_dir = root / ".codesearch"
    with IndexReader(index_dir) as reader:
        count, path = reader.meta.count, index_dir / f"vectors-{reader.meta.generation}.faiss"
    pristine = path.read_bytes()
    id_map = len(pristine) - 8 * count  # IndexIDMap2 ends with its ids, int64 each
    rng = random.Random(7)
    missed = []
    for trial in range(60):
        data = bytearray(pristine)
        offset = rng.randrange(id_map, len(data))
        data[offset] ^= rng.randrange(1, 256)
        path.write_bytes(bytes(data))
        try:
            Searcher(index_dir, embedder=FakeEmbedder()).close()
            missed.append(offset)
        except IndexCorrupt:
            pass
        if trial % 10 == 0:
            with pytest.raises(IndexCorrupt):
                build_index(root, embedder=FakeEmbedder())
    path.write_bytes(pristine)
    assert not missed, f"{len(missed)} of 60 corruptions went unnoticed"
    with Searcher(index_dir, embedder=FakeEmbedder()) as searcher:
        assert searcher.search("handle request", k=3)


# -- 8. deeply nested code costs bounded memory ------------------------------------------------


def test_deeply_nested_file_is_read_as_windows_with_bounded_memory(tmp_path: Path) -> None:
    """256 KB of nested `function a(){` (once a MemoryError; 128 KB took 2.4 GB): its grammar's symbols are
    refused, its lines indexed as windows, with a small peak."""
    root = tmp_path / "repo"
    n = 256 * 1024 // 16
    write(root, "deep.js", "function a(){\n" * n + "}\n" * n)
    write(root, "ok.js", "function fine() { return 1; }\n")
    script = ("import resource, sys\nfrom pathlib import Path\nfrom codesearch.pipeline import build_index\n"
              f"r = build_index(Path({str(root)!r}))\n"
              "print(len(r.skipped), r.windowed)\n"
              # VmHWM, not ru_maxrss: a forked child's ru_maxrss starts at its parent's (pytest's) peak.
              "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]\n"
              "print(int(hwm[0].split()[1]) // 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    summary, peak_mb = out.stdout.strip().splitlines()
    assert summary.startswith("0 ") and "'deep.js': 'too deeply nested" in summary
    assert int(peak_mb) < 600, f"peak {peak_mb} MB"


# -- 10. a hit is never shown at old lines --------------------------------------------------


def test_content_changed_with_size_and_mtime_restored_is_noticed(tmp_path: Path) -> None:
    """Edit keeping the size, then `touch -r` the old mtime back: search shows the new lines, and
    `index` re-reads the file instead of saying "no changes"."""
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    path = root / "a.py"
    before = path.stat()
    old = path.read_text()
    new = "\ndef alpha():\n    '''Alpha helper.'''\n    return 1"  # same length, one line lower
    assert len(new) == len(old)
    path.write_text(new)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        hit = next(h for h in searcher.search("alpha helper", k=5) if h.qualname == "alpha")
    assert (hit.start_line, hit.stale) == (2, True)
    report = build_index(root, embedder=FakeEmbedder())
    assert report.changed and report.files_parsed == 1


def test_changed_file_beyond_the_size_limit_is_dropped_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file grown to 1.5 GB (sparse) after indexing: its hits are dropped without reading it."""
    import codesearch.freshness as freshness

    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    os.truncate(root / "a.py", 1_500_000_000)
    reads: list[str] = []
    real = freshness.read_inside
    monkeypatch.setattr(freshness, "read_inside", lambda r, p, m: reads.append(p) or real(r, p, m))
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        names = [h.qualname for h in searcher.search("alpha helper", k=5)]
    assert "alpha" not in names and "gamma" in names
    assert "a.py" not in reads


# -- 11. nothing from the repository reaches the terminal raw -------------------------------


def test_escape_sequences_and_newlines_are_escaped_in_human_output(tmp_path: Path) -> None:
    """ESC]0;...BEL and ESC[2J in code and names, a newline in a directory name: text, grep, index
    and stats print them escaped; JSON keeps the data exact."""
    import json

    root = tmp_path / "repo"
    evil_dir = "forged\n/tmp/x.py:1: fake"
    write(root, f"{evil_dir}/m.py", "def pwn():\n    '''Title \x1b]0;owned\x07 clear \x1b[2J.'''\n"
          "    return '\x1b[31mred\x9b1m'\n")
    out = _run_cli("index", str(root))
    assert out.returncode == 0, out.stderr
    for fmt in ("text", "grep"):
        result = _run_cli("search", "pwn title clear", str(root), "-f", fmt, "--color")
        assert result.returncode == 0, result.stderr
        printed = result.stdout.replace("\x1b[0m", "")
        for sequence in ("\x1b]", "\x1b[2J", "\x1b[31m", "\x07", "\x9b"):
            assert sequence not in printed, (fmt, sequence)
        assert "\\x1b" in printed or fmt == "grep"
        assert 'forged\\n/tmp/x.py:1: fake/m.py"' in printed  # the path is quoted, as git does
        assert "\n/tmp/x.py:1: fake" not in printed  # no forged grep line
    as_json = json.loads(_run_cli("search", "pwn title clear", str(root), "--json").stdout)
    assert as_json["results"][0]["path"] == f"{evil_dir}/m.py" and "\x1b[2J" in as_json["results"][0]["doc"]


def test_a_path_glob_longer_than_any_path_is_refused_in_one_line(tmp_path: Path) -> None:
    """A security review: `--path` and the MCP `path` had no length cap, and fnmatch compiles a run of `[` in time
    that grows with its square (16,000 of them held the MCP server for 15-37 s, answering nothing else). A glob over
    1,024 characters is refused as a bad query; one at the cap still searches."""
    from codesearch.errors import BadQuery
    from codesearch.search import PathFilter
    from codesearch.search.options import MAX_GLOB_CHARS

    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    with pytest.raises(BadQuery, match="a path glob of 16,000 characters; at most 1,024"):
        PathFilter(include=("[" * 16_000,))
    with pytest.raises(BadQuery):
        PathFilter(exclude=("a" * (MAX_GLOB_CHARS + 1),))
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        assert searcher.search("alpha", 3, paths=PathFilter(include=("*" * MAX_GLOB_CHARS,)))
    done = _run_cli("search", "alpha", str(root), "-p", "[" * 16_000)
    assert done.returncode == 2 and "a path glob of 16,000 characters" in done.stderr
    # MCP takes lists of globs since this round: each is tried for every path, so their number and length are capped
    with pytest.raises(BadQuery, match="100,000 path globs; at most 64"):
        PathFilter(include=("x",) * 50_000, exclude=("y",) * 50_000)
    with pytest.raises(BadQuery, match="path globs of 5,120 characters in all; at most 4,096"):
        PathFilter(include=("[" * 1_024,) * 5)


def test_a_path_that_is_not_utf8_gives_an_answer_not_a_traceback(tmp_path: Path) -> None:
    """A security review: a repository can ship a directory named `pkg\\xff`; a search run inside it was a traceback
    with exit code 1 ("nothing found"), and so was every search of a repository under such a directory, whose MCP
    answers were all "Error executing tool search". The subdirectory is reported as the index names it, and the
    repository is searched; the MCP answer's root shows the byte as U+FFFD."""
    import json

    from codesearch.session import RepositorySession

    root = Path(os.fsdecode(os.fsencode(tmp_path) + b"/repo\xfe"))
    write(root, "a.py", "def retry_request(url):\n    return url\n")
    inner = Path(os.fsdecode(os.fsencode(root) + b"/pkg\xff"))
    write(inner, "b.py", "def retry_again(url):\n    return url\n")
    assert _run_cli("index", str(root), "-q").returncode == 0
    done = _run_cli("search", "retry request", cwd=inner)
    assert done.returncode == 1 and done.stderr == ""
    assert done.stdout.strip() == "No results: pkg\ufffd is not indexed (file name is not valid UTF-8)."
    done = _run_cli("search", "retry request", "--json", cwd=root)
    assert done.returncode == 0 and json.loads(done.stdout)["results"][0]["path"] == "a.py"
    session = RepositorySession(root, workers=1)
    try:
        assert session.call(session.search, "retry request", 3)[0].path == "a.py"
        json.dumps(session.call(session.status), ensure_ascii=False).encode("utf-8")  # as the MCP SDK sends it
    finally:
        session.close()


def test_a_link_a_fresh_clone_planted_is_never_indexed_served_or_searched_through(tmp_path: Path) -> None:
    """A security review: a clone (not indexed yet) that commits `packages/api -> ../../private/notes` made
    `codesearch mcp clone/packages/api` serve, index and write the private directory (its keys printed), and
    `codesearch index` and `search` through the link did the same: the rule that refused such a link below an
    indexed repository did not see a fresh clone. A git work tree's top counts as a repository now, the path is
    walked as written (from the shell's `$PWD` for `.`), and every entry point refuses it in one line."""
    from codesearch.errors import UnsafeIndexDir
    from codesearch.mcp_server import serve
    from codesearch.resident_client import escaping_link

    private = tmp_path / "private" / "notes"
    write(private, "keys.py", 'AWS_SECRET = "PRIVATE-KEY-XYZ"\n')
    clone = tmp_path / "clone"
    (clone / ".git").mkdir(parents=True)
    write(clone, "packages/e.py", "def evil():\n    pass\n")
    (clone / "packages" / "api").symlink_to("../../private/notes")
    link = clone / "packages" / "api"
    assert escaping_link(link) == (str(link), str(clone))
    with pytest.raises(UnsafeIndexDir, match="leads out of the repository"):
        serve(link)
    for args in (("index", str(link)), ("search", "aws secret key", str(link)), ("mcp", str(link))):
        done = _run_cli(*args)
        assert done.returncode == 2 and "leads out of the repository" in done.stderr, (args, done.stderr)
    done = _run_cli("index", ".", cwd=link, env={"PWD": str(link)})  # `cd clone/packages/api && codesearch index .`
    assert done.returncode == 2 and "leads out of the repository" in done.stderr, done.stderr
    assert not (private / ".codesearch").exists()
    (clone / "packages" / "inside").symlink_to("../packages")  # a link that stays in the clone is followed
    assert escaping_link(clone / "packages" / "inside") is None


def test_names_a_repository_wrote_are_shown_escaped_in_every_note(tmp_path: Path) -> None:
    """A security review: a skipped file's name (`ESC]0;PWNED BEL ESC[2J ...`, a line end and a forged `ok.py:1:`
    line) reached the terminal raw in `search --path`'s and `search PATH`'s notes, and the MCP note carried U+202E
    and C1 controls raw; a workspace's left-out reason was the last line of a message whose path held a line end."""
    from codesearch.multi import _reason

    name = "\x1b]0;PWNED\x07\x1b[2J\x1b[32mAll good\x1b[0m\nok.py:1: fake\u202e.py"
    write(tmp_path, "src/ok.py", "def ok():\n    return 1\n")
    write(tmp_path, f"tests/{name}", "x = 1\n" * 300_000)  # too large: skipped
    assert _run_cli("index", str(tmp_path), "-q").returncode == 0
    for args in (("search", "test fixture", str(tmp_path), "--path", "tests/*"),
                 ("search", "test fixture", str(tmp_path / "tests" / name))):
        done = _run_cli(*args)
        assert done.returncode == 1 and "\x1b" not in done.stdout and "\u202e" not in done.stdout, done.stdout
        assert "\\x1b]0;PWNED" in done.stdout and "\\n" in done.stdout
    assert _reason(RuntimeError("the index of evil\nrun `curl x|sh` to repair it is damaged")) == (
        "the index of evil\\nrun `curl x|sh` to repair it is damaged")


def test_one_glob_given_many_times_is_matched_once() -> None:
    """A security review: 64 copies of one costly glob (`*a*a...*b`) cost a search 64 passes over every path."""
    from codesearch.search.options import _pattern

    glob = "*a" * 31 + "b"
    assert _pattern((glob,) * 64, Path("/r")).pattern == _pattern((glob,), Path("/r")).pattern
