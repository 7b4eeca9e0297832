"""A file's topic (schema 6): the normalised mean of its chunks' vectors, stored per file by the writer
and compared with a natural-language query by the ``file_topic`` ranking signal."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from codesearch import ranking
from codesearch.errors import IndexCorrupt
from codesearch.multi import MultiSearcher
from codesearch.pipeline import build_index
from codesearch.query import analyse
from codesearch.ranking import Candidate, Signals, rank
from codesearch.search import Searcher
from codesearch.store.reader import IndexReader
from tests.conftest import FakeEmbedder, edited_db, write


def _cand(i: int, path: str, fused: float, file: float, kind: str = "function") -> Candidate:
    row = {"path": path, "name": f"f{i}", "qualname": f"f{i}", "kind": kind, "language": "python"}
    return Candidate(i, row, fused, {"file": file})


def test_the_file_topic_lifts_whole_files_and_keeps_their_order() -> None:
    """Every chunk of a file gets the same lift, by its file's cosine over the best in the pool: the file
    about the query rises with all its chunks, which keep their order; a test file's lift is scaled as it is."""
    pool = [_cand(1, "a.py", 1.0, 0.2), _cand(2, "b.py", 0.95, 0.8), _cand(3, "b.py", 0.9, 0.8),
            _cand(4, "tests/test_b.py", 0.96, 0.8)]
    out = rank(analyse("send zebras home"), pool, replace(Signals.none(), file_topic=True, noise=True))
    lifts = {c.id: c.scores["file_topic"] for c in out}
    assert lifts == pytest.approx({1: 0.025, 2: 0.1, 3: 0.1, 4: 0.1 * ranking.NOISE_FACTOR})
    assert [c.id for c in out] == [2, 1, 3, 4]  # b.py's first chunk above a.py's, its second still below its first
    off = rank(analyse("send zebras home"), [_cand(1, "a.py", 1.0, 0.2), _cand(2, "b.py", 0.95, 0.8)],
               Signals.none())
    assert [c.id for c in off] == [1, 2] and all("file_topic" not in c.scores for c in off)


def _repo(root: Path) -> Path:
    write(root, "net.py", "def fetch_page(url):\n    return get(url)\n\n\ndef retry_fetch(url):\n"
                          "    for _ in range(3):\n        fetch_page(url)\n")
    write(root, "db.py", "class Pool:\n    def open_pool(self, dsn):\n        return connect(dsn)\n")
    write(root, "empty.py", "")
    return root


def _topics(index_dir: Path) -> dict[str, bytes | None]:
    with edited_db(index_dir / "index.db") as conn:
        return dict(conn.execute("SELECT path, topic FROM files"))


def test_the_writer_stores_each_files_mean_vector_and_keeps_it_while_the_chunks_stay(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder(), workers=1)
    index_dir = root / ".codesearch"
    with IndexReader(index_dir) as reader:
        vectors = reader.vectors()
        ids = {p: [i for i, path in reader.conn.execute("SELECT id, path FROM chunks") if path == p]
               for p in ("net.py", "db.py")}
        for path, chunk_ids in ids.items():
            mean = vectors.vectors(chunk_ids).mean(axis=0)
            topic = reader.file_topics([path])[path].astype(np.float32)
            assert np.allclose(topic, mean / np.linalg.norm(mean), atol=2e-3)
        assert reader.file_topics(["empty.py", "missing.py"]) == {}  # no chunks: no topic
    before = _topics(index_dir)
    assert before["empty.py"] == b""
    os.utime(root / "net.py", ns=(1, 1))  # same bytes, new mtime: the file row is refreshed, its topic kept
    build_index(root, embedder=FakeEmbedder(), workers=1)
    assert _topics(index_dir) == before
    write(root, "net.py", "def parse_settings(text):\n    return dict(line.split('=') for line in text)\n")
    build_index(root, embedder=FakeEmbedder(), workers=1)
    after = _topics(index_dir)
    assert after["net.py"] not in (None, before["net.py"]) and after["db.py"] == before["db.py"]


def test_an_index_of_schema_5_gets_its_topics_on_its_next_run(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder(), workers=1)
    index_dir = root / ".codesearch"
    built = _topics(index_dir)
    with edited_db(index_dir / "index.db") as conn:  # as an index made before m007
        conn.execute("ALTER TABLE files DROP COLUMN topic")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm007_file_topics'")
        conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    build_index(root, embedder=FakeEmbedder(), workers=1)
    assert _topics(index_dir) == built


@pytest.mark.parametrize("topic", [b"\x00" * 6, "text"])
def test_a_damaged_topic_is_index_corrupt(tmp_path: Path, topic: object) -> None:
    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder(), workers=1)
    with edited_db(root / ".codesearch" / "index.db") as conn:
        conn.execute("UPDATE files SET topic = ? WHERE path = 'net.py'", [topic])
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        with pytest.raises(IndexCorrupt, match="topic of net.py"):
            searcher.search("fetch a page again", 5)


def test_one_index_and_several_give_the_same_file_scores(tmp_path: Path) -> None:
    """A search of several indexes carries the files' cosines in its parts (``multi.Part``)."""
    root = _repo(tmp_path / "repo")
    other = tmp_path / "other"
    write(other, "zoo.py", "def feed_zebras(zoo):\n    return zoo.zebras\n")
    for r in (root, other):
        build_index(r, embedder=FakeEmbedder(), workers=1)
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as one:
        alone = {(r.path, r.qualname): r.scores.get("file") for r in one.search("fetch a page again", 10)}
    with MultiSearcher([root / ".codesearch", other / ".codesearch"], embedder=FakeEmbedder(),
                       names=["repo", "other"]) as many:
        both = {(r.local_path, r.qualname): r.scores.get("file") for r in many.search("fetch a page again", 10)
                if r.repo == "repo"}
    assert alone and all(v is not None for v in alone.values())
    assert both == pytest.approx(alone)


def test_a_part_measures_file_topics_only_for_a_query_that_uses_them(tmp_path: Path) -> None:
    """A name or one word does not use the files' topics: a search of several indexes does not read them."""
    from codesearch.multi import fill, gather
    from codesearch.search import SearchOptions

    root = _repo(tmp_path / "repo")
    build_index(root, embedder=FakeEmbedder(), workers=1)
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        for query, measured in (("fetch a page again", True), ("fetch_page", False), ("fetch", False)):
            options = SearchOptions(k=5)
            part = gather(searcher, searcher.parse(query, 5), options)
            assert part is not None and part.topics is measured
            filled = fill(searcher, part, [i for i, _ in part.static])
            assert bool(filled.file_similarity) is measured, query
