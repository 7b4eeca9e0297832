"""The index directory belongs to us alone: checked before every use, written without following links.

A repository is untrusted and can ship its own ``.codesearch/``: ``lock``, ``.gitignore``
or ``index.db`` as symlinks to files elsewhere, or files owned by someone else. Before an
index directory is read or written, the directory and every entry in it must be a real
file or directory (no symlink, and no second hard link to a file elsewhere) owned by the
current user; files the writer creates are opened with ``O_NOFOLLOW`` (and ``O_EXCL`` when
they are new), and index files are opened with ``O_NONBLOCK`` and checked to be plain files
before anything reads them (a FIFO would block forever).

Where the index lives and which repository it belongs to are also decided here: the
index records its repository's root *relative to the index directory*, so a repository
moved together with its ``.codesearch`` keeps working, and an index directory kept
elsewhere notices when its repository is gone.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from codesearch.errors import IndexConflict, IndexCorrupt, IndexUnavailable, RepositoryMoved, UnsafeIndexDir
from codesearch.store.layout import DB_NAME, INDEX_DIR_NAME

GITIGNORE = ".gitignore"
_GITIGNORE_TEXT = b"*\n"  # git leaves every file of the index directory untracked
DB_FILES = (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm")  # SQLite's files: opened by SQLite, checked first
WAL_NAME, SHM_NAME = DB_FILES[1:]
JOURNAL_NAME = f"{DB_NAME}-journal"  # a rollback journal: the index runs in WAL mode and never leaves one
_WAL_HEADER_BYTES, _FRAME_HEADER_BYTES = 32, 24
_OWNER_HINT = "remove it, or pass --index-dir to keep the index elsewhere"


def check_index_dir(index_dir: Path) -> None:
    """Refuse an index directory that is a symlink, not ours, or holds symlinks, hard links or others' files.

    :raises UnsafeIndexDir: naming the offending entry.
    :raises IndexUnavailable: if the directory cannot be listed.
    """
    try:
        st = os.lstat(index_dir)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise IndexUnavailable(unreadable(index_dir, exc)) from exc
    _check_entry(index_dir, st, "the index directory", directory=True)
    try:
        entries = list(os.scandir(index_dir))
    except OSError as exc:
        raise IndexUnavailable(unreadable(index_dir, exc)) from exc
    for entry in entries:
        try:
            entry_stat = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # removed meanwhile (a finished writer cleaning up)
        _check_entry(Path(entry.path), entry_stat, f"{entry.name} in the index directory")


def remove_linked_journals(index_dir: Path) -> list[str]:
    """Remove a database journal (``index.db-wal``, ``-shm``, ``-journal``) that is a symlink or a hard link: SQLite
    makes each a plain file of its own, so a link is the repository's (git tracks symlinks), and it made every
    command refuse the index until removed by hand (red team, second session). The link alone goes; nothing is
    read or written through it. The names of those removed."""
    removed = []
    for name in (WAL_NAME, SHM_NAME, JOURNAL_NAME):
        try:
            st = os.lstat(index_dir / name)
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode) or (not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1):
            remove_entry(index_dir / name)
            removed.append(name)
    return removed


def unreadable(index_dir: Path, exc: OSError) -> str:
    """The one-line message for an index directory that cannot be read, naming the fix."""
    return (f"cannot read the index directory {index_dir} ({exc.strerror or exc}); "
            f"make it readable (chmod u+rwx {index_dir}) or pass --index-dir")


def _check_entry(path: Path, st: os.stat_result, what: str, directory: bool = False) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeIndexDir(f"{what} ({path}) is a symlink; refusing to follow it ({_OWNER_HINT})")
    if directory and not stat.S_ISDIR(st.st_mode):
        raise UnsafeIndexDir(f"{what} ({path}) is not a directory")
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise UnsafeIndexDir(f"{what} ({path}) belongs to user id {st.st_uid}, not to you ({_OWNER_HINT})")
    if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
        raise UnsafeIndexDir(f"{what} ({path}) is a hard link to a file elsewhere ({st.st_nlink} links); "
                             f"refusing to write through it ({_OWNER_HINT})")


def prepare_index_dir(index_dir: Path) -> None:
    """Create the index directory if needed, check it, and keep git out of it.

    :raises UnsafeIndexDir: see ``check_index_dir``.
    :raises IndexUnavailable: if it cannot be created.
    """
    try:
        # Yours alone, as the files in it (made 0777 less the umask, `umask 000` left it writable by anyone).
        index_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise UnsafeIndexDir(f"the index directory {index_dir} exists and is not a directory: remove it, or pass "
                             "--index-dir to keep the index elsewhere") from exc
    except OSError as exc:
        raise IndexUnavailable(f"cannot create the index directory {index_dir} ({exc.strerror or exc})") from exc
    check_index_dir(index_dir)
    if os.lstat(index_dir).st_mode & 0o077:  # one a repository shipped (0755, or 0777 from a tarball): yours alone
        try:
            os.chmod(index_dir, 0o700)  # checked just above: a directory of yours, no link
        except OSError:
            pass  # a read-only place: the index is written, or refused, as before
    try:
        fd = open_nofollow(index_dir / GITIGNORE, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        # Ours from an earlier run (check_index_dir vetted it: a plain file of this user's), or one the repository
        # shipped: a `# nothing` there let `git add -A` commit a contributor's index, and with it their index id.
        if not stat.S_ISREG(os.lstat(index_dir / GITIGNORE).st_mode):  # a directory: git would not read it
            raise UnsafeIndexDir(f"{index_dir / GITIGNORE} is not a file, so git would not leave the index out of "
                                 "commits; remove it") from None
        if read_private_file(index_dir / GITIGNORE, 64) != _GITIGNORE_TEXT:
            try:
                os.unlink(index_dir / GITIGNORE)
                fd = open_nofollow(index_dir / GITIGNORE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError:
                return  # cannot be replaced (a read-only directory): the index is written, or refused, as before
            try:
                os.write(fd, _GITIGNORE_TEXT)
            finally:
                os.close(fd)
        return
    except OSError as exc:
        raise IndexUnavailable(f"cannot write in the index directory {index_dir} ({exc.strerror or exc})") from exc
    try:
        os.write(fd, _GITIGNORE_TEXT)
    finally:
        os.close(fd)


def open_nofollow(path: Path, flags: int, mode: int = 0o644) -> int:
    """``os.open`` that never follows a symlink in the last component (ELOOP instead)."""
    return os.open(path, flags | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), mode)


def open_index_file(path: Path, what: str) -> int:
    """A read-only, blocking descriptor of one of the index's own files (``what``: "vector file", ...).

    Opened with ``O_NONBLOCK`` (a FIFO in its place cannot block the open) and checked with
    ``fstat`` to be a plain file with one link before anyone reads it.

    :raises IndexCorrupt: if it is missing, unreadable or not a plain file.
    :raises UnsafeIndexDir: if it is a symlink or a hard link.
    """
    try:
        fd = open_nofollow(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise IndexCorrupt(f"{what} {path.name} is missing") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeIndexDir(f"{what} {path} is a symlink; refusing to follow it") from exc
        raise IndexCorrupt(f"{what} {path.name} is unreadable ({exc.strerror or exc})") from exc
    try:
        check_plain_file(fd, path, what)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def private_file(st: os.stat_result) -> bool:
    """Whether ``st`` is a plain file of this user's with one link (not a hard link into a file elsewhere)."""
    mine = not hasattr(os, "geteuid") or st.st_uid == os.geteuid()
    return stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and mine


def read_private_file(path: Path, limit: int) -> bytes | None:
    """At most ``limit`` bytes of ``path``, opened without following a link or blocking, if it is a
    ``private_file``; None if it is missing, unreadable or anything else."""
    try:
        fd = open_nofollow(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        return os.read(fd, limit) if private_file(os.fstat(fd)) else None
    except OSError:
        return None
    finally:
        os.close(fd)


def check_plain_file(fd: int, path: Path, what: str) -> os.stat_result:
    """``fstat`` of an index file's descriptor, required to be a plain file with at most one link.

    No link at all is fine: an update that finished since the open removed the old generation's
    file, and the descriptor still reads the complete snapshot it was opened on.

    :raises IndexCorrupt: if it is not a plain file (a FIFO, a device, a directory).
    :raises UnsafeIndexDir: if it has other hard links.
    """
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise IndexCorrupt(f"{what} {path.name} is not a regular file")
    if st.st_nlink > 1:
        raise UnsafeIndexDir(f"{what} {path} is a hard link to a file elsewhere ({st.st_nlink} links); "
                             f"refusing to use it ({_OWNER_HINT})")
    return st


def odd_database_files(index_dir: Path) -> list[str]:
    """The database files (``index.db``, ``-wal``, ``-shm``) that exist as something else than a
    plain file: SQLite would fail on a directory, or block reading a FIFO.

    :raises IndexUnavailable: if they cannot be looked at (permissions).
    """
    odd = []
    for name in DB_FILES:
        try:
            if not stat.S_ISREG(os.lstat(index_dir / name).st_mode):
                odd.append(name)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            raise IndexUnavailable(unreadable(index_dir, exc)) from exc
    return odd


def remove_entry(path: Path) -> None:
    """Delete one entry of our index directory, whatever it is, without following a link.

    A directory (an ``index.db`` replaced by one) is removed with its contents; a link or a
    hard link is removed itself, never its target.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        import shutil  # rarely needed: a search imports no shutil (with lzma and bz2: ~8 ms)

        shutil.rmtree(path)  # never follows links inside (fd-based where the platform allows)
    else:
        path.unlink(missing_ok=True)


def write_atomically(path: Path, write: Callable[[BinaryIO], None], size: int) -> None:
    """Write ``path`` atomically: ``write(fh)`` into a new temp file (``O_EXCL``) in the same directory,
    checked to be ``size`` bytes, fsync-ed, then renamed over ``path``. The index's vector and lexical
    files are written so: a killed run leaves the previous file, never a part of a new one, and a temp
    file named ``.<the name up to its first dash>-*.tmp`` that the next run removes (``writer._TEMP_FILES``).

    :raises OSError: if it cannot be written completely (e.g. ENOSPC), or comes out another size (EIO);
        nothing is renamed and the temp file is removed.
    """
    import tempfile  # the write path only: a search imports no tempfile (with shutil, lzma: ~8 ms)

    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem.split('-')[0]}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            written = fh.seek(0, os.SEEK_END)
            if written != size:
                raise OSError(errno.EIO, f"{path.name} written incompletely ({written:,} bytes, not {size:,})")
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def default_index_dir(root: Path) -> Path:
    """Where the index of ``root`` lives unless told otherwise."""
    return root / INDEX_DIR_NAME


def root_from_index(index_dir: Path, root: Path) -> str:
    """How the index records its repository: the root relative to the index directory."""
    return Path(os.path.relpath(root, index_dir)).as_posix()


def recorded_root(index_dir: Path, stored: str) -> Path:
    """The repository root an index records (relative to the index, or absolute in older indexes).

    :raises IndexCorrupt: if the recorded value is not a usable path (a NUL byte, ...).
    """
    try:
        path = Path(stored)
        return path if path.is_absolute() else (index_dir / path).resolve()
    except (ValueError, OSError) as exc:
        raise IndexCorrupt(f"the index in {index_dir} records an unusable root ({exc})") from exc


def search_root(index_dir: Path, stored: str, given: Path | None, registered: str) -> Path:
    """The directory every file read at search time must stay inside: never one read from the index.

    - ``given`` (the path the user pointed the CLI or the MCP server at) wins; if the index
      records another repository, and is not ``given``'s own ``.codesearch``, that is an error
      (unless ``given`` lies inside the registered repository: then that one);
    - else an index in the default layout (``ROOT/.codesearch`` recording ``..``) belongs to
      the directory above it, wherever the pair was moved or copied;
    - else (an index kept elsewhere) the root this user indexed last, from the registry
      (``registered``, outside every repository), only when the index records that root too: a copy of
      one of this user's indexes (its id registered) shipped in another repository with another root
      written into it would otherwise read that user's other repository (a crafted ``.codesearch`` made
      `search` print a file of another repository this user had indexed).

    :raises IndexConflict: if ``given`` is not the repository the index was built for, or the index records
        another root than the one this user indexed with it.
    :raises RepositoryMoved: if the registered root is gone.
    """
    index_dir = Path(index_dir).resolve()
    if given is not None:
        root = Path(given).resolve()
        recorded = recorded_root(index_dir, stored)
        if recorded == root or index_dir == default_index_dir(root):
            return root
        if registered and recorded == Path(registered) and root.is_relative_to(recorded):
            return recorded  # a directory inside the repository this user indexed there
        raise IndexConflict(
            f"the index in {index_dir} belongs to {recorded}, not to {root}; run "
            f"`codesearch index {root} --index-dir DIR` to index {root} in a directory of its own, or drop --index-dir"
        )
    if index_dir.name == INDEX_DIR_NAME and (stored == ".." or (registered and Path(registered) == index_dir.parent)):
        return index_dir.parent  # whatever it records, an index in its own repository's .codesearch reads that one
    recorded = recorded_root(index_dir, stored)
    if registered and recorded != Path(registered):
        here = index_dir.parent if index_dir.name == INDEX_DIR_NAME else "PATH"
        raise IndexConflict(f"the index in {index_dir} records {recorded}, but you built it for {registered} (a copy "
                            f"of that index?); run `codesearch index {here}` to build one for this place")
    return _existing_root(index_dir, Path(registered))


def _existing_root(index_dir: Path, root: Path) -> Path:
    if not root.is_dir():
        raise RepositoryMoved(
            f"the index in {index_dir} belongs to {root}, which no longer exists (moved or deleted?); "
            f"run `codesearch index NEW_PATH --index-dir {index_dir}` to point it at the repository's new place"
        )
    return root


def wal_salts(index_dir: Path) -> str:
    """The salts of the database's write-ahead log (bytes 16-24 of its header, in hex: SQLite draws new ones each
    time it starts the log afresh, and replays only frames that carry them), ``""`` when there is no log or it holds
    no header (nothing to replay), ``"?"`` when it cannot be read as a plain file."""
    try:
        fd = open_nofollow(index_dir / WAL_NAME, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return ""
    except OSError:
        return "?"
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return "?"
        header = os.pread(fd, _WAL_HEADER_BYTES, 0)
    finally:
        os.close(fd)
    return header[16:24].hex() if len(header) == _WAL_HEADER_BYTES else ""


def has_journal(index_dir: Path) -> bool:
    """Whether a rollback journal (``index.db-journal``) lies beside the database, as anything: SQLite rolls a hot
    one back into the database when it opens it for writing, and the index, which runs in WAL mode, never leaves
    one (a repository can ship one to rewrite the pages of an index the user built)."""
    return os.path.lexists(index_dir / JOURNAL_NAME)


def wal_replays(index_dir: Path) -> bool:
    """Whether SQLite would change the database by replaying its write-ahead log: the log ends a transaction (a frame
    that carries the log's salts and a database size, a commit, before the first frame that does not, where SQLite's
    recovery stops) that writes anything but the counters of the database's header (``_HEADER_COUNTERS``).

    An index run killed before its commit leaves frames and no commit; one killed just after a write that only bumps
    a header field (``PRAGMA application_id``, ``user_version``: ``IndexWriter.journal_barrier``) may leave a log
    SQLite started afresh, under salts the run had no time to register, that holds only that: neither changes what a
    reader reads. A frame's checksum is not checked: where it is wrong SQLite replays less than is counted here.
    """
    try:
        fd = open_nofollow(index_dir / WAL_NAME, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        header = os.pread(fd, _WAL_HEADER_BYTES, 0) if stat.S_ISREG(st.st_mode) else b""
        if len(header) < _WAL_HEADER_BYTES:
            return False
        page = int.from_bytes(header[8:12], "big")
        page = 65536 if page == 1 else page
        if page < 512 or page & (page - 1):
            return False  # no log SQLite reads
        first = _database_start(index_dir, page)  # the database's first page, read once (b"": unreadable)
        # a log of another page size than the database's is nothing an index run left (red team: SQLite read a
        # database through one of 512-byte pages as malformed)
        salts, offset, changes = header[16:24], _WAL_HEADER_BYTES, page != _page_size(first)
        while offset + _FRAME_HEADER_BYTES + page <= st.st_size:
            frame = os.pread(fd, _FRAME_HEADER_BYTES, offset)
            if len(frame) < _FRAME_HEADER_BYTES or frame[8:16] != salts:
                return False
            size = int.from_bytes(frame[4:8], "big")  # a commit's database size in pages, else 0
            if not changes:
                image = os.pread(fd, page, offset + _FRAME_HEADER_BYTES) if frame[0:4] == b"\0\0\0\1" else b""
                # a commit that truncates or grows the database (its size, not the header's) changes it too
                changes = not _header_only(first, image) or size not in (0, int.from_bytes(image[28:32], "big"))
            if changes and size:
                return True  # a commit: what came before it is replayed
            offset += _FRAME_HEADER_BYTES + page
        return False
    finally:
        os.close(fd)


# The bytes of a database's first page (its header) that a write of nothing else changes: the file change counter,
# the user version (``IndexWriter.journal_barrier``), the version-valid-for number and the SQLite version.
_HEADER_COUNTERS = ((24, 28), (60, 64), (92, 100))


def _database_start(index_dir: Path, size: int) -> bytes:
    """The database file's first ``size`` bytes (fewer when it is shorter), ``b""`` when it cannot be read."""
    try:
        fd = open_nofollow(index_dir / DB_NAME, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return b""
    try:
        return os.pread(fd, size, 0) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
    finally:
        os.close(fd)


def _page_size(first: bytes) -> int:
    """The page size a database's header gives (bytes 16-18; 1 is 65536), 0 when ``first`` holds no header."""
    size = int.from_bytes(first[16:18], "big") if len(first) >= 100 else 0
    return 65536 if size == 1 else size


def _header_only(first: bytes, logged: bytes) -> bool:
    """Whether a log frame's image of the database's first page (its header) changes nothing of ``first``, that
    page in the database file, but ``_HEADER_COUNTERS`` (``logged`` ``b""``: the frame is of another page)."""
    if not logged or len(first) != len(logged):
        return False
    keep, start = [], 0
    for lo, hi in _HEADER_COUNTERS:
        keep.append((start, lo))
        start = hi
    keep.append((start, len(logged)))
    return all(first[lo:hi] == logged[lo:hi] for lo, hi in keep)
