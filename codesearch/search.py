"""Query an index: validate -> embed -> exact FAISS search (filtered) -> hydrate -> results."""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from codesearch.embed import Embedder
from codesearch.embed.static import StaticEmbedder
from codesearch.errors import BadQuery, IndexCorrupt, IndexNotFound, IndexOutOfDate, IndexUnavailable, UnsafeIndexDir
from codesearch.freshness import CHANGED, GONE, FileCheck, check_file
from codesearch.fusion import score_fusion
from codesearch.lexical import query_terms
from codesearch.query import IDENTIFIER, NATURAL, PATH, STOPWORDS, QueryInfo, analyse, words_of
from codesearch.ranking import Candidate, Signals, diversified, rank, rerank_score
from codesearch.rerank import Reranker
from codesearch.store.indexdir import unreadable
from codesearch.store.layout import DB_NAME, INDEX_DIR_NAME, SCHEMA_VERSION
from codesearch.store.reader import IndexMeta, IndexReader
from indexer.chunk import display_code
from indexer.languages import UnknownLanguage, spec_for

MAX_K = 1000
_SLACK = 10
DEFAULT_HYBRID = True
DEFAULT_RERANK = False  # the CLI reranks with the shipped second stage by default when True (--fast skips)
CANDIDATES = 50  # taken from each first-stage ranking before fusion
DEFINITIONS = 50  # chunks defining a name the query mentions, added to the pool
PER_FILE = 0  # hits of one file before every other file had its turn (0: no limit; see the README)
# Weight of the lexical ranking in the fusion, by kind of query. The first stage fuses the
# two rankings by score (each divided by its ranking's best), so that a clear lead in either
# stays a clear lead for the ranking signals; reciprocal-rank fusion flattened rank 1 and
# rank 3 to within 3%, and a path match then outweighed a hit that led both rankings.
# Measured on semble's dev set / our plain-English set / sample_repos (NDCG@10, R@5, MRR):
# rank fusion 0.857 / 0.663 / 0.789; score fusion with weight 1: 0.854 / 0.679 / 0.848.
LEXICAL_WEIGHT = 1.0
LEXICAL_WEIGHTS = {NATURAL: LEXICAL_WEIGHT, IDENTIFIER: 1.0, PATH: 1.0}
RERANK_CANDIDATES = 20  # first-stage hits the reranker rescores (20 and 50 measured the same; see the README)


RERANK_CODE_CHARS = 1000


def fuse(rankings: Sequence[Sequence[tuple[Any, float]]], weights: Sequence[float]) -> list[tuple[Any, float]]:
    """The fusion of the first-stage rankings (best first, with their scores): by score (see above)."""
    return score_fusion(rankings, weights)


@dataclass(frozen=True)
class ParsedQuery:
    """A validated query, analysed and embedded: what searches of one query share across indexes."""

    text: str
    info: QueryInfo
    vector: np.ndarray
    terms: np.ndarray


@dataclass(frozen=True)
class Plan:
    """A validated, analysed and embedded query, and the chunk ids the filters allow (None: all)."""

    query: str
    info: QueryInfo
    vector: np.ndarray
    terms: np.ndarray
    language: str | None
    allowed: np.ndarray | None

    @property
    def allowed_set(self) -> set[int] | None:
        return None if self.allowed is None else set(self.allowed.tolist())


@dataclass(frozen=True, slots=True)
class PathFilter:
    """Which files a search looks at.

    :param include: globs (``fnmatch``, ``*`` crosses ``/``); a file must match one, if any are given.
    :param exclude: globs; a file matching one is left out.
    :param under: a repo-relative directory; only files below it (``""``: everywhere).
    :param cwd: globs also match the path as printed, relative to this directory.
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    under: str = ""
    cwd: Path | None = None

    @property
    def active(self) -> bool:
        """Whether it filters anything."""
        return bool(self.include or self.exclude or self.under)

    def matches(self, root: Path, path: str) -> bool:
        """Whether the repo-relative ``path`` passes."""
        if self.under and not path.startswith(self.under.rstrip("/") + "/"):
            return False
        names = [path]
        if self.cwd is not None:
            names.append(os.path.relpath(root / path, self.cwd))
        if self.include and not any(fnmatch.fnmatchcase(n, g) for n in names for g in self.include):
            return False
        return not any(fnmatch.fnmatchcase(n, g) for n in names for g in self.exclude)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One hit. Lines are 1-based and inclusive; ``path`` is relative to ``root`` (when several
    repositories are searched as one, it starts with ``repo/``; ``local_path`` drops that).

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
    chunk_id: int = -1  # the chunk's id in this index (its FAISS id)
    duplicates: tuple[str, ...] = ()  # "path:line" of identical chunks elsewhere (folded into this one)
    repo: str = ""  # when several repositories are searched: the name ``path`` starts with

    @property
    def local_path(self) -> str:
        """The path relative to ``root`` (``path`` without the repository's name)."""
        return self.path[len(self.repo) + 1:] if self.repo else self.path

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


def find_index(start: Path) -> Path:
    """The index directory for ``start``: ``.codesearch`` in it or its nearest parent.

    :raises IndexNotFound: if there is none.
    :raises UnsafeIndexDir: if the nearest ``.codesearch`` is a symlink.
    :raises IndexUnavailable: if the nearest ``.codesearch`` cannot be read (permissions).
    """
    start = Path(start).resolve()
    for directory in (start, *start.parents):
        candidate = directory / INDEX_DIR_NAME
        try:
            if stat.S_ISLNK(os.lstat(candidate).st_mode):
                raise UnsafeIndexDir(f"{candidate} is a symlink; refusing to follow it (remove it, or pass --index-dir)")
            os.lstat(candidate / DB_NAME)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            raise IndexUnavailable(unreadable(candidate, exc)) from exc
        return candidate
    raise IndexNotFound(f"no index found in {start} or its parents; run `codesearch index {start}` first")


class Searcher:
    """Searches one index with the model it was built with.

    Only an index this user built is opened, and files are re-read only under ``root``
    (the repository the user pointed at; by default the directory above a ``.codesearch``
    index, or the root this user indexed there), never under a root the index names.

    :raises trust.ForeignIndex: (an ``UnsafeIndexDir``) if this user did not build the index.
    :raises IndexConflict: if ``root`` is not the repository the index was built for.
    :raises IndexNotFound: if ``index_dir`` holds no index (``RepositoryMoved``: its repository is gone).
    :raises IndexOutOfDate: if the index was built by another model or schema.
    :raises IndexCorrupt: if the index files are damaged.
    :raises UnsafeIndexDir: if the index directory holds symlinks or someone else's files.
    """

    def __init__(self, index_dir: Path, embedder: Embedder | None = None, root: Path | None = None) -> None:
        self.repo = ""  # a name put before every result path (set when several indexes are searched as one)
        self.reader = IndexReader(index_dir, root)
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
            files = pool.submit(self.reader.snapshot_files)
            self.embedder = embedder or StaticEmbedder.default()
            self._check_model(meta)
            try:
                self.vectors, self.lexical = files.result()
            except IndexCorrupt:
                self.vectors, self.lexical = self.reader.files()
                self._check_model(self.reader.meta)

    def _check_model(self, meta: IndexMeta) -> None:
        if meta.model_fingerprint != self.embedder.fingerprint:
            raise IndexOutOfDate(
                f"the index was built with model {meta.model_fingerprint}, the current model is "
                f"{self.embedder.fingerprint}; run `codesearch index --rebuild`"
            )

    def close(self) -> None:
        """Release the index snapshot: the database connection and the mapped vector and lexical files."""
        self.reader.close()
        self.__dict__.pop("vectors", None)
        self.__dict__.pop("lexical", None)

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
        paths: PathFilter | None = None,
        hybrid: bool = DEFAULT_HYBRID,
        rerank: Reranker | None = None,
        candidates: int = RERANK_CANDIDATES,
        signals: Signals = Signals(),
        per_file: int = PER_FILE,
        min_score: float = 0.0,
        kinds: Sequence[str] = (),
    ) -> list[SearchResult]:
        """The ``k`` chunks that best answer ``query``, best first.

        Stages: the vector ranking and (``hybrid``) the lexical ranking, each ``CANDIDATES``
        deep, fused by score with weights chosen by the kind of query; the
        definitions of names the query mentions join the pool; the code-aware ``signals``
        (``codesearch.ranking``) score the pool; at most ``per_file`` hits of one file come
        before every other file's; an optional transformer ``rerank`` reorders the top.

        :param language: only chunks in this language.
        :param path_glob: only chunks whose repo-relative path matches (``fnmatch``; ``*`` crosses ``/``).
        :param paths: include/exclude globs and a directory to search under (see ``PathFilter``).
        :param hybrid: fuse the vector ranking with the lexical ranking.
        :param rerank: rescore the first ``candidates`` hits with this (transformer) reranker.
        :param signals: which ranking signals are on.
        :param per_file: hits of one file before other files get their turn (0: no limit).
        :param min_score: drop hits whose similarity (``score``) is below this.
        :param kinds: only chunks of these kinds (``function``, ``method``, ``class``, ``code``, ...).
        :raises BadQuery: for an empty query, a bad ``k`` or an unknown language.

        Chunks with the same content hash (identical code at several paths) come back once,
        the others listed in ``duplicates``.
        """
        plan = self.plan(query, k, language=language, path_glob=path_glob, paths=paths, kinds=kinds)
        if plan is None:
            return []
        depth = _depth(k, candidates if rerank else 0)
        rankings, stage = self.first_stage(plan, depth, hybrid)
        fused = dict(fuse(rankings, [1.0, LEXICAL_WEIGHTS[plan.info.kind]][: len(rankings)]))
        if signals.definition:
            for i in self.definitions(plan):
                fused.setdefault(i, 0.0)
                stage.setdefault(i, {})
        rows = self.reader.chunks(list(fused))
        pool = [Candidate(i, rows[i], s, dict(stage[i], fused=s)) for i, s in fused.items() if i in rows]
        ranked = diversified(rank(plan.info, pool, signals), per_file)
        picked = pick(((self, c) for c in ranked), max(k, candidates) if rerank else k)
        results = self.finish([r for _, r in picked], plan.vector)
        return _finished(results, plan.query, k, rerank, min_score)

    def parse(self, query: str, k: int = 10) -> ParsedQuery:
        """The query validated, analysed and embedded (the same for every index of this model).

        :raises BadQuery: for an empty query, a bad ``k``, or a query with no known word.
        """
        query = validate_query(query, k)
        info = analyse(query)
        vector = self.embedder.encode_queries([query])
        terms = query_terms(info.words, info.compounds)
        if not np.any(vector) and not len(terms):
            raise BadQuery("the query has no words the model knows; try other words")
        return ParsedQuery(query, info, vector, terms)

    def plan(self, query: str, k: int = 10, *, language: str | None = None, path_glob: str | None = None,
             paths: PathFilter | None = None, kinds: Sequence[str] = (), parsed: ParsedQuery | None = None
             ) -> Plan | None:
        """The query analysed and embedded, and the chunks the filters allow (None: no chunk passes).

        :param parsed: ``parse(query, k)`` already done (by any searcher with the same embedder).
        :raises BadQuery: for an empty query, a bad ``k``, an unknown language, or a query with no known word.
        """
        parsed = parsed or self.parse(query, k)
        language = _language(language)
        if path_glob is not None:
            paths = replace(paths or PathFilter(), include=(*(paths.include if paths else ()), path_glob))
        allowed = self.allowed(language=language, paths=paths, kinds=kinds)
        if allowed is not None and allowed.size == 0:
            return None
        return Plan(parsed.text, parsed.info, parsed.vector, parsed.terms, language, allowed)

    def allowed(self, *, language: str | None = None, paths: PathFilter | None = None,
                kinds: Sequence[str] = ()) -> np.ndarray | None:
        """Ids of the chunks the filters let through (``None``: no filter, all of them).

        :raises BadQuery: for an unknown language.
        """
        language = _language(language)
        if language is None and not kinds and not (paths is not None and paths.active):
            return None
        files = None
        if paths is not None and paths.active:
            files = [p for p in self.reader.file_paths() if paths.matches(self.root, p)]
        return self.reader.ids_where(language=language, paths=files, kinds=list(kinds))

    def first_stage(self, plan: Plan, depth: int, hybrid: bool = DEFAULT_HYBRID
                    ) -> tuple[list[list[tuple[int, float]]], dict[int, dict[str, float]]]:
        """The vector ranking and (``hybrid``) the lexical one, ``depth`` deep, with raw scores;
        and each hit's stage scores by chunk id."""
        scores, ids = self.vectors.search(plan.vector, depth, plan.allowed)
        static = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]
        stage: dict[int, dict[str, float]] = {i: {"static": s} for i, s in static}
        rankings = [static]
        if hybrid:
            lexical = self.lexical.search(plan.terms, depth, plan.allowed)
            for i, s in lexical:
                stage.setdefault(i, {})["lexical"] = s
            rankings.append(lexical)
        return rankings, stage

    def definitions(self, plan: Plan) -> list[int]:
        """Chunks that define a name the query mentions (within the filters)."""
        if not plan.info.identifiers:
            return []
        found = self.reader.ids_named(list(plan.info.identifiers), plan.language, limit=DEFINITIONS)
        return [i for i in found if plan.allowed_set is None or i in plan.allowed_set]

    def current_row(self, row: dict[str, Any], checks: dict[str, FileCheck]) -> tuple[dict[str, Any] | None, bool]:
        """A chunk's row as its file is now (``None``: the file or the symbol is gone) and whether it changed."""
        if row["path"] not in checks:
            checks.update(self._check_files({row["path"]: row["language"]}))
        return as_checked(row, checks[row["path"]])

    def place(self, path: str) -> str:
        """A repo-relative path as results show it (under the repository's name when several are searched)."""
        return f"{self.repo}/{path}" if self.repo else path

    def finish(self, results: list[SearchResult], vector: np.ndarray) -> list[SearchResult]:
        """Similarity scores and duplicates filled in (results of this index only)."""
        return self._with_duplicates(self._with_similarity(results, vector))

    def _with_duplicates(self, results: list[SearchResult]) -> list[SearchResult]:
        """Each result with every other indexed chunk of identical content listed in ``duplicates``."""
        others = self.reader.same_content([r.content_hash for r in results])
        return [with_duplicates(r, map(self.place, others.get(r.content_hash, []))) for r in results]

    def _with_similarity(self, results: list[SearchResult], vector: np.ndarray) -> list[SearchResult]:
        """Each result's ``score``: the cosine similarity of query and chunk, clipped to [0, 1].

        Hits that came from the lexical stage or the definition lookup have no vector score
        yet; their vectors are read back from the index.
        """
        missing = [i for i, r in enumerate(results) if "static" not in r.scores]
        if missing:
            sims = self.vectors.similarity([results[i].chunk_id for i in missing], vector[0])
            for i, sim in zip(missing, sims):
                results[i] = replace(results[i], score=float(sim))
        return [replace(r, score=clipped(r.score)) for r in results]

    def _check_files(self, languages: dict[str, str]) -> dict[str, FileCheck]:
        """Fresh / changed / gone for each file behind a hit."""
        states = self.reader.file_states(sorted(languages))
        limit = self.reader.max_file_bytes
        return {
            path: check_file(self.root, path, language, states.get(path, (-1, -1, -1, "")), limit)
            for path, language in languages.items()
        }


def with_duplicates(result: SearchResult, places: Iterable[str]) -> SearchResult:
    """``result`` with the places (``path:line``) of identical chunks added to its ``duplicates``,
    leaving out its own place and those already listed."""
    listed = set(result.duplicates) | {f"{result.path}:{result.start_line}"}
    extra = [place for place in places if place not in listed]
    return replace(result, duplicates=(*result.duplicates, *extra)) if extra else result


def clipped(score: float) -> float:
    """A cosine similarity as results show it: clipped to [0, 1]."""
    return min(1.0, max(0.0, score))


def as_checked(row: dict[str, Any], check: FileCheck) -> tuple[dict[str, Any] | None, bool]:
    """A chunk's row as its file is now, given the file's check (``None``: gone), and whether it changed."""
    if check.status == GONE:
        return None, False
    if check.status != CHANGED:
        return row, False
    current = check.chunks.get(row["key"])
    if current is None:
        return None, True  # the symbol is no longer in the file
    row = dict(row, start_line=current.start_line, end_line=current.end_line, code=display_code(current),
               signature=current.signature, doc=current.doc, content_hash=current.content_hash)
    return row, True


def _language(language: str | None) -> str | None:
    """The registry's name of a language (``py`` -> ``python``). :raises BadQuery: if unknown."""
    if language is None:
        return None
    try:
        return spec_for(language).name
    except UnknownLanguage as exc:
        raise BadQuery(str(exc)) from None


def _depth(k: int, rerank_candidates: int) -> int:
    """How deep each first-stage ranking goes: a few more than asked, as hits in deleted files are dropped."""
    return max(k + _SLACK, CANDIDATES, rerank_candidates + _SLACK if rerank_candidates else 0)


def pick(ranked: Iterable[tuple[Searcher, Candidate]], wanted: int) -> list[tuple[Searcher, SearchResult]]:
    """The first ``wanted`` ranked candidates that still exist, as their files are now.

    Chunks whose code is identical to an earlier pick's are folded into it (``duplicates``).
    """
    checks: dict[int, dict[str, FileCheck]] = {}
    picked: list[tuple[Searcher, SearchResult]] = []
    first_of: dict[str, int] = {}  # content hash -> index of its first result
    for searcher, c in ranked:
        row, stale = searcher.current_row(c.row, checks.setdefault(id(searcher), {}))
        if row is None:
            continue
        same = first_of.get(row["content_hash"])
        if same is not None:  # identical code elsewhere: fold it into the first one
            owner, first = picked[same]
            place = f"{searcher.place(row['path'])}:{row['start_line']}"
            picked[same] = (owner, replace(first, duplicates=(*first.duplicates, place)))
            continue
        c.scores["rank"] = c.score
        first_of[row["content_hash"]] = len(picked)
        result = _result(row, len(picked) + 1, c.scores.get("static", 0.0), str(searcher.root),
                         stale=stale, scores=c.scores)
        if searcher.repo:
            result = replace(result, path=searcher.place(result.path), repo=searcher.repo)
        picked.append((searcher, result))
        if len(picked) == wanted:
            break
    return picked


def _finished(results: list[SearchResult], query: str, k: int, rerank: Reranker | None,
              min_score: float) -> list[SearchResult]:
    """The last steps: the optional rerank, the similarity floor, the first ``k``."""
    if rerank is not None:
        results = _reranked(results, query, rerank)
    results = [r for r in results if r.score >= min_score] if min_score > 0 else results
    return results[:k]


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
        chunk_id=int(row["id"]),
    )


def _reranked(results: list[SearchResult], query: str, reranker: Reranker) -> list[SearchResult]:
    """Results reordered by the reranker's cosine blended with their first-stage score, ranks renumbered.

    The transformer judges what the code does; the first stage's score carries the lexical
    evidence and the code-aware signals (the chunk defines a name the query mentions, the
    path matches, tests and code between definitions), so both count
    (``codesearch.ranking.rerank_score``).
    """
    texts = [rerank_text(r.kind, r.qualname, r.signature, r.doc, r.code) for r in results]
    scores = reranker.score(query, texts, [r.content_hash for r in results])
    top = max((r.scores.get("rank", 0.0) for r in results), default=0.0) or 1.0
    final = [rerank_score(float(scores[i]), r.scores.get("rank", 0.0) / top) for i, r in enumerate(results)]
    order = sorted(range(len(results)), key=lambda i: -final[i])
    return [
        replace(results[i], rank=rank, score=min(1.0, max(0.0, float(scores[i]))),
                scores={**results[i].scores, "rerank": float(scores[i]), "rank": final[i]})
        for rank, i in enumerate(order, 1)
    ]


def rerank_text(kind: str, qualname: str, signature: str, doc: str, code: str) -> str:
    """What the reranker reads for a chunk: kind, name, signature, doc and the start of the code."""
    return "\n".join(p for p in (f"{kind} {qualname}", signature, doc, code[:RERANK_CODE_CHARS]) if p)


def lexical_words(query: str) -> list[str]:
    """The words of a query that the lexical index should match: identifiers split, no stopwords."""
    return list(dict.fromkeys(w for w in words_of(query) if len(w) > 1 and w not in STOPWORDS))


def validate_query(query: str, k: int = 10) -> str:
    """The stripped query, or BadQuery if it is empty, too long or ``k`` is out of range.

    Every entry point (CLI, MCP, ``serve``, the library's searchers) calls this before any
    work, so the length cap bounds what one query can cost.

    :raises BadQuery: for an empty or whitespace-only query, one longer than
        ``codesearch.query.MAX_QUERY_CHARS`` once stripped, or ``k`` outside 1..MAX_K.
    """
    from codesearch.query import MAX_QUERY_CHARS

    if not isinstance(query, str) or not query.strip():
        raise BadQuery("the query is empty; say what the code does, e.g. \"retry failed http requests\"")
    stripped = query.strip()
    if len(stripped) > MAX_QUERY_CHARS:
        raise BadQuery(f"query too long ({len(stripped):,} characters; the limit is {MAX_QUERY_CHARS:,}); "
                       "describe the code in a sentence, or search for one name")
    if not 1 <= k <= MAX_K:
        raise BadQuery(f"k must be between 1 and {MAX_K}, got {k}")
    return stripped
