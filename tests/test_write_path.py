"""The write path (issue 20, items 3 and 4): one store object for an index run, one model check,
the lexical code split into term analysis (query side) and the postings file (store side)."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, FakeEmbedder, edited_db, write


def _codesearch_imports(path: Path) -> set[str]:
    """Every ``codesearch.*`` module a source file imports (at any depth of the file)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n == "codesearch" or n.startswith("codesearch.")}


@pytest.mark.parametrize("path", sorted((ROOT / "codesearch" / "store").glob("*.py")), ids=lambda p: p.name)
def test_the_store_imports_only_itself_and_the_term_functions(path: Path) -> None:
    """The store never imports the query side: only the
    term analysis it stores (``codesearch.terms``), the errors and the vector type."""
    allowed = {"codesearch.errors", "codesearch.terms", "codesearch.embed", "codesearch.store"}
    outside = {n for n in _codesearch_imports(path) if not n.startswith("codesearch.store.")} - allowed
    assert not outside, outside


def test_the_postings_file_lives_beside_the_vector_file() -> None:
    """``codesearch.store.postings`` owns the lexical file and ``codesearch.terms`` the term analysis;
    the old two-in-one ``codesearch.lexical`` is gone and nothing imports it."""
    assert not (ROOT / "codesearch" / "lexical.py").exists()
    importers = [p for p in [*ROOT.glob("codesearch/**/*.py"), *ROOT.glob("tests/*.py"), *ROOT.glob("benchmarks/*.py")]
                 if "codesearch.lexical" in _codesearch_imports(p)]
    assert not importers, importers
    assert "codesearch.query" not in _codesearch_imports(ROOT / "codesearch" / "store" / "postings.py")


def _source(module: str) -> str:
    return (ROOT / module).read_text()


def test_the_pipeline_holds_no_sql_and_no_store_file_names() -> None:
    """Every write of an index run goes through ``IndexWriter``: the pipeline neither talks SQL
    nor knows the metadata module or the names of a generation's files."""
    source = _source("codesearch/pipeline.py")
    assert not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE FROM|COUNT\(\*\))\b", source)
    assert not re.search(r"vectors-|lexical-|\.faiss|\.bin\b", source)
    imports = _codesearch_imports(ROOT / "codesearch" / "pipeline.py")
    assert "codesearch.store.metadata" not in imports and "codesearch.store.writer" in imports


def test_deep_indexing_reads_chunks_through_the_reader() -> None:
    """``deep.py`` runs no SQL of its own on the reader's connection."""
    source = _source("codesearch/deep.py")
    assert ".conn" not in source and "SELECT" not in source


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root, "a.py", "def alpha():\n    '''First.'''\n    return 1\n")
    write(root, "b.py", "def beta():\n    '''Second.'''\n    return 2\n")
    return root


def test_a_run_that_fails_inside_the_writers_transaction_changes_nothing(tmp_path: Path) -> None:
    """The writer is a unit of work: files written and removed, then an error before the
    transaction ends: the index, its generation and its files are as before."""
    from codesearch.pipeline import build_index
    from codesearch.store.reader import IndexReader
    from codesearch.store.writer import IndexWriter
    from indexer.languages import parser_fingerprint

    root = _repo(tmp_path)
    report = build_index(root, embedder=FakeEmbedder())
    index_dir = root / ".codesearch"
    before = sorted(p.name for p in index_dir.iterdir() if not p.name.startswith("index.db"))
    before = [name for name in before if name != "lock"]
    with pytest.raises(RuntimeError, match="stop"):
        with IndexWriter.open(index_dir, root, FakeEmbedder(), parser=parser_fingerprint()) as writer:
            assert writer.generation == report.generation and not writer.reparse
            assert set(writer.known_files()) == {"a.py", "b.py"}
            with writer.transaction():
                writer.remove_files(["a.py"])
                writer.finish(skipped=[], unsupported={}, max_file_bytes=1000)
                assert writer.generation == report.generation + 1
                raise RuntimeError("stop")
    assert set(before) <= {p.name for p in index_dir.iterdir()}  # the files of the next generation are orphans
    with IndexReader(index_dir) as reader:
        assert reader.meta.generation == report.generation and sorted(reader.file_paths()) == ["a.py", "b.py"]
        assert reader.verify() == report.chunks_total
    again = build_index(root, embedder=FakeEmbedder())  # the next run removes the orphans
    assert not again.changed and sorted(p.name for p in index_dir.glob("*-*.*")) == [
        f"lexical-{report.generation}.bin", f"vectors-{report.generation}.faiss"]


def test_the_writer_commits_removals_as_a_new_generation(tmp_path: Path) -> None:
    """``finish`` inside ``transaction`` writes the next generation; closing the writer drops the old files."""
    from codesearch.pipeline import build_index
    from codesearch.store.reader import IndexReader
    from codesearch.store.writer import IndexWriter
    from indexer.languages import parser_fingerprint

    root = _repo(tmp_path)
    report = build_index(root, embedder=FakeEmbedder())
    index_dir = root / ".codesearch"
    with IndexWriter.open(index_dir, root, FakeEmbedder(), parser=parser_fingerprint()) as writer:
        with writer.transaction():
            writer.remove_files(["a.py"])
            done = writer.finish(skipped=[], unsupported={}, max_file_bytes=1000)
    assert done.generation == report.generation + 1 and done.files_removed == 1 and done.changed
    assert sorted(p.name for p in index_dir.glob("*-*.*")) == [f"lexical-{done.generation}.bin",
                                                               f"vectors-{done.generation}.faiss"]
    with IndexReader(index_dir) as reader:
        assert reader.file_paths() == ["b.py"] and reader.verify() == done.chunks_total


def test_one_model_check_for_reader_and_writer(tmp_path: Path) -> None:
    """``check_model`` is the check both sides use: the writer refuses another model with its message."""
    from codesearch.errors import IndexOutOfDate
    from codesearch.pipeline import build_index
    from codesearch.store.reader import IndexReader, check_model, check_schema

    root = _repo(tmp_path)
    build_index(root, embedder=FakeEmbedder())
    with IndexReader(root / ".codesearch") as reader:
        meta = reader.meta
    check_model(meta, FakeEmbedder().fingerprint)
    check_schema(meta)
    with pytest.raises(IndexOutOfDate, match="built with model .* the current model is other; run `codesearch index"):
        check_model(meta, "other")
    with pytest.raises(IndexOutOfDate, match="newer than this codesearch's"):
        check_schema(dataclasses.replace(meta, schema_version=meta.schema_version + 1), writing=True)
    check_schema(dataclasses.replace(meta, schema_version=meta.schema_version - 1), writing=True)
    with pytest.raises(IndexOutOfDate, match="run `codesearch index` to upgrade it"):
        check_schema(dataclasses.replace(meta, schema_version=meta.schema_version - 1))

    class Other(FakeEmbedder):
        fingerprint = "other"

    with pytest.raises(IndexOutOfDate, match="the current model is other; run `codesearch index --rebuild "):
        build_index(root, embedder=Other())  # naming the repository (tests/test_first_hour_vii.py)


def test_headers_describe_what_exists() -> None:
    """The schema notes say schema 4 left FTS5; test_architecture cites no document that does not exist."""
    layout = _source("codesearch/store/layout.py")
    note = layout[layout.index("# 4:"):layout.index("SCHEMA_VERSION =")]
    assert "no more FTS5" in note and "lexical" in note
    header = ast.get_docstring(ast.parse(_source("tests/test_architecture.py"))) or ""
    assert header and all((ROOT / name).exists() for name in re.findall(r"[\w/]+\.md\b", header))


def test_a_found_file_is_a_file_entry_not_a_candidate() -> None:
    """"Candidate" means a chunk in the ranking only; discovery yields ``FileEntry``s, a ``Task`` holds one."""
    import indexer.discover as discover
    import indexer.work as work

    assert not hasattr(discover, "Candidate") and hasattr(discover, "FileEntry")
    assert [f.name for f in dataclasses.fields(work.Task)][0] == "entry"


def test_workspace_means_many_repositories_and_the_mcp_one_is_a_session() -> None:
    """``--workspace`` and workspace.json keep the word; one repository kept open is a ``RepositorySession``."""
    from codesearch.session import RepositorySession

    assert not (ROOT / "codesearch" / "workspace.py").exists()
    assert "codesearch.session" in _codesearch_imports(ROOT / "codesearch" / "mcp_server.py")
    assert callable(RepositorySession.start_loading)


def test_postings_scored_another_way_are_rewritten_by_the_next_run(tmp_path: Path) -> None:
    """An index whose postings were scored by an older rule (no ``postings_scoring`` in its meta, or
    another version) gets a new generation from the next run even with no file changed: the
    length cap reaches existing indexes without a re-parse."""

    from codesearch.pipeline import build_index
    from codesearch.store.postings import SCORING_VERSION
    from tests.conftest import FakeEmbedder, write

    write(tmp_path, "a.py", "def retry(url):\n    return url\n")
    first = build_index(tmp_path, embedder=FakeEmbedder(), workers=1)
    assert not build_index(tmp_path, embedder=FakeEmbedder(), workers=1).changed  # nothing to do
    with edited_db(tmp_path / ".codesearch" / "index.db") as db:
        assert db.execute("select value from meta where key = 'postings_scoring'").fetchone()[0] == SCORING_VERSION
        db.execute("delete from meta where key = 'postings_scoring'")
    again = build_index(tmp_path, embedder=FakeEmbedder(), workers=1)
    assert again.changed and again.generation == first.generation + 1 and again.chunks_added == 0
    with edited_db(tmp_path / ".codesearch" / "index.db") as db:
        assert db.execute("select value from meta where key = 'postings_scoring'").fetchone()[0] == SCORING_VERSION
