"""SQLite metadata: schema, migrations and the write side (through sqlite-utils).

Tables:

- ``meta(key, value)``: schema version, model name and fingerprint, dimension,
  vector generation, chunk count, repository root, timestamps;
- ``files(id, path, language, size, mtime_ns, sha1, symbols, ctime_ns, topic)``: what was indexed; ``topic``
  is the file's topic vector (the normalised mean of its chunks' vectors, float16), NULL until the
  writer's next generation when the file's chunks changed (``IndexWriter``);
- ``chunk_rows(id, key, file, kind, name, qualname, signature, doc, start_line, end_line,
  content_hash, code_z)``: ``id`` is the FAISS id, ``file`` the ``files.id`` of its file (schema 8:
  not its path, which took 0.25x of the source with its index, nor its language, which is always the
  file's); ``code_z`` is the code shown, compressed (``codesearch.store.codec``). Readers read the view
  ``chunks``, the same columns with the file's ``path`` and ``language`` in place of ``file``; the
  writer writes ``chunk_rows``;
- ``skipped(path, reason)``: what the last run left out, and why.

Each chunk's weighted code-aware terms (``codesearch.terms``) live in the generation's
lexical file only (``codesearch.store.postings``); schema 4's ``lexical`` table, their second
copy, is read once more by the first run of this schema and dropped (``IndexWriter``).

The read side (``codesearch.store.reader``) uses the stdlib ``sqlite3`` module only,
so that a search does not pay for importing sqlite-utils.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from codesearch.store import trust
from codesearch.store.codec import pack_code
from codesearch.store.layout import APPLICATION_ID, CHUNKS_VIEW, KEY_SQL, SCHEMA_VERSION, in_batches, stored_key
from codesearch.terms import chunk_terms
from indexer.chunk import display_code
from indexer.types import Chunk, SkippedFile


@contextmanager
def _without_pandas() -> Iterator[None]:
    """Hide pandas while sqlite-utils is imported. sqlite-utils imports pandas whenever it is
    installed (about 0.3 s, more than the rest of an unchanged ``index`` run) only to map
    ``pandas.Timestamp`` columns, which no index has; ``None`` in ``sys.modules`` makes that
    optional import fail as if pandas were absent, for the moment of this import only."""
    if "pandas" in sys.modules or "sqlite_utils" in sys.modules:
        yield
        return
    sys.modules["pandas"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if "pandas" in sys.modules and sys.modules["pandas"] is None:
            del sys.modules["pandas"]


with _without_pandas():
    from sqlite_utils import Database, Migrations

__all__ = ["SCHEMA_VERSION", "connect", "migrations", "open_for_write", "ownership", "quick_check"]

migrations = Migrations("codesearch")


@migrations()
def m001_initial(db: Database) -> None:
    """Create meta, files, chunks and skipped."""
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("files").create(
        {"path": str, "language": str, "size": int, "mtime_ns": int, "sha1": str, "symbols": int}, pk="path"
    )
    db.table("chunks").create(
        {
            "id": int,
            "key": str,
            "path": str,
            "language": str,
            "kind": str,
            "name": str,
            "qualname": str,
            "signature": str,
            "doc": str,
            "code": str,
            "start_line": int,
            "end_line": int,
            "content_hash": str,
        },
        pk="id",
    )
    db.table("chunks").create_index(["key"], unique=True)
    db.table("chunks").create_index(["path"])
    db.table("chunks").create_index(["language"])
    db.table("skipped").create({"path": str, "reason": str}, pk="path")


@migrations()
def m002_lexical_index(db: Database) -> None:
    """FTS5 over split identifiers (schema 2; replaced by the ``lexical`` table in m004)."""
    db.execute("CREATE VIRTUAL TABLE chunks_fts USING fts5(name, signature, doc, code, tokenize = 'unicode61')")


@migrations()
def m003_file_ctime(db: Database) -> None:
    """``files.ctime_ns``: a file rewritten with its old size and mtime restored still differs in ctime."""
    db.table("files").add_column("ctime_ns", int, not_null_default=-1)


@migrations()
def m004_lexical_terms(db: Database) -> None:
    """The lexical stage moves from FTS5 to code-aware BM25 (``codesearch.terms``): each chunk's
    weighted terms in ``lexical``; indexes on chunk names in any case (the definitions of the
    names a query mentions) and on content hashes (identical code at several paths is shown once)."""
    db.execute("CREATE INDEX IF NOT EXISTS chunks_content_hash ON chunks(content_hash)")
    db.execute("DROP TABLE IF EXISTS chunks_fts")
    db.execute("CREATE TABLE lexical (id INTEGER PRIMARY KEY, terms BLOB NOT NULL, weights BLOB NOT NULL,"
               " length REAL NOT NULL)")
    db.execute("CREATE INDEX IF NOT EXISTS chunks_name_nocase ON chunks(name COLLATE NOCASE)")
    rows = db.execute("SELECT id, qualname, signature, doc, code, path FROM chunks").fetchall()
    db.conn.executemany("INSERT INTO lexical (id, terms, weights, length) VALUES (?,?,?,?)",
                        [(row[0], *chunk_terms(*row[1:])) for row in rows])


@migrations()
def m005_compact(db: Database) -> None:
    """Schema 5: the stored code compressed (``code`` -> ``code_z``). The ``lexical`` table stays
    until the writer has built the first lexical file of this schema from it (then it is dropped)."""
    db.execute("ALTER TABLE chunks ADD COLUMN code_z BLOB")
    rows = db.execute("SELECT id, code FROM chunks").fetchall()
    db.conn.executemany("UPDATE chunks SET code_z = ? WHERE id = ?", [(pack_code(code or ""), i) for i, code in rows])
    db.execute("ALTER TABLE chunks DROP COLUMN code")


@migrations()
def m006_no_key_index(db: Database) -> None:
    """The unique index on ``chunks.key`` goes (0.2x of the source on disk: no query looks a chunk up by
    key). Keys stay unique by construction, ``path::qualname`` with ``#2``... for overloads, and the
    writer checks each file's keys before writing them (``IndexWriter.write_file``). Readers are
    unaffected, so the schema version stays."""
    db.execute("DROP INDEX IF EXISTS idx_chunks_key")


@migrations()
def m007_file_topics(db: Database) -> None:
    """Schema 6: ``files.topic``, each file's topic vector; NULL here, filled by the writer's next
    generation (which an older schema version always writes)."""
    db.table("files").add_column("topic", bytes)


@migrations()
def m008_key_tails(db: Database) -> None:
    """Schema 7: ``chunks.key`` stores only what its path and qualified name do not say (``KEY_SQL``)."""
    db.execute("UPDATE chunks SET key = CASE WHEN key = path || '::' || qualname THEN NULL "
               "WHEN substr(key, 1, length(path) + 2) = path || '::' THEN substr(key, length(path) + 1) "
               "ELSE key END")


@migrations()
def m009_file_ids(db: Database) -> None:
    """Schema 8: each chunk names its file by ``files.id`` (an integer primary key, so that VACUUM keeps
    it), not by its path, and has no language of its own (a chunk's language is its file's); ``chunks``
    becomes a view with the file's path and language (what every reader reads)."""
    db.execute("CREATE TABLE files_new (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, language TEXT, "
               "size INTEGER, mtime_ns INTEGER, sha1 TEXT, symbols INTEGER, ctime_ns INTEGER NOT NULL DEFAULT -1, "
               "topic BLOB)")
    db.execute("INSERT INTO files_new (path, language, size, mtime_ns, sha1, symbols, ctime_ns, topic) "
               "SELECT path, language, size, mtime_ns, sha1, symbols, ctime_ns, topic FROM files ORDER BY path")
    # A chunk whose file has no row (never written so) would be lost here; the writer's count check then
    # refuses the index, as for any other disagreement.
    db.execute("CREATE TABLE chunk_rows (id INTEGER PRIMARY KEY, key TEXT, file INTEGER NOT NULL, "
               "kind TEXT, name TEXT, qualname TEXT, signature TEXT, doc TEXT, start_line INTEGER, "
               "end_line INTEGER, content_hash TEXT, code_z BLOB)")
    db.execute("INSERT INTO chunk_rows SELECT c.id, c.key, f.id, c.kind, c.name, c.qualname, "
               "c.signature, c.doc, c.start_line, c.end_line, c.content_hash, c.code_z "
               "FROM chunks c JOIN files_new f ON f.path = c.path ORDER BY c.id")
    db.execute("DROP TABLE chunks")  # and its indexes
    db.execute("DROP TABLE files")
    db.execute("ALTER TABLE files_new RENAME TO files")
    db.execute("CREATE INDEX chunk_rows_file ON chunk_rows(file)")
    db.execute("CREATE INDEX files_language ON files(language)")  # a language filter starts from the files
    db.execute("CREATE INDEX chunk_rows_content_hash ON chunk_rows(content_hash)")
    db.execute("CREATE INDEX chunk_rows_name_nocase ON chunk_rows(name COLLATE NOCASE)")
    db.execute(CHUNKS_VIEW)


@migrations()
def m010_directories(db: Database) -> None:
    """``directories``: the mtime of each directory the last index run's walk read, before it read any file (a
    directory's mtime changes when an entry is created, removed or renamed in it), so that a search can tell
    that files were added since without walking the repository (``codesearch.freshness.unindexed_files``).
    Readers of an index without it skip that check, so the schema version stays."""
    db.execute("CREATE TABLE IF NOT EXISTS directories (path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL)")


def create_private(db_path: Path) -> None:
    """Create an empty database file readable by this user only, unless one is there (SQLite creates 0644, and a
    database's -wal and -shm files take its mode)."""
    try:
        os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
    except FileExistsError:
        pass  # an existing database: opened as it is (its checks are the caller's)
    except OSError:
        pass  # SQLite reports what is wrong with the place


def connect(db_path: Path) -> sqlite3.Connection:
    """A read-write connection (created if missing, readable by this user only, as every index file: SQLite made it
    0644, and its -wal and -shm files take its mode) that trusts nothing in the file's schema."""
    create_private(db_path)
    conn = sqlite3.connect(str(db_path), isolation_level=None, timeout=30)
    # Views and triggers of a planted database must not call functions with side effects.
    conn.execute("PRAGMA trusted_schema = OFF")
    return conn


def ownership(conn: sqlite3.Connection) -> str:
    """``empty`` (a new file), ``ours`` (a codesearch index) or ``foreign`` (any other SQLite database, or one with
    objects codesearch never writes: ``trust.planted``).

    Ours: our application id, or (indexes from before it was set) a ``meta`` table with
    the keys codesearch writes.
    """
    if trust.planted(conn) is not None:
        return "foreign"
    if conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
        return "ours"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    if not tables:
        return "empty"
    if "meta" in tables and "chunks" in tables:
        keys = {r[0] for r in conn.execute("SELECT key FROM meta WHERE key IN ('schema_version', 'model_fingerprint')")}
        if keys == {"schema_version", "model_fingerprint"}:
            return "ours"
    return "foreign"


def quick_check(conn: sqlite3.Connection) -> str | None:
    """None if SQLite's ``quick_check`` finds the file sound, else its first complaint."""
    rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
    return None if rows == ["ok"] else "; ".join(rows)


def open_for_write(conn: sqlite3.Connection) -> Database:
    """The metadata database on ``conn`` (see ``connect``), marked as ours, with pending migrations applied."""
    # No sqlite-utils plugins: nothing installed elsewhere hooks the index's connection, and finding
    # them (every installed package's entry points) cost each index run ~20 ms.
    db = Database(conn, execute_plugins=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    migrations.apply(db)
    return db


def get_meta(db: Database) -> dict[str, str]:
    """Every meta key and value."""
    return {row[0]: row[1] for row in db.execute("SELECT key, value FROM meta").fetchall()}


def set_meta(db: Database, values: dict[str, object]) -> None:
    """Insert or replace meta values (stringified)."""
    db.table("meta").upsert_all([{"key": k, "value": str(v)} for k, v in values.items()], pk="key")


def meta_value(conn: sqlite3.Connection, key: str) -> str | None:
    """One meta value (None if the key is absent). :raises sqlite3.DatabaseError: if it cannot be read."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def chunk_count(db: Database, path: str | None = None) -> int:
    """The number of chunks, of one file or (``path`` None) of the whole index."""
    if path is None:
        return int(db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
    return int(db.execute("SELECT COUNT(*) FROM chunks WHERE path = ?", [path]).fetchone()[0])


def chunk_ids(db: Database) -> list[int]:
    """Every chunk id."""
    return [r[0] for r in db.execute("SELECT id FROM chunks")]


def counts_by_language(db: Database) -> tuple[dict[str, int], dict[str, int]]:
    """(files, chunks) per language, languages in order."""
    files = dict(db.execute("SELECT language, COUNT(*) FROM files GROUP BY 1 ORDER BY 1").fetchall())
    chunks = dict(db.execute("SELECT language, COUNT(*) FROM chunks GROUP BY 1 ORDER BY 1").fetchall())
    return files, chunks


def chunks_by_file(db: Database) -> dict[str, int]:
    """path -> its number of chunks, for every indexed file (0 for a file without chunks)."""
    counts = dict.fromkeys((r[0] for r in db.execute("SELECT path FROM files").fetchall()), 0)
    counts.update(db.execute("SELECT path, COUNT(*) FROM chunks GROUP BY 1").fetchall())
    return counts


def file_rows(db: Database) -> dict[str, tuple[int, int, int, str]]:
    """path -> (size, mtime_ns, ctime_ns, sha1) for every indexed file."""
    rows = db.execute("SELECT path, size, mtime_ns, ctime_ns, sha1 FROM files").fetchall()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def chunk_hashes(db: Database, path: str) -> dict[str, tuple[int, str]]:
    """key -> (id, content_hash) for the chunks of one file."""
    rows = db.execute(f"SELECT {KEY_SQL}, id, content_hash FROM chunks WHERE path = ?", [path]).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def chunk_ids_for_paths(db: Database, paths: Iterable[str]) -> list[int]:
    """Ids of every chunk in the given files."""
    return [i for ids in chunk_ids_by_file(db, list(paths)).values() for i in ids]


def chunk_ids_by_file(db: Database, paths: Sequence[str], batch: int = 500) -> dict[str, list[int]]:
    """path -> the ids of its chunks, for each of ``paths`` in order (an empty list for a file without)."""
    out: dict[str, list[int]] = {p: [] for p in paths}
    for part, marks in in_batches(paths, batch):
        for chunk_id, path in db.execute(f"SELECT id, path FROM chunks WHERE path IN ({marks})", list(part)):
            out[path].append(chunk_id)
    return out


def insert_chunks(db: Database, chunks: Sequence[Chunk]) -> list[int]:
    """Insert new chunks, whose files' rows are written (``upsert_files``); return their ids, in order.

    :raises KeyError: for a chunk whose file has no row.
    """
    first = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM chunk_rows").fetchone()[0]
    ids = list(range(first, first + len(chunks)))
    files = file_ids(db, sorted({c.path for c in chunks}))
    db.conn.executemany(
        "INSERT INTO chunk_rows (id, key, file, kind, name, qualname, signature, doc, code_z,"
        " start_line, end_line, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (i, stored_key(c.key, c.path, c.qualname), files[c.path], c.kind.value, c.name,
             c.qualname, c.signature, c.doc, pack_code(display_code(c)), c.start_line, c.end_line, c.content_hash)
            for i, c in zip(ids, chunks)
        ],
    )
    return ids


def file_ids(db: Database, paths: Sequence[str]) -> dict[str, int]:
    """path -> ``files.id`` of each of ``paths`` that has a row."""
    out: dict[str, int] = {}
    for part, marks in in_batches(paths):
        out.update(db.execute(f"SELECT path, id FROM files WHERE path IN ({marks})", list(part)).fetchall())
    return out


def has_lexical_table(db: Database) -> bool:
    """Whether schema 4's ``lexical`` table is still there (the first run of schema 5 reads it)."""
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lexical'").fetchone() is not None


def lexical_rows(db: Database) -> list[tuple[int, bytes, bytes, float]]:
    """Every row of schema 4's ``lexical`` table: the previous generation's terms of each chunk."""
    return db.execute("SELECT id, terms, weights, length FROM lexical").fetchall()


def drop_lexical_table(db: Database) -> None:
    """Drop schema 4's ``lexical`` table (its terms now live in the lexical file only)."""
    db.execute("DROP TABLE IF EXISTS lexical")


def update_positions(db: Database, moved: Sequence[tuple[int, Chunk]]) -> None:
    """Refresh what the content hash leaves out of chunks whose content did not change: their line numbers,
    stored code and name (a new parser can name a symbol otherwise: ``indexer.parse.PARSER_VERSION`` 8)."""
    db.conn.executemany(
        "UPDATE chunk_rows SET start_line = ?, end_line = ?, code_z = ?, name = ? WHERE id = ?",
        [(c.start_line, c.end_line, pack_code(display_code(c)), c.name, i) for i, c in moved],
    )


def delete_chunks(db: Database, ids: Iterable[int]) -> None:
    """Delete chunks by id."""
    pairs = [(i,) for i in ids]
    db.conn.executemany("DELETE FROM chunk_rows WHERE id = ?", pairs)


_FILE_COLUMNS = ("path", "language", "size", "mtime_ns", "ctime_ns", "sha1", "symbols")


def upsert_files(db: Database, rows: Sequence[dict[str, object]]) -> None:
    """Insert or update rows of the files table (plain SQL: this runs once per file); a file's
    ``topic`` is kept (``clear_topics`` says when its chunks changed)."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in _FILE_COLUMNS[1:])
    db.conn.executemany(
        f"INSERT INTO files ({', '.join(_FILE_COLUMNS)}) VALUES ({', '.join('?' * len(_FILE_COLUMNS))}) "
        f"ON CONFLICT(path) DO UPDATE SET {updates}",
        [tuple(row[c] for c in _FILE_COLUMNS) for row in rows],
    )


def clear_topics(db: Database, paths: Iterable[str]) -> None:
    """Mark files whose chunks changed: their topic is computed again by the next generation."""
    db.conn.executemany("UPDATE files SET topic = NULL WHERE path = ?", [(p,) for p in paths])


def files_without_topic(db: Database) -> list[str]:
    """The files whose topic the next generation computes."""
    return [r[0] for r in db.execute("SELECT path FROM files WHERE topic IS NULL")]


def set_topics(db: Database, topics: Iterable[tuple[str, bytes]]) -> None:
    """Store files' topic vectors (``path``, float16 bytes)."""
    db.conn.executemany("UPDATE files SET topic = ? WHERE path = ?", [(t, p) for p, t in topics])


def delete_files(db: Database, paths: Iterable[str]) -> None:
    """Forget files (their chunks are deleted separately)."""
    db.conn.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in paths])


def replace_skipped(db: Database, skipped: Sequence[SkippedFile]) -> None:
    """Record what the latest run skipped, replacing the previous list."""
    db.execute("DELETE FROM skipped")
    if skipped:
        db.table("skipped").insert_all([{"path": s.path, "reason": s.reason} for s in skipped], pk="path", replace=True)


def replace_directories(db: Database, directories: dict[str, int]) -> None:
    """Record the directories the latest run's walk read, with their mtimes, replacing the previous ones."""
    db.execute("DELETE FROM directories")
    db.conn.executemany("INSERT OR REPLACE INTO directories (path, mtime_ns) VALUES (?, ?)", directories.items())


def clear(db: Database) -> None:
    """Delete every file, chunk and skipped row (for a rebuild, inside its transaction)."""
    for table in ("chunk_rows", "files", "skipped"):
        db.execute(f"DELETE FROM {table}")
