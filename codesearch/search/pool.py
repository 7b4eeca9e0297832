"""Pool and ranking: the one path from first-stage hits to results, for one index or many.

``ranked`` is what every search runs after its first stage (one index, several indexes as
one corpus, a workspace, ``codesearch serve``, ``related``):

1. ``pooled``: each shard's rankings (vector and lexical) merged best first and cut to the
   depth one index over all of them would have searched, fused by score (each divided by
   the best of that ranking over *all* shards), and the definitions of the names the query
   mentions added (the most similar first, as many as one index gives);
2. the code-aware ranking signals (``codesearch.ranking.rank``), an optional extra ``Lift``;
3. ``saturated`` (for a question, a topic or one plain word): each further chunk of a file counts half as much; for
   a task, at most ``TASK_PER_FILE`` chunks of one file before every other file's, unless ``per_file`` says
   otherwise; then ``diversified``: at most ``per_file`` hits of one file before every other file's;
4. ``pick``: the first hits that still exist, as their files are now, identical code folded;
5. ``finish``: similarity scores and identical chunks filled in;
6. ``finished``: the optional rerank, the similarity floor, the first ``k``.

A shard is what one index contributes: its first-stage hits and access to their rows,
file states, similarities and identical chunks (``Shard``). An open index gives one that
reads as it goes (``first_stage.IndexHits``); ``codesearch.multi.Part`` carries them as plain
data (for another process or machine).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any, Protocol

import numpy as np

from codesearch.freshness import FileChecks
from codesearch.fusion import score_fusion
from codesearch.query import IDENTIFIER, NATURAL, PATH, QueryInfo
from codesearch.ranking import (
    FUNCTION_KINDS,
    NEAR_COPY_KINDS,
    TASK_PER_FILE,
    Candidate,
    build_twin,
    diversified,
    further_overloads,
    is_code,
    is_signature,
    keeps_named_file,
    name_pattern,
    phrase,
    rank,
    saturated,
    saturates_results,
    stub_factor,
)
from codesearch.search.options import DEFINITIONS, SearchOptions
from codesearch.search.rerank_step import finished
from codesearch.search.results import (
    BEST_LINE_AFTER,
    SearchResult,
    clipped,
    placed,
    result_of,
    with_duplicates,
    with_line,
)
from codesearch.store.codec import code_of
from indexer.chunk import definition_key, definition_name, is_window

# Weight of the lexical ranking in the fusion, by kind of query. The first stage fuses the
# two rankings by score (each divided by its ranking's best), so that a clear lead in either
# stays a clear lead for the ranking signals; reciprocal-rank fusion flattened rank 1 and
# rank 3 to within 3%, and a path match then outweighed a hit that led both rankings.
# Measured on semble's dev set / our plain-English set / sample_repos (NDCG@10, R@5, MRR):
# rank fusion 0.857 / 0.663 / 0.789; score fusion with weight 1: 0.854 / 0.679 / 0.848.
# Natural-language queries weigh the words 0.8 since the lexical terms hold the file's name and
# directory (codesearch.terms): the vectors carry a sentence's meaning, the words a little less
# (semble-dev 0.886 -> 0.889, plain-English R@5 0.705 -> 0.715; with the old terms 0.8 lost).
# ``SearchOptions.lexical_weight`` overrides it (``hybrid-equal-fusion``: 1 for every kind).
LEXICAL_WEIGHT = 0.8
MEMBERS_SHOWN = 3  # an outline's members that the pool holds, listed with it (``with_members``)
# A type (class, interface, ...) of another file with the same kind and qualified name and at least
# this cosine with a result is a near-copy (vendored copies, forty codec classes): folded into it
# (``similar``). Only types: two functions of one name in different files are usually different
# answers, and folding them cost 0.055 MRR on the CodeSearchNet-style JavaScript set (0.504 -> 0.449).
# A chunk in a *build twin* of an earlier result's file (``ranking.build_twin``: the same path but for build
# directories and JavaScript/TypeScript extensions, as in `dist/x.js`, `dist/cjs/x.js`, `es/x.js`, `x.mjs`,
# `types/x.d.ts`) is a copy of it too when it has the same qualified name, whatever its kind (a declaration, a
# CommonJS export getter), or, for the code between definitions, when its cosine is at least ``NEAR_COPY``:
# an npm package that ships its ESM and CommonJS builds and no sources had every function twice in the
# first screen (hono's `LinearRouter.match` at 2 and 3; `benchmarks/bench_build_twins.py`).
NEAR_COPY = 0.9
# The files whose topic a natural-language query is compared with (``file_topic``): the pool's best by
# fused score (15, 20, 30, 40 and 60 files gave the same numbers on every query set).
TOPIC_FILES = 20
LEXICAL_WEIGHTS = {NATURAL: LEXICAL_WEIGHT, IDENTIFIER: 1.0, PATH: 1.0}

Key = tuple[int, int]  # (shard number, chunk id)
Row = dict[str, Any]


class Shard(Protocol):
    """One index's share of a search: its first-stage hits, and what the pool reads of their chunks."""

    repo: str  # the name put before result paths ("" when one index is searched)
    root: str  # the repository, as the user named it
    static: list[tuple[int, float]]  # the vector ranking, best first, with raw scores
    lexical: list[tuple[int, float]]  # the lexical ranking (empty when not hybrid)
    defined: list[int]  # chunks defining a name the query mentions
    # ranking name -> chunk id -> score, for the candidates that ranking did not reach (may be empty)
    completed: dict[str, dict[int, float]]

    def chunks(self, ids: Sequence[int]) -> dict[int, Row]:
        """The stored rows of ``ids`` (those it knows)."""
        ...

    def similarities(self, ids: Sequence[int]) -> list[float]:
        """The cosine of the query with each chunk of ``ids``."""
        ...

    def current_row(self, row: Row, checks: FileChecks) -> tuple[Row | None, bool]:
        """A chunk's row as its file is now (``None``: gone) and whether it changed; ``checks`` caches files
        (and the directories opened to look at them: the caller closes it)."""
        ...

    def origin(self, path: str) -> tuple[str, str, str]:
        """``(repository name, root, path in it)`` of a stored path: ``repo``, ``root`` and the path itself,
        but in a pack of several repositories (``codesearch.pack``) the repository the path names."""
        ...

    def identical(self, hashes: Sequence[str]) -> dict[str, list[str]]:
        """Content hash -> ``path:line`` of each indexed chunk with that content."""
        ...

    def vectors(self, ids: Sequence[int]) -> Any:
        """The stored vectors of ``ids`` (numpy, one row each), for near-copy folding."""
        ...

    def file_similarities(self, paths: Sequence[str]) -> dict[str, float]:
        """Path -> the cosine of the query with the file's topic (``first_stage.file_similarities``)."""
        ...

    def definition_lines(self, keys: Sequence[str]) -> dict[str, tuple[int, int]]:
        """Stored key -> the first and last lines of that definition as indexed (the whole of a window's)."""
        ...


@dataclass(frozen=True)
class Lift:
    """An extra signal of one kind of search: ``weight`` (in units of the pool's best fused score)
    added to each ranked candidate whose row ``applies``, recorded in its scores as ``name``."""

    name: str
    weight: float
    applies: Callable[[Row], bool]


def fuse(rankings: Sequence[Sequence[tuple[Any, float]]], weights: Sequence[float]) -> list[tuple[Any, float]]:
    """The fusion of the first-stage rankings (best first, with their scores): by score (see above)."""
    return score_fusion(rankings, weights)


def pooled(query: QueryInfo, shards: Sequence[Shard | None], options: SearchOptions,
           lexical_weight: float | None = None) -> tuple[dict[Key, float], dict[Key, dict[str, float]]]:
    """Fused scores and stage scores of the candidates, keyed by (shard number, chunk id).

    Each ranking is cut to the depth one index over every shard would have searched, so the
    pool (and the cost of ranking it) stays that of one corpus, however many shards.

    :param lexical_weight: the lexical ranking's weight (default: ``options.lexical_weight``, else by the
        kind of query, ``LEXICAL_WEIGHTS``).
    """
    depth = options.depth
    stage: dict[Key, dict[str, float]] = {}
    rankings: list[list[tuple[Key, float]]] = []
    below: dict[str, Iterator[tuple[Key, float]]] = {}  # each ranking past ``depth``: hits a deeper search read
    for name in ("static", "lexical"):
        # Each shard's ranking is best first: a lazy k-way merge reads about ``depth`` hits in
        # all, not every shard's whole list (ties keep the shards' order, as a stable sort would).
        streams = [_keyed(n, getattr(shard, name)) for n, shard in enumerate(shards) if shard is not None]
        merged = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=lambda pair: -pair[1])
        ranking = list(islice(merged, depth))
        below[name] = merged
        for key, score in ranking:
            stage.setdefault(key, {})[name] = score
        rankings.append(ranking)
    defined = _definitions(shards) if options.signals.definition else []
    for key in defined:
        stage.setdefault(key, {})
    for name, ranking in zip(("static", "lexical"), rankings):
        # What a ranking did not reach, scored by it all the same (``first_stage.completed``); its
        # best, which the fusion divides by, stays its best.
        if ranking:
            deeper: dict[Key, float] | None = None  # the hits past ``depth`` (shards searched deeper: a larger k)
            for key, scores in stage.items():
                if name in scores:
                    continue
                score = _completed(shards[key[0]], name, key[1])
                if score is None:
                    deeper = dict(below[name]) if deeper is None else deeper
                    score = deeper.get(key)
                if score is not None:
                    scores[name] = score
                    ranking.append((key, score))
    if lexical_weight is None:
        lexical_weight = options.lexical_weight
    weight = LEXICAL_WEIGHTS[query.kind] if lexical_weight is None else lexical_weight
    fused = dict(fuse(rankings, [1.0, weight]))  # an empty lexical ranking (not hybrid) adds nothing
    for key in defined:
        fused.setdefault(key, 0.0)
    return fused, stage


def _completed(shard: Shard | None, name: str, chunk: int) -> float | None:
    """A shard's score of a chunk in a ranking that did not reach it (None: not known)."""
    return None if shard is None else shard.completed.get(name, {}).get(chunk)


def _keyed(n: int, ranking: list[tuple[int, float]]) -> Iterator[tuple[Key, float]]:
    return (((n, i), score) for i, score in ranking)


def _definitions(shards: Sequence[Shard | None]) -> list[Key]:
    """Definitions of the names the query mentions, as many as one index gives (``DEFINITIONS``):
    when the shards found more, the most similar to the query."""
    defined = [(n, i) for n, shard in enumerate(shards) if shard is not None for i in shard.defined]
    if len(defined) <= DEFINITIONS:
        return defined  # all of them: the order of the pool does not matter (``rank`` sorts by score, then key)
    similarity: dict[Key, float] = {}
    for n, shard in enumerate(shards):
        if shard is not None and shard.defined:
            similarity.update(zip(((n, i) for i in shard.defined), shard.similarities(shard.defined)))
    return sorted(defined, key=lambda key: -similarity.get(key, 0.0))[:DEFINITIONS]


def shortlist(query: QueryInfo, shards: Sequence[Shard | None], options: SearchOptions) -> list[list[int]]:
    """The chunk ids of each shard that can make the pool (a remote shard fetches the rows of only those)."""
    fused, _ = pooled(query, shards, options)
    keep: list[list[int]] = [[] for _ in shards]
    for n, i in fused:
        keep[n].append(i)
    return keep


def ranked(query: QueryInfo, shards: Sequence[Shard | None], options: SearchOptions, *,
           lexical_weight: float | None = None, leave_out: Callable[[Row], bool] | None = None,
           lift: Lift | None = None) -> list[SearchResult]:
    """The ``options.k`` best results over every shard: pool, rank, diversify, pick, finish (see the module doc).

    The first ``options.stable_k`` results are the same whatever ``k`` is: a search for more ranks the usual pool
    for them, and a deeper pool for the rest (``extended``). A deeper pool alone ranked its head otherwise, as the
    signals weigh each candidate against the pool's (the best fused score, each file's share of the evidence): in
    27% of 324 questions the first ten of `-k 60` or more were not those of `-k 10`, from the second rank on.

    :param lexical_weight: the lexical ranking's weight in the fusion (default: by the kind of query).
    :param leave_out: rows never to return (``related``: the source and the chunks around or inside it).
    :param lift: an extra signal applied after the ranking signals.
    """
    if all(shard is None for shard in shards):
        return []
    if options.k <= options.stable_k:  # the usual search: no second options object on the hot path
        return _ranked(query, shards, options, lexical_weight, leave_out, lift)
    head_options = replace(options, k=options.stable_k)
    if head_options.depth >= options.depth:
        return _ranked(query, shards, options, lexical_weight, leave_out, lift)
    head = _ranked(query, shards, head_options, lexical_weight, leave_out, lift)
    return extended(head, _ranked(query, shards, options, lexical_weight, leave_out, lift), options.k)


def extended(head: list[SearchResult], deeper: list[SearchResult], k: int) -> list[SearchResult]:
    """``head`` and then, up to ``k`` results, those of ``deeper`` that it does not show (neither at their place
    nor as an identical copy or near-copy of one of its results), ranked after it."""
    shown = {f"{r.path}:{r.start_line}" for r in head}
    shown.update(place for r in head for place in (*r.duplicates, *r.similar, *r.declarations))
    rest = [r for r in deeper if f"{r.path}:{r.start_line}" not in shown and shown.isdisjoint(r.duplicates)]
    return [*head, *(replace(r, rank=rank) for rank, r in enumerate(rest[:k - len(head)], len(head) + 1))]


def _ranked(query: QueryInfo, shards: Sequence[Shard | None], options: SearchOptions,
            lexical_weight: float | None, leave_out: Callable[[Row], bool] | None,
            lift: Lift | None) -> list[SearchResult]:
    """``ranked`` over a pool as deep as ``options`` asks."""
    fused, stage = pooled(query, shards, options, lexical_weight)
    wanted: dict[int, list[int]] = {}
    for n, i in fused:
        wanted.setdefault(n, []).append(i)
    rows = {n: shards[n].chunks(ids) for n, ids in wanted.items()}  # type: ignore[union-attr]
    pool = [Candidate(key, rows[key[0]][key[1]], s, dict(stage[key], fused=s)) for key, s in fused.items()
            if key[1] in rows[key[0]] and not (leave_out and leave_out(rows[key[0]][key[1]]))]
    if wants_file_topics(query, options):
        _file_topics(pool, shards)  # type: ignore[arg-type]
    candidates = rank(query, pool, options.signals)
    if lift is not None:
        for c in candidates:  # scores are in units of the pool's best fused score (``rank``)
            if lift.applies(c.row):
                c.scores[lift.name] = lift.weight
                c.score += lift.weight
        candidates.sort(key=lambda c: (-c.score, c.id))
    if options.signals.saturation and saturates_results(query) and (
            query.question or not keeps_named_file(query, candidates)):
        free = further_overloads(query, candidates)  # a name's own overloads are not its file's further chunks
        free.update(c.id for c in candidates if "uses" in c.scores)  # nor a use of a name asked about: each answers
        candidates = saturated(candidates, key=lambda c: c.id if c.id in free else c.file)  # the files that answer it
    if options.signals.saturation and query.task and not options.per_file:  # its function first, other files too
        candidates = diversified(candidates, TASK_PER_FILE, path_of=lambda c: (c.id[0], c.path))
    candidates = diversified(candidates, options.per_file, path_of=lambda c: (c.id[0], c.path))
    picked = pick(candidates, shards, options.wanted, fold_similar=options.signals.similar,  # type: ignore[arg-type]
                  fold_twins=options.signals.twins, fold_shapes=options.signals.similar and query.kind != IDENTIFIER,
                  asked=frozenset(query.identifiers))
    if query.kind == NATURAL:
        picked = with_members(picked, candidates)
    results = finish(picked, shards)  # type: ignore[arg-type]
    if (pattern := name_pattern(query)) is not None:
        results = [with_line(r, pattern) for r in results]
    elif options.signals.phrase and (pattern := phrase(query)) is not None:  # a pasted message's line, in code
        results = [with_line(r, pattern, shown=BEST_LINE_AFTER) for r in results]
    return finished(results, query, options)


def wants_file_topics(query: QueryInfo, options: SearchOptions) -> bool:
    """Whether the ``file_topic`` signal compares the query with the pool's files: a natural-language
    query of two or more words (one word is the ``word`` signal's)."""
    return options.signals.file_topic and query.kind == NATURAL and len(query.words) > 1


def _file_topics(pool: list[Candidate], shards: Sequence[Shard]) -> None:
    """The ``file`` stage score of the candidates of the pool's ``TOPIC_FILES`` best files by fused score:
    the cosine of the query with the file's topic (for the ``file_topic`` signal)."""
    chosen: dict[int, dict[str, None]] = {}  # shard number -> its chosen paths, in order
    seen: set[Any] = set()
    for c in sorted(pool, key=lambda c: (-c.fused, c.id)):
        if len(seen) == TOPIC_FILES:
            break
        if c.file not in seen:
            seen.add(c.file)
            chosen.setdefault(c.id[0], {})[c.path] = None  # type: ignore[index]
    topics = {n: shards[n].file_similarities(list(paths)) for n, paths in chosen.items()}
    for c in pool:
        similarity = topics.get(c.id[0], {}).get(c.path)  # type: ignore[index]
        if similarity is not None:
            c.scores["file"] = similarity


def twin_place(origin: tuple[str, str, str]) -> tuple[str, str]:
    """(repository, ``build_twin`` of the path in it) of a stored path's ``origin`` (``Shard.origin``): the
    twins of a pack's file are in its own repository, whatever the repositories are called (a repository
    named `lib` is not a build directory of another)."""
    return origin[0], build_twin(origin[2])


def folds_by_vector(row: Row) -> bool:
    """Whether folding a chunk into an earlier result may read its vector (``pick``): a type (a near-copy
    elsewhere) or code between definitions (in a build twin)."""
    return row["kind"] in NEAR_COPY_KINDS or is_code(row)


def pick(ranked: Sequence[Candidate], shards: Sequence[Shard], wanted: int, *,
         fold_similar: bool = True, fold_twins: bool = True, fold_shapes: bool = True,
         asked: frozenset[str] = frozenset()) -> list[tuple[int, SearchResult]]:
    """The first ``wanted`` ranked candidates that still exist, as their files are now, with their shard's number.

    Chunks whose code is identical to an earlier pick's are folded into it (``duplicates``); a
    definition takes one place, whether its own chunk or one of its windows is found first.
    With ``fold_similar``, a near-copy of an earlier pick (another file's type of the same kind
    and qualified name whose vector has a cosine of at least ``NEAR_COPY`` with the pick's: a
    vendored copy, the same codec class in forty files) is folded into it too (``similar``), so
    one name cannot fill the first screen, unless the query names (``asked``) the type; with ``fold_twins``, so
    is a copy in a build twin of its file
    (``ranking.build_twin``: the same qualified name, or code between definitions at ``NEAR_COPY``), and a
    declaration (`.d.ts`) picked first gives its place to its code; with ``fold_shapes`` (not for a query that is a
    name: each of its definitions is asked for), so is a function or method of a pick's name whose code is the
    pick's but for the names of their classes (``same_shape``), unless the query names (``asked``) either class.
    Candidates below the last pick are still
    read for what folds into the picks, so the results do not depend on ``wanted`` beyond their number.
    """
    checks: dict[int, FileChecks] = {}  # shard -> its files looked at, their directories open until the end
    try:
        return _picked(ranked, shards, wanted, checks, fold_similar=fold_similar, fold_twins=fold_twins,
                       fold_shapes=fold_shapes, asked=asked)
    finally:
        for looked in checks.values():
            looked.close()


def _picked(ranked: Sequence[Candidate], shards: Sequence[Shard], wanted: int, checks: dict[int, FileChecks], *,
            fold_similar: bool, fold_twins: bool, fold_shapes: bool, asked: frozenset[str]
            ) -> list[tuple[int, SearchResult]]:
    """``pick``, its files' checks kept in ``checks``."""
    picked: list[tuple[int, SearchResult]] = []
    named_asked = {name.lower() for name in asked}  # a type the query names, any case, is not folded as a near-copy
    first_of: dict[str, int] = {}  # content hash -> index of its first result
    shown: set[tuple[int, str]] = set()  # (shard, key) of the definitions picked
    named: dict[tuple[str, str], list[int]] = {}  # (kind, qualname) -> indexes of the picks so named
    functions: dict[tuple[str, str], list[int]] = {}  # (kind, name) -> the function and method picks so named
    blobs: dict[int, bytes | None] = {}  # such a pick's stored (compressed) code, None for a changed file's
    unit: dict[tuple[int, int], Any] = {}  # (shard, chunk id) -> its unit vector, read when needed
    twins: dict[tuple[int, str, str, str], list[int]] = {}  # (shard, ``twin_place``, qualname or "") -> picks
    twin_files: dict[tuple[int, str, str], set[str]] = {}  # (shard, ``twin_place``) -> the stored paths of its picks
    bodies: dict[tuple[int, str, str, str], int] = {}  # (shard, path, kind, qualname) -> the pick with a body
    folding: dict[int, list[int]] = {}  # shard -> the chunk ids of its candidates that folding may compare
    for c in ranked:
        if folds_by_vector(c.row):
            folding.setdefault(c.id[0], []).append(c.row["id"])  # type: ignore[index]
    read: set[int] = set()  # the shards whose candidates' vectors were read

    def vector(n: int, chunk_id: int) -> Any:
        if (n, chunk_id) not in unit:
            # The first read of a shard reads every candidate of it that folding may compare, in one call (one
            # at a time, the reads cost more than the comparisons).
            ids = [chunk_id] if n in read else [chunk_id, *(i for i in folding.get(n, ()) if (n, i) not in unit)]
            read.add(n)
            v = np.asarray(shards[n].vectors(ids), dtype=np.float32).reshape(len(ids), -1)
            v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
            unit.update(((n, i), row) for i, row in zip(ids, v))
        return unit[(n, chunk_id)]

    def may_fold(row: Row, n: int) -> bool:
        """Whether a stored row may fold into a pick (read below the last pick, so that what is folded, and which
        of a declaration and its code is shown, does not depend on how many results were asked for). Cheap
        tests first: most candidates there share no file, twin or name with a pick."""
        if row["content_hash"] in first_of:
            return True
        if (n, row["path"], row["kind"], row["qualname"]) in bodies and is_signature(row):
            return True  # an overload signature of a pick
        if row["kind"] in FUNCTION_KINDS and any(
                same_code(row, j) or (fold_shapes and same_shape(row, j))
                for j in functions.get((row["kind"], definition_name(row["name"])), ())):
            return True  # a pick's code under its name, in another class (or the same but for the class's name)
        if fold_twins:
            files = twin_files.get((n, *twin_place(shards[n].origin(row["path"]))))
            if files is not None and (len(files) > 1 or row["path"] not in files):
                return True
        if not fold_similar or row["kind"] not in NEAR_COPY_KINDS or str(row["name"]).lower() in named_asked:
            return False
        # A type named as a pick folds only as its near-copy: its stored vector tells (a changed file moves a
        # chunk's lines, not its vector), so its file is not looked at when it is none (rack's `module Rack`,
        # reopened in every file, had every file of the pool checked).
        here = placed(shards[n].repo, row["path"])
        return any(picked[j][1].path != here and cosine(n, row["id"], j) >= NEAR_COPY
                   for j in named.get((row["kind"], definition_name(row["qualname"])), ()))

    def same_code(row: Row, j: int, stale: bool = False) -> bool:
        """Whether a row holds pick ``j``'s code: their stored (compressed) bytes compared when both are the code
        as it is (one compressor, so the same code is the same bytes), else the code itself (a changed file's)."""
        mine, theirs = row.get("code_z"), blobs[j]
        if mine is not None and theirs is not None and not stale:
            return bool(mine == theirs)
        return code_of(row) == picked[j][1].code

    def same_shape(row: Row, j: int) -> bool:
        """Whether a row of another class holds pick ``j``'s code but for the names of their classes (urfave/cli's
        fifteen `func (f *BoolFlag) IsRequired() bool { return f.Required }`, one per flag type, filled the first
        screen for "where are missing required flags detected")."""
        theirs = picked[j][1]
        mine_scope, their_scope = _scope_name(str(row["qualname"])), _scope_name(theirs.qualname)
        if not mine_scope or not their_scope or mine_scope == their_scope or row["path"] == theirs.path:
            return False
        if mine_scope in asked or their_scope in asked:
            return False  # "whether a Float64SliceFlag is required": the class asked about is shown as itself
        mine = code_of(row)
        return abs(len(mine) - len(theirs.code)) <= 4 * abs(len(mine_scope) - len(their_scope)) + 64 and \
            _without(mine, mine_scope) == _without(theirs.code, their_scope)

    def cosine(n: int, chunk_id: int, j: int) -> float:
        """The cosine of a chunk's stored vector with pick ``j``'s."""
        return float(vector(n, chunk_id) @ vector(picked[j][0], picked[j][1].chunk_id))

    for c in ranked:
        n = c.id[0]
        full = len(picked) == wanted
        if full and not may_fold(c.row, n):
            continue
        shard = shards[n]
        looked = checks.get(n)
        if looked is None:
            looked = checks[n] = FileChecks()
        row, stale = shard.current_row(c.row, looked)
        if row is None or (n, definition_key(row["key"])) in shown:
            continue
        shown.add((n, definition_key(row["key"])))
        here = placed(shard.repo, row["path"])
        place = f"{here}:{row['start_line']}"
        name = (row["kind"], definition_name(row["qualname"]))
        same = first_of.get(row["content_hash"])
        function = (row["kind"], definition_name(row["name"])) if row["kind"] in FUNCTION_KINDS else None
        if same is None and function in functions:
            # A method of the same name and the same code in another class (a setter in eighteen PHP classes): the
            # content hash differs by its class, the code does not.
            same = next((j for j in functions[function] if same_code(row, j, stale)), None)
        if same is not None:  # identical code elsewhere: fold it into the first one
            owner, first = picked[same]
            picked[same] = (owner, replace(first, duplicates=(*first.duplicates, place)))
            continue
        shaped = next((j for j in functions[function] if same_shape(row, j)), None) \
            if fold_shapes and function in functions else None
        if shaped is not None:
            owner, first = picked[shaped]  # the same code in another class but for the class's name: a near-copy
            picked[shaped] = (owner, replace(first, similar=(*first.similar, place)))
            continue
        body = bodies.get((n, row["path"], row["kind"], row["qualname"])) if function is not None else None
        if body is not None and is_signature(row):  # an overload signature of a function picked with its body
            owner, first = picked[body]
            declared = sorted((*first.declarations, place), key=lambda at: int(at.rpartition(":")[2]))  # in line order
            picked[body] = (owner, replace(first, declarations=tuple(declared)))
            continue
        code = is_code(row)
        origin = shard.origin(row["path"])
        repo, root, local = origin
        twin = (n, *twin_place(origin), "" if code else definition_name(row["qualname"]))
        near = None
        if fold_twins:  # a copy in a build twin of a pick's file
            near = next((j for j in twins.get(twin, ()) if picked[j][1].path != here and (
                not code or cosine(n, row["id"], j) >= NEAR_COPY)), None)
            if near is not None and stub_factor(picked[near][1].path) < 1.0 and stub_factor(row["path"]) == 1.0:
                # The pick is a declaration (`.d.ts`) and this its code: the code takes its place, the declaration
                # is listed with the copies (a package's JSDoc is often in its declarations only, so they rank first).
                _, first = picked[near]
                c.scores["rank"] = first.scores.get("rank", c.score)
                shown_code = result_of(row, first.rank, root, repo, stale, c.scores, path=local)
                picked[near] = (n, replace(shown_code, similar=(f"{first.path}:{first.start_line}", *first.similar),
                                           duplicates=first.duplicates))
                first_of.setdefault(row["content_hash"], near)  # a copy identical to the code folds into it
                continue
        if (near is None and fold_similar and row["kind"] in NEAR_COPY_KINDS
                and str(row["name"]).lower() not in named_asked):
            # a type's near-copy elsewhere; not a type the query names: each of its definitions is asked for (two
            # private `KeyedContainer` classes of capacitor's encoder and decoder, alike only in their vectors)
            near = next((j for j in named.get(name, ()) if picked[j][1].path != here
                         and cosine(n, row["id"], j) >= NEAR_COPY), None)
        if near is not None:
            owner, first = picked[near]
            picked[near] = (owner, replace(first, similar=(*first.similar, place)))
            continue
        if full:
            continue
        c.scores["rank"] = c.score
        first_of[row["content_hash"]] = len(picked)
        named.setdefault(name, []).append(len(picked))
        if function is not None:
            functions.setdefault(function, []).append(len(picked))
            blobs[len(picked)] = None if stale else row.get("code_z")
            if not is_signature(row):
                bodies.setdefault((n, row["path"], row["kind"], row["qualname"]), len(picked))
        twins.setdefault(twin, []).append(len(picked))
        twin_files.setdefault(twin[:3], set()).add(row["path"])
        picked.append((n, result_of(row, len(picked) + 1, root, repo, stale, c.scores, path=local)))
    return picked


def _scope_name(qualname: str) -> str:
    """The last part of a qualified name's scope (``BoolFlag`` of ``BoolFlag.IsRequired``; "" for none)."""
    scope = definition_name(qualname).rpartition(".")[0]
    return scope.rpartition(".")[2]


def _without(code: str, name: str) -> str:
    """``code`` with every whole-word ``name`` taken out (``same_shape``)."""
    return re.sub(rf"(?<![\w$]){re.escape(name)}(?![\w$])", "", code)


def with_members(picked: list[tuple[int, SearchResult]], ranked: Sequence[Candidate]) -> list[tuple[int, SearchResult]]:
    """Each picked outline (a class's or module's members, bodies left out) with its members that the ranked
    pool holds too, best first, at most ``MEMBERS_SHOWN``: where to read next. An outline answers a question
    as the file that answers it, and the function that does it is often one of its members
    (SQLAlchemy's 680-line ``Result`` for "where are result rows turned into objects", eslint's
    ``LintResultCache`` for "where is the lint result cache checked": its ``getCachedLintResults``).
    Not for a stale hit: its members' lines are the indexed file's."""
    outlines = {(n, r.chunk_id) for n, r in picked if r.outline and not r.stale}
    if not outlines:
        return picked
    # (file, qualified name) of each outline -> its id
    scopes = {(c.file, str(c.row["qualname"])): c.id for c in ranked if c.id in outlines}
    found: dict[tuple[int, int], dict[str, tuple[str, int, int]]] = {}
    # A window's member is listed with its whole definition's lines, when the pool holds that definition: the
    # window's own lines were shown as the method's (`getConnection 608-639` for a method of lines 582-639).
    whole = {(c.file, str(c.row["key"])): (int(c.row["start_line"]), int(c.row["end_line"])) for c in ranked
             if c.row.get("kind") in FUNCTION_KINDS and not is_window(str(c.row["key"]))}
    for c in ranked:  # best first
        if c.row.get("kind") not in FUNCTION_KINDS:
            continue
        qualname = definition_name(str(c.row["qualname"]))
        scope, dot, _ = qualname.rpartition(".")
        outline = scopes.get((c.file, scope)) if dot else None
        if outline is not None:
            members = found.setdefault(outline, {})
            lines = whole.get((c.file, definition_key(str(c.row["key"]))))
            if lines is None:
                continue  # a window whose definition is not in the pool: its lines are not the member's
            if len(members) < MEMBERS_SHOWN and qualname not in members:
                members[qualname] = (qualname, *lines)
    return [(n, replace(r, members=tuple(found[(n, r.chunk_id)].values())) if (n, r.chunk_id) in found else r)
            for n, r in picked]


def finish(picked: list[tuple[int, SearchResult]], shards: Sequence[Shard]) -> list[SearchResult]:
    """Each result's ``score`` (its cosine with the query, clipped to [0, 1]), identical chunks and a window's
    ``definition_lines`` filled in.

    Hits that came from the lexical stage or the definition lookup have no vector score
    yet; their shard supplies it.
    """
    results = [result for _, result in picked]
    for n in dict.fromkeys(n for n, _ in picked):
        mine = [j for j, (m, _) in enumerate(picked) if m == n]
        missing = [j for j in mine if "static" not in results[j].scores]
        score = {j: results[j].score for j in mine}
        if missing:
            score.update(zip(missing, map(float, shards[n].similarities([results[j].chunk_id for j in missing]))))
        same = shards[n].identical([results[j].content_hash for j in mine])
        parts = [j for j in mine if results[j].part and not results[j].stale]
        windows = shards[n].chunks([results[j].chunk_id for j in parts]) if parts else {}
        spans = shards[n].definition_lines([definition_key(row["key"]) for row in windows.values()]) if windows else {}
        for j in mine:
            r = results[j]
            shown = clipped(score[j])
            r = replace(r, score=shown) if shown != r.score else r
            if (row := windows.get(r.chunk_id)) is not None and (span := spans.get(definition_key(row["key"]))):
                r = replace(r, definition_lines=span)  # a window's whole definition: what to read for all of it
            results[j] = with_duplicates(r, (placed(shards[n].repo, p) for p in same.get(r.content_hash, [])))
    return results
