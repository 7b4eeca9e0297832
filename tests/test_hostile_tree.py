"""A hostile working tree: ignore files, file shapes, directories and races meant to hang,
crash or mislead ``index``. Each test says what it once did."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write

# -- per-file CPU is bounded: shapes that made tree-sitter run for minutes or crash -----------

_SHAPES = {  # each 80 KB to 1 MB in short lines, so that it does not look minified
    # "[": a run of unnamed siblings that the query engine walks quadratically (over 2 minutes).
    "brackets.js": "[[[[[[[[[[\n" * 55_000,
    # no bracket, but 245,000 keywords in a row: the query's cost grows with the square (over 40 s).
    "keywords.js": "new new new new new\n" * 49_000,
    # no bracket at all, but 250,000 levels: the query slows down without bound past 65,535.
    "assign.js": "a=a=a=a=a=\n" * 50_000 + "b;\n",
    # 150,000 nested `{a: `: the parser overflowed the C stack (the process died with SIGSEGV).
    "objects.js": "{a: {a: {a: \n" * 50_000,
    # A line that cannot start a statement, repeated: each grammar's error recovery costs the square of
    # the count (benchmarks/bench_hostile_shapes.py): 5,000 unclosed `/*` took tree-sitter-c 26 s, and
    # these would take hours; TypeScript's query tests text, so its tree is parsed twice.
    "comments.c": "/*\n" * 60_000,
    "markup.rb": "<!--\n" * 20_000,
    "docs.ts": "/**\n" * 40_000,
}

# Shapes that index as usual in seconds, each once far slower; the ordinary file beside it is indexed too.
# A run of `/*` lines sent tree-sitter-python's error recovery into a loop that never asks the deadline's
# callback, its memory growing with the square of the run (5,000 lines: 15 s and 7 GB); such lines are
# blanked for the parser now (a registry rewrite). The others' cost was in a query file's pattern. Elixir's `@doc` pattern took every attribute with a string as its start and ran over all
# the attributes after it (`(unary_operator)*`): 3,000 lines took 40 s, 1 MB would take about an hour.
# Rust's inline module doc was a quantified capture (`(line_comment ...)+ @doc`), whose cost grows with
# the square of its length in tree-sitter's query and in the parser's merging of docs: 52,000 lines
# (1 MB) took about 40 s.
_QUERY_SHAPES = {
    "stars.py": "/*\n" * 7_000,  # (with code after the run it parses fast: the loop is at the end)
    "inner.rs": "mod m {\n" + "//! inner doc line\n" * 52_000 + "}\n",
    "attributes.ex": '  @alphabet ~c"0123456789abcdefghijklmnopqrstuvwxyz"\n' * 3_000,
    "docs.ex": '  @doc "Decodes a base62 string."\n' * 4_000,
}


@pytest.mark.parametrize("name", sorted(_QUERY_SHAPES))
def test_a_query_pattern_costs_linear_time_on_long_runs_of_siblings(tmp_path: Path, name: str) -> None:
    root = tmp_path / "repo"
    write(root, name, _QUERY_SHAPES[name])
    write(root, "ok.ex", "defmodule Ok do\n  def fine, do: 1\nend\n")
    files, skipped = _index_in_child(root, name)
    assert files == "2" and skipped == "{}", skipped


def _index_in_child(root: Path, what: str) -> tuple[str, str]:
    """``build_index`` of ``root`` in a child process, so that a hang or a crash fails the test instead of
    the suite: its file count, and the reasons of the files skipped or indexed as windows, as printed."""
    script = ("from pathlib import Path\nfrom codesearch.pipeline import build_index\nfrom tests.conftest import FakeEmbedder\n"
              f"r = build_index(Path({str(root)!r}), embedder=FakeEmbedder())\n"
              "print(r.files, {**dict((s.path, s.reason) for s in r.skipped), **r.windowed})\n")
    try:
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                             cwd=Path(__file__).resolve().parents[1])
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what}: still busy after 30 s")
    assert out.returncode == 0, f"{what}: exit {out.returncode}: {out.stderr[-500:]}"
    files, skipped = out.stdout.strip().split(" ", 1)
    return files, skipped


@pytest.mark.parametrize("name", sorted(_SHAPES))
def test_pathological_shape_is_refused_by_its_grammar_in_seconds(tmp_path: Path, name: str) -> None:
    """Each shape is refused by its grammar with a reason within seconds and indexed as line windows, in a
    child process so a hang or a crash fails the test instead of the suite; the ordinary file next to it is
    indexed as usual."""
    root = tmp_path / "repo"
    write(root, name, _SHAPES[name])
    write(root, "ok.js", "function fine() { return 1; }\n")
    files, skipped = _index_in_child(root, name)
    assert files == "2", skipped
    assert f"'{name}': 'too deeply nested" in skipped or f"'{name}': 'took too long to parse" in skipped, skipped


# 467 bytes of a sample Kotlin file with random edits (found by tests/test_fuzz.py, then shrunk): the
# grammar's error recovery runs away, and tree-sitter-kotlin took 42 s to parse it into 6 million nodes.
RUNAWAY_KT = (b'{l()\ns\n \xc2\xad\xc5\xeb\xf3\xb5\xcd\xb0|\tt.lines.map { it.pt(cart.subtotal, discount, vat)\n    }\n\n'
              b'    /**\n     * Charges the customer for the cart; an empty cart is refused before any charge.\n     */\n'
              b'    fun checkout(cart: Cart, cardToken: String, code: String? = null): PaymentResult {\n'
              b'        if (cart.isEmpty()) {\n            return PaymentResult.Declined("cart is empty")\n        }\n'
              b'        val receipt = price(cart, code)\n        return gateway.charge(receipt.total, cardToken)\n    }\n}\n')


def test_a_parse_whose_error_recovery_runs_away_is_stopped_at_its_deadline(tmp_path: Path) -> None:
    """Kotlin parses under a deadline (``parse_bounded``): the runaway file is indexed as line windows, with
    its reason, and the file beside it as usual; in a child process so that a hang fails the test."""
    root = tmp_path / "repo"
    write(root, "Checkout.kt", RUNAWAY_KT)
    write(root, "Fine.kt", "/** Adds. */\nfun add(a: Int, b: Int): Int = a + b\n")
    files, skipped = _index_in_child(root, "Checkout.kt")
    assert files == "2" and "'Checkout.kt': 'took too long to parse (over 0.5 s for 467 bytes" in skipped, skipped


def test_a_header_of_many_defines_and_prototypes_is_read_in_linear_time(tmp_path: Path) -> None:
    """A header's include guard holding 1,500 `#define`s and 1,500 documented prototypes: the query that
    finds prototypes at the top of the guard once paired every `#define` with every declaration (cubic:
    600 of each took 7.6 s, 1,200 took 61 s; redis's server.h 41 s); each prototype is a definition, in
    a child process so that a hang fails the test."""
    root = tmp_path / "repo"
    body = "".join(f"#define CONST_{i} {i}\n/* Does {i}. */\nint f{i}(int x);\n" for i in range(1500))
    write(root, "big.h", f"#ifndef BIG_H\n#define BIG_H\n{body}#endif\n")
    files, skipped = _index_in_child(root, "big.h")
    assert files == "1" and skipped == "{}", skipped
    from indexer.parse import extract_symbols
    from indexer.types import SourceFile

    symbols = extract_symbols(SourceFile("big.h", "cpp", (root / "big.h").read_bytes()))
    assert len(symbols) == 1500 and symbols[-1].name == "f1499" and symbols[-1].doc == "Does 1499."


def test_query_cost_check_leaves_real_code_alone() -> None:
    """Ordinary code far bigger than the walk's threshold passes both checks and keeps its symbols."""
    from indexer.parse import extract_symbols
    from indexer.types import SourceFile

    body = "".join(f"def f{i}(x):\n    return [x, ({i}, {{'k': x}})]\n\n" for i in range(3000))
    symbols = extract_symbols(SourceFile("big.py", "python", body.encode()))
    assert len(symbols) == 3000 and symbols[-1].name == "f2999"


def _verdict(check: object, *args: object) -> str:
    from indexer.types import Unindexable

    try:
        check(*args)  # type: ignore[operator]
    except Unindexable as error:
        return str(error).split(" (")[0]
    return "ok"


@pytest.mark.parametrize("source", [
    "".join(f"def f{i}(x):\n    return [x, ({i}, {{'k': x}})] if x else {{}}\n" for i in range(400)),
    "x = [" + ", ".join("(1, [2, {3: 4}])" for _ in range(600)) + "]\n" + "y = (((((1)))))\n" * 300,
    "def g():\n" + "    " + "not " * 3000 + "x\n" + "a = b = c = d = e\n" * 500,
])
def test_query_cost_skipping_small_subtrees_gives_the_exact_verdict(source: str) -> None:
    """The walk that skips small subtrees (counting their bound instead) refuses exactly the trees
    the full walk refuses, at limits on both sides of each tree's real depth and cost."""
    from indexer.parse import _walk_cost, check_query_cost, parser

    tree = parser("python").parse(source.encode())
    nodes = tree.root_node.descendant_count
    steps = _walk_cost(tree, 10**9, 10**18, 0)  # the exact count
    assert nodes > 2000 and steps > 0
    skipping = _walk_cost(tree, 10**9, 10**18, 50)
    assert skipping >= steps  # a bound, never less than the count
    verdicts = set()
    for depth in (8, 12, 20, 60, 10_000):
        for limit in (steps - 1, steps, steps + 1, nodes, nodes * 40, 10**9):
            exact = _verdict(_walk_cost, tree, depth, limit, 0)
            assert _verdict(check_query_cost, tree, depth, limit) == exact, (depth, limit)
            verdicts.add(exact)
    assert verdicts == {"ok", "too deeply nested", "took too long to parse"}


# -- ignore files: never block, never cost more than a few operations per character ----------

import os  # noqa: E402

import indexer.discover as discover  # noqa: E402
from indexer.discover import FileEntry, walk  # noqa: E402
from indexer.gitignore import is_ignored, parse_lines  # noqa: E402
from indexer.types import SkippedFile  # noqa: E402


def _walk(root: Path) -> tuple[set[str], dict[str, str]]:
    items = list(walk(root))
    return ({i.path for i in items if isinstance(i, FileEntry)},
            {i.path: i.reason for i in items if isinstance(i, SkippedFile)})


def test_fifo_ignore_file_is_never_read(tmp_path: Path) -> None:
    """A .gitignore (or .codesearchignore) that is a FIFO, even one `is_file()` said was a file
    a moment before (simulated), is not opened for a blocking read: the walk ends at once."""
    root = tmp_path / "repo"
    write(root, "a.py", "def a(): pass\n")
    write(root, "sub/b.py", "def b(): pass\n")
    os.mkfifo(root / ".gitignore")
    os.mkfifo(root / "sub" / ".codesearchignore")
    script = ("import sys\nfrom pathlib import Path\n"
              "real = Path.is_file\n"  # the race: the FIFO replaced a regular file right after the check
              "Path.is_file = lambda self, *a, **k: self.name.endswith('ignore') or real(self, *a, **k)\n"
              "from tests.test_hostile_tree import _walk\n"
              f"indexed, skipped = _walk(Path({str(root)!r}))\n"
              "print(sorted(indexed), skipped)\n")
    try:
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=20,
                             cwd=Path(__file__).resolve().parents[1])
    except subprocess.TimeoutExpired:
        pytest.fail("the walk blocked reading a FIFO ignore file")
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.startswith("['a.py', 'sub/b.py'] "), out.stdout
    assert "'.gitignore': 'not a regular file (FIFO)'" in out.stdout


@pytest.mark.parametrize(("language", "source"), [
    ("kotlin", "@A\n" * 5000 + "class X\n"),  # each annotation looked ahead across all the next ones
    ("swift", "switch x {\n#if A\ncase 1: f()\n" * 4000),  # each `#if` searched to the end for its `#endif`
    ("cpp", "A_B " * 4000 + "\n"),  # each split of a line of macro words read the rest of the line
])
def test_registry_rewrites_cost_linear_time_on_hostile_lines(language: str, source: str) -> None:
    """The source rewrites before parsing (``LanguageSpec.rewrites``) once cost the square of a hostile shape's
    size (Kotlin 54 s for 20,000 annotation lines, Swift 18 s for 8,000 `#if` in switches, C++ 8 s for a 32 KB
    line of macro words); bounded now, each of these takes milliseconds."""
    import time

    from indexer.parse import rewritten

    started = time.process_time()
    out = rewritten(source.encode(), language)
    assert time.process_time() - started < 1.0
    assert len(out) == len(source.encode()) and out.count(b"\n") == source.count("\n")


@pytest.mark.parametrize("comment", [
    "--[[ x\n" * 20000,  # Lua long comments never closed: each searched to the end (63 s)
    "#[ x\n" * 20000,  # Rust attributes never closed (9 s)
    "<summary " * 20000,  # C# doc tags never closed (2.4 s)
    ("\t" * 4990 + "x */\n") * 100,  # tabs before a block comment's end: 0.6 s a line
])
def test_cleaning_a_hostile_doc_comment_costs_linear_time(comment: str) -> None:
    """A doc comment is the repository's text, up to a whole file: the cleaning patterns that scan ahead for a
    closing mark once cost the square of such a comment's size; each of these takes milliseconds now, and real
    comments clean as before (90,874 comment blocks of the registry sources compared, 0 different)."""
    import time

    from indexer.docs import clean_comment

    started = time.process_time()
    clean_comment(comment)
    assert time.process_time() - started < 1.0
    assert clean_comment("--[==[ a ]] b --]==]\n-- c") == "a ]] b\nc"
    assert clean_comment("#[derive(\n  Debug)]\n/// Hello */") == "Hello"
    assert clean_comment('/** <summary>Hi <see cref="X"/></summary> **/') == "Hi X"


def test_a_header_of_unclosed_block_comments_is_labelled_in_linear_time() -> None:
    """Telling a C header from a C++ one blanks comments and strings first; from each `/*` after the last `*/`
    the search for one ran to the end of the file (80 KB of `/*a` lines: 7.6 s, a 1 MB header about 20
    minutes). After the last `*/` a `/*` comments out the rest now; the 20,658 headers of the registry
    sources and benchmark checkouts are labelled as before."""
    import time

    from indexer.languages import header_language

    started = time.process_time()
    assert header_language("x.h", "cpp", b"/*a\n" * 20000) == "c"
    assert time.process_time() - started < 1.0
    assert header_language("a.h", "cpp", b"/* class X */\nint f(void);\n") == "c"
    assert header_language("a.h", "cpp", b"// one\n/* two */\nnamespace a {}\n") == "cpp"
    assert header_language("a.h", "cpp", b"int f(void); /* unclosed\nnamespace a {}\n") == "c"


@pytest.mark.parametrize(("path", "language", "line"), [
    ("x.go", "go", "// c\n"), ("x.rb", "ruby", "# c\n"), ("x.lua", "lua", "-- c\n"), ("x.ts", "typescript", "// c\n"),
])
def test_a_file_of_comment_lines_is_chunked_in_linear_time(path: str, language: str, line: str) -> None:
    """Grouping comments into doc blocks copied each comment's block as it grew: a file of 60,000 comment
    lines (300 KB, within every size limit) took 40-80 s in every language. The blocks are kept by where
    they end now, a doc taken only when a definition asks for it; docs come out as before."""
    import time

    from indexer.chunk import chunks_for_file
    from indexer.types import SourceFile

    started = time.process_time()
    chunks = chunks_for_file(SourceFile(path, language, (line * 20000).encode()))
    assert time.process_time() - started < 2.0
    assert chunks and all(c.kind.value == "code" for c in chunks)
    documented = chunks_for_file(SourceFile("y.go", "go", b"// Old.\n\n// Add adds.\n// Twice.\nfunc Add() {}\n"))
    assert [(c.qualname, c.doc) for c in documented if c.kind.value == "function"] == [("Add", "Add adds.\nTwice.")]


def test_comments_beside_code_are_no_doc_block_and_cost_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A comment with code after it on its line (`/** m */ void m4() {}`) joined the block of consecutive comment
    lines: each method of such a class got every comment above it as its doc, and 15,000 of them took 196 s.
    Such a comment is that line's, not a doc of what follows; a comment after a Rust attribute and a C macro's
    line continuation still leave the block whole."""
    import time

    import indexer.parse
    from indexer.parse import extract_symbols
    from indexer.types import SourceFile

    monkeypatch.setattr(indexer.parse, "MAX_SYMBOLS", 20_000)  # the time is what is measured here, not the limit
    src = "/** D */\nclass C {\n" + "".join(f"  /** m */ void m{i}() {{}}\n" for i in range(15000)) + "}\n"
    started = time.process_time()
    symbols = {s.qualname: s for s in extract_symbols(SourceFile("C.java", "java", src.encode()))}
    assert time.process_time() - started < 3.0
    assert symbols["C.m4"].doc == "" and symbols["C"].doc == "D"
    c = {s.qualname: s.doc for s in extract_symbols(SourceFile("a.c", "c", b"/* a */ int x;\nvoid f(void) {}\n"))}
    assert c == {"f": ""}
    rust = b"impl E {\n    /// Returns true.\n    #[allow(dead_code)] // later\n    fn is_closed(&self) -> bool { true }\n}\n"
    assert [s.doc for s in extract_symbols(SourceFile("a.rs", "rust", rust)) if s.name == "is_closed"] == ["Returns true."]


def test_many_star_patterns_against_long_names_cost_milliseconds() -> None:
    """`*a*a*a...*b` lines against 250-character names: once about 0.2 s for each name and pattern, now a few
    integer operations per character; answers unchanged. A security review then put 50 such lines of 4 KB (2,000
    wildcards each) against paths of 4,000 characters: 0.14 s a path, 25 minutes for 10,000 files. A pattern the
    NFA runs is kept up to ``MAX_SIMULATED_TOKENS`` tokens (no real ignore file comes near); a longer one is
    dropped, as a line longer than any path is."""
    import time

    from indexer.gitignore import MAX_SIMULATED_TOKENS

    patterns = parse_lines(["*a" * 100 + "*b", "*a" * 99 + "*c", "x" + "*a" * 100 + "*b"])
    names = [f"dir/{'a' * (240 + i)}" for i in range(10)] + [f"{'a' * 1000}b", f"src/{'a' * 1200}c"]
    started = time.process_time()
    answers = [is_ignored(patterns, name, False) for name in names]
    assert time.process_time() - started < 1.0
    assert answers == [False] * 10 + [True, True]
    assert parse_lines(["*a" * (MAX_SIMULATED_TOKENS // 2) + "*b", "*a" * 1000 + "*b"]) == []
    assert len(parse_lines(["*a" * (MAX_SIMULATED_TOKENS // 2 - 2) + "*b"])) == 1  # 255 tokens with its `**/`


def test_runs_of_brackets_in_ignore_files_compile_in_linear_time(tmp_path: Path) -> None:
    """A security review: a `.gitignore` line of 4,096 `[` took 3.7 s to compile (each `[` looked for its `]` to the
    end of the line), 20 such lines 75-114 s for a repository of one file; and every line of a file past the
    1,000-pattern limit was compiled before the limit dropped it (3,000 lines of 300 `[`: 70 s). Compiling is
    linear, and lines past the limit are only counted."""
    import time

    from codesearch.pipeline import build_index
    from tests.conftest import FakeEmbedder

    started = time.process_time()
    patterns = parse_lines(["[" * 4096, "[:" * 2000, "[" + "[:" * 2000 + "]", "a[" * 2000])
    assert time.process_time() - started < 0.5 and len(patterns) == 4
    assert is_ignored(parse_lines(["[" * 10]), "[" * 10, False) and is_ignored(parse_lines(["x[ab]"]), "xb", False)
    write(tmp_path, "a.py", "def f():\n    return 1\n")
    write(tmp_path, ".gitignore", ("[" * 300 + "\n") * 3000)
    started = time.process_time()
    report = build_index(tmp_path, embedder=FakeEmbedder())
    assert time.process_time() - started < 20 and report.files == 1
    assert any("2,000 ignore patterns not used" in s.reason for s in report.skipped)


# -- unreadable and too deep directories are skip reasons, never a failed run ---------------


def test_unreadable_directory_is_skipped_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory that cannot be listed or searched (simulated: tests run as root) is skipped with
    a reason; looking for its ignore files once failed the whole run with Permission denied."""
    from codesearch.pipeline import build_index
    from tests.conftest import FakeEmbedder

    root = tmp_path / "repo"
    write(root, "ok.py", "def ok(): pass\n")
    write(root, "closed/in.py", "def hidden(): pass\n")
    real_open, real_stat, real_scandir = os.open, os.stat, os.scandir

    def denied(path: object) -> bool:
        text = str(path)
        return text == "closed" or text.endswith("/closed") or "/closed/" in text

    def fake_open(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if denied(path):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    def fake_stat(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if denied(path):
            raise PermissionError(13, "Permission denied")
        return real_stat(path, *args, **kwargs)

    def fake_scandir(path=None):  # noqa: ANN001, ANN202
        if denied(path):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "stat", fake_stat)
    monkeypatch.setattr(os, "scandir", fake_scandir)
    report = build_index(root, embedder=FakeEmbedder())
    skipped = {s.path: s.reason for s in report.skipped}
    assert skipped["closed"] == "directory not readable: Permission denied"
    assert report.files == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root can list any directory (simulated in the test above)")
def test_unreadable_directory_is_skipped_for_real(tmp_path: Path) -> None:
    """chmod 000 on a subdirectory: skipped with a reason, the rest indexed."""
    root = tmp_path / "repo"
    write(root, "ok.py", "def ok(): pass\n")
    write(root, "closed/in.py", "def hidden(): pass\n")
    (root / "closed").chmod(0)
    try:
        indexed, skipped = _walk(root)
    finally:
        (root / "closed").chmod(0o755)
    assert indexed == {"ok.py"}
    assert skipped["closed"] == "directory not readable: Permission denied"


def test_path_longer_than_path_max_is_skipped(tmp_path: Path) -> None:
    """Directories nested past PATH_MAX (made relative to a descriptor, as git checks them out):
    the part within the limit is indexed, the rest skipped with a reason; the run does not fail."""
    from codesearch.pipeline import build_index
    from tests.conftest import FakeEmbedder

    root = tmp_path / "repo"
    write(root, "top.py", "def top(): pass\n")
    name = "d" * 200
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for level in range(25):  # 25 * 201 bytes: past 4,096
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
            if level in (2, 24):
                file_fd = os.open(f"f{level}.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
                os.write(file_fd, f"def level{level}(): pass\n".encode())
                os.close(file_fd)
    finally:
        os.close(fd)
    report = build_index(root, embedder=FakeEmbedder())
    assert report.files == 2  # top.py and the shallow f2.py
    reasons = [s.reason for s in report.skipped]
    assert len(reasons) == 1 and reasons[0].startswith("path too long"), reasons


# -- a directory swapped for a link while the walk runs is never followed -------------------


def test_directory_swapped_for_a_link_during_the_walk_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pkg/ is replaced by a link to an outside directory after its parent was listed and before
    the walk descends into it: nothing of the outside (not even a name) comes out, pkg is skipped."""
    root = tmp_path / "repo"
    write(root, "a.py", "def a(): pass\n")
    write(root, "pkg/inner.py", "def inner(): pass\n")
    outside = tmp_path / "outside"
    write(outside, "stolen_name.py", "def stolen(): pass\n")
    write(outside, ".gitignore", "a.py\n")
    real_is_ignored = discover.is_ignored

    def swap_then_decide(patterns, rel, is_dir):  # noqa: ANN001, ANN202
        if rel == "pkg":  # the parent is listed: swap before the walk goes in
            (root / "pkg").rename(tmp_path / "pkg_moved")
            os.symlink(outside, root / "pkg")
        return real_is_ignored(patterns, rel, is_dir)

    monkeypatch.setattr(discover, "is_ignored", swap_then_decide)
    items = list(walk(root))
    paths = {i.path for i in items}
    assert not any("stolen" in p for p in paths), paths
    assert "a.py" in paths
    reasons = {i.path: i.reason for i in items if isinstance(i, SkippedFile)}
    assert "symlink" in reasons["pkg"], reasons


def test_query_text_predicates_read_the_source_as_tree_sitters_would() -> None:
    """Every file parses under a deadline, through a read callback, and such a tree holds no text (reading
    it crashes py-tree-sitter), so the queries' text predicates are renamed and read the source
    (``indexer.parse.TextPredicates``); each behaves as tree-sitter's own on a tree that has its text."""
    from tree_sitter import Query, QueryCursor

    from indexer.languages import TEXT_PREDICATE_PREFIX, grammar, parser
    from indexer.parse import TextPredicates, parse_bounded

    source = b"int add(int a) { return a; }\nint sub(int b) { return b; }\nint b(int b) { return b; }\n"
    pattern = "(function_definition declarator: (function_declarator declarator: (identifier) @name " \
              "parameters: (parameter_list (parameter_declaration declarator: (identifier) @param))))"
    tests = ['(#eq? @name "add")', '(#not-eq? @name "add")', "(#eq? @name @param)", "(#not-eq? @name @param)",
             '(#match? @name "^s")', '(#not-match? @name "^s")', '(#any-of? @name "add" "b")']
    for test in tests:
        own = QueryCursor(Query(grammar("c"), f"({pattern} {test})")).matches(parser("c").parse(source).root_node)
        renamed = test.replace("(#", f"(#{TEXT_PREDICATE_PREFIX}")
        ours = QueryCursor(Query(grammar("c"), f"({pattern} {renamed})")).matches(
            parse_bounded(parser("c"), source).root_node, predicate=TextPredicates(source))
        assert [m[1]["name"][0].start_byte for m in ours] == [m[1]["name"][0].start_byte for m in own], test
        assert own, test


def test_the_hostile_shape_generator_builds_every_kind_of_shape_to_its_size() -> None:
    """``benchmarks/bench_hostile_shapes.py`` (run by hand: it times thousands of files) builds its shapes from
    the sample repositories: each kind is there for C, and each file is about the size asked."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_hostile_shapes.py"
    spec = importlib.util.spec_from_file_location("bench_hostile_shapes", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a dataclass looks its module up
    spec.loader.exec_module(module)
    shapes = list(module.shapes("c"))
    assert {shape.kind.split()[0] for shape in shapes} == {"repeat", "nest", "inside", "open"}
    assert any(shape.kind == "repeat" and shape.snippet == "/*" for shape in shapes)
    for shape in shapes:
        text = shape.build(4_000)
        if text is not None:  # a nest too deep for the size is left out
            assert 0 < len(text) <= 4_000 + 2 * len(shape.snippet) + 200, (shape, len(text))
