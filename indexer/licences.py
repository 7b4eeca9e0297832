"""Comments in any registry language, paragraph by paragraph, and the paragraphs that are licences.

A file usually opens with comments: its licence, often its description too, sometimes both in one
docblock (PHP's and Java's `/** Checks for unused function parameters. ... @copyright ... @license */`).
A licence says nothing about what the code does, and it is long: in the text a static model embeds it
outweighs the description (PHP_CodeSniffer's UnusedFunctionParameterSniff.php opening: cosine 0.21 with
"warn about function arguments that are never used in the body" as embedded with its licence, 0.25 without,
0.42 for its description alone). The code between definitions is embedded and counted without them
(``indexer.chunk``), and a file's opening is documented by what its other paragraphs say (``comment_words``).

Comments are found by line (``_COMMENT_LINE``: `//`, `//!`, `/*`, ` * `, `#`, `--`, `;`, `%`, a
docstring's quotes), a block comment's or docstring's inner lines up to its closing mark; consecutive
comment lines make a block, and a line with no text in it ends a paragraph. A paragraph is a licence
when it says one of the words of ``_LICENCE`` (a notice that the file is part of a package, or its
authors, counts as one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# A comment line and what it says: not a preprocessor directive (`#include`, `#pragma`, C#'s `#region`), a
# shebang or a Rust attribute (`#![allow(...)]`).
_COMMENT_LINE = re.compile(
    r"^\s*(?://+!?|/\*+!?|\*+/?|--+|;+|%+|\"\"\"|\'\'\'|\{-"
    r"|#(?![!\[]|\s*(?:include|import|define|undef|if|ifdef|ifndef|elif|else|endif|pragma|error|warning|line"
    r"|region|endregion|nullable)\b)#*)\s?(.*)$")
_LICENCE = re.compile(r"copyright|licen[cs]e|spdx|warrant|permission is hereby|all rights reserved|\(c\)"
                      r"|this (?:file|program|library|software) is (?:a )?part of|@author", re.I)
_WORD = re.compile(r"[A-Za-z]{2,}")
_BLOCK_CLOSERS = {"/*": "*/", '"""': '"""', "'''": "'''", "--[[": "]]", "{-": "-}"}  # a block comment's end
_BARE = re.compile(r"^[\s*/#;%!\-\"'{}]*$")  # a comment line with no text: a paragraph's end


def paragraphs(code: str) -> Iterator[list[tuple[int, str]]]:
    """The paragraphs of ``code``'s comments, each as its lines: (line number from 0, the text the line says)."""
    block: list[tuple[int, str]] = []
    closing = ""
    for number, line in enumerate(code.splitlines()):
        if closing:  # inside a block comment or a docstring
            block.append((number, line))
            closing = "" if closing in line else closing
            continue
        match = _COMMENT_LINE.match(line)
        if match:
            block.append((number, match.group(1)))
            opener = next((o for o in _BLOCK_CLOSERS if line.lstrip().startswith(o)), "")
            if opener and _BLOCK_CLOSERS[opener] not in line.lstrip()[len(opener):]:
                closing = _BLOCK_CLOSERS[opener]
            continue
        yield from _split(block)
        block = []
    if not closing:  # a block comment left open (a window's end) is not read
        yield from _split(block)


def _split(block: list[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    paragraph: list[tuple[int, str]] = []
    for item in [*block, (-1, "")]:
        if not _BARE.match(item[1]):
            paragraph.append(item)
        elif paragraph:
            yield paragraph
            paragraph = []


def is_licence(paragraph: list[tuple[int, str]]) -> bool:
    """Whether a paragraph of comments (``paragraphs``) is a licence, a copyright or an authors' notice."""
    return _LICENCE.search(" ".join(text for _, text in paragraph)) is not None


def comment_words(code: str) -> int:
    """The words in ``code``'s comments, leaving out every paragraph of them that is a licence."""
    return sum(len(_WORD.findall(" ".join(text for _, text in p))) for p in paragraphs(code) if not is_licence(p))


def without_licences(code: str) -> str:
    """``code`` without the lines of its licence paragraphs (the same string when it has none)."""
    if not _LICENCE.search(code):
        return code
    dropped = {number for p in paragraphs(code) if is_licence(p) for number, _ in p}
    if not dropped:
        return code
    return "\n".join(line for number, line in enumerate(code.splitlines()) if number not in dropped)


def licence_head(code: str) -> int:
    """How many of ``code``'s first lines are its licence: the comment paragraphs it opens with while they are
    licences, and the blank lines after them (0 when it opens with code or with a paragraph that is no licence)."""
    if not _LICENCE.search(code):
        return 0
    lines = code.splitlines()
    end = 0
    for paragraph in paragraphs(code):
        first, last = paragraph[0][0], paragraph[-1][0]
        if any(not _BARE.match(line) and not _COMMENT_LINE.match(line) for line in lines[end:first]):
            break  # code came before this paragraph
        if not is_licence(paragraph):
            break
        end = last + 1
    while end < len(lines) and (not lines[end].strip() or (_BARE.match(lines[end]) and
                                                           _COMMENT_LINE.match(lines[end]))):
        end += 1  # the licence's closing `*/` and the blank lines after it
    return end if end < len(lines) else 0


_MARKS = re.compile(r"^[\s*/#;%!\-\"'{}]+|[\s*/\"'}\-]+$")  # comment marks around a line's text
# A file's opening describes it with this many words of comments that are no licence (``description``; the
# ``opening`` ranking signal spares such an opening the scaling of code between definitions).
OPENING_WORDS = 6


def description(code: str) -> str:
    """The first paragraph of ``code``'s comments that is no licence, as one line, when its comments say at least
    ``OPENING_WORDS`` words that are no licence ("" otherwise): a file's own description, from its opening."""
    if comment_words(code) < OPENING_WORDS:
        return ""
    for paragraph in paragraphs(code):
        if not is_licence(paragraph):
            return " ".join(_MARKS.sub("", text) for _, text in paragraph).strip()
    return ""

