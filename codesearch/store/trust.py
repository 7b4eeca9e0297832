"""Which indexes this user built: an owner-only registry outside every repository.

A cloned repository can ship a complete ``.codesearch/`` whose metadata lies (a
``root`` pointing at the user's home, chunk rows naming ``.ssh/id_rsa``). Only an
index this user built is trusted: every build stores a random ``index_id`` in the
index's meta and registers it here, one file per id, written atomically (a temporary
file renamed into place), so concurrent builds of different indexes need no lock.

The registry lives in the user's state directory (``$CODESEARCH_STATE``, else
``$XDG_STATE_HOME/codesearch``, else ``~/.local/state/codesearch``), in an
``indexes`` directory of mode 0700 holding files of mode 0600. A registry directory
that is a symlink, not a directory, or someone else's is refused; a registry file that
is not a plain file of ours with one link counts as absent (the index is then foreign
and rebuilt by the next ``codesearch index``).

A copied or moved repository keeps its ``.codesearch`` and so its id: it stays trusted.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from codesearch.errors import IndexUnavailable, UnsafeIndexDir
from codesearch.store.indexdir import JOURNAL_NAME, WAL_NAME, has_journal, read_private_file, wal_replays, wal_salts
from codesearch.store.layout import CHUNKS_VIEW, DB_NAME
from codesearch.store.lock import writer_running

ID_KEY = "index_id"  # the meta key holding an index's id
REGISTRY_DIR = "indexes"
_ID = re.compile(r"[0-9a-f]{32}")
_MAX_ENTRY_BYTES = 64 * 1024
_REBUILD = "run `codesearch index --rebuild` on the repository to build your own index"
_CHUNKS_VIEW = " ".join(CHUNKS_VIEW.split())


class ForeignIndex(UnsafeIndexDir):
    """The index was not built by this user (shipped with a repository, or older than index ids)."""


@dataclass(frozen=True, slots=True)
class Registration:
    """What the registry knows of one index this user built."""

    index_id: str
    index_dir: str
    root: str
    mounts: str = ""  # a pack's: the digest of its repositories' names and roots (``codesearch.pack.Mounts``)
    wal: str = ""  # the salts of the write-ahead log its last run left (``indexdir.wal_salts``; "": none)


def state_dir() -> Path:
    """The user's codesearch state directory (not created)."""
    explicit = os.environ.get("CODESEARCH_STATE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "codesearch"
    return Path.home() / ".local" / "state" / "codesearch"


def registry_dir() -> Path:
    """Where the registrations live."""
    return state_dir() / REGISTRY_DIR


def new_index_id() -> str:
    """A fresh random id for an index (128 bits)."""
    import secrets  # here: a search never makes one, and secrets imports hashlib and hmac (~4 ms)

    return secrets.token_hex(16)


def valid_id(index_id: object) -> bool:
    """Whether ``index_id`` has the form of an id (so it can name a registry file safely)."""
    return isinstance(index_id, str) and _ID.fullmatch(index_id) is not None


def register(index_id: str, index_dir: Path, root: Path, mounts: str = "", wal: str = "") -> None:
    """Record that this user built the index ``index_id`` in ``index_dir`` for ``root`` (a pack: of the
    repositories whose ``Mounts.digest`` is ``mounts``), whose run left the write-ahead log ``wal`` (its salts).

    :raises UnsafeIndexDir: if the registry directory is a symlink or someone else's.
    :raises IndexUnavailable: if it cannot be written.
    """
    if not valid_id(index_id):
        raise ValueError(f"not an index id: {index_id!r}")
    directory = _ensure_registry()
    data = json.dumps({"index_dir": str(index_dir), "root": str(root), **({"mounts": mounts} if mounts else {}),
                       **({"wal": wal} if wal else {})}).encode()
    tmp = directory / f".{index_id}.{os.getpid()}.{new_index_id()[:8]}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, directory / index_id)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise IndexUnavailable(f"cannot record the index in {directory} ({exc.strerror or exc}); "
                               "make it writable or set CODESEARCH_STATE to a directory of yours") from exc


def lookup(index_id: object) -> Registration | None:
    """The registration of ``index_id``, or None if this user never built it.

    :raises UnsafeIndexDir: if the registry directory is a symlink or someone else's.
    """
    if not valid_id(index_id):
        return None
    directory = registry_dir()
    try:
        _check_dir(directory)
    except FileNotFoundError:
        return None
    assert isinstance(index_id, str)
    raw = read_private_file(directory / index_id, _MAX_ENTRY_BYTES)
    if raw is None:
        return None
    try:
        entry = json.loads(raw)
        return Registration(index_id, str(entry["index_dir"]), str(entry["root"]), str(entry.get("mounts", "")),
                            str(entry.get("wal", "")))
    except (ValueError, KeyError, TypeError):
        return None


def planted(conn: sqlite3.Connection) -> str | None:
    """What in a database's schema codesearch never writes, or None: a trigger, a view other than its own
    (``layout.CHUNKS_VIEW``), a ``meta`` that is no plain table. Asked before anything else is read: a repository
    that shipped an index whose ``meta`` was a view over an endless recursive query made every command spin (or
    grow without bound) before the check that refuses an index this user did not build could read its id."""
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN ('view', 'trigger') OR name = 'meta'")
    for kind, name, sql in rows:
        text = " ".join(str(sql or "").split())
        if name == "meta" and kind == "table" and text.upper().startswith("CREATE TABLE"):
            continue
        if kind == "view" and name == "chunks" and text == _CHUNKS_VIEW:
            continue
        return f"a {kind} named {name!r}, which codesearch never writes"
    return None


def require_plain(conn: sqlite3.Connection, index_dir: Path) -> None:
    """:raises ForeignIndex: if the database holds what codesearch never writes (``planted``)."""
    if (found := planted(conn)) is not None:
        raise ForeignIndex(f"the index in {index_dir} holds {found}, so it is not trusted "
                           f"(a repository can ship a forged one); {_REBUILD}")


def require_trusted(index_id: object, index_dir: Path) -> Registration:
    """The registration of an index about to be read.

    :raises ForeignIndex: if this user did not build it (one line naming the rebuild).
    """
    found = lookup(index_id)
    if found is None:
        why = "has no index id (built by an older codesearch)" if index_id is None else "was not built by you"
        raise ForeignIndex(f"the index in {index_dir} {why}, so it is not trusted "
                           f"(a repository can ship a forged one); {_REBUILD}")
    return found


def _ensure_registry() -> Path:
    """The registry directory, created 0700 if missing, and checked."""
    directory = registry_dir()
    for path in (directory.parent, directory):
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except FileExistsError as exc:
            raise UnsafeIndexDir(f"the codesearch state directory {path} is not a directory; "
                                 "remove it or set CODESEARCH_STATE") from exc
        except OSError as exc:
            raise IndexUnavailable(f"cannot create the codesearch state directory {path} ({exc.strerror or exc}); "
                                   "set CODESEARCH_STATE to a directory of yours") from exc
    _check_dir(directory)
    return directory


def _check_dir(directory: Path) -> None:
    """Refuse a state or registry directory that is a symlink, not a directory, or not ours; make the registry 0700.

    :raises FileNotFoundError: if either does not exist.
    :raises UnsafeIndexDir: otherwise when refused.
    """
    for path in (directory.parent, directory):
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
            raise UnsafeIndexDir(f"the codesearch state directory {path} is a symlink, not a directory, or not "
                                 "yours; remove it or set CODESEARCH_STATE to a directory of yours")
    if os.lstat(directory).st_mode & 0o077:
        os.chmod(directory, 0o700)  # checked just above: ours and not a link


def foreign_journal(index_dir: Path, locked: bool = False) -> bool:
    """Whether the index's write-ahead log is not the one this user's last run there left: SQLite replays a log beside
    its database when it opens it, and a repository can ship ``index.db-wal`` (a tracked file that a ``git pull``
    writes into the index directory) that rewrites chunks of an index this user built, keeping its id. A log
    holding nothing, or one that a running index run is writing (the kernel's lock table says so), is not foreign;
    nor is one beside a database that is not this user's (refused once opened, as any foreign index), nor one that
    changes nothing SQLite would replay (``indexdir.wal_replays``: a run killed before its commit, or just after a
    write of its database header's counters).

    :param locked: the caller holds the writer lock (an index run about to open the database).
    """
    return has_journal(index_dir) or foreign_wal(index_dir, locked)  # a rollback journal: never this index's


def foreign_wal(index_dir: Path, locked: bool = False) -> bool:
    """Whether the write-ahead log is foreign (``foreign_journal`` without the rollback journal): an index run
    deletes it with its ``-shm``, and deletes no log of its own for a rollback journal found beside it (a resident
    reader keeps a run's commits in the log: deleting it with a shipped journal lost them; recheck, second
    session)."""
    return wal_standing(index_dir, locked) == "foreign"


def wal_standing(index_dir: Path, locked: bool = False) -> Literal["none", "own", "foreign", "unregistered"]:
    """What the write-ahead log is to this user's registry: ``none`` (no log, or one a running index run writes:
    the kernel's lock table says so), ``own`` (the salts the registry holds for the index), ``foreign``
    (``foreign_wal``: other salts, beside an index the registry knows, and SQLite would replay it), or
    ``unregistered``: other salts that SQLite replays nothing harmful of (a run killed before its commit, or just
    after a write of header counters), or beside an index the registry does not know (an index run empties such a
    log before it writes: ``IndexWriter.fold_journal``).

    :param locked: the caller holds the writer lock (an index run about to open the database).
    """
    salts = wal_salts(index_dir)
    if not salts or (not locked and writer_running(index_dir)):
        return "none"
    found = lookup(_id_without_journal(index_dir / DB_NAME))
    if found is not None and found.wal == salts:
        return "own"
    return "foreign" if found is not None and wal_replays(index_dir) else "unregistered"


def require_own_journal(index_dir: Path) -> None:
    """:raises ForeignIndex: if the write-ahead log is foreign (``foreign_journal``), naming the run that removes it."""
    if foreign_journal(index_dir):
        name = JOURNAL_NAME if has_journal(index_dir) else WAL_NAME
        raise ForeignIndex(f"{index_dir / name} was not written by codesearch's last run there (a repository can "
                           "ship one to change an index you built); run `codesearch index` on the repository to "
                           "remove it")


def _id_without_journal(db_path: Path) -> str | None:
    """The index id the database file itself records, read without its write-ahead log (None: none, unreadable)."""
    try:
        conn = sqlite3.connect(f"file:{quote(os.fsencode(db_path))}?mode=ro&immutable=1", uri=True,
                               isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        if planted(conn) is not None:
            return None
        row = conn.execute("SELECT value FROM meta WHERE key = ?", [ID_KEY]).fetchone()
        return str(row[0]) if row and valid_id(row[0]) else None
    except sqlite3.Error:
        return None
    finally:
        conn.close()
