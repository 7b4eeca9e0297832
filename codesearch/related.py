"""Code-to-code search: the code most like the definition at a place in a file, or a named symbol.

The source chunk's stored vector is the query of the vector ranking; optionally
(``hybrid``) its own terms (name, signature, doc, code) are the query of a lexical one,
fused by score as in ``codesearch.search``. On the 64 hand-picked pairs of
``benchmarks/queries/related.json`` the lexical ranking changed nothing measurable
(Recall@5 0.922 without it, 0.911 with it; MRR 0.752 / 0.753), so it is off by
default and the search is one FAISS query. The source itself, and the chunks that contain it or lie
inside it (its class, its methods), are left out. One code-aware signal applies: a chunk
whose name is the source's name, or contains it as a whole word part (``Headers`` ->
``TestHeaders``, ``format`` -> ``formatBatch``), is lifted by ``NAME_WEIGHT``: overloads,
overrides, implementations and tests usually say whom they belong to in their name.

When the file changed since indexing, the line refers to the file as it is now: the
source is found in the current file and, if the index does not know it yet, embedded on
the fly.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from codesearch.errors import AmbiguousSymbol, BadQuery
from codesearch.freshness import CHANGED, GONE, FileCheck, deleted_files
from codesearch.pack import Mounts
from codesearch.query import analyse, is_utf8
from codesearch.ranking import Signals, is_noise_row, is_signature, stub_factor
from codesearch.search import Lift, ParsedQuery, PathFilter, Searcher, SearchOptions, SearchResult, ranked
from codesearch.search.first_stage import origin
from codesearch.search.pool import twin_place
from codesearch.store.codec import code_of
from codesearch.terms import CODE_CHARS, term_ids, terms
from indexer.chunk import definition_name, display_code, embedding_text, is_window
from indexer.discover import Tree, lstat_inside, read_inside
from indexer.types import Chunk

MAX_LINE = 2**31 - 1  # beyond this a line number cannot be a line (nor a SQLite integer past 2**63)
MAX_NAMED = 5000  # definitions of one name looked at by ``named``
CHOICES_SHOWN = 20  # definitions an ambiguous symbol's error lists (at 10, Sequel's base method was one of 3 left out)
MAX_SYMBOL_CHARS = 500  # a symbol name longer than this is refused (the longest qualified names are ~250)
_SEPARATORS = re.compile(r"::|[.\\#]")
_BLANKS = " \t\r\n"  # stripped off a typed symbol (not str.strip's all: a name may end in \x1d)
RELATED_LEXICAL_WEIGHT = 1.0  # the lexical ranking's weight in the fusion (the vector ranking's is 1)
NAME_WEIGHT = 0.3  # in units of the pool's best fused score
CONTAINERS = frozenset({"class", "interface", "module", "trait", "enum", "type"})
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b)|[A-Z]?[a-z]+|[A-Z]+|\d+")


@dataclass(frozen=True)
class Source:
    """The code that a related search starts from."""

    path: str
    name: str
    qualname: str
    kind: str
    start_line: int
    end_line: int
    vector: np.ndarray  # (1, dim)
    terms: np.ndarray  # distinct lexical term ids
    chunk_id: int = -1  # -1: not in the index (new since indexing)
    content_hash: str = ""  # what the index embedded of it: an identical copy elsewhere is the source too
    copies: tuple[str, ...] = ()  # ``path:line`` of its identical copies elsewhere, which results leave out
    # The lines the index holds for it, where they are not today's (a file changed since indexing; (0, -1): none),
    # what its results, read from the index, are compared with: today's lines left out whatever the edit moved
    # over them (3 lines inserted above a method dropped the next method from its related results).
    indexed_lines: tuple[int, int] | None = None

    @property
    def indexed_span(self) -> tuple[int, int]:
        """Its first and last line as the index holds them."""
        return self.indexed_lines if self.indexed_lines is not None else (self.start_line, self.end_line)

    def to_dict(self) -> dict[str, Any]:
        out = {"path": self.path, "name": self.name, "qualname": self.qualname, "kind": self.kind,
               "start_line": self.start_line, "end_line": self.end_line}
        return {**out, "copies": list(self.copies)} if self.copies else out


def relative_path(searcher: Searcher, path: str | Path) -> str:
    """``path`` (absolute, or relative to the working directory or to the root) relative to the root.

    :raises BadQuery: if it lies outside the repository or is not indexed.
    """
    root = searcher.root
    if not is_utf8(str(path)):
        raise BadQuery(f"{os.fsencode(path)!r} is not a UTF-8 path; no file of such a name is indexed")
    candidates = [Path(path)] if Path(path).is_absolute() else [Path.cwd() / path, root / path]
    inside = []
    for candidate in candidates:
        resolved = Path(os.path.normpath(candidate))
        try:
            relative = resolved.relative_to(root).as_posix()
        except ValueError:
            continue
        if relative in _indexed(searcher, [relative]):
            return relative
        inside.append(relative)
    if not inside:
        raise BadQuery(f"{path} is outside the repository {root}")
    # What is there is looked for from the root down without following a link: a planted `sysroot -> /` made
    # `sysroot/etc/passwd` "not in the index" and a missing file "no such file" (the red team: an agent's related
    # told what exists outside the repository), and a name too long for the system was a traceback.
    found = [st for rel in inside if (st := (os.lstat(root) if rel == "." else lstat_inside(root, rel))) is not None]
    if any(stat.S_ISDIR(st.st_mode) for st in found):
        raise BadQuery(f"{path} is a directory; give a file and a line inside a definition")
    if all(stat.S_ISLNK(st.st_mode) for st in found) and any(_through_link(root, rel) for rel in inside):
        raise BadQuery(f"{path} goes through a symlink in the repository; links are never followed (give the path "
                       "it leads to)")
    if not found:
        where = "" if Path(path).is_absolute() else f" (from the working directory, nor from the repository {root})"
        raise BadQuery(f"no such file: {path}{where}")
    raise BadQuery(f"{path} is not in the index (not a source file of a supported language, ignored, or new "
                   "since the index was last updated)")


def _through_link(root: Path, relative: str) -> bool:
    """Whether ``relative`` (under ``root``) is or goes through a link inside the repository: each of its parts looked
    at from the root down without following one, so the answer is told by the link, never by where it leads."""
    parts = relative.split("/")
    with Tree(root) as tree:
        for n in range(1, len(parts) + 1):
            try:
                st = tree.lstat("/".join(parts[:n]))
            except (OSError, ValueError):
                return False
            if stat.S_ISLNK(st.st_mode):
                return True
            if not stat.S_ISDIR(st.st_mode):
                return False
    return False


def _indexed(searcher: Searcher, paths: list[str]) -> set[str]:
    return set(searcher.reader.file_states(paths))


def at_line(searcher: Searcher, path: str | Path, line: int) -> Source:
    """The innermost definition (or code between definitions) at ``line`` of ``path``, as the file is now.

    :raises BadQuery: if the path is outside the repository or not indexed, the file is gone,
        or no chunk covers the line.
    """
    rel = relative_path(searcher, path)
    if line < 1:
        raise BadQuery(f"line numbers start at 1, got {line}")
    if line > MAX_LINE:
        raise BadQuery(f"line {line} is past the end of any file (at most {MAX_LINE})")
    language = searcher.reader.file_language(rel)
    check = searcher.check_files({rel: language})[rel]
    if check.status == GONE:
        raise BadQuery(f"{rel} is gone or unreadable since it was indexed")
    if check.status == CHANGED:
        chunks = [c for c in check.chunks.values() if c.start_line <= line <= c.end_line and not c.window]
        if not chunks:
            raise BadQuery(f"no code at {rel}:{line} (a blank line or a comment between definitions)")
        chunk = min(chunks, key=lambda c: (c.end_line - c.start_line, c.kind == "code"))
        return _with_copies(searcher, _current(searcher, rel, chunk,
                                               searcher.reader.chunks_with_keys([chunk.key]).get(chunk.key)))
    rows = [row for row in searcher.reader.chunks_at(rel, line) if not is_window(row["key"])]
    if not rows:
        lines = _line_count(searcher.root, rel, searcher.reader.max_file_bytes)
        if lines is not None and line > lines:
            raise BadQuery(f"{rel} has {lines:,} lines; line {line:,} is past its end")
        below = searcher.reader.next_definition(rel, line)
        if below and below[3] and line >= below[1] - below[3].count("\n") - 1:  # in its doc comment, above it
            return _with_copies(searcher, _stored(searcher, searcher.reader.chunks([below[0]])[below[0]]))
        hint = f"; the next definition is {below[2]} at {rel}:{below[1]}" if below else ""
        raise BadQuery(f"no code at {rel}:{line} (a blank line or a comment between definitions){hint}")
    return _with_copies(searcher, _stored(searcher, rows[0]))


def _line_count(root: str | Path, path: str, max_bytes: int) -> int | None:
    """The lines of the repository's file ``path``, read as the index reads files (``read_inside``: no link
    followed, no FIFO or device opened, at most ``max_bytes``); None when it cannot be read so."""
    read = read_inside(root, path, max_bytes)
    if isinstance(read, str) or len(read[1]) > max_bytes:
        return None
    data = read[1]
    return data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)


def symbol_parts(symbol: str) -> list[str]:
    """The parts of a (qualified) name in any language's notation: ``Jekyll::Utils.slugify``,
    ``App\\Utils::slugify``, ``Utils#slugify`` and ``Utils.slugify`` all end in ``Utils``, ``slugify``."""
    return [part for part in _SEPARATORS.split(symbol.strip(_BLANKS)) if part]


def named(searcher: Searcher, symbol: str) -> list[Source]:
    """The definitions ``symbol`` names, in order of path and line.

    ``symbol`` is a qualified name, or any trailing part of one, in dots or in the
    language's own separators (``::``, ``\\``, ``#``; see ``symbol_parts``). A definition
    whose whole qualified name is ``symbol`` wins over those it is only the end of; an
    exact-case match wins over one in another case. A PHP namespace (``App\\Support\\``)
    may lead the name: qualified names leave it out.

    :raises BadQuery: if nothing is named so.
    """
    symbol = symbol.strip(_BLANKS)
    if not symbol_parts(symbol):
        raise BadQuery("the symbol name is empty")
    if len(symbol) > MAX_SYMBOL_CHARS:  # its echo in "no definition named ..." was the whole of it
        raise BadQuery(f"the symbol name is {len(symbol):,} characters long; a name is at most {MAX_SYMBOL_CHARS}")
    if not is_utf8(symbol):
        raise BadQuery("the symbol name is not UTF-8 text (bytes a terminal could not decode)")
    symbol, parameters = _without_parameters(symbol)  # `Element.text()`, `Element.text(String)`: an overload
    # PHP namespaces are not part of qualified names: App\\Support\\Str::slug is Str.slug.
    unspaced = symbol.rsplit("\\", 1)[-1]
    for typed in dict.fromkeys([symbol, unspaced] if symbol_parts(unspaced) else [symbol]):
        rows = _matching(searcher, typed)
        if rows:
            rows = _implementations(rows)
            if parameters is not None:
                rows = [row for row in rows if _takes(str(row.get("signature") or ""), parameters)] or rows
            rows.sort(key=lambda r: (r["path"], r["start_line"]))
            checks = searcher.check_files({row["path"]: row["language"] for row in rows})
            sources = [source for row in rows if (source := _as_now(searcher, row, checks[row["path"]]))]
            if not sources:
                raise BadQuery(f"no definition named {symbol!r} in the files as they are now ({rows[0]['path']} "
                               "changed since it was indexed: run `codesearch index`)")
            return sources
    if "/" in symbol or symbol in searcher.reader.file_paths():  # an agent's `symbol: "Parser/Cursor.php"`
        raise BadQuery(f"no definition named {symbol!r} in the index; to start from a file, give its path and a "
                       "line in it (FILE:LINE, or MCP `path` and `line`)")
    raise BadQuery(f"no definition named {symbol!r} in the index")


_PARAMETERS = re.compile(r"^(?P<name>[^()]+)\((?P<parameters>[^()]*)\)$")


def _without_parameters(symbol: str) -> tuple[str, list[str] | None]:
    """A symbol written with its parameters (`Element.text()`, `Element.text(String)`, as Java and C# name an
    overload) as the name and the parameters' words, one list each (None: written without)."""
    found = _PARAMETERS.match(symbol)
    if found is None:
        return symbol, None
    written = [part.strip() for part in found["parameters"].split(",")] if found["parameters"].strip() else []
    return found["name"].strip(_BLANKS), [re.findall(r"[\w$]+", part) for part in written]


def _takes(signature: str, parameters: list[str]) -> bool:
    """Whether a signature's parameters are those written, one for one: as many, each holding the words written for
    it (`String` for `String text`)."""
    opened = signature.find("(")
    closed = signature.rfind(")")
    if opened < 0 or closed < opened:
        return False
    inside = signature[opened + 1:closed].strip()
    declared = [set(re.findall(r"[\w$]+", part)) for part in inside.split(",")] if inside else []
    return len(declared) == len(parameters) and all(set(words) <= have for words, have in zip(parameters, declared))


def _implementations(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` less the overload signatures of a function whose one implementation is among them (in its file,
    of its qualified name: rxjs's `retry` at retry.ts:34 and 35 are signatures of the one at 84, and `related
    --symbol retry` called the name ambiguous), and less the declarations of a stub whose code is among them."""
    named: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        named.setdefault((row["path"], row["qualname"]), []).append(row)
    dropped: set[int] = set()
    for group in named.values():
        if len(group) > 1:
            signatures = [row for row in group if is_signature(row)]
            if len(group) - len(signatures) == 1:
                dropped.update(id(row) for row in signatures)
    # A declaration in a stub (`converters.pyi`, a `.d.ts`) gives way to the code of its name (attrs' `related --symbol
    # to_bool` named `converters.py` and `converters.pyi`: ambiguous for every function; `evolve` is declared in
    # `__init__.pyi` and defined in `_funcs.py`, a package's root `index.d.ts` declares what `lib/*.js` defines).
    code = {row["qualname"] for row in rows if stub_factor(row["path"]) == 1.0}
    dropped.update(id(row) for row in rows if stub_factor(row["path"]) < 1.0 and row["qualname"] in code)
    return [row for row in rows if id(row) not in dropped]


def _as_now(searcher: Searcher, row: dict[str, Any], check: FileCheck) -> Source | None:
    """The stored definition ``row`` as its file is now (``check``): with today's lines when the file changed
    (re-embedded if its code did), None when the file is gone or no longer defines it (renamed, removed)."""
    if check.status == GONE:
        return None
    if check.status != CHANGED:
        return _stored(searcher, row)
    chunk = check.chunks.get(row["key"])
    if chunk is None:
        return None
    return _current(searcher, row["path"], chunk, row)


def one_named(searcher: Searcher, symbol: str, place: Callable[[str], str] | None = None) -> Source:
    """The one definition ``symbol`` names (see ``named``).

    :param place: how the ambiguity's list shows a stored path (default: as stored, from the repository's root; the
        CLI shows it as its results are shown, from the working directory).
    :raises AmbiguousSymbol: if it names several that are not copies of one, listing them (``path:line qualname``).
    :raises BadQuery: if it names none.
    """
    found = named(searcher, symbol)
    # Copies of one definition (an amalgamated header, a vendored copy) are one: its first place is the source.
    firsts: dict[str, Source] = {}
    for n, each in enumerate(found):
        firsts.setdefault(each.content_hash or str(n), each)
    sources = list(firsts.values())
    if len(sources) > 1:
        shown = "; ".join(f"{place(s.path) if place else s.path}:{s.start_line} {s.qualname}"
                          for s in sources[:CHOICES_SHOWN])
        more = f"; and {len(sources) - CHOICES_SHOWN} more" if len(sources) > CHOICES_SHOWN else ""
        count = f"{len(sources):,} definitions" if len(found) < MAX_NAMED else f"{MAX_NAMED:,} or more definitions"
        if len(found) > len(sources) and len(found) < MAX_NAMED:
            count += f" (and {len(found) - len(sources):,} identical copies)"
        longer = "" if len({s.qualname for s in sources}) == 1 else ", or a longer qualified name"  # none longer
        overloads = {s.qualname for s in sources} == {sources[0].qualname} and sources[0].kind in ("function", "method")
        typed = f", or by its parameters ({sources[0].qualname}(...))" if overloads else ""
        raise AmbiguousSymbol(f"{symbol.strip(_BLANKS)!r} names {count}: {shown}{more}; "
                              f"pick one by its file and line{longer}{typed}")
    return _with_copies(searcher, sources[0])


def _matching(searcher: Searcher, symbol: str) -> list[dict[str, Any]]:
    """The rows of the definitions ``symbol`` names (see ``named``), in the strictest way that matches any."""
    parts = symbol_parts(symbol)
    ids = searcher.reader.ids_named([parts[-1]], limit=MAX_NAMED)
    rows = {row["id"]: row for row in searcher.reader.chunks(ids).values() if row["kind"] != "code"}
    rows.update((row["id"], row) for row in searcher.reader.chunks_named(symbol))  # a name with a "." in it
    tiers = [matches for matches in _name_matches(symbol, list(rows.values()), parts) if matches]
    if tiers and all(is_noise_row(row) for row in tiers[0]):
        # Only tests match most strictly (walkdir's test `skip_current_dir` beside two methods of the name): the
        # definitions outside tests that match less strictly are meant, so a test is not taken without a word.
        kept = next((rows for tier in tiers[1:] if (rows := [r for r in tier if not is_noise_row(r)])), None)
        if kept:
            return kept
    if tiers and (code := [row for row in tiers[0] if not is_noise_row(row)]):
        # A test named as the definition it tests (commander's `test('Command', ...)`, RSpec's `describe Slugger`)
        # made the name ambiguous: the definition outside tests is meant.
        return code
    return tiers[0] if tiers else []


def _name_matches(symbol: str, rows: list[dict[str, Any]], parts: list[str]) -> Iterator[list[dict[str, Any]]]:
    """The rows matching ``symbol`` (split into ``parts``), from the strictest way to match to the
    loosest: the stored qualified name or name as typed, then the whole qualified name part by
    part, then its end; each in exact case, then in any case."""
    wanted = len(parts)
    folded = [p.casefold() for p in parts]
    # In the languages' own separators too: Ruby's `class Sequel::ThreadedConnectionPool` qualifies its methods as
    # `Sequel::ThreadedConnectionPool.hold`, which `ThreadedConnectionPool.hold` did not name.
    split = [(row, symbol_parts(row["qualname"])) for row in rows]
    yield [row for row, _ in split if row["qualname"] == symbol]
    yield [row for row, _ in split if row["name"] == symbol]
    yield [row for row, qual in split if qual == parts]
    yield [row for row, qual in split if qual[-wanted:] == parts]
    yield [row for row, qual in split if [q.casefold() for q in qual] == folded]
    yield [row for row, qual in split if [q.casefold() for q in qual[-wanted:]] == folded]


def _current(searcher: Searcher, path: str, chunk: Chunk, row: dict[str, Any] | None) -> Source:
    """The source of a chunk of a changed file as it is now: its stored vector where its code is unchanged
    (``row``: the stored chunk of its key, if any), else embedded again."""
    indexed = (int(row["start_line"]), int(row["end_line"])) if row is not None else (0, -1)
    if row is not None and row["content_hash"] == chunk.content_hash:
        stored = _stored(searcher, dict(row, start_line=chunk.start_line, end_line=chunk.end_line))
        return replace(stored, indexed_lines=indexed)
    vector = searcher.embedder.encode_documents([embedding_text(chunk)])
    return Source(path, chunk.name, chunk.qualname, chunk.kind, chunk.start_line, chunk.end_line, vector,
                  _terms(chunk.qualname, chunk.signature, chunk.doc, display_code(chunk)),
                  content_hash=chunk.content_hash, indexed_lines=indexed)


def _stored(searcher: Searcher, row: dict[str, Any]) -> Source:
    vector = searcher.vectors.vectors([int(row["id"])])
    return Source(row["path"], row["name"], row["qualname"], row["kind"], row["start_line"], row["end_line"],
                  vector, _terms(row["qualname"], row["signature"], row["doc"], code_of(row)), int(row["id"]),
                  str(row.get("content_hash") or ""))


def _with_copies(searcher: Searcher, source: Source) -> Source:
    """``source`` with the places of its identical copies elsewhere (``copies``), looked up for the one source a
    related search starts from, not for every definition a name matched."""
    digest = source.content_hash
    if source.chunk_id < 0 or not digest or source.kind == "code":
        return source
    here = f"{source.path}:{source.start_line}"
    copies = tuple(p for p in searcher.reader.same_content([digest]).get(digest, []) if p != here)
    return replace(source, copies=copies) if copies else source


def _terms(qualname: str, signature: str, doc: str, code: str) -> np.ndarray:
    words = [*terms(qualname), *terms(signature), *terms(doc), *terms(code[:CODE_CHARS])]
    return term_ids(dict.fromkeys(words))


def name_parts(name: str) -> list[str]:
    """The lowercased word parts of an identifier (``TestHeaders`` -> ``test``, ``headers``)."""
    return [p.lower() for p in _PARTS.findall(name.replace("_", " "))]


def derives(row: dict[str, Any], name: str) -> bool:
    """Whether the type ``row`` names the type ``name`` after its own name in its head (`class ComputedValue<T>
    implements IObservable, IDerivation`, `class Reaction(Base)`, `struct S: Proto`): an implementation or a
    subclass, what related code from a type is first (mobx's two `IDerivation` classes came 10th and 23rd, under
    nine functions that take one)."""
    if row.get("kind") not in CONTAINERS or not name:
        return False
    head = str(row.get("signature") or "")
    own = str(row.get("name") or "")
    at = head.find(own) if own else -1
    rest = head[at + len(own):] if at >= 0 else head
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", rest) is not None


def names_related(source: str, other: str) -> bool:
    """Whether ``other`` is ``source`` or has its word parts as a contiguous run (any case)."""
    if not source or not other:
        return False
    if source.lower() == other.lower():
        return True
    mine, theirs = name_parts(source), name_parts(other)
    if not mine or len(mine) >= len(theirs):
        return False
    return any(theirs[i:i + len(mine)] == mine for i in range(len(theirs) - len(mine) + 1))


def related(
    searcher: Searcher,
    source: Source,
    k: int = 10,
    *,
    hybrid: bool = False,
    names: bool = True,
    language: str | None = None,
    paths: PathFilter | None = None,
    kinds: Sequence[str] = (),
    per_file: int = 0,
    lexical_only: bool = False,
) -> list[SearchResult]:
    """The ``k`` chunks most like ``source``, best first; ``score`` is their cosine with it.

    :param hybrid: fuse the vector ranking with the lexical one (the source's own terms).
    :param names: lift chunks whose name contains the source's name (see the module doc).
    :param lexical_only: rank by the lexical stage alone (a BM25 baseline).

    It takes the path of every search (``codesearch.search.pool.ranked``): the source's vector
    and terms are the query, the kind and stubs signals and the name ``Lift`` the only signals.
    """
    options = SearchOptions(k=k, language=language, paths=paths or PathFilter(), kinds=tuple(kinds),
                            hybrid=hybrid or lexical_only, per_file=per_file,
                            # The signals related uses, named rather than the others switched off: a signal added
                            # for search must not reach related unasked (saturation, added for one-word queries, took
                            # Recall@5 0.903 -> 0.862 here, as a source's name is often one plain word). The kind
                            # signal, stubs (a type declaration file's copy is not related code) and twins (a
                            # result's copy in another build of its file is the same result; the vector rule for
                            # near-copies stays off: a copy of a helper elsewhere is what related looks for).
                            signals=replace(Signals.none(), kind=not lexical_only, stubs=True, twins=True))
    query = ParsedQuery(source.name or "code", analyse(source.name or "code"), source.vector, source.terms)
    lift = Lift("name", NAME_WEIGHT, lambda row: (names_related(source.name, row["name"])
                and row.get("kind") not in CONTAINERS) or (source.kind in CONTAINERS and derives(row, source.name))
                ) if names and not lexical_only else None
    own = (searcher.reader.hashes_within(source.path, *source.indexed_span) if source.chunk_id >= 0 else set())
    own.add(source.content_hash)
    own.discard("")

    def run(leave_out: frozenset[str] = frozenset()) -> list[SearchResult]:
        plan = searcher.plan(query, options, leave_out)
        if plan is None:
            return []
        hits = searcher.first_stage(plan, options, vector=not lexical_only)
        return ranked(query.info, [hits], options, lexical_weight=RELATED_LEXICAL_WEIGHT,
                      leave_out=lambda row: _overlaps(row, source, own, searcher.mounts), lift=lift)

    results = run()
    if len(results) < k and (gone := deleted_files(searcher)):  # as a search (``Searcher.run``): the recheck's
        results = run(frozenset(gone))  # `related -p tests` found 2 of 10 after three test files were deleted
    return results


def _overlaps(row: dict[str, Any], source: Source, own: set[str], mounts: Mounts | None = None) -> bool:
    """The source itself, a chunk around it (its class) or inside it (its methods), the source in another
    build of its file (``ranking.build_twin``: hono's `dist/cjs/x.js` for `dist/x.js`, its `.d.ts`; in a pack,
    within the source's repository), or an identical copy of it or of a window of it (``own``: their content
    hashes; nlohmann's amalgamated `single_include/json.hpp` holds every definition of `include/`, and a related
    search's first hit was the source's own copy)."""
    if int(row["id"]) == source.chunk_id or (row["kind"] != "code" and row.get("content_hash") in own):
        return True
    if row["kind"] in CONTAINERS and _scope(source.qualname) == definition_name(row["qualname"]) and (
            os.path.dirname(row["path"]) == os.path.dirname(source.path)):
        return True  # its type declared apart from it, in its file or its package (Go's receiver, a C++ class)
    if row["path"] != source.path:
        return (row["kind"] != "code" and definition_name(row["qualname"]) == definition_name(source.qualname)
                and _twin(row["path"], mounts) == _twin(source.path, mounts))
    start, end = source.indexed_span
    return row["start_line"] <= end and start <= row["end_line"]


def _scope(qualname: str) -> str:
    """The qualified name a definition is a member of (``LayoutHandler`` of ``LayoutHandler.For``; "" for none)."""
    return definition_name(qualname).rpartition(".")[0]


def _twin(path: str, mounts: Mounts | None) -> tuple[str, str]:
    """``twin_place`` of a stored path (its repository's, in a pack)."""
    return twin_place(origin(mounts or Mounts(), "", "", path))
