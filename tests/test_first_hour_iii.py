"""What a new user trips over in the first hour, round three: the languages added by issue 22 and the files
without a grammar, each case as a test (found by a black-box review on walkdir, sds, telescope.nvim, plug,
okio, Alamofire and nvm)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.mcp_server import compact
from codesearch.render import shown_path
from codesearch.search import Searcher
from indexer.discover import content_problem
from tests.conftest import edited_db, write


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


LOGO = '"data:image/png;base64,' + "iVBORw0KGgo" * 600 + '"'
DEBUGGER_EX = ("defmodule Plug.Debugger do\n  @moduledoc \"Shows a page with the stack trace in development.\"\n"
               f"  @default_style %{{\n    primary: \"#4e2a8e\",\n    logo:\n      {LOGO},\n"
               "    font: \"menlo\"\n  }\n\n"
               + "".join(f"  def frame_{n}(conn), do: render_frame(conn, {n})\n\n" for n in range(60))
               + "  def render_error_page(conn, stack) do\n    # Render the error page with the stack trace.\n"
               "    Enum.map(stack, &format_frame/1)\n  end\nend\n")


def test_a_source_file_with_a_few_long_lines_is_indexed_and_shows_them_cut(tmp_path: Path) -> None:
    """plug's debugger.ex (589 lines, two of 36,678 characters: its logo) was skipped whole as minified;
    a minified file (most of it on a few lines) still is."""
    assert content_problem(DEBUGGER_EX.encode()) is None
    assert "minified" in (content_problem(f"const logo = {LOGO};\nexport default logo;\n".encode()) or "")
    write(tmp_path, "lib/plug/debugger.ex", DEBUGGER_EX)
    out = run("index", str(tmp_path))
    assert out.exit_code == 0 and "Skipped" not in out.output, out.output
    found = run("search", "--fast", "--json", "render the error page with the stack trace", str(tmp_path))
    assert "Plug.Debugger.render_error_page" in [r["qualname"] for r in json.loads(found.output)["results"]]
    shown = run("search", "--fast", "--max-lines", "8", "default style logo", str(tmp_path))
    # the long line cut, or (the module's code is cut inside it: no outline) the rest named as in the file
    assert ("more characters)" in shown.output or "the index keeps its first 4,000 characters" in shown.output) \
        and max(map(len, shown.output.splitlines())) < 500, shown.output
    with Searcher(tmp_path / ".codesearch") as searcher:  # an agent's snippet is cut the same way
        top = searcher.search("default style logo", k=1)[0]
    assert max(map(len, top.code.splitlines())) > 1000 and max(map(len, compact(top, 8)["snippet"].splitlines())) < 500


CI_YML = ("name: update readme TOC\non: [push]\njobs:\n  toc:\n    runs-on: ubuntu-latest\n    steps:\n"
          "    # pulls all tags (needed for semantic release to correctly version)\n"
          "    - run: git fetch --depth=1 origin +refs/tags/*:refs/tags/*\n    - run: npm run doctoc\n")
CARGO_TOML = ('[package]\nname = "semver-tools"\nversion = "1.2.0"\n'
              'description = "Install and switch between node versions"\n')
VERSIONS_SH = ("nvm_version_greater() {\n  # exit 0 when the first version is greater than the second\n"
               "  command awk 'BEGIN { split(ARGV[1], a, /\\./); split(ARGV[2], b, /\\./); }' \"${1#v}\" \"${2#v}\"\n"
               "}\n")


def test_ci_pipelines_and_package_manifests_wait_unless_asked_for(tmp_path: Path) -> None:
    """nvm's `.github/workflows/toc.yml` was first for "compare two semantic versions" (its comment says
    "semantic release to correctly version"), ahead of the function; a query about the CI still finds it."""
    write(tmp_path, ".github/workflows/toc.yml", CI_YML)
    write(tmp_path, "Cargo.toml", CARGO_TOML)
    write(tmp_path, "nvm.sh", VERSIONS_SH)
    assert run("index", str(tmp_path), "-q").exit_code == 0

    def paths(query: str) -> list[str]:
        out = run("search", "--fast", "--json", query, str(tmp_path))
        return [r["path"] for r in json.loads(out.output)["results"]]

    assert paths("compare two semantic versions")[0] == "nvm.sh"
    assert paths("ci workflow that updates the readme toc")[0] == ".github/workflows/toc.yml"
    assert paths("cargo package version")[0] == "Cargo.toml"


def test_a_name_lists_every_overload_even_when_many_other_scopes_share_it(tmp_path: Path) -> None:
    """Alamofire's `Session.request`: four overloads in Session.swift, 113 chunks named `request` in all; the
    definitions looked up by name took the first 50 (one of the four), and the others waited as further chunks
    of their file. Now the named scope's chunks are looked up first and every overload is listed."""
    overloads = "".join(f"    /** Create a request, form {n}. */\n    public Request request("
                        f"{'String url, ' * n}int n) {{\n        return new Request({n});\n    }}\n\n"
                        for n in range(1, 5))
    write(tmp_path, "src/Session.java", "public class Session {\n" + overloads + "}\n")
    for n in range(60):
        write(tmp_path, f"src/monitors/Monitor{n:02}.java", f"public class Monitor{n:02} {{\n    public void request("
              f"Request request) {{\n        log(\"request\", request);\n    }}\n}}\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    out = run("search", "--fast", "--json", "-k", "5", "Session.request", str(tmp_path))
    hits = [(r["qualname"], r["start_line"]) for r in json.loads(out.output)["results"]]
    assert sorted(hits[:4]) == [("Session.request", line) for line in (3, 8, 13, 18)], hits


LINKED_LIST_LUA = ("local LinkedList = {}\n\n-- Drop the nodes past the given size.\n"
                   "function LinkedList:truncate(size)\n  self.size = size\nend\n\nreturn LinkedList\n")


def test_a_lua_method_written_with_a_colon_is_a_name(tmp_path: Path) -> None:
    """`Picker:find` is how Lua writes (and calls) the method `Picker.find`: it was read as words, and the
    method was not in the first ten; `Picker.find` found it first."""
    write(tmp_path, "lua/linked_list.lua", LINKED_LIST_LUA)
    for n in range(30):
        write(tmp_path, f"lua/list_{n}.lua", f"local List{n} = {{}}\n\n-- Truncate the list.\n"
              f"function List{n}:truncate(size)\n  self.items = vim.list_slice(self.items, 1, size)\nend\n\n"
              f"return List{n}\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    out = run("search", "--fast", "--json", "-k", "3", "LinkedList:truncate", str(tmp_path))
    assert json.loads(out.output)["results"][0]["qualname"] == "LinkedList.truncate", out.output


def test_spec_files_and_vim_script_are_indexed_and_an_unread_file_says_so(tmp_path: Path) -> None:
    """`Alamofire.podspec` (Ruby), `telescope.nvim-scm-1.rockspec` (Lua) and `minimal_init.vim` were not indexed,
    and a search of such a file said only "No results."."""
    write(tmp_path, "Alamofire.podspec", "Pod::Spec.new do |s|\n  s.name = 'Alamofire'\n  s.version = '5.10.2'\nend\n")
    write(tmp_path, "telescope-scm-1.rockspec", 'package = "telescope.nvim"\nversion = "scm-1"\n')
    write(tmp_path, "scripts/minimal_init.vim", "set rtp+=.\nruntime plugin/plenary.vim\n")
    write(tmp_path, "NOTES.md", "Release notes.\n")
    out = run("index", str(tmp_path), "--json")
    assert json.loads(out.output)["files_by_language"] == {"ruby": 1, "lua": 1, "text": 1}, out.output
    shown = run("search", "--fast", "release notes", str(tmp_path / "NOTES.md"))
    assert shown.exit_code == 1 and "NOTES.md is not indexed (not read: codesearch leaves out prose" in shown.output


SDS_H = ("/* SDSLib 2.0 -- A C dynamic strings library\n *\n" + " * Redistribution and use permitted.\n" * 30
         + " */\n\n#ifndef __SDS_H\n#define __SDS_H\n\n#define SDS_MAX_PREALLOC (1024*1024)\n"
         "extern const char *SDS_NOINIT;\n\n#include <sys/types.h>\n\ntypedef char *sds;\n\n"
         "sds sdsnewlen(const void *init, size_t initlen);\n#endif\n")


def test_a_name_points_at_its_line_inside_a_longer_hit(tmp_path: Path) -> None:
    """`SDS_MAX_PREALLOC` is defined on line 38 of sds.h's opening chunk (a licence first): grep output said
    sds.h:1, and the snippet showed the licence; rg -n lands on the line."""
    write(tmp_path, "sds.h", SDS_H)
    line = SDS_H.split("\n").index("#define SDS_MAX_PREALLOC (1024*1024)") + 1
    assert run("index", str(tmp_path), "-q").exit_code == 0
    grep = run("search", "--fast", "-f", "grep", "-k", "1", "SDS_MAX_PREALLOC", str(tmp_path))
    assert f"sds.h:{line}: " in grep.output, grep.output
    text = run("search", "--fast", "-k", "1", "SDS_MAX_PREALLOC", str(tmp_path))
    assert "#define SDS_MAX_PREALLOC" in text.output and "Redistribution" not in text.output, text.output
    found = json.loads(run("search", "--fast", "--json", "-k", "1", "SDS_MAX_PREALLOC", str(tmp_path)).output)
    assert found["results"][0]["line"] == line and found["results"][0]["start_line"] == 1
    with Searcher(tmp_path / ".codesearch") as searcher:
        agent = compact(searcher.search("SDS_MAX_PREALLOC", k=1)[0], 12)
    # from the line itself: the one before it is blank (first hour IX)
    assert agent["line"] == line and agent["snippet_start_line"] == line, agent
    assert agent["snippet"].split("\n")[0] == "#define SDS_MAX_PREALLOC (1024*1024)", agent
    plain = json.loads(run("search", "--fast", "--json", "-k", "1", "string library", str(tmp_path)).output)
    assert plain["results"][0]["line"] == 0  # a question has no name to point at


STATIC_EX = ('def etag_for_path(path):\n    """Compute the etag of a static file from its size and mtime."""\n'
             '    return hash(path)\n\n\ndef serve(conn):\n    return conn\n')


def test_a_function_renamed_since_indexing_is_still_found_under_its_new_name(tmp_path: Path) -> None:
    """plug's `etag_for_path`, renamed `compute_strong_etag` without `codesearch index`: its hit was dropped (its
    key was gone from the changed file) and the question found only other code until the next index run."""
    write(tmp_path, "static.py", STATIC_EX)
    assert run("index", str(tmp_path), "-q").exit_code == 0
    (tmp_path / "static.py").write_text("\n\n" + STATIC_EX.replace("etag_for_path", "compute_strong_etag"))
    out = run("search", "--fast", "--json", "-k", "2", "where is the etag of a static file computed", str(tmp_path))
    top = json.loads(out.output)["results"][0]
    assert (top["qualname"], top["start_line"], top["stale"]) == ("compute_strong_etag", 3, True), top
    assert top["code"].startswith("def compute_strong_etag(path):")
    (tmp_path / "static.py").write_text("def serve(conn):\n    return conn\n")  # deleted, not renamed: dropped
    out = run("search", "--fast", "--json", "-k", "2", "where is the etag of a static file computed", str(tmp_path))
    assert [r["qualname"] for r in json.loads(out.output)["results"]] == ["serve"]


LEDGER_RB = "# Reconcile the ledger balances.\ndef reconcile_ledger(entries)\n  entries.sum\nend\n"


def test_a_changed_file_its_grammar_refuses_keeps_its_hits_as_line_windows(tmp_path: Path) -> None:
    """A file changed after indexing into bytes its grammar refuses (here, brackets nested past the limit; a
    black-box review appended 150,000 `<!--` lines, whose parse runs to its deadline) lost its hits at every
    search, each paying the parse again. Now the hit moves to the line window that holds its first line, and
    the refusal is remembered, so later searches read the file as windows without parsing it."""
    from codesearch.reparse import windowed
    from indexer.discover import source_bytes

    write(tmp_path, "ledger.rb", LEDGER_RB)
    assert run("index", str(tmp_path), "-q").exit_code == 0
    changed = LEDGER_RB + "x = " + "(\n" * 6000
    (tmp_path / "ledger.rb").write_text(changed)
    digest = __import__("hashlib").sha1(source_bytes("ruby", changed.encode())).hexdigest()
    assert not windowed("ruby", digest)
    for _ in range(2):
        out = run("search", "--fast", "--json", "-k", "1", "reconcile the ledger balances", str(tmp_path))
        top = json.loads(out.output)["results"][0]
        assert (top["path"], top["start_line"], top["stale"]) == ("ledger.rb", 1, True), top
        assert "def reconcile_ledger(entries)" in top["code"] and top["kind"] == "code"
        assert windowed("ruby", digest)


def test_a_search_parses_a_changed_file_for_at_most_its_own_deadline() -> None:
    """The indexer's deadline for 750 KB is 7.7 s; a search gives a changed file ``SEARCH_PARSE_SECONDS``
    (the next index run parses it with the full deadline)."""
    import pytest

    from codesearch.reparse import SEARCH_PARSE_SECONDS
    from indexer.chunk import chunks_or_windows
    from indexer.languages import parser
    from indexer.parse import parse_bounded
    from indexer.types import SourceFile, Unindexable

    hostile = LEDGER_RB.encode() + b"<!--\n" * 20_000
    with pytest.raises(Unindexable, match="over 0.1 s"):
        parse_bounded(parser("ruby"), hostile, max_seconds=0.1)
    chunks, refused = chunks_or_windows(SourceFile("ledger.rb", "ruby", hostile, 0, 0), SEARCH_PARSE_SECONDS)
    assert f"over {SEARCH_PARSE_SECONDS:.1f} s" in refused and chunks[0].start_line == 1


@pytest.mark.parametrize("wait", [0.1, 0.25, 1.0])
def test_ctrl_c_stops_an_index_run_at_once_in_one_line_while_workers_parse(tmp_path: Path, wait: float) -> None:
    """Ctrl-C reaches the whole process group: each worker printed multiprocessing's KeyboardInterrupt
    traceback before the run's one line. Workers end quietly now, and the run stops them at once; also while
    they are still starting (``wait`` 0.1 or 0.25: a worker imports for a second before its handler is set, and printed
    the traceback from there)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import pytest

    if not sys.platform.startswith("linux"):
        pytest.skip("reads the process tree from /proc")
    for n in range(300):
        write(tmp_path, f"src/m{n}.py", "".join(f"def handler_{n}_{j}(req):\n    return {j}\n" for j in range(20)))
    for n in range(4):  # each parses until its deadline: the workers are busy when Ctrl-C comes
        write(tmp_path, f"src/slow{n}.lua", "local s = [" + "=\n" * 60000 + "[ x ]\n")
    child = subprocess.Popen([str(Path(sys.executable).with_name("codesearch")), "index", str(tmp_path), "-q",
                              "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True,
                             env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONFAULTHANDLER": "1"},
                             # A test run started in the background (`pytest &` in a script, as a CI job may be)
                             # ignores SIGINT, and so would the run it starts: it indexed to the end, silently.
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    children = Path(f"/proc/{child.pid}/task/{child.pid}/children")

    def workers() -> int:  # the pool's processes (the resource tracker is a child too)
        found = 0
        for pid in children.read_text().split():
            try:
                found += b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                pass
        return found

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None and workers() < 1:
        time.sleep(0.01)
    time.sleep(wait)
    assert child.poll() is None, child.communicate()
    started = time.monotonic()
    os.killpg(child.pid, signal.SIGINT)
    try:
        _, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # once in CI, under load: where each of its threads waits, for the next time
        os.kill(child.pid, signal.SIGABRT)  # faulthandler prints every thread's stack
        _, err = child.communicate(timeout=30)
        pytest.fail(f"the index run did not end within 60 s of Ctrl-C; its threads:\n{err[-8000:]}")
    assert time.monotonic() - started < 15, err  # not every busy worker waited for to its parse deadline
    assert "Traceback" not in err and "Interrupted" in err, err


def test_hostile_review_ii_names_line_ends_nul_bytes_and_empty_files(tmp_path: Path) -> None:
    """A 6,000-character function name filled the header and grep lines; Windows line ends showed as `\\r` at the
    end of every snippet line; a NUL past the first 8 KB ended the definitions of a C or Python file there; a file
    with no chunk (only closing brackets) was counted by language but left out of the table."""
    from tests.conftest import symbols_of

    late_nul = ("".join(f"int f{i}(void) {{ return {i}; }}\n" for i in range(3000))
                + "/* \0 */\n/* Compress the backup archive. */\nint archive(void) { return 0; }\n")
    assert "archive" in symbols_of("c", late_nul)
    late_nul_py = ("".join(f"def f{i}():\n    return {i}\n" for i in range(3000))
                   + "# \0\n# Compress the backup archive.\ndef archive(x):\n    pass\n")
    assert "archive" in symbols_of("python", late_nul_py)

    long_name = "handle_" + "a" * 6000
    write(tmp_path, "upper.py", f"def {long_name}():\n    return 1\n" + "# filler\n" * 400)
    write(tmp_path, "profile.py", "def load_user_profile(uid):\r\n    '''Load the profile of a user.'''\r\n"
          "    return {'uid': uid}\r\n")
    write(tmp_path, "deep.cpp", "}\n" * 10)
    report = run("index", str(tmp_path))
    assert report.exit_code == 0 and "cpp" in report.output and "0 chunks" in report.output, report.output
    assert "cpp" in run("stats", str(tmp_path)).output
    for fmt in ("text", "grep"):
        out = run("search", "--fast", "-f", fmt, "-k", "1", "handle", str(tmp_path))
        assert max(map(len, out.output.splitlines())) < 500 and "more characters)" in out.output, out.output[:300]
    profile = run("search", "--fast", "-k", "1", "load the profile of a user", str(tmp_path))
    assert "def load_user_profile(uid):\n" in profile.output and "\\r" not in profile.output, profile.output


def test_a_search_that_spent_its_parse_time_reads_further_changed_files_as_windows_for_itself_only(
        tmp_path: Path) -> None:
    """Twelve changed files whose grammar gives up at its deadline took a search 16 s: past its
    ``SEARCH_PARSE_BUDGET`` a search reads changed files as line windows, and the next search parses them."""
    import hashlib
    import os

    from codesearch.freshness import CHANGED, FileChecks, check_file

    path = write(tmp_path, "ledger.py", "def reconcile_ledger(entries):\n    return sum(entries)\n")
    st = os.stat(path)
    indexed = (st.st_size - 1, st.st_mtime_ns, st.st_ctime_ns, hashlib.sha1(b"old").hexdigest())  # it changed
    spent = FileChecks()
    spent.parse_seconds = 0.0
    check = check_file(tmp_path, "ledger.py", "python", indexed, looked=spent)
    assert check.status == CHANGED and check.windowed
    fresh = check_file(tmp_path, "ledger.py", "python", indexed, looked=FileChecks())
    assert fresh.status == CHANGED and not fresh.windowed and "ledger.py::reconcile_ledger" in fresh.chunks


def test_an_index_without_its_file_size_limit_reads_changed_files_with_the_default(tmp_path: Path) -> None:
    """The limit's fallback was ``Limits.max_bytes``, a slots dataclass's descriptor, not a number: a search of a
    changed file in an index that records no limit failed comparing a size with it."""

    write(tmp_path, "ledger.py", "def reconcile_ledger(entries):\n    return sum(entries)\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    with edited_db(tmp_path / ".codesearch" / "index.db") as db:
        db.execute("DELETE FROM meta WHERE key = 'max_file_bytes'")
    (tmp_path / "ledger.py").write_text("\n\ndef reconcile_ledger(entries):\n    return sum(entries)\n")
    with Searcher(tmp_path / ".codesearch") as searcher:
        assert searcher.reader.max_file_bytes == 1_000_000
        top = searcher.search("reconcile the ledger", k=1)[0]
    assert (top.qualname, top.start_line, top.stale) == ("reconcile_ledger", 3, True)


READ_JAVA = ("public class Read {\n    public int parse(String s) {\n" + "        s = s.trim();\n" * 30
             + "        return Integer.parseInt(s);\n    }\n\n    public static final int RETRY_LIMIT = 3;\n}\n")


def test_a_name_in_a_class_outline_is_not_given_a_line_counted_in_the_outline(tmp_path: Path) -> None:
    """A class's chunk is its outline (members' bodies left out): counting its lines put scopt's `intRead` at
    Read.scala:46, not 52. A hit whose code is not its lines as they are gets no ``line``; grep prints its start."""
    write(tmp_path, "Read.java", READ_JAVA)
    assert run("index", str(tmp_path), "-q").exit_code == 0
    real = READ_JAVA.split("\n").index("    public static final int RETRY_LIMIT = 3;") + 1
    for r in json.loads(run("search", "--fast", "--json", "RETRY_LIMIT", str(tmp_path)).output)["results"]:
        assert r["line"] in (0, real), r


SCAN_PY = ('def scan_number(text):\n    """Read a JSON number from the text."""\n    digits = []\n'
           '    for char in text:\n        if not char.isdigit():\n            break\n        digits.append(char)\n'
           '    return int("".join(digits))\n')


def test_related_leaves_out_identical_copies_of_its_source_and_a_symbol_names_one_of_them(tmp_path: Path) -> None:
    """nlohmann's amalgamated `single_include/json.hpp` holds a copy of every definition of `include/`: `related`
    listed the source's own copy first, and `--symbol` refused a name whose two definitions are copies."""
    write(tmp_path, "include/lexer.py", SCAN_PY)
    write(tmp_path, "single_include/json.py", "import re\n\n\n" + SCAN_PY + "\n\ndef scan_string(text):\n"
          '    """Read a JSON string from the text."""\n    return text.strip(\'"\')\n')
    assert run("index", str(tmp_path), "-q").exit_code == 0
    out = run("related", "--json", str(tmp_path / "include" / "lexer.py") + ":1", "-C", str(tmp_path))
    assert out.exit_code == 0, out.output
    listed = [r["qualname"] for r in json.loads(out.output)["results"]]
    assert "scan_string" in listed and "scan_number" not in listed, listed
    assert json.loads(out.output)["source"]["copies"] == ["single_include/json.py:4"]  # said once, above them
    text = run("related", str(tmp_path / "include" / "lexer.py") + ":1", "-C", str(tmp_path))
    shown = shown_path(str(tmp_path.resolve()), "single_include/json.py")  # as the hits are named
    assert f"identical at {shown}:4" in text.output.splitlines()[0], text.output
    by_name = run("related", "--json", "--symbol", "scan_number", "-C", str(tmp_path))
    assert by_name.exit_code == 0 and json.loads(by_name.output)["source"]["path"] == "include/lexer.py", by_name.output


def test_a_directory_as_a_path_or_exclude_glob_means_the_files_below_it(tmp_path: Path) -> None:
    """An agent's `path: "src"` (or `src/`, `./src/lib.py`, the absolute path) matched nothing, and
    `exclude: "src/tests"` left its tests in: only `src/*` worked."""
    from codesearch.search.options import PathFilter

    write(tmp_path, "src/walk.py", "def walk_tree(root):\n    '''Walk a directory tree.'''\n    return [root]\n")
    write(tmp_path, "src/tests/test_walk.py", "def test_walk_tree():\n    '''Walk a tree in a test.'''\n"
          "    assert walk_tree('.')\n")
    write(tmp_path, "docs/walk.py", "def walk_docs(root):\n    '''Walk the docs tree.'''\n    return root\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0

    def paths(*options: str) -> set[str]:
        out = run("search", "--fast", "--json", "walk a directory tree", str(tmp_path), *options)
        return {r["path"] for r in json.loads(out.output)["results"]}

    for glob in ("src", "src/", "./src", str(tmp_path / "src")):
        assert paths("-p", glob) == {"src/walk.py", "src/tests/test_walk.py"}, glob
    assert paths("-p", "./src/walk.py") == {"src/walk.py"}
    assert paths("-x", "src/tests") == {"src/walk.py", "docs/walk.py"}
    assert not PathFilter(include=("src",)).matches(tmp_path, "srcs/walk.py")  # a directory, not a prefix


def test_an_outline_says_it_is_one_in_json_mcp_and_text(tmp_path: Path) -> None:
    """plug's `Plug.RewriteOn` came back as `@moduledoc   @behaviour Plug`, two lines of the file joined: a module's
    outline (members' bodies left out) that nothing marked, which an agent pasted as the file's text."""
    write(tmp_path, "Read.java", READ_JAVA)
    assert run("index", str(tmp_path), "-q").exit_code == 0
    found = json.loads(run("search", "--fast", "--json", "-k", "5", "Read", str(tmp_path)).output)["results"]
    by_kind = {r["kind"]: r for r in found}
    assert by_kind["class"].get("outline") is True and "outline" not in by_kind["method"], found
    with Searcher(tmp_path / ".codesearch") as searcher:
        agent = {r.kind: compact(r, 12) for r in searcher.search("Read", k=5)}
    assert agent["class"]["outline"] is True and "outline" not in agent["method"]
    assert "class outline, java" in run("search", "--fast", "-k", "5", "Read", str(tmp_path)).output


def test_a_symbol_matched_most_strictly_by_a_test_alone_does_not_pick_the_test(tmp_path: Path) -> None:
    """walkdir's `related --symbol skip_current_dir` took the test function of that name, the strictest match,
    without a word, beside `IntoIter.skip_current_dir` and `FilterEntry.skip_current_dir`."""
    write(tmp_path, "src/walk.py", "class IntoIter:\n    def skip_current_dir(self):\n        self.depth -= 1\n\n\n"
          "class FilterEntry:\n    def skip_current_dir(self):\n        self.it.skip_current_dir()\n")
    write(tmp_path, "tests/test_walk.py", "def skip_current_dir():\n    assert True\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    out = run("related", "--symbol", "skip_current_dir", "-C", str(tmp_path))
    assert out.exit_code == 2 and "names 2 definitions" in out.output and "tests/" not in out.output, out.output
    one = run("related", "--json", "--symbol", "IntoIter.skip_current_dir", "-C", str(tmp_path))
    assert json.loads(one.output)["source"]["qualname"] == "IntoIter.skip_current_dir"


RETRY_SWIFT = ("import Foundation\n\n/// A retry policy that retries requests using an exponential backoff\n"
               "/// for allowed HTTP methods and status codes.\nopen class RetryPolicy {\n"
               "    func retry() -> Bool {\n        return true\n    }\n}\n")


def test_related_from_a_doc_comment_a_directory_or_a_new_file_says_what_it_needs(tmp_path: Path) -> None:
    """An agent's `related` on the doc comment above `RetryPolicy` said "no code at ...:4"; on a directory, "not
    in the index"; and on a new file, to run `codesearch index`, which the MCP server does by itself."""
    write(tmp_path, "Source/RetryPolicy.swift", RETRY_SWIFT)
    assert run("index", str(tmp_path), "-q").exit_code == 0
    doc = run("related", "--json", str(tmp_path / "Source" / "RetryPolicy.swift") + ":4", "-C", str(tmp_path))
    assert doc.exit_code in (0, 1) and json.loads(doc.output)["source"]["qualname"] == "RetryPolicy", doc.output
    blank = run("related", str(tmp_path / "Source" / "RetryPolicy.swift") + ":2", "-C", str(tmp_path))
    assert blank.exit_code == 2 and "the next definition is RetryPolicy at Source/RetryPolicy.swift:5" in blank.output
    folder = run("related", str(tmp_path / "Source") + ":2", "-C", str(tmp_path))
    assert folder.exit_code == 2 and "is a directory" in folder.output, folder.output
    new = run("related", str(tmp_path / "Source" / "New.swift") + ":2", "-C", str(tmp_path))
    assert new.exit_code == 2 and "no such file" in new.output and "run `codesearch index`" not in new.output
