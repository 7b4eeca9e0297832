"""Property-based fuzzing of the parser front end and the query path (Hypothesis).

Random bytes and randomly mutated real source in all six languages go through discovery's
content checks and extraction; random text goes through search. Nothing may raise, and
every symbol must have sane lines.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesearch.errors import BadQuery
from codesearch.pipeline import build_index
from codesearch.search import Searcher
from indexer.chunk import chunks_for_file
from indexer.discover import content_problem
from indexer.languages import language_for_path
from indexer.types import SourceFile, Unindexable
from tests.conftest import LANGUAGES, SAMPLE_REPOS, write

EXAMPLES = 150  # per language and strategy: 6 x 2 x 150 = 1,800 parser cases per run

SEEDS = {
    name: sorted(p for p in (SAMPLE_REPOS / name).rglob("*") if p.is_file() and language_for_path(p.name))
    for name in LANGUAGES
}


def _check(language: str, data: bytes) -> None:
    content_problem(data)
    try:
        chunks = chunks_for_file(SourceFile(f"fuzz.{language}", language, data))
    except Unindexable as exc:  # a clear reason to skip the file (a Kotlin parse can run away: see test_hostile_tree)
        assert str(exc)
        return
    lines = data.count(b"\n") + 1
    keys = set()
    for chunk in chunks:
        assert chunk.qualname.endswith(chunk.name)
        assert 1 <= chunk.start_line <= chunk.end_line <= lines
        assert chunk.key not in keys
        keys.add(chunk.key)


@st.composite
def mutated_source(draw: st.DrawFn, language: str) -> bytes:
    """A real sample file with random byte-level edits: deletions, insertions, replacements."""
    data = bytearray(draw(st.sampled_from(SEEDS[language])).read_bytes())
    for _ in range(draw(st.integers(1, 12))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["delete", "insert", "replace"]))
        chunk = draw(st.binary(min_size=1, max_size=16)) if op != "delete" else b""
        span = draw(st.integers(0, 64)) if op != "insert" else 0
        data[at : at + span] = chunk
    return bytes(data)


@pytest.mark.parametrize("language", LANGUAGES)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_bytes_never_crash_the_parser(language: str, data: st.DataObject) -> None:
    """Arbitrary bytes parse without exceptions."""
    _check(language, data.draw(st.binary(max_size=2048)))


@pytest.mark.parametrize("language", LANGUAGES)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_real_source_never_crashes_the_parser(language: str, data: st.DataObject) -> None:
    """Real files with random edits parse without exceptions, with sane line spans."""
    _check(language, data.draw(mutated_source(language)))


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    root = tmp_path_factory.mktemp("fuzzq")
    write(root, "a.py", "def parse_config(path):\n    '''Read settings.'''\n    return open(path).read()\n")
    write(root, "b.go", "package b\n\n// Retry calls f again.\nfunc Retry(f func() error) error { return f() }\n")
    build_index(root)
    with Searcher(root / ".codesearch") as s:
        yield s


@settings(max_examples=300, deadline=None)
@given(query=st.text(max_size=300), k=st.integers(-5, 1100))
def test_any_query_gets_results_or_bad_query(searcher: Searcher, query: str, k: int) -> None:
    """Any Unicode text and any k: a result list of at most k hits, or BadQuery; nothing else."""
    try:
        results = searcher.search(query, k=k)
    except BadQuery as exc:
        assert str(exc)
    else:
        assert len(results) <= k and all(r.rank == i for i, r in enumerate(results, 1))
