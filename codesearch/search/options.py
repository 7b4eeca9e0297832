"""What a search is asked to do: the filters and settings that travel, as one value, through every stage."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codesearch.ranking import Signals

if TYPE_CHECKING:
    from codesearch.rerank import Reranker

MAX_K = 1000
MAX_GLOB_CHARS = 1024  # a path filter's glob (a path is at most 4,096 bytes; 1,024 `[` compile in ~40 ms)
MAX_GLOBS = 64  # globs of one filter, include and exclude together (MCP takes lists: each one is tried per path)
MAX_GLOBS_CHARS = 4 * MAX_GLOB_CHARS  # their characters together: what compiling them all may cost
_SLACK = 10  # first-stage hits beyond k, as hits in deleted files are dropped
DEFAULT_HYBRID = True
DEFAULT_RERANK = False  # the CLI reranks with the shipped second stage by default when True (--fast skips)
# Taken from each first-stage ranking before fusion. 100 over 50 when the ranking had fewer signals: semble dev
# NDCG@10 0.847 -> 0.852, plain-English R@5 0.679 -> 0.690. Today's ranking gives the same or better answers
# from 60 (semble dev 22 0.886 -> 0.889, large 0.714 -> 0.714, plain-English equal; docs/BENCHMARKS.md,
# "Pool depth 60") and ranks 40% fewer candidates: a search of 20k chunks p50 5.46 -> 4.65 ms.
CANDIDATES = 60
DEFINITIONS = 50  # chunks defining a name the query mentions, added to the pool
PER_FILE = 0  # hits of one file before every other file had its turn (0: no limit but a task's five; the README)
RERANK_CANDIDATES = 20  # first-stage hits the reranker rescores (20 and 50 measured the same; see the README)


@dataclass(frozen=True, slots=True)
class PathFilter:
    """Which files a search looks at.

    :param include: globs (``fnmatch``, ``*`` crosses ``/``); a file must match one, if any are given. A glob also
        matches the files below a directory it matches (``src``, ``src/``, ``./src/tests``: an agent's `path: "src"`
        matched nothing), one without a ``/`` matches at any depth, as rg's ``-g`` (``retry.py``, ``tests``: an
        agent's `path: "retry.py"` matched nothing), and an absolute one is read from the repository's root.
    :param exclude: globs; a file matching one is left out.
    :param under: a repo-relative directory, only files below it, or a file, only it (``""``: everywhere).
    :param within: repo-relative directories (or files), only files below one of them: several PATHs of one
        repository (`search Q src/a src/b`), with the globs of ``include`` on top.
    :param cwd: globs also match the path as printed, relative to this directory.
    :param shown_as: globs also match the path with this in front: the name its repository's results are printed
        under when several are searched as one (`flow/src/*` matched nothing, `src/*` did).
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    under: str = ""
    cwd: Path | None = None
    shown_as: str = ""
    within: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """:raises BadQuery: for a glob longer than ``MAX_GLOB_CHARS`` (``fnmatch`` compiles a run of ``[`` in time
        that grows with its square: 16,000 of them as an MCP ``path`` held the server for 15-37 s), or more than
        ``MAX_GLOBS`` globs, or more than ``MAX_GLOBS_CHARS`` characters in all (an MCP list of thousands)."""
        from codesearch.errors import BadQuery

        globs = (*self.include, *self.exclude)
        for glob in globs:
            if len(glob) > MAX_GLOB_CHARS:
                raise BadQuery(f"a path glob of {len(glob):,} characters; at most {MAX_GLOB_CHARS:,}")
        if len(globs) > MAX_GLOBS:
            raise BadQuery(f"{len(globs):,} path globs; at most {MAX_GLOBS}")
        if (chars := sum(map(len, globs))) > MAX_GLOBS_CHARS:
            raise BadQuery(f"path globs of {chars:,} characters in all; at most {MAX_GLOBS_CHARS:,}")

    @property
    def active(self) -> bool:
        """Whether it filters anything."""
        return bool(self.include or self.exclude or self.under or self.within)

    def matches(self, root: Path, path: str) -> bool:
        """Whether the repo-relative ``path`` passes."""
        if self.under and path != self.under and not path.startswith(self.under.rstrip("/") + "/"):
            return False
        if self.within and not any(path == place or path.startswith(place.rstrip("/") + "/") for place in self.within):
            return False
        names = [path]
        if self.cwd is not None:
            names.append(os.path.relpath(root / path, self.cwd))
        if self.shown_as:
            names.append(self.shown_as + path)
        if self.include and not any(_pattern(self.include, root).match(n) for n in names):
            return False
        return not (self.exclude and any(_pattern(self.exclude, root).match(n) for n in names))


@lru_cache(maxsize=256)
def _pattern(globs: tuple[str, ...], root: Path) -> re.Pattern[str]:
    """The globs as they are matched (``_globs``), as one regular expression: a path is matched once, not once
    per glob (64 globs cost a search 1.4 s on 10,000 files, tried one by one)."""
    return re.compile("|".join(f"(?:{fnmatch.translate(glob)})" for glob in dict.fromkeys(_globs(globs, root))))


@lru_cache(maxsize=256)
def _globs(globs: tuple[str, ...], root: Path) -> tuple[str, ...]:
    """Each glob as it is matched: without a leading `./`, relative to ``root`` when it is an absolute path under
    it, and with the files below the directories it matches (`src` is also `src/*`)."""
    out: list[str] = []
    for glob in globs:
        if os.path.isabs(glob):
            try:
                glob = Path(glob).relative_to(root).as_posix()
            except ValueError:
                pass
        while glob.startswith("./"):
            glob = glob[2:]
        base = glob.rstrip("/")
        out += [base, f"{base}/*"] if base else [glob]
        if base and "/" not in base and not base.startswith("*"):  # a name matches at any depth, as rg's -g
            out += [f"*/{base}", f"*/{base}/*"]
    return tuple(out)


@dataclass(frozen=True)
class SearchOptions:
    """Everything a search is asked besides the query; one value for one index, several, a workspace or ``serve``.

    :param k: how many results.
    :param language: only chunks in this language (any name the registry knows).
    :param paths: include/exclude globs and a directory to search under (see ``PathFilter``).
    :param kinds: only chunks of these kinds (``function``, ``method``, ``class``, ``code``, ...).
    :param hybrid: fuse the vector ranking with the lexical ranking.
    :param signals: which code-aware ranking signals are on (``codesearch.ranking``).
    :param per_file: hits of one file before other files get their turn (0: no limit, but a task's first
        ``ranking.TASK_PER_FILE``).
    :param min_score: drop hits whose similarity (``score``) is below this.
    :param rerank: rescore the first ``candidates`` hits with this (transformer) reranker.
    :param candidates: how many hits ``rerank`` rescores.
    :param pool_depth: hits taken from each first-stage ranking (at least ``k`` + 10).
    :param lexical_weight: the lexical ranking's weight in the fusion, the vector ranking's being 1
        (None: by the kind of query, ``codesearch.search.pool.LEXICAL_WEIGHTS``).
    :param complete: score every candidate on both rankings, also where one of them did not reach it
        (``codesearch.search.first_stage.completed``); off, such a stage counts 0.
    """

    k: int = 10
    language: str | None = None
    paths: PathFilter = PathFilter()
    kinds: tuple[str, ...] = ()
    hybrid: bool = DEFAULT_HYBRID
    signals: Signals = Signals()
    per_file: int = PER_FILE
    min_score: float = 0.0
    rerank: Reranker | None = None
    candidates: int = RERANK_CANDIDATES
    pool_depth: int = CANDIDATES
    lexical_weight: float | None = None
    complete: bool = True

    @classmethod
    def of(cls, k: int = 10, base: SearchOptions | None = None, *, path_glob: str | None = None,
           **settings: Any) -> SearchOptions:
        """``base`` (default: the defaults) with ``k`` and the given settings (``SearchOptions``' fields).

        :param path_glob: one more include glob (``fnmatch``; ``*`` crosses ``/``).
        :raises TypeError: for a setting that is not a field.
        """
        options = replace(base or cls(), k=k, **settings)
        if options.paths is None:  # callers that pass paths=None mean no filter
            options = replace(options, paths=PathFilter())
        if options.kinds and not isinstance(options.kinds, tuple):
            options = replace(options, kinds=tuple(options.kinds))
        if path_glob is not None:
            options = replace(options, paths=replace(options.paths, include=(*options.paths.include, path_glob)))
        return options

    @property
    def stable_k(self) -> int:
        """How many first results do not depend on ``k``: those of the usual pool (``pool_depth`` hits of each
        ranking), which a search for more ranks first, and then a deeper pool for the rest
        (``codesearch.search.pool.ranked``)."""
        return max(1, self.pool_depth - _SLACK)

    @property
    def rerank_depth(self) -> int:
        """How many hits the reranker rescores (0: no rerank)."""
        return self.candidates if self.rerank is not None else 0

    @property
    def depth(self) -> int:
        """How deep each first-stage ranking goes (``first_stage_depth``)."""
        return first_stage_depth(self.k, self.rerank_depth, self.pool_depth)

    @property
    def wanted(self) -> int:
        """How many hits are picked before the last steps: the rerank reads more than ``k``, and
        with a ``min_score`` the hits it drops are refilled from lower ranks of the pool."""
        wanted = max(self.k, self.candidates) if self.rerank is not None else self.k
        return max(wanted, self.depth) if self.min_score > 0 else wanted


def first_stage_depth(k: int, rerank_candidates: int, pool_depth: int = CANDIDATES) -> int:
    """How deep each first-stage ranking goes: ``pool_depth``, and a few more than asked, as hits in
    deleted files are dropped."""
    return max(k + _SLACK, pool_depth, rerank_candidates + _SLACK if rerank_candidates else 0)
