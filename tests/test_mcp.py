"""``codesearch mcp`` end to end: the SDK's own client talking to a real server subprocess over stdio."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from codesearch.search import Searcher
from indexer.types import SymbolKind
from tests.conftest import SAMPLE_REPOS, write

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

CODESEARCH = str(Path(sys.executable).with_name("codesearch"))


def _server(root: Path, *extra: str) -> StdioServerParameters:
    return StdioServerParameters(command=CODESEARCH, args=["mcp", str(root), "--workers", "1", *extra],
                                 # the stdio client passes only a few variables: keep the test's trust registry
                                 env={"HF_HUB_OFFLINE": "1", "CODESEARCH_STATE": os.environ["CODESEARCH_STATE"]})


def _enum(prop: dict[str, Any]) -> list[str]:
    """The names an optional string argument's schema lists (its string branch's ``enum``)."""
    return next(option["enum"] for option in prop["anyOf"] if option.get("type") == "string")


async def _call(session: ClientSession, tool: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    result = await session.call_tool(tool, arguments)
    text = result.content[0].text if result.content else ""
    return result.is_error, (text if result.is_error else json.loads(text))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(SAMPLE_REPOS / "python", root, ignore=shutil.ignore_patterns(".codesearch"))
    write(root, "data/blob.py", b"\x00\x01\x02 binary \xff" * 100)
    return root


def test_search_related_status_edits_and_bad_input_over_stdio(repo: Path) -> None:
    async def scenario() -> None:
        async with stdio_client(_server(repo)) as (read, write_), ClientSession(read, write_) as session:
            await session.initialize()
            tools = {t.name: t for t in (await session.list_tools()).tools}
            assert set(tools) == {"search", "related", "index_status"}
            for name in ("search", "related"):  # the bounds the descriptions give, in the schemas agents read
                properties = tools[name].input_schema["properties"]
                assert (properties["k"]["minimum"], properties["k"]["maximum"]) == (1, 100)
                assert properties["max_lines"]["minimum"] == 1
            search_args = tools["search"].input_schema["properties"]  # the names a filter takes, listed
            assert _enum(search_args["kind"]) == [kind.value for kind in SymbolKind]
            assert {"python", "go", "rust", "text"} <= set(_enum(search_args["language"]))

            error, found = await _call(session, "search", {"query": "retry a failed request with backoff", "k": 3,
                                                           "max_lines": 2})
            assert not error and found["results"], found
            top = found["results"][0]
            assert top["path"].startswith("httpkit/") and len(top["snippet"].splitlines()) <= 2
            error, grouped = await _call(session, "search", {"query": "retry a failed request with backoff", "k": 2,
                                                             "by_file": True})
            assert not error and [f["rank"] for f in grouped["files"]] == [1, 2], grouped
            assert grouped["files"][0]["path"] == top["path"] and 1 <= len(grouped["files"][0]["hits"]) <= 3
            assert len({f["path"] for f in grouped["files"]}) == 2 and "path" not in grouped["files"][0]["hits"][0]

            # An edit is seen by the very next call, at its new lines, with no manual index run.
            retry = repo / "httpkit" / "retry.py"
            retry.write_text("\n" * 40 + retry.read_text() + '''

def jittered_pause(seconds, spread):
    """Sleep for a randomised number of seconds so that clients do not retry in lockstep."""
    return seconds * spread
''')
            error, found = await _call(session, "search", {"query": "sleep a randomised time so clients do not "
                                                                    "retry in lockstep", "k": 3})
            assert not error
            hit = next(r for r in found["results"] if r["qualname"] == "jittered_pause")
            lines = retry.read_text().splitlines()
            assert lines[hit["start_line"] - 1].startswith("def jittered_pause") and "stale" not in hit

            error, rel = await _call(session, "related", {"symbol": "jittered_pause", "k": 3})
            assert not error and rel["source"]["qualname"] == "jittered_pause" and rel["results"]
            error, status = await _call(session, "index_status", {})
            assert not error and status["stale_files"] == [] and status["files_by_language"]["python"] >= 1

            bad = [
                ("search", {"query": "retry", "top": 3}, "takes no argument 'top'"),
                ("search", {"query": "x" * 1_000_000}, "too long"),
                ("search", {"query": "   "}, "empty"),
                ("search", {"query": "retry", "k": 0}, "k must be"),
                ("search", {"query": "retry", "language": "cobol"}, "cobol"),
                ("related", {"path": "../../../etc/passwd", "line": 1}, "outside the repository"),
                ("related", {"path": "httpkit/missing.py", "line": 1}, "no such file"),
                ("related", {"path": "data/blob.py", "line": 1}, "not in the index"),
                ("related", {"path": "httpkit/retry.py", "line": 100_000}, "line 100,000 is past its end"),
                ("related", {"symbol": "no_such_function_anywhere"}, "no definition named"),
            ]
            for tool, arguments, message in bad:
                error, text = await _call(session, tool, arguments)
                assert error and message in text, (tool, arguments, text)
            error, found = await _call(session, "search", {"query": "retry", "k": 1})
            assert not error and found["results"]  # still alive

    asyncio.run(scenario())



# (tool, arguments, the whole error text): one sentence naming the argument and what it takes.
MISTYPED = [
    ("search", {}, "search needs query (a string)"),
    ("search", {"k": 3}, "search needs query (a string)"),
    ("search", {"query": 5}, "query must be a string, got 5"),
    ("search", {"query": None}, "query must be a string, got null"),
    ("search", {"query": "retry", "k": "ten"}, "k must be an integer, got 'ten'"),
    ("search", {"query": "retry", "k": 2.5}, "k must be an integer, got 2.5"),
    ("search", {"query": "retry", "max_lines": "many"}, "max_lines must be an integer, got 'many'"),
    ("search", {"query": "retry", "by_file": "maybe"}, "by_file must be true or false, got 'maybe'"),
    ("search", {"query": "retry", "language": 3}, "language must be a string, got 3"),
    ("search", {"query": "retry", "path": [3]}, "path must be a string or a list, got [3]"),
    ("search", {"query": "retry", "exclude": {"glob": "*"}}, 'exclude must be a string or a list, got {"glob": "*"}'),
    ("search", {"query": "retry", "kind": 1}, "kind must be a string or a list, got 1"),
    ("related", {"path": "httpkit/retry.py", "line": "ten"}, "line must be an integer, got 'ten'"),
    ("related", {"path": 3, "line": 1}, "path must be a string, got 3"),
    ("related", {"symbol": 7}, "symbol must be a string, got 7"),
    ("related", {"symbol": "retry", "k": "x" * 100}, "k must be an integer, got '" + "x" * 38 + "…"),
    ("related", {"symbol": "retry", "max_lines": False}, "max_lines must be an integer, got false"),
    ("search", {"query": "retry", "k": True}, "k must be an integer, got true"),
    ("search", {"k": True}, "search needs query (a string)"),
    ("index_status", {"verbose": True}, "index_status takes no argument 'verbose'; it takes none"),
]


def test_a_missing_or_wrongly_typed_argument_is_one_sentence_for_every_tool(repo: Path) -> None:
    async def scenario() -> None:
        async with stdio_client(_server(repo)) as (read, write_), ClientSession(read, write_) as session:
            await session.initialize()
            for tool, arguments, message in MISTYPED:
                error, text = await _call(session, tool, arguments)
                assert error and text == message, (tool, arguments, text)
            error, found = await _call(session, "search", {"query": "retry", "k": 1})
            assert not error and found["results"]  # still alive

    asyncio.run(scenario())


def test_related_takes_path_and_line_or_symbol_one_of_them_like_the_cli(repo: Path) -> None:
    """Like ``codesearch related FILE:LINE --symbol NAME``, which refuses: never quietly the symbol."""
    async def scenario() -> None:
        async with stdio_client(_server(repo)) as (read, write_), ClientSession(read, write_) as session:
            await session.initialize()
            for arguments, message in [
                ({"path": "httpkit/retry.py", "line": 29, "symbol": "retry_call"},
                 "give path and line, or symbol (one of them)"),
                ({"path": "httpkit/retry.py", "symbol": "retry_call"}, "give path and line, or symbol (one of them)"),
                ({"line": 29, "symbol": "retry_call"}, "give path and line, or symbol (one of them)"),
                ({"path": "httpkit/retry.py"}, "give line with path (any line inside the definition)"),
                ({"line": 29}, "give path with line (the file the line is in)"),
                ({}, "related needs path and line, or symbol"),
            ]:
                error, text = await _call(session, "related", arguments)
                assert error and text.endswith(message) and "\n" not in text, (arguments, text)
            error, found = await _call(session, "related", {"symbol": "retry_call", "k": 2})
            assert not error and found["source"]["qualname"] == "retry_call"
            error, found = await _call(session, "related", {"path": "httpkit/retry.py", "line": 29, "k": 2})
            assert not error and found["source"]["qualname"] == "RetryPolicy.backoff"

    asyncio.run(scenario())


def test_two_servers_on_one_repository_do_not_corrupt_the_index(repo: Path) -> None:
    async def client(tag: str) -> list[str]:
        seen = []
        async with stdio_client(_server(repo)) as (read, write_), ClientSession(read, write_) as session:
            await session.initialize()
            for n in range(3):
                write(repo, f"gen/{tag}_{n}.py", f'def handler_{tag}_{n}(request):\n    """Handle request {n}."""\n')
                error, found = await _call(session, "search", {"query": f"handler {tag} {n}", "k": 5})
                assert not error, found
                seen.extend(r["qualname"] for r in found["results"])
        return seen

    async def both() -> list[list[str]]:
        return await asyncio.gather(client("a"), client("b"))

    a, b = asyncio.run(both())
    assert "handler_a_0" in a and "handler_b_0" in b
    check = subprocess.run([CODESEARCH, "index", str(repo), "--json", "--workers", "1"], capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    with Searcher(repo / ".codesearch") as searcher:
        assert searcher.reader.conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert searcher.vectors.count == searcher.reader.conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        names = {r[0] for r in searcher.reader.conn.execute("SELECT name FROM chunks")}
    assert {f"handler_{t}_{n}" for t in "ab" for n in range(3)} <= names


def _rpc(proc: subprocess.Popen, message: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write((json.dumps(message) + "\n").encode())
    proc.stdin.flush()


def _reply(proc: subprocess.Popen, wanted: int, timeout: float = 120) -> dict[str, Any]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        message = json.loads(line)
        if message.get("id") == wanted:
            return message
    raise AssertionError("no reply from the server")


def test_a_server_killed_mid_refresh_leaves_the_index_usable(repo: Path) -> None:
    """Raw JSON-RPC, so that the test knows the server's pid and can SIGKILL it 0.3 s into a refresh of 150
    changed files (whether it dies mid-run or just after, the index must open)."""
    for n in range(150):
        write(repo, f"bulk/mod_{n}.py", "".join(f'def f_{n}_{m}(x):\n    """Step {m} of {n}."""\n    return x\n\n'
                                               for m in range(10)))
    proc = subprocess.Popen([CODESEARCH, "mcp", str(repo), "--workers", "1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        _rpc(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                               "clientInfo": {"name": "test", "version": "0"}}})
        _reply(proc, 1)
        _rpc(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _rpc(proc, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                    "params": {"name": "search", "arguments": {"query": "step of", "k": 1}}})
        assert not _reply(proc, 2)["result"].get("isError")
        for n in range(150):  # every file changes: the next call starts a long refresh
            write(repo, f"bulk/mod_{n}.py", f'def g_{n}(y):\n    """Changed {n}."""\n    return y\n')
        _rpc(proc, {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                    "params": {"name": "search", "arguments": {"query": "changed", "k": 1}}})
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with Searcher(repo / ".codesearch") as searcher:  # the previous (or the new) generation, whole
        assert searcher.vectors.count == searcher.reader.conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        assert searcher.search("retry a failed request", 1)
    done = subprocess.run([CODESEARCH, "index", str(repo), "--json", "--workers", "1"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["chunks_total"] > 0


def test_a_compact_result_carries_its_rank() -> None:
    """Results carried only `score` (the cosine), which is not their order: an agent re-sorting by it reversed
    the ranking (0.64, 0.56, 0.46, 0.48, 0.75 over five results)."""
    from codesearch.mcp_server import compact
    from codesearch.search import SearchResult

    hits = [SearchResult(rank=n, score=score, key=f"a.py::f{n}", path="a.py", root="/r", language="python",
                         kind="function", name=f"f{n}", qualname=f"f{n}", signature="", doc="",
                         code=f"def f{n}(): pass", start_line=n, end_line=n) for n, score in ((1, 0.64), (2, 0.75))]
    assert [compact(hit, 12)["rank"] for hit in hits] == [1, 2]
    assert list(compact(hits[0], 12))[:2] == ["rank", "path"]


def test_a_doc_comment_above_the_code_comes_with_the_result() -> None:
    """An agent read `func (o *CloneOptions) Validate() error {` without what it is for: a Go, Rust, Java or JS doc
    comment stands above the code, outside the snippet (a Python docstring is in it, and is not sent twice)."""
    from codesearch.mcp_server import DOC_CHARS, compact
    from codesearch.search import SearchResult

    def hit(doc: str, code: str) -> SearchResult:
        return SearchResult(rank=1, score=0.6, key="o.go::Validate", path="o.go", root="/r", language="go",
                            kind="method", name="Validate", qualname="CloneOptions.Validate", signature="", doc=doc,
                            code=code, start_line=70, end_line=72)

    go = compact(hit("Validate validates the fields and sets the defaults.\n\nIt is called by Clone.",
                     "func (o *CloneOptions) Validate() error {\n\treturn nil\n}"), 12)
    assert go["doc"] == "Validate validates the fields and sets the defaults."
    python = compact(hit("Retry a failed request.", 'def retry():\n    """Retry a failed request."""'), 12)
    assert "doc" not in python and "doc" not in compact(hit("", "func f() {}"), 12)
    assert len(compact(hit("word " * 500, "func f() {}"), 12)["doc"]) == DOC_CHARS


def test_a_path_filter_outside_the_repository_or_matching_nothing_says_so(repo: Path) -> None:
    """An agent's `path: "../../etc/*"`, `"/etc/passwd"` or `"nonexistent_dir"` gave `results: []` without a word;
    errors from the tool read "Error executing tool search: ..." while the argument checks' did not."""
    async def scenario() -> None:
        async with stdio_client(_server(repo)) as (read, write_), ClientSession(read, write_) as session:
            await session.initialize()
            for path in ("../../etc/*", "/etc/passwd"):
                error, text = await _call(session, "search", {"query": "retry", "path": path})
                assert error and text == f"path {path} is outside the repository {repo.resolve()}", text
            error, found = await _call(session, "search", {"query": "retry", "path": "nonexistent_dir"})
            assert not error and found["results"] == [] and found["note"] == (
                "no indexed file matches path 'nonexistent_dir'")
            error, found = await _call(session, "search", {"query": "retry", "path": str(repo / "*.py")})
            assert not error and found["results"] and "note" not in found
            error, text = await _call(session, "search", {"query": "retry", "language": "klingon"})
            assert error and not text.startswith("Error executing tool"), text

    asyncio.run(scenario())


def test_an_agents_second_round_subdirectory_globs_weak_answers_and_skipped_directories(repo: Path) -> None:
    """A coding agent's review: a server started in a subdirectory of an indexed repository built a second, partial
    index there; `exclude: "tests/*,docs/*"` was one glob and a list was refused; `path: "retry.py"` matched
    nothing; noise came back with no word that every hit was weak; a directory skipped as build output was only a
    count in `index_status`, and `path: "build/*"` said only that nothing matched; the arguments had titles, no
    meaning; the answer's text was indented JSON (about a seventh of it spaces)."""
    write(repo, "lib/helpers.py", "def helper():\n    return 1\n")
    write(repo, "build/build_validation.py", "def build_validation_schema():\n    return {}\n")
    write(repo, "tests/test_retry.py", "def test_retry_backoff():\n    '''Retry a failed request.'''\n")
    indexed = subprocess.run([CODESEARCH, "index", str(repo), "-q", "--workers", "1"], capture_output=True, text=True)
    assert indexed.returncode == 0, indexed.stderr

    async def scenario() -> None:
        async with stdio_client(_server(repo / "httpkit")) as (read, write_), ClientSession(read, write_) as session:
            await session.initialize()
            for tool in (await session.list_tools()).tools:  # what each argument means, where an agent reads it
                assert all(prop.get("description") for prop in tool.input_schema["properties"].values()), tool
            raw = await session.call_tool("search", {"query": "retry a failed request", "k": 3})
            assert "\n" not in raw.content[0].text and json.loads(raw.content[0].text)["results"]  # one line
            error, status = await _call(session, "index_status", {})
            assert not error and status["root"] == str(repo.resolve()), status
            assert {"path": "build", "reason": status["skipped"][0]["reason"]} in status["skipped"]
            assert "build output" in status["skipped"][0]["reason"]
            error, found = await _call(session, "search", {"query": "retry a failed request", "k": 20})
            assert not error and any(r["path"].startswith("tests/") for r in found["results"])
            for exclude in (["tests", "docs"], "tests"):
                error, found = await _call(session, "search", {"query": "retry a failed request", "k": 20,
                                                               "exclude": exclude})
                assert not error and found["results"], found
                assert not any(r["path"].startswith("tests/") for r in found["results"])
            error, found = await _call(session, "search", {"query": "retry", "path": "retry.py"})
            assert not error and {r["path"] for r in found["results"]} == {"httpkit/retry.py"}
            error, found = await _call(session, "search", {"query": "retry", "kind": ["function", "method"]})
            assert not error and {r["kind"] for r in found["results"]} <= {"function", "method"}
            error, found = await _call(session, "search", {"query": "validation schema", "path": "build/*"})
            assert not error and found["results"] == [] and "build was skipped: build output" in found["note"]
            error, found = await _call(session, "search", {"query": "zzqx quantum entanglement of marmalade"})
            assert not error and found["note"].startswith("weak matches only"), found
            error, found = await _call(session, "search", {"query": "retry a failed request with backoff"})
            assert not error and "note" not in found
        assert not (repo / "httpkit" / ".codesearch").exists()

    asyncio.run(scenario())


def test_an_agents_third_round_kinds_in_any_case_everything_excluded_and_index_runs(repo: Path) -> None:
    """A coding agent on Java, PHP, Ruby and TypeScript codebases: `kind: "Function"` was refused while `language:
    "Java"` was taken; `exclude: "*"` answered an empty list without a word; `related`'s `k` spoke of `by_file`,
    which it refuses; `index_status`'s last index run had no time zone (`updated_at` had) and said only "(first
    use)" of what the first run did."""
    async def scenario() -> None:
        async with stdio_client(_server(repo)) as (read, write_), ClientSession(read, write_) as session:
            await session.initialize()
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert "by_file" not in tools["related"].input_schema["properties"]["k"]["description"]
            error, found = await _call(session, "search", {"query": "retry a failed request", "kind": "Function"})
            assert not error and found["results"] and {r["kind"] for r in found["results"]} == {"function"}, found
            error, found = await _call(session, "search", {"query": "retry", "exclude": "*"})
            assert not error and found["results"] == [] and found["note"] == "exclude '*' leaves out every indexed file"
            error, status = await _call(session, "index_status", {})
            run = status["last_index_run"]
            assert not error and run["at"].endswith("+00:00") and status["updated_at"].endswith("+00:00")
            assert run["files_parsed"] >= 8 and run["chunks_added"] == status["chunks"], status

    asyncio.run(scenario())


def test_a_read_only_server_names_the_files_added_and_deleted_since_the_last_index_run(repo: Path) -> None:
    """The recheck: `mcp --read-only` answered a search after a test file was deleted and another added without a
    word of either (the CLI's JSON names them: `deleted`, `unindexed`); a server that indexes has none to name."""
    from click.testing import CliRunner

    from codesearch.cli import cli

    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    gone = next(p for p in sorted(repo.rglob("*.py")) if ".codesearch" not in p.parts and "httpkit" in p.parts)
    gone.unlink()
    write(repo, "httpkit/brand_new.py", "def brand_new_redirect_tester():\n    return 1\n")

    async def scenario(*extra: str) -> dict[str, Any]:
        async with stdio_client(_server(repo, *extra)) as (read, write_), ClientSession(read, write_) as session:
            await session.initialize()
            error, found = await _call(session, "search", {"query": "retry a failed request", "k": 2})
            assert not error, found
            return found

    read_only = asyncio.run(scenario("--read-only"))
    assert read_only["deleted"]["paths"] == [gone.relative_to(repo).as_posix()]
    assert read_only["unindexed"]["paths"] == ["httpkit/brand_new.py"]
    indexing = asyncio.run(scenario())
    assert "deleted" not in indexing and "unindexed" not in indexing
