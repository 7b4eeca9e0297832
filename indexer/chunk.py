"""Turn symbols into chunks: stable keys, content hashes and the text to embed.

Every line of a file belongs to some chunk. Definitions are chunks with their qualified
names; the code between top-level definitions (imports, constants, routing tables,
registrations, scripts) becomes ``code`` chunks named ``<file name>``, cut into pieces
of at most ``MAX_GAP_LINES`` lines at blank lines where possible.

A file without a grammar (``TEXT_LANGUAGE``: a Dockerfile, a Makefile, a SQL migration) is
``code`` chunks of the same name only: line windows cut where a block starts (``text_symbols``).
So is a file its grammar refuses (``chunks_or_windows``: its parse ran past the deadline, it nests
too deeply), so that a file being edited, or a hostile one, stays searchable at a linear cost.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from indexer.licences import description, without_licences
from indexer.types import Chunk, SourceFile, Symbol, SymbolKind, Unindexable

MAX_GAP_LINES = 60

# Characters of code that go into the text to embed. A static model averages token
# vectors, so the name, signature and doc must not drown in a long body.
MAX_CODE_CHARS = 1200
# Windows are cut at line ends once they hold this many characters; a shorter rest joins the last one.
WINDOW_CHARS = MAX_CODE_CHARS
MIN_WINDOW_CHARS = 200
# Characters of the enclosing container's doc embedded with each of its members (``contexts``): 100
# measured best of 100, 200 and 400 (more of the class's doc makes its methods alike).
CONTEXT_CHARS = 100
_WINDOWED = (SymbolKind.FUNCTION, SymbolKind.METHOD)
_WINDOW_MARK = re.compile(r"@w[0-9]+$")


def chunks_for_file(file: SourceFile, max_seconds: float | None = None) -> list[Chunk]:
    """Parse ``file`` (for at most ``max_seconds``, when given) and return its chunks: one per symbol and the
    code between them, in source order (a file without a grammar: its line windows)."""
    # Imported here: tree-sitter is for indexing; a search imports this module for its names only.
    from indexer.languages import TEXT_LANGUAGE
    from indexer.parse import extract_symbols

    if file.language == TEXT_LANGUAGE:
        return line_windows(file)
    symbols = extract_symbols(file, max_seconds)
    return chunks_from_symbols(file, sorted([*symbols, *gap_symbols(file, symbols)], key=lambda s: s.start_byte))


def chunks_or_windows(file: SourceFile, max_seconds: float | None = None) -> tuple[list[Chunk], str]:
    """``chunks_for_file``, or, where the file's grammar refuses it (``Unindexable``), its line windows
    as a file without a grammar has (``line_windows``), and why: the indexer's and a search's reading
    of a changed file (``codesearch.freshness``) agree."""
    try:
        return chunks_for_file(file, max_seconds), ""
    except Unindexable as exc:
        return line_windows(file), str(exc)


def line_windows(file: SourceFile) -> list[Chunk]:
    """``file`` as line windows (``text_symbols``), whatever its language."""
    return chunks_from_symbols(file, text_symbols(file))


def gap_symbols(file: SourceFile, symbols: list[Symbol]) -> list[Symbol]:
    """The code outside every definition, as ``code`` pseudo-symbols (blank-only stretches dropped)."""
    lines, offsets = _lines(file.source)
    covered = bytearray(len(lines) + 2)
    for symbol in symbols:  # a definition covers its lines and the doc comment above it
        for line in range(symbol.doc_line or symbol.start_line, symbol.end_line + 1):
            covered[line] = 1
    name = _file_symbol_name(file.path)
    out: list[Symbol] = []
    run: list[int] = []
    for number in range(1, len(lines) + 1):
        if covered[number]:
            if run:
                out.extend(_gap(name, lines, offsets, run))
                run = []
            continue
        run.append(number)
        if len(run) >= MAX_GAP_LINES and not lines[number - 1].strip():
            out.extend(_gap(name, lines, offsets, run))
            run = []
        elif len(run) >= 2 * MAX_GAP_LINES:  # no blank line for a long stretch: cut anyway
            out.extend(_gap(name, lines, offsets, run))
            run = []
    out.extend(_gap(name, lines, offsets, run))
    return out


def text_symbols(file: SourceFile) -> list[Symbol]:
    """A file without a grammar as ``code`` pseudo-symbols named ``<file name>``: line windows of at
    most ``MAX_GAP_LINES`` lines, each ending where a block starts (see ``_block_starts``).

    A window takes as many whole blocks as fit in ``MAX_GAP_LINES`` lines and ``MAX_CODE_CHARS``
    characters (bytes, to be exact: about what is embedded), at least one; a block longer than
    ``MAX_GAP_LINES`` lines is cut before its least indented line in the window's second half
    that closes nothing.
    """
    lines, offsets = _lines(file.source)
    name = _file_symbol_name(file.path)
    starts = [*_block_starts(lines), len(lines) + 1]
    out: list[Symbol] = []
    begin, next_start = 1, 0  # the window's first line; the index in ``starts`` of the first one after it
    while begin <= len(lines):
        while starts[next_start] <= begin:
            next_start += 1
        limit = begin + MAX_GAP_LINES  # the next window starts at this line at the latest
        reachable = [b for b in starts[next_start:next_start + MAX_GAP_LINES] if b <= limit]
        fitting = [b for b in reachable if offsets[b - 1] - offsets[begin - 1] <= MAX_CODE_CHARS]
        if fitting:
            stop = fitting[-1]
        elif reachable:  # the first block alone is over MAX_CODE_CHARS
            stop = reachable[0]
        else:  # one long block: cut before its least indented line (the last of them)
            stop = max(range(begin + MAX_GAP_LINES // 2, limit + 1),
                       key=lambda n: (not _CLOSING.match(lines[n - 1]), -_indent(lines[n - 1]), n))
        out.extend(_gap(name, lines, offsets, list(range(begin, stop))))
        begin = stop
    return out


# How a line that closes a block (`);`, `}`, `end`) begins: it never starts one.
_CLOSING = re.compile(r"[)\]}]|end\b")
_ALNUM = re.compile(r"[^\W_]")  # a character ``str.isalnum`` says is one (``\w`` is those and ``_``)
# A line that is only a preprocessor conditional (`#else`, `#endif  // FOO`, `#if defined(_WIN32)`): between two
# definitions it says nothing of its own, and a chunk of one line was embedded as little more than its file's
# name (libgit2's `#else` at pack-objects.c:53 came third for a question about delta resolution).
_CONDITIONALS = re.compile(r"(?m)^[ \t]*#[ \t]*(?:if|ifdef|ifndef|elif|elifdef|elifndef|else|endif)\b[^\n]*$")


def _block_starts(lines: list[str]) -> list[int]:
    """The numbers of the lines after the first that start a block of text: one follows a blank line, or
    it is back at column 0 after an indented line or a line that closes a block (a Makefile target after a
    recipe, a YAML key after a nested mapping, a statement after ``);``), and does not close one itself
    (``);``, ``}``, ``end``). Each line is read once."""
    blank = [not line.strip() for line in lines]
    flush = [not b and not line[:1].isspace() for b, line in zip(blank, lines)]  # at column 0
    closing = [bool(_CLOSING.match(line)) for line in lines]
    return [n for n in range(2, len(lines) + 1)
            if not blank[n - 1] and (blank[n - 2] or (flush[n - 1] and not closing[n - 1]
                                                      and (not flush[n - 2] or closing[n - 2])))]


def _indent(line: str) -> int:
    """Leading blanks of a line (a blank line counts as deeply indented)."""
    stripped = line.lstrip()
    return len(line) - len(stripped) if stripped else len(line) + 1_000


def _lines(source: bytes) -> tuple[list[str], list[int]]:
    """The lines of ``source`` (decoded) and the byte offset where each starts, plus the end's."""
    raw_lines = source.split(b"\n")
    offsets = [0]
    for line in raw_lines:
        offsets.append(offsets[-1] + len(line) + 1)
    return [line.decode("utf-8", errors="replace") for line in raw_lines], offsets


def _file_symbol_name(path: str) -> str:
    """The name of a file's ``code`` chunks: ``<file name>``."""
    return f"<{path.rsplit('/', 1)[-1]}>"


def _gap(name: str, lines: list[str], offsets: list[int], numbers: list[int]) -> list[Symbol]:
    while numbers and not lines[numbers[0] - 1].strip():
        numbers = numbers[1:]
    while numbers and not lines[numbers[-1] - 1].strip():
        numbers = numbers[:-1]
    if not numbers:
        return []
    code = "\n".join(lines[numbers[0] - 1 : numbers[-1]])
    if not _ALNUM.search(_CONDITIONALS.sub("", code)):
        return []  # closing brackets, `#else` and `#endif` and the like say nothing
    # What is embedded and counted of it leaves its licences out (``indexer.licences``): a file's opening is what
    # its imports, declarations and description say, not its copyright; the licence is still shown, and a chunk
    # that is nothing but a licence is embedded as it is.
    embedded = without_licences(code)
    if embedded is not code and not _ALNUM.search(embedded):
        embedded = code
    return [Symbol(kind=SymbolKind.CODE, name=name, qualname=name, signature="", doc="", code=code,
                   code_without_doc=embedded, start_line=numbers[0], end_line=numbers[-1],
                   start_byte=offsets[numbers[0] - 1], end_byte=offsets[numbers[-1]] - 1)]


def chunks_from_symbols(file: SourceFile, symbols: Iterable[Symbol]) -> list[Chunk]:
    """Wrap already extracted symbols of ``file`` as chunks with unique keys."""
    seen: Counter[str] = Counter()
    chunks = []
    symbols = list(symbols)
    opening = next((s.code for s in symbols if s.kind == SymbolKind.CODE and s.start_line == 1), "")
    wrapping = wrappers(file.source, symbols)
    for i, (symbol, context) in enumerate(zip(symbols, contexts(symbols, opening))):
        if i in wrapping:
            continue
        seen[symbol.qualname] += 1
        n = seen[symbol.qualname]
        key = f"{file.path}::{symbol.qualname}" + (f"#{n}" if n > 1 else "")
        chunks.append(
            Chunk(
                path=file.path,
                language=file.language,
                kind=symbol.kind,
                name=symbol.name,
                qualname=symbol.qualname,
                signature=symbol.signature,
                doc=symbol.doc,
                code=symbol.code,
                code_without_doc=symbol.code_without_doc,
                start_line=symbol.start_line,
                end_line=symbol.end_line,
                key=key,
                content_hash=content_hash(file.language, symbol, context),
                context=context,
            )
        )
        chunks.extend(window_chunks(chunks[-1]))
    return chunks


def wrappers(source: bytes, symbols: list[Symbol]) -> set[int]:
    """The modules that only wrap one definition: no doc, one definition directly inside, and no other line than
    their first and last (Ruby's `module Sequel` and `module Plugins` around each plugin of Sequel's: their
    outlines held the plugin's doc and its first line, and took two of the three hits a file showed). The one
    definition is the chunk; the module names it (its qualified name) and gives its context as before."""
    if not any(s.kind == SymbolKind.MODULE and not s.doc for s in symbols):
        return set()
    lines = source.split(b"\n")
    # Definitions in order, each before what it holds: what a module holds follows it, and its first definition
    # is directly inside it; it holds one only when everything after that one, up to the module's end, is inside
    # that one (linear in what the module holds: a file of 5,000 methods in one module is one pass).
    order = sorted((i for i, s in enumerate(symbols) if s.kind != SymbolKind.CODE),
                   key=lambda i: (symbols[i].start_byte, -symbols[i].end_byte))
    out: set[int] = set()
    for at, i in enumerate(order):
        outer = symbols[i]
        if outer.kind != SymbolKind.MODULE or outer.doc or at + 1 >= len(order) or not _plain_head(outer):
            continue
        only = symbols[order[at + 1]]
        if only.start_byte >= outer.end_byte:
            continue  # it holds nothing
        after = at + 2
        while after < len(order) and symbols[order[after]].end_byte <= only.end_byte:
            after += 1
        if after < len(order) and symbols[order[after]].start_byte < outer.end_byte:
            continue  # a second definition directly inside
        first, last = only.doc_line or only.start_line, only.end_line
        if first <= outer.start_line or last >= outer.end_line:
            continue  # on the module's own first or last line
        if all(not lines[n - 1].strip() for n in range(outer.start_line + 1, min(first, len(lines) + 1))) and all(
                not lines[n - 1].strip() for n in range(last + 1, min(outer.end_line, len(lines) + 1))):
            out.add(i)
    return out


_HEAD_WORD = re.compile(r"[a-z]+")


def _plain_head(module: Symbol) -> bool:
    """Whether a module's head only names it (`module Sequel`, `defmodule Shorty.Web do`, `namespace app {`), not
    what it is besides (Elixir's `defimpl Shorty.Validator, for: BitString do` says which type it implements for)."""
    words = module.signature.split()
    while words and words[-1] in ("do", "{"):
        words.pop()
    return bool(words) and words[-1].endswith(module.name) and all(_HEAD_WORD.fullmatch(w) for w in words[:-1])


def contexts(symbols: list[Symbol], opening: str = "") -> list[str]:
    """For each symbol, the first ``CONTEXT_CHARS`` characters of the first paragraph of the doc of the
    innermost container (class, interface, module, trait) around it that has a doc; "" for containers
    themselves and for what no documented container encloses.

    A method is often named for its class's purpose rather than its own (monolog's
    ``SlackHandler.write``, ``LineFormatter.format``): the class's doc says what "write" and "format"
    do there. Measured in docs/BENCHMARKS.md ("Members carry their class's doc").

    :param opening: the code of the file's opening (its ``code`` chunk at line 1), whose description
        (``indexer.licences.description``) is the doc of the file's only top-level container when that has none
        (a PHP docblock above ``namespace`` describes the one class below it), for it and its members; read only
        for a file with such a container.
    """
    out = [""] * len(symbols)
    order = sorted(range(len(symbols)), key=lambda i: (symbols[i].start_byte, -symbols[i].end_byte))
    sole = _sole_container(symbols, order) if opening else None
    file_description = description(opening) if sole is not None else ""
    if not file_description:
        sole = None
    open_: list[Symbol] = []  # the containers around the current symbol, outermost first
    for i in order:
        symbol = symbols[i]
        while open_ and open_[-1].end_byte <= symbol.start_byte:
            open_.pop()
        if symbol.kind.is_container:
            open_.append(symbol)
            if symbol is sole:
                out[i] = file_description[:CONTEXT_CHARS]
            continue
        documented = next((c for c in reversed(open_) if (c.doc or c is sole) and c.end_byte >= symbol.end_byte),
                          None)
        if documented is not None:
            doc = documented.doc or file_description
            out[i] = doc.strip().split("\n\n")[0][:CONTEXT_CHARS]
    return out


def _sole_container(symbols: list[Symbol], order: list[int]) -> Symbol | None:
    """The file's only top-level container when it has no doc (None: none, several, or documented)."""
    tops: list[Symbol] = []
    for i in order:  # by start, the outer first: a container not inside the last top-level one is one
        symbol = symbols[i]
        if symbol.kind.is_container and (not tops or symbol.start_byte >= tops[-1].end_byte):
            tops.append(symbol)
            if len(tops) > 1:
                return None
    return tops[0] if tops and not tops[0].doc else None


def window_chunks(chunk: Chunk) -> list[Chunk]:
    """Chunks over the part of a long function's or method's body that ``embedding_text``
    leaves out (after its first ``MAX_CODE_CHARS`` characters), at most about ``WINDOW_CHARS`` each.

    Each is cut at line ends and keeps the definition's kind and signature; its key, name and
    qualified name are the definition's with ``@w<n>`` appended (``window`` = n, from 1).
    """
    if chunk.kind not in _WINDOWED or len(chunk.code_without_doc) <= MAX_CODE_CHARS or chunk.window:
        return []
    lines = chunk.code.split("\n")
    # The lines the definition's own chunk embeds: those of its first MAX_CODE_CHARS characters
    # without doc, plus the doc lines inside it (a docstring sits near the top).
    doc_lines = chunk.code.count("\n") - chunk.code_without_doc.count("\n")
    first = chunk.code_without_doc[:MAX_CODE_CHARS].count("\n") + max(doc_lines, 0)
    spans: list[tuple[int, int]] = []  # [start, end) indexes into lines
    start, size = first, 0
    for i in range(first, len(lines)):
        size += len(lines[i]) + 1
        if size >= WINDOW_CHARS:
            spans.append((start, i + 1))
            start, size = i + 1, 0
    if start < len(lines):  # the rest: a window of its own, or (short) part of the last one, or none
        if size >= MIN_WINDOW_CHARS:
            spans.append((start, len(lines)))
        elif spans:
            spans[-1] = (spans[-1][0], len(lines))
    out = []
    for begin, end in spans:
        while begin < end and not lines[begin].strip():
            begin += 1
        while end > begin and not lines[end - 1].strip():
            end -= 1
        code = "\n".join(lines[begin:end])
        if not any(c.isalnum() for c in code):
            continue
        n = len(out) + 1
        mark = f"@w{n}"
        out.append(Chunk(
            path=chunk.path, language=chunk.language, kind=chunk.kind, name=chunk.name + mark,
            qualname=chunk.qualname + mark, signature=chunk.signature, doc="", code=code, code_without_doc=code,
            start_line=chunk.start_line + begin, end_line=chunk.start_line + end - 1, key=chunk.key + mark,
            content_hash=_hash(chunk.language, chunk.kind.value, chunk.qualname + mark, chunk.signature, code),
            window=n,
        ))
    return out


def definition_key(key: str) -> str:
    """The key of the definition a chunk belongs to: a window's key without its ``@w<n>``, any other key as is."""
    return _WINDOW_MARK.sub("", key)


# A name written with its scope: identifiers joined by Ruby's ``::``, a dot (Elixir's ``Plug.Conn``) or PHP's ``\``.
_SCOPED = re.compile(r"[A-Za-z_$][\w$]*(?:(?:::|\.|\\)[A-Za-z_$][\w$]*)+[?!=]?")
_SCOPE = re.compile(r"::|\.|\\")


@lru_cache(maxsize=65536)
def unscoped(name: str) -> str:
    """A name written with its scope without it (``Puppet::Indirector`` -> ``Indirector``, ``Plug.Conn`` -> ``Conn``);
    any other name as it is (an operator such as Haskell's ``<.>``, a window's ``report@w1``)."""
    return _SCOPE.split(name)[-1] if _SCOPED.fullmatch(name) else name


def definition_name(name: str) -> str:
    """A window's (qualified) name as its definition's: without the ``@w<n>`` mark."""
    return _WINDOW_MARK.sub("", name)


def is_window(key: str) -> bool:
    """Whether a chunk key is a window's (see ``window_chunks``)."""
    return _WINDOW_MARK.search(key) is not None


def content_hash(language: str, symbol: Symbol, context: str = "") -> str:
    """Hash of everything that shapes the chunk's vector (not its position in the file): the symbol and
    its ``context`` (an edit of a class's doc embeds its methods again)."""
    parts = (language, symbol.kind.value, symbol.qualname, symbol.signature, symbol.doc, symbol.code,
             symbol.code_without_doc)
    return _hash(*parts, context) if context else _hash(*parts)


def _hash(*parts: str) -> str:
    import hashlib  # here: a search imports this module for its names, and hashes nothing

    h = hashlib.sha1()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def embedding_text(chunk: Chunk, *, with_doc: bool = True, max_code_chars: int = MAX_CODE_CHARS) -> str:
    """The text a model embeds for a chunk: kind, qualified name, signature, the enclosing definition's
    doc (``context``), doc and code (a window's: the definition's kind, qualified name and signature,
    and the window's code).

    :param with_doc: False embeds the code without its doc comment or docstring, as the
        CodeSearchNet protocol requires when the doc is the query.
    """
    parts = [f"{chunk.kind.value} {definition_name(chunk.qualname) if chunk.window else chunk.qualname}",
             chunk.signature]
    if chunk.context:
        parts.append(chunk.context)
    if with_doc and chunk.doc:
        parts.append(chunk.doc)
    # A window's last piece may run up to MIN_WINDOW_CHARS over (a short rest joins it).
    parts.append(chunk.code_without_doc[:max_code_chars + (MIN_WINDOW_CHARS if chunk.window else 0)])
    return "\n".join(parts)


def display_code(chunk: Chunk) -> str:
    """The code stored and shown for a chunk: a class or module as its outline (member bodies
    elided; the members are chunks of their own), anything else as written."""
    return chunk.code_without_doc if chunk.kind.is_container else chunk.code
