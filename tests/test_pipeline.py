"""Building and incrementally updating an index; SQLite and FAISS always agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codesearch.errors import IndexCorrupt, IndexOutOfDate
from codesearch.pipeline import build_index
from codesearch.search import Searcher
from codesearch.store.layout import KEY_SQL
from codesearch.store.reader import IndexReader
from tests.conftest import FakeEmbedder, edited_db, write

RETRY = '''def retry(fn, attempts):
    """Call fn again until it works."""
    for _ in range(attempts):
        try:
            return fn()
        except OSError:
            pass


def parse_config(path):
    """Read settings from a file."""
    return open(path).read()
'''


def _consistent(index_dir: Path) -> dict[str, int]:
    """SQLite ids equal FAISS ids; returns key -> id."""
    with IndexReader(index_dir) as reader:
        rows = dict(reader.conn.execute(f"SELECT {KEY_SQL}, id FROM chunks").fetchall())
        vector_ids = sorted(reader.vectors().ids().tolist())
        assert vector_ids == sorted(rows.values())
        assert reader.meta.count == len(rows)
    return rows


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root, "util.py", RETRY)
    write(root, "web/app.js", "/** Start the server. */\nfunction start(port) { return listen(port); }\n")
    return root


def test_first_run_indexes_everything(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """Every symbol is embedded once and stored in both stores."""
    report = build_index(repo, embedder=fake_embedder)
    assert report.chunks_total == 3 and fake_embedder.documents_embedded == 3
    assert report.chunks_by_language == {"javascript": 1, "python": 2}
    keys = _consistent(repo / ".codesearch")
    assert set(keys) == {"util.py::retry", "util.py::parse_config", "web/app.js::start"}
    assert (repo / ".codesearch" / ".gitignore").read_text() == "*\n"


def test_unchanged_repo_embeds_nothing(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """A second run over the same files reads no file and embeds nothing."""
    build_index(repo, embedder=fake_embedder)
    fake_embedder.documents_embedded = 0
    report = build_index(repo, embedder=fake_embedder)
    assert fake_embedder.documents_embedded == 0
    assert report.files_parsed == 0 and not report.changed


def test_touched_file_is_not_reparsed_into_new_vectors(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """A new mtime with the same bytes re-reads the file but embeds nothing."""
    first = build_index(repo, embedder=fake_embedder)
    fake_embedder.documents_embedded = 0
    (repo / "util.py").touch()
    report = build_index(repo, embedder=fake_embedder)
    assert fake_embedder.documents_embedded == 0 and report.generation == first.generation


def test_edited_function_is_reembedded_alone(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """Editing one function re-embeds that function only; the other keeps its id."""
    build_index(repo, embedder=fake_embedder)
    before = _consistent(repo / ".codesearch")
    fake_embedder.documents_embedded, fake_embedder.seen = 0, []
    (repo / "util.py").write_text(RETRY.replace("return open(path).read()", "return open(path, encoding='utf-8').read()"))
    report = build_index(repo, embedder=fake_embedder)
    assert fake_embedder.documents_embedded == 1 and "parse_config" in fake_embedder.seen[0]
    after = _consistent(repo / ".codesearch")
    assert after["util.py::retry"] == before["util.py::retry"]
    assert after["util.py::parse_config"] != before["util.py::parse_config"]
    assert report.chunks_added == 1 and report.chunks_removed == 1


def test_a_new_parser_renames_unchanged_chunks_without_embedding(tmp_path: Path, fake_embedder: FakeEmbedder,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A parser that names a symbol otherwise (PARSER_VERSION 8: ``module Puppet::Indirector`` is named
    ``Indirector``) renames its stored chunk on the next run, though its content hash, and so its vector, is kept."""
    from codesearch import pipeline

    repo = tmp_path / "repo"
    write(repo, "indirector.rb", "# Routes requests.\nmodule Puppet::Indirector\n  X = 1\nend\n")
    build_index(repo, embedder=fake_embedder)
    db = repo / ".codesearch" / "index.db"
    with edited_db(db) as conn:  # as an index of PARSER_VERSION 7 stored it
        conn.execute("UPDATE chunk_rows SET name = 'Puppet::Indirector' WHERE qualname = 'Puppet::Indirector'")
    monkeypatch.setattr(pipeline, "parser_fingerprint", lambda: "the next parser")
    fake_embedder.documents_embedded = 0
    build_index(repo, embedder=fake_embedder)
    with edited_db(db) as conn:
        names = conn.execute("SELECT name FROM chunk_rows WHERE qualname = 'Puppet::Indirector'").fetchall()
    assert names == [("Indirector",)] and fake_embedder.documents_embedded == 0


def test_moved_function_updates_lines_without_embedding(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """Inserting lines above functions shifts their stored lines without embedding them again;
    only the new module-level line is embedded (as a code chunk)."""
    build_index(repo, embedder=fake_embedder)
    fake_embedder.documents_embedded, fake_embedder.seen = 0, []
    (repo / "util.py").write_text("import os\n\n\n" + RETRY)
    report = build_index(repo, embedder=fake_embedder)
    assert report.chunks_moved == 2 and fake_embedder.documents_embedded == 1
    assert fake_embedder.seen == ["code <util.py>\n\nimport os"]
    with Searcher(repo / ".codesearch", embedder=fake_embedder) as searcher:
        hit = next(r for r in searcher.search("parse config", k=3) if r.name == "parse_config")
    assert hit.start_line == 13 and not hit.stale


def test_deleted_file_disappears_from_both_stores(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """Removing a file removes its chunks from SQLite and FAISS."""
    build_index(repo, embedder=fake_embedder)
    (repo / "web/app.js").unlink()
    report = build_index(repo, embedder=fake_embedder)
    assert report.files_removed == 1 and report.chunks_total == 2
    keys = _consistent(repo / ".codesearch")
    assert "web/app.js::start" not in keys
    with IndexReader(repo / ".codesearch") as reader:
        assert reader.file_paths() == ["util.py"]


def test_file_that_becomes_unindexable_is_removed(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """A file that turns binary is dropped from the index and reported as skipped."""
    build_index(repo, embedder=fake_embedder)
    (repo / "web/app.js").write_bytes(b"\x00\x00binary now")
    report = build_index(repo, embedder=fake_embedder)
    assert "web/app.js::start" not in _consistent(repo / ".codesearch")
    assert any(s.path == "web/app.js" and s.reason.startswith("binary") for s in report.skipped)


def test_other_model_needs_rebuild_and_rebuild_works(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """An index built with one fingerprint refuses another until --rebuild."""
    build_index(repo, embedder=fake_embedder)
    other = FakeEmbedder()
    other.fingerprint = "fake:2"
    with pytest.raises(IndexOutOfDate, match="--rebuild"):
        build_index(repo, embedder=other)
    with pytest.raises(IndexOutOfDate, match="--rebuild"):
        Searcher(repo / ".codesearch", embedder=other)
    report = build_index(repo, embedder=other, rebuild=True)
    assert other.documents_embedded == 3 and report.chunks_total == 3
    _consistent(repo / ".codesearch")
    assert Searcher(repo / ".codesearch", embedder=other).search("retry", k=1)[0].name == "retry"


def test_damaged_vector_file_is_detected(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """A truncated vector file is reported as corrupt, and --rebuild repairs it."""
    report = build_index(repo, embedder=fake_embedder)
    vectors = repo / ".codesearch" / f"vectors-{report.generation}.faiss"
    vectors.write_bytes(vectors.read_bytes()[:64])
    with pytest.raises(IndexCorrupt):
        Searcher(repo / ".codesearch", embedder=fake_embedder)
    with pytest.raises(IndexCorrupt):
        build_index(repo, embedder=fake_embedder)
    build_index(repo, embedder=fake_embedder, rebuild=True)
    assert len(_consistent(repo / ".codesearch")) == 3


def _overwrite_middle(path: Path, size: int) -> None:
    """Random bytes over ``size`` bytes in the middle of a file: its size, header and tail stay."""
    data = bytearray(path.read_bytes())
    at = len(data) // 2 - size // 2
    data[at : at + size] = np.random.default_rng(1).integers(0, 256, size, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def test_overwritten_vectors_are_detected_by_search_related_and_index(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """Bytes overwritten inside the stored vectors keep the file's size, header and ids: a search ranked by the
    garbage (numpy warned of NaN), and `codesearch index` reported success and left the file so."""
    from codesearch.related import one_named, related

    report = build_index(repo, embedder=fake_embedder)
    _overwrite_middle(repo / ".codesearch" / f"vectors-{report.generation}.faiss", 16)
    with pytest.raises(IndexCorrupt, match="damaged .*not unit vectors"):
        with Searcher(repo / ".codesearch", embedder=fake_embedder) as searcher:
            searcher.search("retry", k=3)
    with pytest.raises(IndexCorrupt, match="damaged"):
        with Searcher(repo / ".codesearch", embedder=fake_embedder) as searcher:
            related(searcher, one_named(searcher, "retry"))
    with pytest.raises(IndexCorrupt, match="damaged"):
        build_index(repo, embedder=fake_embedder)
    build_index(repo, embedder=fake_embedder, rebuild=True)
    assert len(_consistent(repo / ".codesearch")) == 3


def test_a_damaged_lexical_file_stops_an_index_run(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """An index run that changes nothing did not read the lexical file, and said it succeeded on a damaged one."""
    report = build_index(repo, embedder=fake_embedder)
    lexical = repo / ".codesearch" / f"lexical-{report.generation}.bin"
    lexical.write_bytes(lexical.read_bytes()[:100])
    with pytest.raises(IndexCorrupt, match="lexical file"):
        build_index(repo, embedder=fake_embedder)
    build_index(repo, embedder=fake_embedder, rebuild=True)
    assert len(_consistent(repo / ".codesearch")) == 3


def test_a_first_run_stopped_by_ctrl_c_is_started_over_as_ours(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """Ctrl-C in a first run left the parsing mark (the next run parsed in workers, "the last run stopped while
    parsing") and a database without a committed row, which the next run reported as an index not built by you."""
    def stop(stage: str, done: int, total: int) -> None:
        if stage == "index" and done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(repo, embedder=fake_embedder, progress=stop)
    assert (repo / ".codesearch" / "index.db").exists()
    assert not (repo / ".codesearch" / "parsing").exists()
    report = build_index(repo, embedder=fake_embedder)
    assert not report.replaced_untrusted and not report.guarded
    assert len(_consistent(repo / ".codesearch")) == 3


def test_old_generations_are_cleaned_up(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """Only the current generation's vector file remains after an update."""
    build_index(repo, embedder=fake_embedder)
    write(repo, "more.py", "def extra():\n    return 2\n")
    report = build_index(repo, embedder=fake_embedder)
    files = sorted(p.name for p in (repo / ".codesearch").glob("vectors-*.faiss"))
    assert files == [f"vectors-{report.generation}.faiss"]


def test_search_filters_and_stale_marking(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """Language and path filters are exact; a file edited after indexing is marked stale."""
    build_index(repo, embedder=fake_embedder)
    with Searcher(repo / ".codesearch", embedder=fake_embedder) as searcher:
        assert {r.language for r in searcher.search("start server", k=10, language="python")} == {"python"}
        assert [r.path for r in searcher.search("retry", k=10, path_glob="web/*")] == ["web/app.js"]
        assert searcher.search("retry", k=10, path_glob="nothing/*") == []
    (repo / "util.py").write_text("# changed\n" + RETRY)
    with Searcher(repo / ".codesearch", embedder=fake_embedder) as searcher:
        hits = {r.name: r for r in searcher.search("retry config", k=3)}
    assert hits["retry"].stale and not hits["start"].stale


def test_index_dir_can_live_elsewhere(repo: Path, tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    """--index-dir puts the index outside the repository."""
    elsewhere = tmp_path / "idx"
    build_index(repo, elsewhere, embedder=fake_embedder)
    assert (elsewhere / "index.db").is_file() and not (repo / ".codesearch").exists()
    with edited_db(elsewhere / "index.db") as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='model_fingerprint'").fetchone()[0] == "fake:1"


def test_vectors_in_index_equal_fresh_embeddings(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """What FAISS holds for a chunk is the embedder's vector of that chunk's text."""
    build_index(repo, embedder=fake_embedder)
    index_dir = repo / ".codesearch"
    with IndexReader(index_dir) as reader:
        store = reader.vectors()
        ids = store.ids()
        stored = store.vectors([int(i) for i in ids])
    fresh = fake_embedder.encode_documents(fake_embedder.seen[:3])
    # Stored as float16: match each stored vector to a fresh one within rounding.
    assert stored.shape == fresh.shape
    distances = np.abs(stored[:, None, :] - fresh[None, :, :]).max(axis=2)
    assert sorted(distances.argmin(axis=1).tolist()) == [0, 1, 2]
    assert distances.min(axis=1).max() < 1e-3


def test_editing_the_newest_chunk_reuses_no_id_wrongly(repo: Path, fake_embedder: FakeEmbedder) -> None:
    """Regression: the edited chunk with the highest id is replaced, not lost (ids may be reused)."""
    build_index(repo, embedder=fake_embedder)
    for version in range(3):
        (repo / "web/app.js").write_text(f"/** Start the server. */\nfunction start(port) {{ return listen(port + {version}); }}\n")
        build_index(repo, embedder=fake_embedder)
        keys = _consistent(repo / ".codesearch")
        assert set(keys) == {"util.py::retry", "util.py::parse_config", "web/app.js::start"}


def test_searcher_retries_when_a_commit_replaces_the_vector_file_it_is_loading(
    repo: Path, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race of a search opening during an update, made deterministic.

    The Searcher loads the vector file in a helper thread; here a real update commits a new
    generation (deleting the old file) just before that load. The retry with a fresh
    snapshot must run in the thread that owns the SQLite connection and find the new file.
    """
    import threading

    from codesearch.store.vectors import FlatVectors

    build_index(repo, embedder=fake_embedder)
    original = FlatVectors.open.__func__
    calls = []

    def commit_first(cls, path, dim, count, checksum=None):  # noqa: ANN001, ANN202
        if not calls and threading.current_thread() is not threading.main_thread():  # the Searcher's loader
            calls.append(None)  # build_index below loads vectors too
            write(repo, "more.py", "def extra():\n    return 2\n")
            calls[0] = build_index(repo, embedder=fake_embedder)
        return original(cls, path, dim, count, checksum)

    monkeypatch.setattr(FlatVectors, "open", classmethod(commit_first))
    with Searcher(repo / ".codesearch", embedder=fake_embedder) as searcher:
        assert searcher.reader.meta.generation == calls[0].generation
        assert searcher.vectors.count == searcher.reader.meta.count == calls[0].chunks_total
        assert any(hit.name == "extra" for hit in searcher.search("extra", k=20))


def test_verify_catches_sqlite_and_vector_files_disagreeing(repo: Path, fake_embedder: FakeEmbedder) -> None:
    build_index(repo, embedder=fake_embedder)
    index_dir = repo / ".codesearch"
    with IndexReader(index_dir) as reader:
        count = reader.verify()
    assert count == len(_consistent(index_dir)) > 0
    with edited_db(index_dir / "index.db") as conn:  # a row gone behind the index's back
        conn.execute("DELETE FROM chunk_rows WHERE id = (SELECT MIN(id) FROM chunk_rows)")
    with IndexReader(index_dir) as reader, pytest.raises(IndexCorrupt, match="disagree"):
        reader.verify()


def test_a_declared_encoding_is_read_at_index_and_search_time_alike(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    """A Latin-1 Python file with `# -*- coding: latin-1 -*-` was read as UTF-8 with replacement characters: its
    function `calcule_délai_réseau` was named `calcule_d`. It is decoded by its declaration, and a search of the
    unchanged file does not take it for a changed one (the index's hash is of the same bytes)."""
    from indexer.discover import source_bytes

    latin = "# -*- coding: latin-1 -*-\ndef calcule_délai_réseau(tentative):\n    return 2 ** tentative\n"
    (tmp_path / "latin.py").write_bytes(latin.encode("latin-1"))
    (tmp_path / "plain.py").write_bytes(b"def caf\xe9():\n    return 1\n")  # no declaration: as before
    build_index(tmp_path, embedder=fake_embedder)
    with Searcher(tmp_path / ".codesearch", embedder=fake_embedder) as searcher:
        hits = {h.name: h for h in searcher.search("calcule_délai_réseau", k=5)}
    assert "calcule_délai_réseau" in hits and not hits["calcule_délai_réseau"].stale
    assert source_bytes("python", b"# coding: rot13\nx = '\xe9'\n") == b"# coding: rot13\nx = '\xe9'\n"
    assert source_bytes("python", b"# coding: utf-16\nx = '\xe9'\n") == b"# coding: utf-16\nx = '\xe9'\n"
    assert source_bytes("go", latin.encode("latin-1")) == latin.encode("latin-1")  # no such declaration in Go
