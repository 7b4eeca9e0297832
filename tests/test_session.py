"""A repository kept open for many requests: change detection and refresh before each answer."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from codesearch.errors import BadQuery, IndexNotFound
from codesearch.store.lock import writer_lock
from codesearch.watch import Snapshot
from codesearch.session import RepositorySession
from tests.conftest import FakeEmbedder, die_after, write

RETRY = '''def retry_request(url, attempts):
    """Retry a failed http request with exponential backoff."""
    return None
'''


def _bump(path: Path) -> None:
    """Make sure the next write gets a new mtime even on coarse clocks."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))


@pytest.fixture
def ws(tmp_path: Path):
    root = tmp_path / "repo"
    write(root, "net/client.py", RETRY)
    session = RepositorySession(root, embedder=FakeEmbedder(), workers=1)
    yield session
    session.close()


def test_snapshot_sees_edits_new_files_in_nested_directories_and_new_ignore_files(tmp_path: Path) -> None:
    root = tmp_path / "r"
    write(root, "a/b/c.py", "x = 1\n")
    write(root, "docs/readme.md", "hello\n")
    snap = Snapshot.take(root)
    assert snap.changes() == []
    write(root, "docs/new.py", "y = 2\n")  # a directory without any source file so far
    assert snap.changes() == ["docs/"]
    snap = Snapshot.take(root)
    (root / "a/b/c.py").write_text("x = 22\n")
    assert snap.changes() == ["a/b/c.py"]
    snap = Snapshot.take(root)
    write(root, "a/.gitignore", "b/\n")
    assert snap.changes() == ["a/"]
    snap = Snapshot.take(root)
    (root / "a/.gitignore").write_text("b/\nc/\n")
    assert snap.changes() == ["a/.gitignore"]


def test_first_use_indexes_and_later_calls_do_not_reindex(ws: RepositorySession) -> None:
    assert not (ws.index_dir / "index.db").exists()
    results = ws.call(ws.search, "retry a failed http request", 3)
    assert results[0].qualname == "retry_request"
    assert ws.last.indexed and ws.last.changed == ["(first use)"]
    ws.call(ws.search, "retry a failed http request", 3)
    assert not ws.last.indexed and ws.last.changed == []


def test_an_edit_is_seen_by_the_very_next_call_at_its_new_lines(ws: RepositorySession) -> None:
    ws.call(ws.search, "retry", 3)
    path = ws.root / "net/client.py"
    path.write_text("\n\n\n" + RETRY + '''

def open_socket(host, port):
    """Open a tcp socket to a host."""
    return None
''')
    _bump(path)
    results = ws.call(ws.search, "open a tcp socket to a host", 3)
    assert ws.last.indexed and ws.last.changed == ["net/client.py"]
    assert results[0].qualname == "open_socket" and results[0].start_line == 9 and not results[0].stale
    retry = ws.call(ws.search, "retry a failed http request", 1)[0]
    assert retry.start_line == 4


def test_a_refresh_walks_the_tree_once_and_sees_what_changed_while_it_indexed(
        ws: RepositorySession, monkeypatch: pytest.MonkeyPatch) -> None:
    """The change snapshot is the index run's own walk (one walk, not two), taken before the run reads a
    file: a file edited and another added while the run indexes are seen by the next call."""
    import codesearch.pipeline as pipeline
    import codesearch.watch as watch

    walks = []
    real_walk, real_scan = pipeline.walk, pipeline._scan

    def counted(*args, **kwargs):
        walks.append(args[0])
        return real_walk(*args, **kwargs)

    def edit_while_indexing(*args, **kwargs):
        if not (ws.root / "net/late.py").exists():  # the first run only: after its walk, before its reads
            path = ws.root / "net/client.py"
            path.write_text(RETRY + '\ndef close_socket(sock):\n    """Close the tcp socket."""\n')
            _bump(path)
            write(ws.root, "net/late.py", 'def late_arrival():\n    """A file added while indexing."""\n')
        return real_scan(*args, **kwargs)

    monkeypatch.setattr(pipeline, "walk", counted)
    monkeypatch.setattr(watch, "walk", counted)
    monkeypatch.setattr(pipeline, "_scan", edit_while_indexing)
    ws.call(ws.search, "retry a failed http request", 3)
    assert ws.last.indexed and len(walks) == 1
    assert ws.call(ws.search, "close the tcp socket", 1)[0].qualname == "close_socket"
    assert sorted(ws.last.changed) == ["net/", "net/client.py"] and ws.last.indexed
    assert ws.call(ws.search, "a file added while indexing", 1)[0].path == "net/late.py"


def test_new_and_deleted_files_are_seen(ws: RepositorySession) -> None:
    ws.call(ws.search, "retry", 3)
    write(ws.root, "pkg/deep/parse.py", 'def parse_ini(text):\n    """Parse an ini config file."""\n')
    assert ws.call(ws.search, "parse an ini config file", 1)[0].path == "pkg/deep/parse.py"
    (ws.root / "pkg/deep/parse.py").unlink()
    assert all(r.path != "pkg/deep/parse.py" for r in ws.call(ws.search, "parse an ini config file", 5))


def test_another_writer_does_not_block_answers(ws: RepositorySession) -> None:
    ws.call(ws.search, "retry", 3)
    path = ws.root / "net/client.py"
    path.write_text(RETRY + "\n\ndef helper():\n    return 1\n")
    _bump(path)
    with writer_lock(ws.index_dir):  # another process is indexing
        started = time.perf_counter()
        results = ws.call(ws.search, "retry a failed http request", 1)
        assert time.perf_counter() - started < 10
    assert results[0].qualname == "retry_request"
    assert "another process" in ws.last.skipped
    status = ws.call(ws.status)  # lock released: this call refreshes
    assert status["stale_files"] == [] and status["last_refresh"]["indexed"]


def test_status_lists_stale_files_of_a_read_only_workspace(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root, "a.py", RETRY)
    with pytest.raises(IndexNotFound):
        ro = RepositorySession(root, embedder=FakeEmbedder(), auto_index=False)
        try:
            ro.call(ro.status)
        finally:
            ro.close()
    from codesearch.pipeline import build_index

    embedder = FakeEmbedder()
    build_index(root, embedder=embedder, workers=1)
    (root / "a.py").write_text(RETRY + "\n# edited\n")
    _bump(root / "a.py")
    ro = RepositorySession(root, embedder=embedder, auto_index=False)
    try:
        status = ro.call(ro.status)
        assert status["stale_files"] == ["a.py"] and status["files"] == 1 and status["functions"] >= 1
        hit = ro.call(ro.search, "retry a failed http request", 1)[0]
        assert hit.stale  # re-located in today's file, not re-indexed
        assert ro.call(ro.status)["stale_files"] == ["a.py"]  # still: a read-only session writes nothing
    finally:
        ro.close()


def test_bad_input_is_a_clear_error_and_the_workspace_keeps_working(ws: RepositorySession) -> None:
    with pytest.raises(BadQuery, match="too long"):
        ws.call(ws.search, "x" * 1_000_000)
    with pytest.raises(BadQuery, match="empty"):
        ws.call(ws.search, "   ")
    with pytest.raises(BadQuery, match="outside the repository"):
        ws.call(ws.related, path="../../etc/passwd", line=1)
    with pytest.raises(BadQuery, match="line 999 is past its end"):
        ws.call(ws.related, path="net/client.py", line=999)
    with pytest.raises(BadQuery, match="a file and a line, or a symbol"):
        ws.call(ws.related)
    source, results = ws.call(ws.related, symbol="retry_request")
    assert source.qualname == "retry_request"
    assert ws.call(ws.search, "retry", 1)


def test_the_reranker_is_loaded_once_on_the_workspace_thread(tmp_path: Path) -> None:
    """The shipped reranker, loaded after the first index exists (its cache lives there), survives refreshes."""
    root = tmp_path / "repo"
    write(root, "net/client.py", RETRY)
    ws = RepositorySession(root, embedder=FakeEmbedder(), workers=1, rerank=True)
    try:
        first = ws.call(ws.search, "retry a failed http request", 1)[0]
        assert "rerank" in first.scores
        loaded = ws._reranker
        write(root, "net/socket.py", 'def open_socket(host):\n    """Open a tcp socket."""\n')
        again = ws.call(ws.search, "open a tcp socket", 2)
        assert ws.last.indexed and "rerank" in again[0].scores and ws._reranker is loaded
        assert (ws.index_dir / "rerank-cache.db").is_file()
    finally:
        ws.close()


def test_related_symbol_of_several_definitions_lists_them(tmp_path: Path) -> None:
    """The MCP related tool, like the CLI, names every definition of an ambiguous symbol instead of picking one."""
    from codesearch.errors import AmbiguousSymbol

    root = tmp_path / "repo"
    write(root, "a/util.py", "def slugify(text):\n    return text.lower()\n")
    write(root, "b/util.py", "def slugify(text):\n    return text.replace(' ', '-')\n")
    session = RepositorySession(root, embedder=FakeEmbedder(), workers=1)
    try:
        with pytest.raises(AmbiguousSymbol, match=r"a/util\.py:1 slugify.*b/util\.py:1 slugify") as raised:
            session.call(session.related, symbol="slugify")
        assert "longer qualified name" not in str(raised.value)  # both are `slugify`: no longer name tells them apart
        source, _ = session.call(session.related, path="b/util.py", line=1)
        assert source.path == "b/util.py"
    finally:
        session.close()


def test_status_says_what_the_last_index_run_changed_whichever_call_made_it(ws: RepositorySession) -> None:
    """An agent edited a file, searched (the search's refresh indexed the edit), then asked `index_status`: its
    `last_refresh` said `indexed: false, changed: []`, its own check having found nothing left to do."""
    ws.call(ws.search, "retry", 3)
    path = ws.root / "net/client.py"
    path.write_text(RETRY + "\n\ndef helper():\n    return 1\n")
    _bump(path)
    ws.call(ws.search, "retry a failed http request", 1)
    status = ws.call(ws.status)
    assert not status["last_refresh"]["indexed"]  # this call's own check: nothing left to do
    run = status["last_index_run"]
    assert run is not None and run["changed"] == ["net/client.py"] and run["seconds"] > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", run["at"])  # UTC, as updated_at


def test_status_and_the_log_say_when_a_refresh_deleted_a_journal_that_was_not_ours(ws: RepositorySession,
                                                                                     caplog) -> None:  # type: ignore[no-untyped-def]
    """The recheck: the server's refresh deleted a write-ahead log the repository shipped (as `codesearch index`
    does) without a word, where the CLI says so. `index_status`'s last_index_run says it, and the server logs it."""
    ws.call(ws.search, "retry", 3)
    ws.call(ws._close_searcher)
    die_after(ws.index_dir / "index.db", ["PRAGMA wal_autocheckpoint = 0", "UPDATE chunk_rows SET doc = 'INJECTED'"])
    path = ws.root / "net/client.py"
    path.write_text(RETRY + "\n\ndef helper():\n    return 1\n")
    _bump(path)
    with caplog.at_level("WARNING", logger="codesearch.session"):
        ws.call(ws.search, "retry a failed http request", 1)
    deleted = ws.call(ws.status)["last_index_run"]["deleted"]
    assert len(deleted) == 1 and "beside the index (index.db-wal" in deleted[0]
    assert "was not left by your last run" in deleted[0]
    assert any("was deleted before it could be applied" in record.getMessage() for record in caplog.records)
    path.write_text(RETRY + "\n\ndef helper():\n    return 2\n")
    _bump(path)
    ws.call(ws.search, "retry", 3)  # the next run deleted nothing: no word of it
    run = ws.call(ws.status)["last_index_run"]
    assert run["files_parsed"] == 1 and "deleted" not in run


def test_a_refresh_empties_a_log_it_did_not_start_though_its_reader_holds_a_snapshot(ws: RepositorySession) -> None:
    """An index run empties a write-ahead log under salts the registry lacks before it writes (``fold_journal``),
    which a reader's snapshot would keep it from: the server's own reader let go of it first (the refresh said
    another process was indexing, every time)."""
    ws.call(ws.search, "retry", 3)  # the server's reader holds its snapshot from here
    die_after(ws.index_dir / "index.db", ["PRAGMA user_version = 11"])  # a run killed just after a header write
    path = ws.root / "net/client.py"
    path.write_text(RETRY + "\n\ndef helper():\n    return 1\n")
    _bump(path)
    ws.call(ws.search, "retry a failed http request", 1)
    assert ws.last.indexed and not ws.last.skipped, ws.last.skipped
    assert [r.qualname for r in ws.call(ws.search, "helper", 1)] == ["helper"]


def test_the_served_root_is_the_indexed_repository_above_unless_a_git_top_comes_first(tmp_path: Path) -> None:
    """A server started in a subdirectory serves the repository indexed above it (it built a second, partial index
    there); not past a git work tree's top without an index, not a linked index, and its own index first."""
    from codesearch.session import served_root

    repo = tmp_path / "repo"
    (repo / "src" / "pkg").mkdir(parents=True)
    assert served_root(repo / "src" / "pkg") == (repo / "src" / "pkg").resolve()  # nothing indexed: itself
    (repo / ".codesearch").mkdir()
    (repo / ".codesearch" / "index.db").write_bytes(b"")
    assert served_root(repo / "src" / "pkg") == repo.resolve() == served_root(repo)
    (repo / "src" / ".git").mkdir()  # a work tree of its own below the index: served as itself
    assert served_root(repo / "src" / "pkg") == (repo / "src" / "pkg").resolve()
    other = tmp_path / "other"
    (other / "sub").mkdir(parents=True)
    (other / ".codesearch").symlink_to(repo / ".codesearch")
    assert served_root(other / "sub") == (other / "sub").resolve()


def test_a_first_look_that_indexed_nothing_is_no_index_run(tmp_path: Path) -> None:
    """index_status's `last_index_run` (the last refresh that indexed something) named the server's first look at an
    index that was up to date, with `changed: ["(first use)"]` and no file parsed."""
    root = tmp_path / "repo"
    write(root, "net/client.py", RETRY)
    first = RepositorySession(root, embedder=FakeEmbedder(), workers=1)
    try:
        first.call(first.refresh)
        assert first.last_index_run is not None and first.last_index_run.report.files_parsed == 1
    finally:
        first.close()
    again = RepositorySession(root, embedder=FakeEmbedder(), workers=1)
    try:
        again.call(again.refresh)
        assert again.last.indexed and again.last_index_run is None
        assert again.call(again.status)["last_index_run"] is None
    finally:
        again.close()
