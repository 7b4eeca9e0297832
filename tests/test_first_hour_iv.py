"""A new user's first hour IV: large codebases and questions about how something works (a black-box review on
SQLAlchemy, eslint, Symfony and gRPC-Go)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.mcp_server import compact
from codesearch.search import Searcher
from tests.conftest import write


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


LINT_CACHE_JS = """\
/**
 * Keeps the results of linting files between runs, so that unchanged files are not linted again.
 */
class LintResultCache {
    constructor(cacheFileLocation, cacheStrategy) {
        this.fileEntryCache = createCache(cacheFileLocation, cacheStrategy);
    }

    /**
     * Checks the cache for a file's lint results: the cached results when the file is unchanged
     * since they were stored, else null, so that the caller lints the changed file again.
     */
    getCachedLintResults(filePath, config) {
        const fileDescriptor = this.fileEntryCache.getFileDescriptor(filePath);
        if (fileDescriptor.notFound || fileDescriptor.changed) {
            return null;
        }
        return fileDescriptor.meta.results;
    }

    /** Stores a file's lint results in the cache. */
    setCachedLintResults(filePath, config, result) {
        const fileDescriptor = this.fileEntryCache.getFileDescriptor(filePath);
        fileDescriptor.meta.results = result;
    }

    /** Writes the cache to its file. */
    reconcile() {
        this.fileEntryCache.reconcile();
    }
}

module.exports = LintResultCache;
"""

COLORS_JS = """\
/** Paints a string in a terminal color. */
function paint(text, color) {
    return `\\u001b[${color}m${text}\\u001b[0m`;
}

module.exports = { paint };
"""


def test_an_outline_lists_its_members_that_the_search_found_too(tmp_path: Path) -> None:
    """eslint's `LintResultCache` (a 140-line class) came first for "where is the lint result cache checked to skip
    unchanged files", its snippet the constructor's doc, while its `getCachedLintResults` is the answer: an outline
    now names the members the search found too, best first, with their lines (text, JSON, MCP)."""
    write(tmp_path, "lint-result-cache.js", LINT_CACHE_JS)
    write(tmp_path, "colors.js", COLORS_JS)
    assert run("index", str(tmp_path), "-q").exit_code == 0
    query = "where is the lint result cache checked to skip unchanged files"
    found = json.loads(run("search", "--json", "-k", "10", query, str(tmp_path)).output)["results"]
    outline = next(r for r in found if r["qualname"] == "LintResultCache")
    assert outline["outline"] is True
    members = outline["members"]
    assert {"qualname": "LintResultCache.getCachedLintResults", "start_line": 13, "end_line": 19} in members, members
    assert 1 <= len(members) <= 3 and all(m["qualname"].startswith("LintResultCache.") for m in members)
    assert all(r["members"] == [] for r in found if r["qualname"] != "LintResultCache"), found
    text = run("search", "-k", "10", query, str(tmp_path)).output
    assert "members that match: " in text and "getCachedLintResults 13-19" in text, text
    with Searcher(tmp_path / ".codesearch") as searcher:
        agent = [compact(r, 12) for r in searcher.search(query, k=10)]
    assert next(a for a in agent if a["qualname"] == "LintResultCache")["members"] == members
    assert all("members" not in a for a in agent if a["qualname"] != "LintResultCache")
    # A name asks for the class itself: nothing is listed with it.
    named = json.loads(run("search", "--json", "-k", "3", "LintResultCache", str(tmp_path)).output)["results"]
    assert named[0]["qualname"] == "LintResultCache" and named[0]["members"] == []


def _module(name: str, topic: str, n: int) -> str:
    return "".join(f"def {name}_{i}(value):\n    \"\"\"{topic} step {i}: check the {topic} value and retry it.\"\"\"\n"
                   f"    return value + {i}\n\n\n" for i in range(n))


def test_the_first_results_are_the_same_whatever_k(tmp_path: Path) -> None:
    """The first ten of `-k 60` and more were not those of `-k 10` in 27% of 324 questions (a new user saw rank 5
    change between `-k 80` and `-k 100`): a deeper pool weighed each candidate against other ones. A search for
    more results ranks the usual pool for its head and a deeper one for the rest (here a pool of 13 stands for
    the usual 60)."""
    for name, topic in (("cache", "cache"), ("retry", "retry"), ("token", "token"), ("upload", "upload"),
                        ("socket", "socket"), ("parser", "parser")):
        write(tmp_path, f"{name}.py", _module(name, topic, 12))
    assert run("index", str(tmp_path), "-q").exit_code == 0
    queries = ("how are failed uploads retried", "where is the cache value checked", "parse a token from a socket",
               "how does the parser check each value", "retry a cache upload")
    with Searcher(tmp_path / ".codesearch") as searcher:
        for query in queries:
            head = [(r.path, r.start_line) for r in searcher.search(query, k=3, pool_depth=13)]
            for k in (20, 40, 72):
                deeper = searcher.search(query, k=k, pool_depth=13)
                assert [(r.path, r.start_line) for r in deeper[:3]] == head, (query, k)
                assert [r.rank for r in deeper] == list(range(1, len(deeper) + 1))
                assert len({(r.path, r.start_line) for r in deeper}) == len(deeper) == min(k, 72)


def test_an_mcp_answer_keeps_within_its_budget_by_leaving_out_later_snippets() -> None:
    """`k` 100 with `max_lines` 40 and `by_file` made a 210 KB answer, more than an agent's context takes from one
    call: past three quarters of the budget, results keep their place without their snippet, past the budget they
    are left out, and the answer says so."""
    from codesearch.mcp_server import MAX_ANSWER_CHARS, budgeted

    entries = [{"rank": n, "path": f"src/m{n}.py", "start_line": 1, "end_line": 40, "qualname": f"f{n}",
                "snippet": "x = 1\n" * 300, "snippet_truncated": True,
                "members": [{"qualname": "C.m", "start_line": 2, "end_line": 3}]} for n in range(1, 201)]
    kept, note = budgeted(entries)
    whole = [e for e in kept if "snippet" in e]
    places = kept[len(whole):]
    assert 2 <= len(whole) < len(kept) < 200 and kept[:len(whole)] == entries[:len(whole)]
    assert all(e["snippet_omitted"] is True and not {"snippet", "members", "snippet_truncated"} & set(e) and
               e["path"] == f"src/m{e['rank']}.py" for e in places)
    assert [e["rank"] for e in kept] == list(range(1, len(kept) + 1))
    # As sent (JSON on one line): measured indented, an answer was cut at two thirds of its budget.
    assert MAX_ANSWER_CHARS * 0.9 < len(json.dumps({"results": kept}, ensure_ascii=False)) < MAX_ANSWER_CHARS * 1.01
    assert note == (f"snippets of results {len(whole) + 1}-{len(kept)} and results {len(kept) + 1}-200 left out "
                    "to keep this answer under 40,000 characters; ask for fewer results (k) or lines (max_lines)")
    assert budgeted(entries[:2]) == (entries[:2], "")  # what fits is as it was
    huge = [{**entries[0], "snippet": "y" * 100_000}, entries[1]]
    kept, note = budgeted(huge)  # the first result is always whole (max_lines bounds it)
    assert kept[0] == huge[0] and len(kept) == 1 and note.startswith("results 2-2 left out")
    # Grouped by file (`by_file`), whole files are kept, then files whose hits lost their snippets, counted as
    # files: "results 63-209" counted hits by place while each hit's rank is its chunk's (up to 379).
    groups = [{"rank": n, "path": f"src/m{n}.py", "hits": [{k: v for k, v in e.items() if k != "path"}
                                                          for e in entries[:3]]} for n in range(1, 101)]
    kept, note = budgeted(groups, what="files")
    whole = [g for g in kept if all("snippet" in h for h in g["hits"])]
    assert kept[:len(whole)] == groups[:len(whole)] and [g["rank"] for g in kept] == list(range(1, len(kept) + 1))
    assert all(h["snippet_omitted"] and "snippet" not in h for g in kept[len(whole):] for h in g["hits"])
    assert note.startswith(f"snippets of files {len(whole) + 1}-{len(kept)} and files {len(kept) + 1}-100 left out")
    sent = json.dumps({"root": "/r", "files": kept, "truncated": note}, ensure_ascii=False)
    assert len(sent) < MAX_ANSWER_CHARS * 1.01
    one_line = [{**e, "snippet": "x = 1"} for e in entries[:100]] * 3
    assert budgeted(one_line)[1].endswith("ask for fewer results (k)")  # no fewer lines than one to ask for


def test_a_function_in_a_module_is_a_function_where_the_language_says_so() -> None:
    """An Elixir `def` in its `defmodule` was a method, as a function in any container is, so `--kind function` (and
    MCP's `kind: "function"`) found almost nothing in plug; so were the functions of Rust's `mod` and TypeScript's
    `namespace`. A Ruby `def` in a `module` is a method of the classes that include it, and a class's or a
    protocol's functions stay methods."""
    from indexer.parse import extract_symbols
    from indexer.types import SourceFile

    def kinds(language: str, path: str, code: str) -> dict[str, str]:
        return {s.qualname: s.kind.value for s in extract_symbols(SourceFile(path, language, code.encode()))}

    assert kinds("elixir", "conn.ex", 'defmodule Plug.Conn do\n  def send_resp(conn), do: conn\nend\n'
                 'defprotocol Size do\n  def size(data)\nend\n') == {
        "Plug.Conn": "module", "Plug.Conn.send_resp": "function", "Size": "interface", "Size.size": "method"}
    assert kinds("rust", "lib.rs", "mod util {\n    pub fn helper() -> u8 { 1 }\n}\nstruct S;\nimpl S {\n"
                 "    fn m(&self) {}\n}\n") == {
        "util": "module", "util.helper": "function", "S": "type", "S.m": "method"}
    assert kinds("typescript", "ns.ts", "namespace NS {\n  export function f(): number { return 1 }\n}\n"
                 "class C {\n  m() {}\n}\n") == {"NS": "module", "NS.f": "function", "C": "class", "C.m": "method"}
    assert kinds("ruby", "m.rb", "module M\n  def helper\n  end\nend\n") == {"M": "module", "M.helper": "method"}


def test_a_cpp_class_declared_with_an_alignment_macro_is_a_class() -> None:
    """rocksdb's `class ALIGN_AS(CACHE_LINE_SIZE) LRUCacheShard final : public CacheShard` was no class: the macro's
    call read as its name, its members were free functions (`lru_cache.EvictFromLRU`) and "LRUCacheShard" found
    nothing by that name."""
    from indexer.parse import extract_symbols
    from indexer.types import SourceFile

    code = ("namespace rocksdb {\nclass ALIGN_AS(CACHE_LINE_SIZE) LRUCacheShard final : public CacheShard {\n"
            " public:\n  size_t capacity() const { return capacity_; }\n};\n"
            "struct ALIGN_AS(64) CacheLine {\n  void clear() {}\n};\n"
            "class ROCKSDB_API Options : public DBOptions {\n public:\n  void Dump() const {}\n};\n}\n")
    found = {s.qualname: (s.kind.value, s.start_line, s.end_line)
             for s in extract_symbols(SourceFile("cache/lru_cache.h", "cpp", code.encode()))}
    assert found == {"rocksdb.LRUCacheShard": ("class", 2, 5), "rocksdb.LRUCacheShard.capacity": ("method", 4, 4),
                     "rocksdb.CacheLine": ("class", 6, 8), "rocksdb.CacheLine.clear": ("method", 7, 7),
                     "rocksdb.Options": ("class", 9, 12), "rocksdb.Options.Dump": ("method", 11, 11)}, found


def test_the_weak_match_warning_is_the_same_whatever_k(tmp_path: Path) -> None:
    """rocksdb's point-lookup question said "Weak matches only" at `-k 3` and `-k 5` and not at `-k 8` or `-k 10`,
    the same ranking: the warning read the best similarity of the hits shown, and a better one was sixth. It reads
    the first ten of the ranking now, whatever is shown."""
    from codesearch.search import files
    from codesearch.search.results import SearchResult

    def hit(rank: int, score: float) -> SearchResult:
        return SearchResult(rank=rank, score=score, key=f"a.py::f{rank}", path="a.py", root=str(tmp_path),
                            language="python", kind="function", name=f"f{rank}", qualname=f"f{rank}", signature="",
                            doc="", code="pass", start_line=rank, end_line=rank)

    ranking = [hit(n, 0.5 if n == 6 else 0.2) for n in range(1, 31)]
    asked: list[int] = []

    def search(n: int) -> list[SearchResult]:
        asked.append(n)
        return ranking[:n]

    for k in (1, 3, 5, 8, 10, 30):
        found = files.answer(search, k)
        assert [r.rank for r in found.results] == list(range(1, k + 1)) and found.groups is None
        assert found.best == 0.5, k
    assert asked == [10, 10, 10, 10, 10, 30]
    grouped = files.answer(search, 2, grouped=True)
    assert grouped.groups is not None and grouped.best == 0.5 and grouped.results == files.hits_of(grouped.groups)
    # And as printed: no warning at -k 3 when the tenth best is strong, one when none of the ten is.
    write(tmp_path, "a.py", "def tokenize(text):\n    \"\"\"Split text into tokens.\"\"\"\n    return text.split()\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    from codesearch.render import to_text
    assert to_text(ranking[:3], best=0.5).startswith(" 1. ")
    assert to_text(ranking[:3], best=0.3).startswith("Weak matches only (best similarity 0.30)")
    assert to_text(ranking[5:8]).startswith(" 6. ")  # alone, the best of what is shown, as before


def test_a_long_function_cut_where_the_index_stores_it_is_not_called_an_outline(tmp_path: Path) -> None:
    """rocksdb's 180-line `Version::Get` came back as a "method outline": its stored code is its first 4,000
    characters, and fewer lines than its span read as an outline's. Only a class's or module's code is an outline."""
    body = "".join(f"    total += step_{n}(value)  # add the contribution of step {n} to the total\n"
                   for n in range(80))
    write(tmp_path, "long.py", f"def accumulate(value):\n    total = 0\n{body}    return total\n\n\n"
                               "class Holder:\n    def get(self):\n        found = self.x\n        return found\n\n"
                               "    def put(self, x):\n        self.x = x\n        return self\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    found = {r["qualname"]: r for r in json.loads(
        run("search", "--json", "-k", "5", "accumulate the total of every step", str(tmp_path)).output)["results"]}
    assert found["accumulate"]["end_line"] - found["accumulate"]["start_line"] > found["accumulate"]["code"].count(
        "\n") and "outline" not in found["accumulate"], found["accumulate"]
    assert found["Holder"]["outline"] is True
    assert "function outline" not in run("search", "-k", "5", "accumulate the total of every step",
                                         str(tmp_path)).output


def test_a_lone_preprocessor_conditional_between_definitions_is_no_chunk() -> None:
    """libgit2's pack-objects.c:53, the single line `#else` between two definitions, came third for a question
    about resolving deltas: a chunk that says nothing, embedded as little more than its file's name. The code
    between definitions that is only `#if`/`#else`/`#endif` lines is dropped, as closing brackets are; a
    conditional with code beside it stays."""
    from indexer.chunk import chunks_or_windows
    from indexer.types import SourceFile

    code = ("#include \"pack.h\"\n\n#ifdef GIT_THREADS\nstatic int lock(void) { return 0; }\n#else\n"
            "static int lock(void) { return 1; }\n#endif  /* GIT_THREADS */\n\n"
            "#if defined(GIT_WIN32)\n#define SEP '\\\\'\n#endif\n\nint pack(void) { return lock(); }\n")
    chunks = chunks_or_windows(SourceFile("src/pack-objects.c", "c", code.encode()))[0]
    gaps = [(c.start_line, c.end_line, c.code) for c in chunks if c.kind.value == "code"]
    assert [(start, end) for start, end, _ in gaps] == [(1, 3), (7, 11)], gaps  # not line 5's `#else`
    assert gaps[1][2].startswith("#endif  /* GIT_THREADS */") and "#define SEP" in gaps[1][2]


def test_a_proper_noun_defined_in_many_files_names_none_of_them(tmp_path: Path) -> None:
    """hugo's "how does Hugo choose which layout template file to use for a page" put `nopPage.Hugo`, an empty stub
    that returns the project, first, and `Hugo()` accessors took 4 of the first 10: a capitalised word of a sentence
    is taken for a class's name, and every page type defines `Hugo`. Defined in three files or more, such a word
    names none of them; a name the query writes as code (`makeConstraints`) still names its definitions."""
    for n, kind in enumerate(("nopPage", "pageState", "siteInfo", "testSite")):
        write(tmp_path, f"page/{kind}.go", f"package page\n\n// Hugo returns the Hugo site info.\n"
                                          f"func (p *{kind}) Hugo() HugoInfo {{\n\treturn HugoInfo{{}}\n}}\n")
    write(tmp_path, "output/layout.go",
          "package output\n\n// For picks the layout template files to try for a page, most specific first.\n"
          "func (l *LayoutHandler) For(d LayoutDescriptor, f Format) ([]string, error) {\n"
          "\tlayouts := resolvePageTemplate(d, f)\n\treturn layouts, nil\n}\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    with Searcher(tmp_path / ".codesearch") as searcher:
        found = searcher.search("how does Hugo choose which layout template file to use for a page", k=5)
        assert found[0].qualname == "LayoutHandler.For", [(r.qualname, r.scores) for r in found]
        assert all(r.scores.get("definition", 0) < 0.2 for r in found if r.name == "Hugo")
        named = searcher.search("Hugo", k=5)  # the name alone still asks for its definitions
        assert {r.qualname for r in named[:4]} == {f"{kind}.Hugo" for kind in
                                                   ("nopPage", "pageState", "siteInfo", "testSite")}


LICENSED_C = """/*
 * Copyright (C) the libgit2 contributors. All rights reserved.
 *
 * This file is part of libgit2, distributed under the GNU GPL v2 with
 * a Linking Exception. For full terms see the included COPYING file.
 */

#include "pack.h"
#include "delta.h"
#include "zstream.h"

static int packfile_unpack_delta(int base) { return base + 1; }
"""


def test_a_files_opening_is_shown_from_after_its_licence(tmp_path: Path) -> None:
    """libgit2's `pack.c:1-28` came first for a question about packs and showed six lines of copyright: a file's
    opening now shows from after its licence (the includes say what the file uses), in text and MCP alike; its
    code in JSON is the whole chunk, as before."""
    from indexer.licences import licence_head

    assert licence_head(LICENSED_C) == 7 and licence_head("#include <x.h>\n// Copyright A\n") == 0
    assert licence_head("/* Packs objects. */\n\n/* Copyright A */\nint x;\n") == 0  # a description first
    write(tmp_path, "src/pack.c", LICENSED_C)
    assert run("index", str(tmp_path), "-q").exit_code == 0
    query = "which headers does the pack file code include for zstream and delta"
    found = json.loads(run("search", "--json", "-k", "5", query, str(tmp_path)).output)["results"]
    opening = next(r for r in found if r["kind"] == "code" and r["start_line"] == 1)
    assert opening["code"].startswith("/*\n * Copyright")
    text = run("search", "-k", "5", query, str(tmp_path)).output
    block = text[text.index("<pack.c>"):]
    assert "Copyright" not in block.split("\n\n 2.")[0] and '      ... (from line 8)\n      #include "pack.h"' in block, text
    with Searcher(tmp_path / ".codesearch") as searcher:
        agent = next(compact(r, 12) for r in searcher.search(query, k=5) if r.kind == "code")
    assert agent["snippet_start_line"] == 8 and agent["snippet"].startswith('#include "pack.h"')


def test_the_how_it_works_set_loads_and_every_question_has_targets() -> None:
    """benchmarks/queries/how-it-works.json (the helper's 48 questions, docs/BENCHMARKS.md#first-hour-iv) is a query
    set `codesearch bench --queries` reads: four repositories, every question with its function-level targets."""
    from codesearch.bench.queryset import load

    repos, queries = load(Path(__file__).resolve().parents[1] / "benchmarks" / "queries" / "how-it-works.json")
    assert {r.name for r in repos} == {"sqlalchemy", "eslint", "symfony", "grpc"} and len(queries) == 48
    assert all(q.relevant and all("::" in key for key in q.relevant) for q in queries)
    assert sum(q.repo == "symfony" and q.text == "how does the kernel turn a request into a response"
               for q in queries) == 1


GO_LAYOUT = """package output

// LayoutHandler calculates the layout template to use to render a given output type.
type LayoutHandler struct {
	cache map[string][]string
}

// NewLayoutHandler creates a new LayoutHandler.
func NewLayoutHandler() *LayoutHandler {
	return &LayoutHandler{cache: make(map[string][]string)}
}

// For returns the layout templates to try for the given descriptor and output format, most specific first.
func (l *LayoutHandler) For(d LayoutDescriptor, f Format) ([]string, error) {
	layouts := resolvePageTemplate(d, f)
	return layouts, nil
}
"""


def test_related_leaves_out_a_go_methods_own_type_and_says_when_a_line_is_past_the_end(tmp_path: Path) -> None:
    """An agent's `related {"symbol": "LayoutHandler.For"}` had `type LayoutHandler` first: the tool leaves out the
    definition's class, and a Go method's type is declared apart from it. A line past the file's end said "a blank
    line or a comment between definitions", and a 5,000-character symbol came back whole in the error."""
    write(tmp_path, "output/layout.go", GO_LAYOUT)
    write(tmp_path, "output/format.go", "package output\n\n// Format is an output format.\ntype Format struct {\n"
                                        "\tName string\n}\n\n// LayoutDescriptor describes how to look up a layout.\n"
                                        "type LayoutDescriptor struct {\n\tKind string\n}\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    found = json.loads(run("related", "--symbol", "LayoutHandler.For", "-C", str(tmp_path), "--json").output)
    names = [r["qualname"] for r in found["results"]]
    assert "LayoutHandler" not in names and "NewLayoutHandler" in names, names
    past = run("related", f"{tmp_path / 'output/layout.go'}:9999", "-C", str(tmp_path))
    assert past.exit_code == 2 and "output/layout.go has 17 lines; line 9,999 is past its end" in past.output
    long = run("related", "--symbol", "s" * 5000, "-C", str(tmp_path))
    assert long.exit_code == 2 and "5,000 characters long; a name is at most 500" in long.output
    assert len(long.output) < 300


def test_a_lowercase_names_line_is_where_it_is_written_so_first(tmp_path: Path) -> None:
    """For the query `free`, libgit2's hit pointed at `/* Free the subtransport */` (smart.c:378), a comment, above
    the call `free(t)`: a lowercase word matches in any case (as the ranking's word signal does), but its line is
    the first where it is written as asked, when there is one."""
    write(tmp_path, "smart.c", "static void smart_close(transport *t)\n{\n\t/* Free the subtransport */\n"
                               "\tclose_sub(t->sub);\n\tfree(t);\n}\n")
    write(tmp_path, "other.c", "static int Free_count(void)\n{\n\t/* Free nothing */\n\treturn 0;\n}\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    found = {r["path"]: r["line"] for r in json.loads(run("search", "--json", "-k", "5", "free",
                                                             str(tmp_path)).output)["results"]}
    assert found["smart.c"] == 5, found
    assert found.get("other.c", 3) == 3  # only in another case: that line, as before


def test_a_capitalised_first_word_before_a_kind_names_it(tmp_path: Path) -> None:
    """An agent's `Query class` (kind class) had sqlalchemy's `class Query` 32nd: a capitalised word that starts
    the sentence is taken for a plain word, but one before `class`, `object`, `interface` ... names what it is."""
    from codesearch.query import analyse

    assert analyse("Query class").identifiers == ("Query",) and analyse("Session object").identifiers == ("Session",)
    assert analyse("Parse the config").identifiers == () and analyse("Where are queries built").identifiers == ()
    write(tmp_path, "orm/query.py", "class Query:\n    \"\"\"ORM-level SQL construction object.\"\"\"\n\n"
                                    "    def filter(self, *criterion):\n        return self\n")
    for n in range(6):
        write(tmp_path, f"orm/q{n}.py", f"class Query{n}Builder:\n    \"\"\"Builds query {n}: a class for queries "
                                        f"of kind {n}.\"\"\"\n\n    def build(self):\n        return {n}\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    with Searcher(tmp_path / ".codesearch") as searcher:
        assert searcher.search("Query class", k=3, kinds=("class",))[0].qualname == "Query"


def test_an_mcp_part_says_which_lines_its_whole_definition_has(tmp_path: Path) -> None:
    """rocksdb's `GetWriteStallConditionAndCause` came back as lines 902-919 with `part: true`; the method is 883-919,
    and the agent needed another call to read all of it. A part carries its definition's lines now."""
    from codesearch.session import RepositorySession

    body = "".join(f"    stall_{n} = check_level_{n}(files, limits)  # is level {n} over its limit?\n"
                   for n in range(120))
    head = "def write_stall_condition(files, limits):\n    \"\"\"Whether writes must stall.\"\"\"\n"
    write(tmp_path, "stall.py", f"{head}{body}    return any([stall_0, stall_1])\n")
    session = RepositorySession(tmp_path, workers=1)
    try:
        results = session.call(session.search, "is level 97 over its limit", 5)
        part = next(r for r in results if r.part)
        assert part.definition_lines == (1, 123) and (part.start_line, part.end_line) != (1, 123)
        agent = compact(part, 12)
        assert agent["part"] is True and (agent["definition_start_line"], agent["definition_end_line"]) == (1, 123)
        whole = next((r for r in results if not r.part), None)
        assert whole is None or "definition_start_line" not in compact(whole, 12)
    finally:
        session.close()


def test_a_part_in_the_cli_json_and_in_several_repositories_says_its_definition_lines(tmp_path: Path) -> None:
    """A new user on elixir-lang: `--json` marked a window `part: true` without the lines of its whole function
    (lines 548-564 of `Task.async_stream`'s 485-564), which the MCP answer had. Every search path carries them now:
    one index, several as one corpus, and the JSON output; a whole definition has none."""
    body = "".join(f"    stall_{n} = check_level_{n}(files, limits)  # is level {n} over its limit?\n"
                   for n in range(120))
    head = "def write_stall_condition(files, limits):\n    \"\"\"Whether writes must stall.\"\"\"\n"
    for repo in ("a", "b"):
        write(tmp_path / repo, "stall.py", f"{head}{body}    return any([stall_0, stall_1])\n")
        write(tmp_path / repo, "other.py", "def other_level():\n    \"\"\"Another level check.\"\"\"\n    return 1\n")
        assert run("index", str(tmp_path / repo), "-q").exit_code == 0
    out = run("search", "is level 97 over its limit", str(tmp_path / "a"), "--json", "-k", "5")
    results = json.loads(out.output)["results"]
    part = next(r for r in results if r.get("part"))
    assert (part["definition_start_line"], part["definition_end_line"]) == (1, 123) and part["start_line"] > 1
    assert all("definition_start_line" not in r and "definition_lines" not in r for r in results if not r.get("part"))
    both = json.loads(run("search", "is level 97 over its limit", str(tmp_path / "a"), str(tmp_path / "b"),
                          "--json", "-k", "5").output)["results"]
    parts = [r for r in both if r.get("part")]
    assert parts and all((r["definition_start_line"], r["definition_end_line"]) == (1, 123) for r in parts)


def test_the_line_count_behind_past_the_end_reads_as_the_index_reads(tmp_path: Path) -> None:
    """The count behind "has N lines; line M is past its end" reads the repository's file as the indexer does: no
    link followed out of it, no FIFO opened (which would block), no more than the index's file size limit."""
    import os

    from codesearch.related import _line_count

    write(tmp_path, "repo/a.py", "x = 1\ny = 2\n")
    write(tmp_path, "secret.txt", "1\n2\n3\n")
    (tmp_path / "repo/link.py").symlink_to(tmp_path / "secret.txt")
    os.mkfifo(tmp_path / "repo/pipe.py")
    root = tmp_path / "repo"
    assert _line_count(root, "a.py", 1000) == 2
    assert _line_count(root, "link.py", 1000) is None and _line_count(root, "pipe.py", 1000) is None
    assert _line_count(root, "a.py", 5) is None  # over the size limit: not counted
