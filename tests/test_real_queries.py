"""Ranking for real queries (issue 21): the behaviours the ranking round added, one test each.

Handmade pools for the signals of ``codesearch.ranking``, and a handmade shard for the pool.
"""

from __future__ import annotations

import pytest

from codesearch import ranking
from codesearch.bench.configs import options as config_options
from codesearch.query import analyse
from codesearch.ranking import Candidate, Signals, rank
from codesearch.search import SearchOptions
from codesearch.search.pool import pooled


def cand(i: int, path: str, fused: float, name: str = "", kind: str = "function",
         language: str = "python") -> Candidate:
    """A pool candidate with the row fields the signals read."""
    row = {"path": path, "name": name, "qualname": name, "kind": kind, "language": language}
    return Candidate(i, row, fused)


def order(query: str, pool: list[Candidate], signals: Signals = Signals()) -> list[int]:
    return [c.id for c in rank(analyse(query), pool, signals)]


# --- stubs: re-export files and type declarations --------------------------------------------------


@pytest.mark.parametrize("path", ["typings/index.d.ts", "dist/index.d.cts", "types/api.d.mts", "pkg/__init__.py",
                                  "src/main/java/org/x/package-info.java"])
def test_stub_files_rank_below_the_code_they_restate(path: str) -> None:
    """A declaration or re-export chunk that matches as well as the implementation comes after it."""
    pool = [cand(1, path, 1.0, "attributeName", language="typescript"),
            cand(2, "lib/option.js", 0.95, "attributeName", language="javascript")]
    assert order("zebra crossing", pool) == [2, 1]
    scores = {c.id: c.scores for c in pool}
    assert scores[1]["stubs"] == (ranking.REEXPORT_FACTOR if "__init__" in path or "package-info" in path
                                  else ranking.DECLARATION_FACTOR)
    assert "stubs" not in scores[2]
    pool = [cand(1, path, 1.0, language="typescript"), cand(2, "lib/option.js", 0.95, language="javascript")]
    assert order("zebra crossing", pool, Signals.without("stubs")) == [1, 2]  # the ablation switch


def test_stub_factor_leaves_ordinary_files_alone() -> None:
    assert [ranking.stub_factor(p) for p in ("src/index.ts", "lib/d.ts.js", "init.py", "src/types.ts")] == [1.0] * 4


# --- pool depth ------------------------------------------------------------------------------------


def test_pool_depth_is_a_knob_and_defaults_to_100() -> None:
    """Each first-stage ranking gives 100 hits to the pool; ``hybrid-shallow`` is the ablation at 50."""
    assert SearchOptions().depth == 100
    assert SearchOptions(pool_depth=50).depth == 50
    assert SearchOptions(k=200, pool_depth=50).depth == 210
    assert config_options("hybrid-shallow") == {"hybrid": True, "pool_depth": 50}


class FakeShard:
    """A shard with 150 vector hits and 150 lexical hits (descending scores) and nothing else."""

    repo, root, defined = "", "", []

    def __init__(self) -> None:
        self.static = [(i, 1.0 - i / 1000) for i in range(150)]
        self.lexical = [(1000 + i, 10.0 - i / 100) for i in range(150)]


def test_the_pool_takes_100_hits_from_each_ranking() -> None:
    """The fused pool holds the first 100 of each first-stage ranking (50 with ``pool_depth=50``)."""
    info = analyse("refresh the token")
    fused, _ = pooled(info, [FakeShard()], SearchOptions())
    assert sorted(i for _, i in fused) == [*range(100), *range(1000, 1100)]
    fused, _ = pooled(info, [FakeShard()], SearchOptions(pool_depth=50))
    assert len(fused) == 100
