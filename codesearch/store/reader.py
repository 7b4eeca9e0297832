"""The read side of an index: one consistent snapshot of metadata and vectors.

Uses the stdlib ``sqlite3`` only (no sqlite-utils import on the search path). A
snapshot reads ``meta`` inside one read transaction; in WAL mode a concurrent writer
cannot change what it sees, and the FAISS file of the generation it read is never
replaced, only deleted after a newer generation commits, so loading it is retried
once if the file disappears in between.

The index directory is checked like the writer checks it (no symlinks, nothing owned
by someone else), and every SQLite failure after opening becomes ``IndexCorrupt``. Only
an index this user built is read (``codesearch.store.trust``), and the repository root
files are read under is never one the index names (``indexdir.search_root``).
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import shlex
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import numpy as np
import numpy.typing as npt

from codesearch.errors import (
    CodeSearchError,
    IndexCorrupt,
    IndexNotFound,
    IndexOutOfDate,
    IndexUnavailable,
    UnsafeIndexDir,
    naming_index,
)
from codesearch.store import trust
from codesearch.store.codec import unpack_code
from codesearch.store.indexdir import check_index_dir, odd_database_files, search_root, unreadable
from codesearch.store.layout import DB_NAME, KEY_SQL, SCHEMA_VERSION, in_batches
from codesearch.store.postings import LexicalIndex, lexical_path
from codesearch.store.vectors import NUMPY_UP_TO, FlatVectors, SearchedVectors, VectorStore, id_checksum, vectors_path
from indexer.discover import Limits
from indexer.languages import TEXT_LANGUAGE

T = TypeVar("T")

_SNAPSHOT_RETRIES = 5
MAX_NAMED = 5_000  # chunks of the names a query mentions read to pick those of the scope it names (``ids_named``)
CHUNK_COLUMNS = (
    "id", "key", "path", "language", "kind", "name", "qualname", "signature", "doc", "code",
    "start_line", "end_line", "content_hash",
)
_CODE = CHUNK_COLUMNS.index("code")
# The columns of CHUNK_COLUMNS in SQL: the code is stored compressed (``codesearch.store.codec``), the key
# without its path (``KEY_SQL``).
MAX_META_ROWS = 10_000  # codesearch writes a few dozen; a planted table of millions is not read whole
_CHUNK_SQL = ", ".join({"code": "code_z", "key": KEY_SQL}.get(c, c) for c in CHUNK_COLUMNS)


def _chunk_row(values: tuple[Any, ...]) -> dict[str, Any]:
    """A chunk row as a dict of ``CHUNK_COLUMNS``, its code decompressed.

    :raises IndexCorrupt: if the stored code is damaged.
    """
    row = dict(zip(CHUNK_COLUMNS, values))
    row["code"] = unpack_code(values[_CODE])
    return row


def _packed_row(values: tuple[Any, ...]) -> dict[str, Any]:
    """A chunk row whose code stays compressed (``code_z``) until ``code_of`` reads it: a search reads
    the rows of its whole pool (a hundred or more) and shows ten."""
    row = dict(zip(CHUNK_COLUMNS, values))
    row["code_z"] = row.pop("code")
    return row


@dataclass(frozen=True, slots=True)
class IndexMeta:
    """What the index says about itself."""

    schema_version: int
    model_name: str
    model_fingerprint: str
    dim: int
    generation: int
    count: int
    root: str  # as stored: relative to the index directory (absolute in indexes before schema 3)
    updated_at: str
    id_checksum: str | None = None  # of the vector ids (indexes before schema 3 have none)
    index_id: str | None = None  # the random id this user's registry knows it by (older indexes have none)

    @classmethod
    def from_rows(cls, meta: dict[str, str]) -> IndexMeta:
        """Parse the ``meta`` table; :raises IndexCorrupt: if a key is missing or malformed."""
        try:
            return cls(
                schema_version=int(meta["schema_version"]),
                model_name=meta["model_name"],
                model_fingerprint=meta["model_fingerprint"],
                dim=int(meta["dim"]),
                generation=int(meta["generation"]),
                count=int(meta["count"]),
                root=meta["root"],
                updated_at=meta.get("updated_at", ""),
                id_checksum=meta.get("id_checksum"),
                index_id=meta.get(trust.ID_KEY),
            )
        except (KeyError, ValueError) as exc:
            raise IndexCorrupt(f"index metadata is incomplete ({exc})") from exc


def check_model(meta: IndexMeta, fingerprint: str) -> None:
    """Refuse an index whose vectors another model made (a query's vector would not compare with them).

    The one model check of reader and writer: ``Searcher`` calls it with its embedder's fingerprint,
    ``IndexWriter`` with the run's.

    :raises IndexOutOfDate: naming both models and the fix.
    """
    if meta.model_fingerprint != fingerprint:
        raise IndexOutOfDate(
            f"the index was built with model {meta.model_fingerprint}, the current model is "
            f"{fingerprint}; run `codesearch index --rebuild`"
        )


def check_schema(meta: IndexMeta, *, writing: bool = False) -> None:
    """Refuse an index of a schema this codesearch does not read.

    :param writing: the writer's check, made after it migrated an older schema: only a newer
        schema is refused. A reader needs exactly this codesearch's schema.
    :raises IndexOutOfDate: naming the fix.
    """
    version = meta.schema_version
    if writing and version > SCHEMA_VERSION:
        raise IndexOutOfDate(
            f"the index uses schema {version}, newer than this codesearch's "
            f"{SCHEMA_VERSION}; upgrade codesearch or run `codesearch index --rebuild`"
        )
    if not writing and version != SCHEMA_VERSION:
        fix = "`codesearch index` to upgrade it" if version < SCHEMA_VERSION else "`codesearch index --rebuild`"
        raise IndexOutOfDate(f"the index uses schema {version}, this codesearch uses {SCHEMA_VERSION}; run {fix}")


def _check_database_file(db_path: Path, index_dir: Path) -> None:
    """Require ``index.db`` to exist as a plain file, and its ``-wal`` and ``-shm`` to be plain files
    if they exist (a directory or FIFO there is damage).

    :raises IndexNotFound: if it is missing.
    :raises IndexCorrupt: if it is something else than a plain file.
    :raises IndexUnavailable: if it cannot be looked at (permissions).
    """
    try:
        st = os.lstat(db_path)
    except (FileNotFoundError, NotADirectoryError):
        raise IndexNotFound(f"no index in {index_dir}; build one there with `codesearch index REPO --index-dir "
                            f"{shlex.quote(str(index_dir))}`") from None
    except OSError as exc:
        raise IndexUnavailable(unreadable(index_dir, exc)) from exc
    odd = odd_database_files(index_dir) if stat.S_ISREG(st.st_mode) else [DB_NAME]
    if odd:
        raise IndexCorrupt(f"{index_dir / odd[0]} is not a regular file")


def _sql(method: Callable[..., T]) -> Callable[..., T]:
    """Report any SQLite failure of a reader method as a damaged index."""

    @functools.wraps(method)
    def wrapper(self: IndexReader, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"index database {self.index_dir / DB_NAME} is unreadable ({exc})") from exc

    return wrapper


# The database is read through a read-only memory map of up to this many bytes (SQLite's own limit): a
# search reads ~150 rows scattered over the file, and at 970k chunks (a 640 MB database whose pages the
# page cache had let go) that took 8-9.5 ms with a read call per page and 1.5 ms mapped (whole search p50
# 30-33 -> 20 ms, four alternating runs). The reader holds its snapshot's read transaction, so no writer
# checkpoints over, or truncates, the pages it maps; the lexical and vector files are mapped already.
MAPPED_BYTES = 2147418112

# What open readers keep of their snapshots for the next search (a snapshot never changes): the rows of
# the chunks searches pooled, the topics and states of their files, their identical chunks. A search pools
# ~150 chunks of ~20 files: reading them again took 0.7 ms of a 2.8 ms search on a 1,800-chunk repository.
# One bound for the whole process, however many indexes are open (a workspace, `codesearch serve`): past it
# the oldest entries are let go (rows ~1 KB each: ~32 MB at most).
KEPT_ROWS = 1 << 15
KEPT_FILES = 1 << 15


class _Shelf:
    """What readers kept, keyed by (snapshot, item), the oldest let go first past ``most`` entries."""

    def __init__(self, most: int) -> None:
        self.most = most
        self.items: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, default: Any = None) -> Any:
        return self.items.get(key, default)

    def put(self, new: dict[Any, Any]) -> None:
        """Keep ``new``, letting the oldest go first when the shelf would hold more than ``most`` (nothing of
        a ``new`` that alone holds more)."""
        if len(new) > self.most:
            return
        with self._lock:
            items = self.items
            over = len(items) + len(new) - self.most
            if over > 0:
                for key in list(itertools.islice(items, over + self.most // 16)):
                    del items[key]
            items.update(new)


# Keys: (snapshot, what, item) -> its value, or None where the snapshot has none (``IndexReader._kept``).
_ROWS = _Shelf(KEPT_ROWS)  # ("row", chunk id) -> its row
_FILES = _Shelf(KEPT_FILES)  # ("topic", path) -> its topic; ("state", path) -> its state
_SAME = _Shelf(KEPT_ROWS)  # (("same", limit), content hash) -> the places of that code
_ALLOWED_KEPT = 8  # filters whose chunk ids a reader keeps while the index's generation stays (``ids_where``)
_SNAPSHOTS = itertools.count(1)  # each reader's snapshot is numbered, so that keys of two never meet
_UNKNOWN = object()  # not on the shelf (None on it: known to have no value)


def _separators(key: str) -> Iterator[int]:
    """Where a key's path can end: before each ``::``."""
    start = key.find("::")
    while start > 0:
        yield start
        start = key.find("::", start + 1)


class IndexReader:
    """A read-only connection to an index directory this user built.

    :param root: the repository the user pointed at, if any (see ``indexdir.search_root``).
    :raises IndexNotFound: if there is no index database in ``index_dir``.
    :raises IndexCorrupt: if the database cannot be read.
    :raises IndexUnavailable: if the directory cannot be read (permissions).
    :raises UnsafeIndexDir: if the directory or an entry in it is a symlink or someone else's;
        ``trust.ForeignIndex`` if this user did not build the index.
    """

    def __init__(self, index_dir: Path, root: Path | None = None) -> None:
        self.index_dir = Path(index_dir)
        self._given_root = root
        self._root: Path | None = None
        self.registration: trust.Registration | None = None
        self._allowed: dict[tuple[Any, ...], npt.NDArray[np.int64] | None] = {}  # ``ids_where``, by generation
        if os.path.islink(self.index_dir):
            raise UnsafeIndexDir(f"the index directory {self.index_dir} is a symlink; refusing to follow it")
        db_path = self.index_dir / DB_NAME
        check_index_dir(self.index_dir)
        _check_database_file(db_path, self.index_dir)
        trust.require_own_journal(self.index_dir)  # before SQLite replays it
        self.conn = self._connect(db_path, immutable=False)
        try:
            self.meta = self._snapshot()
        except IndexCorrupt:
            if os.access(self.index_dir, os.W_OK):
                raise
            # A read-only index directory: SQLite cannot create the WAL's shared-memory file,
            # and nobody can write the index either, so read it as an immutable file.
            self.conn.close()
            self.conn = self._connect(db_path, immutable=True)
            self.meta = self._snapshot()

    @staticmethod
    def _connect(db_path: Path, immutable: bool) -> sqlite3.Connection:
        # The path's bytes, quoted: a repository under a directory whose name is not UTF-8 (`repo\xfe`) is a str with
        # surrogates, which quote() cannot encode as text (every search there was a traceback).
        uri = f"file:{quote(os.fsencode(db_path))}?mode=ro" + ("&immutable=1" if immutable else "")
        try:
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
            conn.execute("PRAGMA trusted_schema = OFF")
            conn.execute(f"PRAGMA mmap_size = {MAPPED_BYTES}")
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"index database {db_path} is unreadable ({exc})") from exc
        return conn

    @property
    def max_file_bytes(self) -> int:
        """The file size limit the index was built with (larger files are never read back)."""
        if self._max_file_bytes is None:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'max_file_bytes'").fetchone()
            self._max_file_bytes = int(row[0]) if row and str(row[0]).isdigit() else Limits().max_bytes
        return self._max_file_bytes

    @property
    def root(self) -> Path:
        """The repository's root: the one the user gave, else found from the index directory
        or this user's registry (never a directory the index names).

        :raises RepositoryMoved: if the repository is no longer there.
        :raises IndexConflict: if the given root is not the index's repository.
        """
        if self._root is None:
            registered = self.registration.root if self.registration is not None else ""
            self._root = search_root(self.index_dir, self.meta.root, self._given_root, registered)
        return self._root

    def _snapshot(self) -> IndexMeta:
        """Start a new read transaction and read ``meta`` in it (what was kept of the last one is let go)."""
        self._snapshot_number, self._max_file_bytes = next(_SNAPSHOTS), None
        try:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
            self.conn.execute("BEGIN")
            trust.require_plain(self.conn, self.index_dir)
            rows = dict(self.conn.execute(f"SELECT key, value FROM meta LIMIT {MAX_META_ROWS}").fetchall())
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"index database {self.index_dir / DB_NAME} is unreadable ({exc})") from exc
        if not rows:
            raise IndexNotFound(f"the index in {self.index_dir} has never been completed (its first run is still "
                                "going, or was interrupted); run `codesearch index` on the repository to build it")
        self.registration = trust.require_trusted(rows.get(trust.ID_KEY), self.index_dir)
        return IndexMeta.from_rows(rows)

    def close(self) -> None:
        """End the snapshot and close the connection."""
        self.conn.close()

    def __enter__(self) -> IndexReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def snapshot_vectors(self) -> SearchedVectors:
        """Load the vector file of the current snapshot's generation, once, without touching SQLite (a flat file of
        at most ``NUMPY_UP_TO`` vectors with numpy, ``FlatVectors``; a larger or an IVF file with FAISS).

        Safe to call from another thread (the SQLite connection belongs to its creator).

        :raises IndexCorrupt: if the file is missing (a writer may just have replaced it) or unreadable.
        """
        path = vectors_path(self.index_dir, self.meta.generation)
        if self.meta.count <= NUMPY_UP_TO:
            flat = FlatVectors.open(path, self.meta.dim, self.meta.count, self.meta.id_checksum)
            if flat is not None:
                return flat  # read with numpy: a search of a flat index does not import FAISS
        return VectorStore.load(path, self.meta.dim, self.meta.count, self.meta.id_checksum, mmap=True)

    def snapshot_files(self) -> tuple[SearchedVectors, LexicalIndex]:
        """The vector and lexical files of the current snapshot's generation (see ``snapshot_vectors``).

        :raises IndexCorrupt: naming the index and the repository to rebuild (three repositories searched as one
            said "vector file vectors-1.faiss is missing" and "run `codesearch index --rebuild`", which run from
            their parent directory indexed the parent).
        """
        try:
            vectors = self.snapshot_vectors()
            lexical = LexicalIndex.load(lexical_path(self.index_dir, self.meta.generation), self.meta.count)
            if self.meta.id_checksum is not None and id_checksum(lexical.ids) != self.meta.id_checksum:
                raise IndexCorrupt(f"the ids in lexical-{self.meta.generation}.bin do not match the metadata's")
        except IndexCorrupt as exc:
            try:
                root: Path | None = self.root
            except CodeSearchError:
                root = None
            # its repository named, and the index directory where it is not the repository's own
            raise naming_index(IndexCorrupt(f"the index in {self.index_dir}: {exc.args[0]}"), root,
                               self.index_dir) from exc
        return vectors, lexical

    def vectors(self) -> SearchedVectors:
        """Load the FAISS index of this snapshot's generation (see ``files``)."""
        return self.files()[0]

    def files(self) -> tuple[SearchedVectors, LexicalIndex]:
        """Load the vector and lexical files of this snapshot's generation.

        A writer deletes the previous generation's files right after committing a new one;
        if that happened between our snapshot and this load, take a fresh snapshot.
        """
        for attempt in range(_SNAPSHOT_RETRIES):
            try:
                return self.snapshot_files()
            except IndexCorrupt:
                if vectors_path(self.index_dir, self.meta.generation).exists() or attempt == _SNAPSHOT_RETRIES - 1:
                    raise
                self.meta = self._snapshot()
        raise AssertionError("unreachable")

    @_sql
    def chunks(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        """Rows of the given chunk ids, keyed by id; their code is read with ``code_of``.

        The rows are the snapshot's, kept (``KEPT_ROWS``) for the next search: read them, never change them.
        """
        def read(missing: list[int]) -> dict[int, dict[str, Any]]:
            out: dict[int, dict[str, Any]] = {}
            for part, marks in in_batches(missing):
                for row in self.conn.execute(f"SELECT {_CHUNK_SQL} FROM chunks WHERE id IN ({marks})", part):
                    out[row[0]] = _packed_row(row)
            return out

        return self._kept(_ROWS, "row", ids, read)

    def _kept(self, shelf: _Shelf, what: Any, items: Iterable[Any], read: Callable[[list[Any]], dict[Any, Any]],
              absent: bool = False) -> dict[Any, Any]:
        """item -> its value for ``items``: what ``shelf`` kept of this snapshot, and ``read(missing)`` (item ->
        value, leaving out those with none) for the rest, which the shelf then keeps too (with ``absent``,
        also that an item has none: a file without a topic is not asked for again). Items without a value
        are left out."""
        n = self._snapshot_number
        found = {item: shelf.get((n, what, item), _UNKNOWN) for item in items}
        missing = [item for item, value in found.items() if value is _UNKNOWN]
        if missing:
            values = read(missing)
            shelf.put({(n, what, item): values.get(item) for item in missing if absent or item in values})
            found.update((item, values.get(item)) for item in missing)
        return {item: value for item, value in found.items() if value is not None}

    @_sql
    def ids_where(self, language: str | None = None, paths: list[str] | None = None,
                  kinds: list[str] | None = None) -> npt.NDArray[np.int64] | None:
        """Ids of chunks in a language, in a list of files and/or of some kinds; None when that is every chunk.

        The files first (thousands of rows); then the chunks of the files kept, through the index on their file,
        as integers only. Every chunk's path read and compared in Python made a filtered search of 95k chunks cost
        90 ms, 14x an unfiltered one (a helper on the JDK: `-l java` where every file is Java, `--kind method`,
        `-p`, a search from a subdirectory). A filter every chunk passes is none; what a filter lets through is
        kept while the index's generation stays (a resident process or MCP server asks the same again)."""
        wanted = set(paths) if paths is not None else None
        sql = "SELECT id, path FROM files" + (" WHERE language = ?" if language is not None else "")
        files = [r[0] for r in self.conn.execute(sql, [language] if language is not None else [])
                 if wanted is None or r[1] in wanted]
        every_file = len(files) == self.conn.execute("SELECT count(*) FROM files").fetchone()[0]
        kinds = sorted(set(kinds or []))
        # What a generation holds does not change: its number, chunk count and ids' checksum name it.
        generation = (self.meta.generation, self.meta.count, self.meta.id_checksum)
        key = (generation, None if every_file else tuple(files), tuple(kinds))
        if key in self._allowed:
            return self._allowed[key]
        every_kind = not kinds or set(kinds) >= {r[0] for r in self.conn.execute(
            "SELECT DISTINCT kind FROM chunk_rows")}
        found = None if every_file and every_kind else self._chunk_ids(None if every_file else files,
                                                                       [] if every_kind else kinds)
        if len(self._allowed) >= _ALLOWED_KEPT or any(k[0] != generation for k in self._allowed):
            self._allowed.clear()
        self._allowed[key] = found
        return found

    def _chunk_ids(self, files: list[int] | None, kinds: list[str]) -> npt.NDArray[np.int64]:
        """The ids of the chunks of ``files`` (None: every file) of ``kinds`` (none: any kind), sorted, read through
        the index on their file."""
        kind_sql = f" AND kind IN ({','.join('?' * len(kinds))})" if kinds else ""
        ids: list[int] = []
        if files is None:
            ids = [r[0] for r in self.conn.execute(f"SELECT id FROM chunk_rows WHERE 1{kind_sql}", kinds)]
        else:
            for part, marks in in_batches(files):
                ids.extend(r[0] for r in self.conn.execute(
                    f"SELECT id FROM chunk_rows WHERE file IN ({marks}){kind_sql}", [*part, *kinds]))
        return np.sort(np.fromiter(ids, dtype=np.int64, count=len(ids)))

    @_sql
    def file_topics(self, paths: list[str]) -> dict[str, npt.NDArray[np.float16]]:
        """The topic vector of each file of ``paths`` that has one (``files.topic``).

        :raises IndexCorrupt: for a topic that is not one float16 vector of the index's dimension.
        """
        dim = self.meta.dim

        def read(missing: list[str]) -> dict[str, npt.NDArray[np.float16]]:
            out: dict[str, npt.NDArray[np.float16]] = {}
            for part, marks in in_batches(missing):
                for path, topic in self.conn.execute(
                        f"SELECT path, topic FROM files WHERE path IN ({marks}) AND length(topic) > 0", part):
                    if not isinstance(topic, bytes) or len(topic) != 2 * dim:
                        raise IndexCorrupt(f"the index's topic of {path} is not a vector of dimension {dim} "
                                           "(damaged); run `codesearch index --rebuild`")
                    out[path] = np.frombuffer(topic, dtype=np.float16)
            return out

        return self._kept(_FILES, "topic", paths, read, absent=True)

    @_sql
    def same_content(self, hashes: list[str], limit: int = 20) -> dict[str, list[str]]:
        """content hash -> ``path:line`` of every chunk with that hash (identical code), at most ``limit`` each."""
        def read(unique: list[str]) -> dict[str, list[str]]:
            out: dict[str, list[str]] = {}
            marks = ",".join("?" * len(unique))
            rows = self.conn.execute("SELECT content_hash, path, start_line FROM chunks WHERE content_hash IN "
                                     f"({marks}) ORDER BY path, start_line", unique)
            for digest, path, line in rows:
                places = out.setdefault(digest, [])
                if len(places) < limit:
                    places.append(f"{path}:{line}")
            return out

        found = self._kept(_SAME, ("same", limit), dict.fromkeys(hashes), read, absent=True)
        return {digest: list(places) for digest, places in found.items() if len(places) > 1}

    @_sql
    def ids_named(self, names: list[str], language: str | None = None, limit: int = 50,
                  first: Callable[[str], bool] | None = None) -> list[int]:
        """Ids of chunks whose name is one of ``names`` (any case), definitions before code.

        :param first: given a chunk's qualified name, whether it comes before the others: the ``limit``
            taken are those it picks, then the rest, among the first ``MAX_NAMED`` so named (Alamofire has
            113 chunks named ``request``; the first 50 held one of ``Session.request``'s four overloads).
        """
        if first is not None:
            rows = []
            for part, marks in in_batches(names):
                sql = (f"SELECT id, qualname FROM chunks WHERE name COLLATE NOCASE IN ({marks})"
                       + (" AND language = ?" if language else "") + " LIMIT ?")
                rows.extend(self.conn.execute(sql, [*part, *([language] if language else []), MAX_NAMED]))
            ranked = sorted(rows, key=lambda row: not first(str(row[1])))  # stable: in id order otherwise
            return [int(row[0]) for row in ranked[:limit]]
        found: list[int] = []
        for part, marks in in_batches(names):  # a long question spells hundreds of names: SQLite's variable cap
            sql = (f"SELECT id FROM chunks WHERE name COLLATE NOCASE IN ({marks})"
                   + (" AND language = ?" if language else "") + " LIMIT ?")
            params: list[object] = [*part, *([language] if language else []), limit - len(found)]
            found.extend(int(r[0]) for r in self.conn.execute(sql, params))
            if len(found) >= limit:
                break
        return found

    @_sql
    def hashes_within(self, path: str, start_line: int, end_line: int) -> set[str]:
        """The content hashes of ``path``'s chunks that lie within its lines ``start_line``-``end_line``."""
        rows = self.conn.execute("SELECT content_hash FROM chunks WHERE path = ? AND start_line >= ? AND end_line <= ?",
                                 [path, start_line, end_line])
        return {str(row[0]) for row in rows}

    @_sql
    def next_definition(self, path: str, line: int) -> tuple[int, int, str, str] | None:
        """``(id, start_line, qualname, doc)`` of the first definition of ``path`` that starts after ``line``."""
        row = self.conn.execute("SELECT id, start_line, qualname, doc FROM chunks WHERE path = ? AND start_line > ? "
                                "AND kind != 'code' ORDER BY start_line, id LIMIT 1", [path, line]).fetchone()
        return (int(row[0]), int(row[1]), str(row[2]), str(row[3] or "")) if row else None

    @_sql
    def chunks_at(self, path: str, line: int) -> list[dict[str, Any]]:
        """Rows of the chunks of ``path`` whose lines include ``line``, innermost first
        (a definition before the code between definitions of the same size)."""
        cols = _CHUNK_SQL
        rows = self.conn.execute(f"SELECT {cols} FROM chunks WHERE path = ? AND start_line <= ? AND end_line >= ?"
                                 " ORDER BY end_line - start_line, kind = 'code', id", [path, line, line])
        return [_chunk_row(row) for row in rows]

    @_sql
    def key_spans(self, keys: list[str]) -> dict[str, tuple[int, int]]:
        """The first and last lines of the chunks with these keys (``path::qualname``), keyed by key; no code read."""
        wanted = set(keys)
        # Each place a key's path can end gives a path and a qualified name: only rows of both are read, not every
        # chunk of the files (a long file's hundreds cost 0.3 ms a search), in one query a batch of keys.
        out: dict[str, tuple[int, int]] = {}
        for part, _ in in_batches(sorted(wanted), 100):  # each key adds a path and a name or more
            paths = sorted({key[:n] for key in part for n in _separators(key)})
            names = sorted({key[n + 2:].split("#", 1)[0] for key in part for n in _separators(key)})
            rows = self.conn.execute(
                f"SELECT {KEY_SQL}, start_line, end_line FROM chunks WHERE path IN ({','.join('?' * len(paths))}) "
                f"AND qualname IN ({','.join('?' * len(names))})", [*paths, *names])
            out.update((key, (int(start), int(end))) for key, start, end in rows if key in wanted)
        return out

    @_sql
    def chunks_with_keys(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Rows of the chunks with these keys (``path::qualname``), keyed by key."""
        wanted = set(keys)
        # A key starts with its file's path and "::": look in the files it can name (the path index).
        paths = sorted({key[:n] for key in wanted for n in _separators(key)})
        out: dict[str, dict[str, Any]] = {}
        for part, marks in in_batches(paths):
            for row in self.conn.execute(f"SELECT {_CHUNK_SQL} FROM chunks WHERE path IN ({marks})", part):
                if row[1] in wanted:  # the key, CHUNK_COLUMNS' second
                    record = _chunk_row(row)
                    out[record["key"]] = record
        return out

    @_sql
    def chunks_named(self, symbol: str, limit: int = 20) -> list[dict[str, Any]]:
        """Rows of definitions whose qualified name is ``symbol``, else whose name is (case first, then any case)."""
        cols = _CHUNK_SQL
        for clause in ("qualname = ?", "name = ?", "qualname = ? COLLATE NOCASE", "name = ? COLLATE NOCASE"):
            rows = self.conn.execute(f"SELECT {cols} FROM chunks WHERE {clause} AND kind != 'code'"
                                     " ORDER BY path, start_line LIMIT ?", [symbol, limit]).fetchall()
            if rows:
                return [_chunk_row(row) for row in rows]
        return []

    @_sql
    def chunk_contents(self) -> list[tuple[str, str, str, str, str, str]]:
        """``(content_hash, kind, qualname, signature, doc, code)`` of every chunk (what a reranker reads)."""
        rows = self.conn.execute("SELECT content_hash, kind, qualname, signature, doc, code_z FROM chunks")
        return [(*row[:5], unpack_code(row[5])) for row in rows]

    @_sql
    def file_language(self, path: str) -> str:
        """The language of an indexed file (``""`` if it is not indexed)."""
        row = self.conn.execute("SELECT language FROM files WHERE path = ?", [path]).fetchone()
        return row[0] if row else ""

    @_sql
    def verify(self) -> int:
        """Check the whole snapshot: SQLite sound, and its chunk ids, the vector file's, the lexical
        file's and the metadata's count all agree (what a killed run must never break).

        :returns: the number of chunks.
        :raises IndexCorrupt: on any damage or disagreement.
        """
        from codesearch.store.metadata import quick_check  # sqlite-utils stays off the search path

        damage = quick_check(self.conn)
        if damage:
            raise IndexCorrupt(f"index database {self.index_dir / DB_NAME} is damaged ({damage})")
        vectors, lexical = self.files()  # each file's ids against the metadata's checksum
        ids = sorted(r[0] for r in self.conn.execute("SELECT id FROM chunks"))
        agree = ids == sorted(vectors.ids().tolist()) == sorted(lexical.ids.tolist())
        if not agree or len(ids) != self.meta.count:
            raise IndexCorrupt(f"the chunks of {self.index_dir} in SQLite, the vector file and the lexical file "
                               "disagree; run `codesearch index --rebuild`")
        return len(ids)

    @_sql
    def all_file_states(self) -> dict[str, tuple[int, int, int, str]]:
        """path -> (size, mtime_ns, ctime_ns, sha1) as indexed, for every file."""
        rows = self.conn.execute("SELECT path, size, mtime_ns, ctime_ns, sha1 FROM files")
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}

    @_sql
    def file_paths(self) -> list[str]:
        """Every indexed file path."""
        return [r[0] for r in self.conn.execute("SELECT path FROM files")]

    @_sql
    def directory_mtimes(self, limit: int) -> dict[str, int] | None:
        """rel -> mtime_ns of each directory the last index run's walk read (``metadata.m010_directories``), or None:
        an index written before that table, or more than ``limit`` directories."""
        if self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'directories'").fetchone() \
                is None:
            return None
        rows = self.conn.execute("SELECT path, mtime_ns FROM directories LIMIT ?", [limit + 1]).fetchall()
        return None if len(rows) > limit else {str(path): int(mtime) for path, mtime in rows}

    @_sql
    def skipped_paths(self) -> set[str]:
        """The path of every file and directory the last index run skipped."""
        return {str(r[0]) for r in self.conn.execute("SELECT path FROM skipped")}

    @_sql
    def languages(self) -> set[str]:
        """The languages of the indexed files (as the index records them: ``text`` for files without a grammar)."""
        return {str(r[0]) for r in self.conn.execute("SELECT DISTINCT language FROM files")}

    @_sql
    def skipped_above(self, directory: str) -> tuple[str, str] | None:
        """``(path, reason)`` of the skipped entry that is ``directory`` (repo-relative) or the nearest
        directory above it, or None: why nothing under it is indexed (a hidden or vendored directory)."""
        parts = directory.split("/")
        places = ["/".join(parts[:n]) for n in range(len(parts), 0, -1)]
        marks = ", ".join("?" * len(places))
        found = dict(self.conn.execute(f"SELECT path, reason FROM skipped WHERE path IN ({marks})", places))
        return next(((place, found[place]) for place in places if place in found), None)

    @_sql
    def kinds(self) -> list[str]:
        """The kinds of chunk the index holds."""
        return [str(r[0]) for r in self.conn.execute("SELECT DISTINCT kind FROM chunks")]

    @_sql
    def skipped_entries(self) -> list[tuple[str, str]]:
        """``(path, reason)`` of every file and directory the last index run skipped, by path."""
        return [(str(p), str(r)) for p, r in self.conn.execute("SELECT path, reason FROM skipped ORDER BY 1")]

    @_sql
    def file_states(self, paths: list[str]) -> dict[str, tuple[int, int, int, str]]:
        """path -> (size, mtime_ns, ctime_ns, sha1) as indexed, for the given paths."""
        def read(missing: list[str]) -> dict[str, tuple[int, int, int, str]]:
            out: dict[str, tuple[int, int, int, str]] = {}
            for part, marks in in_batches(missing):
                rows = self.conn.execute(
                    f"SELECT path, size, mtime_ns, ctime_ns, sha1 FROM files WHERE path IN ({marks})", part)
                out.update((r[0], (r[1], r[2], r[3], r[4])) for r in rows)
            return out

        return self._kept(_FILES, "state", paths, read)

    @_sql
    def disk_usage(self) -> dict[str, Any]:
        """Bytes on disk of the database (with its WAL), this generation's vector and lexical files and
        their sum, the bytes of the source files indexed, and the ratio of the two."""
        def size(path: Path) -> int:
            try:
                return os.lstat(path).st_size
            except OSError:
                return 0

        parts = {
            "database_bytes": sum(size(self.index_dir / name) for name in (DB_NAME, f"{DB_NAME}-wal")),
            "vector_bytes": size(vectors_path(self.index_dir, self.meta.generation)),
            "lexical_bytes": size(lexical_path(self.index_dir, self.meta.generation)),
        }
        total = sum(parts.values())
        source = int(self.conn.execute("SELECT COALESCE(SUM(size), 0) FROM files").fetchone()[0])
        return {**parts, "index_bytes": total, "source_bytes": source,
                "ratio_to_source": round(total / source, 3) if source else None}

    @_sql
    def stats(self) -> dict[str, Any]:
        """Counts per language and kind, and the skipped files."""
        by_language = dict(self.conn.execute("SELECT language, COUNT(*) FROM chunks GROUP BY language ORDER BY 1"))
        files_by_language = dict(self.conn.execute("SELECT language, COUNT(*) FROM files GROUP BY language ORDER BY 1"))
        by_kind = dict(self.conn.execute("SELECT kind, COUNT(*) FROM chunks GROUP BY kind ORDER BY 1"))
        skipped = [{"path": p, "reason": r} for p, r in self.skipped_entries()]
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'unsupported'").fetchone()
        try:
            unsupported = {str(k): int(v) for k, v in json.loads(row[0]).items()} if row else {}
        except (ValueError, AttributeError, TypeError):
            unsupported = {}
        return {
            "files": sum(files_by_language.values()),
            "chunks": self.meta.count,
            "disk": self.disk_usage(),
            "files_by_language": files_by_language,
            "chunks_by_language": by_language,
            "chunks_by_kind": by_kind,
            "files_without_grammar": files_by_language.get(TEXT_LANGUAGE, 0),
            "unsupported": unsupported,
            "skipped": skipped,
        }
