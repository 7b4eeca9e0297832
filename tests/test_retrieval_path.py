"""One retrieval path: one options value, a query parsed once, one pool -> rank -> pick -> finish for
one index, several, ``serve`` and ``related``; no module borrows another's private names."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

from codesearch.pipeline import build_index
from tests.conftest import ROOT, write

PARSERS = '''
def parse_config_file(path):
    """Parse an ini config file into a dict of sections."""
    return {}


def parse_command_line(argv):
    """Parse the command line flags."""
    return argv
'''

NETWORK = '''
def retry_request(url, attempts):
    """Retry a failed http request with exponential backoff."""
    return None


def open_socket(host, port):
    """Open a tcp socket to a host."""
    return None


class RetryPolicy:
    def retry_request(self, url):
        """Retry a request once more."""
        return url
'''


@pytest.fixture
def two_repos(tmp_path: Path, fake_embedder) -> tuple[Path, Path]:
    first, second = tmp_path / "work" / "config", tmp_path / "work" / "net"
    write(first, "cfg/parse.py", PARSERS)
    write(second, "http/client.py", NETWORK)
    for root in (first, second):
        build_index(root, embedder=fake_embedder, workers=1)
    return first, second


def _private_imports(path: Path) -> list[str]:
    """``module._name`` for each private name ``path`` imports from another codesearch module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("codesearch", "indexer"):
            found += [f"{node.module}.{a.name}" for a in node.names
                      if a.name.startswith("_") and a.name != "__version__"]
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    """Every module of the package (the retrieval path, the store, the CLI and its developer commands)."""
    paths = sorted([*(ROOT / "codesearch").rglob("*.py"), *(ROOT / "indexer").rglob("*.py")])
    borrowed = {str(p.relative_to(ROOT)): _private_imports(p) for p in paths}
    assert {path: names for path, names in borrowed.items() if names} == {}


def test_search_options_travel_as_one_value(two_repos, fake_embedder) -> None:
    from codesearch.ranking import Signals
    from codesearch.search import PathFilter, Searcher, SearchOptions

    options = SearchOptions(k=3, language="python", kinds=("function",), per_file=1, signals=Signals.without("path"))
    assert pickle.loads(pickle.dumps(options)) == options  # what serve sends to its shard replicas
    assert SearchOptions.of(5, options, path_glob="http/*").paths == PathFilter(include=("http/*",))
    assert SearchOptions.of(5, options).k == 5 and SearchOptions.of(5, options).per_file == 1
    with Searcher(two_repos[1] / ".codesearch", fake_embedder) as searcher:
        given = searcher.search("retry a failed request", 3, options)
        spelled = searcher.search("retry a failed request", 3, language="python", kinds=("function",), per_file=1,
                                  signals=Signals.without("path"))
    assert [r.to_dict() for r in given] == [r.to_dict() for r in spelled]
    assert given and all(r.kind == "function" for r in given)


def test_a_query_over_several_indexes_is_validated_and_analysed_once(two_repos, fake_embedder,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import codesearch.search.parse as parse
    from codesearch.multi import MultiSearcher

    calls = {"validate": 0, "analyse": 0}

    def counted(name: str, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(parse, "validate_query", counted("validate", parse.validate_query))
    monkeypatch.setattr(parse, "analyse", counted("analyse", parse.analyse))
    with MultiSearcher([r / ".codesearch" for r in two_repos], fake_embedder) as multi:
        results = multi.search("retry a failed http request", k=3)
    assert results and calls == {"validate": 1, "analyse": 1}


def test_one_index_alone_or_as_a_corpus_of_one_ranks_the_same(two_repos, fake_embedder) -> None:
    """Searcher (rows read as needed) and MultiSearcher (gather, shortlist, fill, merge) share one path."""
    from codesearch.multi import MultiSearcher
    from codesearch.search import Searcher

    for query in ("retry_request", "parse the config file", "open a socket"):
        with Searcher(two_repos[1] / ".codesearch", fake_embedder) as searcher:
            alone = searcher.search(query, 5, per_file=1)
        with MultiSearcher([two_repos[1] / ".codesearch"], fake_embedder, names=[""]) as multi:
            merged = multi.search(query, 5, per_file=1)
        assert [r.to_dict() for r in merged] == [r.to_dict() for r in alone]


def test_related_takes_the_search_path(two_repos, fake_embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    import codesearch.related as related_module
    from codesearch.related import at_line, related
    from codesearch.search import Searcher, ranked

    seen = []

    def spy(query, shards, options, **hooks):
        seen.append((options.k, options.hybrid, sorted(hooks)))
        return ranked(query, shards, options, **hooks)

    monkeypatch.setattr(related_module, "ranked", spy)
    with Searcher(two_repos[1] / ".codesearch", fake_embedder) as searcher:
        source = at_line(searcher, two_repos[1] / "http/client.py", 3)
        found = related(searcher, source, 2)
    assert seen == [(2, False, ["leave_out", "lexical_weight", "lift"])]
    assert found[0].qualname == "RetryPolicy.retry_request" and found[0].scores["name"] == pytest.approx(0.3)
    assert all(r.qualname != "retry_request" for r in found)  # the source itself is left out


def test_a_large_index_searches_vectors_beside_the_lexical_stage_with_the_same_results(
        two_repos, fake_embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    """From ``PARALLEL_FROM`` vectors the vector search runs in a thread while the lexical stage runs: the
    same results as one after the other, and an error in the thread is the search's error."""
    import threading

    import codesearch.search.first_stage as stage
    from codesearch.search import Searcher

    queries = ("retry_request", "parse the config file", "open a socket")
    with Searcher(two_repos[1] / ".codesearch", fake_embedder) as searcher:
        before = [[r.to_dict() for r in searcher.search(q, 5)] for q in queries]
        monkeypatch.setattr(stage, "PARALLEL_FROM", 0)
        threads: list[str] = []
        search = searcher.vectors.search

        def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
            threads.append(threading.current_thread().name)
            return search(*args, **kwargs)

        monkeypatch.setattr(searcher.vectors, "search", spy)
        after = [[r.to_dict() for r in searcher.search(q, 5)] for q in queries]
        assert after == before and len(threads) == 3 and threading.main_thread().name not in threads

        def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("vector file gone")

        monkeypatch.setattr(searcher.vectors, "search", broken)
        with pytest.raises(RuntimeError, match="vector file gone"):
            searcher.search("open a socket", 5)


def test_a_glob_without_a_slash_matches_at_any_depth_as_rgs() -> None:
    """An agent's `path: "retry.py"` matched nothing (`*/retry.py` did): a name matches at any depth, as rg's `-g`,
    a directory's name the files below it; a glob with a `/` is still read from the root."""
    from codesearch.search import PathFilter

    root = Path("/repo")
    assert PathFilter(include=("retry.py",)).matches(root, "scrapy/downloadermiddlewares/retry.py")
    assert PathFilter(include=("retry.py",)).matches(root, "retry.py")
    assert not PathFilter(include=("retry.py",)).matches(root, "scrapy/retry.pyc")
    assert not PathFilter(exclude=("tests",)).matches(root, "pkg/tests/test_a.py")
    assert PathFilter(exclude=("tests",)).matches(root, "pkg/contests.py")
    assert not PathFilter(include=("src/*.py",)).matches(root, "lib/src/a.py")


def test_a_snippet_shows_no_byte_order_mark_and_one_line_is_the_named_line() -> None:
    """Json.NET's snippets began `\\ufeff#region License`; with `max_lines: 1` an agent saw the line before the one
    its query named."""
    from codesearch.search.results import SearchResult, snippet_of, snippet_skip

    assert snippet_of("\ufeff#region License\r\nusing System;\r\n", 5)[0] == ["#region License", "using System;", ""]
    hit = SearchResult(rank=1, score=0.5, key="a.js::f", root="/r", path="a.js", start_line=60, end_line=70,
                       language="javascript", kind="function", name="f", qualname="f", signature="", doc="",
                       code="\n".join(f"line {n}" for n in range(60, 71)), line=66)
    assert snippet_skip(hit, 1) == 6 and snippet_skip(hit, 3) == 5 and snippet_skip(hit, 12) == 0


def test_a_windows_snippet_starts_at_the_line_that_holds_most_of_the_question() -> None:
    """An agent's `remove Cookie header when redirecting to a different domain` found the window 38-63 of
    `_build_redirect_request`, but its 12-line snippet stopped before line 53, `del redirect_request.headers["Cookie"]`:
    for a question in words, a window's (or code's) line with most of its words is its `line`, where the snippet
    starts and `--format grep` points; a definition shows its head; a name query keeps its own line."""
    from codesearch.resident import search_output
    from codesearch.search.results import SearchResult, best_lines

    body = [f"    step_{n} = prepare(request)" for n in range(38, 52)] + [
        "    if source_host != redirect_host:", '        del redirect_request.headers["Cookie"]',
        "    return redirect_request"] + [f"    tail_{n}()" for n in range(55, 64)]
    window = SearchResult(rank=1, score=0.6, key="r.py::f@w1", root="/r", path="r.py", start_line=38,
                          end_line=63, language="python", kind="function", name="f",
                          qualname="_build_redirect_request", signature="", doc="", code="\n".join(body), part=True)
    whole = SearchResult(**{**{f: getattr(window, f) for f in window.__dataclass_fields__}, "part": False})
    query = "remove Cookie header when redirecting to a different domain"
    assert [r.line for r in best_lines(query, [window, whole])] == [53, 0]
    assert best_lines("_build_redirect_request", [window])[0].line == 0
    grep = search_output(query, [window], "grep", max_lines=None, explain=False, color=False, elapsed_ms=1.0,
                         extra={})
    assert grep is not None and grep.endswith("r.py:53: _build_redirect_request (part)  [#1]")
    text = search_output(query, [window], "text", max_lines=None, explain=False, color=False, elapsed_ms=1.0,
                         extra={})
    assert text is not None and 'del redirect_request.headers["Cookie"]' in text and "step_38" not in text
