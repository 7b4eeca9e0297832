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


ROUTER_TS = ("export function createRouter(routes: string[]): Map<string, number> {\n"
             "  // Register each route of the API.\n  return new Map(routes.map((r, i) => [r, i]));\n}\n")
ROUTER_JS = ("function createRouter(routes) {\n  // Register each route of the API.\n"
             "  return new Map(routes.map((r, i) => [r, i]));\n}\nexports.createRouter = createRouter;\n")
ROUTER_DTS = "export declare function createRouter(routes: string[]): Map<string, number>;\n"


def _package(root: Path) -> None:
    """A tiny npm package: its TypeScript sources, and the bundles, declarations and maps built from them."""
    write(root, "package.json", '{"name": "router", "main": "dist/index.cjs"}\n')
    write(root, "src/router.ts", ROUTER_TS)
    write(root, "src/globals.d.ts", "declare const VERSION: string;\n")  # hand-written: no globals.ts
    for name in ("index.cjs", "index.mjs"):
        write(root, f"dist/{name}", ROUTER_JS + f"//# sourceMappingURL={name}.map\n")
    for name in ("index.d.cts", "index.d.mts"):
        write(root, f"dist/{name}", ROUTER_DTS)
    write(root, "lib/router.ts", ROUTER_TS.replace("createRouter", "makeRouter"))  # compiled in place
    write(root, "lib/router.js", ROUTER_JS.replace("createRouter", "makeRouter"))
    write(root, "lib/router.d.ts", ROUTER_DTS.replace("createRouter", "makeRouter"))
    write(root, "static/app.js", ROUTER_JS.replace("createRouter", "startApp") + "//# sourceMappingURL=app.js.map\n")
    write(root, "static/vendor.js", "function vendored() {\n  return 1;\n}\n")
    write(root, "static/vendor.js.map", '{"version": 3}\n')


def test_build_output_is_skipped_at_discovery_with_the_reason_and_comes_back_with_a_negation(tmp_path: Path) -> None:
    """dist/ beside src/, declarations and JavaScript beside their TypeScript, files beside a source map
    or ending with a sourceMappingURL comment are skipped as build output, each with its reason in the
    report; a hand-written .d.ts stays; the source is found once, and `related` finds no copy of it;
    `!dist/` in .codesearchignore brings the bundles back."""
    from codesearch.pipeline import build_index
    from codesearch.related import at_line
    from codesearch.related import related as find_related
    from codesearch.search import Searcher
    from tests.conftest import FakeEmbedder

    _package(tmp_path)
    report = build_index(tmp_path, embedder=FakeEmbedder())
    skipped = {s.path: s.reason for s in report.skipped}
    assert skipped == {
        "dist": "build output (dist/ beside src/; `!dist/` in .codesearchignore indexes it)",
        "lib/router.d.ts": "build output (declarations from router.ts)",
        "lib/router.js": "build output (compiled from router.ts)",
        "static/app.js": "build output (ends with a sourceMappingURL comment)",
        "static/vendor.js": "build output (beside its source map vendor.js.map)",
    }
    assert report.files == 3  # src/router.ts, src/globals.d.ts, lib/router.ts
    out = run("index", str(tmp_path), "--rebuild")
    assert "dist: build output (dist/ beside src/" in out.output, out.output
    with Searcher(tmp_path / ".codesearch") as searcher:
        hits = searcher.search("register each route of the API", k=10)
        assert [h.path for h in hits if "createRouter" in h.code] == ["src/router.ts"]
        source = at_line(searcher, tmp_path / "src/router.ts", 2)
        copies = [h.path for h in find_related(searcher, source, 10) if "createRouter" in h.code]
    assert copies == []
    write(tmp_path, ".codesearchignore", "!dist/\n")
    again = build_index(tmp_path, embedder=FakeEmbedder(), rebuild=True)
    assert "dist" not in {s.path for s in again.skipped}
    assert again.files == 3 + 4  # the bundles and their declarations, trailer or not


SITE_RB = """class Site
  # Whether the site must be rebuilt.
  def regenerate?
    @dirty
  end

  def regenerate_all_pages_and_assets_after_change
    @pages.each(&:render)
  end

  def cleanup!
    @files.clear
  end

  def cleanup_stale_files_after_build
    @stale.each { |f| File.delete(f) }
  end

  def regenerate
    process
  end
end
"""
CLEANER_RB = "class Cleaner\n  def cleanup\n    @site.files.clear\n  end\nend\n"


def test_ruby_names_keep_their_question_and_bang_marks_and_a_query_names_them_exactly(tmp_path: Path) -> None:
    """`regenerate?` and `cleanup!` are stored with their marks, a query of one such name is that
    identifier, and the exact method comes first: before `regenerate`, `cleanup` and longer names."""
    from codesearch.query import IDENTIFIER, analyse

    write(tmp_path, "lib/site.rb", SITE_RB)
    write(tmp_path, "lib/cleaner.rb", CLEANER_RB)
    assert run("index", str(tmp_path), "-q").exit_code == 0
    for query, qualname in (("regenerate?", "Site.regenerate?"), ("cleanup!", "Site.cleanup!")):
        info = analyse(query)
        assert (info.kind, info.identifiers) == (IDENTIFIER, (query,)), info
        for stage in ("--fast", "--rerank"):  # the first stage, and the default with the shipped reranker
            out = run("search", query, str(tmp_path), "--json", "-k", "3", stage)
            assert out.exit_code == 0, out.output
            hits = [r["qualname"] for r in json.loads(out.output)["results"]]
            assert hits[0] == qualname, (query, stage, hits)
    # In a sentence the mark is punctuation, unless the name is written like code.
    assert analyse("how are errors handled?").identifiers == ()
    assert analyse("where is valid_path? called").identifiers == ("valid_path?",)
    assert analyse("a != b").identifiers == () and analyse("user?.name").words == ("user", "name")
