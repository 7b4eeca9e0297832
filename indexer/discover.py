"""Walk a repository and decide which files to index.

Discovery is two-step so that incremental indexing can skip unchanged files from a
``stat`` alone: ``walk`` yields ``FileEntry``s (path, language, size, mtime) and
``SkippedFile``s; ``read_source`` reads one entry and applies the content checks
(binary, minified). It never follows a symlink: a link that resolves inside the
repository is skipped, its target being walked at its own path (the message says whether that is a
source file), and a link
that resolves outside is skipped as an escape.

The repository may change between discovery and reading (a file swapped for a link to
a secret, or for a FIFO that would block the read). ``open_inside`` therefore opens
every path from the root down, one component at a time relative to its parent's
descriptor, never following a link, and ``read_source`` reads only what the opened
descriptor says is a regular file. ``walk`` reads directories and ignore files the same
way, so a directory swapped for a link mid-walk is skipped and an ignore file swapped
for a FIFO is not read; an unreadable directory, or one past ``MAX_PATH_BYTES``, is a
skip reason.
"""

from __future__ import annotations

import errno
import json
import os
import posixpath
import re
import stat
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from indexer.gitignore import Pattern, compile_line, decision, is_ignored, is_pattern_line
from indexer.languages import (SHEBANG_BYTES, file_language, header_language, may_be_script, shebang_language,
                               unsupported_extension)
from indexer.types import SkippedFile, SourceFile, UnsupportedFile

# Never indexed: version control and our own index directory.
EXCLUDED_DIRS = frozenset({".git", ".hg", ".svn", ".codesearch"})
# Skipped by default (caches, dependencies); a `!` pattern in .codesearchignore brings one back.
CACHE_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".tox"})
# Python's own idioms too: pip's and setuptools' `_vendor/` (requests, urllib3, rich: pip's 412 files were
# half vendored, and every result for "retry a failed http request" was urllib3's), botocore's `vendored/`.
# C and C++ keep other projects' code in `third_party/` and its spellings (nlohmann's `thirdparty/hedley`: five
# version-check macros of hedley's in the first ten of "apply a JSON patch").
VENDORED_DIRS = frozenset({"node_modules", "vendor", "_vendor", "vendored", "bower_components", "site-packages",
                           "third_party", "thirdparty", "third-party", "3rdparty"})
VIRTUALENV_MARKER = "pyvenv.cfg"  # a virtualenv is recognised by this file, not by its name
IGNORE_FILES = (".gitignore", ".codesearchignore")
OWN_IGNORE_FILE = ".codesearchignore"
MINIFIED_SUFFIXES = (".min.js", ".min.mjs", ".bundle.js")
# Build output, skipped by default like minified files (a `!` pattern in .codesearchignore keeps it):
# these directories when a sibling `src/` or `lib/` holds the sources they are built from (an npm
# package's `dist/` bundles beside its `lib/`: axios, qs, winston, handlebars), ...
BUILD_DIRS = frozenset({"dist", "build", "out"})
SOURCES_DIRS = ("src", "lib")
# A hidden directory is a tool's state, as rg treats it: quilt's copies of patched files (`.pc/`, in every
# Debian source package: each patched file twice more), caches and build output (`.next/`, `.gradle/`,
# `.stack-work/`, `.build/`, `.yarn/`'s bundled releases), editor settings; skipped, with its reason, unless
# `!NAME/` in .codesearchignore keeps it. These hold a project's own scripts and stay:
KEPT_HIDDEN_DIRS = frozenset({".github", ".gitlab", ".circleci", ".buildkite", ".devcontainer", ".husky",
                              ".storybook"})
# ... type declarations and compiled JavaScript next to the TypeScript they come from (a `.d.ts`
# with no source beside it is a hand-written declaration and stays), files beside their source
# map, and files that end with a sourceMappingURL comment (a bundler's trailer).
DECLARATION_SUFFIXES = (".d.ts", ".d.cts", ".d.mts")
COMPILED_SUFFIXES = (".js", ".cjs", ".mjs", ".jsx")
TYPESCRIPT_SUFFIXES = (".ts", ".tsx", ".mts", ".cts")
SOURCE_MAP_TRAILER = re.compile(rb"^\s*//[#@] sourceMappingURL=\S+\s*\Z", re.MULTILINE)
TRAILER_BYTES = 4096  # the end of a file that is searched for the trailer
MAP_HEAD_BYTES = 65_536  # of a source map, read for its list of sources (``_map_sources_present``)
MAP_SOURCES_CHECKED = 64  # of those sources, looked for in the tree
_MAP_SOURCES = re.compile(rb'"sources"\s*:\s*\[((?:[^\]"]|"(?:[^"\\]|\\.)*")*)\]')
_MAP_ROOT = re.compile(rb'"sourceRoot"\s*:\s*"((?:[^"\\]|\\.)*)"')
# Files generated from a source beside them (autoconf's `configure`, a long shell script): build output too.
GENERATED_FROM = {"configure": ("configure.ac", "configure.in")}
# ... and C or C++ a parser or scanner generator wrote from a grammar beside it of the same stem (yacc's
# `cmd-parse.c` from `cmd-parse.y`, bison's `parse.tab.c` from `parse.y`, flex's `scan.c` from `scan.l`).
GENERATED_C = (".tab.c", ".tab.cc", ".tab.cpp", ".c", ".cc", ".cpp", ".cxx")
GRAMMAR_SUFFIXES = (".y", ".yy", ".ypp", ".l", ".ll", ".lpp")
DEFAULT_GENERATED = frozenset({"y.tab.c", "y.tab.h", "lex.yy.c", "lex.yy.cc"})  # yacc's and lex's default outputs
# ... told by what the generator writes at their top (a hand-written `calc.c` beside `calc.y` is kept: the recheck)
_GENERATOR_MARK = re.compile(rb"YYBYACC|[Bb]ison|FLEX_SCANNER|generated by flex|lexical scanner generated|"
                             rb"[Gg]enerated by re2c|yacc|#line \d+ \"[^\"]+\.(?:y|yy|ypp|l|ll|lpp)\"")
GENERATED_HEAD = 4096
# automake's helper scripts, copied into a project (`etc/depcomp`, `build-aux/install-sh`): build tooling that
# took first places for questions about the project's own C (a new user's "base64 encode"); told by name and
# by the `scriptversion=` or `timestamp=` line they start with.
AUTOMAKE_HELPERS = frozenset({"depcomp", "install-sh", "missing", "compile", "config.guess", "config.sub", "ylwrap",
                              "test-driver", "ar-lib", "mkinstalldirs", "py-compile", "mdate-sh", "ltmain.sh"})
_AUTOMAKE_MARK = re.compile(rb"^(?:scriptversion=|timestamp=')|^# ltmain\.sh|GNU libtool", re.MULTILINE)
AUTOMAKE_HEAD = 4096  # bytes of a helper's name read for its mark
# What ``read_source`` judges by a file's content: part of ``parser_fingerprint``, so that an index made before a
# rule changed reads its files again (an unchanged file is otherwise never read again).
CONTENT_RULES = repr((sorted(AUTOMAKE_HELPERS), _AUTOMAKE_MARK.pattern, AUTOMAKE_HEAD))
MAX_IGNORE_BYTES = 1_000_000  # of one ignore file; the rest is not read
# Ignore patterns that apply to one file (its directory's ignore files and those above): every pattern is tried on
# every path, so a crafted ignore file of 100,000 lines made an index of 1,000 files run past 400 s. Real ignore
# files hold tens to hundreds; the patterns past these are reported and not used. Patterns of more than two
# unbounded wildcards (`*a*a*a*b`) run on the NFA of ``indexer.gitignore``, ~9 us a path each: fewer of them.
MAX_IGNORE_PATTERNS = 1_000
MAX_SIMULATED_PATTERNS = 50
# A longer absolute path cannot be opened by name (PATH_MAX, with its NUL); git checks such
# paths out, but a file there is skipped, and nothing below a directory there is read.
MAX_PATH_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Limits:
    """Content limits for discovery.

    :param max_bytes: larger files are skipped as too large.
    :param max_line_chars: a file with longer lines is treated as minified or generated, unless they are
        at most ``long_lines_per_1000`` in every 1,000 of its lines (a module that embeds an image in a string).
    :param max_mean_line_chars: so is a file whose mean count of non-blank characters per line is above this.
    """

    max_bytes: int = 1_000_000
    max_line_chars: int = 5_000
    max_mean_line_chars: int = 300
    long_lines_per_1000: int = 10


_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file that passed the path-level checks and may be read.

    :param path: relative to ``root``, with forward slashes; in a pack of several repositories
        (``codesearch.pack``) it starts with ``prefix``, the repository's name and a slash.
    :param root: the repository root, absolute.
    """

    path: str
    root: str
    language: str
    size: int
    mtime_ns: int
    ctime_ns: int = 0
    keep_build_output: bool = False  # a `!` pattern of .codesearchignore keeps it: no build-output check
    prefix: str = ""

    @property
    def local_path(self) -> str:
        """The path relative to ``root`` (``path`` without the pack's ``prefix``)."""
        return self.path[len(self.prefix):]

    @property
    def abs_path(self) -> Path:
        """The file's absolute path."""
        return Path(self.root) / self.local_path


def walk(root: Path, limits: Limits = Limits(), use_ignore_files: bool = True,
         directories: list[str] | None = None) -> Iterator[FileEntry | SkippedFile | UnsupportedFile]:
    """Yield every indexable file under ``root`` as a FileEntry, and what was not indexed.

    Files ignored by ``.gitignore`` or ``.codesearchignore`` are left out silently, and so are
    files that are no source (``indexer.languages.file_language``; a file without an extension is
    a source if its ``#!`` line says so); source files that codesearch cannot read come out as
    ``UnsupportedFile`` (for counting); everything else that is not indexed comes out as a
    ``SkippedFile`` with its reason.

    Directories are opened from the root down, each relative to its parent's descriptor
    and never through a link, and listed and stat-ed through their own descriptor: a
    directory swapped for a link while the walk runs is skipped, never followed.

    :param use_ignore_files: False reads no ignore file and indexes vendored directories too
        (``--no-ignore``).
    :param directories: if given, the repo-relative path of every directory read is appended
        (``""`` for the root), so a watcher can tell when one gains or loses an entry.
    """
    root = root.resolve()
    root_bytes = len(os.fsencode(root))
    # Directories still to read: (the parent's descriptor, name, path, patterns that apply).
    stack: list[tuple[_OpenDir | None, str, str, list[Pattern]]] = [(None, str(root), "", [])]
    try:
        while stack:
            parent, name, rel_dir, patterns = stack.pop()
            opened = _open_dir(name, parent)
            if isinstance(opened, str):
                if directories is not None:
                    directories.append(rel_dir)
                yield SkippedFile(rel_dir or ".", opened)
                continue
            here = _OpenDir(opened)
            try:
                # Listed first: the virtualenv marker and the ignore files are looked for among its names,
                # not asked for by name in every directory (three failed calls each: 2,291 directories of
                # ansible-core: the walk 97-102 -> 72-76 ms).
                try:
                    with os.scandir(here.fd) as listing:
                        entries = sorted(listing, key=lambda e: e.name)
                except OSError as exc:
                    if directories is not None:
                        directories.append(rel_dir)
                    yield SkippedFile(rel_dir or ".", f"directory not readable: {exc.strerror or exc}")
                    continue
                names = frozenset(entry.name for entry in entries)
                if parent is not None and use_ignore_files and VIRTUALENV_MARKER in names \
                        and decision(patterns, rel_dir, True, source=OWN_IGNORE_FILE) is not False:
                    yield SkippedFile(rel_dir, "virtualenv (has pyvenv.cfg)")
                    continue
                if directories is not None:
                    directories.append(rel_dir)
                if use_ignore_files:
                    own, dropped = _ignore_patterns(here.fd, rel_dir, names, MAX_IGNORE_PATTERNS - len(patterns),
                                                    MAX_SIMULATED_PATTERNS - sum(p.matcher.simulated for p in patterns))
                    patterns = patterns + own
                    for name, count in dropped:
                        yield SkippedFile(f"{rel_dir}/{name}" if rel_dir else name,
                                          f"{count:,} ignore patterns not used (at most {MAX_IGNORE_PATTERNS:,}, "
                                          f"{MAX_SIMULATED_PATTERNS} of three wildcards or more, apply to a file: "
                                          "each one is tried on every path)")
                subdirs = yield from _list_dir(here, entries, names, root, root_bytes, rel_dir, patterns, limits,
                                               use_ignore_files)
            finally:
                here.release()
            stack.extend(reversed(subdirs))
    finally:
        for parent, *_ in stack:  # a walk abandoned half-way closes what it holds
            if parent is not None:
                parent.release()


class _OpenDir:
    """A directory's descriptor, closed once it is listed and every subdirectory is opened from it."""

    __slots__ = ("fd", "holders")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.holders = 1  # the listing itself, then one per subdirectory still to open

    def release(self) -> None:
        self.holders -= 1
        if self.holders == 0:
            os.close(self.fd)


def _open_dir(name: str, parent: _OpenDir | None) -> int | str:
    """A descriptor of directory ``name`` inside ``parent`` (the root if None), or why not.

    ``O_NOFOLLOW`` makes a directory swapped for a link fail (ELOOP or ENOTDIR) instead
    of leading elsewhere. The parent is released whatever happens.
    """
    try:
        if parent is None:
            return os.open(name, _DIR_FLAGS & ~os.O_NOFOLLOW)  # the root may be reached through links
        return os.open(name, _DIR_FLAGS, dir_fd=parent.fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return "directory not readable: it became a symlink or a file (links are not followed)"
        return f"directory not readable: {exc.strerror or exc}"
    finally:
        if parent is not None:
            parent.release()


def _list_dir(
    here: _OpenDir, entries: list[os.DirEntry[str]], names: frozenset[str], root: Path, root_bytes: int,
    rel_dir: str, patterns: list[Pattern], limits: Limits, use_ignore_files: bool,
) -> Generator[FileEntry | SkippedFile | UnsupportedFile, None, list[tuple[_OpenDir, str, str, list[Pattern]]]]:
    """Yield what one directory holds (``entries``, sorted by name; ``names``, theirs); return its
    subdirectories to read, in order, each holding ``here``."""
    subdirs: list[tuple[_OpenDir, str, str, list[Pattern]]] = []
    present = {entry.name for entry in entries if entry.name in SOURCES_DIRS and _is_plain_dir(entry)}
    sources = next((name for name in SOURCES_DIRS if name in present), "")  # ``src/`` first
    try:
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if not _printable_name(entry.name):
                yield SkippedFile(encodable(rel),
                                  "file name is not valid UTF-8")
                continue
            if root_bytes + 1 + len(rel.encode()) >= MAX_PATH_BYTES:
                yield SkippedFile(rel, f"path too long (over {MAX_PATH_BYTES:,} bytes with the root)")
                continue
            try:
                if entry.is_symlink():
                    if is_ignored(patterns, rel, False):
                        continue
                    reason = _symlink_reason(root, root / rel)
                    if reason is not None:
                        yield SkippedFile(rel, reason)
                    elif extension := unsupported_extension(entry.name):
                        yield UnsupportedFile(rel, extension)  # as the file it stands for would be
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError as exc:
                yield SkippedFile(rel, f"not readable: {exc.strerror or exc}")
                continue
            if is_dir and entry.name in EXCLUDED_DIRS:
                continue
            if is_ignored(patterns, rel, is_dir):
                continue
            if is_dir:
                default_skip = _default_skip(entry.name, sources) if use_ignore_files else None
                if default_skip and entry.name in BUILD_DIRS and _holds_typescript_sources(here.fd, entry.name):
                    default_skip = None  # maplibre's build/ holds its generate-*.ts scripts: no compiler writes .ts
                if default_skip and decision(patterns, rel, True, source=OWN_IGNORE_FILE) is not False:
                    if default_skip != "cache":
                        yield SkippedFile(rel, default_skip)
                else:
                    here.holders += 1
                    subdirs.append((here, entry.name, rel, patterns))
                continue
            if not entry.is_file(follow_symlinks=False):
                yield SkippedFile(rel, _special_file_reason(entry))
                continue
            language = file_language(entry.name) or _script_language(entry.name, here.fd)
            if language is None:
                extension = unsupported_extension(entry.name)
                if extension:
                    yield UnsupportedFile(rel, extension)
                continue
            keep = not use_ignore_files or _kept(patterns, rel)
            built_from = None if keep else build_output_reason(entry.name, names)
            if not keep and built_from is None and (grammar := _grammar_of(entry.name, names)) is not None:
                if _generated_head(entry.name, here.fd):  # a hand-written `calc.c` beside `calc.y` stays
                    built_from = f"build output (generated from {grammar})"
            if built_from and entry.name + ".map" in names and not _map_sources_present(here.fd, entry.name + ".map",
                                                                                        rel_dir, root):
                built_from, keep = None, True  # its sources are not here: this file is the only copy of the code
            if built_from:
                yield SkippedFile(rel, built_from)
                continue
            yield from _file_entry(entry, str(root), rel, language, limits, keep)
    except BaseException:  # the consumer stopped the walk: the subdirectories will not be opened
        for _ in subdirs:
            here.release()
        raise
    return subdirs


def _grammar_of(name: str, siblings: set[str] | frozenset[str]) -> str | None:
    """The grammar beside a C or C++ file that a parser or scanner generator may have written it from: one of the
    same stem (``GENERATED_C``, ``GRAMMAR_SUFFIXES``), or any for yacc's and lex's default outputs (`y.tab.c`,
    `lex.yy.c`); else None."""
    if name in DEFAULT_GENERATED:
        return next((s for s in sorted(siblings) if s.endswith(GRAMMAR_SUFFIXES)), None)
    stem = next((name[:-len(s)] for s in GENERATED_C if name.endswith(s)), None)
    return next((stem + g for g in GRAMMAR_SUFFIXES if stem + g in siblings), None) if stem else None


def _generated_head(name: str, dir_fd: int) -> bool:
    """Whether the file ``name`` of the open directory says in its first ``GENERATED_HEAD`` bytes that a parser or
    scanner generator wrote it (``_GENERATOR_MARK``: bison, byacc, flex, re2c, ...)."""
    read = _read_regular(name, dir_fd, GENERATED_HEAD)
    return not isinstance(read, str) and _GENERATOR_MARK.search(read[1][:GENERATED_HEAD]) is not None


def _script_language(name: str, dir_fd: int) -> str | None:
    """The language of a file that may be a script (``may_be_script``) in the open directory ``dir_fd``, from its
    ``#!`` line; None if it has none, or is not a readable regular file (it is never followed)."""
    if not may_be_script(name):
        return None
    read = _read_regular(name, dir_fd, SHEBANG_BYTES)
    return None if isinstance(read, str) else shebang_language(read[1])


def _default_skip(name: str, sources: str = "") -> str | None:
    """Why a directory is skipped by its name: vendored dependencies, a cache, build output
    (``dist/`` and the like beside ``sources``, the name of a sibling ``src/`` or ``lib/``), a hidden
    directory (``KEPT_HIDDEN_DIRS`` aside); or None."""
    if name in CACHE_DIRS:
        return "cache"
    if name in VENDORED_DIRS:
        return "vendored dependencies"
    if sources and name in BUILD_DIRS:
        return f"build output ({name}/ beside {sources}/; `!{name}/` in {OWN_IGNORE_FILE} indexes it)"
    if name.startswith(".") and name not in KEPT_HIDDEN_DIRS:
        return f"hidden directory (`!{name}/` in {OWN_IGNORE_FILE} indexes it)"
    return None


def encodable(text: str) -> str:
    """Text that encodes as UTF-8: a name's bytes that are not UTF-8 (held as surrogates) as U+FFFD, as the index
    names a file it skips for such a name (JSON and the MCP SDK refused the surrogates of a repository at `repo\\xfe`:
    every answer an error)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _holds_typescript_sources(dir_fd: int, name: str, look: int = 500) -> bool:
    """Whether the directory ``name`` (in the open directory ``dir_fd``) holds TypeScript sources (``.ts``, not a
    ``.d.ts``) among its first ``look`` entries: build output beside ``src/`` never does, as no compiler writes them."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError:
        return False
    try:
        with os.scandir(fd) as entries:
            for n, entry in enumerate(entries):
                if n >= look:
                    return False
                if entry.name.endswith(TYPESCRIPT_SUFFIXES) and not entry.name.endswith(DECLARATION_SUFFIXES):
                    return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def build_output_reason(name: str, siblings: frozenset[str]) -> str | None:
    """Why the file ``name`` is build output, judged from the names in its directory, or None:
    declarations or JavaScript compiled from a TypeScript file beside it, a file beside its
    source map, or one generated from a file beside it (``GENERATED_FROM``; see also ``_grammar_of``). A ``.d.ts``
    without such a source is a hand-written declaration: None."""
    if name + ".map" in siblings:
        return f"build output (beside its source map {name}.map)"
    generator = next((g for g in GENERATED_FROM.get(name, ()) if g in siblings), None)
    if generator:
        return f"build output (generated from {generator})"
    stem = next((name[:-len(s)] for s in DECLARATION_SUFFIXES if name.endswith(s)), None)
    made = "declarations"
    if stem is None:
        stem, made = next((name[:-len(s)] for s in COMPILED_SUFFIXES if name.endswith(s)), None), "compiled"
    if not stem:
        return None
    source = next((stem + s for s in TYPESCRIPT_SUFFIXES if stem + s in siblings), None)
    return f"build output ({made} from {source})" if source else None


def _map_sources_present(dir_fd: int, map_name: str, rel_dir: str, root: Path) -> bool:
    """Whether a source map's sources are in the tree (its file is then build output), read from the start of the
    map (``MAP_HEAD_BYTES``: ``sources`` come before the mappings and any ``sourcesContent``). True whenever that
    cannot be told (an unreadable map, no list of sources there, a source named by a URL): the file stays build
    output. False when no source is in the tree, where the map puts it or at any tail of its path (an npm package
    that ships `distribution/` and its maps without the `source/` they name: that JavaScript is the only copy of
    its code)."""
    try:
        fd = os.open(map_name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
        try:
            head = os.read(fd, MAP_HEAD_BYTES) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
        finally:
            os.close(fd)
        listed = _MAP_SOURCES.search(head)
        base = _MAP_ROOT.search(head)
        sources = json.loads(b"[" + listed.group(1) + b"]") if listed else None
        base_dir = json.loads(b'"' + base.group(1) + b'"') if base else ""
    except (OSError, ValueError):
        return True
    if not sources or not all(isinstance(s, str) and s and "://" not in s and not s.startswith("/") for s in sources):
        return True
    with Tree(root) as tree:  # reached without following a link (`esc -> /` and a map naming `esc/etc/passwd`
        for source in sources[:MAP_SOURCES_CHECKED]:  # told whether that file exists): a link counts as absent
            # Where the map says, or anywhere its path ends up once a package is flattened (openlayers' `dist/ol.js`
            # names `../ol/events/Event.js`, shipped as `events/Event.js`): each tail of the path, from the root.
            parts = [p for p in posixpath.normpath(posixpath.join(rel_dir, base_dir, source)).split("/") if p != ".."]
            if any(_present(tree, "/".join(parts[i:])) for i in range(len(parts))):
                return True
    return False


def _present(tree: Tree, path: str) -> bool:
    """Whether ``path`` is in ``tree`` and no link (``Tree.lstat``: no link on the way is followed)."""
    try:
        return not stat.S_ISLNK(tree.lstat(path).st_mode)
    except OSError:
        return False


def _kept(patterns: list[Pattern], rel: str) -> bool:
    """Whether a ``!`` pattern of .codesearchignore names the file ``rel`` or a directory above it."""
    parts = rel.split("/")
    return decision(patterns, rel, False, source=OWN_IGNORE_FILE) is False or any(
        decision(patterns, "/".join(parts[:i]), True, source=OWN_IGNORE_FILE) is False for i in range(1, len(parts)))


def _is_plain_dir(entry: os.DirEntry[str]) -> bool:
    """Whether the entry is a directory (a link to one is not)."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _special_file_reason(entry: os.DirEntry[str]) -> str:
    try:
        mode = entry.stat(follow_symlinks=False).st_mode
    except OSError as exc:
        return f"not readable: {exc.strerror or exc}"
    return f"not a regular file ({file_type(mode)})"


def file_type(mode: int) -> str:
    """A file type in words, from ``st_mode``."""
    for test, name in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "directory"), (stat.S_ISLNK, "symlink")):
        if test(mode):
            return name
    return "special file"


def _file_entry(
    entry: os.DirEntry[str], root: str, rel: str, language: str, limits: Limits, keep_build_output: bool = False
) -> Iterator[FileEntry | SkippedFile]:
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError as exc:
        yield SkippedFile(rel, f"not readable: {exc.strerror or exc}")
        return
    if entry.name.endswith(MINIFIED_SUFFIXES):
        yield SkippedFile(rel, "minified (by name)")
    elif st.st_size > limits.max_bytes:
        yield SkippedFile(rel, f"too large ({st.st_size:,} bytes; limit {limits.max_bytes:,})")
    else:
        yield FileEntry(rel, root, language, st.st_size, st.st_mtime_ns, st.st_ctime_ns, keep_build_output)


class Tree:
    """A directory tree looked at from its root down without following any symlink: each directory below
    ``root`` is opened relative to its parent's descriptor with ``O_NOFOLLOW``, so a component swapped for a
    link at any moment fails with ELOOP or ENOTDIR instead of leading outside the root.

    The directories it opened stay open until ``close`` (or the end of a ``with`` block), so that looking at
    many files of one tree at once (a search's hits) opens each directory once, not once per file. Within
    that time a directory renamed or swapped for a link is still the one opened: never a way out of the root.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = str(root)
        self._dirs: dict[str, int] = {}  # relative directory ("" the root) -> its descriptor

    def __enter__(self) -> Tree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every directory opened."""
        dirs, self._dirs = self._dirs, {}
        for fd in dirs.values():
            os.close(fd)

    def open(self, path: str) -> int:
        """A read-only descriptor of the file ``path`` (relative), opened ``O_NONBLOCK`` too, so that a FIFO
        cannot block; check ``fstat`` before reading. The caller closes it.

        :raises OSError: if a component is a symlink, missing or unreadable, or ``path`` is not a plain
            relative path (EINVAL).
        """
        directory, name = self._parent(path)
        return os.open(name, _FILE_FLAGS, dir_fd=directory)

    def lstat(self, path: str) -> os.stat_result:
        """The stat of ``path`` itself (a link's own, not its target's), opening nothing but its directories.

        :raises OSError: as ``open`` does for its directories; ENOENT if it is missing.
        """
        directory, name = self._parent(path)
        return os.stat(name, dir_fd=directory, follow_symlinks=False)

    def _parent(self, path: str) -> tuple[int, str]:
        """The descriptor of ``path``'s directory, and its last component."""
        directory, _, name = path.rpartition("/")
        fd = self._dirs.get(directory)
        if fd is not None and name not in ("", ".", ".."):
            return fd, name  # a directory opened for an earlier file (its own parts were checked then)
        parts = path.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise OSError(errno.EINVAL, f"not a plain relative path: {path!r}")
        fd = self._dirs.get("")
        if fd is None:
            fd = self._dirs[""] = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
        for i in range(1, len(parts)):
            here = "/".join(parts[:i])
            opened = self._dirs.get(here)
            if opened is None:
                opened = self._dirs[here] = os.open(parts[i - 1], _DIR_FLAGS, dir_fd=fd)
            fd = opened
        return fd, parts[-1]


def open_inside(root: str | Path, path: str) -> int:
    """A read-only descriptor of ``root/path``, reached without following any symlink (``Tree.open``).

    :raises OSError: if a component is a symlink, missing or unreadable, or ``path`` is not
        a plain relative path (EINVAL).
    """
    with Tree(root) as tree:
        return tree.open(path)


def lstat_inside(root: str | Path, path: str) -> os.stat_result | None:
    """The stat of ``root/path`` itself (a link's own), reached without following any symlink (``Tree.lstat``), or
    None where it cannot be reached so: missing, below a link, not a plain relative path, a name too long."""
    try:
        with Tree(root) as tree:
            return tree.lstat(path)
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return None


def read_inside(root: str | Path, path: str, max_bytes: int) -> tuple[os.stat_result, bytes] | str:
    """The stat and the first ``max_bytes + 1`` bytes of the regular file ``root/path``, or why not.

    Never follows a symlink (see ``open_inside``) and never reads a FIFO, socket or device.
    """
    try:
        fd = open_inside(root, path)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return "not readable: it or a directory above it became a symlink (links are not followed)"
        return f"not readable: {exc.strerror or exc}"
    return _read_fd(fd, max_bytes)


def _read_regular(name: str, dir_fd: int, max_bytes: int) -> tuple[os.stat_result, bytes] | str:
    """Like ``read_inside``, for the entry ``name`` of the open directory ``dir_fd``."""
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "not readable: it is a symlink (links are not followed)"
        return f"not readable: {exc.strerror or exc}"
    return _read_fd(fd, max_bytes)


def _read_fd(fd: int, max_bytes: int) -> tuple[os.stat_result, bytes] | str:
    """The stat and first ``max_bytes + 1`` bytes of ``fd`` if it is a regular file with one name (closes ``fd``).

    A file with several names (a hard link) is not read: its other name may lie outside the repository, and
    nothing tells (a hostile archive unpacked by Python's `tarfile` links `deploy_key.sh` to the user's
    `~/.ssh/id_rsa`, and its key came back from a search; git never writes a hard link into a work tree)."""
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return f"not a regular file ({file_type(st.st_mode)})"
        if st.st_nlink > 1:
            return (f"a hard link ({st.st_nlink} names for one file, and another may lie outside the repository: "
                    "not read)")
        try:
            return st, fh.read(max_bytes + 1)
        except OSError as exc:
            return f"not readable: {exc.strerror or exc}"


def read_source(found: FileEntry, limits: Limits = Limits()) -> SourceFile | SkippedFile:
    """Read a found file and check its content; a SkippedFile says why it cannot be indexed."""
    read = read_inside(found.root, found.local_path, limits.max_bytes)
    if isinstance(read, str):
        return SkippedFile(found.path, read)
    st, data = read
    if len(data) > limits.max_bytes:
        return SkippedFile(found.path, f"too large (over {limits.max_bytes:,} bytes)")
    reason = content_problem(data, limits)
    if reason:
        return SkippedFile(found.path, reason)
    if not found.keep_build_output and SOURCE_MAP_TRAILER.search(data[-TRAILER_BYTES:]):
        return SkippedFile(found.path, "build output (ends with a sourceMappingURL comment)")
    if (not found.keep_build_output and found.path.rsplit("/", 1)[-1] in AUTOMAKE_HELPERS
            and _AUTOMAKE_MARK.search(data[:AUTOMAKE_HEAD])):
        return SkippedFile(found.path, "build tooling (a helper script automake copies into a project)")
    language = header_language(found.path, found.language, data)
    return SourceFile(found.path, language, source_bytes(language, data), st.st_mtime_ns, st.st_ctime_ns)


# A Python (PEP 263) or Ruby coding declaration on one of the first two lines: `# -*- coding: latin-1 -*-`.
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
CODING_LANGUAGES = frozenset({"python", "ruby"})


def source_bytes(language: str, data: bytes) -> bytes:
    """A file's bytes as the indexer reads them: UTF-8 as they are; a Python or Ruby file that is not UTF-8 and
    declares its encoding (an ASCII-compatible one: the lines stay where they are) decoded by it, as UTF-8 (a name
    with an `é` in a Latin-1 file was cut there, `calcule_d`). The index's hash of a file is of these bytes, at
    index and at search time alike (``codesearch.freshness``). Anything else stays as it is (read with `?`s)."""
    if language not in CODING_LANGUAGES:
        return data
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    for line in data.split(b"\n", 2)[:2]:
        declared = _CODING.match(line)
        if declared is None:
            continue
        try:
            name = declared.group(1).decode("ascii")
            if "\n#".encode(name) != b"\n#":  # not ASCII-compatible (UTF-16...): no Python or Ruby file is in it
                return data
            return data.decode(name).encode("utf-8", "surrogatepass")
        except (LookupError, UnicodeError, ValueError):
            return data
    return data


def content_problem(data: bytes, limits: Limits = Limits()) -> str | None:
    """Why these bytes should not be indexed (binary, minified), or None if they are fine."""
    if b"\0" in data[:8192]:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # a byte-order mark: text in UTF-16 or UTF-32, not binary
            return "UTF-16 or UTF-32 text (only UTF-8 and ASCII-compatible encodings are read)"
        return "binary (contains NUL bytes)"
    if not data:
        return None
    if b"Generated by Cython" in data[:256]:  # aiohttp's mask.c: 20,000 lines of `__Pyx_*` beside its .pyx
        return "generated by Cython (its .pyx is the source)"
    lines = data.count(b"\n") + 1
    # Indentation does not make code minified: count the characters that are not blanks.
    dense = len(data) - data.count(b" ") - data.count(b"\t")
    if dense / lines > limits.max_mean_line_chars:
        return f"minified or generated (mean line length {dense // lines:,} non-blank characters)"
    # A few long lines among many ordinary ones are data written into the code (plug's `debugger.ex` holds
    # its logo in two lines of 36,678 characters, in 589 lines of hand-written Elixir): the file is indexed,
    # and results show such a line cut short (``codesearch.search.results.snippet_of``). The mean above
    # bounds what they can hold.
    long = [n for n in map(len, data.split(b"\n")) if n > limits.max_line_chars]
    if long and len(long) * 1000 > lines * limits.long_lines_per_1000:
        return f"minified or generated (a line of {max(long):,} characters)"
    return None


def _ignore_patterns(dir_fd: int, rel_dir: str, names: frozenset[str], room: int, simulated: int
                     ) -> tuple[list[Pattern], list[tuple[str, int]]]:
    """The patterns of the ignore files in the open directory ``dir_fd`` (``rel_dir`` from the root),
    among its ``names``, at most ``room`` of them and ``simulated`` of those on the NFA; and how many each file
    had past that (name, count).

    An ignore file that is a link, a FIFO or anything but a regular file is never read
    (opening it cannot block, see ``_open_regular``); one larger than ``MAX_IGNORE_BYTES``
    is read up to that size.
    """
    patterns: list[Pattern] = []
    dropped: list[tuple[str, int]] = []
    for name in IGNORE_FILES:
        if name not in names:
            continue
        read = _read_regular(name, dir_fd, MAX_IGNORE_BYTES)
        if isinstance(read, str):
            continue
        lines = read[1][:MAX_IGNORE_BYTES].decode("utf-8", errors="replace").splitlines()
        kept: list[Pattern] = []
        unused = 0
        for n, line in enumerate(lines):
            if len(patterns) + len(kept) >= room:
                # Past the limit, lines are counted, not compiled (a hostile file paid for each of its 3,000 lines).
                unused += sum(1 for rest in lines[n:] if is_pattern_line(rest))
                break
            pattern = compile_line(line, rel_dir, source=name)
            if pattern is None:
                continue
            if pattern.matcher.simulated:
                if simulated <= 0:
                    unused += 1
                    continue
                simulated -= 1
            kept.append(pattern)
        if unused:
            dropped.append((name, unused))
        patterns.extend(kept)
    return patterns, dropped


def _symlink_reason(root: Path, link: Path) -> str | None:
    """Why a symlink is skipped, or None for a link named as no source file is (an extension no language has) to
    anything but a directory or a source file: awesome's 20 linked PNGs were reported as skipped, where a PNG is
    left out without a word. A link without an extension may stand for a directory or a script: it is reported."""
    quiet = "." in link.name.lstrip(".") and file_language(link.name) is None
    # Outside is told before the target is looked at: whether a file outside exists is not the repository's to
    # learn (links to `~/.ssh/id_rsa` and to a missing file had different reasons, shown to an MCP agent).
    target = _follow(root, link)
    if target == _OUTSIDE:  # named as no source file, to a name of none: quiet
        try:
            written = Path(os.readlink(link)).name
        except OSError:
            written = ""
        return None if quiet and file_language(written) is None else "symlink points outside the repository"
    if not isinstance(target, Path):
        return None if quiet else "symlink is broken or loops"
    if quiet and file_language(target.name) is None and not target.is_dir():
        return None
    where = target.relative_to(root).as_posix() or "."  # ``_follow`` ends inside, or says it does not
    if target.is_dir():
        return f"symlink inside the repository (not followed; {where}/ is walked at its own path)"
    if file_language(target.name) is not None or script_at(root, where):
        return f"symlink inside the repository (not followed; {where} is indexed at its own path)"
    return f"symlink inside the repository (not followed; {where} is no source file)"


LINK_HOPS = 40  # links followed in a row before a link is taken to loop (as the kernel's limit)
_OUTSIDE, _BROKEN = "outside", "broken"


def _follow(root: Path, link: Path) -> Path | str:
    """Where ``link`` leads: the place inside ``root`` (resolved) it ends at, ``_OUTSIDE`` if following it passes
    through any place outside, or ``_BROKEN`` (a part missing inside, or more than ``LINK_HOPS`` links: a loop).
    Its links are followed one part at a time and `..` applied where they lead, as the system does, and no place
    outside is looked at, so the answer says nothing of what exists there (a target through `/root/.cache/../../`
    was told inside when that directory existed, broken when not; a chain of 41 links, then resolved by Python,
    which has no limit, told it again: the rechecks)."""
    def outside(place: Path) -> bool:
        return not (place == root or root in place.parents or place in root.parents)

    try:
        place, parts, hops = link.parent, list(Path(os.readlink(link)).parts), 0
    except OSError:
        return _BROKEN
    while parts:
        part = parts.pop(0)
        if part == os.sep:
            place = Path(os.sep)
            continue
        if part in ("", "."):
            continue
        place = place.parent if part == ".." else place / part
        if outside(place):
            return _OUTSIDE
        if part == ".." or place in root.parents:
            continue
        try:
            mode = os.lstat(place).st_mode
        except OSError:
            return _BROKEN  # a part missing inside
        if stat.S_ISLNK(mode):
            hops += 1
            if hops > LINK_HOPS:
                return _BROKEN
            try:
                parts[:0] = Path(os.readlink(place)).parts
            except OSError:
                return _BROKEN
            place = place.parent
    return _OUTSIDE if place in root.parents else place


def script_at(root: Path, path: str) -> bool:
    """Whether the file ``path`` (under ``root``) is a script by its first line
    (``shebang_language``: bash-completion's 239 links to completion scripts said their targets were "no source
    file"), read as the walk reads one (``read_inside``: no link followed, no FIFO opened)."""
    if not may_be_script(path.rsplit("/", 1)[-1]):
        return False
    read = read_inside(root, path, SHEBANG_BYTES)
    return not isinstance(read, str) and shebang_language(read[1]) is not None


def _printable_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
