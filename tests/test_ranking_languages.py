"""Ranking shapes the new languages brought out: a name defined in several files (C# partial classes,
reopened classes, extensions) and overloads of one name in one file."""

from __future__ import annotations

from dataclasses import replace

from codesearch.query import analyse
from codesearch.ranking import Candidate, Signals, named_after, overload_of, rank


def cand(i: int, path: str, fused: float, qualname: str, kind: str = "class", language: str = "csharp") -> Candidate:
    """A pool candidate with the row fields the signals read."""
    row = {"path": path, "name": qualname.rsplit(".", 1)[-1], "qualname": qualname, "kind": kind, "language": language}
    return Candidate(i, row, fused)


def only(signal: str) -> Signals:
    return replace(Signals.none(), **{signal: True})


def test_named_after_is_the_whole_file_name() -> None:
    """The file's name without its extension is the name, word stem by word stem."""
    assert named_after("Dapper/SqlMapper.cs", analyse("SqlMapper"))
    assert named_after("lib/sql_mapper.py", analyse("SqlMapper"))
    assert named_after("app/sessions.py", analyse("Session"))
    assert named_after("src/ser/mod.rs", analyse("ser::Mod"))  # the last part of a qualified name
    assert not named_after("Dapper/SqlMapper.Async.cs", analyse("SqlMapper"))
    assert not named_after("lib/adapters.py", analyse("HTTPAdapter"))
    assert not named_after("SqlMapper/Helpers.cs", analyse("SqlMapper"))  # a folder is not the file


def test_primary_definition_of_a_partial_class() -> None:
    """Dapper's `SqlMapper` is a partial class over many files: the one in SqlMapper.cs is the answer,
    though a part in another file scores higher in the first stage; the parts count half."""
    def pool() -> list[Candidate]:
        return [cand(1, "Dapper/SqlMapper.DontMap.cs", 1.0, "Dapper.SqlMapper"),
                cand(2, "Dapper/SqlMapper.Async.cs", 0.9, "Dapper.SqlMapper"),
                cand(3, "Dapper/SqlMapper.cs", 0.2, "Dapper.SqlMapper"),
                cand(4, "Dapper/DapperRow.cs", 0.5, "Dapper.DapperRow")]

    ranked = rank(analyse("SqlMapper"), pool(), only("definition"))
    assert [(c.id, round(c.score, 6)) for c in ranked] == [(3, 1.7), (1, 1.5), (2, 1.4), (4, 0.5)]
    # Without a file called the name, each part keeps the usual lift (x1.5 in a file named after it).
    ranked = rank(analyse("SqlMapper"), [c for c in pool() if c.id != 3], only("definition"))
    assert [(c.id, round(c.score, 6)) for c in ranked] == [(1, 2.5), (2, 2.4), (4, 0.5)]


def test_overloads_of_one_name_in_one_file_count_less_each() -> None:
    """fmtlib's `ostream_params` has five constructors in os.h: each further one counts half the one before,
    so another file's answer gets onto the first screen; other names and files are untouched."""
    pool = [cand(i, "include/fmt/os.h", 1.01 - i / 100, "detail.ostream_params.ostream_params", "method", "cpp")
            for i in range(1, 4)]
    pool += [cand(4, "include/fmt/ostream.h", 0.6, "println", "function", "cpp"),
             cand(5, "include/fmt/os.h", 0.9, "detail.ostream_params", "class", "cpp"),
             cand(6, "include/fmt/std.h", 0.5, "detail.ostream_params.ostream_params", "method", "cpp")]
    ranked = rank(analyse("ostream integration"), pool, only("overloads"))
    assert [(c.id, round(c.score, 6)) for c in ranked] == [(1, 1.0), (5, 0.9), (4, 0.6), (6, 0.5), (2, 0.495),
                                                           (3, 0.245)]
    assert ranked[4].scores == {"overloads": 0.5} and ranked[5].scores == {"overloads": 0.25}


def test_code_chunks_are_no_overloads() -> None:
    """The code between definitions is named after its file: each such chunk stands alone."""
    code = [cand(1, "a.lua", 1.0, "<a.lua>", "code", "lua"), cand(2, "a.lua", 0.9, "<a.lua>", "code", "lua")]
    assert overload_of(code[0]) != overload_of(code[1])
    assert [round(c.score, 6) for c in rank(analyse("setup"), code, only("overloads"))] == [1.0, 0.9]


def test_a_test_stand_in_yields_to_the_real_definition() -> None:
    """serde's test suite defines a fake `Serialize`: for the query `Serialize` the test's copy is noise when the
    name is also defined outside tests, and keeps its place when it is defined only there."""
    def pool() -> list[Candidate]:
        return [cand(1, "test_suite/tests/test_serde_path.rs", 1.0, "fake_serde.Serialize", "trait", "rust"),
                cand(2, "serde_core/src/ser/mod.rs", 0.8, "Serialize", "trait", "rust")]

    ranked = rank(analyse("Serialize"), pool(), replace(only("definition"), noise=True))
    assert [(c.id, round(c.score, 6)) for c in ranked] == [(2, 1.8), (1, 0.6)]
    alone = rank(analyse("Serialize"), pool()[:1], replace(only("definition"), noise=True))
    assert [(c.id, round(c.score, 6)) for c in alone] == [(1, 2.0)]
