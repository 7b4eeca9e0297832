"""A new user's first hour IX: what this round's users found (2026-12-07, fourteenth round). Each test fails on the
commit before its fix."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.search import Searcher
from tests.conftest import write

WRITER = "def write_output_{n}(path):\n    '''Write the output to a file.'''\n    open(path, 'w').write('{n}')\n"


def _index(*repos) -> None:  # type: ignore[no-untyped-def]
    for repo in repos:
        assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0


def _branch_with_deletions(tmp_path):  # type: ignore[no-untyped-def]
    """A repository indexed with 30 near-identical writers in `gone/`, then `gone/` deleted (a switch to a branch
    without it), one writer left in `kept/`."""
    repo = tmp_path / "repo"
    for n in range(30):
        write(repo, f"gone/w{n:02d}.py", WRITER.format(n=n))
    write(repo, "kept/report.py",
          "def save_report(path):\n    '''Write the report to a file.'''\n    return open(path)\n")
    write(repo, "kept/other.py", "def parse_header(line):\n    return line.split(':')\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    for n in range(30):
        (repo / f"gone/w{n:02d}.py").unlink()
    (repo / "gone").rmdir()
    return repo


def test_deleted_files_do_not_take_the_places_of_the_files_still_there(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """After a switch to a branch without 336 indexed files, a new user's search found one result for `-k 10`, or
    "No results." (exit 1), and nothing said why: the deleted files' hits had filled the pool and were dropped. The
    search runs again without them, and says they were left out (text, JSON `deleted`, grep on stderr)."""
    repo = _branch_with_deletions(tmp_path)
    with Searcher(repo / ".codesearch") as searcher:
        found = searcher.search("write the output to a file", k=2)
    assert [r.path for r in found] == ["kept/report.py", "kept/other.py"]
    text = CliRunner().invoke(cli, ["search", "write the output to a file", str(repo), "-k", "2"])
    assert text.exit_code == 0
    first = text.output.splitlines()[0]
    assert first.startswith("Not searched: 30 indexed files deleted since the last index run (")
    assert "gone/w00.py" in first and "run `codesearch index` to drop them" in first
    payload = json.loads(CliRunner().invoke(cli, ["search", "write the output to a file", str(repo), "--json"]).output)
    assert payload["deleted"]["files"] == 30 and payload["deleted"]["paths"][0] == "gone/w00.py"
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(resources.files("codesearch").joinpath("schema", "search.schema.json").read_text())
    jsonschema.validate(payload, schema)
    grep = CliRunner().invoke(cli, ["search", "write the output to a file", str(repo), "--format", "grep"])
    assert "Not searched: 30 indexed files deleted" in grep.stderr and "Not searched" not in grep.stdout
    inside = CliRunner().invoke(cli, ["search", "write the output to a file", str(repo / "kept")]).output
    assert "Not searched" not in inside  # the directory searched lost nothing
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    again = json.loads(CliRunner().invoke(cli, ["search", "write the output to a file", str(repo), "--json"]).output)
    assert "deleted" not in again


def test_several_repositories_leave_out_deleted_files_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo = _branch_with_deletions(tmp_path)
    other = tmp_path / "other"
    write(other, "util.py", "def unrelated_helper():\n    return 1\n")
    assert CliRunner().invoke(cli, ["index", str(other), "-q"]).exit_code == 0
    ran = CliRunner().invoke(cli, ["search", "write the output to a file", str(repo), str(other), "-k", "3",
                                   "--json"])
    payload = json.loads(ran.output)
    assert {r["path"] for r in payload["results"]} == {"repo/kept/report.py", "repo/kept/other.py",
                                                      "other/util.py"}
    assert payload["deleted"]["files"] == 30


def test_grep_and_jsonl_say_on_stderr_that_every_hit_is_weak(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`--format grep` printed a made-up query's two weak hits as answers, exit 0, with nothing on stderr; the text
    format warns (`Weak matches only ...`) and JSON has `note`. grep and jsonl say it on stderr, their stdout
    unchanged; a good query's output says nothing there."""
    repo = _branch_with_deletions(tmp_path)
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    text = CliRunner().invoke(cli, ["search", "frobnicate the warp drive plasma", str(repo), "-k", "2"]).output
    assert "Weak matches only" in text
    for fmt in ("grep", "jsonl"):
        ran = CliRunner().invoke(cli, ["search", "frobnicate the warp drive plasma", str(repo), "-k", "2",
                                       "--format", fmt])
        assert ran.exit_code == 0 and ran.stdout.strip()
        assert ran.stderr.startswith("Weak matches only (best similarity ") and "Weak" not in ran.stdout
        good = CliRunner().invoke(cli, ["search", "save the report", str(repo), "-k", "2", "--format", fmt])
        assert good.exit_code == 0 and good.stderr == ""


def test_a_subdirectory_among_several_paths_is_searched_alone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`search "parse" mono/fastroute-php repos/humantime-rs` searched the whole of `mono`, silently (a single
    PATH that is a subdirectory searches only below it). Each PATH that is a subdirectory restricts its repository;
    --all searches the whole repositories."""
    mono, other = tmp_path / "mono", tmp_path / "other"
    write(mono, "routes/parser.py", "def parse_route(text):\n    '''Parse a route pattern.'''\n    return text\n")
    write(mono, "glob/parser.py", "def parse_glob(text):\n    '''Parse a glob pattern.'''\n    return text\n")
    write(other, "duration.py", "def parse_duration(text):\n    '''Parse a duration.'''\n    return text\n")
    _index(mono, other)
    ran = CliRunner().invoke(cli, ["search", "parse a pattern", str(mono / "routes"), str(other), "--json"])
    assert {r["qualname"] for r in json.loads(ran.output)["results"]} == {"parse_route", "parse_duration"}
    everything = CliRunner().invoke(cli, ["search", "parse a pattern", str(mono / "routes"), str(other), "--all",
                                          "--json"])
    assert {r["qualname"] for r in json.loads(everything.output)["results"]} == {"parse_route", "parse_glob",
                                                                                 "parse_duration"}
    write(mono, "glob/added.py", "def glob_added():\n    return 1\n")
    note = CliRunner().invoke(cli, ["search", "parse a pattern", str(mono / "routes"), str(other)]).output
    assert "Not searched" not in note  # a file added outside the subdirectory searched is not named


@pytest.mark.parametrize("name", ["tools/editors/emacs/rst.el", "lib/util.lisp", "src/boot.s", "kernels/add.cu",
                                  "scripts/build.bat", "manifests/site.pp", "src/main.cr"])
def test_sources_in_languages_without_a_grammar_are_indexed_as_text(tmp_path, name: str) -> None:  # type: ignore[no-untyped-def]
    """docutils' 24 Emacs Lisp files (`rst.el`) were neither indexed nor reported as skipped; the Makefile beside
    them was indexed as text. Sources in languages without a grammar are indexed as line windows."""
    repo = tmp_path / "repo"
    write(repo, name, "; adjust the underline of a section title\n(defun rst-adjust-section-title ()\n  t)\n")
    write(repo, "main.py", "def main():\n    return 0\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    ran = CliRunner().invoke(cli, ["search", "adjust the section title underline", str(repo), "-l", "text", "--json"])
    assert ran.exit_code == 0 and json.loads(ran.stdout)["results"][0]["path"] == name


def test_a_class_whose_one_line_bodies_are_left_out_is_an_outline(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """mustermann's `TemplateGenerator` came back with `def self.generate_templates(ast)` / `...` / `end`, a body of
    one line left out, but not as an outline (JSON `outline` missing, text `class`): an outline was told by its line
    count, which a one-line body's `...` keeps (45 classes of flask, 8 of rack)."""
    repo = tmp_path / "repo"
    write(repo, "generator.rb", "class TemplateGenerator < Translator\n  def self.generate_templates(ast)\n"
                                "    new.translate(ast).uniq\n  end\n\n  translate(:capture) { name }\nend\n")
    write(repo, "tags.py", "class PassDict(JSONTag):\n    key = ' d'\n\n    def check(self, value):\n"
                           "        return isinstance(value, dict)\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    with Searcher(repo / ".codesearch") as searcher:
        for query, name in (("template generator", "TemplateGenerator"), ("pass dict tag", "PassDict")):
            found = next(r for r in searcher.search(query, k=5) if r.qualname == name)
            assert " ..." in found.code and found.outline, (name, found.code)


def test_stats_names_the_files_added_and_deleted_since_the_last_index_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """After a branch switch, `stats` still counted the other branch's 482 files with no hint that the index is out of
    date. It names the files added and deleted since (text: a line each; JSON: `unindexed`, `deleted`)."""
    repo = _branch_with_deletions(tmp_path)
    write(repo, "kept/added.py", "def added():\n    return 1\n")
    text = CliRunner().invoke(cli, ["stats", str(repo)]).output
    assert "Not searched: 1 file added since the last index run (" in text and "kept/added.py" in text
    assert "Not searched: 30 indexed files deleted since the last index run (" in text
    payload = json.loads(CliRunner().invoke(cli, ["stats", str(repo), "--json"]).output)
    assert payload["unindexed"]["paths"] == ["kept/added.py"] and payload["deleted"]["files"] == 30
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    assert "Not searched" not in CliRunner().invoke(cli, ["stats", str(repo)]).output


@pytest.mark.parametrize("replacement", ["directory", "link"])
def test_a_file_replaced_by_a_directory_or_a_link_is_named_as_deleted(tmp_path, replacement: str) -> None:  # type: ignore[no-untyped-def]
    """The recheck: `rm hooks.py && mkdir hooks.py` (or a link in its place) dropped the file's hits without a note,
    though the next index run drops the file as deleted."""
    repo = _branch_with_deletions(tmp_path)
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    (repo / "kept/report.py").unlink()
    if replacement == "directory":
        (repo / "kept/report.py").mkdir()
    else:
        (repo / "kept/report.py").symlink_to("other.py")
    payload = json.loads(CliRunner().invoke(cli, ["search", "write the report to a file", str(repo), "--json"]).output)
    assert payload["deleted"] == {"files": 1, "paths": ["kept/report.py"], "root": str(repo.resolve())}


def test_outlines_of_expression_bodies_and_a_documented_class_that_leaves_nothing_out(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The recheck: a C# class whose members all have `=>` bodies (`public int Twice(int x)  ...;`) was no outline,
    and a Python class with a docstring and attributes only (nothing left out) was one."""
    repo = tmp_path / "repo"
    write(repo, "Rec.cs", "namespace Demo {\n    public class WithExprBodies {\n"
                          "        public int Twice(int x) => x * 2;\n"
                          "        public int Thrice(int x) => x * 3;\n    }\n}\n")
    write(repo, "attrs.py", 'class WithDocAttrs:\n    """Docstring here."""\n    alpha = 1\n    beta = 2\n')
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    with Searcher(repo / ".codesearch") as searcher:
        expression = searcher.search("WithExprBodies", k=1)[0]
        documented = searcher.search("WithDocAttrs", k=1)[0]
    assert expression.qualname == "Demo.WithExprBodies" and " ...;" in expression.code and expression.outline
    assert documented.qualname == "WithDocAttrs" and "..." not in documented.code and not documented.outline


def test_a_name_that_stands_alone_in_a_hit_is_no_weak_answer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The recheck: `search CONTENT_TYPE_FORM_URLENCODED` found the line that defines it first, under "Weak matches
    only (best similarity 0.37): the code may not be here" (a constant is no function or class, so not named so)."""
    repo = tmp_path / "repo"
    imports = "".join(f"from .module_{n} import helper_{n}, other_{n}\n" for n in range(12))
    write(repo, "auth.py", f"import base64\n\nCONTENT_TYPE_FORM_URLENCODED = 'application/x-www-form-urlencoded'\n"
                           f"CONTENT_TYPE_MULTI_PART = 'multipart/form-data'\n{imports}\n\ndef basic(user):\n"
                           "    return user\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    ran = CliRunner().invoke(cli, ["search", "CONTENT_TYPE_FORM_URLENCODED", str(repo), "--json"])
    payload = json.loads(ran.output)
    assert payload["results"][0]["line"] == 3 and "note" not in payload
    grep = CliRunner().invoke(cli, ["search", "CONTENT_TYPE_FORM_URLENCODED", str(repo), "--format", "grep"])
    assert grep.stdout.startswith("auth.py:3:") or grep.stdout.split(":")[1] == "3"
    assert "Weak" not in grep.stderr


def test_related_leaves_out_deleted_files_and_names_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The recheck: `related -p tests -k 10` found 2 results after three test files were deleted (their hits, dropped
    as gone, had taken the places), with no note; `related` said nothing of added files either."""
    repo = tmp_path / "repo"
    write(repo, "src/save.py", "def save_report(path):\n    '''Write the report to a file.'''\n    return open(path)\n")
    for n in range(80):
        write(repo, f"tests/gone/test_w{n:02d}.py", WRITER.format(n=n))
    write(repo, "tests/test_kept.py", "def test_sum():\n    assert 1 + 1 == 2\n")  # unlike the source: below 80
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    for n in range(80):
        (repo / f"tests/gone/test_w{n:02d}.py").unlink()
    write(repo, "tests/test_added.py", "def test_added():\n    assert True\n")
    ran = CliRunner().invoke(cli, ["related", "--repo", str(repo), "--symbol", "save_report", "-p", "tests/*",
                                   "-k", "3", "--json"])
    payload = json.loads(ran.output)
    assert [r["path"] for r in payload["results"]] == ["tests/test_kept.py"]
    assert payload["deleted"]["files"] == 80 and payload["unindexed"]["paths"] == ["tests/test_added.py"]
    text = CliRunner().invoke(cli, ["related", "--repo", str(repo), "--symbol", "save_report", "-k", "3"]).output
    assert "Not searched: 80 indexed files deleted since the last index run" in text


def test_a_git_repository_inside_an_indexed_one_gets_its_own_index(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The recheck: `git init` in a folder of an indexed repository, then `codesearch index .` there, updated the
    parent's index (git has the folder as a repository of its own); a plain folder still updates the parent's."""
    parent = tmp_path / "parent"
    write(parent, "top.py", "def top():\n    return 1\n")
    write(parent, "plain/inner.py", "def inner():\n    return 2\n")
    write(parent, "sub/nested.py", "def nested_repo_function():\n    return 42\n")
    (parent / "sub/.git").mkdir()
    assert CliRunner().invoke(cli, ["index", str(parent), "-q"]).exit_code == 0
    assert CliRunner().invoke(cli, ["index", str(parent / "sub"), "-q"]).exit_code == 0
    assert (parent / "sub/.codesearch/index.db").is_file()
    plain = CliRunner().invoke(cli, ["index", str(parent / "plain")])
    assert "Updating the index of the enclosing repository" in plain.output
    assert not (parent / "plain/.codesearch").exists()


def test_a_bash_regex_test_leaves_the_functions_after_it_definitions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An agent on bash-completion: one `[[ $cur =~ ...[^]]*... ]]` made tree-sitter-bash read the test's end too early,
    and 52 of the file's 53 functions after it were code between definitions (`_parse_help`, `_init_completion`
    never found by name). The regex is read as one word; the code shown is the file's."""
    repo = tmp_path / "repo"
    write(repo, "lib.bash", "a_fn()\n{\n    if [[ $cur =~ ^(\\$\\{[#!]?)([A-Za-z0-9_]*)\\[([^]]*)$ ]]; then\n"
                            "        echo x\n    fi\n}\n\nb_fn()\n{\n    echo b\n}\n\n"
                            "c_fn() {\n    [[ $1 =~ [0-9]+ ]] && [[ \"$2\" =~ $pattern ]] && echo c\n}\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    with Searcher(repo / ".codesearch") as searcher:
        found = {(r.qualname, r.kind, r.start_line, r.end_line) for r in searcher.search("function", k=10)}
        first = searcher.search("a_fn", k=1)[0]
    assert {("a_fn", "function", 1, 6), ("b_fn", "function", 8, 11), ("c_fn", "function", 13, 15)} <= found
    assert "[^]]*)$ ]]" in first.code


def test_a_long_method_cut_in_the_index_is_no_declaration_of_its_overload(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An agent on capacitor's iOS code: the 80-line `webView(_:start:)`, whose stored code stops at 4,000 characters
    (so not at its `}`), was folded into the 3-line `webView(_:stop:)` as its declaration, and never shown."""
    repo = tmp_path / "repo"
    body = "\n".join(f'        let value{i} = task.request.value(forHTTPHeaderField: "X-Header-{i}") ?? "default"'
                     for i in range(60))
    write(repo, "Handler.swift", "import WebKit\n\nclass Handler: NSObject {\n"
                                 f"    func webView(_ webView: WKWebView, start task: Task) {{\n{body}\n"
                                 "        task.didFinish()\n    }\n\n"
                                 "    func webView(_ webView: WKWebView, stop task: Task) {\n"
                                 "        print(\"stop\")\n    }\n}\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    with Searcher(repo / ".codesearch") as searcher:
        found = searcher.search("webView", k=3)
    spans = {(r.start_line, r.end_line): r for r in found}
    assert (4, 66) in spans and (68, 70) in spans and not spans[(68, 70)].declarations


def test_a_script_without_extension_or_shebang_is_read_by_its_emacs_mode_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """bash-completion's 500 completion scripts have no extension and no `#!` line, only an Emacs mode line
    (`# make(1) completion  -*- shell-script -*-`): not one was indexed, and nothing said so."""
    repo = tmp_path / "repo"
    write(repo, "completions/make", "# make(1) completion                                     -*- shell-script -*-\n\n"
                                    "_make_target_extract_script()\n{\n    echo targets\n}\n")
    write(repo, "notes/README", "# -*- coding: utf-8 -*-\nplain prose, no code\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    with Searcher(repo / ".codesearch") as searcher:
        found = searcher.search("_make_target_extract_script", k=3)
        paths = set(searcher.reader.file_paths())
    assert found[0].qualname == "_make_target_extract_script" and found[0].language == "bash"
    assert paths == {"completions/make"}


def test_a_snippet_shown_from_a_line_does_not_start_on_a_blank_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An agent's snippets began with an empty line: shown from the line before `line`, which was blank."""
    from codesearch.mcp_server import compact

    repo = tmp_path / "repo"
    filler = "".join(f"    step_{n} = {n}\n" for n in range(20))
    write(repo, "flow.py", f"def run_flow():\n{filler}\n    result = special_marker_call()\n    return result\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    with Searcher(repo / ".codesearch") as searcher:
        hit = searcher.search("special_marker_call", k=1)[0]
    shown = compact(hit, 4)
    assert hit.line == 23 and shown["snippet_start_line"] == 23
    assert shown["snippet"].startswith("    result = special_marker_call()")


def test_lua_functions_in_a_do_block_or_under_a_key_are_definitions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An agent on lua-http: `huffman_decode = function(s)` in a top-level `do` block and the nine
    `frame_handlers[frame_types.PING] = function(...)` were code between definitions, without names."""
    repo = tmp_path / "repo"
    write(repo, "a.lua", "local huffman_decode\ndo\n  local x = 1\n  -- Decode a huffman string\n"
                         "  huffman_decode = function(s)\n    return s\n  end\nend\n\n-- Handle a PING frame\n"
                         "frame_handlers[frame_types.PING] = function(stream)\n  return 1\nend\n\n"
                         "M[\"go\"] = function() end\nhandlers[key] = function() end\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    with Searcher(repo / ".codesearch") as searcher:
        found = {(r.qualname, r.kind, r.start_line, r.end_line, r.doc) for r in searcher.search("function", k=10)}
    assert {("huffman_decode", "function", 5, 7, "Decode a huffman string"),
            ("frame_handlers.PING", "function", 11, 13, "Handle a PING frame"),
            ("M.go", "function", 15, 15, "")} <= found
    assert not any(qualname.startswith("handlers") for qualname, *_ in found)  # a variable's key names nothing


def test_several_paths_say_why_nothing_was_found(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The recheck: `search Q r1/tests r2 -p 'requests/*'` said only "No results." (grep: nothing on stderr), where one
    PATH says which filter matches nothing."""
    one, two = tmp_path / "one", tmp_path / "two"
    write(one, "tests/test_a.py", "def test_a():\n    assert True\n")
    write(one, "requests/api.py", "def get(url):\n    return url\n")
    write(two, "lib.py", "def helper():\n    return 1\n")
    _index(one, two)
    ran = CliRunner().invoke(cli, ["search", "get a url", str(one / "tests"), str(two), "-p", "requests/*"])
    assert ran.exit_code == 1
    assert ran.output.startswith("No results: in one: no indexed file below tests matches path 'requests/*'")
    assert "; in two: no indexed file matches path 'requests/*'." in ran.output
    grep = CliRunner().invoke(cli, ["search", "get a url", str(one / "tests"), str(two), "-p", "requests/*", "-f",
                                    "grep"])
    assert grep.exit_code == 1 and grep.stderr.startswith("No results: in one: ")


def test_related_symbol_ambiguity_names_paths_as_results_are_shown(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`related --symbol` named an ambiguous name's files from the repository's root, which a user in another folder
    cannot paste into `related FILE:LINE`; they are shown as search results are, from the working directory. MCP
    keeps them from the root."""
    from codesearch.errors import BadQuery
    from codesearch.related import one_named

    repo = tmp_path / "repo"
    write(repo, "pkg/a.py", "def to_bool(val):\n    return bool(val)\n")
    write(repo, "pkg/b.py", "def to_bool(value):\n    return value == 'yes'\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    monkeypatch.chdir(repo / "pkg")
    ran = CliRunner().invoke(cli, ["related", "--symbol", "to_bool", "-C", str(repo)])
    assert ran.exit_code == 2 and "a.py:1 to_bool; b.py:1 to_bool" in ran.output and "pkg/" not in ran.output
    with Searcher(repo / ".codesearch") as searcher, pytest.raises(BadQuery, match="pkg/a.py:1 to_bool"):
        one_named(searcher, "to_bool")


@pytest.mark.parametrize("line", [
    "    while [[ $line =~ \\\n        ^(a)b ]]; do echo; done",  # across lines (bash-completion's `_parse_help`)
    "    y=${x%%[{]*}",
    "    y=\"${x/$'/:'*}\"",  # neofetch's `kde_config_dir`
    "    [[ $x == *.@(asc|sig)\\ * ]] && echo a",  # bash-completion's `_gpgv`
])
def test_a_bash_construct_the_grammar_misreads_costs_its_own_function_only(  # type: ignore[no-untyped-def]
        tmp_path, line: str) -> None:
    """The recheck: a multi-line `=~` test, some `${...}` patterns and an extglob with an escaped space made
    tree-sitter-bash lose every function after them (about 50 of bash-completion's, a dozen of neofetch's). A file
    whose parse has an error is parsed again function by function (``LanguageSpec.segments``)."""
    repo = tmp_path / "repo"
    write(repo, "lib.sh", f"before() {{\n    :\n}}\n\nbroken() {{\n{line}\n}}\n\nafter() {{\n    echo after\n}}\n\n"
                          "function last {\n    echo last\n}\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    with Searcher(repo / ".codesearch") as searcher:
        found = {(r.qualname, r.kind) for r in searcher.search("function", k=10)}
        after = searcher.search("after", k=1)[0]
    assert {("before", "function"), ("after", "function"), ("last", "function")} <= found
    assert after.qualname == "after" and after.code == "after() {\n    echo after\n}"


@pytest.mark.parametrize(("first", "language"), [
    ("// <vector> -*- C++ -*-", "cpp"),  # libstdc++'s headers have no extension
    ("/* -*- c -*- */", "c"),
    ("# -*- coding: utf-8; mode: python -*-", "python"),  # the mode after another variable
    ("# -*- python-mode -*-", "python"),
    ("# -*- Mode: Go; indent-tabs-mode: t -*-", "go"),
])
def test_emacs_mode_lines_name_more_languages(first: str, language: str) -> None:
    """The recheck: libstdc++'s `vector` (`// <vector> -*- C++ -*-`) and a mode after `coding:` were not read."""
    from indexer.languages import shebang_language

    assert shebang_language(f"{first}\nrest\n".encode()) == language
    assert shebang_language(b"# -*- coding: utf-8 -*-\nrest\n") is None


def test_a_link_to_a_script_without_an_extension_says_the_script_is_indexed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The recheck: bash-completion's 239 links (`7za -> 7z`) said their targets were "no source file", though each
    target was indexed as a script."""
    repo = tmp_path / "repo"
    write(repo, "completions/7z", "# 7z(1) completion  -*- shell-script -*-\n\n_7z()\n{\n    echo 7z\n}\n")
    (repo / "completions/7za").symlink_to("7z")
    ran = CliRunner().invoke(cli, ["index", str(repo), "--json"])
    skipped = {s["path"]: s["reason"] for s in json.loads(ran.output)["skipped"]}
    assert skipped["completions/7za"] == ("symlink inside the repository (not followed; completions/7z is indexed at "
                                          "its own path)")


def test_a_similarity_floor_that_leaves_nothing_says_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The recheck: `--min-score 0.99` said a bare "No results."; it says what the best hit's similarity was, in the
    CLI and in the console script's own path (which answers a search without click)."""
    import subprocess
    import sys
    from pathlib import Path

    repo = tmp_path / "repo"
    write(repo, "save.py", "def save_report(path):\n    '''Write the report to a file.'''\n    return open(path)\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    ran = CliRunner().invoke(cli, ["search", "save the report", str(repo), "--min-score", "0.99"])
    assert ran.exit_code == 1 and "No results: no hit is as similar as --min-score 0.99 (the best: 0." in ran.output
    script = Path(sys.executable).with_name("codesearch")
    shell = subprocess.run([str(script), "search", "save the report", str(repo), "--min-score", "0.99",
                            "--no-resident", "-f", "grep"], capture_output=True, text=True)
    assert shell.returncode == 1 and shell.stdout == ""
    assert "No results: no hit is as similar as --min-score 0.99 (the best: 0." in shell.stderr


def test_a_long_overload_is_shown_whole_not_as_its_last_window(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The second recheck: for `process`, a 124-line Java overload came as its last window (lines 116-131, without the
    word), above the whole method: the overload decay halved the method as its name's second chunk in the file, and
    its windows, named apart, kept their scores."""
    repo = tmp_path / "repo"
    body = "\n".join(f"        total = total + stepValue{i % 7}(value, {i}); // step {i}" for i in range(120))
    write(repo, "Proc.java", "package demo;\n\npublic class Proc {\n    public int process(int value) {\n"
                             "        return process(value, 0);\n    }\n\n"
                             "    public int process(int value, int offset) {\n"
                             f"        int total = offset;\n{body}\n        return total;\n    }}\n\n"
                             "    public int other(int x) {\n        return x;\n    }\n}\n")
    _index(repo)
    with Searcher(repo / ".codesearch") as searcher:
        found = [(r.start_line, r.end_line, r.part) for r in searcher.search("process", k=5)]
    assert (8, 131, False) in found and not any(part for *_, part in found), found


def test_a_file_parsed_part_by_part_shares_one_parse_deadline() -> None:
    """Review: each part of a file parsed part by part had a whole parse's deadline, so a file of thousands of
    misread functions could cost thousands of deadlines; the parts share one."""
    import time

    from indexer.parse import _segment_starts, _segmented
    from indexer.types import Unindexable

    source = b"".join(b"f%d() {\n  [[ $x == *.@(asc|sig)\\ * ]] && echo a\n}\n" % n for n in range(3000))
    starts = _segment_starts("bash", source)
    assert len(starts) == 3000
    started = time.monotonic()
    with pytest.raises(Unindexable, match="part by part"):
        _segmented("bash", source, starts, 0.05)
    assert time.monotonic() - started < 2.0
