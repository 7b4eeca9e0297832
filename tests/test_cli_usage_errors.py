"""A new user's usage errors (issue: a file as PATH, a PATH twice, a query with a dash, click's three-line
errors, "1 files"): each is one line on stderr naming the fix, exit code 2."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from codesearch.cli import cli
from tests.conftest import write

BACKOFF = "def wait_exponential(attempt):\n    '''Exponential backoff between retries.'''\n    return 2 ** attempt\n"
JITTER = "def wait_random_jitter(attempt):\n    '''Exponential backoff with random jitter.'''\n    return attempt\n"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="codesearch")


def one_error_line(result: Result) -> str:
    """The one line a usage error prints on stderr (nothing on stdout), exit code 2."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.output
    assert result.stderr.startswith("Error: ") and "Usage:" not in result.stderr, result.stderr
    return result.stderr.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An indexed repository with two files that match "exponential backoff", one in a subdirectory."""
    root = tmp_path / "repo"
    write(root, "tenacity/wait.py", BACKOFF)
    write(root, "tenacity/jitter.py", JITTER)
    write(root, "tenacity/sub/other.py", "def other():\n    return 1\n")
    assert run("index", str(root), "-q").exit_code == 0
    return root


def test_a_file_as_path_is_refused_in_words_where_a_directory_is_needed_and_searched_alone_by_search(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`index FILE`, `stats FILE` and `related -C FILE` say that PATH must be a directory (not click's
    "Directory 'x' is a file"); `search QUERY FILE` searches that one file, as rg does."""
    monkeypatch.chdir(repo)
    expected = "must be a directory (a repository or a folder in one), got a file: tenacity/wait.py"
    for args in (["index", "tenacity/wait.py"], ["stats", "tenacity/wait.py"],
                 ["related", "-C", "tenacity/wait.py", "-s", "wait_exponential"]):
        line = one_error_line(run(*args))
        assert expected in line and "is a file" not in line, (args, line)
    assert one_error_line(run("index", "tenacity/wait.py")).startswith(f"Error: PATH {expected}")
    assert one_error_line(run("related", "-C", "tenacity/wait.py", "-s", "x")).startswith(f"Error: --repo {expected}")
    write(repo, "tenacity/stop.py", "def stop_after_delay(delay):\n    \"\"\"Stop retrying after a delay.\"\"\"\n"
                                    "    return delay\n")
    assert run("index", str(repo)).exit_code == 0
    everywhere = run("search", "retry backoff delay", "--fast", "--format", "grep")
    assert {"tenacity/wait.py", "tenacity/stop.py"} <= {line.split(":")[0] for line in everywhere.stdout.splitlines()}
    for path in ("tenacity/stop.py", str(repo / "tenacity/stop.py")):
        found = run("search", "retry backoff delay", path, "--fast", "--format", "grep")
        assert found.exit_code == 0 and [line.split(":")[0] for line in found.stdout.splitlines()] == \
            ["tenacity/stop.py"], (path, found.output)


def test_a_repository_given_twice_or_with_its_own_subdirectory_is_named_as_given(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One PATH per repository: the same one twice is named as given (an absolute path keeps
    its leading /), and a subdirectory of another PATH says so."""
    monkeypatch.chdir(repo.parent)
    twice = one_error_line(run("search", "--fast", "x", "repo", "repo"))
    assert twice == "Error: repo is given twice (see 'codesearch search -h')"
    absolute = one_error_line(run("search", "--fast", "x", str(repo), str(repo)))
    assert absolute.startswith(f"Error: {repo} is given twice") and repo.is_absolute()
    for args in (["repo", "repo/tenacity"], ["repo/tenacity", "repo"]):
        inside = one_error_line(run("search", "--fast", "x", *args))
        assert inside.startswith("Error: repo/tenacity is inside repo, which is already searched"), (args, inside)
    nested = one_error_line(run("search", "--fast", "x", "repo/tenacity", "repo/tenacity/sub"))
    assert "repo/tenacity/sub is inside repo/tenacity, which is already searched" in nested
    # two folders of one repository, neither inside the other, are searched below each (first hour X)
    write(repo, "docs/readme.py", "def readme():\n    return 0\n")
    assert run("search", "--fast", "x", "repo/tenacity", "repo/docs").exit_code in (0, 1)


def test_a_query_that_starts_with_a_dash_is_told_to_go_after_e() -> None:
    """`search --retry` is an unknown option to click; the line also says where such a query goes."""
    line = one_error_line(run("search", "--retry"))
    assert "No such option '--retry'" in line
    assert "a query that starts with a dash goes after -e or -- (codesearch search -e '--retry')" in line
    assert "goes after -e or --" in one_error_line(run("search", "-retry"))
    assert "goes after -e" not in one_error_line(run("index", "--retry"))  # only search takes a query


@pytest.mark.parametrize("args", [
    ["search", "x", "/nonexistent/codesearch"], ["search", "x", "-k", "0"], ["search", "x", "--kind", "banana"],
    ["search"], ["index", "--wait", "-1"], ["stats", "--bogus"], ["related"], ["related", "x.py:1", "-s", "f"],
    ["resident", "--bogus"], ["index-many"], ["bench", "--bogus"], ["nosuchcommand"], ["--bogus"]])
def test_a_usage_error_is_one_line_naming_the_help(args: list[str]) -> None:
    """click's usage errors are one line on stderr, as every other error, exit code 2, naming the command's -h."""
    line = one_error_line(run(*args))
    command = "codesearch" if args[0].startswith("-") or args[0] == "nosuchcommand" else f"codesearch {args[0]}"
    assert line.endswith(f" (see '{command} -h')"), line


def test_usage_error_lines_name_the_problem() -> None:
    """The message is click's, without its final period, then where help is."""
    assert one_error_line(run("search", "x", "-k", "0")) == \
        "Error: Invalid value for '-k' / '--top-k': 0 is not in the range 1<=x<=1000 (see 'codesearch search -h')"
    assert one_error_line(run("search", "x", "--kind", "banana")).startswith(
        "Error: Invalid value for '--kind': 'banana' is not one of 'function', ")


def test_help_version_and_no_arguments_are_unchanged() -> None:
    """-h and --help print help (exit 0), -V the version, and `codesearch` alone its help (exit 2, as click)."""
    for args in (["-h"], ["--help"], ["search", "-h"], ["index", "--help"]):
        out = run(*args)
        assert out.exit_code == 0 and out.stdout.startswith("Usage: codesearch") and out.stderr == "", args
    version = run("--version")
    assert version.exit_code == 0 and "version" in version.stdout
    alone = run()
    assert alone.exit_code == 2 and "Commands:" in alone.output


def test_the_console_script_prints_a_usage_error_in_one_line() -> None:
    """The installed command (``codesearch.entry``, its fast path declining a bad value) prints the same line."""
    out = subprocess.run([sys.executable, "-m", "codesearch.entry", "search", "x", "-k", "0"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stdout == "", out
    assert out.stderr.splitlines() == [
        "Error: Invalid value for '-k' / '--top-k': 0 is not in the range 1<=x<=1000 (see 'codesearch search -h')"]


def test_the_index_summary_counts_one_file_and_one_chunk_in_the_singular(tmp_path: Path) -> None:
    """`Indexed 1 file, 1 chunk ... (1 file parsed, ...)`, and its table likewise; never "1 files"."""
    write(tmp_path, "wait.py", BACKOFF)
    out = run("index", str(tmp_path))
    assert out.exit_code == 0 and out.stdout.startswith("Indexed 1 file, 1 chunk in "), out.stdout
    assert "(1 file parsed, +1 -0 chunks)" in out.stdout
    assert not re.search(r"\b1 (files|chunks)\b", out.stdout), out.stdout


def test_ctrl_c_says_what_is_left_and_claims_no_previous_index(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A first `codesearch index` stopped by Ctrl-C said "the previous index is unchanged" (there was none), and so
    did an interrupted search (which writes nothing)."""
    import codesearch.pipeline

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    write(tmp_path, "wait.py", BACKOFF)
    monkeypatch.setattr(codesearch.pipeline, "build_index", interrupted)
    out = run("index", str(tmp_path))
    assert out.exit_code == 130 and "previous index" not in out.stderr, out.output
    assert "Interrupted; the index is as this run's last commit or the run before left it" in out.stderr


def test_arguments_that_are_not_utf8_are_one_line_errors(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bytes a terminal could not decode arrive as lone surrogates (surrogateescape): `search` ended in the
    tokenizer's TypeError and `related` in a UnicodeEncodeError, each a traceback with exit code 1."""
    monkeypatch.chdir(repo)
    for args in (["search", "retry \udcff\udcfe", "--fast"], ["related", "--symbol", "wait\udcff"],
                 ["related", "tenacity/\udcff.py:1"]):
        out = run(*args)
        assert out.exit_code == 2 and "Traceback" not in out.output, (args, out.output)
        assert "UTF-8" in out.output, out.output
    from codesearch.errors import BadQuery
    from codesearch.search import validate_query

    with pytest.raises(BadQuery, match="not UTF-8 text"):
        validate_query("retry \udcff")


def test_the_index_directory_is_no_place_to_search_or_serve(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`search QUERY repo/.codesearch` found nothing and said nothing (exit code 1); `codesearch mcp repo/.codesearch`
    indexed the index directory as a repository, inside itself."""
    from codesearch.errors import IndexNotFound
    from codesearch.session import RepositorySession

    monkeypatch.chdir(repo)
    line = one_error_line(run("search", "exponential backoff", ".codesearch", "--fast"))
    assert "is inside the index directory" in line
    with pytest.raises(IndexNotFound, match="is an index directory"):
        RepositorySession(repo / ".codesearch")
    assert not (repo / ".codesearch" / ".codesearch").exists()
