"""A small, complete implementation of ``.gitignore`` pattern matching (stdlib only).

Supports comments, escapes, negation (``!``), directory-only patterns (``dir/``),
anchored patterns (with a ``/`` before the end), ``*``, ``?``, ``[...]`` and ``**``.
Patterns are matched against paths relative to the directory of the file they come from;
the last matching pattern wins, and deeper files are consulted after shallower ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pattern:
    """One compiled line of an ignore file."""

    base: str  # directory of the ignore file, relative to the root ("" for the root)
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


def parse_lines(lines: list[str], base: str = "") -> list[Pattern]:
    """Compile the lines of an ignore file that lives in directory ``base``."""
    patterns = []
    for raw in lines:
        line = raw.rstrip("\n\r")
        if not line.strip() or line.startswith("#"):
            continue
        line = _strip_trailing_spaces(line)
        negate = line.startswith("!")
        if negate:
            line = line[1:]
        elif line.startswith("\\!") or line.startswith("\\#"):
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        body = _translate(line.lstrip("/"))
        regex = re.compile(("^" if anchored else "^(?:.*/)?") + body + "$", re.DOTALL)
        patterns.append(Pattern(base, regex, negate, dir_only))
    return patterns


def is_ignored(patterns: list[Pattern], path: str, is_dir: bool) -> bool:
    """Whether ``path`` (relative to the root, forward slashes) is ignored."""
    ignored = False
    for pattern in patterns:
        if pattern.dir_only and not is_dir:
            continue
        if pattern.base:
            if not path.startswith(pattern.base + "/"):
                continue
            relative = path[len(pattern.base) + 1 :]
        else:
            relative = path
        if pattern.regex.match(relative):
            ignored = not pattern.negate
    return ignored


def _strip_trailing_spaces(line: str) -> str:
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped[:-1] + " "
    return stripped


def _translate(pattern: str) -> str:
    """Translate one gitignore glob (no leading '!' or trailing '/') to a regex body."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                at_start = i == 0 or pattern[i - 1] == "/"
                if at_start and pattern.startswith("**/", i):
                    out.append("(?:.*/)?")
                    i += 3
                    continue
                if at_start and i + 2 == n:
                    out.append(".*")
                    i += 2
                    continue
                out.append("[^/]*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern.startswith("[!", i) or pattern.startswith("[^", i) else i + 1)
            if end < 0:
                out.append(re.escape(c))
            else:
                inner = pattern[i + 1 : end]
                if inner[:1] in ("!", "^"):
                    inner = "^" + inner[1:]
                out.append("[" + inner.replace("\\", "\\\\") + "]")
                i = end
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)
