"""The index directory is untrusted: a forged index never reads outside the repository the
user gave, only indexes this user built are read, and `--rebuild` repairs what errors name."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.errors import IndexConflict, IndexCorrupt, UnsafeIndexDir
from codesearch.pipeline import build_index
from codesearch.render import deleted_untrusted
from codesearch.search import Searcher
from codesearch.store.lock import writer_lock
from tests.conftest import FakeEmbedder, write

SECRET = "BEGIN OPENSSH PRIVATE KEY"


def _repo(root: Path) -> Path:
    write(root, "notes.py", "def leak():\n    '''Read the notes.'''\n    return 'public notes'\n")
    write(root, "b.py", "def gamma():\n    '''Gamma helper.'''\n    return 3\n")
    return root


def _victim(home: Path) -> Path:
    """A directory outside the repository holding a secret under the indexed file's name."""
    write(home, "notes.py", f"def leak():\n    '''Read the notes.'''\n    return '{SECRET} hunter2'\n")
    return home


def _set_meta(index_dir: Path, **values: str | None) -> None:
    with sqlite3.connect(index_dir / "index.db") as conn:
        for key, value in values.items():
            if value is None:
                conn.execute("DELETE FROM meta WHERE key = ?", [key])
            else:
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])
    conn.close()


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert not isinstance(result.exception, (AssertionError, TypeError, OSError)), result.exception
    return result.exit_code, result.output


def _shipped_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder=None) -> tuple[Path, Path]:
    """A clone whose .codesearch was built elsewhere (another user's registry), with its root
    edited to point at the victim's directory; returns (clone, victim)."""
    victim = _victim(tmp_path / "home")
    clone = _repo(tmp_path / "work" / "clone")
    monkeypatch.setenv("CODESEARCH_STATE", str(tmp_path / "attacker-state"))
    build_index(clone, embedder=embedder)
    monkeypatch.setenv("CODESEARCH_STATE", str(tmp_path / "victim-state"))
    _set_meta(clone / ".codesearch", root=os.path.relpath(victim, clone / ".codesearch"))
    return clone, victim


# -- 1. an index the user did not build is not read; reads stay inside the given root -------


def test_forged_root_in_own_index_never_reads_outside_the_repository(tmp_path: Path) -> None:
    """Even in an index this user built, an edited `root` cannot move the freshness re-read outside."""
    victim = _victim(tmp_path / "home")
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    _set_meta(root / ".codesearch", root=os.path.relpath(victim, root / ".codesearch"))
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        assert searcher.root == root
        hits = searcher.search("read the notes leak", k=5)
    assert hits and all(SECRET not in h.code for h in hits)
    assert {h.root for h in hits} == {str(root)}


def test_shipped_index_is_refused_by_every_read_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """search, search --json, related and stats refuse a shipped index in one line; nothing secret is printed."""
    clone, _ = _shipped_index(tmp_path, monkeypatch)
    monkeypatch.chdir(clone)
    for args in (["search", "read the notes", str(clone)], ["search", "read the notes", "--json", str(clone)],
                 ["related", "notes.py:2"], ["stats", str(clone)]):
        code, out = _cli(*args)
        assert code == 2, (args, out)
        assert SECRET not in out and "codesearch index --rebuild" in out and "not built by you" in out
        assert len(out.strip().splitlines()) == 1, out


def test_shipped_index_is_refused_by_the_read_only_mcp_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    from codesearch.session import RepositorySession

    clone, _ = _shipped_index(tmp_path, monkeypatch, embedder=FakeEmbedder())
    session = RepositorySession(clone, embedder=FakeEmbedder(), auto_index=False)
    try:
        with pytest.raises(UnsafeIndexDir, match="not built by you"):
            session.call(session.search, "read the notes", k=5)
    finally:
        session.close()


def test_index_rebuilds_a_shipped_index_from_scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`codesearch index` on a foreign index deletes it, builds the user's own and says so."""
    clone, _ = _shipped_index(tmp_path, monkeypatch, embedder=FakeEmbedder())
    (clone / ".codesearch" / "vectors-7.faiss").write_bytes(b"planted")
    report = build_index(clone, embedder=FakeEmbedder())
    assert report.replaced_untrusted and report.chunks_total == 2
    assert not (clone / ".codesearch" / "vectors-7.faiss").exists()
    with Searcher(clone / ".codesearch", embedder=FakeEmbedder()) as searcher:
        hits = searcher.search("read the notes leak", k=5)
    assert hits and all(SECRET not in h.code for h in hits)
    assert not build_index(clone, embedder=FakeEmbedder()).replaced_untrusted  # now it is ours


def test_index_without_an_id_is_foreign_once(tmp_path: Path) -> None:
    """An index from before index ids is refused for reading and rebuilt once by `index`."""
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    _set_meta(root / ".codesearch", index_id=None)
    with pytest.raises(UnsafeIndexDir, match=r"codesearch index --rebuild"):
        Searcher(root / ".codesearch", embedder=FakeEmbedder())
    assert build_index(root, embedder=FakeEmbedder()).replaced_untrusted
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        assert searcher.search("gamma helper", k=1)[0].qualname == "gamma"


def test_copied_repository_keeps_its_trust(tmp_path: Path) -> None:
    """A copy of the user's own repository (same index id) is searched under the copy's root."""
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    with Searcher(copy / ".codesearch", embedder=FakeEmbedder()) as searcher:
        assert searcher.root == copy
        assert searcher.search("gamma helper", k=1)[0].root == str(copy)


def test_registry_is_owner_only_and_refuses_a_symlink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codesearch.store import trust

    state = tmp_path / "state"
    monkeypatch.setenv("CODESEARCH_STATE", str(state))
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    entries = list((state / "indexes").iterdir())
    assert len(entries) == 1 and trust.valid_id(entries[0].name)
    assert stat.S_IMODE((state / "indexes").stat().st_mode) == 0o700
    assert stat.S_IMODE(entries[0].stat().st_mode) == 0o600
    shutil.move(state / "indexes", tmp_path / "elsewhere")
    (state / "indexes").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafeIndexDir, match="symlink"):
        Searcher(root / ".codesearch", embedder=FakeEmbedder())
    with pytest.raises(UnsafeIndexDir, match="symlink"):
        build_index(root, embedder=FakeEmbedder())


# -- 2. --rebuild repairs whatever an error names ---------------------------------------


@pytest.mark.parametrize("values", [{"schema_version": "4x"}, {"dim": "6\x004"}, {"generation": "one"}])
def test_rebuild_repairs_a_damaged_meta_value(tmp_path: Path, values: dict[str, str]) -> None:
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    _set_meta(root / ".codesearch", **values)
    with pytest.raises(IndexCorrupt, match="--rebuild"):
        Searcher(root / ".codesearch", embedder=FakeEmbedder())
    report = build_index(root, embedder=FakeEmbedder(), rebuild=True)
    assert report.chunks_total == 2
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        assert searcher.search("gamma helper", k=1)[0].qualname == "gamma"


@pytest.mark.parametrize("name", ["index.db", "index.db-wal", "index.db-shm"])
def test_rebuild_replaces_a_database_file_that_is_a_directory(tmp_path: Path, name: str) -> None:
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    index_dir = root / ".codesearch"
    for entry in ("index.db", "index.db-wal", "index.db-shm"):
        (index_dir / entry).unlink(missing_ok=True)
    (index_dir / name).mkdir()
    write(index_dir / name, "inside", "x")
    with pytest.raises(IndexCorrupt, match="--rebuild"):
        build_index(root, embedder=FakeEmbedder())
    report = build_index(root, embedder=FakeEmbedder(), rebuild=True)
    assert report.chunks_total == 2 and (index_dir / "index.db").is_file()
    with Searcher(index_dir, embedder=FakeEmbedder()) as searcher:
        assert searcher.search("gamma helper", k=1)[0].qualname == "gamma"


# -- 3. hard links in the index directory ------------------------------------------------


@pytest.mark.parametrize("entry", ["lock", "index.db-wal", "index.db-shm"])
def test_hardlinked_entry_is_refused_and_its_target_untouched(tmp_path: Path, entry: str) -> None:
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    index_dir = root / ".codesearch"
    precious = write(tmp_path / "outside", "precious.txt", "do not overwrite\n")
    (index_dir / entry).unlink(missing_ok=True)
    os.link(precious, index_dir / entry)
    write(root, "c.py", "def delta():\n    return 4\n")
    with pytest.raises(UnsafeIndexDir, match="hard link"):
        Searcher(index_dir, embedder=FakeEmbedder())
    if entry == "lock":
        with pytest.raises(UnsafeIndexDir, match="hard link"):
            build_index(root, embedder=FakeEmbedder())
    else:  # a journal's link is never SQLite's own: the next index run removes the link alone, and names it
        report = build_index(root, embedder=FakeEmbedder())
        assert report.removed_journals == (entry,)
        assert f"beside the index ({entry}) was not left" in " ".join(deleted_untrusted(report))
        assert precious.stat().st_nlink == 1
    assert precious.read_text() == "do not overwrite\n"


def test_writer_lock_never_truncates_a_hardlinked_lock_file(tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    index_dir.mkdir()
    precious = write(tmp_path, "precious.txt", "do not overwrite\n")
    os.link(precious, index_dir / "lock")
    with pytest.raises(UnsafeIndexDir, match="hard link"):
        with writer_lock(index_dir):
            pass
    assert precious.read_text() == "do not overwrite\n"


def test_index_file_removed_after_opening_still_reads(tmp_path: Path) -> None:
    """An update that finishes between a search's open and its checks removes the old generation's
    files; the open descriptor has no link left and still reads a complete snapshot."""
    from codesearch.store.indexdir import check_plain_file, open_index_file

    path = write(tmp_path, "vectors-1.faiss", "snapshot")
    fd = open_index_file(path, "vector file")
    try:
        path.unlink()
        assert check_plain_file(fd, path, "vector file").st_nlink == 0
        assert os.read(fd, 8) == b"snapshot"
    finally:
        os.close(fd)


# -- 4. an index named by --index-dir must belong to the PATH given with it ----------------


def test_index_of_another_root_is_refused(tmp_path: Path) -> None:
    first = _repo(tmp_path / "first")
    second = write(tmp_path / "second", "c.py", "def other():\n    return 1\n").parent
    build_index(first)
    with pytest.raises(IndexConflict) as raised:
        Searcher(first / ".codesearch", root=second)
    assert str(first) in str(raised.value) and str(second) in str(raised.value)
    code, out = _cli("search", "read the notes", str(second), "--index-dir", str(first / ".codesearch"))
    assert code == 2 and str(first) in out and str(second) in out and "--index-dir" in out
    assert "public notes" not in out and len(out.strip().splitlines()) == 1
    code, out = _cli("search", "read the notes", str(first), "--index-dir", str(first / ".codesearch"))
    assert code == 0 and "notes.py" in out


# -- 5. an unreadable index directory is a one-line error -----------------------------------


def _deny(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    """Make ``directory`` behave as after `chmod 000` (tests run as root, where chmod does not deny)."""
    inside = str(directory) + os.sep

    def denied(real):
        def call(path, *args, **kwargs):
            text = os.fspath(path) if not isinstance(path, int) else ""
            if isinstance(text, str) and (text.startswith(inside) or text == str(directory)) and \
                    not (real is os.lstat and text == str(directory)):
                raise PermissionError(13, "Permission denied", text)
            return real(path, *args, **kwargs)
        return call

    for name in ("stat", "lstat", "scandir", "open"):
        monkeypatch.setattr(os, name, denied(getattr(os, name)))


@pytest.mark.parametrize("command", ["search", "stats"])
def test_unreadable_index_dir_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    root = _repo(tmp_path / "repo")
    build_index(root)
    _deny(monkeypatch, root / ".codesearch")
    args = ["search", "gamma", str(root)] if command == "search" else ["stats", str(root)]
    code, out = _cli(*args)
    assert code == 2 and "cannot read the index directory" in out and "Traceback" not in out, out
    assert len(out.strip().splitlines()) == 1


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads through chmod 000")
def test_chmod_000_index_dir_is_one_line(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    build_index(root)
    (root / ".codesearch").chmod(0)
    try:
        code, out = _cli("stats", str(root))
    finally:
        (root / ".codesearch").chmod(0o700)
    assert code == 2 and "cannot read the index directory" in out


# -- 6. a FIFO in place of an index file does not block ------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="no FIFOs")
@pytest.mark.parametrize("name", ["vectors-1.faiss", "lexical-1.bin"])
def test_fifo_in_place_of_an_index_file_fails_fast(tmp_path: Path, name: str) -> None:
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    fifo = root / ".codesearch" / name
    fifo.unlink()
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def open_index() -> None:
        try:
            Searcher(root / ".codesearch", embedder=FakeEmbedder()).close()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            outcome.append(exc)

    thread = threading.Thread(target=open_index, daemon=True)
    thread.start()
    thread.join(timeout=20)
    if thread.is_alive():  # unblock the stuck open before failing, so the run can end
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
        thread.join(timeout=5)
        pytest.fail(f"opening an index with a FIFO as {name} blocked")
    assert isinstance(outcome[0], IndexCorrupt) and "not a regular file" in str(outcome[0])


def test_a_first_index_replaces_nothing_and_says_nothing_of_it(tmp_path: Path) -> None:
    """A new index (its database an empty file when the run opens it) is the user's own from the start:
    no report of a replaced index, in the report or in what `codesearch index` prints (every first run
    said so once: the check asked a new database for a `meta` row it had no table for). A database of ours
    with anything in it and no registered id is replaced, an empty `meta` table included (the old check
    kept that one, and the run then failed on it: "table meta already exists")."""
    root = _repo(tmp_path / "repo")
    assert not build_index(root, embedder=FakeEmbedder()).replaced_untrusted
    other = _repo(tmp_path / "other")
    out = CliRunner().invoke(cli, ["index", str(other), "--index-dir", str(tmp_path / "elsewhere")])
    assert out.exit_code == 0 and "Indexed" in out.output, out.output
    assert "not built by you" not in out.output
    from codesearch.store.metadata import APPLICATION_ID

    for name, tables in (("planted", ("notes (x)",)), ("empty-meta", ("meta (key TEXT PRIMARY KEY, value)", "notes (x)"))):
        planted = _repo(tmp_path / name)  # a database of ours with anything in it and no id is not new
        (planted / ".codesearch").mkdir()
        with sqlite3.connect(planted / ".codesearch" / "index.db") as conn:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            for table in tables:
                conn.execute(f"CREATE TABLE {table}")
        assert build_index(planted, embedder=FakeEmbedder()).replaced_untrusted, name
        with sqlite3.connect(planted / ".codesearch" / "index.db") as conn:
            assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'notes'").fetchone(), name


def test_a_copy_of_one_of_your_indexes_never_reads_its_repository(tmp_path: Path) -> None:
    """A copy of an index this user built (its id in the registry), shipped in another repository with its root
    rewritten: `search` read and printed the original repository's files as they were now (the registry's root for
    that id), and `index` took it for the original moved there and re-registered the id. Now the search is refused,
    and an index run starts the copy afresh under an id of its own, leaving the original's registration alone."""
    original = _victim(tmp_path / "home")
    build_index(original, embedder=FakeEmbedder())
    clone = _repo(tmp_path / "work" / "clone")
    shutil.copytree(original / ".codesearch", clone / ".codesearch")
    _set_meta(clone / ".codesearch", root="/nonexistent")
    with pytest.raises(IndexConflict, match="a copy of that index"):
        with Searcher(clone / ".codesearch", embedder=FakeEmbedder()) as searcher:
            searcher.search("read the notes", k=3)
    code, out = _cli("search", "read the notes", str(clone), "--fast", "--all", "--format", "json")
    assert code == 2 and SECRET not in out and "a copy of that index" in out, out
    report = build_index(clone, embedder=FakeEmbedder())
    assert report.replaced_untrusted and not report.moved_from
    with Searcher(clone / ".codesearch", embedder=FakeEmbedder()) as searcher:
        assert all(SECRET not in r.code for r in searcher.search("read the notes", k=5))
    with Searcher(original / ".codesearch", embedder=FakeEmbedder()) as searcher:  # the original still answers
        assert any(SECRET in r.code for r in searcher.search("read the notes", k=5))


def test_a_moved_repository_keeps_its_index_id(tmp_path: Path) -> None:
    """Moved with its index (nothing of the id left where it was): the same index, the same id."""
    first = _repo(tmp_path / "a" / "repo")
    built = build_index(first, embedder=FakeEmbedder())
    moved = tmp_path / "b" / "repo"
    moved.parent.mkdir()
    first.rename(moved)
    again = build_index(moved, embedder=FakeEmbedder())
    assert not again.replaced_untrusted and again.index_id == built.index_id


def test_a_path_through_a_symlink_the_repository_planted_never_reaches_another_index(tmp_path: Path) -> None:
    """`search QUERY dirlink` (a directory link the repository planted, pointing into another repository this user
    indexed) and `search QUERY helper.py` (a file link) searched the index above the link's target and printed its
    code: the console script's fast path and the CLI alike. Now both are refused in one line; a link above every
    repository (the repository reached through an alias) is followed as before."""
    import subprocess

    other = _victim(tmp_path / "home" / "project")
    repo = _repo(tmp_path / "work" / "repo")
    for root in (other, repo):
        assert _cli("index", str(root), "-q")[0] == 0
    os.symlink(other, repo / "dirlink")
    os.symlink(other / "notes.py", repo / "helper.py")
    os.symlink(repo, tmp_path / "alias")
    console = Path(sys.executable).parent / "codesearch"
    for target in (repo / "dirlink", repo / "helper.py"):
        for command in (["search", "read the notes", str(target), "--fast"],
                        ["search", "read the notes", str(target), "--fast", "--format", "json"]):
            code, out = _cli(*command)
            assert code == 2 and SECRET not in out and "through the symlink" in out, (command, out)
            done = subprocess.run([str(console), *command], capture_output=True, text=True, timeout=120)
            assert done.returncode == 2 and SECRET not in done.stdout + done.stderr, (command, done)
    code, out = _cli("related", str(repo / "dirlink" / "notes.py") + ":2")
    assert code == 2 and SECRET not in out, out
    code, out = _cli("search", "read the notes", str(tmp_path / "alias"), "--fast", "--format", "grep")
    assert code == 0 and "notes.py" in out and SECRET not in out, out


def test_the_index_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """Every index file was 0600 but the database (SQLite's 0644, and its -wal and -shm after it): it holds the
    code and the index's id."""
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    for path in (root / ".codesearch").iterdir():
        if path.name.startswith("index.db"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
