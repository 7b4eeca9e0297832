"""Query analysis pinned: what ``codesearch.query.analyse`` and the lexical term functions make of a query.

These tests protect today's behaviour before the search pipeline is refactored into one
retrieval path: the kind of a query, the identifiers it names, its words, stems and
compounds, the stopwords dropped, the lexical terms, and what ``Searcher.parse`` /
``validate_query`` say about empty, long and odd queries. A change here changes every
ranking, so each test asserts exact outputs.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from codesearch.errors import BadQuery
from codesearch.query import IDENTIFIER, NATURAL, PATH, STOPWORDS, analyse, stem, words_of
from codesearch.search import MAX_K, Searcher, validate_query
from codesearch.terms import chunk_terms, query_terms, term_ids, terms
from tests.conftest import FakeEmbedder, write


def _summary(text: str) -> tuple[str, tuple[str, ...], tuple[str, ...], list[str], tuple[str, ...]]:
    info = analyse(text)
    return info.kind, info.identifiers, info.words, sorted(info.stems), info.compounds


# (query, kind, identifiers, words, sorted stems, compounds)
CASES = [
    # Identifiers: CamelCase, acronyms, snake_case, qualified names, PHP variables.
    ("HTTPAdapter", IDENTIFIER, ("HTTPAdapter",), ("http", "adapter"), ["adapte", "http"], ("httpadapter",)),
    ("parseJSON", IDENTIFIER, ("parseJSON",), ("parse", "json"), ["json", "parse"], ("parsejson",)),
    ("parse_config", IDENTIFIER, ("parse_config",), ("parse", "config"), ["config", "parse"], ("parseconfig",)),
    ("CONSTANT_NAME", IDENTIFIER, ("CONSTANT_NAME",), ("constant", "name"), ["consta", "name"], ("constantname",)),
    ("Sinatra::Base", IDENTIFIER, ("Sinatra::Base", "Base"), ("sinatra", "base"), ["base", "sinatr"], ()),
    ("a.b.c", IDENTIFIER, ("a.b.c", "c"), ("a", "b", "c"), ["a", "b", "c"], ()),
    ("obj->method", IDENTIFIER, ("obj->method", "method"), ("obj", "method"), ["method", "obj"], ()),
    ("App\\Support\\Str", IDENTIFIER, ("App\\Support\\Str", "Str"), ("app", "support", "str"),
     ["app", "str", "suppor"], ()),
    ("$var", IDENTIFIER, ("$var",), ("var",), ["var"], ()),
    ("Base", IDENTIFIER, ("Base",), ("base",), ["base"], ()),
    ("  HTTPAdapter  ", IDENTIFIER, ("HTTPAdapter",), ("http", "adapter"), ["adapte", "http"], ("httpadapter",)),
    # One lowercase word: natural, but it may name a symbol in any case.
    ("session", NATURAL, ("session",), ("session",), ["sessio"], ()),
    ("x", NATURAL, ("x",), ("x",), ["x"], ()),
    # Not identifiers as a whole query: dunder and leading-underscore names, an all-caps word.
    ("__init__", NATURAL, ("__init__",), ("init",), ["init"], ()),
    ("_private", NATURAL, ("_private",), ("private",), ["privat"], ()),
    ("URL", NATURAL, ("URL",), ("url",), ["url"], ()),
    # Paths: a slash, or a file name with a source extension (its dotted name counts as an identifier).
    ("middleware/compress.go", PATH, ("compress.go", "go"), ("middleware", "compress", "go"),
     ["compre", "go", "middle"], ()),
    ("compress.go", PATH, ("compress.go", "go"), ("compress", "go"), ["compre", "go"], ()),
    # Plain English: stopwords dropped, a capitalised word after the first names a class.
    ("how are routes registered", NATURAL, (), ("routes", "registered"), ["regist", "route"], ()),
    ("how does Flask select an error handler", NATURAL, ("Flask",), ("flask", "select", "error", "handler"),
     ["error", "flask", "handle", "select"], ()),
    ("Flask select", NATURAL, (), ("flask", "select"), ["flask", "select"], ()),
    ("set_cookie and HTTPAdapter", NATURAL, ("set_cookie", "HTTPAdapter"), ("set", "cookie", "http", "adapter"),
     ["adapte", "cookie", "http", "set"], ("setcookie", "httpadapter")),
    ("routes.py handler", NATURAL, ("routes.py", "py"), ("routes", "py", "handler"), ["handle", "py", "route"], ()),
    # "get" is a stopword, so it leaves the words of get_user (the compound keeps it).
    ("get_user(id)", NATURAL, ("get_user",), ("user", "id"), ["id", "user"], ("getuser",)),
    # Only stopwords: they are kept rather than leaving no words; one-letter words likewise.
    ("the", NATURAL, ("the",), ("the",), ["the"], ()),
    ("a I", NATURAL, (), ("a", "i"), ["a", "i"], ()),
    # Non-ASCII letters are not word characters: they split words (and CJK is dropped).
    ("héllo wörld", NATURAL, (), ("llo", "rld"), ["llo", "rld"], ()),
    ("日本語 query", NATURAL, (), ("query",), ["query"], ()),
]


@pytest.mark.parametrize(("text", "kind", "identifiers", "words", "stems", "compounds"), CASES,
                         ids=[c[0] for c in CASES])
def test_analyse(text: str, kind: str, identifiers: tuple[str, ...], words: tuple[str, ...], stems: list[str],
                 compounds: tuple[str, ...]) -> None:
    """Kind, identifiers (with the last part of qualified names), words, stems and compounds of a query."""
    assert _summary(text) == (kind, identifiers, words, stems, compounds)


def test_analyse_keeps_the_stripped_text_and_orders_words_once() -> None:
    """``text`` is the stripped query; words keep their first-seen order and appear once."""
    info = analyse("  parse the Parser, then parse again  ")
    assert info.text == "parse the Parser, then parse again"
    assert info.words == ("parse", "parser", "again")
    assert info.identifiers == ("Parser",)
    assert info.stems == frozenset({"parse", "parser", "again"})


@pytest.mark.parametrize(("text", "tests", "examples"), [
    ("write tests for parser", True, False),
    ("mock the session", True, False),
    ("pytest fixtures for db", True, False),
    ("example of routing", False, True),
    ("demo app", False, True),
    ("routing table", False, False),
    ("testing", True, False),
    ("contest examples", False, True),  # whole words only: "contest" is not "test"
])
def test_wants_tests_and_examples(text: str, tests: bool, examples: bool) -> None:
    """Queries that ask for tests or examples switch off their demotion (whole words only)."""
    info = analyse(text)
    assert (info.wants_tests, info.wants_examples) == (tests, examples)


def test_stopwords_are_dropped_from_words() -> None:
    """Every stopword leaves the words of a query that has other words."""
    info = analyse("how do we use the cache when it is stale")
    assert info.words == ("cache", "stale")
    assert STOPWORDS == frozenset(
        "a an and are as at be by can do does for from get gets given how i if in into is it its me my of on or "
        "our should so that the their then there these this to use used uses using was we what when where which "
        "while who why will with you your".split())


@pytest.mark.parametrize(("word", "expected"), [
    ("registered", "regist"), ("registration", "regist"), ("register", "regist"),
    ("sessions", "sessio"), ("session", "sessio"),
    ("classes", "class"), ("class", "class"), ("libraries", "librar"), ("addresses", "addres"),
    ("running", "runn"), ("string", "string"), ("shed", "shed"), ("used", "used"),
    ("is", "is"), ("bus", "bus"), ("boxes", "boxe"), ("routes", "route"), ("Parsing", "pars"),
])
def test_stem(word: str, expected: str) -> None:
    """The light stem: one ending dropped (not from short words, nor ``-ing``/``-ed`` after no vowel), cut to 6."""
    assert stem(word) == expected


def test_words_of_splits_identifiers() -> None:
    """Lowercase words with camelCase, acronyms and snake_case split; punctuation separates."""
    assert words_of("parseJsonString(HTTPServer, max_retry_count)") == [
        "parse", "json", "string", "http", "server", "max", "retry", "count"]
    assert words_of("v2Parser") == ["v2", "parser"]


@pytest.mark.parametrize(("query", "terms_"), [
    ("how does parseJsonString work", ["parse", "json", "string", "parsejsonstring", "work"]),
    ("HTTPAdapter send", ["http", "adapte", "httpadapter", "send"]),
    ("set_cookie(name)", ["set", "cookie", "setcookie", "name"]),
    ("$user_id", ["user", "id", "userid"]),
    ("MAX_SIZE", ["max", "size", "maxsize"]),
    ("Sinatra::Base", ["sinatr", "base"]),
    ("__init__ self", ["init", "self"]),
    ("get_user", ["user", "getuser"]),
    ("x y zz", ["zz"]),
    ("the a of", []),
    ("Parser parser PARSER", ["parser", "parser", "parser"]),
])
def test_lexical_terms(query: str, terms_: list[str]) -> None:
    """``lexical.terms``: a stemmed multiset plus whole compounds."""
    assert terms(query) == terms_


def test_query_terms_are_crc32_of_stems_and_compounds() -> None:
    """A query's term ids: CRC-32 of each distinct stem of its words, then of its compounds."""
    info = analyse("how are set_cookie routes registered")
    assert info.words == ("set", "cookie", "routes", "registered") and info.compounds == ("setcookie",)
    expected = [zlib.crc32(t.encode()) for t in ("set", "cookie", "route", "regist", "setcookie")]
    got = query_terms(info.words, info.compounds)
    assert got.dtype == np.uint32 and got.tolist() == expected
    assert term_ids(["a", "a"]).tolist() == [zlib.crc32(b"a")] * 2
    assert query_terms(["sessions", "session"]).tolist() == [zlib.crc32(b"sessio")]  # distinct after stemming


def test_chunk_terms_weight_the_name_field() -> None:
    """A chunk's terms are weighted by field: name 3, signature 1.5, doc 1, code 1."""
    ids, weights, length = chunk_terms("parse_config", "def parse_config(path)", "Parse a config.", "return path")
    got = dict(zip(np.frombuffer(ids, dtype=np.uint32).tolist(), np.frombuffer(weights, dtype=np.float16).tolist()))
    crc = {t: zlib.crc32(t.encode()) for t in ("parse", "config", "parseconfig", "def", "path", "return")}
    assert got == {crc["parse"]: 5.5, crc["config"]: 5.5, crc["parseconfig"]: 4.5, crc["def"]: 1.5,
                   crc["path"]: 2.5, crc["return"]: 1.0}
    assert length == 20.5


# --- validation and Searcher.parse -------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "\u3000"])
def test_empty_queries_are_bad(query: str) -> None:
    """Empty or whitespace-only (any Unicode whitespace) queries are BadQuery naming an example."""
    with pytest.raises(BadQuery, match="the query is empty"):
        validate_query(query)


def test_validate_query_strips_and_bounds_k() -> None:
    """The query comes back stripped; k must be 1..MAX_K."""
    assert validate_query("  retry  \n", 5) == "retry"
    assert validate_query("x", MAX_K) == "x" and MAX_K == 1000
    for k in (0, -1, MAX_K + 1):
        with pytest.raises(BadQuery, match=f"k must be between 1 and {MAX_K}, got {k}"):
            validate_query("retry", k)


def test_long_queries() -> None:
    """Up to MAX_QUERY_CHARS (counted after stripping) a query is accepted and analysed; longer is BadQuery."""
    from codesearch.query import MAX_QUERY_CHARS  # the cap is new in this round (imported here, not for the file)

    assert MAX_QUERY_CHARS == 2000
    longest = "word " * 399 + "lasts"  # 2000 characters
    assert validate_query("  " + longest + "  ") == longest
    assert analyse(longest).words == ("word", "lasts") and analyse(longest).kind == NATURAL
    with pytest.raises(BadQuery, match="query too long \\(2,001 characters; the limit is 2,000\\)"):
        validate_query(longest + "s")
    assert analyse("A" * 5000).kind == NATURAL  # analysis itself takes any length (linear patterns)


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    from codesearch.pipeline import build_index

    root = tmp_path_factory.mktemp("parse-repo")
    write(root, "a.py", "def retry_request(url):\n    return url\n")
    report = build_index(root, embedder=FakeEmbedder(), workers=1)
    with Searcher(Path(report.index_dir), embedder=FakeEmbedder()) as s:
        yield s


def test_parse(searcher: Searcher) -> None:
    """``Searcher.parse``: the stripped text, its analysis, the query's vector and its term ids."""
    parsed = searcher.parse("  how to Retry a Request  ", 3)
    assert parsed.text == "how to Retry a Request"
    assert parsed.info == analyse("how to Retry a Request")
    assert parsed.info.identifiers == ("Retry", "Request") and parsed.info.words == ("retry", "request")
    assert parsed.vector.shape == (1, FakeEmbedder.dim)
    assert np.array_equal(parsed.vector, FakeEmbedder().encode_queries(["how to Retry a Request"]))
    assert parsed.terms.tolist() == [zlib.crc32(b"retry"), zlib.crc32(b"reques")]


def test_parse_errors(searcher: Searcher) -> None:
    """parse refuses empty queries, bad k, and queries with no word the model or the lexical index knows."""
    with pytest.raises(BadQuery, match="the query is empty"):
        searcher.parse("  ")
    with pytest.raises(BadQuery, match="k must be between"):
        searcher.parse("retry", 0)
    with pytest.raises(BadQuery, match="no words the model knows"):
        searcher.parse("日本語")  # no vector (the fake model reads [a-z]) and no lexical term
    assert searcher.parse("42").terms.tolist() == [zlib.crc32(b"42")]  # a lexical term is enough


def test_a_hyphenated_word_is_also_the_word_its_parts_make() -> None:
    """Code writes "re-raised", "read-only", "built-in" as one word (`reraise`, `readonly`, `builtin`): tenacity's
    `RetryError.reraise` was not in the first 60 for "how is the original exception re-raised"."""
    assert analyse("how is the original exception re-raised when all retries fail").words[-1] == "reraised"
    assert stem("reraise") in analyse("how is the original exception re-raised").stems  # the method's own term
    assert {"readonly", "builtin"} <= set(analyse("read-only index of built-in types").words)
    assert "offline" in analyse("--offline flag").words and "offlineflag" not in analyse("--offline flag").words
