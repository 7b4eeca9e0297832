"""A compact index (schema 5): the code stored compressed, each chunk's terms stored once (in the
lexical file), and search results the same as an index built afresh, after edits and after a
migration from schema 4."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from codesearch.errors import IndexCorrupt, IndexOutOfDate
from codesearch.pipeline import build_index
from codesearch.search import Searcher
from codesearch.store.codec import MAX_CODE_BYTES, pack_code, unpack_code
from codesearch.store.layout import KEY_SQL
from codesearch.store.postings import lexical_path
from codesearch.store.reader import IndexReader
from tests.conftest import FakeEmbedder, as_schema_7, edited_db, write

QUERIES = ["fetch a page with backoff", "open a database pool", "parse settings", "connect"]


def _repo(root: Path) -> Path:
    write(root, "net.py", "def fetch_with_backoff(url):\n    '''Get a page, retrying.'''\n"
                          "    return sleep_then_get(url)\n\n"
                          "def parse_settings(text):\n    return dict(line.split('=') for line in text.splitlines())\n")
    write(root, "db.py", "class Pool:\n    '''A pool of connections.'''\n\n    def open_pool(self, dsn):\n"
                         "        '''Connect to the database.'''\n        return connect(dsn)\n")
    write(root, "util.py", "def connect(dsn):\n    return socket_for(dsn)\n")
    return root


def _results(index_dir: Path) -> list[list[tuple[str, int, str, float, str]]]:
    with Searcher(index_dir, embedder=FakeEmbedder()) as searcher:
        return [[(r.path, r.start_line, r.qualname, round(r.score, 9), r.code) for r in searcher.search(q, k=5)]
                for q in QUERIES]


def _terms_by_key(index_dir: Path) -> dict[str, set[int]]:
    with IndexReader(index_dir) as reader:
        terms = reader.files()[1].chunk_terms()
        keys = dict(reader.conn.execute(f"SELECT id, {KEY_SQL} FROM chunks").fetchall())
    return {keys[i]: t for i, t in terms.items()}


def _tables(index_dir: Path) -> set[str]:
    with edited_db(index_dir / "index.db") as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_code_is_stored_compressed_and_terms_once(tmp_path: Path) -> None:
    """No ``lexical`` table and no text copy of the code: blobs that unpack to the code a search shows."""
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    index_dir = root / ".codesearch"
    assert "lexical" not in _tables(index_dir)
    with edited_db(index_dir / "index.db") as conn:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(chunks)")}
        blob = conn.execute("SELECT code_z FROM chunks WHERE name = 'parse_settings'").fetchone()[0]
    assert "code" not in columns and isinstance(blob, bytes)
    assert unpack_code(blob).startswith("def parse_settings(text):")
    assert any(r[4].startswith("def parse_settings") for r in _results(index_dir)[2])


def test_edits_give_the_same_index_as_a_fresh_build(tmp_path: Path) -> None:
    """A run over edited, deleted and added files merges the previous lexical file (unchanged chunks
    are not tokenised again) into the terms and the results a fresh build has."""
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    write(root, "net.py", "def fetch_with_backoff(url):\n    '''Get a page, slowly.'''\n    return jittered_get(url)\n")
    (root / "util.py").unlink()
    write(root, "cfg.py", "def load_settings(path):\n    return parse_settings(open(path).read())\n")
    build_index(root, embedder=FakeEmbedder())
    fresh = _repo(tmp_path / "fresh")
    (fresh / "util.py").unlink()
    for name in ("net.py", "cfg.py"):
        write(fresh, name, (root / name).read_text())
    build_index(fresh, embedder=FakeEmbedder())
    assert _terms_by_key(root / ".codesearch") == _terms_by_key(fresh / ".codesearch")
    assert _results(root / ".codesearch") == _results(fresh / ".codesearch")


def test_chunks_name_their_file_by_id_new_or_migrated(tmp_path: Path) -> None:
    """Schema 8: ``chunk_rows.file`` is the file's ``files.id`` (no path per chunk, no path index); readers
    read the ``chunks`` view with the path. A schema 7 index is refused by searches until its next run,
    which migrates it to the same results; edits, removals and a rebuild keep every chunk's file."""
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder(), workers=1)
    index_dir = root / ".codesearch"

    def layout() -> tuple[set[str], set[str], list[tuple[str, int]]]:
        with edited_db(index_dir / "index.db") as conn:
            columns = {r[1] for r in conn.execute("PRAGMA table_info(chunk_rows)")}
            views = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
            counts = conn.execute("SELECT f.path, COUNT(*) FROM chunk_rows c JOIN files f ON f.id = c.file "
                                  "GROUP BY 1 ORDER BY 1").fetchall()
            orphans = conn.execute("SELECT COUNT(*) FROM chunk_rows WHERE file NOT IN (SELECT id FROM files)")
            assert orphans.fetchone() == (0,)
        return columns, views, counts

    columns, views, counts = layout()
    assert "file" in columns and not {"path", "language"} & columns and views == {"chunks"}
    assert "idx_chunks_path" not in _indexes(index_dir) and "chunk_rows_file" in _indexes(index_dir)
    before = _results(index_dir)
    as_schema_7(index_dir)
    with pytest.raises(IndexOutOfDate, match="codesearch index"):
        Searcher(index_dir, embedder=FakeEmbedder())
    build_index(root, embedder=FakeEmbedder(), workers=1)
    assert layout() == (columns, views, counts) and _results(index_dir) == before
    write(root, "net.py", "def fetch_with_backoff(url):\n    '''Get a page, slowly.'''\n    return jittered_get(url)\n")
    (root / "util.py").unlink()
    build_index(root, embedder=FakeEmbedder(), workers=1)
    edited = layout()[2]
    assert "util.py" not in dict(edited) and dict(edited)["net.py"] == 1
    build_index(root, embedder=FakeEmbedder(), workers=1, rebuild=True)
    assert layout()[2] == edited


def _as_schema_4(index_dir: Path) -> None:
    """Turn a schema 5 index into the schema 4 one it was: code as text, terms in a ``lexical`` table,
    and a lexical file in the old format (which the next run must not read)."""
    with IndexReader(index_dir) as reader:
        generation, lexical = reader.meta.generation, reader.files()[1]
        code = [(unpack_code(blob), i) for i, blob in reader.conn.execute("SELECT id, code_z FROM chunks")]
    as_schema_7(index_dir)
    term_of = np.repeat(lexical.terms, np.diff(lexical.starts))
    rows = []
    for position, chunk_id in enumerate(lexical.ids.tolist()):
        mine = lexical.positions == position
        rows.append((chunk_id, term_of[mine].tobytes(), lexical.tfs[mine].tobytes(), float(lexical.lengths[position])))
    with edited_db(index_dir / "index.db") as conn:
        conn.execute("CREATE TABLE lexical (id INTEGER PRIMARY KEY, terms BLOB NOT NULL, weights BLOB NOT NULL,"
                     " length REAL NOT NULL)")
        conn.executemany("INSERT INTO lexical VALUES (?,?,?,?)", rows)
        conn.execute("ALTER TABLE chunks ADD COLUMN code TEXT")
        conn.executemany("UPDATE chunks SET code = ? WHERE id = ?", code)
        conn.execute("ALTER TABLE chunks DROP COLUMN code_z")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm005_compact'")
        conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    lexical_path(index_dir, generation).write_bytes(b"CSLEX001 of schema 4")


def test_schema_4_index_migrates_to_the_same_results(tmp_path: Path) -> None:
    """The first run of schema 5 builds the lexical file from schema 4's table, drops the table,
    compresses the code, and searches answer as before."""
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    index_dir = root / ".codesearch"
    before = _results(index_dir), _terms_by_key(index_dir)
    _as_schema_4(index_dir)
    build_index(root, embedder=FakeEmbedder())
    assert "lexical" not in _tables(index_dir)
    assert (_results(index_dir), _terms_by_key(index_dir)) == before


def test_a_missing_lexical_file_asks_for_a_rebuild(tmp_path: Path) -> None:
    """The terms of unchanged chunks are in the previous lexical file only: without it, a run that
    changes files says to rebuild (and ``--rebuild`` repairs it)."""
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    for path in (root / ".codesearch").glob("lexical-*.bin"):
        path.unlink()
    write(root, "util.py", "def connect(dsn, timeout):\n    return socket_for(dsn, timeout)\n")
    with pytest.raises(IndexCorrupt, match="--rebuild"):
        build_index(root, embedder=FakeEmbedder())
    build_index(root, embedder=FakeEmbedder(), rebuild=True)
    assert _results(root / ".codesearch")[3]


@pytest.mark.parametrize("blob", [
    pytest.param(zlib.compress(b"x" * (MAX_CODE_BYTES + 1))[2:-4], id="bomb"),
    pytest.param(pack_code("def f(): pass")[:-2], id="truncated"),
    pytest.param(b"\x00\x01garbage", id="garbage"),
    pytest.param("text", id="not-a-blob"),
])
def test_damaged_stored_code_is_index_corrupt(tmp_path: Path, blob: object) -> None:
    """A row that inflates past any stored code (a decompression bomb), is cut, or is not DEFLATE
    is damage, reported when a search reads it."""
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder())
    with edited_db(root / ".codesearch" / "index.db") as conn:
        conn.execute("UPDATE chunk_rows SET code_z = ?", [blob])
    with pytest.raises(IndexCorrupt, match="code is"):
        _results(root / ".codesearch")


def test_stored_code_is_cut_like_before() -> None:
    """What is stored is at most 4,000 characters, as schema 4 stored."""
    assert unpack_code(pack_code("é" * 5000)) == "é" * 4000
    assert unpack_code(None) == ""


def _indexes(index_dir: Path) -> set[str]:
    with edited_db(index_dir / "index.db") as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_no_key_index_new_or_migrated_and_the_writer_checks_keys(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``chunks.key`` has no unique index (0.2x of the source; nothing looks a chunk up by key): a new index
    has none, an index that had one loses it on its next run, and a file whose chunks share a key (what the
    index refused) is refused by the writer, leaving the index as it was."""
    import indexer.work as work

    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder(), workers=1)
    index_dir = root / ".codesearch"
    assert "idx_chunks_key" not in _indexes(index_dir)
    before = _results(index_dir)
    as_schema_7(index_dir)
    with edited_db(index_dir / "index.db") as conn:  # as an index made before m006
        conn.execute("CREATE UNIQUE INDEX idx_chunks_key ON chunks (key)")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm006_no_key_index'")
    build_index(root, embedder=FakeEmbedder(), workers=1)
    assert "idx_chunks_key" not in _indexes(index_dir) and _results(index_dir) == before
    real = work.chunks_or_windows
    monkeypatch.setattr(work, "chunks_or_windows", lambda source: ([*real(source)[0], *real(source)[0]][:4], ""))
    write(root, "added.py", "def one():\n    return 1\n\n\ndef two():\n    return 2\n")
    with pytest.raises(IndexCorrupt, match="same key"):
        build_index(root, embedder=FakeEmbedder(), workers=1)
    assert _results(index_dir) == before


def _keys(index_dir: Path) -> tuple[list[tuple[str | None, str, str]], list[str]]:
    with edited_db(index_dir / "index.db") as conn:
        stored = conn.execute("SELECT key, path, qualname FROM chunks ORDER BY id").fetchall()
        whole = [r[0] for r in conn.execute(f"SELECT {KEY_SQL} FROM chunks ORDER BY id")]
    return stored, whole


def test_keys_are_stored_without_their_path_new_or_migrated(tmp_path: Path) -> None:
    """Schema 7: ``chunks.key`` holds NULL for the usual ``PATH::QUALNAME`` and ``::QUALNAME#2`` for an
    overload (0.15x of the source); readers see whole keys (``KEY_SQL``), and a schema 6 index that stored
    whole keys is refused by searches until its next run, which migrates it to the same rows and results."""
    root = _repo(tmp_path / "repo")
    write(root, "twice.py", "def handler(event):\n    return 1\n\n\ndef handler(event):\n    return 2\n")
    build_index(root, embedder=FakeEmbedder(), workers=1)
    index_dir = root / ".codesearch"
    stored, whole = _keys(index_dir)
    assert {k for k, _, _ in stored} == {None, "::handler#2"}
    assert whole == [f"{p}::{q}" if k is None else p + k for k, p, q in stored]
    assert "twice.py::handler#2" in whole and "db.py::Pool.open_pool" in whole
    with IndexReader(index_dir) as reader:
        found = reader.chunks_with_keys(["twice.py::handler#2", "db.py::Pool.open_pool", "db.py::Pool.nope", "x::y"])
    assert sorted(found) == ["db.py::Pool.open_pool", "twice.py::handler#2"]
    assert found["twice.py::handler#2"]["start_line"] == 5
    before = _results(index_dir)
    as_schema_7(index_dir)
    with edited_db(index_dir / "index.db") as conn:  # as an index of schema 6, before m008
        conn.execute(f"UPDATE chunks SET key = {KEY_SQL}")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm008_key_tails'")
        conn.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    with pytest.raises(IndexOutOfDate, match="codesearch index"):
        Searcher(index_dir, embedder=FakeEmbedder())
    build_index(root, embedder=FakeEmbedder(), workers=1)
    assert _keys(index_dir) == (stored, whole) and _results(index_dir) == before
