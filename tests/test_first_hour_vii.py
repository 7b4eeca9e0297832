"""A new user's first hour VII: what this round's users found (2026-12-07, twelfth round). Each test fails on the
commit before its fix."""

from __future__ import annotations

import json
import os
import shutil
import stat

import numpy as np
from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.pipeline import build_index
from codesearch.query import usage_target
from codesearch.related import one_named
from codesearch.render import DOC_LINE_CHARS, files_to_text, to_text
from codesearch.search import Searcher, SearchResult
from codesearch.search.files import FileHits
from codesearch.store.reader import IndexReader
from indexer.chunk import chunks_for_file
from indexer.types import SourceFile
from tests.conftest import SAMPLE_REPOS, FakeEmbedder, edited_db, write


def _hit(doc: str, code: str, language: str = "go") -> SearchResult:
    return SearchResult(rank=1, score=0.6, key="o.go::Validate", path="o.go", root="/r", language=language,
                        kind="method", name="Validate", qualname="CloneOptions.Validate", signature="", doc=doc,
                        code=code, start_line=70, end_line=72)


def test_the_text_output_shows_a_doc_comment_that_stands_above_the_code() -> None:
    """The CLI printed `func (o *CloneOptions) Validate() error {` without what it is for: a Go, Rust, Java or
    JavaScript doc comment stands above the code, outside the snippet (MCP answers carried it as `doc`); a Python
    docstring is in the snippet already and is not shown twice; a repository's control characters stay visible."""
    go = to_text([_hit("Validate validates the fields and sets the defaults.\n\nIt is called by Clone.",
                       "func (o *CloneOptions) Validate() error {\n\treturn nil\n}")])
    lines = go.splitlines()
    assert lines[1].strip() == "doc: Validate validates the fields and sets the defaults."
    assert lines[2].strip() == "func (o *CloneOptions) Validate() error {"
    python = to_text([_hit("Retry a failed request.", 'def retry():\n    """Retry a failed request."""', "python")])
    assert "doc:" not in python
    long = to_text([_hit("word " * 100, "func f() {}")]).splitlines()[1].strip()
    assert long.endswith("…") and len(long) == len("doc: ") + DOC_LINE_CHARS
    hostile = to_text([_hit("Validate \x1b]0;pwned\x07 the\nfields.", "func f() {}")])
    assert "\x1b" not in hostile and "\x07" not in hostile and "doc: Validate \\x1b]0;pwned\\x07 the fields." in hostile
    grouped = files_to_text([FileHits(rank=1, hits=(_hit("Validate it.", "func f() {}"),))])
    assert "doc: Validate it." in grouped
    assert "doc:" not in to_text([_hit("Validate it.", "func f() {}")], snippet_lines=1)  # --max-lines 1: code only
    tagged = to_text([_hit("Converts a callback API.\n@param callbackFunc the function\n@returns a function",
                           "function bindCallback(callbackFunc) {}", "javascript")])
    assert "doc: Converts a callback API.\n" in tagged  # its tags are its parameters, not what it is for


def test_stats_describes_an_index_without_source(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`codesearch stats` on the index of an empty directory (or of one holding only package.json) ended in a
    traceback (the disk line formatted a ratio to no source); search's own empty-index message points to it."""
    write(tmp_path / "repo", "package.json", '{"name": "x"}\n')
    assert CliRunner().invoke(cli, ["index", str(tmp_path / "repo"), "-q"]).exit_code == 0
    shown = CliRunner().invoke(cli, ["stats", str(tmp_path / "repo")])
    assert shown.exit_code == 0, shown.output
    assert "Chunks:  0" in shown.output and "Kinds:   none" in shown.output and "of source indexed" in shown.output


def test_the_rebuild_a_damaged_index_asks_for_names_its_repository(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """"run `codesearch index --rebuild`", followed as written from the parent directory, built a new index there
    and left the damaged one as it was (an index of another model, a damaged index.db); stats called an index with
    a truncated vector file healthy, while search refused it."""
    repo = tmp_path / "parent" / "repo"
    shutil.copytree(SAMPLE_REPOS / "python", repo, ignore=shutil.ignore_patterns(".codesearch"))
    monkeypatch.chdir(tmp_path / "parent")
    assert CliRunner().invoke(cli, ["index", "repo", "-q"]).exit_code == 0
    fix = f"`codesearch index --rebuild {repo}"
    vectors = next((repo / ".codesearch").glob("vectors-*.faiss"))
    kept = vectors.read_bytes()
    vectors.write_bytes(kept[:100])
    for command in (["search", "retry", "repo"], ["stats", "repo"], ["index", "repo", "-q"]):
        failed = CliRunner().invoke(cli, command)
        assert failed.exit_code == 2 and fix in failed.output, (command, failed.output)
    vectors.write_bytes(kept)
    with edited_db(repo / ".codesearch" / "index.db") as conn:
        conn.execute("UPDATE meta SET value = 'other:1' WHERE key = 'model_fingerprint'")
    for command in (["search", "retry", "repo"], ["index", "repo", "-q"]):
        failed = CliRunner().invoke(cli, command)
        assert failed.exit_code == 2 and f"{fix}`" in failed.output, (command, failed.output)
    assert CliRunner().invoke(cli, ["index", "--rebuild", str(repo), "-q"]).exit_code == 0
    assert not (tmp_path / "parent" / ".codesearch").exists()


def test_json_says_when_every_hit_is_weak(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The text output warns "Weak matches only" and MCP answers carry a note, but `--json` (and `--by-file
    --json`) dropped the signal: scripts and agents reading JSON could not tell noise from an answer."""
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE_REPOS / "python", repo, ignore=shutil.ignore_patterns(".codesearch"))
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    for extra in ([], ["--by-file"]):
        weak = json.loads(CliRunner().invoke(cli, ["search", "zebra giraffe elephant", str(repo), "--json",
                                                   *extra]).output)
        assert weak["note"].startswith("weak matches only (best similarity 0."), weak
        strong = json.loads(CliRunner().invoke(cli, ["search", "retry a failed request", str(repo), "--json",
                                                     *extra]).output)
        assert "note" not in strong


def test_related_from_a_changed_file_keeps_the_definitions_the_edit_moved(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`related src/net.py:7` after 3 lines were inserted at the top of the file (not indexed again) dropped
    `download`, the next function: the source's lines as they are today were compared with the indexed lines of
    the results, and `download`'s indexed lines lay within the source's new ones."""
    body = ('def fetch(url, timeout=10):\n    """Fetch a URL over HTTP and return its body."""\n'
            '    response = http_get(url, timeout=timeout)\n    response.raise_for_status()\n'
            '    return response.body\n\n\n'
            'def download(url, path):\n    """Download a URL over HTTP into a file."""\n    body = fetch(url)\n'
            '    with open(path, "wb") as out:\n        out.write(body)\n')
    repo = tmp_path / "repo"
    write(repo, "src/net.py", body)
    write(repo, "src/other.py", "def parse_date(text):\n    return text.split('-')\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    before = json.loads(CliRunner().invoke(cli, ["related", f"{repo}/src/net.py:3", "--json"]).output)
    assert [r["qualname"] for r in before["results"]][0] == "download"
    for inserted in (3, 5):
        write(repo, "src/net.py", "# a comment\n" * inserted + body)
        after = json.loads(CliRunner().invoke(cli, ["related", f"{repo}/src/net.py:{3 + inserted}", "--json"]).output)
        assert after["source"]["qualname"] == "fetch"
        found = {r["qualname"]: r for r in after["results"]}
        assert "download" in found and found["download"]["start_line"] == 8 + inserted, after


def test_errors_name_what_is_wrong_and_the_fix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`related no/such/file.py:3` said the file was "not in the index (... or new since the index was last
    updated)"; `-e retry -e backoff` searched for backoff alone without a word; `--index-dir` naming a directory
    without an index said "no index in empty" and nothing of what to run."""
    repo = tmp_path / "repo"
    write(repo, "net.py", "def fetch(url):\n    return url\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    missing = CliRunner().invoke(cli, ["related", f"{repo}/no/such/file.py:3"])
    assert missing.exit_code == 2 and "no such file: " in missing.output, missing.output
    twice = CliRunner().invoke(cli, ["search", "-e", "retry", "-e", "backoff", str(repo)])
    assert twice.exit_code == 2 and "give -e once" in twice.output
    assert CliRunner().invoke(cli, ["search", "-e", "retry", "-e", "retry", str(repo)]).exit_code in (0, 1)
    (tmp_path / "empty").mkdir()
    none = CliRunner().invoke(cli, ["search", "retry", "--index-dir", str(tmp_path / "empty")])
    assert none.exit_code == 2 and "codesearch index REPO --index-dir" in none.output, none.output


def test_related_by_name_takes_ruby_scopes_and_a_function_over_its_overload_signatures(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An agent on Sequel: `related --symbol ThreadedConnectionPool.hold` found no definition (Ruby's `class
    Sequel::ThreadedConnectionPool` qualifies it `Sequel::ThreadedConnectionPool.hold`; `Dataset.where` worked); on
    rxjs, `--symbol retry` was ambiguous between two overload signatures and the one implementation."""
    repo = tmp_path / "repo"
    write(repo, "lib/sequel/connection_pool/threaded.rb",
          "module Sequel\n  class Sequel::ThreadedConnectionPool < Sequel::ConnectionPool\n"
          "    def hold(server=nil)\n      acquire(server)\n    end\n  end\nend\n")
    write(repo, "src/retry.ts", "export function retry<T>(count?: number): number;\n"
                               "export function retry<T>(config: RetryConfig): number;\n"
                               "export function retry<T>(configOrCount: any = Infinity): number {\n  return 1;\n}\n")

    build_index(repo, embedder=FakeEmbedder())
    with Searcher(repo / ".codesearch", FakeEmbedder()) as searcher:
        hold = one_named(searcher, "ThreadedConnectionPool.hold")
        assert (hold.path, hold.start_line) == ("lib/sequel/connection_pool/threaded.rb", 3)
        assert one_named(searcher, "ThreadedConnectionPool#hold").start_line == 3
        assert one_named(searcher, "retry").start_line == 3


def test_several_repositories_filter_paths_as_printed_and_leave_out_a_damaged_index(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`search Q a b -p 'a/src/*'` matched nothing (`-p 'src/*'` did; the results are printed `a/src/...`) and `-x
    'a/*'` left a's results in; one damaged index of the two failed the whole search, where CLI.md says it is left
    out with a warning and the others answer; `related -p` did not take a path as printed."""
    for name in ("a", "b"):
        write(tmp_path / name, "src/net.py", f"def fetch_url(url):\n    '''Fetch a URL over HTTP ({name}).'''\n"
                                             f"    return '{name}' + url\n")
        assert CliRunner().invoke(cli, ["index", str(tmp_path / name), "-q"]).exit_code == 0
    monkeypatch.chdir(tmp_path)

    def paths(*extra: str) -> list[str]:
        found = CliRunner().invoke(cli, ["search", "fetch a url", "a", "b", "--json", *extra])
        return [r["path"] for r in json.loads(found.output)["results"]]

    assert sorted(paths()) == ["a/src/net.py", "b/src/net.py"]
    assert paths("-p", "a/src/*") == ["a/src/net.py"] and paths("-x", "a/*") == ["b/src/net.py"]
    assert sorted(paths("-p", "src/*")) == ["a/src/net.py", "b/src/net.py"]  # within each repository, as before
    vectors = next((tmp_path / "b" / ".codesearch").glob("vectors-*.faiss"))
    vectors.write_bytes(vectors.read_bytes()[:50])
    found = CliRunner().invoke(cli, ["search", "fetch a url", "a", "b", "--json"])
    assert found.exit_code == 0 and [r["path"] for r in json.loads(found.stdout)["results"]] == ["a/src/net.py"]
    assert set(json.loads(found.stdout)["left_out"]) == {"b"}
    assert f"`codesearch index --rebuild {tmp_path / 'b'}` rebuilds it" in found.stderr
    write(tmp_path / "a", "src/get.py",
        "def get_url(url):\n    '''Fetch a URL over HTTP with GET.'''\n    return url\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path / "a"), "-q"]).exit_code == 0
    related = CliRunner().invoke(cli, ["related", "a/src/net.py:1", "--json", "-p", "a/src/get.py"])
    assert [r["path"] for r in json.loads(related.output)["results"]] == ["src/get.py"], related.output


def test_a_path_glob_from_the_middle_of_the_tree_is_answered_with_the_glob_that_matches(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An agent's `path: "sun/net/httpserver"` (the files were under jdk.httpserver/sun/net/httpserver) answered only
    "no indexed file matches path": the note names the glob that does, and how many files it matches."""
    write(tmp_path / "repo", "jdk.httpserver/sun/net/httpserver/Request.java",
          "class Request {\n  String headers() { return \"\"; }\n}\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path / "repo"), "-q"]).exit_code == 0
    found = json.loads(CliRunner().invoke(cli, ["search", "request headers", str(tmp_path / "repo"), "--json",
                                                "-p", "sun/net/httpserver"]).output)
    assert found["results"] == [] and found["note"] == (
        "no indexed file matches path 'sun/net/httpserver' from the repository's root; '*/sun/net/httpserver' "
        "matches 1 file (jdk.httpserver/sun/net/httpserver/Request.java, ...)")
    assert json.loads(CliRunner().invoke(cli, ["search", "request headers", str(tmp_path / "repo"), "--json",
                                               "-p", "*/sun/net/httpserver"]).output)["results"]


def test_a_module_that_only_wraps_one_definition_is_no_chunk() -> None:
    """An agent on Sequel: `module Sequel` and `module Plugins` around each plugin were outlines holding the
    plugin's doc and its first line, two of the three hits of most files in a `by_file` answer (926 of 6,149
    chunks were modules). A module with a doc, a second definition or other code of its own stays a chunk."""
    wrapped = (b"# frozen-string-literal: true\n\nmodule Sequel\n  module Plugins\n"
               b"    # Validates associated objects when the object is validated.\n"
               b"    module ValidateAssociated\n      def self.apply(model)\n        model.plugin :x\n      end\n"
               b"    end\n  end\nend\n")
    names = [c.qualname for c in chunks_for_file(SourceFile("lib/va.rb", "ruby", wrapped))]
    assert "Sequel" not in names and "Sequel.Plugins" not in names, names
    assert {"Sequel.Plugins.ValidateAssociated", "Sequel.Plugins.ValidateAssociated.apply"} <= set(names)
    for kept in (b"# The Sequel library.\nmodule Sequel\n  class Dataset\n    def where\n    end\n  end\nend\n",
                 b"module Sequel\n  VERSION = 5\n  class Dataset\n    def where\n    end\n  end\nend\n",
                 b"module Sequel\n  class Dataset\n  end\n  class Model\n  end\nend\n"):
        assert "Sequel" in [c.qualname for c in chunks_for_file(SourceFile("lib/s.rb", "ruby", kept))], kept


def test_a_question_about_where_a_name_is_used_searches_for_the_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An agent's "what calls execFinalizer" on rxjs matched the word "calls" (bindCallback, callOrApply) above
    Subscription.unsubscribe, which calls it; "execFinalizer" alone had the caller third, on its call's line."""
    write(tmp_path / "repo", "src/Subscription.ts",
          "export class Subscription {\n  unsubscribe(): void {\n    const { _finalizers } = this;\n"
          "    for (const finalizer of _finalizers) {\n      execFinalizer(finalizer);\n    }\n  }\n}\n\n"
          "function execFinalizer(finalizer: any) {\n  if (typeof finalizer === 'function') {\n    finalizer();\n"
          "  } else {\n    finalizer.unsubscribe();\n  }\n}\n")
    write(tmp_path / "repo", "src/bindCallback.ts",
          "/** Converts a callback API to a function that calls it and returns an Observable. */\n"
          "export function bindCallback(callbackFunc: any): any {\n"
          "  return (...args: any[]) => callbackFunc(...args);\n}\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path / "repo"), "-q"]).exit_code == 0

    def places(query: str) -> list[tuple[str, int]]:
        found = CliRunner().invoke(cli, ["search", query, str(tmp_path / "repo"), "--json", "-k", "3"])
        return [(r["qualname"], r["line"]) for r in json.loads(found.output)["results"]]

    for question in ("what calls execFinalizer", "What calls execFinalizer()?", "callers of execFinalizer",
                     "where is execFinalizer used?"):
        # its definition, then the code that names it (the `uses` signal), each at the line it stands on
        assert places(question)[:2] == [("execFinalizer", 10), ("Subscription.unsubscribe", 5)], question
    assert usage_target("what calls the retry function") is None and usage_target("how are calls retried") is None


def test_related_shows_its_source_as_its_results_are_shown_and_index_refuses_an_unused_reranker(tmp_path,  # type: ignore[no-untyped-def]
                                                                                              monkeypatch) -> None:
    """`related`'s header printed the source relative to the repository (`python/httpkit/retry.py`) above results
    relative to the working directory (`sample_repos/python/...`); `index --rerank-model DIR` without `--deep`
    was taken and unused without a word."""
    repo = tmp_path / "work" / "repo"
    write(repo, "net.py",
        "def fetch(url):\n    return get(url)\n\n\ndef fetch_all(urls):\n    return [fetch(u) for u in urls]\n")
    assert CliRunner().invoke(cli, ["index", str(repo), "-q"]).exit_code == 0
    monkeypatch.chdir(tmp_path / "work")
    shown = CliRunner().invoke(cli, ["related", "repo/net.py:1"]).output.splitlines()
    assert shown[0] == "Related to function fetch (repo/net.py:1-2):", shown
    assert shown[2].lstrip().startswith(" 1. repo/net.py:5-6") or "repo/net.py:5-6" in shown[2], shown
    unused = CliRunner().invoke(cli, ["index", str(repo), "--rerank-model", str(tmp_path)])
    assert unused.exit_code == 2 and "give --deep too" in unused.output


def test_a_recheck_of_this_rounds_fixes(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """What a third helper found rechecking the fixes above: the rebuild advice for a damaged vector file left out
    --index-dir (followed, it built an index in the repository and the search still failed); -p/-x of several
    repositories did not match paths as printed from elsewhere (`../x2/app/*`); `related -s a -s b` kept the last;
    `--kind Function` was refused (MCP takes any case); `umask 000` made `.codesearch/` writable by anyone; stats
    described another model's index without a word; `related nope.go:3` outside any index said to index the
    working directory."""
    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args))

    write(tmp_path / "repo", "net.py", "def fetch_url(url):\n    '''Fetch a URL over HTTP.'''\n    return url\n")
    store = tmp_path / "store"
    assert run("index", str(tmp_path / "repo"), "--index-dir", str(store), "-q").exit_code == 0
    vectors = next(store.glob("vectors-*.faiss"))
    kept = vectors.read_bytes()
    vectors.write_bytes(kept[:60])
    failed = run("search", "fetch", str(tmp_path / "repo"), "--index-dir", str(store))
    assert failed.exit_code == 2 and f"--rebuild {tmp_path / 'repo'} --index-dir {store}`" in failed.output
    vectors.write_bytes(kept)

    for name in ("x1/app", "x2/app"):
        write(tmp_path / name, "src/get.py", f"def get_{name[:2]}(url):\n    '''Get a URL ({name}).'''\n    return 1\n")
        assert run("index", str(tmp_path / name), "-q").exit_code == 0
    monkeypatch.chdir(tmp_path / "x1")
    found = run("search", "get a url", "app", "../x2/app", "--json", "-p", "../x2/app/*")
    assert [r["qualname"] for r in json.loads(found.output)["results"]] == ["get_x2"], found.output

    assert run("related", "-s", "fetch_url", "-s", "get_x1", "-C", str(tmp_path / "repo")).exit_code == 2
    assert run("search", "fetch", str(tmp_path / "repo"), "--kind", "Function", "--index-dir", str(store)
               ).exit_code == 0
    missing = run("related", "nope.go:3")
    assert missing.exit_code == 2 and "no such file: nope.go" in missing.output, missing.output

    old = os.umask(0)
    try:
        write(tmp_path / "open", "a.py", "def a():\n    return 1\n")
        assert run("index", str(tmp_path / "open"), "-q").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "open" / ".codesearch").st_mode) == 0o700

    with edited_db(tmp_path / "open" / ".codesearch" / "index.db") as conn:
        conn.execute("UPDATE meta SET value = 'other:1' WHERE key = 'model_fingerprint'")
    stats = json.loads(run("stats", str(tmp_path / "open"), "--json").output)
    assert f"run `codesearch index --rebuild {tmp_path / 'open'}`" in stats["out_of_date"]


def test_overload_signatures_fold_into_their_implementation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An agent's `mergeMap` on rxjs: four of the first six results were mergeMap.ts's three overload signatures and
    its implementation. The signatures fold into the function that has the body (`declarations`, their places), in the
    text, grep, JSON and MCP output, whatever -k is."""
    from codesearch.mcp_server import compact

    write(tmp_path / "repo", "src/mergeMap.ts",
          "export function mergeMap<T>(project: (v: T) => T): Op<T>;\n"
          "export function mergeMap<T>(project: (v: T) => T, concurrent: number): Op<T>;\n"
          "export function mergeMap<T>(project: (v: T) => T, resultSelector: undefined): Op<T>;\n"
          "/** Projects each source value to an Observable which is merged in the output. */\n"
          "export function mergeMap<T>(project: (v: T) => T, concurrent = Infinity): Op<T> {\n"
          "  return operate((source) => mergeInternals(source, project, concurrent));\n}\n")
    write(tmp_path / "repo", "src/mergeAll.ts",
          "export function mergeAll<T>(concurrent = Infinity): Op<T> {\n  return mergeMap(identity, concurrent);\n}\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path / "repo"), "-q"]).exit_code == 0
    for k in ("1", "3", "10"):
        found = json.loads(CliRunner().invoke(cli, ["search", "mergeMap", str(tmp_path / "repo"), "--json", "-k", k]
                                              ).output)["results"]
        assert (found[0]["start_line"], found[0]["declarations"]) == (5, ["src/mergeMap.ts:1", "src/mergeMap.ts:2",
                                                                      "src/mergeMap.ts:3"]), (k, found)
        assert [r["start_line"] for r in found if r["path"] == "src/mergeMap.ts"] == [5]
    text = CliRunner().invoke(cli, ["search", "mergeMap", str(tmp_path / "repo"), "-k", "1"]).output
    assert "+3 declarations at lines 1, 2, 3" in text
    grep = CliRunner().invoke(cli, ["search", "mergeMap", str(tmp_path / "repo"), "-k", "1", "--format", "grep"])
    assert "(+3 declarations)" in grep.output

    with Searcher(tmp_path / "repo" / ".codesearch") as searcher:
        assert compact(searcher.search("mergeMap", 1)[0], 12)["declarations"] == [
            "src/mergeMap.ts:1", "src/mergeMap.ts:2", "src/mergeMap.ts:3"]


def test_the_uses_of_a_name_come_before_look_alike_names_and_in_its_own_file_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A helper on the JDK: "what calls HSBtoRGB" had `HSVtoRGB` and `RGBtoHSL` (look-alikes, no call) above
    `Color.getHSBColor`, which calls it from the definition's own file (counted as that file's further chunk)."""
    write(tmp_path / "repo", "awt/Color.java",
          "public class Color {\n"
          "    /** Converts HSB components to an RGB value. */\n"
          "    public static int HSBtoRGB(float hue, float saturation, float brightness) {\n"
          "        return (int) (hue * saturation * brightness);\n    }\n\n"
          "    /** A color from HSB components. */\n"
          "    public static Color getHSBColor(float h, float s, float b) {\n"
          "        return new Color(HSBtoRGB(h, s, b));\n    }\n}\n")
    write(tmp_path / "repo", "chooser/ColorModelHSV.java",
          "class ColorModelHSV {\n    /** Converts HSV components to RGB components. */\n"
          "    static float[] HSVtoRGB(float[] rgb, float hue, float saturation, float value) {\n"
          "        return rgb;\n    }\n\n    /** Converts RGB components to HSV. */\n"
          "    static float[] RGBtoHSV(float[] hsv, float r, float g, float b) {\n        return hsv;\n    }\n}\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path / "repo"), "-q"]).exit_code == 0
    found = json.loads(CliRunner().invoke(cli, ["search", "what calls HSBtoRGB", str(tmp_path / "repo"), "--json",
                                                "-k", "3"]).output)["results"]
    assert [(r["qualname"], r["line"]) for r in found[:2]] == [("Color.HSBtoRGB", 3), ("Color.getHSBColor", 9)], found


def test_a_filter_every_chunk_passes_is_none_and_a_filter_is_kept_per_generation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A helper on the JDK (95k chunks): `-l java`, where every file is Java, `--kind method` and `-p` made a search
    10-20x slower than an unfiltered one (every chunk's path read and compared in Python at every search). A filter
    every chunk passes is no filter; what one lets through is read by file id and kept until the index changes."""
    repo = tmp_path / "repo"
    write(repo, "a/net.py", "class Client:\n    def send(self):\n        return 1\n\n\ndef fetch():\n    return 2\n")
    write(repo, "b/db.py", "def connect():\n    return 3\n")
    build_index(repo, embedder=FakeEmbedder())
    with IndexReader(repo / ".codesearch") as reader:
        every = {r[0]: (r[1], r[2]) for r in reader.conn.execute("SELECT id, path, kind FROM chunks")}
        assert reader.ids_where(language="python") is None
        assert reader.ids_where(paths=["a/net.py", "b/db.py"]) is None
        assert reader.ids_where(kinds=sorted({kind for _, kind in every.values()})) is None
        only_a = reader.ids_where(paths=["a/net.py"])
        assert only_a is not None and list(only_a) == sorted(i for i, (p, _) in every.items() if p == "a/net.py")
        methods = reader.ids_where(kinds=["method"])
        assert list(methods) == sorted(i for i, (_, k) in every.items() if k == "method") and len(methods) == 1
        assert reader.ids_where(paths=["a/net.py"]) is only_a  # kept
        assert reader.ids_where(language="go") is not None and reader.ids_where(language="go").size == 0
    write(repo, "a/net.py", "def fetch():\n    return 2\n")  # a new generation: other chunks
    build_index(repo, embedder=FakeEmbedder())
    with IndexReader(repo / ".codesearch") as reader:
        now = reader.ids_where(paths=["a/net.py"])
        assert now is not None and list(now) == [r[0] for r in reader.conn.execute(
            "SELECT id FROM chunks WHERE path = 'a/net.py' ORDER BY id")]
        assert np.array_equal(reader.ids_where(kinds=["method"]), np.empty(0, dtype=np.int64))


def test_an_outlines_member_has_its_definitions_lines_and_git_is_said_not_indexed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A helper on the JDK: an outline's "members that match" listed `getConnection 608-639`, a window's lines, for a
    method of lines 582-639; a Javadoc's first paragraph ran on past its `<p>`; `search ... .git` said only "No
    results." where other directories never indexed say why."""
    body = "\n".join(f"        int step{i} = resolveDriverForUrl(url, info, caller, {i});" for i in range(120))
    write(tmp_path / "repo", "sql/DriverManager.java",
          "/**\n * The basic service for managing a set of JDBC drivers.\n * <p>\n * NOTE: more.\n */\n"
          "public class DriverManager {\n"
          "    /** Attempts to establish a connection to the given database URL, picking a driver. */\n"
          "    private static Connection getConnection(String url, Properties info, Class<?> caller) {\n"
          f"{body}\n        return pickDriverForConnectionUrl(url);\n    }}\n}}\n")
    (tmp_path / "repo" / ".git").mkdir()
    write(tmp_path / "repo", ".git/config", "[core]\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path / "repo"), "-q"]).exit_code == 0

    with Searcher(tmp_path / "repo" / ".codesearch") as searcher:
        found = searcher.search("how does DriverManager pick a driver for a connection URL", 10)
    outline = next(r for r in found if r.qualname == "DriverManager")
    members = [(start, end) for name, start, end in outline.members if name.endswith("getConnection")]
    assert members == [(8, 130)], outline.members
    assert "doc: The basic service for managing a set of JDBC drivers.\n" in to_text([outline])
    git = CliRunner().invoke(cli, ["search", "parse a date", str(tmp_path / "repo" / ".git")])
    assert git.exit_code == 1 and "git's own directory" in git.output, git.output


def test_a_class_named_in_a_sentence_is_the_class_not_its_constructor(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A helper on the JDK: "where is the default look and feel chosen at startup" had `protected LookAndFeel() {}`
    first, and "how does GridBagLayout compute the layout of its components" GridBagLayout's empty constructor: in a
    sentence, a class's name (written like code, or spelled in words) names the class, not its constructor."""
    write(tmp_path / "repo", "awt/GridBagLayout.java",
          "/** Lays out components in a grid of cells, each component spanning one or more cells. */\n"
          "public class GridBagLayout implements LayoutManager2 {\n    public GridBagLayout() {\n    }\n\n"
          "    /** Lays out the container: computes the grid's cells and places each component. */\n"
          "    public void layoutContainer(Container parent) {\n        arrangeGrid(parent);\n    }\n}\n")
    assert CliRunner().invoke(cli, ["index", str(tmp_path / "repo"), "-q"]).exit_code == 0
    for query in ("how does GridBagLayout compute the layout of its components", "grid bag layout"):
        found = json.loads(CliRunner().invoke(cli, ["search", query, str(tmp_path / "repo"), "--json"]).output)
        names = [r["qualname"] for r in found["results"]]
        assert names.index("GridBagLayout") < names.index("GridBagLayout.GridBagLayout"), (query, names)
    named = json.loads(CliRunner().invoke(cli, ["search", "GridBagLayout", str(tmp_path / "repo"), "--json"]).output)
    assert named["results"][0]["qualname"] == "GridBagLayout"  # a name alone: the class, its constructor after
