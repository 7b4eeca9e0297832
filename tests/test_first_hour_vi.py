"""A new user's first hour VI: what a coding agent and a new user of the later languages found (round of
2026-12-07, black box). Each test fails on the commit before its fix."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from codesearch.cli import cli
from tests.conftest import write


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


def test_a_kind_the_index_has_none_of_and_an_index_without_code_say_so(tmp_path: Path) -> None:
    """An agent's `kind: "class"` on a Go repository, whose structs are types, and a search of a folder of Markdown
    only, answered an empty list without a word."""
    go = tmp_path / "go"
    write(go, "server.go", "package web\n\n// Server serves requests.\ntype Server struct {\n\tAddr string\n}\n\n"
                           "// Serve starts it.\nfunc (s *Server) Serve() error {\n\treturn nil\n}\n")
    assert run("index", str(go), "-q").exit_code == 0
    found = run("search", "--json", "server", str(go), "--kind", "class")
    assert found.exit_code == 1
    assert json.loads(found.output)["note"] == "the index has no class chunks (it has code, method, type)"
    assert "no class chunks" in run("search", "server", str(go), "--kind", "class").output
    prose = tmp_path / "prose"
    write(prose, "docs/README.md", "# Notes\n\nNothing to see.\n")
    assert run("index", str(prose), "-q").exit_code == 0
    empty = run("search", "retry a request", str(prose))
    assert empty.exit_code == 1 and "the index holds no code" in empty.output, empty.output


def test_a_python_decorator_is_part_of_what_it_decorates() -> None:
    """A new user on aiohttp: decorators were chunks of their own (231 of them; `@pytest.fixture` ranked above the
    fixture it decorates, `related` from a decorator line started from it) and no part of the definition
    (`@reify`, `@property` and `@attr.s(...)` missing from its code and signature)."""
    from indexer.chunk import chunks_for_file
    from indexer.types import SourceFile

    code = ("import attr\n\n\n@attr.s(auto_attribs=True, frozen=True, slots=True)\nclass ClientTimeout:\n"
            "    \"\"\"Timeouts.\"\"\"\n    total: float = None\n\n\nclass Req:\n    @reify\n    def host(self) -> str:\n"
            "        \"\"\"The host.\"\"\"\n        return self._host\n\n    @property\n    @functools.cache\n"
            "    def port(self):\n        return 1\n\n\n@pytest.fixture\ndef client(loop):\n    return 1\n")
    chunks = chunks_for_file(SourceFile("client.py", "python", code.encode()))
    assert [(c.qualname, c.start_line, c.end_line, c.signature, c.doc) for c in chunks if c.kind.value != "code"] == [
        ("ClientTimeout", 4, 7, "@attr.s(auto_attribs=True, frozen=True, slots=True) class ClientTimeout",
         "Timeouts."),
        ("Req", 10, 19, "class Req", ""), ("Req.host", 11, 14, "@reify def host(self) -> str", "The host."),
        ("Req.port", 16, 19, "@property @functools.cache def port(self)", ""),
        ("client", 22, 24, "@pytest.fixture def client(loop)", "")]
    assert [(c.start_line, c.end_line) for c in chunks if c.kind.value == "code"] == [(1, 1)]  # the import only
