"""Shared fixtures: a deterministic fake embedder and small repositories on disk."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_REPOS = ROOT / "sample_repos"
LANGUAGES = ["python", "javascript", "typescript", "java", "php", "ruby", "go", "c", "cpp", "csharp", "rust", "kotlin",
             "scala", "swift", "elixir", "haskell", "lua", "zig", "bash"]  # one sample repo each, in registry order


class FakeEmbedder:
    """Bag-of-words hashing into 64 dimensions: deterministic, fast, and it counts calls."""

    name = "fake"
    fingerprint = "fake:1"
    dim = 64

    def __init__(self) -> None:
        self.documents_embedded = 0
        self.batches = 0
        self.seen: list[str] = []

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.documents_embedded += len(texts)
        self.batches += 1
        self.seen.extend(texts)
        return self._encode(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)


@pytest.fixture(scope="session", autouse=True)
def isolated_trust_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The indexes tests build are registered in a registry of the test run's own, never in the
    user's (``codesearch.store.trust``); CLI subprocesses inherit it. Session-wide, so that
    module-scoped fixtures that build an index use it too."""
    state = tmp_path_factory.mktemp("state") / "codesearch"
    previous = os.environ.get("CODESEARCH_STATE")
    os.environ["CODESEARCH_STATE"] = str(state)
    yield state
    if previous is None:
        os.environ.pop("CODESEARCH_STATE", None)
    else:
        os.environ["CODESEARCH_STATE"] = previous


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A private copy of sample_repos/ (without any index in it)."""
    dest = tmp_path / "repos"
    shutil.copytree(SAMPLE_REPOS, dest, ignore=shutil.ignore_patterns(".codesearch"))
    return dest


def write(root: Path, rel: str, text: str | bytes) -> Path:
    """Write a file under root, creating directories."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_teacher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised one-layer BERT with a 300-token WordPiece vocabulary."""
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("model2vec.distill")
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    words = sorted({w.lower() for p in (SAMPLE_REPOS / "python").rglob("*.py")
                    for w in __import__("re").findall(r"[A-Za-z]{2,}", p.read_text())})[:220]
    letters = [chr(c) for c in range(97, 123)]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *letters, *[f"##{c}" for c in letters], *words]
    vocab = list(dict.fromkeys(vocab))
    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    path = tmp_path_factory.mktemp("tiny-teacher")
    transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                         sep_token="[SEP]", mask_token="[MASK]").save_pretrained(str(path))
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=64, max_position_embeddings=256)
    transformers.BertModel(config).save_pretrained(str(path))
    return path


def symbols_of(language: str, code: str) -> dict[str, Any]:
    """The symbols ``extract_symbols`` finds in ``code`` of ``language``, by qualified name."""
    from indexer.languages import spec_for
    from indexer.parse import extract_symbols
    from indexer.types import SourceFile

    file = SourceFile("x" + spec_for(language).extensions[0], language, code.encode())
    return {s.qualname: s for s in extract_symbols(file)}


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real pairs from the sample repositories: each source file is one "package"."""
    from dataclasses import replace

    from codesearch.bench.datasets import build_from_repo, write_jsonl

    root = tmp_path_factory.mktemp("corpus")
    # The first seven languages' pairs: the tiny trainings run on it (8 steps of 8 pairs) were
    # sized on them, and a sample of all nineteen leaves their dev MRR flat.
    for language in LANGUAGES[:7]:
        examples = [replace(e, repo=f"sample-{language}-{e.path}") for e in build_from_repo(SAMPLE_REPOS / language)]
        write_jsonl(examples, root / f"{language}.jsonl.gz")
    return root


def as_schema_7(index_dir: Path) -> None:
    """Turn a schema 8 index into the schema 7 one it was: ``chunks`` a table with each chunk's path (and
    that table's indexes, the language of each), ``files`` keyed by path without ids."""
    with edited_db(index_dir / "index.db") as conn:
        conn.executescript("""
            CREATE TABLE chunks_old (id INTEGER PRIMARY KEY, key TEXT, path TEXT, language TEXT, kind TEXT,
                name TEXT, qualname TEXT, signature TEXT, doc TEXT, start_line INTEGER, end_line INTEGER,
                content_hash TEXT, code_z BLOB);
            INSERT INTO chunks_old SELECT id, key, path, language, kind, name, qualname, signature, doc, start_line,
                end_line, content_hash, code_z FROM chunks;
            DROP VIEW chunks;
            DROP TABLE chunk_rows;
            ALTER TABLE chunks_old RENAME TO chunks;
            CREATE INDEX idx_chunks_path ON chunks(path);
            CREATE INDEX idx_chunks_language ON chunks(language);
            CREATE INDEX chunks_content_hash ON chunks(content_hash);
            CREATE INDEX chunks_name_nocase ON chunks(name COLLATE NOCASE);
            CREATE TABLE files_old (path TEXT PRIMARY KEY, language TEXT, size INTEGER, mtime_ns INTEGER, sha1 TEXT,
                symbols INTEGER, ctime_ns INTEGER NOT NULL DEFAULT -1, topic BLOB);
            INSERT INTO files_old SELECT path, language, size, mtime_ns, sha1, symbols, ctime_ns, topic FROM files;
            DROP TABLE files;
            ALTER TABLE files_old RENAME TO files;
            DELETE FROM _sqlite_migrations WHERE name = 'm009_file_ids';
            UPDATE meta SET value = '7' WHERE key = 'schema_version';
        """)


def die_after(db_path: Path, statements: Sequence[str]) -> None:
    """A process that runs ``statements`` on the database at ``db_path``, each on its own (SQLite's autocommit: a
    ``BEGIN`` holds the ones after it uncommitted), and dies before SQLite folds its write-ahead log in: an index
    run killed there, or what a repository's attacker ships (``trust.foreign_journal``)."""
    import subprocess
    import sys

    script = ("import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
              "[c.execute(s) for s in sys.argv[2:]]; os._exit(0)")
    subprocess.run([sys.executable, "-c", script, str(db_path), *statements], check=True)
    assert Path(f"{db_path}-wal").stat().st_size > 32


@contextlib.contextmanager
def edited_db(path: Path | str) -> Iterator[sqlite3.Connection]:
    """A connection to an index database that a test edits (to damage or forge it), committed and closed at the
    end: closed, SQLite folds its write-ahead log into the file. A log left unfolded is another program's, which
    codesearch refuses before anything else (``trust.foreign_journal``)."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            yield conn
    finally:
        conn.close()
