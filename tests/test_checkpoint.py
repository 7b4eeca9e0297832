"""A long index run commits as it goes (``IndexWriter.checkpoint``): the same index in the end, and an
interrupted run keeps its finished files, which the next run does not parse or embed again."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

import codesearch.pipeline as pipeline
from codesearch.pipeline import build_index
from codesearch.search import Searcher
from codesearch.store.layout import KEY_SQL
from tests.conftest import FakeEmbedder

QUERIES = ("retry a failed http request", "parse the configuration file", "user account", "json")


def rows(index_dir: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(index_dir / "index.db") as conn:
        return conn.execute(f"SELECT {KEY_SQL} AS k, path, content_hash, start_line, end_line FROM chunks ORDER BY k"
                            ).fetchall()


def files(index_dir: Path) -> set[str]:
    with sqlite3.connect(index_dir / "index.db") as conn:
        return {path for (path,) in conn.execute("SELECT path FROM files")}


def answers(index_dir: Path) -> list[list[tuple[str, int, float]]]:
    with Searcher(index_dir, FakeEmbedder()) as searcher:
        return [[(r.path, r.start_line, round(r.score, 6)) for r in searcher.search(q, 5)] for q in QUERIES]


class Interrupted(Exception):
    pass


def stop_after(files_written: int):
    """A progress callback that interrupts the run once it has written ``files_written`` files."""
    def progress(stage: str, done: int, total: int) -> None:
        if stage == "index" and done > files_written and done < total:
            raise Interrupted
    return progress


@pytest.fixture
def repo(sample_copy: Path) -> Path:
    return sample_copy


def test_checkpoints_give_the_same_index_and_keep_one_generation(repo: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    whole = build_index(repo, tmp_path / "whole", FakeEmbedder(), workers=1)
    assert whole.checkpoints == 0
    monkeypatch.setattr(pipeline, "CHECKPOINT_CHUNKS", 7)
    parts = build_index(repo, tmp_path / "parts", FakeEmbedder(), workers=1)
    # After the first 7 new chunks, each part is at least as large as all before it: about log2(n / 7) parts.
    assert 3 <= parts.checkpoints <= math.log2(whole.chunks_total / 7) + 1
    assert parts.chunks_total == whole.chunks_total == parts.chunks_added
    assert rows(tmp_path / "parts") == rows(tmp_path / "whole")
    assert answers(tmp_path / "parts") == answers(tmp_path / "whole")
    kept = sorted(p.name for p in (tmp_path / "parts").iterdir() if p.name.startswith(("vectors-", "lexical-")))
    assert kept == [f"lexical-{parts.generation}.bin", f"vectors-{parts.generation}.faiss"]


def test_an_interrupted_run_keeps_its_finished_files_and_the_next_goes_on_from_there(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean = build_index(repo, tmp_path / "clean", FakeEmbedder(), workers=1)
    monkeypatch.setattr(pipeline, "CHECKPOINT_CHUNKS", 7)
    index_dir = tmp_path / "index"
    first = FakeEmbedder()
    with pytest.raises(Interrupted):
        build_index(repo, index_dir, first, workers=1, progress=stop_after(clean.files // 2))
    kept = files(index_dir)
    assert 0 < len(kept) < clean.files  # what the last checkpoint committed, searchable
    assert all(answers(index_dir))
    second = FakeEmbedder()
    resumed = build_index(repo, index_dir, second, workers=1)
    assert resumed.files_parsed == clean.files - len(kept)  # the finished files are not read again
    assert first.documents_embedded + second.documents_embedded - clean.chunks_total < first.documents_embedded
    assert rows(index_dir) == rows(tmp_path / "clean") and answers(index_dir) == answers(tmp_path / "clean")


def test_an_interrupted_rebuild_goes_on_without_rebuild(repo: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    index_dir = tmp_path / "index"
    clean = build_index(repo, index_dir, FakeEmbedder(), workers=1)
    monkeypatch.setattr(pipeline, "CHECKPOINT_CHUNKS", 7)
    with pytest.raises(Interrupted):
        build_index(repo, index_dir, FakeEmbedder(), workers=1, rebuild=True, progress=stop_after(clean.files // 2))
    kept = files(index_dir)
    assert 0 < len(kept) < clean.files  # the rebuild emptied the index at its first checkpoint
    resumed = build_index(repo, index_dir, FakeEmbedder(), workers=1)
    assert resumed.files_parsed == clean.files - len(kept)
    assert len(rows(index_dir)) == clean.chunks_total and files(index_dir) == files(tmp_path / "index")


def test_an_interrupted_reparse_parses_everything_again(repo: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that parses every file again (new parser queries) records the new parser only when it
    finishes: unreached files still hold the old parser's chunks, so the next run reparses them all."""
    index_dir = tmp_path / "index"
    clean = build_index(repo, index_dir, FakeEmbedder(), workers=1)
    monkeypatch.setattr(pipeline, "CHECKPOINT_CHUNKS", 7)
    monkeypatch.setattr(pipeline, "parser_fingerprint", lambda: "another-parser")
    (repo / "python" / "httpkit" / "extra.py").write_text('def parse_extra(text):\n    """Parse extra text."""\n')
    with pytest.raises(Interrupted):
        build_index(repo, index_dir, FakeEmbedder(), workers=1, progress=stop_after(clean.files // 2))
    resumed = build_index(repo, index_dir, FakeEmbedder(), workers=1)
    assert resumed.files_parsed == clean.files + 1
    with sqlite3.connect(index_dir / "index.db") as conn:
        assert dict(conn.execute("SELECT key, value FROM meta"))["parser_fingerprint"] == "another-parser"
