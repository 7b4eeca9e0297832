"""Formatters for search results and index reports: text, json and grep-style.

Paths, names and code come from the repository, which is untrusted: an escape sequence
in a file name or a string literal must not reach the terminal, a line separator
(a newline, or one of those ``str.splitlines`` and many editors also honour: U+2028,
U+0085, \\x0b ...) in a name must not forge a second line of grep output, and a bidi
override must not make code display differently from what it is. Every human-readable
output therefore goes through ``clean`` (code: newlines and tabs kept), ``one_line``
(names, messages) or ``quote_path`` (git-style quoting of odd paths), which show every
such character escaped (``\\x1b``, ``\\u202e``). JSON needs none of them: ``json.dumps``
escapes control characters itself, and a JSON reader gets the text as it is.

The results are printed in rank order; the number shown with each is its rank, as the
ranking (fusion, code-aware signals, per-file diversity, rerank) decided it. The cosine
similarity of query and chunk does not order them and is shown by ``--explain`` (and is
``score`` in JSON).
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from codesearch.search import SearchResult
from codesearch.search.files import FileHits, hits_of, names_a_hit
from codesearch.search.results import doc_outside, snippet_of, snippet_skip, whole_lines
from indexer.languages import TEXT_LANGUAGE

if TYPE_CHECKING:
    from codesearch.pipeline import IndexReport
    from codesearch.related import Source

SNIPPET_LINES = 8
SKIPPED_SHOWN = 20
DUPLICATES_SHOWN = 3
DOC_LINE_CHARS = 100  # of the first paragraph of a doc comment above the code, shown over its snippet
# Below this best similarity every hit is a weak match: said once, instead of presenting noise
# as answers. Measured on the dev sets by benchmarks/calibrate_weak.py (results-weak.json): the
# highest threshold that flags at most 5% of queries answered in the top 10 (4.3%), while it
# flags 65% of the same queries asked of a repository that lacks the code (0.30 flagged 44%).
# Re-measured for each shipped model (0.37 for the one before the twelve later languages).
WEAK_SIMILARITY = 0.38

# What no human-readable output shows raw: the C0 controls, DEL and the C1 controls (0x9b is a
# one-byte CSI on some terminals; 0x0b, 0x0c, 0x1c-0x1e and 0x85 also end a line for
# ``str.splitlines``), the line and paragraph separators U+2028/U+2029, the invisible format
# characters of Unicode category Cf (bidi embeddings, overrides and isolates U+202A-U+202E and
# U+2066-U+2069, zero-width characters, the byte order mark, tag characters), the other default-ignorable
# code points, which render as nothing though they are letters or marks (Hangul fillers U+115F, U+1160,
# U+3164, U+FFA0; variation selectors U+FE00-U+FE0F, U+E0100-U+E01EF; U+034F, U+17B4, U+17B5, U+180B-U+180F:
# `isAdmin\u3164` looked like `isAdmin`), the blank Braille pattern U+2800, and lone surrogates (an
# undecodable file name), which a terminal cannot print at all.
# tests/test_output.py checks this list against ``unicodedata``.
_INVISIBLE = ("\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5"
              "\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\u2800\u3164\ufe00-\ufe0f"
              "\ufeff\uffa0\ufff0-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
              "\U0001d173-\U0001d17a\U000e0000-\U000e0fff\ud800-\udfff")
_UNSAFE_CODE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE}]")  # code: keep lines and tabs
_UNSAFE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}]")
_UNSAFE_PATH = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}\"\\\\]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _escaped(match: re.Match[str]) -> str:
    """A character as a visible escape: ``\\n``, ``\\x1b``, ``\\u202e`` or ``\\U000e0041``."""
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


NAME_CHARS = 200  # a longer name is cut in the text and grep formats (a 400,000-character identifier)


def _name(qualname: str) -> str:
    """A qualified name on one line, cut at ``NAME_CHARS`` with how much is left out."""
    if len(qualname) <= NAME_CHARS:
        return one_line(qualname)
    return f"{one_line(qualname[:NAME_CHARS])}… ({len(qualname) - NAME_CHARS:,} more characters)"


def clean(text: str) -> str:
    """Code with every unsafe character (see ``_INVISIBLE``) made visible (``\\x1b``); newlines and tabs kept."""
    return _UNSAFE_CODE.sub(_escaped, text)


def one_line(text: str) -> str:
    """Text on one line with every unsafe character, newline included, made visible."""
    return _UNSAFE_LINE.sub(_escaped, text)


def quote_path(path: str) -> str:
    """A path as git prints it: unchanged if plain, else in double quotes with C-style escapes."""
    quoted = _UNSAFE_PATH.sub(_escaped, path)
    return quoted if quoted == path else f'"{quoted}"'


def display_path(result: SearchResult) -> str:
    """The result's file relative to the working directory when that is shorter."""
    return shown_path(result.root, result.local_path)


def shown_path(root: str, path: str) -> str:
    """``path`` (under ``root``) relative to the working directory when that is shorter, else absolute."""
    absolute = os.path.join(root, path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:
        return absolute
    return relative if len(relative) < len(absolute) else absolute


def shown_place(root: str, place: str, repo: str = "") -> str:
    """A ``path:line`` of the index (under ``root``; starting ``repo/`` when several repositories are searched as
    one) as a hit's path is shown (``shown_path``): a near-copy's place printed from a subdirectory named a path
    from the repository's root beside hits named from the working directory."""
    path, sep, line = place.rpartition(":")
    if not sep or (repo and not path.startswith(repo + "/")):
        return place
    return f"{shown_path(root, path[len(repo) + 1:] if repo else path)}:{line}"


def to_grep(results: Sequence[SearchResult], explain: bool = False) -> str:
    """``path:line: qualname  [#rank]`` lines, one per result, the format editors and agents jump to
    (stale hits and folded duplicates marked; ``explain`` appends the similarity and each stage's score)."""
    lines = []
    for r in results:
        part = " (part)" if r.part else ""  # a window of a longer definition
        line = f"{quote_path(display_path(r))}:{r.line or r.start_line}: {_name(r.qualname)}{part}  [#{r.rank}]"
        if r.stale:
            line += "  (stale)"
        if r.duplicates:
            line += f"  (+{len(r.duplicates)} identical)"
        if r.similar:
            line += f"  (+{len(r.similar)} near-copies)"
        if r.declarations:
            line += f"  (+{len(r.declarations)} declarations)"
        if explain:
            line += "  " + _stages(r)
        lines.append(line)
    return "\n".join(lines)


def _stages(result: SearchResult) -> str:
    """The similarity (``score``), then each stage's score; ``rank`` is the score that ordered the results."""
    stages = ", ".join(f"{one_line(name)} {value:.3f}" for name, value in result.scores.items())
    return f"similarity {result.score:.3f}; stages: {stages}"


# Version of the JSON that `search --json` and `--format jsonl` print (codesearch/schema/search.schema.json).
# Bump on any change that removes or renames a field or changes its meaning; adding a field does not.
JSON_SCHEMA_VERSION = 1


def result_dict(result: SearchResult, max_lines: int | None = None) -> dict[str, Any]:
    """A result as JSON data, its code cut to ``max_lines`` lines when given."""
    data = result.to_dict()
    if result.outline:
        data["outline"] = True  # ``code`` leaves its members' bodies out: not the file's text
    data["duplicates"] = list(data["duplicates"])
    data["similar"] = list(data["similar"])
    data["declarations"] = list(data["declarations"])
    data["members"] = members_of(result)
    lines = data.pop("definition_lines")
    if lines is not None:  # a part's whole definition: the lines to read for all of it
        data["definition_start_line"], data["definition_end_line"] = lines
    if result.code_cut:  # the stored code stops before the definition does: the rest is in the file
        data["code_cut"] = True
    if max_lines is not None:
        data["code"] = "\n".join(result.code.split("\n")[:max_lines])
    return data


def to_json(query: str, results: Sequence[SearchResult], max_lines: int | None = None, **extra: Any) -> str:
    """One JSON document: the schema version, the query, any extra fields, and the results."""
    return json.dumps({"schema_version": JSON_SCHEMA_VERSION, "query": query, **extra,
                       "results": [result_dict(r, max_lines) for r in results]}, indent=2)


def files_to_json(query: str, groups: Sequence[FileHits], max_lines: int | None = None, **extra: Any) -> str:
    """One JSON document of results grouped by file: the schema version, the query, any extra fields, and
    ``files``, each with its rank, path, root, score (its best hit's) and ``hits`` (results, as ``results``)."""
    return json.dumps({"schema_version": JSON_SCHEMA_VERSION, "query": query, **extra,
                       "files": [g.to_dict(lambda r: result_dict(r, max_lines)) for g in groups]}, indent=2)


def to_jsonl(results: Sequence[SearchResult], max_lines: int | None = None) -> list[str]:
    """One JSON line per result (each with the schema version)."""
    return [json.dumps({"schema_version": JSON_SCHEMA_VERSION, **result_dict(r, max_lines)}) for r in results]


def files_to_jsonl(groups: Sequence[FileHits], max_lines: int | None = None) -> list[str]:
    """One JSON line per file of results grouped by file (each with the schema version)."""
    return [json.dumps({"schema_version": JSON_SCHEMA_VERSION, **g.to_dict(lambda r: result_dict(r, max_lines))})
            for g in groups]


def to_text(
    results: Sequence[SearchResult], color: bool = False, snippet_lines: int = SNIPPET_LINES, explain: bool = False,
    best: float | None = None,
) -> str:
    """Human-readable results: rank, location, name and a code snippet; ``explain`` adds the similarity
    and the stage scores. ``best``: the similarity that tells a weak answer (default: the best of ``results``)."""
    if not results:
        return "No results."
    blocks = _weak(results, color, best)
    for r in results:
        location = f"{quote_path(display_path(r))}:{r.start_line}-{r.end_line}"
        head = f"{r.rank:>2}. {_style(location, 'cyan', color)}  " + _described(r, color, explain, "      ")
        blocks.append(f"{head}\n{_snippet(r, color, snippet_lines, '      ')}")
    return "\n\n".join(blocks)


def files_to_text(groups: Sequence[FileHits], color: bool = False, snippet_lines: int = SNIPPET_LINES,
                  explain: bool = False, best: float | None = None) -> str:
    """Results grouped by file, as rg prints them: each file's rank and path once, then its chunks
    (lines, name and snippet)."""
    if not groups:
        return "No results."
    blocks = _weak(hits_of(groups), color, best)
    for group in groups:
        parts = [f"{group.rank:>2}. {_style(quote_path(display_path(group.hits[0])), 'cyan', color)}"]
        for r in group.hits:
            lines = _style(f"{r.start_line}-{r.end_line}", "cyan", color)
            parts.append(f"    {lines}  " + _described(r, color, explain, "        ") + "\n"
                         + _snippet(r, color, snippet_lines, "        "))
        blocks.append("\n".join(parts))
    return "\n\n".join(blocks)


def weak_note(best: float) -> str:
    """What JSON and MCP answers say (``note``) when every hit is weak: ``best`` below ``WEAK_SIMILARITY``."""
    return f"weak matches only (best similarity {best:.2f}): the code may not be here; try other words, or a name"


def weak_answer(query: str, results: Sequence[SearchResult], best: float | None = None) -> str:
    """``weak_note`` for an answer whose every hit is weak (``best``: ``files.Answer.best``; default: the best of
    ``results``), unless a hit is named as the query is (``files.names_a_hit``); "" otherwise and for no hits. The
    one decision of the CLI's and the resident process's JSON, MCP answers and Ray serve's."""
    if not results:
        return ""
    best = max(r.score for r in results) if best is None else best
    return weak_note(best) if best < WEAK_SIMILARITY and not names_a_hit(query, results) else ""


def _weak(results: Sequence[SearchResult], color: bool, best: float | None = None) -> list[str]:
    """The one-line warning when every hit is a weak match (else nothing): ``best`` (default: the best similarity
    of ``results``) is below ``WEAK_SIMILARITY``."""
    best = max(r.score for r in results) if best is None else best
    if best >= WEAK_SIMILARITY:
        return []
    return [_style(f"Weak matches only (best similarity {best:.2f}); try other words.", "yellow", color)]


def _described(r: SearchResult, color: bool, explain: bool, indent: str) -> str:
    """A hit's name, kind and language, then its notes (stale, identical and near copies, stage scores)."""
    kind = f"part of a {r.kind}" if r.part else f"{r.kind} outline" if r.outline else r.kind  # a window; members
    head = f"{_style(_name(r.qualname), 'bold', color)}  {_style(one_line(f'{kind}, {r.language}'), 'dim', color)}"
    if r.stale:
        head += _style("  (file changed since indexing; run `codesearch index`)", "yellow", color)
    for places, what in ((r.duplicates, "identical"), (r.similar, "near-copies"), (r.declarations, "declarations")):
        if places and what == "declarations" and all(p.startswith(f"{r.path}:") for p in places):
            lines = ", ".join(p[len(r.path) + 1:] for p in places)  # in its own file: their lines
            head += f"\n{indent}" + _style(f"+{len(places)} {what} at lines {one_line(lines)}", "dim", color)
        elif places:
            shown = ", ".join(quote_path(shown_place(r.root, d, r.repo)) for d in places[:DUPLICATES_SHOWN])
            more = f" and {len(places) - DUPLICATES_SHOWN} more" if len(places) > DUPLICATES_SHOWN else ""
            head += f"\n{indent}" + _style(f"+{len(places)} {what} at {shown}{more}", "dim", color)
    if r.members:
        head += f"\n{indent}" + _style(one_line(_members(r)), "dim", color)
    if explain:
        head += f"\n{indent}" + _style(_stages(r), "dim", color)
    return head


def members_of(result: SearchResult) -> list[dict[str, Any]]:
    """An outline's members that the search found too (``SearchResult.members``), as JSON data."""
    return [{"qualname": qualname, "start_line": start, "end_line": end} for qualname, start, end in result.members]


def _members(r: SearchResult) -> str:
    """``members that match: load 97-120, parse 130-170``: an outline's members the search found too, named
    within the outline's own name."""
    prefix = r.qualname + "."
    shown = ", ".join(f"{_name(q[len(prefix):] if q.startswith(prefix) else q)} {start}-{end}"
                      for q, start, end in r.members)
    return f"members that match: {shown}"


def _snippet(r: SearchResult, color: bool, snippet_lines: int, indent: str) -> str:
    """The hit's first ``snippet_lines`` lines of code, cleaned, indented (and highlighted), after the first
    paragraph of its doc comment when that stands above the code (``doc: ...``, one line)."""
    skip = snippet_skip(r, snippet_lines)
    lines, more = snippet_of(textwrap.dedent(clean(whole_lines(r).replace("\r\n", "\n"))), snippet_lines, skip)
    doc = doc_outside(clean(r.doc), "\n".join(lines), DOC_LINE_CHARS) if snippet_lines > 1 else ""  # 1: code only
    doc = indent + _style(f"doc: {doc}", "dim", color) + "\n" if doc else ""
    # A snippet that starts below the hit's first line says from which (a new user read `api.go:547-712` and its
    # snippet of the call asked about, and had to count to find line 583).
    head = f"... (from line {r.start_line + skip})\n" if skip else ""
    snippet = head + "\n".join(lines) + ("\n..." if more else "")
    if r.code_cut and not more:
        last = r.start_line + whole_lines(r).count("\n")
        snippet += (f"\n... (the index keeps its first {len(r.code):,} characters: lines {last + 1}-{r.end_line} "
                    "are in the file)")
    snippet = _highlight(snippet, r.language) if color else snippet
    return doc + "\n".join(indent + line for line in snippet.splitlines())


def related_header(source: Source, root: str = "") -> str:
    """The line ``related`` prints above its results: the definition it started from, its path as the results'
    are shown (relative to the working directory when that is shorter; ``root``: the repository's)."""
    copies = "".join(f"; identical at {quote_path(shown_place(root, place) if root else place)}"
                     for place in source.copies[:3])
    if len(source.copies) > 3:
        copies += f" and {len(source.copies) - 3} more"
    path = shown_path(root, source.path) if root else source.path
    return (f"Related to {one_line(source.kind)} {one_line(source.qualname)} "
            f"({quote_path(path)}:{source.start_line}-{source.end_line}{copies}):")


def deleted_untrusted(report: IndexReport) -> list[str]:
    """What an index run deleted as not this user's own (an index, a database journal), a sentence each: the CLI's
    summary and the MCP server's ``index_status`` say it."""
    lines = []
    if report.replaced_untrusted:
        lines.append("The index there was not built by you for this place (shipped with the repository, a copy of "
                     "another of your indexes, or older than index ids); it was deleted and rebuilt from scratch.")
    if report.removed_journals:
        lines.append(f"A database journal beside the index ({', '.join(report.removed_journals)}) was not left by your "
                     "last run there (a repository can ship one to change your index); it was deleted before it could "
                     "be applied.")
    return lines


def index_report(report: IndexReport, wall_seconds: float) -> str:
    """The summary of an indexing run, for people (the wall time; the per-stage split is in --json)."""
    lines = [f"Indexed {_count(report.files, 'file')}, {_count(report.chunks_total, 'chunk')} in {wall_seconds:.2f}s "
             f"({_count(report.files_parsed, 'file')} parsed, "
             f"{_count(report.files_removed, 'file') + ' removed, ' if report.files_removed else ''}"
             f"+{report.chunks_added} -{report.chunks_removed} chunks"
             f"{'' if report.changed else ', no changes'})"]
    if report.moved_from:
        lines.append(f"The repository moved from {quote_path(report.moved_from)}; the index follows it.")
    if report.guarded:
        lines.append("Parsed in a worker process: the last run stopped while parsing, or a file stopped its worker; "
                     "a file that crashes or hangs the parser is skipped with its reason.")
    lines += deleted_untrusted(report)
    lines += [_language_line(language, files, report.chunks_by_language.get(language, 0))
              for language, files in _by_language(report.files_by_language, report.chunks_by_language)]
    if report.files_without_grammar:
        lines.append(without_grammar(report.files_without_grammar))
    if report.unsupported:
        lines.append("Unsupported (not indexed): " + ", ".join(
            f"{one_line(ext)} {n} file{'s' if n != 1 else ''}" for ext, n in sorted(report.unsupported.items())))
    lines += _reasons("Indexed as line windows, their grammar refusing them,", list(report.windowed.items()),
                      "codesearch index --json")
    lines += _reasons("Skipped", [(item.path, item.reason) for item in report.skipped], "codesearch stats --json")
    lines.append(f"Index: {quote_path(report.index_dir)}")
    return "\n".join(lines)


def _by_language(files: dict[str, int], chunks: dict[str, int]) -> list[tuple[str, int]]:
    """Each language with its files, in the order of the chunks' table, then those with files and no chunk (a
    file of closing brackets)."""
    return [(language, files.get(language, 0)) for language in dict.fromkeys([*chunks, *files])]


def _language_line(language: str, files: int, chunks: int) -> str:
    """A language's row in the index report and in ``stats``: ``  python   3 files   20 chunks``."""
    return (f"  {one_line(language):<11} {files:>6} {'file ' if files == 1 else 'files'} {chunks:>8} "
            f"{'chunk' if chunks == 1 else 'chunks'}")


def _count(n: int, noun: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _reasons(title: str, items: list[tuple[str, str]], more: str) -> list[str]:
    """``title`` and the count, then a line per file (path: reason), the first ``SKIPPED_SHOWN`` of them."""
    if not items:
        return []
    lines = [f"{title} {len(items)}:"]
    lines.extend(f"  {quote_path(path)}: {one_line(reason)}" for path, reason in items[:SKIPPED_SHOWN])
    if len(items) > SKIPPED_SHOWN:
        lines.append(f"  ... and {len(items) - SKIPPED_SHOWN} more (see `{more}`)")
    return lines


def without_grammar(files: int) -> str:
    """The report line on files indexed as line windows (language ``text``)."""
    return (f"{files} file{'s' if files != 1 else ''} indexed without a grammar "
            f"(as line windows; `--language {TEXT_LANGUAGE}` finds them)")


def byte_size(n: int) -> str:
    """A size for people: ``812 B``, ``9.5 kB``, ``14.2 MB``, ``3.1 GB`` (powers of 1000)."""
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n} B"


def stats_text(info: dict[str, Any]) -> str:
    """``codesearch stats`` for people (``info`` is what ``--json`` prints)."""
    lines = [f"Index:   {quote_path(info['index_dir'])}", f"Root:    {quote_path(info['root'])}",
             f"Model:   {one_line(info['model_fingerprint'])} (dim {info['dim']})"
             + (f"; {one_line(info['out_of_date'])}" if info.get("out_of_date") else ""),
             f"Updated: {one_line(info['updated_at'])}", f"Files:   {info['files']}", f"Chunks:  {info['chunks']}"]
    lines += [_language_line(str(language), files, info["chunks_by_language"].get(language, 0))
              for language, files in _by_language(info["files_by_language"], info["chunks_by_language"])]
    lines.append("Kinds:   " + (", ".join(f"{one_line(str(k))} {v}" for k, v in info["chunks_by_kind"].items())
                                or "none"))
    if info.get("files_without_grammar"):
        lines.append(without_grammar(info["files_without_grammar"]))
    if info.get("unsupported"):
        lines.append("Unsupported: " + ", ".join(f"{one_line(ext)} {n}" for ext, n in sorted(info["unsupported"].items())))
    if info["skipped"]:
        lines.append(f"Skipped: {len(info['skipped'])} (see --json)")
    if disk := info.get("disk"):
        ratio = disk["ratio_to_source"]  # None: no source indexed (an empty repository)
        lines.append(f"Disk:    {byte_size(disk['index_bytes'])}, "
                     + (f"{ratio:.2f}x the " if ratio is not None else "for the ")
                     + f"{byte_size(disk['source_bytes'])} of source indexed (database "
                     f"{byte_size(disk['database_bytes'])}, vectors {byte_size(disk['vector_bytes'])}, "
                     f"lexical {byte_size(disk['lexical_bytes'])})")
    from codesearch.resident import unindexed_line

    if changed := unindexed_line(info):  # files added or deleted since the last index run
        lines.append(changed)
    return "\n".join(lines)


def _style(text: str, style: str, color: bool) -> str:
    if not color or not text:
        return text
    codes = {"bold": "1", "dim": "2", "cyan": "36", "yellow": "33"}
    return f"\033[{codes[style]}m{text}\033[0m"


def _highlight(code: str, language: str) -> str:
    try:
        from pygments import highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import get_lexer_by_name
    except ImportError:
        return code
    # startinline lets the PHP lexer read a snippet without "<?php"; other lexers ignore it.
    lexer = get_lexer_by_name(language, startinline=True)
    return highlight(code, lexer, TerminalFormatter()).rstrip("\n")


def index_many_report(report: Any) -> str:
    """The summary of an ``index-many`` run (an ``IndexManyReport``), for people."""
    done = [r for r in report.repos if r.status == "indexed"]
    seconds = report.seconds
    lines = [f"Indexed {len(done)} of {len(report.repos)} repositories: {sum(r.files for r in done)} files, "
             f"{sum(r.chunks for r in done)} chunks in {seconds.get('total', seconds.get('index', 0.0)):.1f}s "
             f"(Ray start-up {seconds.get('connect', 0.0):.1f}s, indexing {seconds.get('index', 0.0):.1f}s; "
             f"{sum(r.changed for r in done)} changed)"]
    packed = [r for r in report.repos if r.packed]
    if packed:
        lines.append(f"  {len(packed)} small repositories share {len({r.index for r in packed})} pack(s)")
    for r in report.repos:
        if r.status != "indexed":
            lines.append(f"  FAILED {quote_path(r.name)} ({quote_path(r.root)}): {one_line(r.error)}")
    lines.append(f"Workspace: {quote_path(report.workspace)}  "
                 f"(search it: codesearch search QUERY --workspace {quote_path(report.workspace)})")
    return "\n".join(lines)
