"""What a new user trips over in the first hour, round two (issue 21): each case as a test."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from codesearch.cli import cli
from tests.conftest import write


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


OFFLINE_FLAG = "def offline_flag():\n    '''The --offline option: never reach the network.'''\n    return '--offline'\n"


def test_a_query_that_starts_with_a_dash_goes_after_e_or_after_double_dash(tmp_path: Path) -> None:
    """`-e --offline PATH` (as rg's -e PATTERN) and `-- --offline PATH` search for "--offline";
    with -e every argument is a PATH, and a missing query names -e."""
    write(tmp_path, "cli.py", OFFLINE_FLAG)
    assert run("index", str(tmp_path), "-q").exit_code == 0
    for args in (["-e", "--offline", str(tmp_path)], ["--", "--offline", str(tmp_path)],
                 ["--query=--offline", str(tmp_path)]):
        out = run("search", "--fast", "--json", *args)
        assert out.exit_code == 0, (args, out.output)
        payload = json.loads(out.output)
        assert payload["query"] == "--offline" and payload["results"][0]["name"] == "offline_flag", args
    missing = run("search", "--fast", "-e", "--offline", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "'[PATHS]...'" in missing.output and "does not exist" in missing.output
    nothing = run("search", "--fast")
    assert nothing.exit_code == 2 and "-e QUERY" in nothing.output
    assert "-e --offline" in run("search", "-h").output
