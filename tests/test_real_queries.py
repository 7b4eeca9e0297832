"""Ranking for real queries (issue 21): the behaviours the ranking round added, one test each.

Handmade pools for the signals of ``codesearch.ranking``, a handmade shard for the pool, and a
tiny repository searched end to end for the first-hour cases.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codesearch import ranking
from codesearch.pipeline import build_index
from codesearch.bench.configs import options as config_options
from codesearch.query import analyse
from codesearch.ranking import Candidate, Signals, rank
from codesearch.search import SearchOptions, Searcher
from codesearch.search.pool import pooled
from tests.conftest import FakeEmbedder, write


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


# --- word: a one-word query's exact word in the code -------------------------------------------------


def test_whole_word_matches_the_word_alone_not_longer_names() -> None:
    exact = ranking.whole_word(analyse("offline"))
    assert exact is not None
    hits = [bool(exact.search(code)) for code in ('parser.add_argument("--offline")', "if args.offline:",
                                                   "# Offline mode", "def test_offline():", "offline_mode = 1",
                                                   "$offline", "offlines")]
    assert hits == [True, True, True, False, False, False, False]
    assert ranking.whole_word(analyse("OFFLINE")).search("offline = 1") is None  # capitals ask for that case
    for query in ("HTTPAdapter", "Offline", "parse_config", "Sinatra::Base", "offline mode", "app.py"):
        assert ranking.whole_word(analyse(query)) is None


OPTIONS = '''"""The command line options."""
import argparse


def build_parser():
    """All the options of the command line."""
    parser = argparse.ArgumentParser(prog="http")
    parser.add_argument("--json", action="store_true", help="Serialize data as JSON.")
    parser.add_argument("--form", action="store_true", help="Serialize data as form fields.")
    parser.add_argument("--verbose", action="store_true", help="Print the whole request and response.")
    parser.add_argument("--offline", action="store_true", help="Build the request and print it but do not send it.")
    parser.add_argument("--timeout", type=float, help="The connection timeout in seconds.")
    parser.add_argument("--proxy", action="append", help="A proxy per protocol.")
    return parser
'''

CORE = '''"""Running one command."""


def program(args, env):
    """Send the requests the arguments describe and print the responses."""
    messages = collect_messages(args, env)
    for message in messages:
        if args.offline:
            print_message(message, env)
            continue
        response = send(message, args.timeout)
        print_message(response, env)
    return 0


def send(message, timeout):
    """Send one request over the network."""
    return message.connection.request(timeout=timeout)
'''


def offline_tests() -> str:
    """Nine tests named after the flag (``tests/test_offline.py``), each mentioning the word."""
    lines = ['"""Tests of the offline mode."""', "from httpx.core import program", ""]
    for n, what in enumerate(["prints the request", "sends nothing", "with json", "with form", "with headers",
                              "with files", "with auth", "with session", "with proxy"]):
        lines += [f"def test_offline_{n}(httpbin):", f'    """Offline mode {what}."""',
                  f"    result = run_offline(httpbin, {n})", "    assert 'HTTP' not in result", ""]
    lines += ["def run_offline(httpbin, n):", "    return program(['--offline', httpbin.url], None)", ""]
    return "\n".join(lines)


def test_one_word_query_finds_the_flag_definition_and_its_use(tmp_path: Path) -> None:
    """``offline`` ranks the option's definition and the code that reads it above the tests named after it."""
    repo = tmp_path / "repo"
    write(repo, "httpx/cli/definition.py", OPTIONS)
    write(repo, "httpx/core.py", CORE)
    write(repo, "tests/test_offline.py", offline_tests())
    embedder = FakeEmbedder()
    build_index(repo, tmp_path / "index", embedder)
    with Searcher(tmp_path / "index", embedder=embedder) as searcher:
        top = [(r.path, r.qualname) for r in searcher.search("offline", 2)]
        without = [(r.path, r.qualname) for r in searcher.search("offline", 10, signals=Signals.without("word"))]
    assert sorted(top) == [("httpx/cli/definition.py", "build_parser"), ("httpx/core.py", "program")]
    assert ("httpx/core.py", "program") not in without  # the use is found by the word signal
