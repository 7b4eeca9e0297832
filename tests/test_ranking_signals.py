"""The ranking pinned before the search pipeline is refactored into one retrieval path.

One test per signal of ``codesearch.ranking`` on a tiny handmade pool (direction and exact
weights), the order the signals apply in, diversity, the rerank blend, the fusion of the
first-stage rankings (``codesearch.fusion`` / ``search.fuse``: weights, ties, missing
entries), one library search whose scores are recomputed independently, and the CLI's
``--per-file``, ``--min-score`` and ``-k`` end to end on a tiny repository.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from click.testing import CliRunner

from codesearch import ranking, search
from codesearch.cli import cli
from codesearch.fusion import score_fusion
from codesearch.query import analyse
from codesearch.ranking import Candidate, Signals, defines, diversified, is_noise, path_matches_name, path_share, rank
from indexer.languages import is_test_definition
from tests.conftest import FakeEmbedder, write


def cand(i: int, path: str, fused: float, name: str = "", qualname: str | None = None, kind: str = "function",
         language: str = "python") -> Candidate:
    """A pool candidate with the row fields the signals read."""
    row = {"path": path, "name": name, "qualname": name if qualname is None else qualname, "kind": kind,
           "language": language}
    return Candidate(i, row, fused)


def only(signal: str) -> Signals:
    """Just one signal on."""
    return replace(Signals.none(), **{signal: True})


def ranked(query: str, pool: list[Candidate], signals: Signals) -> list[tuple[int, float]]:
    return [(c.id, round(c.score, 6)) for c in rank(analyse(query), pool, signals)]


# --- constants and switches --------------------------------------------------------------------


def test_weights_and_switches() -> None:
    """The weights the signals use, and the switches the benchmark flips."""
    assert (ranking.DEFINITION_WEIGHT, ranking.EMBEDDED_DEFINITION_WEIGHT, ranking.PATH_WEIGHT,
            ranking.NOISE_FACTOR, ranking.CODE_FACTOR, ranking.RERANK_WEIGHT) == (1.0, 0.5, 0.3, 0.3, 0.7, 0.5)
    assert [f for f in Signals.__dataclass_fields__] == ["definition", "path", "noise", "kind", "stubs", "word",
                                                        "uses", "file_path", "file_named", "coherence", "saturation",
                                                        "overloads", "similar", "twins", "file_topic", "declared",
                                                        "opening", "exports", "phrase"]
    assert Signals() == Signals(*[True] * 19)
    assert Signals.none() == Signals(*[False] * 19)
    assert Signals.without("path") == Signals(definition=True, path=False, noise=True, kind=True, stubs=True,
                                              word=True, file_path=True, coherence=True, saturation=True)
    with pytest.raises(ValueError, match="unknown ranking signal 'bogus'"):
        Signals.without("bogus")


def test_search_constants() -> None:
    """Depths, lexical weights by kind of query and the default per-file limit of the first stage."""
    assert (search.CANDIDATES, search.DEFINITIONS, search.PER_FILE, search.RERANK_CANDIDATES) == (60, 50, 0, 20)
    assert search.LEXICAL_WEIGHTS == {"natural": 0.8, "identifier": 1.0, "path": 1.0}
    assert search.DEFAULT_HYBRID is True and search.DEFAULT_RERANK is False
    # Each first-stage ranking: k + 10, at least CANDIDATES, and rerank candidates + 10 when reranking.
    depths = [search.first_stage_depth(k, r) for k, r in [(10, 0), (55, 0), (10, 20), (10, 100), (100, 50)]]
    assert depths == [60, 65, 60, 110, 110]
    assert search.first_stage_depth(10, 0, pool_depth=50) == 50


# --- the fused score, normalised ---------------------------------------------------------------


def test_fused_scores_are_normalised_and_ties_go_by_id() -> None:
    """With no signal, the score is the fused score over the pool's best; ties are broken by chunk id."""
    pool = [cand(3, "c.py", 1.0), cand(1, "a.py", 2.0), cand(2, "b.py", 1.0), cand(0, "d.py", 0.5)]
    assert ranked("zebra crossing", pool, Signals.none()) == [(1, 1.0), (2, 0.5), (3, 0.5), (0, 0.25)]
    zeros = [cand(2, "b.py", 0.0), cand(1, "a.py", 0.0)]
    assert ranked("zebra", zeros, Signals.none()) == [(1, 0.0), (2, 0.0)]  # a best of 0 divides by 1
    assert rank(analyse("zebra"), [], Signals()) == []


# --- definition --------------------------------------------------------------------------------


def test_definition_signal_for_an_identifier_query() -> None:
    """The whole query names the symbol: +1.0, x1.5 when the file is named after it; exact case; never `code`."""
    pool = [
        cand(1, "lib/adapters.py", 0.2, "HTTPAdapter", kind="class"),  # file named after it: +1.5
        cand(2, "lib/models.py", 0.2, "HTTPAdapter", "requests.HTTPAdapter", kind="class"),  # +1.0
        cand(3, "lib/other.py", 1.0, "Other"),
        cand(4, "lib/code.py", 0.5, "HTTPAdapter", kind="code"),  # code between definitions defines nothing
        cand(5, "x.py", 0.1, "httpadapter"),  # another case
    ]
    assert ranked("HTTPAdapter", pool, only("definition")) == [(1, 1.7), (2, 1.2), (3, 1.0), (4, 0.5), (5, 0.1)]
    assert pool[0].scores == {"definition": 1.5} and pool[1].scores == {"definition": 1.0}


def test_definition_signal_inside_a_longer_query() -> None:
    """A name inside a sentence: +0.5 (x1.5 when the file is named after it)."""
    pool = [cand(1, "lib/adapters.py", 0.2, "HTTPAdapter", kind="class"),
            cand(2, "lib/models.py", 0.2, "HTTPAdapter", kind="class"),
            cand(3, "lib/other.py", 1.0, "Other")]
    assert ranked("how does HTTPAdapter send", pool, only("definition")) == [(3, 1.0), (1, 0.95), (2, 0.7)]


def test_defines() -> None:
    """Which rows define a name of the query: exact names, qualname suffixes, any case for one lowercase word."""
    row = {"name": "Session", "qualname": "app.Session", "kind": "class"}
    assert defines(row, analyse("session"))  # the lone lowercase word matches any case
    assert not defines(row, analyse("how is a session stored"))  # several words: no loose match
    assert defines(row, analyse("Session"))
    assert not defines({**row, "name": "session", "qualname": "session"}, analyse("Session"))  # exact for code
    assert defines({"name": "send", "qualname": "HTTPAdapter.send", "kind": "method"}, analyse("HTTPAdapter.send"))
    assert defines({"name": "x", "qualname": "pkg.HTTPAdapter", "kind": "class"}, analyse("HTTPAdapter"))
    # The last part of a qualified name is an identifier of its own, so the qualifier does not have to match.
    assert defines({"name": "Base", "qualname": "Rack.Base", "kind": "class"}, analyse("Sinatra::Base"))
    for kind in (None, "", "code"):
        assert not defines({"name": "Session", "qualname": "Session", "kind": kind}, analyse("Session"))
    # Ruby writes the scope with `::`, in the qualified name and (in an index of before PARSER_VERSION 8) the name.
    assert defines({"name": "Indirector", "qualname": "Puppet::Indirector", "kind": "module"}, analyse("Indirector"))
    assert defines({"name": "Puppet::Indirector", "qualname": "Puppet::Indirector", "kind": "module"},
                   analyse("Indirector"))
    assert defines({"name": "Settings", "qualname": "Puppet::Settings", "kind": "class"}, analyse("Puppet::Settings"))
    assert not defines({"name": "Indirection", "qualname": "Puppet::Indirector.Indirection", "kind": "class"},
                       analyse("Indirector"))


def test_a_namespace_reopened_in_many_files_names_none_of_them() -> None:
    """`module Sinatra` opens every file of sinatra: defined in three or more files of the pool, none called after
    it, each gets the definition weight divided by their number; a class of one name in many files (plugins) and a
    module in two files keep it."""
    spread = [cand(i, f"lib/sinatra/{name}.rb", 0.5, "Sinatra", kind="module")
              for i, name in enumerate(["base", "main", "version"], 1)]
    pool = [*spread, cand(4, "lib/sinatra/base.rb", 0.6, "route", "Sinatra.Base.route", kind="method")]
    rank(analyse("core Sinatra DSL and routing"), pool, only("definition"))
    assert [round(c.scores["definition"], 3) for c in spread] == [0.25] * 3  # 0.5 x 1.5 (directory named) / 3
    two = [cand(i, f"lib/sinatra/{name}.rb", 0.5, "Sinatra", kind="module") for i, name in enumerate(["a", "b"], 1)]
    rank(analyse("core Sinatra DSL"), two, only("definition"))
    assert [c.scores["definition"] for c in two] == [0.75, 0.75]
    plugins = [cand(i, f"plugins/{name}.py", 0.5, "ActionModule", kind="class") for i, name in enumerate("abc", 1)]
    rank(analyse("ActionModule"), plugins, only("definition"))
    assert [c.scores["definition"] for c in plugins] == [1.0] * 3


def test_path_matches_name() -> None:
    """The file (or its directory) is named after the last part of an identifier, compared by stems."""
    assert path_matches_name("lib/adapters.py", analyse("HTTPAdapter"))
    assert path_matches_name("sessions/core.py", analyse("Session"))
    assert path_matches_name("app/base.rb", analyse("Sinatra::Base"))
    assert not path_matches_name("lib/models.py", analyse("HTTPAdapter"))


# --- path --------------------------------------------------------------------------------------


def test_path_signal() -> None:
    """+0.3 times the share of the query's stems in the file's name or its directory's name."""
    pool = [cand(1, "app/sessions.py", 0.5),  # sessio: 1 of 2
            cand(2, "session_manager/core.py", 0.5),  # sessio and manage: 2 of 2
            cand(3, "lib/other.py", 0.6),
            cand(4, "session/lib/core.py", 0.5)]  # only the file's name and its own directory count
    assert ranked("session management", pool, only("path")) == [(2, 1.133333), (3, 1.0), (1, 0.983333), (4, 0.833333)]
    shares = {c.id: c.scores.get("path") for c in pool}
    assert shares == {1: pytest.approx(0.15), 2: pytest.approx(0.3), 3: None, 4: None}


def test_path_share() -> None:
    """Stems match exactly or as prefixes of 4+ characters, either way round."""
    assert path_share("app/sessions.py", analyse("session management")) == 0.5
    assert path_share("auth/authentication.py", analyse("auth")) == 1.0
    assert path_share("lib/sess.py", analyse("session")) == 1.0  # the path's stem is a prefix of the query's
    assert path_share("lib/au.py", analyse("auth")) == 0.0  # prefixes shorter than 4 do not count
    assert path_share("lib/other.py", analyse("session")) == 0.0
    assert path_share("Makefile", analyse("make file")) == 0.5  # one word, "makefi": "make" is its prefix, "file" not


# --- noise -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "language", "noise"), [
    ("tests/test_app.py", "python", True), ("app/test_app.py", "python", True), ("app/app_test.py", "python", True),
    ("spec/app_spec.rb", "ruby", True), ("examples/demo.py", "python", True), ("src/samples/a.py", "python", True),
    ("example/app.py", "python", True), ("src/example/app.py", "python", False),
    ("com/example/App.java", "java", False), ("src/compat/x.py", "python", True), ("legacy/x.py", "python", True),
    ("docs_src/x.py", "python", True), ("api_pb2.py", "python", True), ("x.pb.go", "go", True),
    ("gen/types.gen.ts", "typescript", True), ("app/core.py", "python", False), ("app/testing.py", "python", False),
    ("Test/Mono.Cecil.Tests/WindowsRuntimeAssemblyResolver.cs", "csharp", True),
    ("src/Dapper.Tests/Helpers.cs", "csharp", True), ("src/App.UnitTests/Fakes.cs", "csharp", True),
    ("Tests/SnapKitTests/Helpers.swift", "swift", True), ("lib/src/commonTest/kotlin/Fakes.kt", "kotlin", True),
    ("src/androidTest/java/Helper.java", "java", True), ("Mono.Cecil/TestHelper.cs", "csharp", False),
    ("src/Testing/Runner.swift", "swift", False), ("src/Contest/Entry.cs", "csharp", False),
    ("releasenotes/notes/fix-exponential-max-526.yaml", "text", True), ("changelogs/fragments/x.yml", "text", True),
    ("docs/release-notes/1.2.yaml", "text", True), ("newsfragments/12.feature.yaml", "text", True),
    ("changelog.d/20240101_fix.yml", "text", True), ("src/changes/apply.py", "python", False),
    ("benches/parse.rs", "rust", True), ("bench/capturing.rb", "ruby", True),
    ("sympy/core/benchmarks/bench_basic.py", "python", True), ("src/benchmarking.py", "python", False),
    # a review on etcd and maplibre: grpc-gateway's and generated TypeScript's names were hand-written code
    ("api/etcdserverpb/gw/rpc.pb.gw.go", "go", True), ("src/data/array_types.g.ts", "typescript", True),
    ("Generated/Parser.g.cs", "csharp", True), ("lib/models.g.dart", "text", True), ("src/config.ts", "typescript", False),
])
def test_is_noise(path: str, language: str, noise: bool) -> None:
    """Tests, examples, compatibility shims, generated files, release notes and benchmarks, by path."""
    assert is_noise(path, language) is noise


def test_noise_signal() -> None:
    """Noise is scaled by 0.3 unless the query asks for tests or examples."""
    def pool() -> list[Candidate]:
        return [cand(1, "tests/test_store.py", 1.0), cand(2, "examples/store.py", 0.9), cand(3, "app/store.py", 0.5)]

    assert ranked("session store", pool(), only("noise")) == [(3, 0.5), (1, 0.3), (2, 0.27)]
    assert ranked("tests for session store", pool(), only("noise")) == [(1, 1.0), (2, 0.9), (3, 0.5)]
    assert ranked("example session store", pool(), only("noise")) == [(1, 1.0), (2, 0.9), (3, 0.5)]
    assert ranked("benchmark the session store", pool(), only("noise")) == [(1, 1.0), (2, 0.9), (3, 0.5)]
    scored = {c.id: c.scores for c in rank(analyse("session store"), pool(), only("noise"))}
    assert scored == {1: {"noise": 0.3}, 2: {"noise": 0.3}, 3: {}}


def test_noise_spares_the_definition_an_identifier_query_names() -> None:
    """A test file that defines the very symbol the query is keeps its score; in a sentence it is scaled."""
    def pool() -> list[Candidate]:
        return [cand(1, "tests/helpers.py", 0.5, "SessionStore", kind="class"), cand(2, "app/db.py", 1.0, "Db")]

    assert ranked("SessionStore", pool(), Signals(path=False, kind=False)) == [(1, 1.5), (2, 1.0)]
    assert ranked("where is SessionStore", pool(), Signals(path=False, kind=False, coherence=False)) == [(2, 1.0), (1, 0.3)]


@pytest.mark.parametrize(("language", "kind", "qualname", "signature", "test"), [
    ("rust", "function", "tests.pool_max_idle", "fn pool_max_idle()", True),  # `#[cfg(test)] mod tests`
    ("rust", "method", "client.tests.Fake.send", "fn send(&self)", True),  # nested inside it
    ("rust", "module", "tests", "mod tests", True),  # the module itself
    ("rust", "function", "pool.checkout", "fn checkout()", False),
    ("rust", "method", "Runner.test", "fn test(&self)", False),  # a method called `test` is not a test
    ("rust", "function", "tests", "fn tests()", False),
    ("zig", "function", "parseParams", 'test "parseParams"', True),  # a test block
    ("zig", "function", "parse", "pub fn parse(args: []const u8) !void", False),
    ("zig", "function", "testing", "fn testing() void", False),
    ("python", "function", "tests.helper", "def helper()", False),  # Python's tests are found by path
])
def test_is_test_definition(language: str, kind: str, qualname: str, signature: str, test: bool) -> None:
    """Tests kept inside a source file, by the language's registry row."""
    assert is_test_definition(language, kind, qualname, signature) is test


def test_noise_signal_scales_tests_inside_a_source_file() -> None:
    """A Rust test in `mod tests` of the very file that holds the code is scaled as a test file is."""
    pool = [cand(1, "src/pool.rs", 1.0, "pool_max_idle", "tests.pool_max_idle", language="rust"),
            cand(2, "src/pool.rs", 0.6, "checkout", "Pool.checkout", kind="method", language="rust")]
    assert ranked("idle connections in the pool", pool, only("noise")) == [(2, 0.6), (1, 0.3)]
    assert ranked("tests for idle connections", pool, only("noise")) == [(1, 1.0), (2, 0.6)]


def test_declared_signal_puts_a_prototypes_one_definition_first() -> None:
    """A documented C prototype (a header's) above its one definition in a `.c` file: the definition takes
    its score and the prototype follows; with one definition per platform neither moves."""
    def c_chunk(i: int, path: str, fused: float, code: str, qualname: str = "uv__idna_toascii") -> Candidate:
        c = cand(i, path, fused, qualname, language="c")
        c.row["code"] = code
        return c

    def pool() -> list[Candidate]:
        return [c_chunk(1, "src/idna.h", 1.0, "ssize_t uv__idna_toascii(const char* s);"),
                c_chunk(2, "src/idna.c", 0.6, "ssize_t uv__idna_toascii(const char* s) {\n  return 0;\n}"),
                c_chunk(3, "src/other.c", 0.8, "int other(void) { return 1; }", "other")]

    assert ranked("domain name encoding", pool(), only("declared")) == [(2, 1.0), (1, 0.99), (3, 0.8)]
    assert ranked("domain name encoding", pool(), Signals.none()) == [(1, 1.0), (3, 0.8), (2, 0.6)]
    assert {c.id: c.scores for c in rank(analyse("domain name encoding"), pool(), only("declared"))} == {
        1: {"declaration": 0.99}, 2: {"declared": pytest.approx(0.4)}, 3: {}}
    platforms = [*pool(), c_chunk(4, "src/win/idna.c", 0.5, "ssize_t uv__idna_toascii(const char* s) { }")]
    assert ranked("domain name encoding", platforms, only("declared")) == [(1, 1.0), (3, 0.8), (2, 0.6), (4, 0.5)]
    python = [cand(5, "a.py", 1.0, "f"), cand(6, "b.py", 0.5, "f")]  # a language without prototypes
    python[0].row["code"] = "def f(): ..."
    python[1].row["code"] = "def f():\n    return 1"
    assert ranked("f", python, only("declared")) == [(5, 1.0), (6, 0.5)]


def test_exports_signal_puts_the_definition_a_one_line_export_names_first() -> None:
    """got's `exports.default = calculateRetryDelay;` (a one-line code chunk, whose vector is its names') above the
    function it exports, in its file: the function takes its score and the line follows; a line that names two of
    its file's definitions, a longer chunk, or a definition in another file move nothing."""
    def chunk(i: int, path: str, fused: float, code: str, name: str = "", kind: str = "code") -> Candidate:
        c = cand(i, path, fused, name, kind=kind, language="javascript")
        c.row.update(code=code, start_line=i * 10, end_line=i * 10 + code.count("\n"))
        return c

    def pool(line: str = "exports.default = calculateRetryDelay;") -> list[Candidate]:
        return [chunk(1, "core/calculate-retry-delay.js", 1.0, line),
                chunk(2, "core/calculate-retry-delay.js", 0.6, "const calculateRetryDelay = () => {\n  return 0;\n};",
                      "calculateRetryDelay", "function"),
                chunk(3, "core/other.js", 0.8, "function other() { return 1; }", "other", "function")]

    assert ranked("retry delay", pool(), only("exports")) == [(2, 1.0), (1, 0.99), (3, 0.8)]
    assert {c.id: c.scores for c in rank(analyse("retry delay"), pool(), only("exports"))} == {
        1: {"export": 0.99}, 2: {"exported": pytest.approx(0.4)}, 3: {}}
    assert ranked("retry delay", pool(), Signals.none()) == [(1, 1.0), (3, 0.8), (2, 0.6)]
    unmoved = [(1, 1.0), (3, 0.8), (2, 0.6)]
    assert ranked("retry delay", pool("exports.a = calculateRetryDelay; exports.b = other;"),
                  only("exports")) == [(2, 1.0), (1, 0.99), (3, 0.8)]  # `other` is in another file
    two = pool()
    two[2].row["path"] = two[2].path = two[2].file = "core/calculate-retry-delay.js"
    two[0].row["code"] = "module.exports = { calculateRetryDelay, other };"
    assert ranked("retry delay", two, only("exports")) == unmoved
    longer = pool("exports.default = calculateRetryDelay;\nexports.retry = true;")
    assert ranked("retry delay", longer, only("exports")) == unmoved


@pytest.mark.parametrize(("code", "name", "defined"), [
    ("DEFAULT_POOLBLOCK = False\nDEFAULT_POOLSIZE = 10\n", "DEFAULT_POOLSIZE", True),  # Python
    ("#define REDIS_VERSION \"7.0.15\"\n", "REDIS_VERSION", True),  # C
    ("# define  REDIS_VERSION 7\n", "REDIS_VERSION", True),
    ("public static final int MAX_RETRIES = 5;\n", "MAX_RETRIES", True),  # Java
    ("export const MAX_RETRIES = 5;\n", "MAX_RETRIES", True),  # JavaScript
    ("const (\n\tModeRead = iota\n\tModeWrite\n)\n", "ModeRead", True),  # Go
    ("Session s = new Session();\n", "Session", False),  # a type's use is no definition of it
    ("pub const MAX: u32 = 5;\n", "MAX", True),  # Rust
    ("g: _AppCtxGlobals = LocalProxy(_cv_app)\n", "g", True),  # an annotated assignment
    ("limit = DEFAULT_POOLSIZE\n", "DEFAULT_POOLSIZE", False),  # a use
    ("if MAX_RETRIES == 3:\n    pass\n", "MAX_RETRIES", False),  # a comparison
    ("self.MAX_RETRIES = 3\n", "MAX_RETRIES", False),  # an attribute
    ("call(MAX_RETRIES=3)\n", "MAX_RETRIES", False),  # a keyword argument
    ("MAX_RETRIES_TOTAL = 3\n", "MAX_RETRIES", False),  # a longer name
])
def test_assigns(code: str, name: str, defined: bool) -> None:
    """The code between definitions defines the constants and variables it assigns at a line's start."""
    assert ranking.assigns(code, (name,)) is defined


def test_definition_signal_finds_a_constant_in_the_code_between_definitions() -> None:
    """A query that is a constant's name lifts the code chunk that assigns it above a chunk that uses it."""
    def pool() -> list[Candidate]:
        use = cand(1, "requests/adapters.py", 1.0, "HTTPAdapter.__init__", kind="method")
        use.row["code"] = "def __init__(self, pool_connections=DEFAULT_POOLSIZE):\n    pass\n"
        assignment = cand(2, "requests/adapters.py", 0.8, "<adapters.py>", kind="code")
        assignment.row["code"] = "DEFAULT_POOLBLOCK = False\nDEFAULT_POOLSIZE = 10\n"
        return [use, assignment]

    assert ranked("DEFAULT_POOLSIZE", pool(), only("definition")) == [(2, 1.8), (1, 1.0)]
    assert ranked("DEFAULT_POOLBLOCK", pool(), only("definition")) == [(2, 1.8), (1, 1.0)]
    assert ranked("DEFAULT_RETRIES", pool(), only("definition")) == [(1, 1.0), (2, 0.8)]


# --- kind --------------------------------------------------------------------------------------


def test_kind_signal() -> None:
    """`code` chunks (between definitions) are scaled by 0.7; every other kind is left alone."""
    pool = [cand(1, "a.py", 1.0, kind="code"), cand(2, "b.py", 0.8, kind="method"), cand(3, "c.py", 0.6, kind="class"),
            cand(4, "d.py", 0.9, kind="code")]
    assert ranked("zebra", pool, only("kind")) == [(2, 0.8), (1, 0.7), (4, 0.63), (3, 0.6)]
    assert pool[1].scores == {"kind": 0.7}


def test_opening_signal_spares_a_documented_file_opening() -> None:
    """A file's opening (the code chunk at its first line) that holds a comment in words other than a licence
    is the file's description (spdlog's cfg/env.h, a Rust module's `//!` doc): it is not scaled as code. An
    opening with a licence and imports only, a documented code chunk further down, or the signal off: scaled."""
    env = ("// Copyright(c) 2015-present, Gabi Melman & spdlog contributors.\n// Distributed under the MIT License\n"
           "#pragma once\n#include <spdlog/cfg/helpers.h>\n\n//\n// Init levels and patterns from env variables\n"
           "// SPDLOG_LEVEL, as Rust's env_logger does\n//\nnamespace spdlog {\nnamespace cfg {\n")
    licence_only = ("/*\n * Copyright (c) 2020 Example.\n * Licensed under the Apache License, Version 2.0.\n */\n"
                    "package x\n")
    rust = ("//! Storage for span data shared by multiple Layers.\n//!\n//! Spans are registered once.\n"
            "use std::any::Any;\n")

    def code_chunk(i: int, path: str, fused: float, code: str, start_line: int = 1) -> Candidate:
        c = cand(i, path, fused, kind="code")
        c.row.update(code=code, start_line=start_line, content_hash=f"opening-{i}")
        return c

    def pool() -> list[Candidate]:
        return [code_chunk(1, "cfg/env.h", 1.0, env), code_chunk(2, "x/y.go", 1.0, licence_only),
                code_chunk(3, "registry/extensions.rs", 0.9, rust), code_chunk(4, "z.c", 0.95, env, start_line=40)]

    signals = replace(Signals.none(), kind=True, opening=True)
    assert ranked("set the level from an environment variable", pool(), signals) == [
        (1, 1.0), (3, 0.9), (2, 0.7), (4, 0.665)]
    assert ranked("set the level from an environment variable", pool(), only("kind")) == [
        (1, 0.7), (2, 0.7), (4, 0.665), (3, 0.63)]
    assert ranking.comment_words(licence_only) == 0 and ranking.comment_words(env) == 14
    assert ranking.comment_words(rust) == 12
    assert ranking.comment_words('"""Sessions.\n\nSigned cookies hold the session data.\n"""\nimport os\n') == 7
    assert ranking.comment_words("/*\n  The buffered reader.\n  Reads ahead.\n*/\n#include <stdio.h>\n") == 5
    assert ranking.comment_words("#include <stdio.h>\n#include <string.h>\n#define MAX 10\n") == 0


def test_a_docblock_that_describes_the_file_then_gives_its_licence_is_a_description() -> None:
    """PHP and Java files open with one docblock that describes the file, then gives its `@copyright` and
    `@license`: the whole block was taken for a licence, so the opening of PHP_CodeSniffer's
    UnusedFunctionParameterSniff.php ("Checks for unused function parameters") was scaled down as code and missed
    its question. Each paragraph is judged on its own now; a notice that the file is part of a package, with
    its authors, is still no description (monolog's header)."""
    sniff = ("<?php\n/**\n * Checks for unused function parameters.\n *\n"
             " * This sniff checks that all function parameters are used in the function body.\n *\n"
             " * @author    Manuel Pichler <mapi@manuel-pichler.de>\n"
             " * @copyright 2007-2014 Manuel Pichler. All rights reserved.\n"
             " * @license   https://github.com/squizlabs/PHP_CodeSniffer/blob/master/licence.txt BSD Licence\n */\n\n"
             "namespace PHP_CodeSniffer\\Standards\\Generic\\Sniffs\\CodeAnalysis;\n")
    monolog = ("<?php declare(strict_types=1);\n\n/*\n * This file is part of the Monolog package.\n *\n"
               " * (c) Jordi Boggiano <j.boggiano@seld.be>\n *\n"
               " * For the full copyright and license information, please view the LICENSE\n"
               " * file that was distributed with this source code.\n */\n\nnamespace Monolog\\Handler;\n")
    apache = ("/*\n * Licensed to the Apache Software Foundation (ASF) under one or more\n"
              " * contributor license agreements.  See the NOTICE file distributed with\n"
              " * this work for additional information regarding copyright ownership.\n */\npackage org.x;\n")
    assert ranking.comment_words(sniff) == 18
    assert ranking.comment_words(monolog) == 0 and ranking.comment_words(apache) == 0


# --- all signals together ----------------------------------------------------------------------


def test_signals_together_add_then_scale() -> None:
    """Definition and path add to the normalised fused score; then noise and kind scale the sum."""
    pool = [
        cand(1, "tests/test_adapters.py", 1.0, "HTTPAdapter", kind="class"),  # (1 + 0.75 + 0.1) * 0.3
        cand(2, "requests/adapters.py", 0.5, "send", "HTTPAdapter.send", kind="method"),  # 0.5 + 0.1
        cand(3, "requests/adapters.py", 0.8, kind="code"),  # (0.8 + 0.1) * 0.7
        cand(4, "requests/models.py", 0.9, "Response", kind="class"),  # 0.9
    ]
    signals = Signals(file_path=False, file_named=False, coherence=False, saturation=False)  # tests/test_real_queries.py
    assert ranked("how does HTTPAdapter send", pool, signals) == [(4, 0.9), (3, 0.63), (2, 0.6), (1, 0.555)]
    scores = {c.id: c.scores for c in pool}
    assert scores[1] == pytest.approx({"definition": 0.75, "path": 0.1, "noise": 0.3})
    assert scores[3] == pytest.approx({"path": 0.1, "kind": 0.7})
    assert scores[4] == {}


# --- diversity and rerank ----------------------------------------------------------------------


class Hit:
    def __init__(self, i: int, path: str) -> None:
        self.i, self.path = i, path


def test_diversified() -> None:
    """At most ``per_file`` items of a file before every other file's; the rest follow in their order."""
    hits = [Hit(i, p) for i, p in enumerate(["a", "a", "b", "a", "c", "b"])]
    assert [h.i for h in diversified(hits, 1)] == [0, 2, 4, 1, 3, 5]
    assert [h.i for h in diversified(hits, 2)] == [0, 1, 2, 4, 5, 3]
    assert [h.i for h in diversified(hits, 3)] == [0, 1, 2, 3, 4, 5]
    same = diversified(hits, 0)
    assert same == hits and same is not hits
    # Several repositories: a path is only the same file within one index.
    keyed = [((0, "a"), 0), ((0, "a"), 1), ((1, "a"), 2)]
    assert diversified(keyed, 1, path_of=lambda item: item[0]) == [keyed[0], keyed[2], keyed[1]]
    assert diversified(keyed, 1, path_of=lambda item: item[0][1]) == keyed


def test_rerank_score() -> None:
    """After a rerank: half the reranker's cosine, half the first-stage share."""
    assert ranking.rerank_score(0.8, 0.4) == pytest.approx(0.6)
    assert ranking.rerank_score(0.0, 1.0) == 0.5 and ranking.rerank_score(1.0, 0.0) == 0.5
    assert ranking.rerank_score(1.0, 0.0, 0.25) == 0.25


def test_rerank_weight_is_smaller_for_questions_about_files() -> None:
    """A task or a name gives the reranker half the score; a question, a topic or one word, answered
    by files that the reranker (one chunk's first tokens) cannot judge, a quarter."""
    for text in ("send a request with a timeout", "HTTPAdapter", "parse_config"):
        assert ranking.rerank_weight(analyse(text)) == 0.5, text
    for text in ("how are routes registered", "cookie jar implementation", "offline"):
        assert ranking.rerank_weight(analyse(text)) == 0.25, text


# --- fusion ------------------------------------------------------------------------------------


def test_score_fusion() -> None:
    """Each ranking's scores over its best, weighted and summed; missing entries get nothing; ties keep first-seen order."""
    fused = score_fusion([[("a", 2.0), ("b", 1.0)], [("b", 4.0), ("c", 2.0)]], [1.0, 0.5])
    assert fused == [("a", 1.0), ("b", 1.0), ("c", 0.25)]
    assert score_fusion([[("a", 2.0), ("b", 1.0)], [("b", 4.0), ("c", 2.0)]]) == [("b", 1.5), ("a", 1.0), ("c", 0.5)]
    assert score_fusion([[("a", -0.5), ("b", 0.5)]]) == [("b", 1.0), ("a", 0.0)]  # below zero counts as zero
    assert score_fusion([[("a", 0.0), ("b", -1.0)]]) == [("a", 0.0), ("b", 0.0)]  # no positive best: all zero
    assert score_fusion([[], [("x", 3.0)]], [1.0, 2.0]) == [("x", 2.0)]
    assert score_fusion([]) == []
    # zip: a ranking without a weight is left out (search slices the weights to the rankings it has).
    assert score_fusion([[("a", 1.0)], [("b", 1.0)]], [1.0]) == [("a", 1.0)]


def test_search_fuse_is_score_fusion() -> None:
    """The first stage fuses by score, not by rank: a clear lead stays a clear lead."""
    rankings = [[(1, 0.9), (2, 0.3), (3, 0.2)], [(3, 12.0), (1, 3.0)]]
    assert search.fuse(rankings, [1.0, 1.0]) == score_fusion(rankings, [1.0, 1.0])
    assert [(i, round(s, 6)) for i, s in search.fuse(rankings, [1.0, 1.0])] == [(1, 1.25), (3, 1.222222), (2, 0.333333)]
    assert [i for i, _ in search.fuse(rankings, [1.0, 0.5])] == [1, 3, 2]  # the lexical weight scales its shares


# --- the library's search: every score recomputed ----------------------------------------------


def test_search_scores_compose_as_documented(tmp_path: Path) -> None:
    """A whole search: fused = static/best + lexical/best; rank = (fused/best fused + definition + path) x noise x kind;
    results sorted by rank; the similarity ``score`` is the clipped cosine."""
    from codesearch.pipeline import build_index
    from codesearch.search import Searcher

    root = tmp_path / "repo"
    write(root, "app/sessions.py", "class SessionStore:\n    def save(self, session):\n        return session\n\n\n"
                                   "def load_session(key):\n    return SessionStore().save(key)\n")
    write(root, "tests/test_sessions.py", "def test_session_store():\n    assert SessionStore().save(1) == 1\n")
    write(root, "app/cache.py", "def store_value(key, value):\n    cache = {}\n    cache[key] = value\n    return cache\n")
    write(root, "app/util.py", "x = 1\ny = 2\n\ndef helper():\n    return x\n")
    report = build_index(root, embedder=FakeEmbedder(), workers=1)
    with Searcher(Path(report.index_dir), embedder=FakeEmbedder()) as searcher:
        results = searcher.search("where is the SessionStore saved", k=50)
        chunks = searcher.reader.meta.count
    assert len(results) == chunks  # every chunk is in the pool (the rankings are 50 deep)
    assert [r.rank for r in results] == list(range(1, len(results) + 1))
    best_static = max(r.scores["static"] for r in results)
    best_lexical = max((r.scores.get("lexical", 0.0) for r in results), default=0.0)
    for r in results:
        expected = max(r.scores["static"], 0.0) / best_static + (r.scores.get("lexical", 0.0) / best_lexical) \
            * search.LEXICAL_WEIGHTS["natural"]
        assert r.scores["fused"] == pytest.approx(expected)
        assert r.score == pytest.approx(min(1.0, max(0.0, r.scores["static"])))
    best_fused = max(r.scores["fused"] for r in results)
    best_file = max(r.scores["file"] for r in results)
    for r in results:
        s = r.scores
        lifts = sum(s.get(name, 0.0) for name in ("definition", "path", "file_path", "file_named", "coherence", "word"))
        # the file's topic: added after the kind factor, scaled as the file is (noise, stubs)
        assert s.get("file_topic", 0.0) == pytest.approx(ranking.FILE_TOPIC_WEIGHT * max(s["file"], 0.0) / best_file
                                                         * s.get("noise", 1.0) * s.get("stubs", 1.0))
        expected = ((s["fused"] / best_fused + lifts) * s.get("noise", 1.0) * s.get("stubs", 1.0)
                    * s.get("kind", 1.0) + s.get("file_topic", 0.0)) * s.get("saturation", 1.0)
        assert s["rank"] == pytest.approx(expected)
    assert [r.scores["rank"] for r in results] == sorted((r.scores["rank"] for r in results), reverse=True)
    top = results[0]
    assert (top.qualname, top.scores["definition"]) == ("SessionStore", 0.75)  # in a sentence, file named after it
    assert any("noise" in r.scores for r in results if r.path.startswith("tests/"))
    assert any("kind" in r.scores for r in results if r.kind == "code")
    assert sum("file_topic" in r.scores for r in results) >= 2  # the signal was on (a question of several words)


# --- the CLI: --per-file, --min-score, -k ------------------------------------------------------


@pytest.fixture(scope="module")
def session_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three files about sessions (3, 2 and 2 functions) and one that is not, indexed with the shipped model."""
    root = tmp_path_factory.mktemp("ranking") / "repo"
    write(root, "sessions.py",
          'def open_session(user):\n    """Open a new session for the user."""\n    return {"user": user}\n\n\n'
          'def close_session(session):\n    """Close the session and forget it."""\n    session.clear()\n\n\n'
          'def refresh_session(session):\n    """Refresh the session expiry."""\n    session["fresh"] = True\n')
    write(root, "cookies.py",
          'def set_session_cookie(response, session):\n    """Write the session cookie on the response."""\n'
          '    response.cookies["session"] = session\n\n\n'
          'def read_session_cookie(request):\n    """Read the session cookie from the request."""\n'
          '    return request.cookies.get("session")\n')
    write(root, "store.py",
          'def save_session(db, session):\n    """Save the session in the database."""\n    db.put(session)\n\n\n'
          'def load_session(db, key):\n    """Load a session from the database."""\n    return db.get(key)\n')
    write(root, "maths.py", 'def add(a, b):\n    """Add two numbers."""\n    return a + b\n')
    result = CliRunner().invoke(cli, ["index", str(root)])
    assert result.exit_code == 0, result.output
    return root


def hits(repo: Path, *args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["search", "session", str(repo), "--json", *args])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)["results"] if result.exit_code == 0 else []


def where(results: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["path"], r["qualname"]) for r in results]


def test_cli_ranking_without_limits(session_repo: Path) -> None:
    """The plain ranking: every chunk, ranks 1..n, sessions.py first (its path matches the query);
    one plain word saturates by file, so each file's best chunk comes before any file's second."""
    full = hits(session_repo, "-k", "20")
    assert where(full) == [("sessions.py", "close_session"), ("cookies.py", "set_session_cookie"),
                           ("store.py", "save_session"), ("sessions.py", "refresh_session"),
                           ("cookies.py", "read_session_cookie"), ("store.py", "load_session"),
                           ("sessions.py", "open_session"), ("maths.py", "add")]
    assert [r["rank"] for r in full] == list(range(1, 9))
    assert all(r["scores"]["path"] == pytest.approx(0.3) for r in full if r["path"] == "sessions.py")
    assert [r["scores"].get("saturation") for r in full[3:7]] == [0.5, 0.5, 0.5, 0.25]
    assert not any("definition" in r["scores"] for r in full)  # no function is named "session"
    assert [r["scores"]["rank"] for r in full] == sorted((r["scores"]["rank"] for r in full), reverse=True)


def test_cli_per_file(session_repo: Path) -> None:
    """--per-file N: at most N hits of a file before every other file's, the rest in their order, ranks renumbered."""
    full = hits(session_repo, "-k", "20")
    for n in (1, 2):
        limited = hits(session_repo, "-k", "20", "--per-file", str(n))
        assert where(limited) == where(diversified(full, n, path_of=lambda r: r["path"]))
        assert [r["rank"] for r in limited] == list(range(1, 9))
        paths = [r["path"] for r in full]
        turns = sum(min(paths.count(p), n) for p in set(paths))  # hits before any file's (n+1)th
        head = [r["path"] for r in limited[:turns]]
        assert all(head.count(p) == min(paths.count(p), n) for p in set(paths))
    one = hits(session_repo, "-k", "20", "--per-file", "1")
    # Every file gets its turn, even one that hardly matches: maths.py comes before the second session hit.
    assert where(one) == [("sessions.py", "close_session"), ("cookies.py", "set_session_cookie"),
                          ("store.py", "save_session"), ("maths.py", "add"),
                          ("sessions.py", "refresh_session"), ("cookies.py", "read_session_cookie"),
                          ("store.py", "load_session"), ("sessions.py", "open_session")]
    # -k cuts after the diversity.
    assert where(hits(session_repo, "-k", "3", "--per-file", "1")) == where(one)[:3]


def test_cli_k(session_repo: Path) -> None:
    """-k N is the first N of the whole ranking."""
    full = hits(session_repo, "-k", "20")
    for k in (1, 3, 8):
        assert where(hits(session_repo, "-k", str(k))) == where(full)[:k]
    assert len(hits(session_repo)) == 8  # the default k (10) is more than there is


def test_cli_min_score(session_repo: Path) -> None:
    """--min-score drops hits whose similarity is below it, refills the top k from lower ranks, and
    numbers the kept hits 1, 2, 3, ... (it once cut after the top k: -k 3 gave 2 hits ranked 1 and 3)."""
    full = hits(session_repo, "-k", "20")
    top3, rest = full[:3], full[3:]
    threshold = max(r["score"] for r in rest)
    assert any(r["score"] < threshold for r in top3), "the fixture should let a lower rank beat a top-3 similarity"
    above = [r for r in full if r["score"] >= threshold]
    kept = hits(session_repo, "-k", "20", "--min-score", str(threshold))
    assert where(kept) == where(above)
    assert [r["rank"] for r in kept] == list(range(1, len(kept) + 1))
    cut = hits(session_repo, "-k", "3", "--min-score", str(threshold))
    assert where(cut) == where(above[:3]) and len(cut) == min(3, len(above))
    assert [r["rank"] for r in cut] == list(range(1, len(cut) + 1))
    assert hits(session_repo, "--min-score", "1") == []  # nothing reaches 1: exit code 1, no results


def _greedy(ranked: list[Candidate], decay: float, key: Any) -> list[tuple[Any, float]]:
    """The saturation's definition, step by step: the next result is the head of a file whose score times
    ``decay`` to the number of its chunks already placed is highest (ties: the file met first)."""
    files: dict[Any, list[Candidate]] = {}
    for c in ranked:
        files.setdefault(key(c), []).append(c)
    queues = [[(c.id, c.score) for c in queue] for queue in files.values()]
    placed = [0] * len(queues)
    out: list[tuple[Any, float]] = []
    while any(p < len(q) for p, q in zip(placed, queues)):
        n = min((n for n in range(len(queues)) if placed[n] < len(queues[n])),
                key=lambda n: (-queues[n][placed[n]][1] * decay ** placed[n], n))
        chunk_id, score = queues[n][placed[n]]
        out.append((chunk_id, score * decay ** placed[n] if placed[n] else score))
        placed[n] += 1
    return out


@settings(max_examples=200, deadline=None)
@given(scores=st.lists(st.sampled_from([0.1, 0.25, 0.5, 0.7, 1.0, 1.3]), min_size=1, max_size=30),
       files=st.lists(st.integers(0, 5), min_size=30, max_size=30))
def test_saturation_is_the_greedy_order(scores: list[float], files: list[int]) -> None:
    """``saturated`` sorts once by each chunk's score times the decay to its place in its file: the order and
    scores the step-by-step greedy gives, ties included (scores from a few values, so that many tie)."""
    ranked = sorted((cand(i, f"f{files[i]}.py", s) for i, s in enumerate(scores)), key=lambda c: (-c.fused, c.id))
    for c in ranked:
        c.score = c.fused
    expected = _greedy(ranked, 0.5, ranking.file_of)
    assert [(c.id, c.score) for c in ranking.saturated(ranked, 0.5)] == expected


def test_a_task_shows_other_files_in_its_first_screen(tmp_path: Path) -> None:
    """A task is answered by one function, often beside others of its file, so its results are not saturated by
    file as a question's are; but one file took the whole first screen (the large set's tasks: one file five times
    or more in 32 of 53). At most ``TASK_PER_FILE`` chunks of one file come before every other file's."""
    from codesearch.pipeline import build_index
    from codesearch.search import Searcher, SearchOptions

    root = tmp_path / "repo"
    write(root, "cache.py", "".join(
        f"def remove_{i}(cache):\n    '''Remove the oldest cache entries, way {i}.'''\n    return cache.pop_oldest({i})\n\n\n"
        for i in range(8)))
    write(root, "store.py", "def drop_stale(store):\n    '''Remove the oldest entries of the store.'''\n    return store\n")
    build_index(root, embedder=FakeEmbedder())
    task = "remove the oldest cache entries"
    assert analyse(task).task
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        paths = [r.path for r in searcher.search(task, k=10)]
        assert paths[:ranking.TASK_PER_FILE] == ["cache.py"] * ranking.TASK_PER_FILE
        assert paths[ranking.TASK_PER_FILE] == "store.py"
        off = SearchOptions.of(10, signals=Signals.without("saturation"))  # the ablation takes the cap off too
        assert [r.path for r in searcher.search(task, options=off)][:8] == ["cache.py"] * 8
        assert [r.path for r in searcher.search(task, k=10, per_file=8)][:8] == ["cache.py"] * 8  # the user's cap


def test_a_scoped_name_puts_its_own_scope_first() -> None:
    """"ConcurrentHashMap.transfer" ranked `LinkedTransferQueue.transfer` and `TransferQueue.transfer` first: any
    definition of the last part counted in full, whatever its scope."""
    def pool() -> list[Candidate]:
        return [cand(1, "juc/LinkedTransferQueue.java", 1.0, "transfer", "LinkedTransferQueue.transfer"),
                cand(2, "juc/ConcurrentHashMap.java", 0.6, "transfer", "ConcurrentHashMap.transfer"),
                cand(3, "juc/ConcurrentHashMap.java", 0.7, "put", "ConcurrentHashMap.put")]

    assert [i for i, _ in ranked("ConcurrentHashMap.transfer", pool(), only("definition"))][0] == 2
    assert [i for i, _ in ranked("transfer", pool(), only("definition"))][:2] == [1, 2]  # no scope named: as before
