"""An open reader keeps what searches read of its snapshot (rows, file topics and states, identical chunks)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from codesearch.pipeline import build_index
from codesearch.search import Searcher
from codesearch.store import reader as reader_module
from codesearch.store.codec import code_of
from codesearch.store.reader import IndexReader
from tests.conftest import FakeEmbedder, write

SOURCE = '''"""Utilities."""


def retry(call, attempts=3):
    """Call again when it fails."""
    for _ in range(attempts):
        try:
            return call()
        except OSError:
            pass


def parse_config(path):
    """Read a config file."""
    return open(path).read()
'''


@pytest.fixture
def index(tmp_path: Path, fake_embedder: FakeEmbedder) -> Path:
    repo = tmp_path / "repo"
    write(repo, "util.py", SOURCE)
    write(repo, "copy/util.py", SOURCE)  # identical chunks at another path
    build_index(repo, embedder=fake_embedder)
    return repo


def _statements(reader: IndexReader) -> list[str]:
    """The SQL the reader's connection runs from now on."""
    seen: list[str] = []
    reader.conn.set_trace_callback(seen.append)
    return seen


def test_rows_states_topics_and_copies_are_read_once(index: Path) -> None:
    """A second read of the same chunks, files and hashes runs no SQL and gives the same values."""
    with IndexReader(index / ".codesearch") as reader:
        ids = [int(r[0]) for r in reader.conn.execute("SELECT id FROM chunk_rows")]
        paths = ["util.py", "copy/util.py"]
        first = (reader.chunks(ids), reader.file_states(paths), reader.file_topics(paths), reader.max_file_bytes)
        hashes = [row["content_hash"] for row in first[0].values()]
        same = reader.same_content(hashes)
        seen = _statements(reader)
        again = (reader.chunks(ids), reader.file_states(paths), reader.file_topics(paths), reader.max_file_bytes)
        assert reader.same_content(hashes) == same and any(len(places) == 2 for places in same.values())
        assert seen == []
        assert again[0] == first[0] and again[1] == first[1] and again[3] == first[3]
        assert {p: v.tolist() for p, v in again[2].items()} == {p: v.tolist() for p, v in first[2].items()}
        copied = next(digest for digest, places in same.items() if len(places) == 2)
        same[copied].append("changed by a caller")
        assert len(reader.same_content(hashes)[copied]) == 2  # callers get copies of what is kept


def test_only_what_was_not_read_is_read(index: Path) -> None:
    """Rows read before are not asked for again: the next query names only the new ids."""
    with IndexReader(index / ".codesearch") as reader:
        ids = sorted(int(r[0]) for r in reader.conn.execute("SELECT id FROM chunk_rows"))
        reader.chunks(ids[:2])
        seen = _statements(reader)
        assert set(reader.chunks(ids)) == set(ids)
        assert len(seen) == 1 and seen[0].count(",") - seen[0].split("WHERE")[0].count(",") == len(ids) - 3


def test_what_is_kept_is_bounded_for_the_whole_process(index: Path, tmp_path: Path, fake_embedder: FakeEmbedder,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every open reader shares one bound (a workspace opens many indexes): past it the oldest rows are let go;
    the answers stay the same, and two indexes whose chunks have the same ids never get each other's rows."""
    monkeypatch.setattr(reader_module, "_ROWS", reader_module._Shelf(4))
    other = tmp_path / "other"
    write(other, "lib.py", "def unrelated():\n    return 1\n")
    build_index(other, embedder=fake_embedder)
    with IndexReader(index / ".codesearch") as first, IndexReader(other / ".codesearch") as second:
        ids = sorted(int(r[0]) for r in first.conn.execute("SELECT id FROM chunk_rows"))
        assert len(ids) > 4
        whole = first.chunks(ids)  # more than the bound at once: nothing of it is kept
        assert len(reader_module._ROWS.items) == 0
        assert first.chunks(ids[:2]) == {i: whole[i] for i in ids[:2]} and len(reader_module._ROWS.items) == 2
        theirs = second.chunks(ids[:2])  # the same ids in another index: its own rows
        assert theirs and all(row["path"] == "lib.py" for row in theirs.values())
        assert len(reader_module._ROWS.items) == 2 + len(theirs)
        first.chunks(ids[2:4])  # past the bound: the oldest go first
        assert len(reader_module._ROWS.items) <= 4
        assert first.chunks(ids[:4]) == {i: whole[i] for i in ids[:4]}


def test_a_row_read_twice_gives_its_code_twice(index: Path) -> None:
    """``code_of`` keeps the packed code in the row: a kept row's code reads again (two searches, two threads)."""
    with IndexReader(index / ".codesearch") as reader:
        row = next(iter(reader.chunks([int(r[0]) for r in reader.conn.execute("SELECT id FROM chunk_rows")]).values()))
        fresh = dict(row)
        assert code_of(row) == code_of(fresh) == code_of(row)
        assert "code_z" in row


def test_an_open_searcher_keeps_its_snapshot_while_the_index_changes(index: Path, fake_embedder: FakeEmbedder) -> None:
    """Kept rows are the snapshot's: a run that rewrites the file does not change what an open searcher returns,
    except that a hit in a changed file is found where it is now (the freshness check reads the file)."""
    with Searcher(index / ".codesearch", embedder=fake_embedder) as searcher:
        before = searcher.search("retry when it fails", 3)
        (index / "util.py").write_text("\n\n" + SOURCE)
        build_index(index, embedder=fake_embedder)
        after = searcher.search("retry when it fails", 3)
        moved = {r.key: r.start_line for r in after}
        assert [r.key for r in before] == [r.key for r in after]
        for r in before:
            assert moved[r.key] == r.start_line + (2 if r.path == "util.py" else 0)
    with sqlite3.connect(index / ".codesearch" / "index.db") as conn:
        assert conn.execute("SELECT count(*) FROM chunk_rows").fetchone()[0] > 0


def test_the_database_is_read_through_a_memory_map(index: Path) -> None:
    """A reader maps the database (read-only) instead of a read call per page: at 970k chunks with the page cache
    cold, a search's rows took 8-9.5 ms read and 1.5 ms mapped."""
    with IndexReader(index / ".codesearch") as reader:
        assert reader.conn.execute("PRAGMA mmap_size").fetchone()[0] == reader_module.MAPPED_BYTES > 0
        assert reader.conn.execute("PRAGMA query_only").fetchone()[0] == 0  # read-only by its URI (mode=ro)
        with pytest.raises(sqlite3.OperationalError):
            reader.conn.execute("DELETE FROM chunk_rows")
