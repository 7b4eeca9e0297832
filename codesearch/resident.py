"""A resident search process: one index kept open, asked by ``codesearch search`` over a local socket.

A one-shot search spends most of its time starting (numpy, FAISS, the model, the index);
``codesearch resident`` pays that once and answers searches for one index until it is
stopped, as ``dmypy`` does for mypy. ``codesearch search`` tries it first (``ask``) and falls
back to searching in its own process, silently, whenever it gets no answer.

Safety:

- a Unix domain socket only, in a per-user directory (``$XDG_RUNTIME_DIR/codesearch``, else
  ``~/.cache/codesearch/run``; ``runtime_dir``), never inside a repository; the directory is
  mode 0700 and the socket 0600, and both must be this user's before a client connects or a
  server binds (``UnsafeRuntimeDir``); on Linux each side also checks the other's uid (``SO_PEERCRED``);
- the socket's name is derived from the index directory's resolved path, and the server answers
  only for the index it opened: nothing in a repository (no file in ``.codesearch/``) names,
  starts or points to a process; only the user starts one;
- the protocol is one JSON request line and one JSON reply line per connection, at most
  ``MAX_REQUEST_BYTES``; a request only searches (or asks ``status``, or ``stop``).

The client side lives in ``codesearch.resident_client`` (standard library only: the console script
asks before importing click); this module imports nothing heavy at the top either, and the server
imports the search stack when it starts.
"""

from __future__ import annotations

import json
import os
import posixpath
import socket
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codesearch import __version__
from codesearch import resident_client as client
from codesearch.errors import BadQuery, CodeSearchError
from codesearch.resident_client import CLIENT_TIMEOUT_S, MAX_REPLY_BYTES, PROTOCOL, ask, private_socket
from codesearch.store.layout import DB_NAME, INDEX_DIR_NAME

if TYPE_CHECKING:
    from collections.abc import Sequence

    from codesearch.search import Searcher, SearchResult
    from codesearch.search.files import FileHits

MAX_REQUEST_BYTES = 1 << 20
SERVER_READ_TIMEOUT_S = 2.0  # a connection that sends no full request by then is dropped
__all__ = ["CLIENT_TIMEOUT_S", "MAX_REPLY_BYTES", "PROTOCOL", "Answer", "Resident", "ResidentError",
           "ResidentRunning", "UnsafeRuntimeDir", "ask", "nearest_index", "private_socket", "runtime_dir",
           "search_answer", "socket_path"]


class ResidentError(CodeSearchError):
    """A resident process cannot start."""


class UnsafeRuntimeDir(ResidentError):
    """The resident process's directory or socket is not this user's alone."""


class ResidentRunning(ResidentError):
    """A resident process already answers for this index."""


@dataclass(frozen=True)
class Answer:
    """What a resident process printed for a search: ``text`` (None: print nothing), whether it found anything, and
    a ``notice`` for standard error (``search_notice``)."""

    text: str | None
    found: bool
    notice: str | None = None


def runtime_dir() -> Path:
    """The per-user directory of the sockets: ``$XDG_RUNTIME_DIR/codesearch``, else ``cache_root()/run``."""
    return Path(client.runtime_dir())


def socket_path(index_dir: Path) -> Path:
    """The socket of the resident process for ``index_dir`` (named after its resolved path)."""
    return Path(client.socket_path(index_dir))


def ensure_runtime_dir() -> Path:
    """``runtime_dir()``, created with mode 0700 if missing.

    :raises UnsafeRuntimeDir: if it is a symlink, someone else's, or open to others.
    """
    directory = runtime_dir()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(directory)
    except OSError as exc:
        raise UnsafeRuntimeDir(f"cannot create {directory}: {exc.strerror}") from exc
    if not client.is_private(st, stat.S_IFDIR):
        raise UnsafeRuntimeDir(f"{directory} must be a directory of yours that only you can open "
                               f"(chmod 700 {directory}); refusing to put a socket there")
    return directory


def nearest_index(start: Path) -> Path | None:
    """The ``.codesearch`` in ``start`` or its nearest parent, as ``find_index`` finds it (``client.nearest_index``)."""
    found = client.nearest_index(start)
    return None if found is None else Path(found)


def search_answer(index_dir: Path, request: dict[str, Any]) -> Answer | None:
    """A search answered by the resident process for ``index_dir`` (fields: ``search_request``), or None."""
    reply = client.search_reply(os.fspath(index_dir), request)
    return None if reply is None else Answer(*reply)


def subdirectory(root: Path, path: Path) -> str:
    """PATH relative to the repository root when it is a directory or file below it, else ``""``.

    :raises BadQuery: if it is the index directory or inside it (a search there found nothing, silently).
    """
    try:
        relative = Path(path).resolve().relative_to(root)
    except ValueError:
        return ""
    if relative.parts[:1] == (INDEX_DIR_NAME,):
        raise BadQuery(f"{path} is inside the index directory; search the repository it indexes")
    if str(relative) == ".":
        return ""
    from indexer.discover import encodable

    return encodable(relative.as_posix())  # as the index names a path that is not UTF-8 (`pkg\xff` as `pkg\ufffd`)


def search_output(query: str, results: Sequence[SearchResult], fmt: str, *, max_lines: int | None, explain: bool,
                  color: bool, elapsed_ms: float, extra: dict[str, Any], files: Sequence[FileHits] | None = None,
                  best: float | None = None) -> str | None:
    """What ``codesearch search`` prints for ``results`` in ``fmt`` (None: nothing), paths relative to the
    working directory; grouped by file when ``files`` is given (``--by-file``: ``results`` are then its hits).
    ``best``: the similarity that tells a weak answer (``files.Answer.best``; default: the best of ``results``).
    The text starts with a line naming the files added since the last index run (``unindexed``), if any."""
    text = _search_output(query, results, fmt, max_lines=max_lines, explain=explain, color=color,
                          elapsed_ms=elapsed_ms, extra=extra, files=files, best=best)
    if fmt == "text" and (line := unindexed_line(extra)) is not None:
        return line if text is None else f"{line}\n\n{text}"
    return text


def search_notice(fmt: str, extra: dict[str, Any], query: str = "", results: Sequence[SearchResult] = (),
                  best: float | None = None) -> str | None:
    """What a search prints to standard error: in ``grep`` and ``jsonl`` output, whose every line a program reads
    as a hit, the files added or deleted since the last index run (the text's first lines, JSON's ``unindexed`` and
    ``deleted``); when nothing was found, why (the text's ``No results: ...``, JSON's ``note``); and when every hit is
    weak, that (the text's warning line, JSON's ``note``: a made-up query's hits looked like answers).
    ``best``: as ``search_output``'s."""
    if fmt not in ("grep", "jsonl"):
        return None
    from codesearch import render

    weak = render.weak_answer(query, results, best) if results else ""
    lines = [unindexed_line(extra), None if results else no_results_line(extra),
             f"{weak[:1].upper()}{weak[1:]}." if weak else None]
    return "\n".join(line for line in lines if line) or None


def no_results_line(extra: dict[str, Any]) -> str | None:
    """The text output's line when nothing was found and ``extra`` says why (``not_indexed``, ``note``), or None."""
    from codesearch import render

    if skipped := extra.get("not_indexed"):  # names a repository wrote: shown escaped
        under, path, why = (render.one_line(str(skipped[key])) for key in ("under", "path", "reason"))
        if path == under:
            return f"No results: {under} is not indexed ({why})."
        return f"No results: nothing under {under} is indexed ({path}: {why})."
    if note := extra.get("note"):
        return f"No results: {render.one_line(str(note))}."
    return None


def _search_output(query: str, results: Sequence[SearchResult], fmt: str, *, max_lines: int | None, explain: bool,
                   color: bool, elapsed_ms: float, extra: dict[str, Any], files: Sequence[FileHits] | None,
                   best: float | None) -> str | None:
    """``search_output`` without the text's line about files added since indexing."""
    from codesearch import render
    from codesearch.search import files as files_module

    lines = max_lines or render.SNIPPET_LINES
    results, files = files_module.at_best_lines(query, results, files)
    if files_module.names_a_hit(query, results):
        best = max(best if best is not None else 0.0, render.WEAK_SIMILARITY)  # a hit named as asked: no weak one
    if fmt == "json" and "note" not in extra and (weak := render.weak_answer(query, results, best)):
        extra = {**extra, "note": weak}  # as the text's warning line and MCP's note say
    if files is not None:
        if fmt == "json":
            return render.files_to_json(query, files, max_lines, elapsed_ms=round(elapsed_ms, 2), **extra)
        if fmt == "jsonl":
            return "\n".join(render.files_to_jsonl(files, max_lines)) or None
        if fmt == "text":
            return render.files_to_text(files, color=color, explain=explain, snippet_lines=lines, best=best)
    if fmt == "json":
        return render.to_json(query, results, max_lines, elapsed_ms=round(elapsed_ms, 2), **extra)
    if fmt == "jsonl":
        return "\n".join(render.to_jsonl(results, max_lines)) or None
    if fmt == "grep":
        return render.to_grep(results, explain=explain) if results else None
    if not results and (line := no_results_line(extra)) is not None:
        return line
    return render.to_text(results, color=color, explain=explain, snippet_lines=lines, best=best)


def not_indexed(searcher: Any, under: str, results: Sequence[Any]) -> dict[str, Any]:
    """``{"not_indexed": {under, path, reason}}`` when a search of the subdirectory ``under`` found nothing
    because it lies in a skipped directory (a hidden or vendored one, build output), else ``{}``."""
    if results or not under:
        return {}
    found = searcher.reader.skipped_above(under)
    if found is None and under.split("/", 1)[0] == ".git":  # never walked, so never listed as skipped
        found = (".git", "git's own directory: never indexed")
    if found is None and unread_file(Path(searcher.root), under):
        found = (under, "not read: codesearch leaves out prose, data, lock files and unknown extensions")
    return {"not_indexed": {"under": under, "path": found[0], "reason": found[1]}} if found else {}


def below_floor(best: Any, min_score: float) -> dict[str, Any]:
    """``{"note": ...}`` for a search that ``--min-score`` left without results: the best hit's similarity without the
    floor (``best``: that search, a callable), or {} when there was none either (the recheck: a bare "No results.")."""
    found = best()
    if not found:
        return {}
    return {"note": f"no hit is as similar as --min-score {min_score:g} (the best: {found[0].score:.2f})"}


def unindexed(searcher: Any, under: str, paths: Any = None) -> dict[str, Any]:
    """``{"unindexed": {files, paths, root}}`` when source files below ``under`` (and through the ``paths`` filter,
    a ``PathFilter``) were added since the last index run (a one-shot search does not search them:
    ``freshness.unindexed_files``), and ``{"deleted": ...}`` in the same shape when indexed files were deleted since
    (``freshness.deleted_files``), else ``{}``."""
    return unindexed_of_several([searcher], paths, under)


def unindexed_of_several(searchers: Sequence[Any], paths: Any = None, under: str | Sequence[str] = ""
                         ) -> dict[str, Any]:
    """``unindexed`` over several repositories' indexes (``search Q A B``, a workspace): how many files were added
    since their last index runs, the first five by path relative to the repositories' common directory, and that
    directory as ``root`` (one shape with a single repository's); and as ``deleted``, in the same shape, the indexed
    files deleted since (a search leaves them out: ``Searcher.run``). A pack is not checked (as
    ``unindexed_files``). ``under``: the subdirectory searched, or one per searcher."""
    from codesearch.freshness import changed_directories, deleted_files, unindexed_files

    found, gone = [], []
    unders = [under] * len(searchers) if isinstance(under, str) else list(under)
    for searcher, under in zip(searchers, unders, strict=True):
        keep = None if paths is None or not paths.active else (
            lambda path, root=searcher.root: paths.matches(root, path))
        changed = changed_directories(searcher)  # one look at the directories for both
        if (added := unindexed_files(searcher, under, keep=keep, changed=changed)) is not None:
            found.append((added.root, added.count, added.paths))
        if deleted := deleted_files(searcher, under, keep=keep, changed=changed):
            gone.append((str(searcher.root), len(deleted), deleted[:5]))
    return {key: _files_in(listed) for key, listed in (("unindexed", found), ("deleted", gone)) if listed}


def _files_in(found: Sequence[tuple[str, int, Sequence[str]]]) -> dict[str, Any]:
    """``{files, paths, root}`` of (root, count, first paths) per repository: the count over all of them, the first
    five paths relative to their common directory, ``root``."""
    top = os.path.commonpath([root for root, _, _ in found])
    listed = [os.path.relpath(os.path.join(root, path), top).replace(os.sep, "/")
              for root, _, paths in found for path in paths][:5]
    return {"files": sum(count for _, count, _ in found), "paths": listed, "root": top}


def unindexed_line(extra: dict[str, Any]) -> str | None:
    """The text output's lines for ``extra["unindexed"]`` and ``extra["deleted"]`` (``unindexed``): the files
    added and those deleted since the last index run, neither searched; or None."""
    from codesearch.render import one_line, shown_path

    lines = []
    for key in ("unindexed", "deleted"):
        files = extra.get(key)
        if not files:
            continue
        count, paths = int(files["files"]), [one_line(shown_path(files["root"], str(p))) for p in files["paths"]]
        listed = ", ".join(paths) + (", ..." if count > len(paths) else "")
        them = "it" if count == 1 else "them"
        if key == "unindexed":
            lines.append(f"Not searched: {'1 file' if count == 1 else f'{count:,} files'} added since the last index "
                         f"run ({listed}); run `codesearch index` to add {them}.")
        else:
            lines.append(f"Not searched: {'1 indexed file' if count == 1 else f'{count:,} indexed files'} deleted "
                         f"since the last index run ({listed}); run `codesearch index` to drop {them}.")
    return "\n".join(lines) or None


def filtered_out(searcher: Any, results: Sequence[Any], language: str | None, globs: Sequence[str],
                 kinds: Sequence[str] = (), exclude: Sequence[str] = (), under: str = "") -> dict[str, Any]:
    """``{"note": ...}`` when a search found nothing because a filter matches nothing in the index: a language it
    has no file of (a new user's `-l kotlin` on an index without Kotlin said only "No results."), a path glob
    that no indexed file matches, a kind it has no chunk of (an agent's `kind: "class"` in Go, whose structs are
    types), or because the index holds nothing, or a path glob that matches files only outside ``under`` (the
    directory searched); else ``{}``."""
    if results:
        return {}
    if not searcher.reader.meta.count:
        return {"note": "the index holds no code (no file of a language codesearch reads, or every file skipped: "
                        "`codesearch stats` says why)"}
    if kinds:
        have = set(searcher.reader.kinds())
        if not have.intersection(kinds):
            return {"note": f"the index has no {' or '.join(kinds)} chunks (it has {', '.join(sorted(have))})"}
    if language is not None:
        from indexer.languages import canonical_language

        language = canonical_language(language)
    if language is not None and language not in (have := searcher.reader.languages()):
        return {"note": f"the index has no {language} files (it has {', '.join(sorted(have)) or 'none'})"}
    from codesearch.render import one_line
    from codesearch.search import PathFilter

    if not globs and not exclude:
        return _not_together(searcher, language, kinds, PathFilter(under=under, cwd=Path.cwd()), globs, exclude,
                             under)

    paths = searcher.reader.file_paths()
    for glob in globs:
        wanted = PathFilter(include=(glob,), cwd=Path.cwd())  # as the search matches it: `../pkg/*` from tests/
        if not any(wanted.matches(searcher.root, p) for p in paths):
            note = f"no indexed file matches path {glob!r}"
            deeper = f"*/{glob.lstrip('/')}"  # an agent's `sun/net/httpserver`, under jdk.httpserver/
            found = [] if glob.startswith(("*", "/")) else [
                p for p in paths if PathFilter(include=(deeper,)).matches(searcher.root, p)]
            if found:
                note += (f" from the repository's root; {deeper!r} matches {len(found):,} "
                         f"file{'s' if len(found) != 1 else ''} ({one_line(found[0])}, ...)")
            skipped = [(p, why) for p, why in searcher.reader.skipped_entries()
                       if wanted.matches(searcher.root, p) or wanted.matches(searcher.root, f"{p}/-")]
            if skipped:  # an agent's `path: "build/*"` said nothing of build/ skipped as build output
                path, why = skipped[0]  # a name the repository wrote (a terminal's escapes, a line end): escaped
                more = f" (and {len(skipped) - 1} more skipped there)" if len(skipped) > 1 else ""
                note += f": {one_line(path)} was skipped: {one_line(why)}{more}"
            elif present := named_files(Path(searcher.root), glob):  # libxcrypt's `hashes.conf`: "no such file"?
                more = f" (and {len(present) - 1} more)" if len(present) > 1 else ""
                note += f": {one_line(present[0])}{more} is there but {_not_indexed_because(searcher, present[0])}"
            return {"note": note}
    kept = PathFilter(include=tuple(globs), exclude=tuple(exclude))
    if exclude and paths and not any(kept.matches(searcher.root, p) for p in paths):
        # an agent's `exclude: "*"` answered an empty list without a word
        shown = ", ".join(repr(glob) for glob in exclude[:3]) + (" ..." if len(exclude) > 3 else "")
        matching = " the path filter matches" if globs else ""
        return {"note": f"exclude {shown} leaves out every indexed file{matching}"}
    below = PathFilter(include=tuple(globs), exclude=tuple(exclude), under=under, cwd=Path.cwd())
    if under and globs and paths and not any(below.matches(searcher.root, p) for p in paths):
        # a new user in tests/ asked for -p 'httpx/*' and read only "No results."
        shown = ", ".join(repr(glob) for glob in globs[:3]) + (" ..." if len(globs) > 3 else "")
        return {"note": f"no indexed file below {one_line(under)} matches path {shown} (the search keeps to the "
                        "directory it is run in or given; --all searches the whole repository)"}
    return _not_together(searcher, language, kinds, below, globs, exclude, under)


def _not_together(searcher: Any, language: str | None, kinds: Sequence[str], paths: Any, globs: Sequence[str],
                  exclude: Sequence[str], under: str = "") -> dict[str, Any]:
    """``filtered_out``'s note when each filter matches some chunk and no chunk passes them all (`--kind class -p
    ops.py` said only "No results."); else ``{}``."""
    if not kinds and language is None:
        return {}
    allowed = searcher.allowed(language=language, paths=paths, kinds=kinds)
    if allowed is None or allowed.size:
        return {}
    where = ", ".join(repr(glob) for glob in globs[:3]) + (" ..." if len(globs) > 3 else "")
    from codesearch.render import one_line

    parts = [f"{language} " if language else "", f"{' or '.join(kinds)} chunk" if kinds else "chunk",
             f" below {one_line(under)}" if under else "",  # the PATH searched is a filter too (the recheck)
             f" in a file matching path {where}" if globs else "",
             f" outside {', '.join(repr(glob) for glob in exclude[:3])}" if exclude else ""]
    return {"note": f"no indexed {''.join(parts)} (each filter matches, not all of them together)"}


# At most this many directory entries are looked at for a file a path filter names (``named_files``).
NAMED_LOOKUP_ENTRIES = 50_000


def named_files(root: Path, glob: str) -> list[str]:
    """The regular files a path filter with no wildcard names (a name without ``/`` at any depth, as ``PathFilter``
    matches it), by path; looked for below ``root`` without following a link or entering ``.git``, ``.codesearch``
    or ``node_modules``, up to ``NAMED_LOOKUP_ENTRIES`` entries."""
    literal = glob.strip("/")
    if not literal or any(c in literal for c in "*?[\\"):
        return []
    literal = posixpath.normpath(literal)  # `./x.conf`, `sub//x.conf`, as the filter reads them (the recheck)
    if literal == "." or literal.startswith("../"):
        return []
    if "/" in literal:
        return [literal] if _regular(root, literal) else []
    found: list[str] = []
    seen = 0
    for directory, dirs, files in os.walk(root):  # links are not followed
        dirs[:] = sorted(d for d in dirs if d not in (".git", INDEX_DIR_NAME, "node_modules"))
        seen += len(dirs) + len(files)
        if literal in files:
            rel = os.path.relpath(os.path.join(directory, literal), root).replace(os.sep, "/")
            if _regular(root, rel):
                found.append(rel)
        if seen > NAMED_LOOKUP_ENTRIES:
            break
    return sorted(found)


def _regular(root: Path, path: str) -> bool:
    """Whether ``path`` is a regular file below ``root``, looked for from ``root`` down without following a link: a
    planted `sysroot -> /` made an agent's path filter `sysroot/etc/passwd` "there but not read", and a missing
    file not, which told what exists outside the repository (the red team)."""
    from indexer.discover import lstat_inside

    st = lstat_inside(root, path)
    return st is not None and stat.S_ISREG(st.st_mode)


def _not_indexed_because(searcher: Any, path: str) -> str:
    """Why a file that is there holds no chunk of the index, as the end of "PATH is there but ...": a kind of file
    the indexer never reads, a directory above it the last run skipped (with that run's reason), a file added since
    that run, or else an ignore file (the walk leaves ignored files out without a record)."""
    from codesearch.render import one_line
    from indexer.discover import FileEntry, walk

    root = Path(searcher.root)
    if unread_file(root, path):
        return "not read (a kind of file codesearch does not read: no language or text format it knows by its name)"
    for skipped, why in searcher.reader.skipped_entries():
        if path.startswith(skipped.rstrip("/") + "/"):
            return f"not indexed: {one_line(skipped)} was skipped: {one_line(why)}"
    if any(isinstance(item, FileEntry) and item.path == path for item in walk(root)):
        return "was added since the last index run (`codesearch index` adds it)"
    return ("left out by an ignore file (a .gitignore or .codesearchignore rule; `codesearch index --no-ignore` "
            "reads none)")


def unread_file(root: Path, path: str) -> bool:
    """Whether ``path`` (under ``root``) is a regular file of a kind the indexer never reads: no language, no
    text extension, no script line (``indexer.languages.file_language``, ``indexer.discover.script_at``;
    Alamofire's `Alamofire.podspec`)."""
    from indexer.discover import script_at
    from indexer.languages import file_language

    return _regular(root, path) and file_language(path.rsplit("/", 1)[-1]) is None and not script_at(root, path)


class Resident:
    """The server: ``index_dir`` open in one ``Searcher``, re-opened when a new index generation commits.

    :raises UnsafeRuntimeDir: if the socket directory is not this user's alone.
    :raises ResidentRunning: if a resident process already answers for this index.
    :raises CodeSearchError: anything opening the index raises (``Searcher``).
    """

    def __init__(self, index_dir: Path) -> None:
        from codesearch.search import Searcher

        self.index_dir = Path(os.path.realpath(index_dir))
        self.path = socket_path(self.index_dir)
        self.searches = 0  # answered so far
        self.searcher: Searcher = Searcher(self.index_dir)
        try:
            self._generation, self._database = self._watch()
            self.listener = self._bind()
        except BaseException:
            self.searcher.close()
            raise

    def _watch(self) -> tuple[Any, tuple[int, int]]:
        """A connection of its own to the index database, outside the searcher's snapshot (each query sees the
        latest commit), and the identity of the file it opened (device, inode)."""
        import sqlite3
        from urllib.parse import quote

        path = self.index_dir / DB_NAME
        st = os.stat(path)
        return sqlite3.connect(f"file:{quote(os.fsencode(path))}?mode=ro", uri=True, isolation_level=None), \
            (st.st_dev, st.st_ino)

    def _bind(self) -> socket.socket:
        ensure_runtime_dir()
        if ask(self.index_dir, {"op": "status"}, timeout=1.0) is not None:
            raise ResidentRunning(f"a resident process already answers for {self.index_dir}")
        try:
            if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                os.unlink(self.path)  # a stale socket of ours (the directory is private)
        except FileNotFoundError:
            pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        mask = os.umask(0o177)  # the socket is born 0600: no moment when another user could connect
        try:
            listener.bind(str(self.path))
            os.chmod(self.path, 0o600)
            listener.listen(16)
        except OSError as exc:
            listener.close()
            raise ResidentError(f"cannot listen on {self.path}: {exc.strerror or exc}") from exc
        finally:
            os.umask(mask)
        return listener

    def close(self) -> None:
        """Stop listening, remove the socket and close the index."""
        self.listener.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass
        self._generation.close()
        self.searcher.close()

    def serve_forever(self) -> None:
        """Answer one connection at a time until a ``stop`` request (or an interrupt)."""
        while True:
            conn, _ = self.listener.accept()
            with conn:
                if not self._answer(conn):
                    return

    def _answer(self, conn: socket.socket) -> bool:
        """Read one request from ``conn`` and reply; False after a ``stop``."""
        conn.settimeout(SERVER_READ_TIMEOUT_S)
        try:
            uid = client.peer_uid(conn)
            if uid is not None and uid != os.getuid():
                return True
            line = client.read_line(conn, MAX_REQUEST_BYTES)
            request = json.loads(line) if line is not None else None
        except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested thousands deep (it stopped us)
            return True
        reply = self.handle(request) if isinstance(request, dict) else {"ok": False, "error": "not a JSON object"}
        try:
            conn.sendall((json.dumps(reply) + "\n").encode("utf-8", "surrogatepass"))
        except (OSError, UnicodeError):
            pass
        return not (reply.get("ok") and request.get("op") == "stop")

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """The reply to one request: ``status``, ``stop`` or ``search`` (``{"ok": False, ...}`` when refused)."""
        if (request.get("protocol"), request.get("version"), request.get("index_dir")) != \
                (PROTOCOL, __version__, str(self.index_dir)):
            return {"ok": False, "error": "not this resident's protocol, version or index"}
        op = request.get("op")
        if op == "status":
            return {"ok": True, "pid": os.getpid(), "index_dir": str(self.index_dir), "root": str(self.searcher.root),
                    "chunks": self.searcher.reader.meta.count, "generation": self.searcher.reader.meta.generation,
                    "searches": self.searches}
        if op == "stop":
            return {"ok": True}
        if op != "search":
            return {"ok": False, "error": f"unknown op {op!r}"}
        try:
            return self._search(request)
        except Exception as exc:  # noqa: BLE001 - one bad request must not end the server
            return {"ok": False, "error": str(exc)}  # the client searches by itself and says why

    def _fresh_searcher(self) -> Searcher:
        """The searcher of the latest committed generation (re-opened, same model, when it changed), or of the index
        built in its place: an index directory removed and built again (`rm -rf .codesearch`, `git clean -fdx`) was
        a new database with the old generation's number, and searches were answered from the deleted one.

        :raises IndexNotFound: if the index is gone (the client then searches by itself, and says so).
        """
        from codesearch.errors import IndexNotFound
        from codesearch.search import Searcher

        try:
            st = os.stat(self.index_dir / DB_NAME)
        except OSError:
            raise IndexNotFound(f"the index in {self.index_dir} is gone") from None
        rebuilt = (st.st_dev, st.st_ino) != self._database
        if not rebuilt:
            row = self._generation.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            if row is None or int(row[0]) == self.searcher.reader.meta.generation:
                return self.searcher
        fresh = Searcher(self.index_dir, embedder=self.searcher.embedder)  # first: a refused index changes nothing
        if rebuilt:
            self._generation.close()
            self._generation, self._database = self._watch()
        self.searcher.close()
        self.searcher = fresh
        return fresh

    def _search(self, request: dict[str, Any]) -> dict[str, Any]:
        """A search as ``codesearch search`` runs it on one index, rendered for the client's working directory."""
        searcher = self._fresh_searcher()
        root = request.get("root")
        if root is not None and Path(root).resolve() != searcher.root:
            return {"ok": False, "error": f"{root} is not the repository of this index"}
        reply = answer(searcher, request)
        self.searches += reply.get("ok") is True
        return reply


def answer(searcher: Searcher, request: dict[str, Any]) -> dict[str, Any]:
    """The reply to a search request (``search_request``'s fields) on an open index: what ``codesearch
    search`` prints, with paths relative to the request's working directory, and whether it found anything.

    :raises CodeSearchError: as ``Searcher.search`` (an empty query, a bad filter, ...).
    """
    import time

    from codesearch.search import DEFAULT_HYBRID, PathFilter, SearchOptions, files, validate_query

    query, k = str(request["query"]), int(request["k"])
    if reranks(request):
        return {"ok": False, "error": "reranking is not done here"}
    validate_query(query, k)
    cwd = Path(request["cwd"])
    if not cwd.is_absolute():
        return {"ok": False, "error": "cwd must be absolute"}
    started = time.perf_counter()
    hybrid = request.get("hybrid")
    by_file, per_file = bool(request.get("by_file")), int(request.get("per_file", 0))
    options = SearchOptions(k=k, language=request.get("language"), kinds=tuple(request.get("kinds", ())),
                            hybrid=DEFAULT_HYBRID if hybrid is None else bool(hybrid), rerank=None,
                            candidates=int(request.get("candidates", 20)), per_file=0 if by_file else per_file,
                            min_score=float(request.get("min_score", 0.0)))
    under = "" if request.get("whole_index") else subdirectory(searcher.root, Path(request["path"]))
    filters = PathFilter(include=tuple(request.get("include", ())), exclude=tuple(request.get("exclude", ())),
                         under=under, cwd=cwd)
    here = os.getcwd()
    os.chdir(cwd)  # paths print relative to the client's working directory
    try:
        found = files.answer(lambda n: searcher.search(query, n, options, paths=filters), k, by_file, per_file)
        elapsed_ms = (time.perf_counter() - started) * 1000
        extra = {**not_indexed(searcher, under, found.results), **unindexed(searcher, under, filters),
                 **filtered_out(searcher, found.results, options.language, filters.include, options.kinds,
                                filters.exclude, under)}
        if not found.results and "note" not in extra and options.min_score > 0:  # the floor left nothing: say so
            extra.update(below_floor(lambda: searcher.search(query, 1, replace(options, min_score=0.0),
                                                             paths=filters), options.min_score))
        fmt = str(request.get("format", "text"))
        text = None if request.get("quiet") else search_output(
            query, found.results, fmt, max_lines=request.get("max_lines"), explain=bool(request.get("explain")),
            color=bool(request.get("color")), elapsed_ms=elapsed_ms, extra=extra, files=found.groups, best=found.best)
        notice = None if request.get("quiet") else search_notice(fmt, extra, query, found.results, found.best)
    finally:
        os.chdir(here)
    return {"ok": True, "text": text, "found": bool(found.results), "notice": notice}


def reranks(request: dict[str, Any]) -> bool:
    """Whether a search request asks for the transformer second stage (``--rerank``, or the default)."""
    from codesearch.search import DEFAULT_RERANK

    rerank = request.get("rerank")
    return bool(rerank) or (rerank is None and DEFAULT_RERANK)


def answer_here(index_dir: str, request: dict[str, Any]) -> tuple[str | None, bool, str | None] | None:
    """``codesearch search`` on one index in this process, without click (the console script's path when no
    resident process answered): what it prints and whether it found anything; None when the CLI must
    run it (reranking, or any error, which the CLI reports as always)."""
    from codesearch.search import Searcher

    if reranks(request):  # before the index and the model are opened for nothing
        return None
    root = request.get("root")
    try:
        with Searcher(Path(index_dir), root=Path(str(root)) if root is not None else None) as searcher:
            reply = answer(searcher, request)
    except CodeSearchError:
        return None
    if reply.get("ok") is not True:
        return None
    return reply["text"], bool(reply["found"]), reply.get("notice")
