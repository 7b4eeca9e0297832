"""A new user's first hour XI: what this round's users found (2026-12-07, sixteenth round). Each test fails on
the commit before its fix."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.errors import AmbiguousSymbol, BadQuery
from codesearch.mcp_server import compact
from codesearch.pipeline import build_index
from codesearch.related import one_named, relative_path
from codesearch.search import Searcher
from tests.conftest import symbols_of, write


def _redirects(root: Path) -> None:
    body = "".join(f"    step_{n} = follow(step_{n - 1 if n else 'start'})\n" for n in range(40))
    write(root, "request.py",
          "def handle_redirect(request, headers):\n"
          "    if request.redirects_left <= 0:\n"
          "        count = request.redirects\n"
          '        return None, "maximum redirects exceeded"\n' + body + "    return step_39\n")
    for n in range(3):
        write(root, f"other{n}.py", f"def other_{n}(x):\n    '''Count the steps {n}.'''\n    return x + {n}\n")


def test_a_pasted_message_near_a_functions_head_has_its_line_for_a_short_snippet(tmp_path: Path) -> None:
    """An agent asked for "maximum redirects exceeded" with `max_lines` 3: the 137-line method that returns it came
    first with no `line`, its snippet the three lines above the message (a line was given only past the eight any
    snippet shows). The message's line is given wherever it lies below the first, and the short snippet shows it."""
    _redirects(tmp_path)
    build_index(tmp_path, workers=1)
    with Searcher(tmp_path / ".codesearch") as searcher:
        hit = searcher.search("maximum redirects exceeded", 1)[0]
    assert hit.qualname == "handle_redirect" and hit.line == 4
    shown = compact(hit, 3)
    assert shown["line"] == 4 and '"maximum redirects exceeded"' in shown["snippet"]
    assert compact(hit, 12)["snippet"].startswith("def handle_redirect")  # a longer snippet starts at the head


def test_a_definitions_code_keeps_the_comment_that_ends_its_last_line() -> None:
    """An agent's snippet of hledger's `(*) = error "..." -- PARTIAL:` ended before the comment, so the line was not
    the file's (an agent copies snippet lines as an edit's anchor). The comment that ends a definition's last line
    is part of its code (`};  // class Foo` too); one that goes on below, or code after it, is not."""
    haskell = symbols_of("haskell", 'module M where\n\ninstance Num Amount where\n'
                                    '  (*) = error "no multiplication" -- PARTIAL:\n  abs = id\n')
    assert haskell["Amount.*"].code.endswith('error "no multiplication" -- PARTIAL:')
    cpp = symbols_of("cpp", "namespace n {\nclass Foo {\n  int f() { return 1; }  // the one\n};  // class Foo\n}\n")
    assert cpp["n.Foo.f"].code.endswith("// the one") and cpp["n.Foo"].code.endswith("};  // class Foo")
    c = symbols_of("c", "int f(void) { return 1; } /* one\n two */\nint g(void) { return 2; } /* g */ int h;\n")
    assert c["f"].code.endswith("}") and c["g"].code.endswith("}") and c["f"].end_line == 1


def test_a_path_filter_or_related_through_a_planted_link_says_nothing_of_what_lies_outside(tmp_path: Path) -> None:
    """The red team: a repository planted `sysroot -> /`; an agent's path filter `sysroot/etc/passwd` answered "is
    there but not read" where a missing file got no such words, and `related sysroot/...` told "not in the index"
    from "no such file": what exists outside the repository, told. Both look from the root down without following a
    link now; a name too long for the system was a traceback in `related`."""
    root = tmp_path / "repo"
    write(root, "a.py", "def retry_http(n):\n    '''Retry failed http requests.'''\n    return n\n")
    write(tmp_path, "outside/secret.txt", "TOPSECRET\n")
    (root / "sysroot").symlink_to(tmp_path / "outside")
    assert CliRunner().invoke(cli, ["index", str(root), "-q"]).exit_code == 0
    notes, errors = [], []
    with Searcher(root / ".codesearch") as searcher:  # as the MCP server's `related` takes an agent's path
        for name in ("secret.txt", "missing.txt"):
            run = CliRunner().invoke(cli, ["search", "retry", str(root), "-p", f"sysroot/{name}", "--json"])
            notes.append(json.loads(run.stdout).get("note", "").replace(name, "NAME"))
            with pytest.raises(BadQuery) as refused:
                relative_path(searcher, f"sysroot/{name}")
            errors.append(str(refused.value).replace(name, "NAME"))
        with pytest.raises(BadQuery, match="no such file"):
            relative_path(searcher, "a" * 300 + ".py")
    assert notes[0] == notes[1] and "there" not in notes[0]
    assert errors[0] == errors[1]


def test_a_repository_folders_name_reaches_the_terminal_escaped(tmp_path: Path) -> None:
    """The red team: an archive's top folder named `project<ESC>]52;c;...<BEL>` wrote the clipboard through
    `codesearch index SUBDIR`'s "Updating the index of the enclosing repository ..." (`stats` escaped it)."""
    root = tmp_path / "project\x1b]52;c;Y3VybA==\x07"
    write(root, "src/a.py", "def retry_http(n):\n    return n\n")
    assert CliRunner().invoke(cli, ["index", str(root), "-q"]).exit_code == 0
    run = CliRunner().invoke(cli, ["index", str(root / "src")])
    assert run.exit_code == 0 and "enclosing repository" in run.output
    assert "\x1b" not in run.output and "\x07" not in run.output and "\\x1b]52" in run.output


def test_an_mcp_tools_error_shows_the_repositorys_names_escaped(tmp_path: Path) -> None:
    """The red team: `related` of a name with two definitions answered an error listing their files, and a file
    named `x<ESC>]0;PWNED<BEL>.py` reached the agent's host raw, where the CLI escapes it."""
    pytest.importorskip("mcp")
    import asyncio

    from mcp import ClientSession
    from mcp.client.stdio import stdio_client

    from tests.test_mcp import _call, _server

    root = tmp_path / "repo"
    for n, name in enumerate(("x\x1b]0;PWNED\x07", "y\u202e")):
        write(root, f"{name}.py", f"def dup(n):\n    return n + {n}\n")
    assert CliRunner().invoke(cli, ["index", str(root), "-q"]).exit_code == 0

    async def scenario() -> str:
        async with stdio_client(_server(root)) as (read, write_), ClientSession(read, write_) as session:
            await session.initialize()
            error, text = await _call(session, "related", {"symbol": "dup"})
            assert error, text
            return text

    text = asyncio.run(scenario())
    assert "names 2 definitions" in text and "\\x1b]0;PWNED\\x07" in text
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text


def test_a_text_snippet_that_starts_below_its_hits_first_line_says_from_which(tmp_path: Path) -> None:
    """A new user read `api.go:547-712  Client.executeMethod` and a snippet of the call asked about under `...`, and
    had to count to find line 583 (only --format grep and --json gave it)."""
    body = "".join(f"    step_{n} = prepare(step_{n - 1 if n else 'start'})\n" for n in range(30))
    write(tmp_path, "api.py", "def execute_method(request):\n" + body + "    for attempt in new_retry_timer(5):\n"
                              "        send(request)\n    return step_29\n")
    write(tmp_path, "retry.py",
          "def new_retry_timer(n):\n    '''Yield attempts with backoff.'''\n    yield from range(n)\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path), "-q"]).exit_code == 0
    run = CliRunner().invoke(cli, ["search", "what calls new_retry_timer", str(tmp_path), "-k", "2"])
    assert run.exit_code == 0 and "api.py:1-34" in run.output, run.output
    assert "... (from line 31)\n" in run.output.replace("      ", "") and "for attempt in new_retry_timer" in run.output


def test_no_index_above_names_the_indexed_repositories_below(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """A new user searched the folder that held minio-go and jsoup, both indexed, and was told to index that folder
    (both again, and the packages beside them). The repositories indexed below it are named, as PATHs to give."""
    for name in ("jsoup", "minio-go"):
        write(tmp_path, f"{name}/a.py", f"def retry(n):\n    return n  # {name}\n")
        assert CliRunner().invoke(cli, ["index", str(tmp_path / name), "-q"]).exit_code == 0
    write(tmp_path, "apt/cache/b.py", "x = 1\n")
    monkeypatch.chdir(tmp_path)
    run = CliRunner().invoke(cli, ["search", "retry"])
    assert run.exit_code == 2 and "below it, jsoup minio-go: they are indexed" in run.output, run.output
    assert "`codesearch search QUERY jsoup minio-go`" in run.output
    run = CliRunner().invoke(cli, ["search", "retry", "jsoup", "minio-go", "--json"])
    assert run.exit_code == 0 and len(json.loads(run.stdout)["results"]) == 2
    run = CliRunner().invoke(cli, ["search", "retry", str(tmp_path / "apt")])
    assert run.exit_code == 2 and "run `codesearch index" in run.output and "below it" not in run.output


@pytest.mark.parametrize(("language", "source", "tests"), [
    ("lua", 'describe("http.util module", function()\n  it("query_args works", function()\n'
            '    assert.same(1, util.query_args("a=1"))\n  end)\nend)\n',
     {"http.util module": "module", "http.util module.query_args works": "function"}),
    ("javascript", 'describe("query args", () => {\n  it(`encodes spaces`, async function () {\n    x();\n  });\n'
                   '  test.only("handles empty", () => { y(); });\n});\n',
     {"query args": "module", "query args.encodes spaces": "function", "query args.handles empty": "function"}),
    ("typescript", 'describe("router", () => {\n  it("merges routers", () => {\n    expect(merge()).toBe(1);\n'
                   '  });\n});\n', {"router": "module", "router.merges routers": "function"}),
    ("typescript", 'describe.each([1, 2])("with %s", (n) => {\n  test.each([[1, 2]])("adds %i", (a, b) => {\n'
                   '    x();\n  });\n});\n', {"with %s": "module", "with %s.adds %i": "function"}),  # the recheck
    ("ruby", 'RSpec.describe Faraday::Request do\n  context "with a block" do\n    it "sets the method" do\n'
             '      x\n    end\n  end\nend\n',
     {"Faraday::Request": "module", "Faraday::Request.with a block": "module",
      "Faraday::Request.with a block.sets the method": "function"}),  # a function, as elsewhere (the recheck)
    ("elixir", 'defmodule PlugTest do\n  describe "call/2" do\n    test "halts the conn", %{conn: conn} do\n'
               '      x\n    end\n  end\nend\n',
     {"PlugTest": "module", "PlugTest.call/2": "module", "PlugTest.call/2.halts the conn": "function"}),
])
def test_tests_written_as_calls_are_definitions_named_by_their_text(language: str, source: str,
                                                                    tests: dict[str, str]) -> None:
    """An agent asked for "the test for query_args" in lua-http: busted's `it("query_args works", ...)` was inside one
    115-line chunk of code, and the answer said "the code may not be here". Test suites and tests written as calls
    (Mocha/Jest/Vitest, busted, RSpec, ExUnit) are definitions named by their text."""
    assert {q: s.kind.value for q, s in symbols_of(language, source).items()} == tests


def test_the_test_for_a_function_is_found_among_the_specs(tmp_path: Path) -> None:
    """The agent's query, end to end: the spec that tests `query_args` is in the first three, no weak note."""
    write(tmp_path, "http/util.lua", "local M = {}\n\n-- Iterate over the arguments of a query string.\n"
                                     "function M.query_args(s)\n  return s:gmatch('([^&=]+)=([^&=]*)')\nend\n\n"
                                     "function M.dict_to_query(d)\n  return table.concat(d, '&')\nend\n\nreturn M\n")
    tests = "".join(f'  it("{name} works", function()\n' + "".join(
        f"    assert.same({n}, util.{name}('k{n}=v'))\n" for n in range(12)) + "  end)\n"
        for name in ("decodeURI", "query_args", "dict_to_query", "is_safe_method", "split_authority"))
    write(tmp_path, "spec/util_spec.lua", 'describe("http.util module", function()\n'
                                          '  local util = require "http.util"\n' + tests + "end)\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path), "-q"]).exit_code == 0
    run = CliRunner().invoke(cli, ["search", "test for query_args", str(tmp_path), "-k", "3", "--json"])
    found = json.loads(run.stdout)
    assert "http.util module.query_args works" in [r["qualname"] for r in found["results"]], found
    assert "note" not in found
    # The recheck: the test's name as its runner prints it (busted, Jest's `›`) did not find it; it comes first now.
    for printed in ("http.util module query_args works", "http.util module › query_args works"):
        run = CliRunner().invoke(cli, ["search", printed, str(tmp_path), "-k", "1", "--json"])
        assert json.loads(run.stdout)["results"][0]["qualname"] == "http.util module.query_args works", printed


def test_a_bare_function_name_lists_its_calls_after_it(tmp_path: Path) -> None:
    """A new user typed `copySafeNodes`, as into rg, and got its definition, then copy and clone look-alikes; its
    three calls were not in the first thirty. A bare name whose definitions are functions is followed by the code
    that calls it; a type's name is not (a type is named all over: serde's `Visitor` lost its file)."""
    write(tmp_path, "safety/cleaner.py",
          "class Cleaner:\n"
          "    def clean(self, dirty):\n        clean = new_document()\n"
          "        self.copy_safe_nodes(dirty.body, clean.body)\n        return clean\n\n"
          "    def is_valid(self, dirty):\n        count = self.copy_safe_nodes(dirty.body, None)\n"
          "        return count == 0\n\n"
          "    def copy_safe_nodes(self, source, dest):\n        '''Copy the safe nodes of source into dest.'''\n"
          "        return sum(1 for node in source if node.safe)\n")
    for n, name in enumerate(("copy_child_nodes", "clone_nodes", "copy_attributes", "copy_safe_list")):
        write(tmp_path, f"nodes/n{n}.py", f"def {name}(source):\n    '''Copy the nodes {n}.'''\n"
                                          f"    return [node.copy() for node in source]\n")
    write(tmp_path, "visit.py", "class Visitor:\n    '''Visits nodes.'''\n    def visit(self, node):\n        pass\n")
    for n in range(4):
        write(tmp_path, f"use{n}.py", f"def walk_{n}(tree):\n    v = Visitor()\n    return v.visit(tree)\n")
    build_index(tmp_path, workers=1)
    with Searcher(tmp_path / ".codesearch") as searcher:
        hits = searcher.search("copy_safe_nodes", 3)
        typed = searcher.search("Visitor", 5)
    assert hits[0].qualname == "Cleaner.copy_safe_nodes"
    assert {h.qualname for h in hits[1:]} == {"Cleaner.clean", "Cleaner.is_valid"}, hits  # at the call's line
    assert {h.line for h in hits[1:]} == {4, 8}
    assert typed[0].qualname == "Visitor" and not any("uses" in h.scores for h in typed)


def test_two_words_in_double_quotes_are_a_message(tmp_path: Path) -> None:
    """An agent searched `"Authentication failure"` (quoted, as for rg): one of the two methods that throw it came
    first and the other was not in the ten (two words are no message unless written like one). Words in double
    quotes are matched as written, however few."""
    write(tmp_path, "connection.py", "class Connection:\n    def authenticate(self, peer):\n"
                                     "        '''Run the handshake with the peer.'''\n        if not peer.ok:\n"
                                     "            raise Exception('Authentication failure')\n        return peer\n")
    body = "".join(f"        step_{n} = self.read(step_{n - 1 if n else 'line'})\n" for n in range(12))
    write(tmp_path, "sasl.py", "class SaslClient:\n    def run(self, line):\n" + body +
          "        if step_11 != 'OK':\n            raise Exception('Authentication failure')\n"
          "        return step_11\n")
    for n in range(5):
        write(tmp_path, f"auth{n}.py", f"def auth_string_{n}(user):\n"
                                       f"    '''Authentication of user {n}, on failure.'''\n"
                                       f"    return 'AUTH ' + user.name + '{n}'\n")
    build_index(tmp_path, workers=1)
    with Searcher(tmp_path / ".codesearch") as searcher:
        hits = searcher.search('"Authentication failure"', 2)
    assert {h.qualname for h in hits} == {"Connection.authenticate", "SaslClient.run"}, hits
    assert next(h for h in hits if h.qualname == "SaslClient.run").line == 16


@pytest.mark.parametrize("pasted", ["TypeError: maximum redirects exceeded",
                                    "hledger: Error: maximum redirects exceeded",
                                    "Uncaught Error: maximum redirects exceeded.", "maximum redirects exceeded"])
def test_a_message_after_what_a_runtime_writes_before_it_has_its_line(tmp_path: Path, pasted: str) -> None:
    """The recheck: a message pasted bare or after `Error:` had its `line`, but not after `TypeError: `,
    `Uncaught Error: ` or hledger's own `hledger: Error: `: the words after those labels are matched too."""
    _redirects(tmp_path)
    build_index(tmp_path, workers=1)
    with Searcher(tmp_path / ".codesearch") as searcher:
        hit = searcher.search(pasted, 1)[0]
    assert hit.qualname == "handle_redirect" and hit.line == 4


def test_a_test_named_as_a_definition_leaves_the_definition_the_one_a_symbol_names(tmp_path: Path) -> None:
    """The recheck: commander's `test('Command', ...)` and RSpec's `describe Slugger` made `related --symbol Command`
    ambiguous once tests were definitions; the definition outside tests is the one a name means."""
    write(tmp_path, "lib/command.js", "class Command {\n  parse(argv) {\n    return argv.slice(2);\n  }\n}\n"
                                      "module.exports = { Command };\n")
    write(tmp_path, "tests/imports.test.js", "test('Command', () => {\n  expect(new Command()).toBeTruthy();\n});\n")
    build_index(tmp_path, workers=1)
    with Searcher(tmp_path / ".codesearch") as searcher:
        source = one_named(searcher, "Command")
    assert source.path == "lib/command.js"


def test_the_recheck_of_the_link_fixes(tmp_path: Path) -> None:
    """The security recheck: MCP `related` resolved an agent's path before the fixed code (whether an outside path
    is a link was told, and a planted loop was a traceback); a directory name too long for the system was a
    traceback in the CLI's `related`; a path filter written `./x.conf` or `sub//x.conf` no longer said the file is
    there (the filter reads it so); and a path through a link inside the repository said "no such file"."""
    from codesearch.session import RepositorySession

    root = tmp_path / "repo"
    write(root, "a.py", "def helper(y):\n    return y\n")
    write(root, "sub/b.py", "def other(y):\n    return y + 1\n")
    write(root, "sub/x.conf", "k = v\n")
    (root / "sysroot").symlink_to("/")
    (root / "inlink").symlink_to("sub")
    (root / "loop").symlink_to("loop")
    assert CliRunner().invoke(cli, ["index", str(root), "-q"]).exit_code == 0
    session = RepositorySession(root)
    try:
        for path in ("loop/x.py", "sysroot/etc/localtime/../../x.py", "sysroot/lib/x.py", "sysroot/etc/hostname"):
            assert session._inside(path) == root / path  # by its words: nothing outside is looked at
    finally:
        session.close()
    with Searcher(root / ".codesearch") as searcher:
        with pytest.raises(BadQuery, match="goes through a symlink in the repository"):
            relative_path(searcher, "inlink/b.py")
    run = CliRunner().invoke(cli, ["related", str(root / ("d" * 300) / "x.py") + ":1"])
    assert run.exit_code == 2 and "Traceback" not in run.output, run.output
    for written in ("./sub/x.conf", "sub//x.conf", "sub/./x.conf"):
        run = CliRunner().invoke(cli, ["search", "retry", str(root), "-p", written, "--json"])
        assert "sub/x.conf is there but not read" in json.loads(run.stdout)["note"], written


def test_an_overload_is_named_by_its_parameters(tmp_path: Path) -> None:
    """A new user's `related --symbol 'Element.text()'` was "no definition named 'Element.text()'", and
    `Element.text` names two: an overload may be named with its parameters, as Java and C# write them."""
    write(tmp_path, "Element.java", "class Element {\n    /** Gets the text. */\n    public String text() {\n"
                                    "        return own;\n    }\n\n    /** Sets the text. */\n"
                                    "    public Element text(String text) {\n        own = text;\n"
                                    "        return this;\n    }\n}\n")
    build_index(tmp_path, workers=1)
    with Searcher(tmp_path / ".codesearch") as searcher:
        assert one_named(searcher, "Element.text()").start_line == 3
        assert one_named(searcher, "Element.text(String)").start_line == 8
        assert one_named(searcher, "text(String text)").start_line == 8
        with pytest.raises(AmbiguousSymbol, match=r"or by its parameters \(Element\.text\(\.\.\.\)\)"):
            one_named(searcher, "Element.text")


def test_a_pool_whose_worker_died_writing_a_result_shuts_down(tmp_path: Path) -> None:
    """Why the Ctrl-C index test hung, once in CI and three times here: a worker ended (by the Ctrl-C, or killed)
    while it wrote a result left part of it in the results' pipe; the pool's manager thread waited for the rest for
    ever (this process holds the pipe's writing end too), and the run waited in `ProcessPoolExecutor.shutdown` for
    hours, its workers dead (seen with py-spy). Killing the workers closes this process's end: the read ends."""
    import multiprocessing
    import struct
    import threading
    from concurrent.futures import ProcessPoolExecutor

    from indexer.work import _kill_workers, _started

    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    pool.submit(_started).result(timeout=60)  # the worker and the manager thread run
    writer = pool._result_queue._writer  # type: ignore[attr-defined]
    os.write(writer.fileno(), struct.pack("!i", 1000) + b"part of a result")  # a result cut off as it was written
    _kill_workers(pool)
    done = threading.Event()
    threading.Thread(target=lambda: (pool.shutdown(wait=True), done.set()), daemon=True).start()
    assert done.wait(30), "the pool's shutdown waits for the rest of a result no worker will write"
