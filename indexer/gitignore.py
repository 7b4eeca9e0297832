"""A small, complete implementation of ``.gitignore`` pattern matching (stdlib only).

Supports comments, escapes, negation (``!``), directory-only patterns (``dir/``),
anchored patterns (with a ``/`` before the end), ``*``, ``?``, ``[...]`` (ranges,
``!``/``^`` negation, ``[:alpha:]``-style classes) and ``**``. Patterns are matched
against paths relative to the directory of the file they come from; the last matching
pattern wins, and deeper files are consulted after shallower ones.

Ignore files come with the repository, so they are hostile input. Every line git
accepts compiles (a reversed range such as ``[z-a]`` matches only ``z``, as in git), and
matching takes time linear in the path for each pattern: patterns with at most two
unbounded wildcards run as a regular expression (no catastrophic backtracking is
possible with two), others on an NFA simulation that never backtracks and keeps its
states as the bits of an integer, so ``*a*a*a*a*a*a*a*a*b`` costs a few integer
operations per character of the path however many stars it has. A line longer than
``MAX_LINE_CHARS`` is dropped: no path is that long; so is one with more than three wildcards and over
``MAX_SIMULATED_TOKENS`` tokens, whose simulation costs its length for each character of a path (50 patterns of
4 KB, ``*a*a...*b``, cost 0.14 s a path). Compiling is linear in the line too (``_tokenize``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Token kinds of a compiled glob. CHAR/ANY/CLASS consume one character other than "/".
_CHAR, _ANY, _CLASS, _STAR, _DIRS, _ALL = range(6)
# Patterns with more unbounded wildcards than this are matched by the NFA, not by `re`.
_MAX_REGEX_WILDCARDS = 2
MAX_LINE_CHARS = 4096  # PATH_MAX: a longer line could only match through stars matching nothing
MAX_SIMULATED_TOKENS = 256  # tokens of a pattern matched by the NFA (a longer one is dropped)
_POSIX_CLASSES = {
    "alnum": "a-zA-Z0-9", "alpha": "a-zA-Z", "blank": " \t", "digit": "0-9", "lower": "a-z",
    "upper": "A-Z", "space": " \t\n\r\f\v", "xdigit": "0-9a-fA-F",
    "punct": "!-/:-@[-`{-~", "graph": "!-~", "print": " -~", "cntrl": "\x00-\x1f\x7f",
}

Token = tuple  # (_CHAR, c) | (_ANY,) | (_CLASS, ranges, negate) | (_STAR,) | (_DIRS,) | (_ALL,)


@dataclass(frozen=True, slots=True)
class Pattern:
    """One compiled line of an ignore file."""

    base: str  # directory of the ignore file, relative to the root ("" for the root)
    matcher: _Matcher
    negate: bool
    dir_only: bool
    source: str = ".gitignore"  # the ignore file's name


def parse_lines(lines: list[str], base: str = "", source: str = ".gitignore") -> list[Pattern]:
    """Compile the lines of an ignore file (named ``source``) that lives in directory ``base``."""
    return [p for line in lines if (p := compile_line(line, base, source)) is not None]


def compile_line(raw: str, base: str = "", source: str = ".gitignore") -> Pattern | None:
    """One line of an ignore file as a pattern, or None (blank, a comment, too long, or a pattern too long for the
    NFA: see the module doc)."""
    line = raw.rstrip("\n\r")
    if not is_pattern_line(line):
        return None
    line = _strip_trailing_spaces(line)
    negate = line.startswith("!")
    if negate:
        line = line[1:]
    elif line.startswith("\\!") or line.startswith("\\#"):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    tokens = ([] if anchored else [(_DIRS,)]) + _tokenize(line.lstrip("/"))
    matcher = _Matcher.compile(tokens)
    if matcher.simulated and len(tokens) > MAX_SIMULATED_TOKENS:
        return None
    return Pattern(base, matcher, negate, dir_only, source)


def is_pattern_line(line: str) -> bool:
    """Whether a line (without its line end) may hold a pattern: not blank, no comment, not longer than any path."""
    return bool(line.strip()) and not line.startswith("#") and len(line) <= MAX_LINE_CHARS


def is_ignored(patterns: list[Pattern], path: str, is_dir: bool) -> bool:
    """Whether ``path`` (relative to the root, forward slashes) is ignored."""
    return decision(patterns, path, is_dir) is True


def decision(patterns: list[Pattern], path: str, is_dir: bool, source: str | None = None) -> bool | None:
    """What the last pattern matching ``path`` says: True (ignore), False (a ``!`` negation) or None.

    :param source: only consult the patterns of ignore files with this name.
    """
    ignored: bool | None = None
    for pattern in patterns:
        if source is not None and pattern.source != source:
            continue
        if pattern.dir_only and not is_dir:
            continue
        if pattern.base:
            if not path.startswith(pattern.base + "/"):
                continue
            relative = path[len(pattern.base) + 1 :]
        else:
            relative = path
        if pattern.matcher.matches(relative):
            ignored = not pattern.negate
    return ignored


def _strip_trailing_spaces(line: str) -> str:
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped[:-1] + " "
    return stripped


def _tokenize(pattern: str) -> list[Token]:
    """One gitignore glob (no leading '!' or trailing '/') as tokens, in time linear in its length: a ``[`` with no
    ``]`` after it is a character without a search for one (a line of 4,096 ``[`` took 3.7 s, every line of a
    hostile ignore file paid it), and so is ``[:`` with no ``:]`` after it."""
    out: list[Token] = []
    i, n = 0, len(pattern)
    last_close, last_class = pattern.rfind("]"), pattern.rfind(":]")
    while i < n:
        c = pattern[i]
        if c == "*":
            stars = len(pattern[i:]) - len(pattern[i:].lstrip("*"))
            at_start = i == 0 or pattern[i - 1] == "/"
            if stars >= 2 and at_start and pattern.startswith("/", i + stars):
                if not out or out[-1] != (_DIRS,):
                    out.append((_DIRS,))  # "**/": zero or more directories ("**/**/" is the same)
                i += stars + 1
                continue
            if stars >= 2 and at_start and i + stars == n:
                out.append((_ALL,))  # trailing "**": everything inside
                i += stars
                continue
            if not out or out[-1] != (_STAR,):
                out.append((_STAR,))
            i += stars
            continue
        if c == "?":
            out.append((_ANY,))
        elif c == "[":
            parsed = _bracket(pattern, i, last_class) if i < last_close else None
            if parsed is None:
                out.append((_CHAR, c))
            else:
                token, i = parsed
                out.append(token)
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append((_CHAR, pattern[i]))
        else:
            out.append((_CHAR, c))
        i += 1
    return out


def _bracket(pattern: str, start: int, last_class: int) -> tuple[Token, int] | None:
    """A ``[...]`` class starting at ``start``: (token, index of its ``]``), or None if unterminated.
    ``last_class``: where the pattern's last ``:]`` is (-1: none)."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] in "!^"
    i += negate
    ranges: list[tuple[str, str]] = []
    first = True
    while i < len(pattern):
        c = pattern[i]
        if c == "]" and not first:
            return (_CLASS, tuple(ranges), negate), i
        first = False
        if c == "[" and pattern.startswith("[:", i) and i + 2 <= last_class:
            end = pattern.find(":]", i + 2)
            if end > 0:
                spec = _POSIX_CLASSES.get(pattern[i + 2 : end], "")  # unknown class: matches nothing
                ranges.extend(_ranges_of(spec))
                i = end + 2
                continue
        if c == "\\" and i + 1 < len(pattern):
            i += 1
            c = pattern[i]
        lo = c
        if pattern.startswith("-", i + 1) and i + 2 < len(pattern) and pattern[i + 2] != "]":
            hi = pattern[i + 2]
            if hi == "\\" and i + 3 < len(pattern):
                i += 1
                hi = pattern[i + 2]
            # git's wildmatch compares the first character on its own, then the range:
            # a reversed range such as z-a matches just its first character.
            ranges.append((lo, hi) if lo <= hi else (lo, lo))
            i += 3
            continue
        ranges.append((lo, lo))
        i += 1
    return None


def _ranges_of(spec: str) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out.append((spec[i], spec[i + 2]))
            i += 3
        else:
            out.append((spec[i], spec[i]))
            i += 1
    return out


def _in_class(token: Token, c: str) -> bool:
    if c == "/":
        return False
    inside = any(lo <= c <= hi for lo, hi in token[1])
    return inside != token[2]


class _Matcher:
    """Matches whole paths against one tokenized glob, in time linear in the path."""

    __slots__ = ("_compiled", "_regex", "_tokens")

    def __init__(self, tokens: list[Token], regex: re.Pattern[str] | None) -> None:
        self._tokens = tokens
        self._regex = regex
        self._compiled: _Program | None = None

    @classmethod
    def compile(cls, tokens: list[Token]) -> _Matcher:
        wildcards = sum(t[0] in (_STAR, _DIRS, _ALL) for t in tokens)
        regex = re.compile(_regex(tokens), re.DOTALL) if wildcards <= _MAX_REGEX_WILDCARDS else None
        return cls(tokens, regex)

    @property
    def simulated(self) -> bool:
        """Whether it runs on the NFA simulation (more than two unbounded wildcards): a few microseconds a path
        in Python, where a regular expression takes a fraction of one."""
        return self._regex is None

    def matches(self, path: str) -> bool:
        if self._regex is not None:
            return self._regex.match(path) is not None
        return self._simulate(path)

    def _simulate(self, path: str) -> bool:
        """Thompson-style simulation with the set of states as bits of two integers.

        Bit ``i`` of ``here`` means "before token i" (bit ``len(tokens)``: matched); bit ``i``
        of ``inside`` means "within the directories the ``_DIRS`` token i is consuming" (it
        may only stop right after a "/"). Each character costs a few operations on integers
        as wide as the pattern, whatever the number of wildcards.
        """
        program = self._program()
        here, inside = program.closure(1), 0
        for c in path:
            consumed = (here & program.consumes(c)) << 1
            if c != "/":
                consumed |= here & program.stars
            consumed |= here & program.everything
            inside |= here & program.dirs
            if c == "/":
                consumed |= inside << 1
            if not consumed and not inside:
                return False
            here = program.closure(consumed)
        return bool(here >> program.end & 1)

    def _program(self) -> _Program:
        program = self._compiled
        if program is None:
            program = self._compiled = _Program(self._tokens)
        return program


class _Program:
    """The bit masks of a tokenized glob for ``_Matcher._simulate``."""

    __slots__ = ("end", "stars", "everything", "dirs", "wildcards", "_chars", "_any", "_classes", "_cache")
    _CACHE_SIZE = 512  # characters whose mask is kept

    def __init__(self, tokens: list[Token]) -> None:
        self.end = len(tokens)
        self.stars = self.everything = self.dirs = self._any = 0
        self._chars: dict[str, int] = {}
        self._classes: list[tuple[int, Token]] = []
        self._cache: dict[str, int] = {}
        for i, token in enumerate(tokens):
            bit, kind = 1 << i, token[0]
            if kind == _CHAR:
                self._chars[token[1]] = self._chars.get(token[1], 0) | bit
            elif kind == _ANY:
                self._any |= bit
            elif kind == _CLASS:
                self._classes.append((bit, token))
            elif kind == _STAR:
                self.stars |= bit
            elif kind == _DIRS:
                self.dirs |= bit
            else:
                self.everything |= bit
        self.wildcards = self.stars | self.dirs | self.everything

    def consumes(self, c: str) -> int:
        """The tokens that consume ``c`` as their one character (CHAR, ANY, CLASS)."""
        mask = self._cache.get(c)
        if mask is None:
            mask = self._chars.get(c, 0)
            if c != "/":
                mask |= self._any
                for bit, token in self._classes:
                    if _in_class(token, c):
                        mask |= bit
            if len(self._cache) < self._CACHE_SIZE:
                self._cache[c] = mask
        return mask

    def closure(self, here: int) -> int:
        """Add the positions reachable without consuming: past any wildcard, which may match nothing."""
        while True:
            more = here | (here & self.wildcards) << 1
            if more == here:
                return here
            here = more


def _regex(tokens: list[Token]) -> str:
    parts = ["^"]
    for token in tokens:
        kind = token[0]
        if kind == _CHAR:
            parts.append(re.escape(token[1]))
        elif kind == _ANY:
            parts.append("[^/]")
        elif kind == _CLASS:
            parts.append(_class_regex(token))
        elif kind == _STAR:
            parts.append("[^/]*")
        elif kind == _DIRS:
            parts.append("(?:.*/)?")
        else:
            parts.append(".*")
    return "".join(parts) + "$"


def _class_regex(token: Token) -> str:
    body = "".join(re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}" for lo, hi in token[1])
    if token[2]:
        return f"[^/{body}]"
    return f"(?!/)[{body}]" if body else "(?!)"
