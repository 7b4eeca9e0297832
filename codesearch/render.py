"""Formatters for search results and index reports: text, json and grep-style."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Sequence
from typing import Any

from codesearch.search import SearchResult

SNIPPET_LINES = 8


def display_path(result: SearchResult) -> str:
    """The result's file relative to the working directory when that is shorter."""
    absolute = os.path.join(result.root, result.path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:
        return absolute
    return relative if len(relative) < len(absolute) else absolute


def to_grep(results: Sequence[SearchResult]) -> str:
    """``path:line: qualname`` lines, the format editors and agents jump to."""
    return "\n".join(f"{display_path(r)}:{r.start_line}: {r.qualname}  [{r.score:.3f}]" for r in results)


def to_json(query: str, results: Sequence[SearchResult], **extra: Any) -> str:
    """One JSON document: the query, any extra fields, and the results."""
    return json.dumps({"query": query, **extra, "results": [r.to_dict() for r in results]}, indent=2)


def to_text(
    results: Sequence[SearchResult], color: bool = False, snippet_lines: int = SNIPPET_LINES, explain: bool = False
) -> str:
    """Human-readable results: location, name, score and a code snippet; ``explain`` adds stage scores."""
    if not results:
        return "No results."
    blocks = []
    for r in results:
        location = f"{display_path(r)}:{r.start_line}-{r.end_line}"
        stale = "  (file changed since indexing; run `codesearch index`)" if r.stale else ""
        head = f"{r.rank:>2}. {_style(location, 'cyan', color)}  {_style(r.qualname, 'bold', color)}"
        head += f"  {_style(f'{r.kind}, {r.language}, score {r.score:.3f}', 'dim', color)}"
        head += _style(stale, "yellow", color)
        if explain:
            stages = ", ".join(f"{name} {value:.3f}" for name, value in r.scores.items())
            head += "\n      " + _style(f"stages: {stages}", "dim", color)
        lines = textwrap.dedent(r.code).splitlines()
        snippet = "\n".join(lines[:snippet_lines]) + ("\n..." if len(lines) > snippet_lines else "")
        snippet = _highlight(snippet, r.language) if color else snippet
        body = "\n".join("      " + line for line in snippet.splitlines())
        blocks.append(f"{head}\n{body}")
    return "\n\n".join(blocks)


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
