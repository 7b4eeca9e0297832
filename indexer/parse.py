"""Extract symbols from source with each language's tree-sitter query.

The Python side reads capture names only, never node types (``@doc_lines`` compares two nodes'
types, naming none):

- ``@definition.<kind>`` marks a definition node, ``<kind>`` being a ``SymbolKind`` value;
- ``@name`` is its name, ``@body`` its body (the signature is what precedes it);
- ``@doc`` is a docstring inside the definition (or an attribute before it: Elixir's
  ``@doc``), ``@comment`` any comment in the file; a block of whole-line comments ending
  right above a definition is its doc comment;
- ``@doc_lines`` is the first of a doc made of one-line comments inside the definition (Rust's
  ``//!`` in an inline module): the doc runs on over the siblings after it that are built as it
  is (the same node and child node types), one to a line. A quantified capture (``(...)+ @doc``)
  would cost the square of the run's length: 32,000 lines took 6.5 s in tree-sitter's query;
- ``@receiver`` prefixes the qualified name (Go receivers, ``obj.prop = function``); ``@self`` qualifies it by the
  nearest enclosing class instead of the enclosing function, as a method of it (``this.prop = function``), or by
  the enclosing function where no class holds it (a constructor function);
- ``@items`` marks a block (a macro's braces) whose contents are items of the enclosing scope:
  when they parse on their own without an error, the wrapper is blanked and the file parsed
  again (Rust's ``cfg_io_util! { pub trait AsyncWriteExt ... }``);
- ``@documented`` on a definition keeps it only when it has a doc and is not inside a function
  (C and C++ prototypes: a header documents its library's API there; an undocumented one, or
  one in a function body, is not a definition);
- ``@scope`` marks a node that is not a symbol but names the symbols nested in it;
- ``@clause`` captures the node that holds a definition (a list of declarations): a
  definition joins the one right before it when both have the same kind, name and
  ``@clause`` node, with only comments between (Haskell's type signature and equations,
  Elixir's function clauses): one symbol spans them.

Several patterns may describe one definition (one gives its name, another its
docstring); their captures are merged by node, and by name: definitions of one kind
captured on nested nodes with the same ``@name`` node are one, the outermost (C++'s
``template <...>`` around a function or class).
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from tree_sitter import Node, Parser, QueryCursor, Tree

from indexer.chunk import unscoped
from indexer.docs import clean_doc
from indexer.languages import (
    TEXT_PREDICATE_PREFIX,
    grammar_language,
    parser,
    query,
    rewrites,
    segment_pattern,
    spec_for,
)
from indexer.types import SourceFile, Symbol, SymbolKind, Unindexable

# Bump when extraction changes what a Symbol holds: indexed files are then parsed again.
# 3: containers as outlines; 4: windows (indexer.chunk); 5: path terms (codesearch.terms); 6: clauses, one
# symbol per name node, docs before a definition; 7: the enclosing definition's doc embedded with its members
# (indexer.chunk.contexts); 8: a scoped name's symbol is named by its last part (``Puppet::Indirector``, ``Plug.Conn``);
# 9: a `.h` file with nothing of C++ is labelled C (``indexer.languages.header_language``); 10: a doc comment reaches
# across the lines a rewrite blanked (a C or C++ macro alone on its line); 11: a JavaScript or TypeScript
# getter that returns the binding of its own name (esbuild's CommonJS export map) is no definition; 12: nor one
# that returns a member of its own name (a re-export: `Hono: () => import_hono.Hono`); 13: a TypeScript function
# cast to its type (`export const withTiming = function (...) {...} as T`) is a function; 14: so is a documented
# JavaScript or TypeScript constant made by a call (effect's `export const map = dual(2, ...)`); 15: every Go named
# type and alias (`type Header map[string][]string`, `type Duration int64`), not only structs and interfaces;
# 16: a comment with code after it on its line is no part of the doc of what follows (`/* a */ int x;`); 17: the code
# between definitions is embedded and counted without its licence paragraphs (``indexer.licences``); 18: a file's
# only top-level container, undocumented, and its members take the file's description as their context; 19: a file
# of more than ``MAX_SYMBOLS`` definitions is indexed as line windows, and a Python or Ruby file that is not UTF-8
# is read in the encoding it declares (``indexer.discover.source_bytes``); 20: a Rust impl of a type written with its
# path is named with it (`impl From<Error> for io::Error` makes `io::Error.from`), and a NUL is parsed as a blank;
# 21: a C++ definition out of its class in a namespace is named in it (`CLI.App.parse`, as the class's members);
# 22: code between definitions that is only preprocessor conditionals (`#else`, `#endif`) is no chunk; 25: a module
# that only wraps one definition (Ruby's `module Sequel` `module Plugins` around a plugin) is no chunk; 26: a file's
# `#!` line is no doc of the definition below it; 27: a definition's code keeps the comment that ends its last line
# (`};  // class Foo`); 28: test suites and tests written as calls (`describe`/`it` in JavaScript, TypeScript, Lua's
# busted, RSpec; ExUnit's `describe`/`test`) are definitions named by their text; 29: Jest's `describe.each(t)(...)`
# and `test.each(t)(...)` too; 30: a test so written is a function in every language (`@test`: RSpec's were methods).
PARSER_VERSION = "30"
# Each symbol holds its whole text, so nested definitions cost the square of their depth:
# 9,000 nested `function a(){` lines (128 KB) once took 2.4 GB. Real code nests a few
# levels; a file beyond either limit is skipped with the reason.
MAX_NESTING = 64  # definitions (and scopes) inside one another
MAX_SYMBOL_BYTES = 32 << 20  # the text of all symbols of one file together
# Definitions of one file: the largest file of a 970k-chunk monorepo (the JDK, the Python standard library, Go and
# part of Linux) has 1,531; 99,000 one-line functions in 990 KB took 11.8 s and 390 MB to index, three such files
# 69 s. A file past it is indexed as line windows (``indexer.chunk.chunks_or_windows``), with the reason.
MAX_SYMBOLS = 10_000
# Hostile shapes cost tree-sitter far more than their size (a file is at most 1 MB):
# - its query keeps work in progress for every bracket left open: 600 KB of "[" took
#   over two minutes, and about 100,000 nested `{a: ` overflow the parser's C stack (a
#   crash, not an exception), so brackets are counted before parsing;
# - the query slows down without bound past 65,535 levels of nesting (`a=a=a=...b`,
#   250,000 levels in 500 KB), so the tree's depth is checked before querying;
# - a run of k unnamed siblings (`new new new ...`, `++++...`) can cost it k*k/2 steps
#   (1 MB of `new ` took over 40 s), so runs costing more than MAX_QUERY_STEPS in all
#   (about half a second) are refused too.
# Real code nests a few dozen levels, generated code a few hundred, and has runs of a
# few unnamed tokens: a 376 KB Python file's runs cost 43,000 steps.
MAX_QUERY_STEPS = 200_000_000
# - a grammar's error recovery can run away on a few broken bytes: 467 bytes of mutated Kotlin took
#   tree-sitter-kotlin 42 s to parse into 6 million nodes (found by tests/test_fuzz.py), and in every
#   grammar a line that cannot start a statement, repeated, costs the square of its count (2,000 lines
#   of `<!--` took tree-sitter-ruby 58 s, 5,000 lines of an unclosed `/*` tree-sitter-c 26 s; found by
#   benchmarks/bench_hostile_shapes.py), so every file parses under a deadline (``parse_bounded``),
#   100 times what a megabyte takes to parse (~0.1 s) and half a second more.
PARSE_SECONDS = 0.5
PARSE_SECONDS_PER_BYTE = 10.0 / (1 << 20)
MAX_TREE_DEPTH = 10_000  # syntax tree levels
MAX_BRACKET_DEPTH = 5_000  # ( [ { not yet closed, anywhere in the file (strings and comments too)
_OPENERS, _CLOSERS = b"([{", b")]}"
_BRACKETS = bytes.maketrans(_OPENERS + _CLOSERS, b"\x02\x02\x02\x00\x00\x00")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _OPENERS + _CLOSERS)
_MAX_SIGNATURE = 240
_UNDECODABLE = {0xDC80 + b: "?" for b in range(128)}  # surrogateescape's stand-ins for bytes 0x80-0xff
_DEFINITION = "definition."
_SCOPE = "scope"


@dataclass(slots=True)
class _Entry:
    """A definition or scope gathered from one or more query matches."""

    node: Node
    kind: SymbolKind | None  # None for a scope
    captures: dict[str, Node] = field(default_factory=dict)
    docs: list[Node] = field(default_factory=list)
    last: Node | None = None  # the last clause joined to it (``@clause``), if any

    @property
    def end_node(self) -> Node:
        return self.last or self.node

    @property
    def span(self) -> tuple[int, int]:
        return self.node.start_byte, self.end_node.end_byte


def extract_symbols(file: SourceFile, max_seconds: float | None = None) -> list[Symbol]:
    """All functions, methods, classes (and similar) defined in ``file``, in source order.

    :param max_seconds: parse for at most this long (``parse_bounded``'s deadline, when shorter).
    """
    check_brackets(file.source)
    language = grammar_language(file.path, file.language)  # a C header is read by C++'s grammar
    readable = parseable(file.source)
    source = rewritten(readable, language)
    matches = _matches(language, source, max_seconds)
    if (unwrapped := _unwrapped(source, language, matches)) is not None:
        matches = _matches(language, unwrapped, max_seconds)
    entries, comments = _collect(matches)
    entries = _join_clauses(entries, comments, file.source)
    doc_blocks = _comment_blocks(comments, file.source, blanked_rows(readable, source))
    spec = spec_for(file.language)
    scope = _file_scope(file.path) if spec.file_scope else ""
    comment_ends = {c.start_byte: c.end_byte for c in comments}
    return _build_symbols(entries, doc_blocks, file.source, spec.module_functions, scope, comment_ends)


def _file_scope(path: str) -> str:
    """The name a file is known by as a container: its stem (``std/Uri.zig`` is ``Uri``)."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.split(".", 1)[0]


def parseable(source: bytes) -> bytes:
    """``source`` with every byte that is not UTF-8 replaced by ``?``, and every NUL by a blank: the same
    offsets and lines.

    The queries' text predicates (``#eq?``, ``#match?``) decode node text strictly, so one
    stray Latin-1 byte in a comment would fail the whole file. A NUL past the part that discovery reads
    for one (``indexer.discover.content_problem``) ended C's and Python's definitions there.
    """
    if b"\0" in source:
        source = source.replace(b"\0", b" ")
    try:
        source.decode("utf-8")
    except UnicodeDecodeError:
        return source.decode("utf-8", "surrogateescape").translate(_UNDECODABLE).encode("utf-8")
    return source


def _matches(language: str, source: bytes, max_seconds: float | None = None) -> list[tuple[int, dict[str, list[Node]]]]:
    """The language's query matches in its tree of ``source`` (parsed under a deadline, its cost checked); for a
    tree with an error in a language that names where its top-level definitions start (``LanguageSpec.segments``),
    those of the trees of each part between two starts, parsed alone (``_segmented``)."""
    tree = parse_bounded(parser(language), source, max_seconds)
    check_query_cost(tree)
    if tree.root_node.has_error and (starts := _segment_starts(language, source)):
        return _segmented(language, source, starts, max_seconds)
    return QueryCursor(query(language)).matches(tree.root_node, predicate=TextPredicates(source))


MAX_SEGMENTS = 5_000  # parts of a file ``_segmented`` parses one by one (more: the file's one tree is kept)


def _segment_starts(language: str, source: bytes) -> list[int]:
    """The byte offsets where the language's top-level definitions start in ``source`` (``LanguageSpec.segments``),
    the file's start first; [] for a language without them, or for fewer than two parts or more than
    ``MAX_SEGMENTS``."""
    pattern = segment_pattern(language)
    if pattern is None:
        return []
    starts = sorted({0, *(match.start() for match in pattern.finditer(source))})
    return starts if 2 <= len(starts) <= MAX_SEGMENTS else []


def _segmented(language: str, source: bytes, starts: list[int],
               max_seconds: float | None) -> list[tuple[int, dict[str, list[Node]]]]:
    """The query matches of each part of ``source`` between two ``starts``, each parsed alone (the parser's
    included ranges: offsets and lines stay the file's), so that a construct the grammar misreads costs only its
    own definition: tree-sitter-bash read `[[ $line =~ \\` + a newline + `...]]; do`, `${x%%[{]*}` or
    `*.@(asc|sig)\\ *` so that every function after it in the file was code between definitions (about 50 of
    bash-completion's `bash_completion`). The parts share one parse's deadline (``parse_limit``): a file of
    thousands of parts costs no more than one parse may.

    :raises Unindexable: when the parts take longer than that together.
    """
    from tree_sitter import Point, Range

    limit = parse_limit(len(source), max_seconds)
    deadline = time.monotonic() + limit
    line_starts = [0, *(match.end() for match in re.finditer(b"\n", source))]

    def point(offset: int) -> Point:
        row = bisect.bisect_right(line_starts, offset) - 1
        return Point(row, offset - line_starts[row])

    out: list[tuple[int, dict[str, list[Node]]]] = []
    predicates = TextPredicates(source)
    part = parser(language)  # one parser, its included range set for each part
    for start, end in zip(starts, [*starts[1:], len(source)]):
        if start == end:
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            raise Unindexable(f"took too long to parse part by part (over {limit:.1f} s for {len(source):,} bytes)")
        part.included_ranges = [Range(point(start), point(end), start, end)]
        tree = parse_bounded(part, source, left)
        check_query_cost(tree)
        out += QueryCursor(query(language)).matches(tree.root_node, predicate=predicates)
    return out


class TextPredicates:
    """The query files' text predicates (``#eq?``, ``#not-eq?``, ``#match?``, ``#not-match?``,
    ``#any-of?``), read from ``source``: a tree parsed through a read callback (``parse_bounded``) holds
    no text, and py-tree-sitter's own predicates crash on one, so ``indexer.languages.query`` renames
    them (``TEXT_PREDICATE_PREFIX``) and py-tree-sitter hands them here. As tree-sitter's: a
    predicate holds when it holds for every node of its capture (none: it holds)."""

    __slots__ = ("source",)

    def __init__(self, source: bytes) -> None:
        self.source = source

    def __call__(self, name: str, args: list[tuple[str, str]], _pattern: int,
                 captures: dict[str, list[Node]]) -> bool:
        # Never raises: py-tree-sitter goes on matching with the exception set. Only the renamed
        # predicates of ``indexer.languages.query`` come here.
        test = name.removeprefix(TEXT_PREDICATE_PREFIX).removesuffix("?")
        negated = test.startswith("not-")
        test = test.removeprefix("not-")
        (capture, _), *rest = args
        if not rest:
            return True
        texts = [self._text(node) for node in captures.get(capture, ())]
        if test == "eq":
            value, kind = rest[0]
            expected = {self._text(node) for node in captures.get(value, ())} if kind == "capture" else {value}
            return all((expected == {text}) != negated for text in texts)
        if test == "match":
            pattern = _regex(rest[0][0])
            return all((pattern.search(text) is not None) != negated for text in texts)
        values = {value for value, _ in rest}  # any-of
        return all(text in values for text in texts)

    def _text(self, node: Node) -> str:
        return self.source[node.start_byte:node.end_byte].decode("utf-8", "replace")


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def parse_limit(size: int, max_seconds: float | None = None) -> float:
    """The seconds a parse of ``size`` bytes may take: ``PARSE_SECONDS`` plus ``PARSE_SECONDS_PER_BYTE`` of it, or
    ``max_seconds`` when shorter."""
    limit = PARSE_SECONDS + PARSE_SECONDS_PER_BYTE * size
    return limit if max_seconds is None else min(limit, max_seconds)


def parse_bounded(parser: Parser, source: bytes, max_seconds: float | None = None) -> Tree:
    """``parser``'s tree of ``source``, or ``Unindexable`` when parsing takes longer than its deadline
    (``PARSE_SECONDS`` plus ``PARSE_SECONDS_PER_BYTE`` of the source, or ``max_seconds`` when shorter):
    tree-sitter asks the progress callback a few thousand times a second and stops when it says so.

    Only a parse that reads through a callback takes a progress callback, and py-tree-sitter 0.26.1
    keeps every object that callback returns: reading slices of the source kept each file's bytes for
    good (2,000 files of 279 KB: 575 MB; the 970k-chunk monorepo peaked at 1.97 GB). The callback reads
    from one buffer per thread instead, so what stays is two small objects per file (a view and a point:
    about 200 bytes; 20 MB for 100,000 files). The tree holds no text:
    the queries' text predicates read the source instead (``TextPredicates``)."""
    limit = parse_limit(len(source), max_seconds)
    deadline = time.monotonic() + limit
    size = len(source)
    buffer = _read_buffer(size)
    buffer[:size] = source
    view = memoryview(buffer)
    try:
        return parser.parse(lambda offset, _: view[offset:size],
                            progress_callback=lambda _offset, _error: time.monotonic() > deadline)
    except ValueError:  # "Parsing failed": stopped by the callback
        if time.monotonic() <= deadline:
            raise
        raise Unindexable(f"took too long to parse (over {limit:.1f} s for {len(source):,} bytes: "
                          "error recovery ran away)") from None
    except SystemError as exc:
        # A Ctrl-C or SIGTERM taken in the read callback is left set by py-tree-sitter, which calls the progress
        # callback next: that fails with a SystemError caused by the interruption (a search stopped so printed a
        # traceback and exited 1). The interruption itself goes on.
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, BaseException) and not isinstance(cause, Exception):
            raise cause from None
        raise


_BUFFERS = threading.local()


def _read_buffer(size: int) -> bytearray:
    """This thread's buffer for ``parse_bounded``, of at least ``size`` bytes. A view py-tree-sitter kept
    pins a buffer's size, so a larger one is a new buffer (doubling: what stays is at most twice the
    largest file)."""
    buffer = getattr(_BUFFERS, "buffer", None)
    if buffer is None or len(buffer) < size:
        buffer = _BUFFERS.buffer = bytearray(max(size, 2 * len(buffer or b""), 1 << 16))
    return buffer


def _unwrapped(source: bytes, language: str, matches: list[tuple[int, dict[str, list[Node]]]]) -> bytes | None:
    """``source`` with the wrapper around each ``@items`` block blanked (everything of the node holding
    the block but the block's contents: Rust's ``cfg_io_util! {`` and its ``}``), where the contents
    parse on their own without an error; None when there is none. Offsets and lines stay."""
    blanks: list[tuple[int, int]] = []
    for _, caps in matches:
        for block in caps.get("items", ()):
            holder = block.parent
            if holder is None or block.end_byte - block.start_byte < 2:
                continue
            inner = source[block.start_byte + 1 : block.end_byte - 1]
            if parse_bounded(parser(language), inner).root_node.has_error:
                continue
            blanks += [(holder.start_byte, block.start_byte + 1), (block.end_byte - 1, holder.end_byte)]
    if not blanks:
        return None
    out = bytearray(source)
    for start, end in blanks:
        out[start:end] = bytes(b if b == 0x0A else 0x20 for b in source[start:end])
    return bytes(out)


def rewritten(source: bytes, language: str) -> bytes:
    """``source`` with the language's rewrites applied (``LanguageSpec.rewrites``): each match's ``span``
    replaced by text of the same length, so every offset and line stays where it was; conditional compilation
    read as its first branch where the language asks (``LanguageSpec.first_branch``)."""
    mode = spec_for(language).first_branch
    if mode:
        source = first_branches(source) if mode == "all" else first_heads(source)
    for regex, replacement in rewrites(language):
        source = regex.sub(lambda match, text=replacement: _same_length(match, text), source)
    return source


def first_branches(source: bytes) -> bytes:
    """``source`` with each ``#if`` read as its first branch: every ``#if``, ``#elif``, ``#else`` and ``#endif``
    line, and the lines of every branch after the first (nested ones included), blanked with spaces (line
    breaks kept). An ``#elif``, ``#else`` or ``#endif`` without its ``#if`` blanks its own line only; an ``#if``
    left open blanks its later branches to the end of the file."""
    if b"#" not in source:
        return source
    blanks: list[tuple[int, int]] = []
    later: list[bool] = []  # per open #if: whether the lines now are in a branch after its first
    inside = 0  # how many of them are (counted, not looked for: 80,000 open `#if` lines took 29 s so)
    hidden_from = 0  # where the lines of a later branch began
    for match in _CONDITIONAL.finditer(source):
        word, hidden = match.group(1), inside > 0
        if word == b"if":
            later.append(False)
        elif word == b"endif" and later:
            inside -= later.pop()
        elif later and not later[-1]:
            later[-1] = True
            inside += 1
        if not hidden and inside:
            hidden_from = match.end()
        elif hidden and not inside:
            blanks.append((hidden_from, match.start()))
        blanks.append(match.span())
    if inside:
        blanks.append((hidden_from, len(source)))
    if not blanks:
        return source
    out = bytearray(source)
    for start, end in blanks:
        out[start:end] = _NOT_NEWLINE.sub(b" ", source[start:end])
    return bytes(out)


def first_heads(source: bytes) -> bytes:
    """``source`` with each conditional whose every branch is one line opening a block (two heads of one function:
    ``#ifdef _WIN32`` ``int main(int argc, wchar_t **argv) {`` ``#else`` ``int main(int argc, char **argv) {``
    ``#endif``) read as its first branch; every other conditional as it is (the C and C++ grammars read those)."""
    if b"#" not in source:
        return source
    out: bytearray | None = None
    for match in _HEADS.finditer(source):
        out = out if out is not None else bytearray(source)
        keep_start, keep_end = match.span("head")
        for start, end in ((match.start(), keep_start), (keep_end, match.end())):
            out[start:end] = _NOT_NEWLINE.sub(b" ", source[start:end])
    return source if out is None else bytes(out)


_HEAD_LINE = rb"[^\n#]*\{[ \t]*(?://[^\n]*)?\r?\n"
_HEADS = re.compile(rb"(?m)^[ \t]*#[ \t]*if[^\n]*\n(?P<head>" + _HEAD_LINE
                    + rb")(?:[ \t]*#[ \t]*(?:elif|else)\b[^\n]*\n" + _HEAD_LINE + rb")+[ \t]*#[ \t]*endif\b[^\n]*")
# A conditional-compilation line (a UTF-8 byte-order mark before the file's first, as .NET editors write it).
_CONDITIONAL = re.compile(rb"(?m)^(?:\xef\xbb\xbf)?[ \t]*#[ \t]*(if|elif|else|endif)\b[^\n]*")
_NOT_NEWLINE = re.compile(rb"[^\n]")


def _same_length(match: re.Match[bytes], replacement: bytes) -> bytes:
    """The match with its ``span`` group replaced (``b""``: blanked with spaces, its line breaks kept; ``b"x*"``:
    filled with ``x``), unless that would move the offsets after it (a replacement of another length is not made)."""
    start, end = match.span("span")
    fill = b" " if not replacement else replacement[:1] if replacement.endswith(b"*") and len(replacement) == 2 else b""
    text = re.sub(rb"[^\n]", fill, match.group("span")) if fill else replacement
    if len(text) != end - start:
        return match.group(0)
    return match.group(0)[:start - match.start()] + text + match.group(0)[end - match.start():]


def check_brackets(source: bytes, max_depth: int = MAX_BRACKET_DEPTH) -> None:
    """Refuse source whose brackets nest deeper than ``max_depth`` (the parser could crash on it).

    Brackets in strings and comments count too. It runs at C speed on the brackets
    alone: an opener counts 2 and a closer 0, so ``depth`` after each is the running sum
    minus how many have come; a closer with nothing open is dropped (the parser skips it),
    so the nesting is ``depth`` above the lowest point reached before it.

    :raises Unindexable: beyond the limit, with the reason.
    """
    brackets = source.translate(_BRACKETS, _NOT_BRACKETS)
    if len(brackets) <= max_depth:
        return
    depth = list(map(operator.sub, itertools.accumulate(brackets), range(1, len(brackets) + 1)))
    lowest = itertools.islice(itertools.accumulate(depth, min, initial=0), 1, None)
    if max(map(operator.sub, depth, lowest)) > max_depth:
        raise Unindexable(f"too deeply nested (over {max_depth:,} brackets inside one another)")


def check_query_cost(tree: Tree, max_depth: int = MAX_TREE_DEPTH, max_steps: int = MAX_QUERY_STEPS) -> None:
    """Refuse a tree deeper than ``max_depth`` levels, or with too long runs of unnamed
    siblings (see ``MAX_QUERY_STEPS``), before querying it.

    Walks the tree with a cursor (iteratively: depth costs no stack); a tree too small to reach
    either limit is not walked, and neither is a small subtree: one of ``m`` nodes below its root
    reaches at most ``m`` levels deeper and its runs cost at most ``m(m+1)/2`` steps. Subtrees are
    skipped up to a size whose bounds, summed over the whole tree, stay within half of
    ``max_steps``; only when the steps counted plus those bounds pass ``max_steps`` is the tree
    walked again in full, so the verdict is always that of the exact count. The binding's query
    ``progress_callback`` cannot bound the query's time instead: in tree-sitter 0.26 it crashes
    the process once a pattern matches.

    :raises Unindexable: beyond either limit, with the reason.
    """
    nodes = tree.root_node.descendant_count
    if nodes <= max_depth and nodes * (nodes + 1) // 2 <= max_steps:
        return
    # disjoint subtrees of at most ``skip`` nodes each bound at most nodes * (skip + 1) / 2 steps together
    skip = min(max_steps // nodes - 1, max_depth // 2)
    if skip > 0 and _walk_cost(tree, max_depth, max_steps, skip) <= max_steps:
        return
    _walk_cost(tree, max_depth, max_steps, 0)


def _walk_cost(tree: Tree, max_depth: int, max_steps: int, skip: int) -> int:
    """The steps of ``check_query_cost``'s count, or a bound of them: subtrees of at most ``skip``
    nodes below their root are not walked, and their bound is counted instead (0: the whole tree
    is walked, and the count is exact). Raises as ``check_query_cost`` does on what it walked."""
    cursor = tree.walk()
    runs = [0]  # unnamed siblings in a row so far, one count per level from the root
    steps = bounded = 0
    while True:
        node = cursor.node
        if node.is_named:
            runs[-1] = 0
        else:
            runs[-1] += 1
            steps += runs[-1]
            if steps > max_steps:
                raise Unindexable(f"took too long to parse ({runs[-1]:,} punctuation tokens or keywords "
                                  "in a row, or many such runs)")
        below = node.descendant_count - 1 if skip else 0
        if skip and below <= skip and len(runs) + below <= max_depth:
            bounded += below * (below + 1) // 2
        elif cursor.goto_first_child():
            runs.append(0)
            if len(runs) > max_depth:
                raise Unindexable(f"too deeply nested (syntax tree over {max_depth:,} levels deep)")
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return steps + bounded
            runs.pop()


def _collect(matches: list[tuple[int, dict[str, list[Node]]]]) -> tuple[list[_Entry], list[Node]]:
    """Merge the matches that describe the same node; gather comment nodes apart."""
    entries: dict[tuple[int, int, str], _Entry] = {}
    comments: list[Node] = []
    for _, caps in matches:
        if "comment" in caps:
            comments.extend(caps["comment"])
            continue
        role = next((c for c in caps if c.startswith(_DEFINITION) or c == _SCOPE), None)
        if role is None:
            continue
        node = caps[role][0]
        kind = SymbolKind(role[len(_DEFINITION):]) if role != _SCOPE else None
        entry = entries.setdefault((node.start_byte, node.end_byte, role), _Entry(node, kind))
        for name, nodes in caps.items():
            if name == "doc":
                _add_docs(entry.docs, nodes)
            elif name == "doc_lines":
                _add_docs(entry.docs, _line_run(nodes[0]))
            elif name != role:
                entry.captures.setdefault(name, nodes[0])
    # A name node can be empty where the grammar recovered from an error (seen once in exposed's
    # H2.kt, after `where?.let {`, as `appendMergeIntoUsingJoinClause.`): no symbol then.
    merged = _outermost_per_name(e for e in entries.values()
                                 if "name" in e.captures and e.captures["name"].end_byte > e.captures["name"].start_byte)
    merged.sort(key=lambda e: (e.node.start_byte, -e.node.end_byte))
    return merged, comments


def _line_run(first: Node) -> list[Node]:
    """``first`` and the siblings right after it built as it is, each on the line after the last (``@doc_lines``).
    Walked with a cursor: ``Node.next_sibling`` costs its node's place among its siblings."""
    shape = (first.type, [child.type for child in first.children])
    run = [first]
    if first.parent is None:
        return run
    cursor = first.parent.walk()
    cursor.goto_first_child_for_byte(first.start_byte)  # ``first`` itself: a child of that parent
    while cursor.goto_next_sibling():
        node = cursor.node
        if node is None or node.start_point.row != run[-1].start_point.row + 1 \
                or (node.type, [c.type for c in node.children]) != shape:
            break
        run.append(node)
    return run


def _add_docs(docs: list[Node], more: list[Node]) -> None:
    """``more`` appended to ``docs``, leaving out those already in it: by span, with a set (a list's
    ``in`` made a Rust module of 32,000 `//!` lines, one quantified capture, take 14 s)."""
    seen = {(d.start_byte, d.end_byte) for d in docs}
    for node in more:
        if (span := (node.start_byte, node.end_byte)) not in seen:
            seen.add(span)
            docs.append(node)


def _outermost_per_name(entries: Iterable[_Entry]) -> list[_Entry]:
    """One entry per ``@name`` node and kind: the outermost node, with the captures of all."""
    outermost: dict[tuple[int, int, SymbolKind | None], _Entry] = {}
    for entry in entries:
        name = entry.captures["name"]
        key = (name.start_byte, name.end_byte, entry.kind)
        other = outermost.setdefault(key, entry)
        if other is not entry:
            outer, inner = sorted((other, entry), key=lambda e: e.node.end_byte - e.node.start_byte, reverse=True)
            outer.captures = {**inner.captures, **outer.captures}
            _add_docs(outer.docs, inner.docs)
            outermost[key] = outer
    return list(outermost.values())


def _join_clauses(entries: list[_Entry], comments: list[Node], source: bytes) -> list[_Entry]:
    """Fold each entry into the one before it in source order when both have the same kind,
    name and ``@clause`` node, and only comments and whitespace lie between them.

    Byte spans only: a node's siblings and parent cost tree-sitter a walk over the
    parent's children, too slow for a flat list of thousands of declarations.
    """
    spans = sorted((c.start_byte, c.end_byte) for c in comments)
    out: list[_Entry] = []
    for entry in entries:
        before = out[-1] if out else None
        holder = entry.captures.get("clause")
        if (holder is not None and before is not None and before.kind == entry.kind
                and before.captures.get("clause") == holder
                and _text(source, before.captures["name"]) == _text(source, entry.captures["name"])
                and _only_comments(source, before.end_node.end_byte, entry.node.start_byte, spans)):
            before.last = entry.node
        else:
            out.append(entry)
    return out


def _only_comments(source: bytes, start: int, end: int, comments: list[tuple[int, int]]) -> bool:
    """Whether ``source[start:end]`` is whitespace and the (sorted) comment spans only."""
    index = bisect.bisect_left(comments, (start, 0))
    while index < len(comments) and comments[index][0] < end:
        if source[start:comments[index][0]].strip():
            return False
        start = max(start, comments[index][1])
        index += 1
    return not source[start:end].strip()


def blanked_rows(source: bytes, rewritten_source: bytes) -> frozenset[int]:
    """The 0-based rows a rewrite blanked (``LanguageSpec.rewrites``: a macro alone on its line)."""
    if rewritten_source == source:
        return frozenset()
    return frozenset(row for row, (old, new) in enumerate(zip(source.split(b"\n"), rewritten_source.split(b"\n")))
                     if old != new and not new.strip() and old.strip())


def _comment_blocks(comments: list[Node], source: bytes, blanked: frozenset[int] = frozenset()) -> _Blocks:
    """Blocks of consecutive whole-line comments, keyed by the 0-based row they end on, and by each row a
    rewrite ``blanked`` right below them (the doc above ``EXPORT_MACRO`` above a class is the class's)."""
    ends: dict[int, tuple[list[Node], int]] = {}
    current: list[Node] = []
    last = -2
    starts = {node.start_byte for node in comments}
    for node in sorted(comments, key=lambda n: n.start_byte):
        line_start = source.rfind(b"\n", 0, node.start_byte) + 1
        if node.start_byte == 0 and source.startswith(b"#!"):  # `#!/usr/bin/env python3` was a function's doc
            continue
        if source[line_start:node.start_byte].strip() or _code_after(node, source, starts):
            current = []  # a comment beside code on its line is that code's, not a doc of what follows
            continue
        if current and node.start_point.row > last + 1:
            current = []
        current.append(node)
        last = _last_row(node)
        ends[last] = (current, len(current))
    for row in sorted(ends) if blanked else ():
        below = row + 1
        while below in blanked:
            ends[below] = ends[row]
            below += 1
    return _Blocks(ends)


def _code_after(node: Node, source: bytes, comment_starts: set[int]) -> bool:
    """Whether code follows ``node`` on its last line (`/** m */ void m() {}`): not a comment (Rust's
    `#[allow(x)] // why`), a C macro's line continuation (`\\`) or the newline a `///` comment ends with. Such a
    comment joined every block of consecutive lines: a class of 15,000 `/** m */ void m() {}` lines gave each
    method every comment above it as its doc, and took 196 s."""
    end = node.end_byte
    if end > node.start_byte and source[end - 1:end] == b"\n":
        return False
    line_end = source.find(b"\n", end)
    rest = source[end:line_end if line_end >= 0 else len(source)]
    text = rest.strip()
    return bool(text) and text != b"\\" and end + len(rest) - len(rest.lstrip()) not in comment_starts


class _Blocks:
    """The comment blocks of ``_comment_blocks`` by the row each ends on: a block and how many of its
    comments end by that row, its list taken only when asked for (copying each comment's block as it grew
    cost the square of a run of comment lines: 60,000 `// c` lines took a minute)."""

    def __init__(self, ends: dict[int, tuple[list[Node], int]]) -> None:
        self._ends = ends

    def get(self, row: int, default: list[Node]) -> list[Node]:
        found = self._ends.get(row)
        return found[0][:found[1]] if found else default


def _last_row(node: Node) -> int:
    """The row of a node's last character: a comment that ends with its newline (Rust's
    ``///``) ends at column 0 of the next row."""
    end = node.end_point
    return end.row - 1 if end.column == 0 and end.row > node.start_point.row else end.row


def _build_symbols(entries: list[_Entry], doc_blocks: _Blocks, source: bytes,
                   module_functions: bool = False, scope: str = "", comment_ends: dict[int, int] | None = None
                   ) -> list[Symbol]:
    """Symbols with qualified names from their enclosing entries; a function in a container is a method, unless
    the container is a module and the language calls such functions functions (``module_functions``). ``scope``
    qualifies what the file defines at its top (``LanguageSpec.file_scope``); ``comment_ends`` (a comment's start
    byte -> its end) lets a definition keep the comment that ends its last line (``_with_trailing_comment``).

    :raises Unindexable: beyond ``MAX_NESTING``, ``MAX_SYMBOL_BYTES`` or ``MAX_SYMBOLS``, before the text is built.
    """
    if len(entries) > MAX_SYMBOLS:
        raise Unindexable(f"{len(entries):,} definitions (over {MAX_SYMBOLS:,}: generated?)")
    symbols: list[Symbol] = []
    stack: list[tuple[_Entry, str]] = []  # enclosing entries with their qualified names
    text_bytes = 0
    for index, entry in enumerate(entries):
        start, end = entry.span
        while stack and not (stack[-1][0].span[0] <= start and end <= stack[-1][0].span[1]):
            stack.pop()
        if len(stack) >= MAX_NESTING:
            raise Unindexable(f"too deeply nested (over {MAX_NESTING} definitions inside one another)")
        text_bytes += end - start
        if text_bytes > MAX_SYMBOL_BYTES:
            raise Unindexable(f"too much nested symbol text (over {MAX_SYMBOL_BYTES >> 20} MB)")
        name = _unquote(_text(source, entry.captures["name"]))
        receiver = entry.captures.get("receiver")
        prefix = stack[-1][1] if stack else scope
        owner = None
        if receiver is not None:  # in a namespace, a C++ `App::parse` is `CLI.App.parse`, as its class's members are
            prefix = f"{prefix}.{_text(source, receiver)}" if prefix and stack[-1][0].kind is None else _text(
                source, receiver)
        elif "self" in entry.captures:
            owner = next((pair for pair in reversed(stack) if pair[0].kind is not None and pair[0].kind.is_container),
                         None)
            prefix = owner[1] if owner is not None else prefix
        qualname = f"{prefix}.{name}" if prefix else name
        stack.append((entry, qualname))
        name = unscoped(name)  # `module Puppet::Indirector` defines Indirector: the lookup by name finds it
        if entry.kind is None:
            continue
        kind = entry.kind
        parent = next((e for e, _ in reversed(stack[:-1]) if e.kind is not None), None)
        if kind is SymbolKind.FUNCTION and parent is not None and parent.kind.is_container and not (
                module_functions and parent.kind is SymbolKind.MODULE) and "test" not in entry.captures:
            kind = SymbolKind.METHOD
        elif kind is SymbolKind.FUNCTION and owner is not None:
            kind = SymbolKind.METHOD  # `this.x = function` in a class's method: the class's
        elide = _member_bodies(entry, entries, index) if kind.is_container else []
        symbol = _symbol(entry, kind, name, qualname, doc_blocks, source, elide, comment_ends or {})
        if "documented" not in entry.captures or (symbol.doc and (parent is None or parent.kind.is_container)):
            symbols.append(symbol)
    return symbols


def _member_bodies(container: _Entry, entries: list[_Entry], index: int) -> list[tuple[int, int]]:
    """Byte spans of the bodies of the functions and methods inside a container (outermost only).

    A class or module is embedded as its outline: its own code with these bodies elided,
    so it says what the container holds (fields, constants, member signatures) instead of
    repeating the first methods, which are chunks of their own. ``entries`` are in source
    order and ``index`` is the container's, so only the entries inside it are looked at.
    """
    start, end = container.span
    spans: list[tuple[int, int]] = []
    for entry in entries[index + 1:]:
        if entry.span[0] >= end:
            break
        if entry.kind not in (SymbolKind.FUNCTION, SymbolKind.METHOD):
            continue
        body = entry.captures.get("body")
        if body is None or not (start <= body.start_byte and body.end_byte <= end):
            continue
        if spans and body.start_byte < spans[-1][1]:
            continue  # inside a body already elided
        spans.append((body.start_byte, body.end_byte))
    return spans


def _symbol(
    entry: _Entry, kind: SymbolKind, name: str, qualname: str, doc_blocks: _Blocks, source: bytes,
    elide: list[tuple[int, int]], comment_ends: dict[int, int],
) -> Symbol:
    node = entry.node
    start, end = entry.span
    end = _with_trailing_comment(source, end, comment_ends)
    inner_docs = [d for d in entry.docs if start <= d.start_byte and d.end_byte <= end]
    outer_docs = [d for d in entry.docs if d.end_byte <= start]
    doc_nodes = inner_docs or outer_docs or doc_blocks.get(node.start_point.row - 1, [])
    texts = [_text(source, d).removesuffix("\n") for d in doc_nodes]
    if not (inner_docs or outer_docs):  # a decorator joins the comment block above it (a query captures it as a
        texts = [text for text in texts if not text.startswith("@")]  # comment), and is no part of its text
    doc = clean_doc("\n".join(texts)) if texts else ""
    # Start at the beginning of the line (indentation, `const`, `export`, `type`) so the
    # code reads as written and dedents as a whole, unless other code precedes it there.
    code_start = _line_start(source, start)
    code = source[code_start:end]
    cuts = [(*_whole_lines(source, d.start_byte, d.end_byte), b"") for d in inner_docs]
    cuts += [(body_start, body_end, b" ...") for body_start, body_end in elide]
    code_without_doc = _splice(source, code_start, end, cuts)
    last = entry.end_node
    end_line = last.end_point.row + (0 if last.end_point.column == 0 and last.end_point.row > node.start_point.row else 1)
    return Symbol(
        kind=kind,
        name=name,
        qualname=qualname,
        signature=_signature(entry, source),
        doc=doc,
        code=_decode(code),
        code_without_doc=_decode(code_without_doc),
        start_line=node.start_point.row + 1,
        end_line=end_line,
        start_byte=start,
        end_byte=end,
        doc_line=doc_nodes[0].start_point.row + 1 if doc_nodes and not inner_docs else 0,
    )


def _with_trailing_comment(source: bytes, end: int, comment_ends: dict[int, int]) -> int:
    """``end``, or past the comment that follows it on its line and ends that line (``comment_ends``: a comment's
    start byte -> its end): the code of hledger's `(*) = error "..." -- PARTIAL:` and of C++'s `};  // class Foo`
    stopped before the comment, and a snippet's last line was not the file's (an agent uses it as an edit's
    anchor)."""
    line_end = source.find(b"\n", end)
    line_end = len(source) if line_end < 0 else line_end
    rest = source[end:line_end]
    if not rest.strip():
        return end
    at = end + len(rest) - len(rest.lstrip())
    if source[at:at + 1] == b";":  # a C++ class's `};`: the class ends before its semicolon
        at += 1 + len(source[at + 1:line_end]) - len(source[at + 1:line_end].lstrip())
    stop = comment_ends.get(at)
    if stop is None or stop > line_end + 1 or source[stop:line_end].strip():
        return end  # code after the comment, or a comment that goes on below (`/* ...` over several lines)
    return min(stop, line_end)  # a comment that holds its newline (Rust's `//`) ends before it


def _splice(source: bytes, start: int, end: int, cuts: list[tuple[int, int, bytes]]) -> bytes:
    """``source[start:end]`` with each (cut_start, cut_end) span replaced; nested or overlapping cuts merge."""
    out, pos = [], start
    for cut_start, cut_end, replacement in sorted(cuts):
        cut_start, cut_end = max(cut_start, start), min(cut_end, end)
        if cut_start < pos:
            continue
        out += [source[pos:cut_start], replacement]
        pos = max(pos, cut_end)
    out.append(source[pos:end])
    return b"".join(out)


def _signature(entry: _Entry, source: bytes) -> str:
    """The header of a definition, up to its body.

    It starts at the beginning of the definition's line (to keep ``export``, ``const``
    or ``type``) unless other code precedes the definition on that line.
    """
    line_start = _line_start(source, entry.node.start_byte)
    body = entry.captures.get("body")
    if body is not None and body.start_byte > entry.node.start_byte:
        stop = body.start_byte
    else:
        newline = source.find(b"\n", entry.node.start_byte, entry.node.end_byte)
        stop = newline if newline >= 0 else entry.node.end_byte
    header = " ".join(_decode(source[line_start:stop]).split()).rstrip("{:;= ").rstrip()
    return header[:_MAX_SIGNATURE]


def _line_start(source: bytes, start: int) -> int:
    """Where the line holding ``start`` begins, unless code that closes or ends something
    (``{``, ``}``, ``;``) precedes ``start`` on that line; then ``start`` itself."""
    line_start = source.rfind(b"\n", 0, start) + 1
    return start if any(c in source[line_start:start] for c in b"{};") else line_start


def _whole_lines(source: bytes, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) to whole lines when only whitespace surrounds it on them; when code precedes it on its
    first line, to no line end either (Elixir's `@moduledoc` before a string, cut at the string, was joined to the
    next line's code)."""
    line_start = source.rfind(b"\n", 0, start) + 1
    if source[line_start:start].strip():
        return start, end
    start = line_start
    newline = source.find(b"\n", end)
    line_end = len(source) if newline < 0 else newline + 1
    if not source[end:line_end].strip():
        end = line_end
    return start, end


def _unquote(name: str) -> str:
    """A name without the quotes around it (``'key': function``) or a symbol's colon (Ruby's ``:epp``);
    Haskell's ``go'`` keeps its prime, and an operator its colons (Scala's ``::`` and ``:+``)."""
    name = name[1:] if name.startswith(":") and len(name) > 1 and (name[1].isalnum() or name[1] in "_'\"") \
        else name
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"`" else name


def _text(source: bytes, node: Node) -> str:
    return _decode(source[node.start_byte : node.end_byte])


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")
