"""Every candidate of the pool is scored by both first-stage rankings (``first_stage.completed``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codesearch.pipeline import build_index
from codesearch.search import Searcher
from codesearch.search.options import SearchOptions
from codesearch.search.pool import pooled
from codesearch.store.postings import LexicalIndex
from codesearch.terms import chunk_terms, query_terms
from tests.conftest import write

WORDS = "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega rho".split()


def _corpus(root: Path) -> None:
    """Two hundred functions; their names and docs share words in many combinations."""
    lines = []
    for n in range(200):
        a, b, c = WORDS[n % 12], WORDS[(n * 5) % 12], WORDS[(n * 7 + 3) % 12]
        lines.append(f'def f{n}_{a}_{b}(x):\n    """Handle the {a} {b} and {c} cases."""\n    return x + {n}\n\n')
    write(root, "mod.py", "".join(lines))


@pytest.fixture
def searcher(tmp_path: Path, fake_embedder) -> Searcher:
    _corpus(tmp_path / "repo")
    build_index(tmp_path / "repo", embedder=fake_embedder, workers=1)
    with Searcher(tmp_path / "repo" / ".codesearch", fake_embedder) as s:
        yield s


def test_scores_match_search_and_unknown_ids_score_zero() -> None:
    docs = {10: ("", "", "", "alpha beta"), 20: ("", "", "", "alpha alpha gamma"), 30: ("", "", "", "gamma")}
    index = LexicalIndex.build([(i, *chunk_terms(*fields)) for i, fields in docs.items()])
    query = query_terms(["alpha", "gamma"])
    found = dict(index.search(query, k=10))
    scored = index.score(query)
    assert scored.of([30, 10, 20, 99]) == pytest.approx([found[30], found[10], found[20], 0.0])
    assert dict(scored.top(10)) == found
    assert dict(scored.top(10, allowed=np.array([20]))) == {20: found[20]}
    assert scored.of([10, 30]) == pytest.approx([found[10], found[30]])  # a filtered top leaves the scores as they were
    assert index.score(query_terms(["missing"])).of([10]) == [0.0]


def test_every_candidate_has_both_stage_scores_only_when_completed(searcher: Searcher) -> None:
    """With shallow rankings, some candidates are reached by one ranking only; completion scores them on the other,
    the vector ranking with the stored vector's cosine."""
    parsed = searcher.parse("alpha gamma cases", 10)
    stages = {}
    for complete in (False, True):
        options = SearchOptions.of(10, pool_depth=20, complete=complete)
        hits = searcher.first_stage(searcher.plan(parsed, options), options)
        _, stages[complete] = pooled(parsed.info, [hits], options)
    assert any(not {"static", "lexical"} <= set(s) for s in stages[False].values())
    assert stages[True].keys() == stages[False].keys()
    assert all({"static", "lexical"} <= set(s) for s in stages[True].values())
    filled = [key[1] for key, s in stages[False].items() if "static" not in s]
    assert filled
    cosines = searcher.vectors.similarity(filled, parsed.vector[0])
    assert [stages[True][(0, i)]["static"] for i in filled] == pytest.approx([float(c) for c in cosines], abs=1e-5)
