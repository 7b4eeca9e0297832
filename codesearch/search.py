"""Query an index: validate -> embed -> exact FAISS search (filtered) -> hydrate -> results."""

from __future__ import annotations

import fnmatch
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from codesearch.embed import Embedder
from codesearch.embed.static import StaticEmbedder
from codesearch.errors import BadQuery, IndexCorrupt, IndexNotFound, IndexOutOfDate, UnsafeIndexDir
from codesearch.embed.text import split_identifiers
from codesearch.freshness import CHANGED, GONE, FileCheck, check_file
from codesearch.fusion import reciprocal_rank_fusion
from codesearch.rerank import Reranker
from codesearch.store.layout import DB_NAME, INDEX_DIR_NAME, SCHEMA_VERSION
from codesearch.store.reader import IndexMeta, IndexReader
from indexer.languages import UnknownLanguage, spec_for

MAX_K = 1000
_SLACK = 10
DEFAULT_HYBRID = True
HYBRID_DEPTH = 50  # candidates taken from each ranking before fusion
# Weight of the lexical ranking in the fusion, chosen on a dev split disjoint from the
# benchmark's test sample (benchmarks/tune_fusion.py, macro MRR over six languages, shipped
# model minilm-l6-code256): 0 (vectors only) -> 0.592, 0.25 -> 0.596, 0.5 -> 0.598,
# 1 -> 0.596, 3 -> 0.592, 10 -> 0.579. The trained model needs far less lexical help than
# the plain distillation did (which wanted 10). Re-tune when the model changes.
LEXICAL_WEIGHT = 0.5
RERANK_CANDIDATES = 50  # first-stage hits the reranker rescores
RERANK_CODE_CHARS = 1000
_WORD = re.compile(r"\w+")
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from get gets given how i if in into is it its me my of on or our "
    "should so that the their then there these this to use used uses using was we what when where which while "
    "who why will with you your".split()
)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One hit. Lines are 1-based and inclusive; ``path`` is relative to ``root``.

    ``stale`` means the file changed after indexing: lines and code are re-read from
    the current file, while the score still comes from the indexed version.
    """

    rank: int
    score: float
    key: str
    path: str
    root: str
    language: str
    kind: str
    name: str
    qualname: str
    signature: str
    doc: str
    code: str
    start_line: int
    end_line: int
    stale: bool = False
    scores: dict[str, float] = field(default_factory=dict)
    content_hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


def find_index(start: Path) -> Path:
    """The index directory for ``start``: ``.codesearch`` in it or its nearest parent.

    :raises IndexNotFound: if there is none.
    :raises UnsafeIndexDir: if the nearest ``.codesearch`` is a symlink.
    """
    start = Path(start).resolve()
    for directory in (start, *start.parents):
        candidate = directory / INDEX_DIR_NAME
        if candidate.is_symlink():
            raise UnsafeIndexDir(f"{candidate} is a symlink; refusing to follow it (remove it, or pass --index-dir)")
        if (candidate / DB_NAME).is_file():
            return candidate
    raise IndexNotFound(f"no index found in {start} or its parents; run `codesearch index {start}` first")


class Searcher:
    """Searches one index with the model it was built with.

    :raises IndexNotFound: if ``index_dir`` holds no index (``RepositoryMoved``: its repository is gone).
    :raises IndexOutOfDate: if the index was built by another model or schema.
    :raises IndexCorrupt: if the index files are damaged.
    :raises UnsafeIndexDir: if the index directory holds symlinks or someone else's files.
    """

    def __init__(self, index_dir: Path, embedder: Embedder | None = None) -> None:
        self.reader = IndexReader(index_dir)
        try:
            self._open(embedder)
        except BaseException:
            self.reader.close()
            raise

    def _open(self, embedder: Embedder | None) -> None:
        self.root = self.reader.root  # first: a repository that moved away is the clearest error
        meta = self.reader.meta
        if meta.schema_version != SCHEMA_VERSION:
            fix = "`codesearch index` to upgrade it" if meta.schema_version < SCHEMA_VERSION else "`codesearch index --rebuild`"
            raise IndexOutOfDate(
                f"the index uses schema {meta.schema_version}, this codesearch uses {SCHEMA_VERSION}; run {fix}"
            )
        # Read the vector file in a thread (FAISS releases the GIL) while the model loads.
        # The thread only reads the file; if a writer replaced it meanwhile, the retry with
        # a fresh snapshot happens here, in the thread that owns the SQLite connection.
        with ThreadPoolExecutor(max_workers=1) as pool:
            vectors = pool.submit(self.reader.snapshot_vectors)
            self.embedder = embedder or StaticEmbedder.default()
            self._check_model(meta)
            try:
                self.vectors = vectors.result()
            except IndexCorrupt:
                self.vectors = self.reader.vectors()
                self._check_model(self.reader.meta)

    def _check_model(self, meta: IndexMeta) -> None:
        if meta.model_fingerprint != self.embedder.fingerprint:
            raise IndexOutOfDate(
                f"the index was built with model {meta.model_fingerprint}, the current model is "
                f"{self.embedder.fingerprint}; run `codesearch index --rebuild`"
            )

    def close(self) -> None:
        """Release the index snapshot."""
        self.reader.close()

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        language: str | None = None,
        path_glob: str | None = None,
        hybrid: bool = DEFAULT_HYBRID,
        rerank: Reranker | None = None,
        candidates: int = RERANK_CANDIDATES,
    ) -> list[SearchResult]:
        """The ``k`` chunks closest to ``query``, best first.

        :param language: only chunks in this language.
        :param path_glob: only chunks whose repo-relative path matches (``fnmatch``; ``*`` crosses ``/``).
        :param hybrid: fuse the vector ranking with the lexical (FTS5) ranking by reciprocal rank.
        :param rerank: rescore the first ``candidates`` hits with this (transformer) reranker.
        :raises BadQuery: for an empty query, a bad ``k`` or an unknown language.
        """
        query = validate_query(query, k)
        if language is not None:
            try:
                language = spec_for(language).name
            except UnknownLanguage as exc:
                raise BadQuery(str(exc)) from None
        vector = self.embedder.encode_queries([query])
        words = lexical_words(query) if hybrid else []
        if not np.any(vector) and not words:
            raise BadQuery("the query has no words the model knows; try other words")
        allowed = None
        if language is not None or path_glob is not None:
            paths = None
            if path_glob is not None:
                paths = [p for p in self.reader.file_paths() if fnmatch.fnmatchcase(p, path_glob)]
            allowed = self.reader.ids_where(language=language, paths=paths)
            if allowed.size == 0:
                return []
        # Ask for a few more than k: hits in files deleted since indexing are dropped.
        depth = max(k + _SLACK, HYBRID_DEPTH if hybrid else 0, candidates + _SLACK if rerank else 0)
        scores, ids = self.vectors.search(vector, depth, allowed)
        static = {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i != -1}
        stage: dict[int, dict[str, float]] = {i: {"static": s} for i, s in static.items()}
        if hybrid:
            lexical = self.reader.lexical(words, depth, language)
            if allowed is not None and path_glob is not None:
                allowed_set = set(allowed.tolist())
                lexical = [(i, s) for i, s in lexical if i in allowed_set]
            for i, s in lexical:
                stage.setdefault(i, {})["lexical"] = s
            fused = reciprocal_rank_fusion([list(static), [i for i, _ in lexical]], weights=[1.0, LEXICAL_WEIGHT])
            for i, s in fused:
                stage[i]["fused"] = s
            hits = fused
        else:
            hits = list(static.items())
        rows = self.reader.chunks([i for i, _ in hits])
        hits = [(i, s) for i, s in hits if i in rows]
        checks = self._check_files({rows[i]["path"]: rows[i]["language"] for i, _ in hits})
        results: list[SearchResult] = []
        for chunk_id, score in hits:
            row = dict(rows[chunk_id])
            check = checks[row["path"]]
            if check.status == GONE:
                continue
            if check.status == CHANGED:
                current = check.chunks.get(row["key"])
                if current is None:
                    continue  # the symbol is no longer in the file
                row.update(start_line=current.start_line, end_line=current.end_line, code=current.code,
                           signature=current.signature, doc=current.doc, content_hash=current.content_hash)
            results.append(_result(row, len(results) + 1, score, str(self.root), stale=check.status == CHANGED,
                                   scores=stage[chunk_id]))
            if len(results) == (max(k, candidates) if rerank else k):
                break
        if rerank is not None:
            results = _reranked(results, query, rerank)
        return results[:k]

    def _check_files(self, languages: dict[str, str]) -> dict[str, FileCheck]:
        """Fresh / changed / gone for each file behind a hit."""
        states = self.reader.file_states(sorted(languages))
        limit = self.reader.max_file_bytes
        return {
            path: check_file(self.root, path, language, states.get(path, (-1, -1, -1, "")), limit)
            for path, language in languages.items()
        }


def _result(row: dict[str, Any], rank: int, score: float, root: str, stale: bool,
            scores: dict[str, float]) -> SearchResult:
    return SearchResult(
        rank=rank,
        score=score,
        key=row["key"],
        path=row["path"],
        root=root,
        language=row["language"],
        kind=row["kind"],
        name=row["name"],
        qualname=row["qualname"],
        signature=row["signature"],
        doc=row["doc"],
        code=row["code"],
        start_line=row["start_line"],
        end_line=row["end_line"],
        stale=stale,
        scores=scores,
        content_hash=row["content_hash"],
    )


def _reranked(results: list[SearchResult], query: str, reranker: Reranker) -> list[SearchResult]:
    """Results reordered by the reranker's scores, with ranks renumbered."""
    texts = [rerank_text(r) for r in results]
    scores = reranker.score(query, texts, [r.content_hash for r in results])
    order = sorted(range(len(results)), key=lambda i: -float(scores[i]))
    return [
        replace(results[i], rank=rank, score=float(scores[i]), scores={**results[i].scores, "rerank": float(scores[i])})
        for rank, i in enumerate(order, 1)
    ]


def rerank_text(result: SearchResult) -> str:
    """What the reranker reads for a hit: kind, name, signature, doc and the start of the code."""
    return "\n".join(p for p in (f"{result.kind} {result.qualname}", result.signature, result.doc,
                                 result.code[:RERANK_CODE_CHARS]) if p)


def lexical_words(query: str) -> list[str]:
    """The words of a query that the lexical index should match: identifiers split, no stopwords."""
    words = _WORD.findall(split_identifiers(query).lower())
    return list(dict.fromkeys(w for w in words if len(w) > 1 and w not in _STOPWORDS))


def validate_query(query: str, k: int = 10) -> str:
    """The stripped query, or BadQuery if it is empty or ``k`` is out of range.

    :raises BadQuery: for an empty or whitespace-only query, or ``k`` outside 1..MAX_K.
    """
    if not isinstance(query, str) or not query.strip():
        raise BadQuery("the query is empty; say what the code does, e.g. \"retry failed http requests\"")
    if not 1 <= k <= MAX_K:
        raise BadQuery(f"k must be between 1 and {MAX_K}, got {k}")
    return query.strip()
