"""The results stage: a picked chunk as the user sees it, checked against its file as it is now."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from codesearch.freshness import CHANGED, GONE, FileCheck
from codesearch.store.codec import code_of, stops_early
from indexer.chunk import definition_key, definition_name, display_code, is_window
from indexer.licences import licence_head
from indexer.types import Chunk, SymbolKind

CONTAINER_KINDS = frozenset(kind.value for kind in SymbolKind if kind.is_container)  # shown as outlines
_ELIDED = re.compile(r" \.\.\.[;,)]*$", re.MULTILINE)  # where an outline left a member's body out (``indexer.parse``)
SNIPPET_LINE_CHARS = 400  # a snippet's longer line is cut (data written into code: an image, a table)


def snippet_of(code: str, max_lines: int, skip: int = 0) -> tuple[list[str], bool]:
    """``max_lines`` lines of ``code`` from its line ``skip`` (0: the first), a line longer than
    ``SNIPPET_LINE_CHARS`` cut there with how much is left out; and whether lines after them were left out."""
    # A Windows line end is no part of what its line shows, nor a file's byte-order mark (Json.NET's files began
    # `\ufeff#region License`, its mark made visible as an invisible character).
    lines = code.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
    shown = [line if len(line) <= SNIPPET_LINE_CHARS
             else f"{line[:SNIPPET_LINE_CHARS]}… ({len(line) - SNIPPET_LINE_CHARS:,} more characters)"
             for line in lines[skip:skip + max_lines]]
    return shown, len(lines) > skip + max_lines


def whole_lines(result: SearchResult) -> str:
    """A hit's code as its snippet shows it: without the part line where the index's copy of a long definition
    stops (``code_cut``: a snippet of nats-server's `ServerImpl.Exchange.run` ended in a line of four spaces)."""
    code = result.code
    return code[:code.rindex("\n")] if result.code_cut and "\n" in code else code


def snippet_skip(result: SearchResult, max_lines: int) -> int:
    """How many of a hit's first lines its snippet leaves out: the line the query's name is on (``line``) is
    shown, starting the line before it when it would not be (unless that line is blank: an agent's snippets began
    with an empty line); a file's opening is shown from after its licence (libgit2's `pack.c:1-28` showed its
    copyright where its includes say what the file uses)."""
    if result.line:
        offset = result.line - result.start_line
        if offset < max_lines:
            return 0
        if max_lines == 1:
            return offset  # one line: that line itself
        lines = result.code.split("\n")
        return offset - 1 if 0 < offset <= len(lines) and lines[offset - 1].strip() else offset
    return licence_head(result.code) if result.kind == "code" and result.start_line == 1 else 0


_HTML_PARAGRAPH = re.compile(r"<p\b[^>]*>", re.IGNORECASE)


def doc_outside(doc: str, snippet: str, limit: int) -> str:
    """The first paragraph of a hit's doc on one line (at most ``limit`` characters) when ``snippet``, what is shown of
    its code, does not show it: a Go, Rust, Java or JavaScript doc comment stands above the code, and an agent read
    `func Validate()` without what it is for (a Python docstring is in the snippet already)."""
    first = doc.strip().split("\n\n", 1)[0].strip()
    first = _HTML_PARAGRAPH.split(first, 1)[0].strip() or first  # Javadoc's paragraphs: `<p>`, not a blank line
    lines = first.splitlines()
    # Up to its tags (JSDoc's and Javadoc's `@param`, a docstring's `:param`): what it is for, not its parameters.
    cut = next((n for n, line in enumerate(lines) if n and line.lstrip().startswith(("@", ":param", ":return"))),
               len(lines))
    first = "\n".join(lines[:cut]).strip()
    if not first or first.splitlines()[0].strip() in snippet:
        return ""
    text = " ".join(first.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One hit. Lines are 1-based and inclusive; ``path`` is relative to ``root`` (when several
    repositories are searched as one, it starts with ``repo/``; ``local_path`` drops that).

    ``stale`` means the file changed after indexing: lines and code are re-read from
    the current file, while the score still comes from the indexed version.
    """

    rank: int
    score: float
    key: str
    path: str
    root: str
    language: str
    kind: str
    name: str
    qualname: str
    signature: str
    doc: str
    code: str
    start_line: int
    end_line: int
    stale: bool = False
    scores: dict[str, float] = field(default_factory=dict)
    content_hash: str = ""
    chunk_id: int = -1  # the chunk's id in this index (its FAISS id)
    duplicates: tuple[str, ...] = ()  # "path:line" of identical chunks elsewhere (folded into this one)
    similar: tuple[str, ...] = ()  # "path:line" of near-copies elsewhere: same name, nearly the same vector
    # "path:line" of its declarations without a body in its file, folded into it: TypeScript's overload signatures
    # (`function f(a: A): R;` above the one with the body: rxjs's `mergeMap` took four of the first six results with
    # three of them), a Swift protocol's requirement beside its default implementation
    declarations: tuple[str, ...] = ()
    repo: str = ""  # when several repositories are searched: the name ``path`` starts with
    part: bool = False  # a window of a longer definition: its lines are a part of the definition it names
    definition_lines: tuple[int, int] | None = None  # a part's whole definition, first and last line, as indexed
    line: int = 0  # for a query that is a name or one word: the hit's first line where it stands alone (0: none)
    # an outline's members that the search found too, best first: (qualified name, first line, last line)
    members: tuple[tuple[str, int, int], ...] = ()

    @property
    def outline(self) -> bool:
        """Whether ``code`` is an outline of its lines, not their text: a class's or module's members with their
        bodies left out (``...``), as the index embeds it; the file holds the text. (A function's code is its text,
        its first ``STORED_CODE_CHARS`` characters when longer: rocksdb's 180-line ``Version::Get`` was called a
        "method outline".) A body left out ends its line with `` ...`` (C#'s `=> x * 2;` with `` ...;``): a body of one
        line leaves as many lines (mustermann's `TemplateGenerator`, `def self.generate_templates(ast)` / `...` /
        `end`, was shown as text), and a class's docstring, given apart as its ``doc``, takes lines out of a class that
        leaves nothing out."""
        if self.kind not in CONTAINER_KINDS:
            return False
        return _ELIDED.search(self.code) is not None or (
            " ..." in self.code and self.code.count("\n") != self.end_line - self.start_line)

    @property
    def code_cut(self) -> bool:
        """Whether ``code`` stops before the definition does: the index keeps a chunk's first ``STORED_CODE_CHARS``
        characters (nats-server's `client.parse`, lines 134-1215, came back as 195 lines without a word)."""
        return not self.outline and stops_early(self.code, self.start_line, self.end_line)

    @property
    def local_path(self) -> str:
        """The path relative to ``root`` (``path`` without the repository's name)."""
        return self.path[len(self.repo) + 1:] if self.repo else self.path

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


def placed(repo: str, path: str) -> str:
    """A repo-relative path as results show it: under the repository's name when several are searched."""
    return f"{repo}/{path}" if repo else path


def result_of(row: dict[str, Any], rank: int, root: str, repo: str, stale: bool,
              scores: dict[str, float], path: str | None = None) -> SearchResult:
    """The result for a chunk's (current) row; ``score`` is its vector score until ``finish`` fills it in.

    ``path``: the file's path under ``root`` when it is not the row's (a pack's ``NAME/PATH``: ``PATH``).

    A window of a long definition (``indexer.chunk.window_chunks``) reads as that definition
    (its key, name and qualified name) with the window's lines and code.
    """
    key = definition_key(row["key"])
    if path is not None and key.startswith(row["path"]):  # a pack's key starts with its NAME/PATH too
        key = path + key[len(row["path"]):]
    return SearchResult(
        rank=rank,
        score=scores.get("static", 0.0),
        key=key,
        path=placed(repo, row["path"] if path is None else path),
        root=root,
        language=row["language"],
        kind=row["kind"],
        name=definition_name(row["name"]),
        qualname=definition_name(row["qualname"]),
        signature=row["signature"],
        doc=row["doc"],
        code=code_of(row),
        start_line=row["start_line"],
        end_line=row["end_line"],
        stale=stale,
        scores=scores,
        content_hash=row["content_hash"],
        chunk_id=int(row["id"]),
        repo=repo,
        part=is_window(row["key"]),
    )


def with_duplicates(result: SearchResult, places: Iterable[str]) -> SearchResult:
    """``result`` with the places (``path:line``) of identical chunks added to its ``duplicates``,
    leaving out its own place and those already listed."""
    listed = set(result.duplicates) | {f"{result.path}:{result.start_line}"}
    extra = [place for place in places if place not in listed]
    return replace(result, duplicates=(*result.duplicates, *extra)) if extra else result


def with_line(result: SearchResult, pattern: re.Pattern[str], shown: int = 0) -> SearchResult:
    """``result`` with ``line`` set to its first line where ``pattern`` (the query's name) matches, as rg -w
    lists it (sds's `SDS_MAX_PREALLOC`: line 36 of the chunk at 1-43, whose first lines are a licence). Only
    for code that is its lines as they are: a class's outline leaves its members' bodies out, and counting its
    lines put scopt's `intRead` at line 46 of Read.scala, not 52. Among its first ``shown`` lines, which a text
    snippet shows, only below its first line and not in its doc (a pasted message found in a docstring: the
    definition's line says more; found in the code, as `return nil, "maximum redirects exceeded"` on a method's
    fourth line, an agent's three-line snippet stopped above it)."""
    if result.outline:
        return result
    found = None
    if pattern.flags & re.IGNORECASE:  # a lowercase word: where it is written so first (libgit2's `free`, not
        found = _in_code(_exact_case(pattern.pattern), result.code)  # the comment `/* Free the subtransport */`)
    found = found or _in_code(pattern, result.code)
    if found is None:
        return result
    below = result.code.count("\n", 0, found.start())
    if below < shown and (below == 0 or _doc_line(result, below)):
        return result
    return replace(result, line=result.start_line + below)


def _doc_line(result: SearchResult, below: int) -> bool:
    """Whether line ``below`` of a hit (0: its first) is a line of its doc comment or docstring."""
    line = result.code.split("\n", below + 1)[below]
    text = line.strip().strip("\"'`/*#;!-").strip()
    return bool(text) and text in result.doc


# A line that is a comment: not a C preprocessor line (`#define SDS_MAX_PREALLOC`), nor a pointer's `*p = f()`.
_COMMENT_LINE = re.compile(r"\s*(?:#(?!\s*(?:define|undef|include|ifn?def|if|elif|else|endif|pragma|error|line|import)"
                           r"\b)|//|/\*|\*(?=\s|/|$)|--|;)")
_TRAILING_COMMENT = re.compile(r"//|/\*|\s#(?!\{)")  # after code on its line (`x = 0; /* calls f */`), not `#{x}`


def _in_code(pattern: re.Pattern[str], code: str) -> re.Match[str] | None:
    """The first match of ``pattern`` in code, not in a comment (a whole line's, or one after code on its line),
    else the first match: faraday's `# uncomment to trigger stubs.verify_stubbed_calls failure` took the `line`
    of a test that calls it below."""
    first = None
    for found in pattern.finditer(code):
        start = code.rfind("\n", 0, found.start()) + 1
        if not _COMMENT_LINE.match(code, start) and not _TRAILING_COMMENT.search(code, start, found.start()):
            return found
        first = first or found
    return first


def best_lines(query: str, results: Sequence[SearchResult]) -> list[SearchResult]:
    """``results`` as shown for ``query``: for a question in words, a window's or code's line that holds most of
    them (``with_best_line``), where its snippet starts and ``--format grep`` points. Done when results are
    presented (the CLI, the resident process, MCP), not by the search: a search's callers that show no snippet
    (benchmarks, ``related``) do not pay for it (0.3 ms of a 3 ms search on ansible-core)."""
    stems = _question_stems(query)
    return list(results) if stems is None else [with_best_line(r, stems) for r in results]


@lru_cache(maxsize=64)
def _question_stems(query: str) -> frozenset[str] | None:
    """The stems of a question in words (None for a name or a path): analysed once for a search's hits and its
    files' hits alike."""
    from codesearch.query import NATURAL, analyse

    info = analyse(query)
    return info.stems if info.kind == NATURAL else None


def with_best_line(result: SearchResult, stems: frozenset[str]) -> SearchResult:
    """``result`` with ``line`` set to its line that holds the most of the query's words (``stems``), at least
    two, the first of equals: for a window of a long definition or code between definitions, whose first lines
    are no signature (an agent's window of `_build_redirect_request` showed lines 38-49, and the line asked about,
    `del redirect_request.headers["Cookie"]`, was 53). A definition shows its head, unless it is longer than
    ``LONG_DEFINITION_LINES`` and holds more of the words far below it (an agent's "parse rounds= parameter in
    sha512 crypt" got `crypt_sha512crypt_rn`, lines 84-312, as its signature and an `ERANGE` check, the rounds
    parsed at line 122)."""
    if result.outline or result.line or len(stems) < 2:
        return result
    code = result.code
    whole = not (result.part or result.kind == "code")
    if code.count("\n") < (LONG_DEFINITION_LINES if whole else BEST_LINE_AFTER):  # a snippet shows it (or its head)
        return result
    from codesearch.terms import terms

    seen: dict[int, set[str]] = {}  # a line -> the stems found in it (as written: a stem starts a word)
    line, last = 0, 0
    for match in _stems_in(stems).finditer(code):
        line += code.count("\n", last, match.start())
        last = match.start()
        seen.setdefault(line, set()).add(match.group().lower())
    best, at = 1, -1
    lines = None
    opening = licence_head(code) if result.kind == "code" and result.start_line == 1 else 0  # shown after it
    if whole:
        opening = BEST_LINE_AFTER - 1  # a definition's head is shown: a line below it
    for n in sorted(n for n, found in seen.items() if len(found) > best and n > opening):
        lines = lines or code.split("\n")
        if (found := len(stems.intersection(terms(lines[n])))) > best:
            best, at = found, n
    if whole and lines is not None and at >= 0 and stems.intersection(terms(lines[at])) <= stems.intersection(
            terms("\n".join(lines[:BEST_LINE_AFTER]))):
        return result  # its head says the words of that line: a definition's head is shown
    return replace(result, line=result.start_line + at) if at >= 0 else result


LONG_DEFINITION_LINES = 40  # a whole definition this long may be shown at its best line (``with_best_line``)
BEST_LINE_AFTER = 8  # lines of a hit that any snippet shows (``render.SNIPPET_LINES``): no line is looked for in them


@lru_cache(maxsize=64)
def _stems_in(stems: frozenset[str]) -> re.Pattern[str]:
    """What a line holding one of ``stems`` must contain (a stem is a word's start, in any case): the lines
    without any are not split into terms."""
    return re.compile("|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True)), re.IGNORECASE)


@lru_cache(maxsize=256)
def _exact_case(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def clipped(score: float) -> float:
    """A cosine similarity as results show it: clipped to [0, 1]."""
    return min(1.0, max(0.0, score))


def as_checked(row: dict[str, Any], check: FileCheck) -> tuple[dict[str, Any] | None, bool]:
    """A chunk's row as its file is now, given the file's check (``None``: gone), and whether it changed."""
    if check.status == GONE:
        return None, False
    if check.status != CHANGED:
        return row, False
    current = check.chunks.get(row["key"])
    if current is None:
        current = window_at(row, check.chunks.values()) if check.windowed else renamed(row, check.chunks.values())
        if current is None:
            return None, True  # the symbol is no longer in the file
        row = dict(row, key=current.key, name=current.name, qualname=current.qualname, kind=current.kind.value)
    row = dict(row, start_line=current.start_line, end_line=current.end_line, code=display_code(current),
               signature=current.signature, doc=current.doc, content_hash=current.content_hash)
    return row, True


def window_at(row: dict[str, Any], windows: Iterable[Chunk]) -> Chunk | None:
    """The line window of a changed file its grammar refused (``FileCheck.windowed``) that holds the hit's
    first line, or the file's last window when the file got shorter than that."""
    last = None
    for window in windows:
        if window.start_line <= row["start_line"] <= window.end_line:
            return window
        last = window
    return last


def renamed(row: dict[str, Any], chunks: Iterable[Chunk]) -> Chunk | None:
    """The definition of a changed file that ``row``'s became under another name: of its kind, its code the old
    code with the old name written as the new one, or its documentation the same (plug's `etag_for_path`
    renamed `compute_strong_etag`: the hit was dropped, and a search found the function again only after
    `codesearch index`). None for the code between definitions, a window, or no such definition."""
    old_name = str(row["name"])
    if row["kind"] == "code" or is_window(old_name):
        return None
    old_code, doc = code_of(row), str(row.get("doc") or "")
    for chunk in chunks:
        if chunk.kind.value != row["kind"] or chunk.window or chunk.name == old_name:
            continue
        code = display_code(chunk)
        # every use of the old name renamed, or its first only (the definition's own: tmux's `window_pane_resize`
        # declares a `struct window_pane_resize`, which a rename of the function left as it was)
        if (doc and chunk.doc == doc) or code in (old_code.replace(old_name, chunk.name),
                                                  old_code.replace(old_name, chunk.name, 1)):
            return chunk
    return None
