"""Language-agnostic cleaning of doc comments and docstrings.

py-tree-sitter ignores the ``#strip!`` and ``#select-adjacent!`` directives of upstream
tags queries, so the markers are removed here, in one place, for every language.
"""

from __future__ import annotations

import inspect
import re

# Elixir's module doc, captured as the whole attribute (its outline leaves it out whole): the text is the string's, or
# the sigil's (`~S"""`).
_DOC_ATTRIBUTE = re.compile(r"""^@moduledoc\s+(?:~[a-zA-Z](?=["']))?""")
# A string literal's prefix and quotes: r"""...""", b'...', u"...", and so on.
_STRING_QUOTES = re.compile(r"""^[rRbBuUfF]{0,2}("{3}|'{3}|"|')(?P<body>.*)\1$""", re.DOTALL)
# Comment openers at the start of a line: /** /* // /// # //! and a lone leading '*'.
# Haskell and Lua too: -- | and -- ^ (Haddock), --- (LuaLS), {- | (Haddock block); a bare
# `--` only before a space, so `--verbose` in a C block comment stays.
_LINE_MARKER = re.compile(r"^\s*(/\*+!?|//+!?|#+!?|\*+(?!/)|(?:-{3,}|--(?=[\s|^]|$)|\{-+)(?:\s?[|^](?=\s|$))?)\s?")
# Lua's long comment --[[ ... ]] (or --[==[ ... ]==]): both brackets go, the text stays (``_lua_blocks``).
_LUA_OPEN = re.compile(r"^([ \t]*)--\[(={0,16})\[", re.MULTILINE)
_RUBY_BLOCK = re.compile(r"^=(begin|end)\b.*$", re.MULTILINE)
# Rust attributes (#[derive(...)], #[cfg_attr(\n...\n)]), which the Rust query takes as comments so
# that the doc block above them reaches the item: their lines go.
_ATTRIBUTE = re.compile(r"^[ \t]*#!?\[.*?\][ \t]*$", re.MULTILINE | re.DOTALL)
_ATTRIBUTE_END = re.compile(r"\][ \t]*$", re.MULTILINE)
# C#'s XML doc comments: <see cref="X"/> and the like read as X; <summary>, <param ...> and
# the other structural tags are dropped (a tag alone on its line leaves a paragraph break).
_XML_DOC_REF = re.compile(r"""<(?:see|seealso|paramref|typeparamref)\s+\w+="([^"]*)"\s*/>""")
_XML_DOC_TAG = re.compile(r"</?(?:summary|remarks|returns|value|para|example|exception|param|typeparam|inheritdoc|c)\b[^>]*>")


def clean_docstring(text: str) -> str:
    """Strip the quotes and common indentation from a docstring literal."""
    match = _STRING_QUOTES.match(text.strip())
    body = match.group("body") if match else text
    return inspect.cleandoc(body).strip()


def clean_comment(text: str) -> str:
    """Strip comment markers (``/** */``, ``//``, ``#``, ``--``, leading ``*``) from a comment block."""
    text = _RUBY_BLOCK.sub("", text)
    text = _closed_sub(_ATTRIBUTE, "", text, _last_end(_ATTRIBUTE_END, text))
    text = _lua_blocks(text)
    if "<" in text:
        text = _XML_DOC_REF.sub(r"\1", text)
        text = _closed_sub(_XML_DOC_TAG, "", text, text.rfind(">") + 1)
    lines = []
    for line in text.splitlines():
        if "*/" in line or "-}" in line:
            line = _without_block_end(line)
        if marker := _LINE_MARKER.match(line):  # anchored, and never empty: as sub(..., count=1)
            line = line[marker.end():]
        lines.append(line.rstrip())
    return inspect.cleandoc("\n".join(lines)).strip()


def clean_doc(text: str) -> str:
    """Clean either kind of documentation: a string literal (also as Elixir's ``@moduledoc ~S"..."`` attribute) or a
    comment block."""
    stripped = _DOC_ATTRIBUTE.sub("", text.lstrip(), count=1)
    if _STRING_QUOTES.match(stripped.rstrip()) and not _LINE_MARKER.match(stripped):
        return clean_docstring(stripped)
    return clean_comment(text)


def first_paragraph(doc: str) -> str:
    """The first paragraph of a cleaned doc, on one line (the CodeSearchNet query)."""
    paragraph = re.split(r"\n\s*\n", doc.strip(), maxsplit=1)[0]
    return " ".join(paragraph.split())


# A doc comment is a repository's text, up to a whole file: every pattern above that scans ahead for a closing
# mark runs on the text only up to the last such mark (``_closed_sub``) or in one pass (``_lua_blocks``); a
# search from each of thousands of unclosed openers to the end of the text cost their square (20,000 `--[[`
# lines: 63 s; 20,000 `#[` lines: 9 s; a line of 5,000 tabs before `x */`: 0.6 s a line).


def _closed_sub(pattern: re.Pattern[str], repl: str, text: str, end: int) -> str:
    """``pattern.sub(repl, ...)`` over ``text[:end]`` only: past the last closing mark nothing can match."""
    return pattern.sub(repl, text[:end]) + text[end:] if end > 0 else text


def _last_end(pattern: re.Pattern[str], text: str) -> int:
    """Where the last match of ``pattern`` in ``text`` ends (0 without one)."""
    end = 0
    for match in pattern.finditer(text):
        end = match.end()
    return end


def _lua_blocks(text: str) -> str:
    """Lua's long comments (``--[[ ... ]]``, ``--[==[ ... ]==]``) as their text: the indentation before the
    opening bracket and what is inside, less a ``--`` before the closing one; in one pass (an opening bracket
    whose level has no closing one after it is left, and so is every later one of that level)."""
    if "--[" not in text:
        return text
    out, done, hopeless = [], 0, set()
    for match in _LUA_OPEN.finditer(text):
        level = match.group(2)
        if match.start() < done or level in hopeless:
            continue
        close = f"]{level}]"
        end = text.find(close, match.end())
        if end < 0:
            hopeless.add(level)
            continue
        inner = text[match.end():end]
        out += [text[done:match.start()], match.group(1), inner[:-2] if inner.endswith("--") else inner]
        done = end + len(close)
    return "".join(out) + text[done:]


def _without_block_end(line: str) -> str:
    """``line`` without a block comment's closing mark at its end (``*/``, ``**/``, Haskell's ``-}``) and the
    spaces around it."""
    stripped = line.rstrip()
    for mark, repeated in (("/", "*"), ("}", "-")):
        if stripped.endswith(mark):
            body = stripped[:-1]
            kept = body.rstrip(repeated)
            if len(kept) < len(body):
                return kept.rstrip()
    return line
