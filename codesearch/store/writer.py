"""The write side of an index: one indexing run as one unit of work.

``IndexWriter.open`` takes an index directory for a run: it prepares the directory, holds
the writer lock, opens the metadata database after checking that it is ours, sound and
built by this user (any other index is deleted and built afresh), refuses another
repository's index, and checks the model and schema the index was built with. The
pipeline then tells the writer what changed, inside ``transaction``: each file it read
(``write_file``), each file that left the index (``remove_files``); ``finish`` writes the new
generation's vector and lexical files, the metadata and the trust registration, and the
transaction commits when its block ends. After the commit, older generations' files are
deleted when the writer closes.

Every change of one run lands in that one SQLite transaction, and the files of the new
generation are written before it commits, so an interrupted run changes nothing. The
file names of a generation (``vectors-<n>.faiss``, ``lexical-<n>.bin``) and every SQL
statement stay under ``codesearch.store``.
"""

from __future__ import annotations

import errno
import json
import os
import re
import sqlite3
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from codesearch.embed import Embedder
from codesearch.errors import IndexConflict, IndexCorrupt, IndexLocked, IndexUnavailable, UnsafeIndexDir
from codesearch.store import ivf, trust
from codesearch.store import metadata as md
from codesearch.store.indexdir import (
    DB_FILES,
    JOURNAL_NAME,
    SHM_NAME,
    WAL_NAME,
    check_index_dir,
    default_index_dir,
    has_journal,
    odd_database_files,
    prepare_index_dir,
    recorded_root,
    remove_entry,
    remove_linked_journals,
    root_from_index,
    wal_salts,
)
from codesearch.store.layout import DB_NAME
from codesearch.store.lock import WriterLock, writer_lock
from codesearch.store.metadata import Database  # sqlite-utils' (imported there without pandas)
from codesearch.store.postings import SCORING_VERSION, LexicalIndex, PendingRows, lexical_path
from codesearch.store.reader import IndexMeta, check_model, check_schema
from codesearch.store.vectors import VectorStore, as_stored, id_checksum, vectors_path
from indexer import memory
from indexer.types import SkippedFile
from indexer.work import ParsedFile

# path -> (size, mtime_ns, ctime_ns, sha1) of an indexed file.
FileState = tuple[int, int, int, str]

_GENERATION_FILES = ("vectors-*.faiss", "lexical-*.bin")
_TEMP_FILES = (".vectors-*.tmp", ".lexical-*.tmp")  # of a save that was interrupted
_GENERATION_FILE = re.compile(r"(?:vectors|lexical)-(\d+)\.(?:faiss|bin)")


@dataclass
class RunChanges:
    """What one run changed, gathered while it writes."""

    new_ids: list[int] = field(default_factory=list)
    new_vectors: list[np.ndarray] = field(default_factory=list)
    new_lexical: PendingRows = field(default_factory=PendingRows)  # (id, terms, tfs, length) rows
    deleted_ids: list[int] = field(default_factory=list)  # every chunk id leaving FAISS
    moved: int = 0
    file_rows: int = 0
    removed_paths: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Committed:
    """What ``IndexWriter.finish`` wrote."""

    generation: int
    changed: bool  # anything at all (vectors, file rows, removed files)
    chunks_added: int
    chunks_removed: int
    chunks_moved: int
    files_removed: int
    chunks_total: int


# How long an index run waits for readers to let go of a log it must empty first (``IndexWriter.fold_journal``).
FOLD_WAIT_MS = 2000


class IndexWriter:
    """One run's writes to an index directory this process holds the writer lock of (see the module).

    Made by ``open``; ``rebuild`` is true when the run starts from an empty index (asked for,
    or because the index found was not this user's).
    """

    def __init__(self, index_dir: Path, root: Path, db: Database, lock: WriterLock, index_id: str, *,
                 model: Embedder, parser: str, rebuild: bool, replaced_untrusted: bool) -> None:
        self.index_dir = index_dir
        self.root = root
        self.mounts = ""  # a pack's ``Mounts.digest`` (``open``)
        self.db = db
        self.index_id = index_id
        self.rebuild = rebuild
        self.replaced_untrusted = replaced_untrusted  # an index this user did not build was deleted
        self.removed_journals: tuple[str, ...] = ()  # the journals this user's runs did not leave (a log, a link),
        # deleted (``open``)
        self._lock = lock
        self._model = model
        self._parser = parser
        self._changes = RunChanges()
        self._committed = (0, 0, 0)  # chunks added, removed and moved by the run's checkpoints
        self._lexical: LexicalIndex | None = None  # the last checkpoint's, kept for the next
        self.meta = md.get_meta(db)
        # A checkpoint may record this parser's fingerprint only when no file can be left with chunks
        # of another parser: a new or rebuilt index, or a run that does not parse everything again.
        self._parser_at_checkpoints = rebuild or not self.meta or self.meta.get("parser_fingerprint") == parser
        self.checkpoints = 0
        # An index of an older schema (just migrated): its file is compacted after the run commits.
        self.migrated = self.meta.get("schema_version", str(md.SCHEMA_VERSION)) != str(md.SCHEMA_VERSION)
        self.moved_from = _check_owner(self.meta, root, index_dir, rebuild)
        # Checked now (model, schema, damage: every stored vector's length, the lexical file's structures), loaded
        # only if this run changes vectors: an unchanged repository costs a walk, a few queries and a pass over
        # each file, not a FAISS index in memory. A run that reported success on a damaged file left it so.
        self.generation, self._open_store = _open_vectors(db, index_dir, self.meta, model, rebuild)
        self._previous_lexical: LexicalIndex | None = None  # the current generation's, the next one's base
        if self.generation and not rebuild and not md.has_lexical_table(db):
            self._previous_lexical = LexicalIndex.load(lexical_path(index_dir, self.generation),
                                                       int(self.meta.get("count", -1)))

    @classmethod
    @contextmanager
    def open(cls, index_dir: Path, root: Path, model: Embedder, *, parser: str, rebuild: bool = False,
             wait: float = 0.0, mounts: str = "") -> Iterator[IndexWriter]:
        """Take ``index_dir`` for one run over the repository at ``root`` (see the module).

        :param model: the embedder of this run; an index built by another is refused.
        :param parser: the parser's fingerprint; an index parsed by another is parsed again.
        :param rebuild: discard the existing index content (needed after a model change), or
            replace a damaged database, a database that is not ours, or another repository's index.
        :param wait: seconds to wait for another indexing run to release the lock.
        :param mounts: a pack's ``Mounts.digest``, registered with the index (``codesearch.store.trust``).
        :raises IndexOutOfDate, IndexCorrupt, IndexLocked, UnsafeIndexDir, IndexConflict,
            IndexUnavailable: as ``codesearch.pipeline.build_index``.
        """
        with storage_errors(index_dir):
            linked = remove_linked_journals(index_dir) if index_dir.is_dir() and not index_dir.is_symlink() else []
            prepare_index_dir(index_dir)
            with writer_lock(index_dir, wait=wait) as lock:
                check_index_dir(index_dir)  # again, now that no other writer can change it
                # Before SQLite replays either: the database stays as this user's last run left it (a log of this
                # user's runs, which a reader can keep unfolded, stays beside a shipped rollback journal).
                rollback, wal = has_journal(index_dir), trust.wal_standing(index_dir, locked=True)
                journal = ((JOURNAL_NAME,) if rollback else ()) + ((WAL_NAME, SHM_NAME) if wal == "foreign" else ())
                for name in journal:
                    remove_entry(index_dir / name)
                db, index_id, replaced, registered = _open_db(index_dir, rebuild)
                try:
                    if registered is not None and registered.mounts and not mounts and not rebuild:
                        raise IndexConflict(f"the index in {index_dir} is a pack of several repositories of a "
                                            "workspace; update it with `codesearch index-many`")
                    writer = cls(index_dir, root, db, lock, index_id, model=model, parser=parser,
                                 rebuild=rebuild or replaced, replaced_untrusted=replaced)
                    writer.mounts = mounts
                    writer.removed_journals = tuple(name for name in (WAL_NAME, SHM_NAME, JOURNAL_NAME)
                                                   if name in journal or name in linked)
                    if wal == "unregistered":  # found before this run wrote to it
                        writer.fold_journal()
                    writer.journal_barrier()  # opening wrote (a pragma, migrations): this run's log from here
                    try:
                        yield writer
                    except BaseException:
                        _remove_uncommitted(db, index_dir)
                        raise
                    if writer.migrated and not db.conn.in_transaction:
                        writer.journal_barrier()
                        db.execute("VACUUM")  # give back the space an older schema's columns and tables took
                    writer.record_journal()
                finally:
                    db.close()
                _remove_stale_files(index_dir, writer.generation)

    def record_journal(self) -> None:
        """Register the index with the salts of its write-ahead log as they are (``trust.foreign_journal``), while this
        run holds the lock."""
        trust.register(self.index_id, self.index_dir, self.root, self.mounts, wal=wal_salts(self.index_dir))

    def fold_journal(self) -> None:
        """Fold in and empty the write-ahead log, found with salts the registry does not hold before the run wrote
        (``trust.wal_standing``: ``unregistered``): one SQLite replays nothing harmful of (a run killed before its
        commit, or just after a write of header counters), but that the run would otherwise append to under its
        salts and register them: a repository could ship such a log first, then one with those salts that forges
        rows (red team, second session). Emptied (``wal_checkpoint(TRUNCATE)``, which waits for readers as SQLite
        does), the log SQLite starts next draws a random salt of its own.

        :raises IndexLocked: if readers keep the log in use for the whole of the busy timeout.
        """
        timeout = self.db.conn.execute("PRAGMA busy_timeout").fetchone()[0]
        self.db.conn.execute(f"PRAGMA busy_timeout = {FOLD_WAIT_MS}")
        try:
            busy = self.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            self.db.conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")
        if busy or wal_salts(self.index_dir):
            raise IndexLocked(f"a reader of the index in {self.index_dir} (a `codesearch resident`, an MCP server) "
                              "holds a write-ahead log this run did not start, which it must empty before it "
                              "writes; stop the reader (`codesearch resident --stop`) and run it again")

    def journal_barrier(self) -> None:
        """Start the write-ahead log afresh now, if SQLite is to, and register its salts: a write committed on its own
        (the database's ``user_version``), before the run's next transaction. SQLite restarts a log (new salts) at
        the first write after a checkpoint that folded all of it in; done here, the transaction that follows appends
        to a log whose salts the registry holds, and a run killed at any point of it, its commit included, leaves a
        log the next reader trusts (random SIGKILLs of index runs: 3 of 80 left one the reader refused, registered
        before or after the commit that had restarted it)."""
        version = int(self.db.conn.execute("PRAGMA user_version").fetchone()[0])
        self.db.conn.execute(f"PRAGMA user_version = {(version + 1) % (1 << 31)}")
        self.record_journal()

    @property
    def reparse(self) -> bool:
        """Whether the index was parsed by other parser queries (every file is then parsed again)."""
        return self.meta.get("parser_fingerprint") != self._parser

    def known_files(self) -> dict[str, FileState]:
        """What this run may rely on of each indexed file's state: nothing on a rebuild, and no
        state on a reparse (the files stay known: their unchanged chunks keep their vectors)."""
        known = {} if self.rebuild else md.file_rows(self.db)
        if self.reparse:
            known = {path: (-1, -1, -1, "") for path in known}
        return known

    def stored_chunks(self, path: str) -> dict[str, tuple[int, str]]:
        """key -> (chunk id, content hash) of the indexed chunks of ``path``."""
        return md.chunk_hashes(self.db, path)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The run's one transaction: readers see the previous index until it commits, and a run
        that dies before then changes nothing. A rebuild starts it by emptying the index."""
        self.journal_barrier()
        with self.db.atomic():
            if self.rebuild:
                md.clear(self.db)
            yield
        self.record_journal()

    def write_file(self, result: ParsedFile, indexed: bool) -> None:
        """Store a file that was read: its chunks' difference from the index and its file row.

        :param indexed: whether the file was in the index before this run.
        """
        changed = False  # whether the file's chunks changed (then its topic is computed again)
        if result.chunks is None:  # same bytes, new mtime: refresh the file row only
            md.upsert_files(self.db, [_file_row(result, md.chunk_count(self.db, result.path))])
        else:
            if len({c.key for c in result.chunks}) != len(result.chunks):  # what a unique index once checked
                raise IndexCorrupt(f"internal error: {result.path} gave two chunks the same key; nothing was written")
            existing = self.stored_chunks(result.path) if indexed and not self.rebuild else {}
            md.upsert_files(self.db, [_file_row(result, len(result.chunks))])  # first: its chunks name its id
            changed = self._apply(result, existing)
        if changed:
            md.clear_topics(self.db, [result.path])  # the next generation computes it
        self._changes.file_rows += 1

    def remove_files(self, paths: Sequence[str]) -> None:
        """Take files out of the index (deleted, or skipped this time); done by ``finish``."""
        self._changes.removed_paths.extend(paths)

    @property
    def pending_chunks(self) -> int:
        """Chunks written since the run started or since its last checkpoint."""
        return len(self._changes.new_ids)

    @property
    def committed_chunks(self) -> int:
        """Chunks this run's checkpoints have committed so far."""
        return self._committed[0]

    def checkpoint(self, *, max_file_bytes: int) -> bool:
        """Commit what the run wrote so far as a complete generation and go on in a new transaction
        (a long run calls it every so many new chunks: ``codesearch.pipeline.CHECKPOINT_CHUNKS``).

        An interrupted run then keeps its finished files: the next run finds them unchanged and goes
        on from there, while readers see the files done so far. Files the run has not reached keep
        their previous chunks; files that left the repository are removed by ``finish`` only. This
        run's parser fingerprint is recorded only if no unreached file can hold another parser's
        chunks (otherwise an interrupted run that parses everything again does so again, embedding
        only what changed).

        :returns: whether a generation was committed (not when no vector changed since the last one).
        :raises IndexCorrupt, IndexLocked: as ``finish`` (nothing of this part is committed).
        """
        changes = self._changes
        if not (changes.new_ids or changes.deleted_ids):
            return False
        self._write_generation(parser=self._parser if self._parser_at_checkpoints else
                               self.meta.get("parser_fingerprint", ""))
        md.set_meta(self.db, {"schema_version": md.SCHEMA_VERSION, "root": root_from_index(self.index_dir, self.root),
                              "max_file_bytes": max_file_bytes, trust.ID_KEY: self.index_id})
        self._lock.verify()
        self.record_journal()  # before the commit, as finish
        self.db.conn.commit()
        self.journal_barrier()  # the log the next part appends to
        self.db.conn.execute("BEGIN")
        _remove_stale_files(self.index_dir, self.generation)  # readers keep what they opened
        added, removed, moved = self._committed
        self._committed = (added + len(changes.new_ids), removed + len(changes.deleted_ids), moved + changes.moved)
        self._changes = RunChanges(removed_paths=changes.removed_paths)  # removed by finish
        self.meta = md.get_meta(self.db)
        self.rebuild = False  # the index now holds this run's first part: what follows merges with it
        self.checkpoints += 1
        return True

    def finish(self, *, skipped: Sequence[SkippedFile], unsupported: dict[str, int],
               max_file_bytes: int, directories: dict[str, int] | None = None) -> Committed:
        """The last step of ``transaction``: remove the files that left, record what was skipped (and, when given,
        the ``directories`` the run's walk read, with their mtimes),
        write the new generation's vector and lexical files if the chunks changed (or the index
        is new, rebuilt, reparsed or of an older schema), the metadata, and register the index.

        :raises IndexCorrupt: if SQLite's chunks and the vectors disagree (nothing is written).
        :raises IndexLocked: if another writer took over the index directory meanwhile.
        """
        db, meta, changes = self.db, self.meta, self._changes
        # Only removed files' chunks are still in SQLite: edited files' old chunks were
        # deleted when they were written, and their ids may already belong to new chunks.
        removed_ids = md.chunk_ids_for_paths(db, changes.removed_paths)
        changes.deleted_ids.extend(removed_ids)
        md.delete_chunks(db, removed_ids)
        md.delete_files(db, changes.removed_paths)
        md.replace_skipped(db, skipped)
        if directories is not None:
            md.replace_directories(db, directories)
        vectors_change = (
            bool(changes.new_ids or changes.deleted_ids)
            or self.rebuild
            or self.reparse
            or not meta
            or meta.get("schema_version") != str(md.SCHEMA_VERSION)
            or meta.get("postings_scoring") != SCORING_VERSION
        )
        count = int(meta.get("count", 0)) if meta and not self.rebuild else 0
        if vectors_change:
            count = self._write_generation()
        # Written by every run: the repository may have moved, and an older schema was just migrated.
        md.set_meta(db, {"schema_version": md.SCHEMA_VERSION, "root": root_from_index(self.index_dir, self.root),
                         "max_file_bytes": max_file_bytes, trust.ID_KEY: self.index_id,
                         "unsupported": json.dumps(dict(sorted(unsupported.items())))})
        self._lock.verify()
        self.record_journal()  # before the commit: never unregistered
        added, removed, moved = self._committed
        return Committed(
            generation=self.generation,
            changed=vectors_change or bool(self.checkpoints or changes.moved or changes.file_rows
                                           or changes.removed_paths),
            chunks_added=added + len(changes.new_ids),
            chunks_removed=removed + len(changes.deleted_ids),
            chunks_moved=moved + changes.moved,
            files_removed=len(changes.removed_paths),
            chunks_total=count,
        )

    def counts_by_language(self) -> tuple[dict[str, int], dict[str, int]]:
        """(files, chunks) per language, as the index holds them now."""
        return md.counts_by_language(self.db)

    def chunks_by_file(self) -> dict[str, int]:
        """path -> its number of chunks, for every indexed file, as the index holds them now."""
        return md.chunks_by_file(self.db)

    def _write_generation(self, parser: str | None = None) -> int:
        """Apply the run's vector changes, write the next generation's files and its metadata;
        return the number of chunks."""
        changes, model = self._changes, self._model
        store = self._open_store()
        store.remove(changes.deleted_ids)
        # Each pending block is let go once it is in the store (the store grows as they shrink): a large
        # run's last part no longer holds its vectors twice through the topics and the lexical merge.
        pending: list[Any] = changes.new_vectors
        blocks, changes.new_vectors = _batches(changes.new_ids, pending), []
        for n, ids in enumerate(blocks):
            store.add(ids, pending[n])
            pending[n] = None
        store = ivf.fitted(store)  # exhaustive below ivf.ANN_THRESHOLD vectors, an IVF index above
        self._open_store = lambda: store  # a later checkpoint or the finish goes on from this one
        memory.trim()  # an index trained again let the previous one go: its lists' pages go back
        rows = md.chunk_count(self.db)
        if rows != store.count:
            raise IndexCorrupt(f"internal error: {rows} chunks but {store.count} vectors; nothing was written")
        md.set_topics(self.db, file_topics(self.db, store, md.files_without_topic(self.db)))
        self._lock.verify()  # a second writer may have started if our lock file vanished
        self.generation += 1
        store.save(vectors_path(self.index_dir, self.generation))
        path = lexical_path(self.index_dir, self.generation)
        self._write_lexical(path)
        # What the next checkpoint merges into: the file just written, mapped and checked, its pages let go
        # (not its arrays held while the next part is read: about 400 MB at 800,000 chunks).
        lexical = LexicalIndex.load(path, store.count)
        if id_checksum(lexical.ids) != store.id_checksum():
            raise IndexCorrupt("internal error: the lexical file's chunks are not the vector file's; "
                               "nothing was committed")
        lexical.let_go()
        self._lexical = lexical
        memory.trim()
        md.drop_lexical_table(self.db)  # schema 4's copy of the terms, if any: now in the file only
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        md.set_meta(self.db, {
            "model_name": model.name,
            "model_fingerprint": model.fingerprint,
            "parser_fingerprint": self._parser if parser is None else parser,
            "dim": model.dim,
            "generation": self.generation,
            "count": store.count,
            "id_checksum": store.id_checksum(),
            "postings_scoring": SCORING_VERSION,
            "updated_at": now,
            **({} if self.meta.get("created_at") and not self.rebuild else {"created_at": now}),
        })
        return store.count

    def _write_lexical(self, path: Path) -> None:
        """Write the lexical file of the next generation: the previous generation's (its file, or schema 4's
        ``lexical`` table) without the chunks this run deleted, plus the chunks it added (merged into the
        file a range of terms at a time: ``LexicalIndex.merge_into``).

        :raises IndexCorrupt: if the previous generation's lexical file is missing or damaged
            (the terms of unchanged chunks are nowhere else: ``--rebuild`` makes them again).
        """
        changes = self._changes
        if self._lexical is not None:  # this run's last checkpoint
            self._lexical.merge_into(path, changes.deleted_ids, changes.new_lexical)
            return
        if self.rebuild or not self.meta.get("generation"):
            LexicalIndex.build(changes.new_lexical).save(path)
            return
        if md.has_lexical_table(self.db):
            previous = LexicalIndex.build(md.lexical_rows(self.db))
        else:
            assert self._previous_lexical is not None  # loaded (and checked) when the index was opened
            previous = self._previous_lexical
        previous.merge_into(path, changes.deleted_ids, changes.new_lexical)

    def _apply(self, result: ParsedFile, existing: dict[str, tuple[int, str]]) -> bool:
        """Diff one parsed file against its stored chunks and write the difference; return whether
        any chunk was added or deleted."""
        changes = self._changes
        keep: set[str] = set()
        new_rows: list[int] = []
        moved = []
        for row, chunk in enumerate(result.chunks or ()):
            old = existing.get(chunk.key)
            if old is not None and old[1] == chunk.content_hash:
                moved.append((old[0], chunk))
                keep.add(chunk.key)
            else:
                new_rows.append(row)
        gone = [chunk_id for key, (chunk_id, _) in existing.items() if key not in keep]
        changes.deleted_ids.extend(gone)
        md.delete_chunks(self.db, gone)
        md.update_positions(self.db, moved)
        changes.moved += len(moved)
        if new_rows:
            chunks = result.chunks or ()
            # The worker embedded exactly the chunks whose (key, hash) the index lacked: new_rows.
            vectors, lexical = result.post if result.post is not None else (None, None)
            if vectors is None or len(vectors) != len(new_rows) or len(lexical) != len(new_rows):
                raise IndexCorrupt(f"internal error: {len(new_rows)} new chunks in {result.path} but no matching vectors")
            ids = md.insert_chunks(self.db, [chunks[r] for r in new_rows])
            changes.new_ids.extend(ids)
            changes.new_lexical.extend((i, *row) for i, row in zip(ids, lexical))
            changes.new_vectors.append(as_stored(vectors))  # float16 until the generation is written
        return bool(new_rows or gone)


@contextmanager
def storage_errors(index_dir: Path) -> Iterator[None]:
    """Turn OS and SQLite failures of the index's own files into one-line errors (nothing is committed)."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        message = str(exc)
        if "locked" in message:
            raise IndexLocked(f"the index database in {index_dir} is locked by another process ({message}); "
                              "try again, or pass --wait SECONDS") from exc
        if "full" in message or "readonly" in message or "unable to open" in message or "disk I/O" in message:
            raise IndexUnavailable(f"cannot write the index in {index_dir} ({message}); "
                                   "the previous index is unchanged") from exc
        raise IndexCorrupt(f"the index database in {index_dir} failed ({message})") from exc
    except sqlite3.DatabaseError as exc:
        raise IndexCorrupt(f"the index database in {index_dir} is damaged ({exc})") from exc
    except OSError as exc:
        what = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else (exc.strerror or str(exc))
        raise IndexUnavailable(f"cannot write the index in {index_dir} ({what}); "
                               "the previous index is unchanged") from exc


def _open_db(index_dir: Path, rebuild: bool) -> tuple[Database, str, bool, trust.Registration | None]:
    """The metadata database, checked to be ours, sound and built by this user; the index's id
    (a new one for a new index); whether an index this user did not build was replaced; and the
    index's registration (None for a new or replaced one).

    With ``rebuild``, a damaged file, a database that is not ours, or an ``index.db``,
    ``-wal`` or ``-shm`` that is not a file is replaced. An index this user did not build
    is always deleted, files included, and started afresh.

    :raises IndexCorrupt: if the database is damaged and ``rebuild`` is off.
    :raises UnsafeIndexDir: if it is another program's database and ``rebuild`` is off.
    """
    db_path = index_dir / DB_NAME
    odd = odd_database_files(index_dir)
    if odd and not rebuild:
        raise IndexCorrupt(f"{index_dir / odd[0]} is not a regular file")
    if odd:
        _remove_index_files(index_dir)
    conn, owner = _open_checked_db(db_path, rebuild)
    stored_id = _stored_id(conn)
    registered = trust.lookup(stored_id) if stored_id is not None else None
    if registered is not None and not _copy_of(registered, index_dir, stored_id):
        return md.open_for_write(conn), stored_id, False, registered
    # Anything but the empty file a new index starts from was built elsewhere, by someone else, or before
    # index ids: never reused, never migrated. (Asking for a ``meta`` row instead took a new database,
    # which has no ``meta`` table, for an unreadable one: every first run said it had replaced an index.)
    # Ours without a single meta row never committed (a first run interrupted before its first commit, which
    # the reader calls "never completed"): deleted all the same, but not reported as someone else's.
    replaced = owner != "empty"
    if replaced:
        unfinished = owner == "ours" and _never_committed(conn)
        conn.close()
        _remove_index_files(index_dir)
        conn = md.connect(db_path)
        replaced = not unfinished
    return md.open_for_write(conn), trust.new_index_id(), replaced, None


def _remove_index_files(index_dir: Path) -> None:
    """Delete the database and every generation's files, whatever they are (we hold the writer lock)."""
    for name in DB_FILES:
        remove_entry(index_dir / name)
    for pattern in (*_GENERATION_FILES, *_TEMP_FILES):
        for path in index_dir.glob(pattern):
            remove_entry(path)


def _never_committed(conn: sqlite3.Connection) -> bool:
    """Whether our database holds our tables and nothing in them: no meta row (what every commit writes), no
    chunk, no file (an interrupted first run's transaction left nothing; anything else was put there)."""
    try:
        return all(conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None
                   for table in ("meta", "chunks", "files"))
    except sqlite3.DatabaseError:
        return False


def _copy_of(registered: trust.Registration, index_dir: Path, index_id: str | None) -> bool:
    """Whether the index at ``index_dir`` is a copy of the one the registry gives its id: another directory that
    still holds an index of that id (a repository copied with its index, or one of this user's indexes shipped in
    another repository, whose run would have re-registered the id there: "the repository moved"). A copy is started
    afresh under an id of its own; a moved index (nothing of its id left where it was) keeps its id."""
    other = Path(registered.index_dir)
    try:
        if other.resolve() == index_dir.resolve() or not stat.S_ISREG(os.lstat(other / DB_NAME).st_mode):
            return False
        conn = sqlite3.connect((other / DB_NAME).as_uri() + "?mode=ro", uri=True)
        try:
            return _stored_id(conn) == index_id
        finally:
            conn.close()
    except (OSError, ValueError, sqlite3.Error):
        return False


def _stored_id(conn: sqlite3.Connection) -> str | None:
    """The id the index records (None if none, or if its meta cannot be read)."""
    try:
        value = md.meta_value(conn, trust.ID_KEY)
    except sqlite3.DatabaseError:
        return None
    return value if trust.valid_id(value) else None


def _open_checked_db(db_path: Path, rebuild: bool) -> tuple[sqlite3.Connection, str]:
    """A connection to the metadata database, checked to be ours and sound (see ``_open_db``), with its
    ``metadata.ownership`` (``empty`` for the file that replaced a bad one); damage in an index this user
    did not build is left to ``_open_db``, which deletes it."""
    problem = None
    try:
        conn = md.connect(db_path)
        owner = md.ownership(conn)
        if owner == "foreign":
            problem = UnsafeIndexDir(
                f"{db_path} is not a codesearch index (another program's SQLite database?); "
                "pass --rebuild to replace it, or choose another --index-dir")
        elif owner == "ours":
            damage = md.quick_check(conn)
            if damage and trust.lookup(_stored_id(conn)) is not None:
                problem = IndexCorrupt(f"index database {db_path} is damaged ({damage})")
    except sqlite3.OperationalError:
        raise  # cannot open or lock it (permissions, read-only, full): not damage; see storage_errors
    except sqlite3.DatabaseError as exc:
        conn = None
        problem = IndexCorrupt(f"index database {db_path} is unreadable ({exc})")
    if problem is None and conn is not None:
        return conn, owner
    if conn is not None:
        conn.close()
    if not rebuild:
        raise problem
    for name in DB_FILES:  # we hold the writer lock: nobody else writes here
        remove_entry(db_path.parent / name)
    return md.connect(db_path), "empty"


def _check_owner(meta: dict[str, str], root: Path, index_dir: Path, rebuild: bool) -> str:
    """Refuse another repository's index; return the repository's previous place if it moved, else ``""``.

    An index inside the repository (``ROOT/.codesearch``) always belongs to that root,
    wherever the pair was moved or copied. An index kept elsewhere belongs to the root
    it records; if that directory is gone, the repository moved and the index follows it.

    :raises IndexConflict: if the recorded repository still exists and ``rebuild`` is off.
    """
    stored = meta.get("root")
    if not stored or rebuild:
        return ""
    recorded = recorded_root(index_dir, stored)
    if recorded == root:
        return ""
    if index_dir != default_index_dir(root) and recorded.is_dir():
        raise IndexConflict(
            f"{index_dir} holds the index of {recorded}, not of {root}; pass --rebuild to replace it, "
            "or choose another --index-dir"
        )
    return str(recorded)


def _open_vectors(
    db: Database, index_dir: Path, meta: dict[str, str], model: Embedder, rebuild: bool
) -> tuple[int, Callable[[], VectorStore]]:
    """The current generation and a loader of its vectors (a fresh store for a new or rebuilt index).

    The vector file is checked here (size, which catches truncation) and read by the loader.
    """
    def empty() -> VectorStore:
        return VectorStore.empty(model.dim)

    if not meta:
        return 0, empty
    if rebuild:  # whatever the meta says (a damaged value must not stop the repair)
        return _highest_generation(index_dir, meta), empty
    parsed = IndexMeta.from_rows(meta) if "generation" in meta else None
    if parsed is None:
        return 0, empty
    check_schema(parsed, writing=True)  # older schemas were just migrated
    check_model(parsed, model.fingerprint)
    checksum = parsed.id_checksum
    if checksum is None:  # written before schema 3: check against SQLite's ids themselves
        checksum = id_checksum(md.chunk_ids(db))
    rows = md.chunk_count(db)
    if rows != parsed.count:
        raise IndexCorrupt(f"metadata lists {parsed.count} vectors but the index has {rows} chunks")
    path = vectors_path(index_dir, parsed.generation)
    VectorStore.check(path, parsed.dim, parsed.count, checksum)  # checked now, cheaply

    def load() -> VectorStore:
        return VectorStore.load(path, parsed.dim, parsed.count, checksum)

    return parsed.generation, load


def _highest_generation(index_dir: Path, meta: dict[str, str]) -> int:
    """The newest generation the meta or any vector or lexical file names (a rebuild writes the next one)."""
    found = [int(meta["generation"])] if str(meta.get("generation", "")).isdigit() else []
    for path in index_dir.iterdir():
        match = _GENERATION_FILE.fullmatch(path.name)
        if match:
            found.append(int(match.group(1)))
    return max(found, default=0)


def _batches(ids: list[int], vectors: list[np.ndarray]) -> list[np.ndarray]:
    """Split the flat id list into arrays matching the row counts of ``vectors``."""
    out, start = [], 0
    for block in vectors:
        out.append(np.asarray(ids[start : start + len(block)], dtype=np.int64))
        start += len(block)
    return out


def file_topics(db: Database, store: VectorStore, paths: Sequence[str], batch: int = 500
                ) -> Iterator[tuple[str, bytes]]:
    """(path, topic) of each file of ``paths``: the normalised mean of its chunks' vectors, as float16
    bytes (empty for a file without chunks). Mean pooling is what the static model does to a text, so
    this is near the vector of the whole file: what it is about (the ``file_topic`` ranking signal)."""
    for start in range(0, len(paths), batch):
        ids = md.chunk_ids_by_file(db, paths[start:start + batch])
        stored = store.vectors([i for chunk_ids in ids.values() for i in chunk_ids])
        at = 0
        for path, chunk_ids in ids.items():
            if not chunk_ids:
                yield path, b""
                continue
            mean = stored[at:at + len(chunk_ids)].mean(axis=0)
            at += len(chunk_ids)
            norm = float(np.linalg.norm(mean))
            yield path, (mean / norm if norm > 0 else mean).astype(np.float16).tobytes()


def _file_row(parsed: ParsedFile, symbols: int) -> dict[str, object]:
    """The ``files`` row of a file that was read."""
    return {
        "path": parsed.path,
        "language": parsed.language,
        "size": parsed.size,
        "mtime_ns": parsed.mtime_ns,
        "ctime_ns": parsed.ctime_ns,
        "sha1": parsed.sha1,
        "symbols": symbols,
    }


def _remove_uncommitted(db: Any, index_dir: Path) -> None:
    """After a failed run (its transaction rolled back): delete the files of a generation it wrote but did
    not commit (a full disk while the lexical file or the database was written left the vector file, as
    large as the vectors, on the disk that was full). Left as they are when the database cannot say which
    generation is committed."""
    try:
        if db.conn.in_transaction:
            db.conn.rollback()
        generation = int(md.get_meta(db).get("generation", 0) or 0)
    except (sqlite3.Error, ValueError):
        return
    try:
        _remove_stale_files(index_dir, generation)
    except OSError:
        pass


def _remove_stale_files(index_dir: Path, generation: int) -> None:
    """Delete vector and lexical files of older generations and temp files of interrupted runs."""
    keep = {vectors_path(index_dir, generation).name, lexical_path(index_dir, generation).name}
    for pattern in _GENERATION_FILES:
        for path in index_dir.glob(pattern):
            if path.name not in keep:
                remove_entry(path)
    for pattern in _TEMP_FILES:
        for path in index_dir.glob(pattern):
            remove_entry(path)
