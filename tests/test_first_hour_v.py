"""A new user's first hour V: codebases in the later languages (a black-box review on elixir-lang, hledger,
awesome and expo-modules-core)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.session import RepositorySession
from tests.conftest import write


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


def test_a_filter_that_matches_nothing_in_the_index_says_so(tmp_path: Path) -> None:
    """`-l kotlin` on an index without Kotlin printed only "No results."; so did a path no indexed file matches.
    The text, the JSON and the MCP answer say which filter it was (a filter that matches and finds nothing says
    nothing more)."""
    write(tmp_path, "src/routes.py", "def add_route(rule):\n    \"\"\"Register a URL rule.\"\"\"\n    return rule\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    out = run("search", "register a url rule", str(tmp_path), "-l", "Kotlin")
    assert out.exit_code == 1 and out.output.strip() == "No results: the index has no kotlin files (it has python)."
    out = run("search", "register a url rule", str(tmp_path), "-l", "kotlin", "--json")
    assert json.loads(out.output)["note"] == "the index has no kotlin files (it has python)"
    out = run("search", "register a url rule", str(tmp_path), "-p", "lib/*")
    assert out.output.strip() == "No results: no indexed file matches path 'lib/*'."
    out = run("search", "register a url rule", str(tmp_path), "-l", "python", "--min-score", "0.99", "--json")
    assert out.exit_code == 1 and "note" not in json.loads(out.output)
    session = RepositorySession(tmp_path, workers=1)
    try:
        results = session.call(session.search, "register a url rule", 5, language="kotlin")
        assert not results and session.call(session.filtered_out, results, "kotlin", []) == {
            "note": "the index has no kotlin files (it has python)"}
    finally:
        session.close()
