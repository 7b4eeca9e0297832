"""The client side of ``codesearch resident``: find its socket, check it is private, ask, read the reply.

Standard library only, and none of its slower modules (no ``pathlib``, ``dataclasses`` or
``typing`` at run time): the console script (``codesearch.entry``) imports this module to
print a resident process's answer before click, the CLI or the search stack is imported.
``codesearch.resident`` (the server) re-exports these functions with ``Path`` results.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import struct
from collections.abc import Iterator

from codesearch import __version__

try:  # CPython's own SHA-256, without OpenSSL: hashlib costs ~3 ms to import, on the resident answer's path
    from _sha256 import sha256
except ImportError:  # Python 3.12 and later call it _sha2; any Python has hashlib
    try:
        from _sha2 import sha256  # type: ignore[no-redef]
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment]
from codesearch.store.layout import DB_NAME, INDEX_DIR_NAME

PROTOCOL = 1
MAX_REPLY_BYTES = 256 << 20
CLIENT_TIMEOUT_S = 10.0  # the client's wait for an answer before it searches by itself
_PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
# What marks the top of a project's source tree that no git work tree or index marks (an sdist, an npm package,
# a crate or a module unpacked from a registry): a link below it that leads out of it is the tree's, not the
# user's own alias (a tarball's `packages/api -> ../../private/notes` led `codesearch index` and the MCP server
# out of it, and wrote `.codesearch` there).
PROJECT_MARKERS = frozenset({
    ".hg", ".svn", "PKG-INFO", "pyproject.toml", "setup.py", "setup.cfg", "Pipfile", "tox.ini", "requirements.txt",
    "package.json", "tsconfig.json", "deno.json", "deno.jsonc", "Cargo.toml", "go.mod", "pom.xml", "build.gradle",
    "build.gradle.kts", "settings.gradle", "settings.gradle.kts", "build.sbt", "composer.json", "Gemfile",
    "Rakefile", "CMakeLists.txt", "meson.build", "configure", "configure.ac", "Makefile", "GNUmakefile",
    "Makefile.PL", "Build.PL", "META.json", "META.yml", "conanfile.py", "conanfile.txt", "SConstruct", "WORKSPACE",
    "WORKSPACE.bazel", "MODULE.bazel", "BUILD", "BUILD.bazel", "mix.exs", "Package.swift", "build.zig",
    "stack.yaml", "cabal.project", "Setup.hs", "package.yaml", "dune-project", "project.clj", "deps.edn",
    "shard.yml", "pubspec.yaml"})
PROJECT_SUFFIXES = (".gemspec", ".cabal", ".csproj", ".fsproj", ".vbproj", ".sln", ".rockspec", ".nuspec",
                    ".podspec", ".nimble")


def runtime_dir() -> str:
    """The per-user directory of the sockets: ``$XDG_RUNTIME_DIR/codesearch``, else ``cache_root()/run``."""
    base = os.environ.get("XDG_RUNTIME_DIR", "")
    if base and os.path.isabs(base):
        return os.path.join(base, "codesearch")
    cache = os.environ.get("CODESEARCH_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "codesearch"))
    return os.path.join(cache, "run")  # as codesearch.cache.cache_root() / "run"


def socket_path(index_dir: str | os.PathLike[str]) -> str:
    """The socket of the resident process for ``index_dir``, named by a SHA-256 of its resolved path: a CRC-32 of it
    could be forged (a directory name chosen to collide with another repository's index took its socket, and that
    repository could not start a resident process)."""
    key = os.path.realpath(index_dir).encode("utf-8", "surrogateescape")
    return os.path.join(runtime_dir(), f"{sha256(key).hexdigest()[:32]}.sock")


def is_private(st: os.stat_result, kind: int) -> bool:
    """True if ``st`` is of ``kind`` (``stat.S_IFDIR``, ``stat.S_IFSOCK``), this user's, and closed to others."""
    return stat.S_IFMT(st.st_mode) == kind and st.st_uid == os.getuid() and not st.st_mode & 0o077


def private_socket(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` is a socket in a private directory, both this user's and closed to others."""
    try:
        return (is_private(os.lstat(os.path.dirname(os.fspath(path))), stat.S_IFDIR)
                and is_private(os.lstat(path), stat.S_IFSOCK))
    except OSError:
        return False


def nearest_index(start: str | os.PathLike[str]) -> str | None:
    """The ``.codesearch`` in ``start`` or its nearest parent, as ``find_index`` finds it, without
    importing the search stack; None when there is none or anything is unusual (a symlink, an
    unreadable directory, a path that leads out of a repository through a symlink): the search in the
    CLI's own process then says why."""
    if escaping_link(start) is not None:
        return None
    return _nearest(os.path.realpath(os.path.abspath(start)))


def escaping_link(start: str | os.PathLike[str]) -> tuple[str, str] | None:
    """(the symlink, the repository) when ``start``, walked up as written, goes through a symlink below a
    repository (an indexed one, a git work tree's top, or a project's top: ``_tops``) and leads out of every
    repository above it up to the nearest indexed or git one (one the repository may have planted: ``dirlink ->
    /elsewhere``); else None. A link above every repository (``~/src`` pointing at another disk) is none, and so is
    one that stays in the repository (a monorepo's `packages/app/shared -> ../lib`, below `packages/app`'s own
    package.json). ``find_index``, ``codesearch index`` and the MCP server refuse such a path, and this module's
    lookup finds no index for it."""
    written = _as_written(start)
    directory = written
    while os.path.dirname(directory) != directory:
        if os.path.islink(directory):  # the lowest link of the path
            tops = list(_tops(os.path.dirname(directory)))
            target = os.path.realpath(written)
            if not tops or any(_inside(target, os.path.realpath(top)) for top in tops):
                return None
            return directory, tops[0]
        directory = os.path.dirname(directory)
    return None


def _as_written(start: str | os.PathLike[str]) -> str:
    """``start`` made absolute as the user wrote it: a relative one from the shell's working directory (``$PWD``,
    which keeps the links it was reached through, when it is the process's), not the kernel's resolved one (`cd
    clone/packages/api && codesearch mcp .` went through the planted link unseen)."""
    text = os.fspath(start)
    if not os.path.isabs(text):
        shell = os.environ.get("PWD", "")
        try:
            if os.path.isabs(shell) and os.path.samefile(shell, "."):
                return os.path.normpath(os.path.join(shell, text))
        except OSError:
            pass
    return os.path.abspath(text)


def refuse_escaping(path: str | os.PathLike[str]) -> None:
    """:raises UnsafeIndexDir: if ``path``, as written, goes through a symlink below a repository (indexed, or a git
    work tree's top) and leads out of it (``escaping_link``): a clone's planted `packages/api -> ../../private` made
    `codesearch mcp clone/packages/api` serve, index and write the private directory, and `codesearch index` index
    it."""
    if (escape := escaping_link(path)) is not None:
        from codesearch.errors import UnsafeIndexDir

        link, repository = escape
        raise UnsafeIndexDir(f"{_as_written(path)} leads out of the repository {repository} through the symlink "
                             f"{link}; links are never followed (give the path it leads to, "
                             f"{os.path.realpath(path)}, if you mean it)")


def _tops(directory: str) -> Iterator[str]:
    """The repositories at or above ``directory``, as written, nearest first: a project's top (``PROJECT_MARKERS``,
    ``PROJECT_SUFFIXES``), up to and with the nearest one that holds an index or is a git work tree's top (``.git``,
    a directory or a file)."""
    while True:
        if _is_repository(directory):
            yield directory
            return
        if _is_project(directory):
            yield directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return
        directory = parent


def _is_repository(directory: str) -> bool:
    """Whether ``directory`` is a git work tree's top or holds an index (``_nearest``)."""
    if os.path.lexists(os.path.join(directory, ".git")):
        return True
    try:
        index = os.path.join(directory, INDEX_DIR_NAME)
        if not stat.S_ISLNK(os.lstat(index).st_mode):
            os.lstat(os.path.join(index, DB_NAME))
            return True
    except OSError:
        pass
    return False


def _is_project(directory: str) -> bool:
    """Whether ``directory`` holds a file that marks a project's top (``PROJECT_MARKERS``, ``PROJECT_SUFFIXES``)."""
    try:
        with os.scandir(directory) as entries:
            return any((entry.name in PROJECT_MARKERS or entry.name.endswith(PROJECT_SUFFIXES))
                       and (entry.name in (".hg", ".svn") or not entry.is_dir(follow_symlinks=False))
                       for entry in entries)
    except OSError:
        return False


def _nearest(directory: str) -> str | None:
    while True:
        candidate = os.path.join(directory, INDEX_DIR_NAME)
        try:
            if stat.S_ISLNK(os.lstat(candidate).st_mode):
                return None
            os.lstat(os.path.join(candidate, DB_NAME))
        except (FileNotFoundError, NotADirectoryError):
            parent = os.path.dirname(directory)
            if parent == directory:
                return None
            directory = parent
            continue
        except OSError:
            return None
        return candidate


def peer_uid(conn: socket.socket) -> int | None:
    """The uid of the process at the other end (Linux), or None where the platform cannot say."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    return int(_PEERCRED.unpack(conn.getsockopt(socket.SOL_SOCKET, option, _PEERCRED.size))[1])


def read_line(conn: socket.socket, limit: int) -> bytes | None:
    """One newline-terminated message of at most ``limit`` bytes (None: too long or cut short)."""
    chunks, size = [], 0
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        chunks.append(chunk)
        size += len(chunk)
        if chunk.endswith(b"\n"):
            return b"".join(chunks)
        if size > limit:
            return None


def ask(index_dir: str | os.PathLike[str], request: dict[str, object],
        timeout: float = CLIENT_TIMEOUT_S) -> dict[str, object] | None:
    """The reply of the resident process for ``index_dir`` to ``request``, or None: no process, a
    socket or directory that is not this user's alone, a server of another uid, no answer in
    ``timeout`` seconds, or a reply that is not a JSON object."""
    path = socket_path(index_dir)
    if not private_socket(path):
        return None
    message = json.dumps({"protocol": PROTOCOL, "version": __version__, "index_dir": os.path.realpath(index_dir),
                          **request}) + "\n"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(path)
            uid = peer_uid(conn)
            if uid is not None and uid != os.getuid():
                return None
            conn.sendall(message.encode("utf-8", "surrogatepass"))
            line = read_line(conn, MAX_REPLY_BYTES)
    except (OSError, UnicodeError):
        return None
    try:
        reply = json.loads(line) if line is not None else None
    except (ValueError, RecursionError):
        return None
    return reply if isinstance(reply, dict) else None


def search_request(params: dict[str, object], paths: tuple[str, ...], query: str,
                   use_color: bool) -> tuple[str, dict[str, object]] | None:
    """The index directory and the request that ``codesearch search`` sends a resident process, from
    the search command's parameters (click's names) and its checked PATHs; None when no resident
    process may answer it (--no-resident, --workspace, several PATHs, --rerank-model, no index found).
    The CLI and the console script's fast path (``codesearch.entry``) both build it here."""
    if params["no_resident"] or params["workspace"] is not None or len(paths) > 1 \
            or params["rerank_model"] is not None:
        return None
    path = paths[0] if paths else "."
    index_dir = params["index_dir"]
    directory = os.fspath(index_dir) if index_dir is not None else nearest_index(path)  # type: ignore[arg-type]
    if directory is None:
        return None
    resolved = os.path.realpath(path)
    fmt = "json" if params["as_json"] else params["fmt"]
    return directory, {
        "query": query, "k": params["k"], "language": params["language"], "kinds": params["kinds"],
        "include": params["path_globs"], "exclude": params["exclude_globs"], "whole_index": params["whole_index"],
        "path": resolved, "root": resolved if index_dir is not None and paths else None, "cwd": os.getcwd(),
        "hybrid": params["hybrid"], "rerank": params["rerank"], "candidates": params["candidates"],
        "by_file": params["by_file"], "per_file": params["per_file"], "min_score": params["min_score"], "format": fmt,
        "max_lines": params["max_lines"], "explain": params["explain"], "color": use_color,
        "quiet": params["quiet"]}


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def search_reply(directory: str, request: dict[str, object]) -> tuple[str | None, bool, str | None] | None:
    """What the resident process printed for a search (None: nothing), whether it found anything and its notice for
    standard error (None: none); None when no resident process answered it."""
    reply = ask(directory, {"op": "search", **request})
    if reply is None or reply.get("ok") is not True:
        return None
    text, notice = reply.get("text"), reply.get("notice")
    return (text if isinstance(text, str) else None), bool(reply.get("found")), \
        (notice if isinstance(notice, str) else None)
