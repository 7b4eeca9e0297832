"""The index directory belongs to us alone: checked before every use, written without following links.

A repository is untrusted and can ship its own ``.codesearch/``: ``lock``, ``.gitignore``
or ``index.db`` as symlinks to files elsewhere, or files owned by someone else. Before an
index directory is read or written, the directory and every entry in it must be a real
file or directory (no symlink) owned by the current user; files the writer creates are
opened with ``O_NOFOLLOW`` (and ``O_EXCL`` when they are new).

Where the index lives and which repository it belongs to are also decided here: the
index records its repository's root *relative to the index directory*, so a repository
moved together with its ``.codesearch`` keeps working, and an index directory kept
elsewhere notices when its repository is gone.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from codesearch.errors import IndexCorrupt, IndexUnavailable, RepositoryMoved, UnsafeIndexDir
from codesearch.store.layout import INDEX_DIR_NAME

GITIGNORE = ".gitignore"
_OWNER_HINT = "remove it, or pass --index-dir to keep the index elsewhere"


def check_index_dir(index_dir: Path) -> None:
    """Refuse an index directory that is a symlink, not ours, or holds symlinks or others' files.

    :raises UnsafeIndexDir: naming the offending entry.
    :raises IndexUnavailable: if the directory cannot be listed.
    """
    try:
        st = os.lstat(index_dir)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise IndexUnavailable(f"cannot read the index directory {index_dir} ({exc.strerror or exc})") from exc
    _check_entry(index_dir, st, "the index directory", directory=True)
    try:
        entries = list(os.scandir(index_dir))
    except OSError as exc:
        raise IndexUnavailable(f"cannot read the index directory {index_dir} ({exc.strerror or exc})") from exc
    for entry in entries:
        try:
            entry_stat = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # removed meanwhile (a finished writer cleaning up)
        _check_entry(Path(entry.path), entry_stat, f"{entry.name} in the index directory")


def _check_entry(path: Path, st: os.stat_result, what: str, directory: bool = False) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeIndexDir(f"{what} ({path}) is a symlink; refusing to follow it ({_OWNER_HINT})")
    if directory and not stat.S_ISDIR(st.st_mode):
        raise UnsafeIndexDir(f"{what} ({path}) is not a directory")
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise UnsafeIndexDir(f"{what} ({path}) belongs to user id {st.st_uid}, not to you ({_OWNER_HINT})")


def prepare_index_dir(index_dir: Path) -> None:
    """Create the index directory if needed, check it, and keep git out of it.

    :raises UnsafeIndexDir: see ``check_index_dir``.
    :raises IndexUnavailable: if it cannot be created.
    """
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise UnsafeIndexDir(f"the index directory {index_dir} exists and is not a directory") from exc
    except OSError as exc:
        raise IndexUnavailable(f"cannot create the index directory {index_dir} ({exc.strerror or exc})") from exc
    check_index_dir(index_dir)
    try:
        fd = open_nofollow(index_dir / GITIGNORE, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return  # ours from an earlier run (check_index_dir vetted it), or the user's
    except OSError as exc:
        raise IndexUnavailable(f"cannot write in the index directory {index_dir} ({exc.strerror or exc})") from exc
    try:
        os.write(fd, b"*\n")
    finally:
        os.close(fd)


def open_nofollow(path: Path, flags: int, mode: int = 0o644) -> int:
    """``os.open`` that never follows a symlink in the last component (ELOOP instead)."""
    return os.open(path, flags | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), mode)


def open_index_file(path: Path, what: str) -> int:
    """A read-only descriptor of one of the index's own files (``what``: "vector file", ...).

    :raises IndexCorrupt: if it is missing or unreadable.
    :raises UnsafeIndexDir: if it is a symlink.
    """
    try:
        return open_nofollow(path, os.O_RDONLY)
    except FileNotFoundError:
        raise IndexCorrupt(f"{what} {path.name} is missing") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeIndexDir(f"{what} {path} is a symlink; refusing to follow it") from exc
        raise IndexCorrupt(f"{what} {path.name} is unreadable ({exc.strerror or exc})") from exc


def default_index_dir(root: Path) -> Path:
    """Where the index of ``root`` lives unless told otherwise."""
    return root / INDEX_DIR_NAME


def root_from_index(index_dir: Path, root: Path) -> str:
    """How the index records its repository: the root relative to the index directory."""
    return Path(os.path.relpath(root, index_dir)).as_posix()


def recorded_root(index_dir: Path, stored: str) -> Path:
    """The repository root an index records (relative to the index, or absolute in older indexes)."""
    path = Path(stored)
    return path if path.is_absolute() else (index_dir / path).resolve()


def repository_root(index_dir: Path, stored: str) -> Path:
    """The root of the repository an index belongs to, checked to exist.

    :raises RepositoryMoved: if that directory is gone (the repository moved without its index).
    """
    root = recorded_root(Path(index_dir).resolve(), stored)
    if not root.is_dir():
        raise RepositoryMoved(
            f"the index in {index_dir} belongs to {root}, which no longer exists (moved or deleted?); "
            f"run `codesearch index NEW_PATH --index-dir {index_dir}` to point it at the repository's new place"
        )
    return root
