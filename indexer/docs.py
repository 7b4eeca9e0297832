"""Language-agnostic cleaning of doc comments and docstrings.

py-tree-sitter ignores the ``#strip!`` and ``#select-adjacent!`` directives of upstream
tags queries, so the markers are removed here, in one place, for every language.
"""

from __future__ import annotations

import inspect
import re

# A string literal's prefix and quotes: r"""...""", b'...', u"...", and so on.
_STRING_QUOTES = re.compile(r"""^[rRbBuUfF]{0,2}("{3}|'{3}|"|')(?P<body>.*)\1$""", re.DOTALL)
# Comment openers at the start of a line: /** /* // /// # //! and a lone leading '*'.
# Haskell and Lua too: -- | and -- ^ (Haddock), --- (LuaLS), {- | (Haddock block); a bare
# `--` only before a space, so `--verbose` in a C block comment stays.
_LINE_MARKER = re.compile(r"^\s*(/\*+!?|//+!?|#+!?|\*+(?!/)|(?:-{3,}|--(?=[\s|^]|$)|\{-+)(?:\s?[|^](?=\s|$))?)\s?")
_BLOCK_END = re.compile(r"\s*(\*+/|-+\})\s*$")
# Lua's long comment --[[ ... ]] (or --[==[ ... ]==]): both brackets go, the text stays.
_LUA_BLOCK = re.compile(r"^(\s*)--\[(=*)\[(.*?)(?:--)?\]\2\]", re.DOTALL | re.MULTILINE)
_RUBY_BLOCK = re.compile(r"^=(begin|end)\b.*$", re.MULTILINE)
# Rust attributes (#[derive(...)], #[cfg_attr(\n...\n)]), which the Rust query takes as comments so
# that the doc block above them reaches the item: their lines go.
_ATTRIBUTE = re.compile(r"^[ \t]*#!?\[.*?\][ \t]*$", re.MULTILINE | re.DOTALL)
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
    text = _ATTRIBUTE.sub("", text)
    text = _LUA_BLOCK.sub(r"\1\3", text)
    if "<" in text:
        text = _XML_DOC_TAG.sub("", _XML_DOC_REF.sub(r"\1", text))
    lines = []
    for line in text.splitlines():
        if "*/" in line or "-}" in line:  # what _BLOCK_END needs (most lines have neither)
            line = _BLOCK_END.sub("", line)
        if marker := _LINE_MARKER.match(line):  # anchored, and never empty: as sub(..., count=1)
            line = line[marker.end():]
        lines.append(line.rstrip())
    return inspect.cleandoc("\n".join(lines)).strip()


def clean_doc(text: str) -> str:
    """Clean either kind of documentation: a string literal or a comment block."""
    stripped = text.lstrip()
    if _STRING_QUOTES.match(stripped.rstrip()) and not _LINE_MARKER.match(stripped):
        return clean_docstring(stripped)
    return clean_comment(text)


def first_paragraph(doc: str) -> str:
    """The first paragraph of a cleaned doc, on one line (the CodeSearchNet query)."""
    paragraph = re.split(r"\n\s*\n", doc.strip(), maxsplit=1)[0]
    return " ".join(paragraph.split())
