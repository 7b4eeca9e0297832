"""Shared fixtures: a deterministic fake embedder and small repositories on disk."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_REPOS = ROOT / "sample_repos"
LANGUAGES = ["python", "javascript", "java", "php", "ruby", "go"]


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
