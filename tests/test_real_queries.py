"""Ranking for real queries (issue 21): the behaviours the ranking round added, one test each.

Handmade pools for the signals of ``codesearch.ranking``, a handmade shard for the pool, and a
tiny repository searched end to end for the first-hour cases.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from codesearch import ranking
from codesearch.pipeline import build_index
from codesearch.bench.configs import options as config_options
from codesearch.query import analyse
from codesearch.ranking import Candidate, Signals, rank
from codesearch.search import SearchOptions, Searcher
from codesearch.search.first_stage import definitions
from codesearch.search.parse import parse_query
from codesearch.search.pool import pooled
from tests.conftest import FakeEmbedder, write


def cand(i: int, path: str, fused: float, name: str = "", kind: str = "function",
         language: str = "python") -> Candidate:
    """A pool candidate with the row fields the signals read."""
    row = {"path": path, "name": name, "qualname": name, "kind": kind, "language": language}
    return Candidate(i, row, fused)


def order(query: str, pool: list[Candidate], signals: Signals = Signals()) -> list[int]:
    return [c.id for c in rank(analyse(query), pool, signals)]


# --- stubs: type declarations ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["typings/index.d.ts", "dist/index.d.cts", "types/api.d.mts"])
def test_stub_files_rank_below_the_code_they_restate(path: str) -> None:
    """A declaration chunk that matches as well as the implementation comes after it."""
    pool = [cand(1, path, 1.0, "attributeName", language="typescript"),
            cand(2, "lib/option.js", 0.95, "attributeName", language="javascript")]
    assert order("zebra crossing", pool) == [2, 1]
    scores = {c.id: c.scores for c in pool}
    assert scores[1]["stubs"] == ranking.DECLARATION_FACTOR == 0.7
    assert "stubs" not in scores[2]
    pool = [cand(1, path, 1.0, language="typescript"), cand(2, "lib/option.js", 0.95, language="javascript")]
    assert order("zebra crossing", pool, Signals.without("stubs")) == [1, 2]  # the ablation switch


def test_stub_factor_leaves_ordinary_files_alone() -> None:
    """Python puts real code in ``__init__.py`` (ansible's plugin bases): it is not a stub."""
    paths = ("src/index.ts", "lib/d.ts.js", "pkg/__init__.py", "src/types.ts", "org/x/package-info.java")
    assert [ranking.stub_factor(p) for p in paths] == [1.0] * 5


# --- pool depth ------------------------------------------------------------------------------------


def test_pool_depth_is_a_knob_and_defaults_to_60() -> None:
    """Each first-stage ranking gives 60 hits to the pool; ``hybrid-deep`` is the ablation at 100."""
    assert SearchOptions().depth == 60
    assert SearchOptions(pool_depth=50).depth == 50
    assert SearchOptions(k=200, pool_depth=50).depth == 210
    assert config_options("hybrid-deep") == {"hybrid": True, "pool_depth": 100}


class FakeShard:
    """A shard with 150 vector hits and 150 lexical hits (descending scores) and nothing else."""

    repo, root, defined = "", "", []
    completed: dict[str, dict[int, float]] = {}

    def __init__(self) -> None:
        self.static = [(i, 1.0 - i / 1000) for i in range(150)]
        self.lexical = [(1000 + i, 10.0 - i / 100) for i in range(150)]


def test_the_pool_takes_60_hits_from_each_ranking() -> None:
    """The fused pool holds the first 60 of each first-stage ranking (50 with ``pool_depth=50``)."""
    info = analyse("refresh the token")
    fused, _ = pooled(info, [FakeShard()], SearchOptions())
    assert sorted(i for _, i in fused) == [*range(60), *range(1000, 1060)]
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
        without = [(r.path, r.qualname) for r in searcher.search("offline", 10, signals=Signals(word=False, saturation=False))]
        unsaturated = [(r.path, r.qualname) for r in searcher.search("offline", 2, signals=Signals.without("saturation"))]
    assert sorted(top) == [("httpx/cli/definition.py", "build_parser"), ("httpx/core.py", "program")]
    assert ("httpx/core.py", "program") not in without  # found by the word signal and by saturation
    assert sorted(unsaturated) == sorted(top)  # the word signal alone brings both up here


# --- questions: file coherence and saturation ------------------------------------------------------


@pytest.mark.parametrize(("text", "question"), [
    ("how are routes registered", True), ("Where is the session saved?", True), ("blueprint registration?", True),
    ("what happens when a request times out", True), ("send a request with a timeout", False),
    ("blueprint registration", False), ("HTTPAdapter", False), ("how", False), ("src/how.py", False),
])
def test_a_question_is_told_from_a_task_or_a_name(text: str, question: bool) -> None:
    assert analyse(text).question is question


@pytest.mark.parametrize(("text", "task"), [
    ("send a request with a timeout", True), ("parse a date in several formats", True),
    ("match against the encoded path", True), ("log every request", True), ("set cookies on the response", True),
    ("request body parsing", False), ("retry logic for failed requests", False),
    ("update and delete statement builders", False), ("cookie jar implementation", False),
    ("streaming JSON reader and token parsing", False), ("configuring options before building", False),
    ("how are routes registered", False), ("parse", False), ("send_request", False),
])
def test_a_task_starts_with_a_verb_and_a_topic_names_a_thing(text: str, task: bool) -> None:
    """A verb that is as often a noun (``request``, ``log``, ``match``) starts a task only before its object."""
    assert analyse(text).task is task


@pytest.mark.parametrize(("text", "saturates"), [
    ("how are routes registered", True), ("cookie jar implementation", True), ("offline", True),
    ("send a request with a timeout", False), ("HTTPAdapter", False), ("src/app.py", False),
])
def test_questions_topics_and_plain_words_saturate_tasks_and_names_do_not(text: str, saturates: bool) -> None:
    assert ranking.saturates(analyse(text)) is saturates


def test_words_that_spell_a_top_definition_name_it() -> None:
    """``csv dict reader`` names ``DictReader`` (one of the best three); a name further down, or a ``code``
    chunk, does not count."""
    def pool(name: str, kind: str = "class") -> list[Candidate]:
        return [Candidate(1, {"path": "csv.py", "name": name, "kind": kind}, 1.0),
                Candidate(2, {"path": "x.py", "name": "other", "kind": "function"}, 0.9)]

    topic = analyse("csv dict reader")
    assert ranking.names_a_definition(topic, pool("DictReader")).id == 1
    assert ranking.names_a_definition(analyse("the dict reader class"), pool("dict_reader", "function")).id == 1
    assert ranking.names_a_definition(topic, pool("DictReader", "code")) is None
    assert ranking.names_a_definition(topic, pool("Reader")) is None
    far = pool("other") + [Candidate(3, {"path": "y.py", "name": "z", "kind": "class"}, 0.5),
                           Candidate(4, {"path": "csv.py", "name": "DictReader", "kind": "class"}, 0.4)]
    assert ranking.names_a_definition(topic, far) is None


def test_a_named_definition_keeps_its_file_together_unless_another_file_is_named_by_the_other_words() -> None:
    """``csv dict reader`` keeps ``csv.py``'s chunks together (no other file is about csv);
    ``middleware handler stack composition`` names ``HandlerStack`` but also ``Middleware.php``, so it
    saturates like any topic."""
    csv = [Candidate(1, {"path": "csv.py", "name": "DictReader", "kind": "class"}, 1.0),
           Candidate(2, {"path": "csv.py", "name": "__next__", "kind": "method"}, 0.9),
           Candidate(3, {"path": "encodings/utf_8.py", "name": "StreamReader", "kind": "class"}, 0.8)]
    assert ranking.keeps_named_file(analyse("csv dict reader"), csv)
    stack = [Candidate(1, {"path": "src/HandlerStack.php", "name": "HandlerStack", "kind": "class"}, 1.0),
             Candidate(2, {"path": "src/HandlerStack.php", "name": "push", "kind": "method"}, 0.9),
             Candidate(3, {"path": "src/Middleware.php", "name": "Middleware", "kind": "class"}, 0.5)]
    query = analyse("middleware handler stack composition")
    assert not ranking.keeps_named_file(query, stack)
    assert ranking.keeps_named_file(query, stack[:2])  # no file named by the other words
    assert not ranking.keeps_named_file(query, stack[1:])  # no definition named by the query among the best


def test_saturation_counts_each_further_chunk_of_a_file_half() -> None:
    """The second chunk of a file counts 0.5, the third 0.25: another file's weaker hit comes between."""
    pool = [cand(1, "a.py", 1.0), cand(2, "a.py", 0.9), cand(3, "a.py", 0.8), cand(4, "b.py", 0.5)]
    for c in pool:
        c.score = c.fused
    out = ranking.saturated(pool)
    assert [c.id for c in out] == [1, 4, 2, 3]
    assert [round(c.score, 6) for c in out] == [1.0, 0.5, 0.45, 0.2]
    assert [c.scores.get("saturation") for c in out] == [None, None, 0.5, 0.25]


@pytest.mark.parametrize(("text", "saturates"), [
    ("LxmlLinkExtractor", True), ("HTTPAdapter.send", True), ("how are routes registered", True),
    ("send a request with a timeout", False), ("src/app.py", False),
])
def test_a_names_results_saturate_by_file_too(text: str, saturates: bool) -> None:
    """A name's definition comes first on its own score; then the other files that define, export or use it come
    before the rest of its own file (scrapy's `LxmlLinkExtractor` gave its class and six of its own chunks, and
    the package that exports it was not in the first ten). Its other signals (``saturates``) stay as they were."""
    assert ranking.saturates_results(analyse(text)) is saturates
    assert not ranking.saturates(analyse("LxmlLinkExtractor"))


def test_a_types_copy_in_another_file_is_no_chunk_of_that_file() -> None:
    """react-native-keyboard-controller defines `KeyboardControllerPackage` in `base/` and `turbo/`; `pick` folds
    the second class into the first as a near-copy. Counted as `base/`'s first chunk, it made `base/`'s own
    methods its second and third, and they fell below another file's weaker hit."""
    pool = [cand(1, "turbo/P.kt", 3.1, "P", kind="class"), cand(2, "base/P.kt", 3.0, "P", kind="class"),
            cand(3, "base/P.kt", 1.2, "P.create", kind="method"), cand(4, "base/P.kt", 1.1, "P.module", kind="method"),
            cand(5, "main/A.kt", 1.0, "A.get", kind="method")]
    for c in pool:
        c.score = c.fused
    out = ranking.saturated(pool)
    assert [c.id for c in out] == [1, 2, 3, 5, 4]
    assert [round(c.score, 6) for c in out] == [3.1, 3.0, 1.2, 1.0, 0.55]


def test_saturation_keeps_files_of_several_indexes_apart() -> None:
    """In a search of several indexes the same path in two of them is two files."""
    pool = [Candidate((0, 1), {"path": "app.py"}, 1.0), Candidate((1, 1), {"path": "app.py"}, 0.9)]
    for c in pool:
        c.score = c.fused
    assert [c.id for c in ranking.saturated(pool)] == [(0, 1), (1, 1)]
    assert all("saturation" not in c.scores for c in pool)


def test_coherence_lifts_the_best_chunk_of_a_file_with_several_matches_for_a_question() -> None:
    def pool() -> list[Candidate]:
        return [cand(1, "b.py", 1.0), cand(2, "a.py", 0.6), cand(3, "a.py", 0.6), cand(4, "a.py", 0.6)]

    signals = Signals.none()
    question = {c.id: c.scores.get("coherence") for c in rank(analyse("how do zebras cross"), pool(),
                                                               replace(signals, coherence=True))}
    assert question == {1: pytest.approx(0.3 * 1.0 / 1.8), 2: pytest.approx(0.3), 3: None, 4: None}
    task = rank(analyse("let zebras cross"), pool(), replace(signals, coherence=True))
    assert all("coherence" not in c.scores for c in task)


def test_file_path_lifts_only_the_best_chunk_of_a_file_named_by_the_query() -> None:
    pool = [cand(1, "pkg/router.py", 0.9), cand(2, "pkg/router.py", 0.8), cand(3, "pkg/other.py", 1.0)]
    ranked = rank(analyse("router zebras"), pool, replace(Signals.none(), path=True, file_path=True))
    scores = {c.id: c.scores for c in ranked}
    assert scores[1] == pytest.approx({"path": 0.15, "file_path": 0.15})
    assert scores[2] == pytest.approx({"path": 0.15})
    assert scores[3] == {}
    assert [c.id for c in ranked] == [1, 3, 2]
    plain = rank(analyse("router zebras"), [cand(1, "pkg/router.py", 0.9)], replace(Signals.none(), file_path=True))
    assert plain[0].scores == {}  # a part of the path signal: off with it


BIG = "\n\n".join(f"def expire_entries_{n}(cache):\n    \"\"\"Expire the cache entries that are too old.\"\"\"\n"
                  f"    return [e for e in cache.entries if e.age < {n}]" for n in range(4)) + "\n"
OTHER = "def sweep(cache):\n    \"\"\"Expire the cache entries of a store.\"\"\"\n    return cache.entries\n"


def test_a_question_sees_several_files_a_task_sees_the_best_file_first(tmp_path: Path) -> None:
    """Saturation is for questions and topics: ``how do cache entries expire`` and ``cache entry expiry``
    show the second file in the top two; the task ``expire old cache entries`` keeps the best file's
    functions first."""
    repo = tmp_path / "repo"
    write(repo, "pkg/big.py", BIG)
    write(repo, "pkg/sweeper.py", OTHER)
    embedder = FakeEmbedder()
    build_index(repo, tmp_path / "index", embedder)
    with Searcher(tmp_path / "index", embedder=embedder) as searcher:
        question = [r.path for r in searcher.search("how do cache entries expire", 5)]
        topic = [r.path for r in searcher.search("cache entry expiry", 5)]
        task = [r.path for r in searcher.search("expire old cache entries", 5)]
        flat = [r.path for r in searcher.search("how do cache entries expire", 5, signals=replace(
            Signals(), coherence=False, saturation=False))]
    assert question[:2] == ["pkg/big.py", "pkg/sweeper.py"]
    assert sorted(topic[:2]) == ["pkg/big.py", "pkg/sweeper.py"]
    assert task[:4] == ["pkg/big.py"] * 4
    assert flat[:4] == ["pkg/big.py"] * 4


# --- path words in the lexical index ---------------------------------------------------------------


def test_chunk_terms_count_the_file_name_and_its_directory() -> None:
    """Every chunk of ``gson/JsonElement.java`` has the terms ``json``, ``element`` and ``jsonelement``
    (the file name, weight 2) and ``gson`` (its directory, weight 1), though its code has none of them."""
    from codesearch.terms import PATH_WEIGHTS, chunk_terms, term_ids

    ids, _, length = chunk_terms("isArray", "", "", "return this instanceof Array;", "src/gson/JsonElement.java")
    plain_ids, _, plain_length = chunk_terms("isArray", "", "", "return this instanceof Array;")
    stored = set(np.frombuffer(ids, dtype="<u4").tolist())
    plain = set(np.frombuffer(plain_ids, dtype="<u4").tolist())
    assert set(term_ids(["json", "elemen", "jsonelement", "gson"]).tolist()) <= stored - plain
    assert length - plain_length == 3 * PATH_WEIGHTS[0] + PATH_WEIGHTS[1] == 7.0


def test_the_lexical_stage_finds_a_chunk_by_its_file_name(tmp_path: Path) -> None:
    """``backoff`` reaches the lexical stage's ranking for the function of ``pkg/backoff.py`` whose code
    never says the word."""
    repo = tmp_path / "repo"
    write(repo, "pkg/backoff.py", 'def delays(attempts):\n    """Seconds to wait before each try."""\n'
                                  "    return [2 ** n for n in range(attempts)]\n")
    write(repo, "pkg/misc.py", 'def note():\n    """The backoff is the caller\'s."""\n    return None\n')
    embedder = FakeEmbedder()
    build_index(repo, tmp_path / "index", embedder)
    with Searcher(tmp_path / "index", embedder=embedder) as searcher:
        found = {r.path: r.scores for r in searcher.search("backoff", 5, signals=Signals.none())}
    assert "lexical" in found["pkg/backoff.py"]
    assert found["pkg/backoff.py"]["lexical"] > found["pkg/misc.py"]["lexical"]


# --- fusion: natural language weighs the words 0.8 ---------------------------------------------------


def test_natural_language_weighs_the_lexical_ranking_less_than_the_vectors() -> None:
    """A sentence's best lexical hit fuses to 0.8 (the vectors' best to 1); a name's to 1 as before;
    ``lexical_weight`` is the knob and ``hybrid-equal-fusion`` its ablation."""
    sentence, name = analyse("refresh the token"), analyse("refresh_token")
    fused, _ = pooled(sentence, [FakeShard()], SearchOptions())
    assert fused[(0, 0)] == 1.0 and fused[(0, 1000)] == pytest.approx(0.8)
    fused, _ = pooled(name, [FakeShard()], SearchOptions())
    assert fused[(0, 1000)] == pytest.approx(1.0)
    fused, _ = pooled(sentence, [FakeShard()], SearchOptions(lexical_weight=1.0))
    assert fused[(0, 1000)] == pytest.approx(1.0)
    assert config_options("hybrid-equal-fusion") == {"hybrid": True, "lexical_weight": 1.0}


# --- BM25 length normalisation: long chunks ---------------------------------------------------------


def test_a_long_chunk_that_says_the_term_often_is_not_buried_below_short_ones() -> None:
    """A class outline of 2,000 weighted terms saying ``element`` 4 times outranks short chunks saying
    it once: its length counts only up to ``LENGTH_CAP`` (uncapped, BM25 scored it 0.6x a short one's)."""
    from codesearch.store.postings import LENGTH_CAP, LexicalIndex
    from codesearch.terms import term_ids

    element, other = (int(t) for t in term_ids(["element", "other"]))

    def row(i: int, tfs: dict[int, float], length: float) -> tuple[int, bytes, bytes, float]:
        ids = np.array(list(tfs), dtype="<u4").tobytes()
        return i, ids, np.array(list(tfs.values()), dtype="<f2").tobytes(), length

    rows = [row(1, {element: 4.0}, 2000.0)]
    rows += [row(i, {element: 1.0}, 100.0) for i in range(2, 6)]
    rows += [row(i, {other: 1.0}, 100.0) for i in range(6, 11)]
    hits = LexicalIndex.build(rows).search(term_ids(["element"]), 10)
    assert LENGTH_CAP < 2000.0
    assert [i for i, _ in hits][0] == 1
    assert len(hits) == 5


# --- near-copies: one name cannot fill the first screen --------------------------------------------------------


def _codecs(root: Path) -> None:
    """Twelve codec modules whose StreamReader classes differ by a line (as in the standard library's
    encodings), and the csv module the query is about."""
    for i in range(12):
        extra = f"\n    errors = 'strict{i}'" if i % 3 else ""
        write(root, f"encodings/cp{i:03}.py",
              f"import codecs\n\n\nclass StreamReader(codecs.StreamReader):\n    '''Read a stream of encoded bytes.'''"
              f"{extra}\n    def decode(self, data, errors='strict'):\n        return codecs.charmap_decode(data, errors)\n")
    write(root, "csv.py", "class DictReader:\n    '''Read csv rows as dicts keyed by the header.'''\n"
                          "    def __init__(self, f, fieldnames=None):\n        self.reader = f\n"
                          "        self.fieldnames = fieldnames\n\n    def __next__(self):\n"
                          "        return dict(zip(self.fieldnames, next(self.reader)))\n")


def test_near_copies_in_other_files_fold_into_the_first_with_their_places(tmp_path: Path) -> None:
    """Same kind, same qualified name, cosine >= NEAR_COPY, another file: one result that lists the others
    in ``similar``; ``hybrid-similar`` (the signal off) shows them one by one."""
    _codecs(tmp_path)
    build_index(tmp_path, workers=1)
    with Searcher(tmp_path / ".codesearch") as searcher:
        folded = searcher.search("csv dict reader stream", 10)
        apart = searcher.search("csv dict reader stream", 10, signals=Signals.without("similar"))
    readers = [r for r in folded if r.qualname == "StreamReader"]
    assert len(readers) == 1 and len(readers[0].duplicates) + len(readers[0].similar) == 11
    assert readers[0].similar and all(p.startswith("encodings/cp") for p in readers[0].similar)
    assert any(r.qualname == "DictReader" for r in folded)
    assert len([r for r in apart if r.qualname == "StreamReader"]) > 1


def test_near_copy_folding_keeps_different_definitions_of_one_name_apart(tmp_path: Path) -> None:
    """Two unrelated functions that share a name (``parse`` of json and of a date) stay two results."""
    write(tmp_path, "jsonfmt.py", "def parse(text):\n    '''Decode a JSON document into dicts and lists.'''\n"
                                  "    import json\n    return json.loads(text)\n")
    write(tmp_path, "dates.py", "def parse(text):\n    '''Read an ISO 8601 date such as 2024-01-31.'''\n"
                                "    year, month, day = map(int, text.split('-'))\n    return year, month, day\n")
    build_index(tmp_path, workers=1)
    with Searcher(tmp_path / ".codesearch") as searcher:
        hits = searcher.search("parse", 10)
    assert sorted(r.path for r in hits if r.qualname == "parse") == ["dates.py", "jsonfmt.py"]
    assert all(not r.similar for r in hits)


@pytest.mark.parametrize(("text", "spelled"), [
    ("JSON array operations", ("jsonarray", "arrayoperations", "jsonarrayoperations")),
    ("how is the handler stack built?", ("handlerstack", "stackbuilt", "handlerstackbuilt")),
    ("update and delete statement builders",
     ("deletestatement", "statementbuilders", "deletestatementbuilders", "updatestatement", "updateanddelete")),
    ("where do replicas sync with the master", ("replicassync", "syncwithmaster")),  # articles left out
    ("send a request with a timeout", ()),  # a task: answered by a function, not a file's type
    ("JsonArray", ()), ("offline", ()),
])
def test_topics_and_questions_spell_names_in_words(text: str, spelled: tuple[str, ...]) -> None:
    assert analyse(text).spelled == spelled


def test_a_name_spelled_in_words_is_looked_up_in_both_cases(tmp_path: Path) -> None:
    """A question's spelled names are looked up as names written like code are (any case, with or without
    underscores), so the definition joins the pool even when neither ranking reached it (redis's
    ``syncWithMaster`` for "where do replicas sync with the master" was 59th without it)."""
    write(tmp_path, "replication.py", "def sync_with_master():\n    pass\n\n\ndef other():\n    pass\n")
    write(tmp_path, "Replica.java", "class Replica {\n  void syncWithMaster() {}\n}\n")
    build_index(tmp_path, tmp_path / ".codesearch", FakeEmbedder())
    info = analyse("where do replicas sync with the master")
    assert {"syncwithmaster", "sync_with_master"} <= set(info.spelled_lookup)
    with Searcher(tmp_path / ".codesearch", FakeEmbedder()) as searcher:
        plan = searcher.plan(parse_query(info.text, 10, FakeEmbedder()), SearchOptions())
        assert plan is not None
        rows = searcher.reader.chunks(definitions(searcher, plan))
    assert sorted(str(r["qualname"]) for r in rows.values()) == ["Replica.syncWithMaster", "sync_with_master"]
    assert analyse("sync with the master").spelled_lookup == ()  # a task: a function answers it, not a name


def test_names_are_looked_up_in_batches_under_sqlites_variable_cap(tmp_path: Path) -> None:
    """A 2,000-character question of distinct words spells over 1,300 names; SQLite before 3.32 takes at most
    999 variables in one statement: the lookup goes in batches, so the name at the end is still found."""
    import sqlite3

    write(tmp_path, "replication.py", "def sync_with_master():\n    pass\n")
    build_index(tmp_path, tmp_path / ".codesearch", FakeEmbedder())
    with Searcher(tmp_path / ".codesearch", FakeEmbedder()) as searcher:
        searcher.reader.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        names = [f"name{i}" for i in range(1300)] + ["sync_with_master"]
        found = searcher.reader.ids_named(names)
        assert [searcher.reader.chunks(found)[i]["name"] for i in found] == ["sync_with_master"]


def test_a_definition_the_topic_spells_in_words_comes_first() -> None:
    """``JSON object with named fields`` spells ``JsonObject``: its class comes before a better cosine
    match for "named fields" (gson: ``FieldNamingStrategy`` had been first, ``JsonObject`` third)."""
    pool = [cand(1, "FieldNamingStrategy.java", 1.0, "FieldNamingStrategy", "interface", "java"),
            cand(2, "JsonObject.java", 0.85, "JsonObject", "class", "java"),
            cand(3, "JsonObject.java", 0.84, "JSON_OBJECT", "code", "java")]
    ranked = rank(analyse("JSON object with named fields"), pool)
    assert [c.id for c in ranked][:2] == [2, 1] and ranked[0].scores["definition"] == ranking.SPELLED_DEFINITION_WEIGHT
    assert "definition" not in next(c for c in ranked if c.id == 3).scores  # code between definitions names nothing
    assert order("JSON object with named fields", pool, Signals.without("definition"))[0] == 1


def test_a_file_named_by_a_topics_words_gets_its_best_chunk_lifted() -> None:
    """"session storage and persistence": ``sessions.py`` is named by a query word (its name's every
    word is in the query): its best chunk gets the lift and comes first; a file whose name has a word
    the query lacks (``session_jar.py``) gets the path lift only; nothing for a task."""
    def pool() -> list[Candidate]:
        return [cand(1, "requests/models.py", 1.0), cand(2, "requests/sessions.py", 0.95),
                cand(3, "requests/sessions.py", 0.9), cand(4, "requests/session_jar.py", 0.94)]

    only = replace(Signals.none(), path=True, file_named=True)
    ranked = rank(analyse("session storage and persistence"), pool(), only)
    assert [c.id for c in ranked][:2] == [2, 4]  # session_jar.py: the path lift only
    scores = {c.id: c.scores for c in ranked}
    assert scores[2]["file_named"] == ranking.FILE_NAMED_WEIGHT and "file_named" not in scores[3]
    assert "file_named" not in scores[4]
    assert all("file_named" not in c.scores for c in rank(analyse("store the session"), pool(), only))


def test_a_task_is_answered_by_a_function_before_its_class_outline() -> None:
    """``format a record as a single line``: the class outline names every member and matches best,
    but a function does the task; a topic about the class keeps the class first."""
    def pool() -> list[Candidate]:
        return [cand(1, "Formatter/LineFormatter.php", 1.0, "LineFormatter", "class", "php"),
                cand(2, "Formatter/LineFormatter.php", 0.8, "format", "method", "php")]

    only = replace(Signals.none(), kind=True)
    task = rank(analyse("format a record as a single line"), pool(), only)
    assert [c.id for c in task] == [2, 1] and task[1].scores["kind"] == ranking.TASK_CONTAINER_FACTOR
    assert [c.id for c in rank(analyse("line formatter for records"), pool(), only)] == [1, 2]


@pytest.mark.parametrize(("container", "kind"), [("Router", "type"), ("MiddlewareFunc", "type"), ("Route", "class")])
def test_a_task_is_answered_by_a_function_before_a_go_type(container: str, kind: str) -> None:
    """A Go struct is Go's class and is captured as a ``type`` (as is `type MiddlewareFunc func(http.Handler)
    http.Handler`): for "dispatch an incoming request to the matching handler" gorilla/mux's `Router` struct
    came before `Router.ServeHTTP`, as no class did in any other language."""
    pool = [cand(1, "mux.go", 1.0, container, kind, "go"), cand(2, "mux.go", 0.8, "Router.ServeHTTP", "method", "go")]
    task = rank(analyse("dispatch an incoming request to the matching handler"), pool, replace(Signals.none(), kind=True))
    assert [c.id for c in task] == [2, 1] and task[1].scores["kind"] == ranking.TASK_CONTAINER_FACTOR


# --- build twins: an npm package's ESM and CommonJS builds of one module ---------------------------------------

ESM_ROUTER = '''import { METHOD_NAME_ALL } from "../router.js";
/**
 * Find the handlers of the routes that match a request's method and path.
 */
export function matchRoute(routes, method, path) {
  return routes.filter((r) => (r.method === method || r.method === METHOD_NAME_ALL)
    && r.pattern.test(path));
}
'''
CJS_ROUTER = '''"use strict";
var import_router = require("../../router.js");
/**
 * Find the handlers of the routes that match a request's method and path.
 */
function matchRoute(routes, method, path) {
  return routes.filter((r) => (r.method === method || r.method === import_router.METHOD_NAME_ALL)
    && r.pattern.test(path));
}
module.exports = { matchRoute };
'''


@pytest.mark.parametrize(("first", "second", "twins"), [
    ("dist/router/match.js", "dist/cjs/router/match.js", True),  # hono: ESM and CommonJS builds
    ("dist/router/match.js", "dist/types/router/match.d.ts", True),  # and their declarations
    ("es/add.js", "src/add.js", True),  # ramda: a build beside the sources
    ("lib/Eq.js", "es6/Eq.js", True),  # fp-ts, io-ts
    ("add.js", "add.mjs", True),  # date-fns: CommonJS and ESM side by side
    ("dist/core.umd.js", "dist/core.browser.mjs", True),  # one bundle built for several targets
    ("build/lib/pkg/util.py", "pkg/util.py", True),  # a Python build directory
    ("src/unix/pipe.c", "src/win/pipe.c", False),  # platforms: different implementations of one name
    ("src/node/request.js", "src/browser/request.js", False),
    ("fp/formatISO.js", "formatISO.js", False),  # another module of the same name
    ("src/main/java/a/B.java", "src/test/java/a/B.java", False),
    ("dist/x.js", "dist/x.py", False),  # the extension is dropped for JavaScript and TypeScript only
    ("matplotlib/transforms.py", "matplotlib/transforms.pyi", True),  # a Python module and its stub
    ("x.pyi", "x.js", False),
])
def test_build_twins_are_one_path_built_several_ways(first: str, second: str, twins: bool) -> None:
    assert (ranking.build_twin(first) == ranking.build_twin(second)) is twins


def test_a_definition_in_a_build_twin_folds_into_the_first_result(tmp_path: Path) -> None:
    """hono ships `dist/x.js` and `dist/cjs/x.js` and no sources: each function was two results in a row.
    The same qualified name in a build twin is folded into the first as a near-copy, whatever its kind
    (the `.d.ts` declaration too), without reading vectors; the signal off shows them one by one."""
    write(tmp_path, "dist/router/match.js", ESM_ROUTER)
    write(tmp_path, "dist/cjs/router/match.js", CJS_ROUTER)
    write(tmp_path, "dist/types/router/match.d.ts", "/**\n * Find the handlers of the routes that match a request's "
                                                    "method and path.\n */\nexport declare function matchRoute("
                                                    "routes: Route[], method: string, path: string): Route[];\n")
    write(tmp_path, "dist/unix/pipe.js", "/** Open a pipe. */\nexport function openPipe(name) {\n  return name;\n}\n")
    write(tmp_path, "dist/win/pipe.js", "/** Open a pipe. */\nexport function openPipe(name) {\n"
                                        "  return `\\\\.\\pipe\\${name}`;\n}\n")
    build_index(tmp_path, tmp_path / ".codesearch", FakeEmbedder())
    with Searcher(tmp_path / ".codesearch", FakeEmbedder()) as searcher:
        folded = searcher.search("match a request path against the routes", 10)
        apart = searcher.search("match a request path against the routes", 10, signals=Signals.without("twins"))
        pipes = searcher.search("openPipe", 10)
    matches = [r for r in folded if r.qualname == "matchRoute"]
    assert len(matches) == 1
    others = {"dist/router/match.js", "dist/cjs/router/match.js", "dist/types/router/match.d.ts"} - {matches[0].path}
    assert {p.rsplit(":", 1)[0] for p in matches[0].similar} == others
    assert len([r for r in apart if r.qualname == "matchRoute"]) == 3
    assert sorted(r.path for r in pipes if r.qualname == "openPipe") == ["dist/unix/pipe.js", "dist/win/pipe.js"]


def test_a_declaration_gives_its_place_to_its_code_whatever_k(tmp_path: Path) -> None:
    """hono's JSDoc is in its `.d.ts` declarations only, so "CORS middleware" found `types/.../cors/index.d.ts`
    first: its code in a build twin takes its place (the declaration listed with the copies), and the first
    results are the same for k = 1 as for k = 10 (candidates below the last pick are read for folding)."""
    doc = "/**\n * CORS middleware: answers preflight requests and sets the allowed origins.\n */\n"
    write(tmp_path, "dist/types/middleware/cors.d.ts", doc + "export declare const cors: (options?: CORSOptions) "
                                                       "=> MiddlewareHandler;\n")
    write(tmp_path, "dist/middleware/cors.js", "const cors = (options) => {\n  const defaults = { origin: '*' };\n"
                                               "  return async function cors2(c, next) { await next(); };\n};\n"
                                               "export { cors };\n")
    write(tmp_path, "dist/cjs/middleware/cors.js", '"use strict";\nconst cors = (options) => {\n'
                                                   "  const defaults = { origin: '*' };\n"
                                                   "  return async function cors2(c, next) { await next(); };\n};\n"
                                                   "module.exports = { cors };\n")
    for i in range(6):
        write(tmp_path, f"dist/middleware/other{i}.js", f"/** Middleware number {i} of the stack. */\n"
                                                        f"export const other{i} = (c, next) => next();\n")
    build_index(tmp_path, tmp_path / ".codesearch", FakeEmbedder())
    with Searcher(tmp_path / ".codesearch", FakeEmbedder()) as searcher:
        firsts = [searcher.search("CORS middleware preflight allowed origins", k)[0] for k in (1, 3, 10)]
    assert len({(r.path, r.start_line, r.similar) for r in firsts}) == 1  # the same first result for every k
    shown = firsts[0]
    builds = {"dist/middleware/cors.js:1", "dist/cjs/middleware/cors.js:2"}
    assert f"{shown.path}:{shown.start_line}" in builds and shown.qualname == "cors"
    assert shown.similar[0] == "dist/types/middleware/cors.d.ts:4"  # the declaration first among the copies
    # the other build: its function is the same code, so it is listed as identical to the code shown
    assert set(shown.similar[1:] + shown.duplicates) == builds - {f"{shown.path}:{shown.start_line}"}


def test_a_python_stub_folds_into_its_module(tmp_path: Path) -> None:
    """matplotlib ships `transforms.pyi` beside `transforms.py`: `Bbox` was two results, the stub's first
    or second. A stub (``.pyi``) is a declaration file as a `.d.ts` is (x0.7) and its module's build twin:
    the module's code is shown, the stub listed."""
    write(tmp_path, "mpl/transforms.py", 'class Bbox:\n    """A mutable bounding box."""\n\n'
                                         "    def __init__(self, points):\n        self._points = points\n")
    write(tmp_path, "mpl/transforms.pyi", "class Bbox:\n    def __init__(self, points: ArrayLike) -> None: ...\n")
    build_index(tmp_path, tmp_path / ".codesearch", FakeEmbedder())
    with Searcher(tmp_path / ".codesearch", FakeEmbedder()) as searcher:
        hits = [r for r in searcher.search("Bbox", 10) if r.qualname == "Bbox"]
    assert [(r.path, r.similar) for r in hits] == [("mpl/transforms.py", ("mpl/transforms.pyi:1",))]
    assert ranking.stub_factor("mpl/transforms.pyi") == ranking.DECLARATION_FACTOR


def test_build_twins_fold_across_indexes_searched_as_one(tmp_path: Path) -> None:
    """Several indexes searched as one (``MultiSearcher``) fold build twins too, code between definitions
    included (its vector read from the shard's shortlist), and never across two repositories."""
    from codesearch.multi import MultiSearcher

    roots = [tmp_path / "one" / "pkg", tmp_path / "two" / "pkg"]
    for n, root in enumerate(roots):
        mark = f"\n// copy {n}\n"  # the two repositories' files differ, so none is identical code
        write(root, "esm/index.js", "export const VERSION = '1.0';\nexport const ROUTES = routesFrom(VERSION);" + mark)
        write(root, "cjs/index.js", "export const VERSION = '1.0';\nexport const ROUTES = routesFrom(VERSION);"
                                    + mark + "// built\n")
        body = f"return /* copy {n} */ routes"
        write(root, "dist/router/match.js", ESM_ROUTER.replace("return routes", body))
        write(root, "dist/cjs/router/match.js", CJS_ROUTER.replace("return routes", body))
        build_index(root, root / ".codesearch", FakeEmbedder())
    with MultiSearcher([r / ".codesearch" for r in roots], FakeEmbedder()) as multi:
        functions = multi.search("match a request path against the routes", 10)
        code = multi.search("routes from version", 10)
    for results in (functions, code):
        assert all(len({p.split("/")[0] for p in (r.path, *r.similar)}) == 1 for r in results)
    matches = {r.path: r.similar for r in functions if r.qualname == "matchRoute"}  # one per repository
    assert {p: [s.rsplit(":", 1)[0] for s in similar] for p, similar in matches.items()} == {
        "one/pkg/dist/router/match.js": ["one/pkg/dist/cjs/router/match.js"],
        "two/pkg/dist/router/match.js": ["two/pkg/dist/cjs/router/match.js"]}
    openings = {r.path: r.similar for r in code if r.path.endswith("esm/index.js")}
    assert openings == {"one/pkg/esm/index.js": ("one/pkg/cjs/index.js:1",),
                        "two/pkg/esm/index.js": ("two/pkg/cjs/index.js:1",)}
