"""Build or update an index: repo -> chunks -> diff -> embed -> store.

Incremental by construction: a file whose size and mtime are unchanged is not read;
a file whose bytes are unchanged is not parsed; a chunk whose content hash is
unchanged is not embedded (only its line numbers are refreshed). Every change of one
run lands in one SQLite transaction, and the FAISS file of the new generation is
written before that transaction commits, so an interrupted run changes nothing.

Only an index this user built is updated (``codesearch.store.trust``): any other one (shipped
with a repository, or older than index ids) is deleted and built again from scratch, and
every successful run registers the index's id in the user's registry.
"""

from __future__ import annotations

import errno
import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sqlite_utils import Database

from codesearch.embed import Embedder
from codesearch.embed.static import StaticEmbedder
from codesearch.store.postings import LexicalIndex, lexical_path
from codesearch.terms import chunk_terms
from codesearch.errors import (
    CodeSearchError,
    IndexConflict,
    IndexCorrupt,
    IndexLocked,
    IndexOutOfDate,
    IndexUnavailable,
    UnsafeIndexDir,
)
from codesearch.store import metadata as md
from codesearch.store import trust
from codesearch.store.indexdir import (
    DB_FILES,
    check_index_dir,
    default_index_dir,
    odd_database_files,
    prepare_index_dir,
    recorded_root,
    remove_entry,
    root_from_index,
)
from codesearch.store.layout import DB_NAME
from codesearch.store.lock import WriterLock, writer_lock
from codesearch.store.reader import IndexMeta
from codesearch.store.vectors import VectorStore, id_checksum, vectors_path
from indexer.chunk import embedding_text
from indexer.languages import parser_fingerprint
from indexer.discover import Candidate, Limits, walk
from indexer.types import Chunk, SkippedFile, UnsupportedFile
from indexer.work import ParsedFile, PostProcess, Task, pool_size, process_all


# progress(stage, done, total): called as work advances; total is 0 when unknown.
ProgressFn = Callable[[str, int, int], None]
# runner(tasks, limits, postprocess): processes the tasks and yields their results in order;
# replaces the local process pool (``codesearch.cluster`` runs file shards on Ray with it).
Runner = Callable[[Sequence[Task], Limits, PostProcess], Iterable[ParsedFile | SkippedFile]]


@dataclass
class IndexReport:
    """What one indexing run did."""

    root: str
    index_dir: str
    files: int = 0
    files_parsed: int = 0
    files_removed: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_moved: int = 0
    chunks_total: int = 0
    generation: int = 0
    changed: bool = False
    workers: int = 0  # worker processes that parsed and embedded (0: all in this process)
    unsupported: dict[str, int] = field(default_factory=dict)  # extension -> files in languages we do not parse
    moved_from: str = ""  # the repository's previous place, when it moved since the last run
    replaced_untrusted: bool = False  # an index this user did not build was deleted and built afresh
    index_id: str = ""  # the index's random id, as registered in this user's trust registry
    files_by_language: dict[str, int] = field(default_factory=dict)
    chunks_by_language: dict[str, int] = field(default_factory=dict)
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class _Changes:
    """What one run changed, gathered while scanning."""

    new_ids: list[int] = field(default_factory=list)
    new_vectors: list[np.ndarray] = field(default_factory=list)
    deleted_ids: list[int] = field(default_factory=list)  # every chunk id leaving FAISS
    removed_ids: list[int] = field(default_factory=list)  # ids of removed files, still in SQLite
    moved: int = 0
    file_rows: int = 0
    removed_paths: list[str] = field(default_factory=list)


class ChunkEmbedder:
    """Embeds a file's chunks and computes their lexical terms, in the worker that parsed them.

    Picklable by model path so worker processes load the model once. Returns
    ``(vectors, lexical rows)`` for the chunks, in order.
    """

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def __call__(self, chunks: Sequence[Chunk]) -> tuple[np.ndarray, list[tuple[bytes, bytes, float]]]:
        if not chunks:
            return np.zeros((0, self.embedder.dim), dtype=np.float32), []
        lexical = [chunk_terms(c.qualname, c.signature, c.doc, c.code_without_doc) for c in chunks]
        return self.embedder.encode_documents([embedding_text(c) for c in chunks]), lexical


def build_index(
    root: Path,
    index_dir: Path | None = None,
    embedder: Embedder | None = None,
    *,
    rebuild: bool = False,
    limits: Limits = Limits(),
    progress: ProgressFn | None = None,
    wait: float = 0.0,
    workers: int | None = None,
    use_ignore_files: bool = True,
    runner: Runner | None = None,
) -> IndexReport:
    """Create or incrementally update the index of ``root``.

    :param rebuild: discard the existing index content (needed after a model change), or
        replace a damaged database, a database that is not ours, or another repository's index.
    :param wait: seconds to wait for another indexing run to release the lock.
    :param workers: the most worker processes to parse and embed with (default: the CPU count).
    :param use_ignore_files: False ignores .gitignore/.codesearchignore and the vendored rules (one run).
    :param runner: parses and embeds the changed files instead of the local pool (``workers`` is then
        unused); whatever it does, the results are written by this process in the run's one commit.
    :raises IndexOutOfDate: if the index was built by another model and ``rebuild`` is off.
    :raises IndexCorrupt: if the existing index is damaged and ``rebuild`` is off.
    :raises IndexLocked: if another run holds the lock for longer than ``wait``.
    :raises UnsafeIndexDir: if the index directory or an entry in it is a symlink or someone else's,
        or ``index.db`` is not a codesearch index and ``rebuild`` is off.
    :raises IndexConflict: if the index directory holds the index of another repository and ``rebuild`` is off.
    :raises IndexUnavailable: if the index directory cannot be written (permissions, read-only, disk full).
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise CodeSearchError(f"{root} is not a directory")
    if index_dir is None:
        # Never resolved: a .codesearch the repository ships as a link is refused, not followed.
        index_dir = default_index_dir(root)
    else:
        index_dir = Path(index_dir).resolve()
    embedder = embedder or StaticEmbedder.default()
    progress = progress or (lambda stage, done, total: None)
    report = IndexReport(root=str(root), index_dir=str(index_dir))
    with _storage_errors(index_dir):
        prepare_index_dir(index_dir)
        with writer_lock(index_dir, wait=wait) as lock:
            check_index_dir(index_dir)  # again, now that no other writer can change it
            db, index_id = _open_db(index_dir, rebuild, report)
            rebuild = rebuild or report.replaced_untrusted
            try:
                _check_owner(db, root, index_dir, rebuild, report)
                _run(db, root, index_dir, embedder, rebuild, limits, progress, report, workers, lock, use_ignore_files,
                     runner, index_id)
            finally:
                db.close()
            _remove_stale_vector_files(index_dir, report.generation)
    return report


@contextmanager
def _storage_errors(index_dir: Path) -> Iterator[None]:
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


def _open_db(index_dir: Path, rebuild: bool, report: IndexReport) -> tuple[Database, str]:
    """Open the metadata database after checking that it is ours, sound and built by this user;
    and the index's id (a new one for a new index).

    With ``rebuild``, a damaged file, a database that is not ours, or an ``index.db``,
    ``-wal`` or ``-shm`` that is not a file is replaced. An index this user did not build
    is always deleted, files included, and started afresh (``report.replaced_untrusted``).

    :raises IndexCorrupt: if the database is damaged and ``rebuild`` is off.
    :raises UnsafeIndexDir: if it is another program's database and ``rebuild`` is off.
    """
    db_path = index_dir / DB_NAME
    odd = odd_database_files(index_dir)
    if odd and not rebuild:
        raise IndexCorrupt(f"{index_dir / odd[0]} is not a regular file")
    if odd:
        _remove_index_files(index_dir)
    conn = _open_checked_db(db_path, rebuild)
    stored_id = _stored_id(conn)
    if stored_id is not None and trust.lookup(stored_id) is not None:
        return md.open_for_write(conn), stored_id
    if _has_meta(conn):  # built elsewhere, by someone else, or before index ids: never reused, never migrated
        conn.close()
        _remove_index_files(index_dir)
        report.replaced_untrusted = True
        conn = md.connect(db_path)
    return md.open_for_write(conn), trust.new_index_id()


_GENERATION_FILE = re.compile(r"(?:vectors|lexical)-(\d+)\.(?:faiss|bin)")


def _remove_index_files(index_dir: Path) -> None:
    """Delete the database and every generation's files, whatever they are (we hold the writer lock)."""
    for name in DB_FILES:
        remove_entry(index_dir / name)
    for pattern in ("vectors-*.faiss", "lexical-*.bin", ".vectors-*.tmp", ".lexical-*.tmp"):
        for path in index_dir.glob(pattern):
            remove_entry(path)


def _stored_id(conn: sqlite3.Connection) -> str | None:
    """The id the index records (None if none, or if its meta cannot be read)."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", [trust.ID_KEY]).fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row and trust.valid_id(row[0]) else None


def _has_meta(conn: sqlite3.Connection) -> bool:
    """Whether the database holds an index's metadata (or cannot even say)."""
    try:
        return conn.execute("SELECT 1 FROM meta LIMIT 1").fetchone() is not None
    except sqlite3.DatabaseError:
        return True  # unreadable: not to be trusted either


def _open_checked_db(db_path: Path, rebuild: bool) -> sqlite3.Connection:
    """A connection to the metadata database, checked to be ours and sound (see ``_open_db``);
    damage in an index this user did not build is left to ``_open_db``, which deletes it."""
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
        raise  # cannot open or lock it (permissions, read-only, full): not damage; see _storage_errors
    except sqlite3.DatabaseError as exc:
        conn = None
        problem = IndexCorrupt(f"index database {db_path} is unreadable ({exc})")
    if problem is None and conn is not None:
        return conn
    if conn is not None:
        conn.close()
    if not rebuild:
        raise problem
    for name in DB_FILES:  # we hold the writer lock: nobody else writes here
        remove_entry(db_path.parent / name)
    return md.connect(db_path)


def _check_owner(db: Database, root: Path, index_dir: Path, rebuild: bool, report: IndexReport) -> None:
    """Refuse another repository's index; note a repository that moved.

    An index inside the repository (``ROOT/.codesearch``) always belongs to that root,
    wherever the pair was moved or copied. An index kept elsewhere belongs to the root
    it records; if that directory is gone, the repository moved and the index follows it.

    :raises IndexConflict: if the recorded repository still exists and ``rebuild`` is off.
    """
    stored = md.get_meta(db).get("root")
    if not stored or rebuild:
        return
    recorded = recorded_root(index_dir, stored)
    if recorded == root:
        return
    if index_dir != default_index_dir(root) and recorded.is_dir():
        raise IndexConflict(
            f"{index_dir} holds the index of {recorded}, not of {root}; pass --rebuild to replace it, "
            "or choose another --index-dir"
        )
    report.moved_from = str(recorded)


def _run(
    db: Database,
    root: Path,
    index_dir: Path,
    embedder: Embedder,
    rebuild: bool,
    limits: Limits,
    progress: ProgressFn,
    report: IndexReport,
    workers: int | None,
    lock: WriterLock,
    use_ignore_files: bool = True,
    runner: Runner | None = None,
    index_id: str = "",
) -> None:
    clock = time.perf_counter()
    index_id = index_id or trust.new_index_id()
    meta = md.get_meta(db)
    # Checked now (model, schema, damage), read only if this run changes vectors: an
    # unchanged repository costs a walk and a few queries, not a read of every vector.
    generation, open_store = _open_vectors(db, index_dir, meta, embedder, rebuild)
    old_files = {} if rebuild else md.file_rows(db)
    reparse = meta.get("parser_fingerprint") != parser_fingerprint()
    if reparse:
        # The queries changed: parse every file again (unchanged chunks keep their vectors).
        old_files = {path: (-1, -1, -1, "") for path in old_files}

    candidates: list[Candidate] = []
    for item in walk(root, limits, use_ignore_files):
        if isinstance(item, SkippedFile):
            report.skipped.append(item)
        elif isinstance(item, UnsupportedFile):
            report.unsupported[item.extension] = report.unsupported.get(item.extension, 0) + 1
        else:
            candidates.append(item)
            progress("discover", len(candidates), 0)
    report.seconds["discover"] = time.perf_counter() - clock

    # One transaction for the whole run: readers keep seeing the previous index until
    # the commit, and a run that dies before it changes nothing.
    with db.atomic():
        if rebuild:
            md.clear(db)
        changes = _scan(db, candidates, old_files, rebuild, limits, embedder, progress, report, workers, runner)
        present = {c.path for c in candidates}
        gone = [p for p in old_files if p not in present]
        changes.removed_paths.extend(gone)
        changes.removed_ids.extend(md.chunk_ids_for_paths(db, gone))
        changes.deleted_ids.extend(changes.removed_ids)

        clock = time.perf_counter()
        # Only removed files' chunks are still in SQLite: edited files' old chunks were
        # deleted while scanning, and their ids may already belong to new chunks.
        md.delete_chunks(db, changes.removed_ids)
        md.delete_files(db, changes.removed_paths)
        md.replace_skipped(db, report.skipped)
        vectors_change = (
            bool(changes.new_ids or changes.deleted_ids)
            or rebuild
            or reparse
            or not meta
            or meta.get("schema_version") != str(md.SCHEMA_VERSION)
        )
        report.changed = vectors_change or bool(changes.moved or changes.file_rows or changes.removed_paths)
        count = int(meta.get("count", 0)) if meta and not rebuild else 0
        if vectors_change:
            store = open_store()
            store.remove(changes.deleted_ids)
            for ids, vectors in zip(_batches(changes.new_ids, changes.new_vectors), changes.new_vectors):
                store.add(ids, vectors)
            rows = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
            if rows != store.count:
                raise IndexCorrupt(f"internal error: {rows} chunks but {store.count} vectors; nothing was written")
            count = store.count
            lock.verify()  # a second writer may have started if our lock file vanished
            generation += 1
            store.save(vectors_path(index_dir, generation))
            LexicalIndex.build(md.lexical_rows(db)).save(lexical_path(index_dir, generation))
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            md.set_meta(db, {
                "model_name": embedder.name,
                "model_fingerprint": embedder.fingerprint,
                "parser_fingerprint": parser_fingerprint(),
                "dim": embedder.dim,
                "generation": generation,
                "count": store.count,
                "id_checksum": store.id_checksum(),
                "updated_at": now,
                **({} if meta.get("created_at") and not rebuild else {"created_at": now}),
            })
        # Written by every run: the repository may have moved, and an older schema was just migrated.
        md.set_meta(db, {"schema_version": md.SCHEMA_VERSION, "root": root_from_index(index_dir, root),
                         "max_file_bytes": limits.max_bytes, trust.ID_KEY: index_id,
                         "unsupported": json.dumps(dict(sorted(report.unsupported.items())))})
        lock.verify()
        trust.register(index_id, index_dir, root)  # before the commit: an index is never left unregistered
        report.index_id = index_id
        report.seconds["store"] += time.perf_counter() - clock
    report.generation = generation
    report.chunks_added = len(changes.new_ids)
    report.chunks_removed = len(changes.deleted_ids)
    report.chunks_moved = changes.moved
    report.files_removed = len(changes.removed_paths)
    report.chunks_total = count
    report.files_by_language = dict(db.execute("SELECT language, COUNT(*) FROM files GROUP BY 1 ORDER BY 1").fetchall())
    report.chunks_by_language = dict(db.execute("SELECT language, COUNT(*) FROM chunks GROUP BY 1 ORDER BY 1").fetchall())
    report.files = sum(report.files_by_language.values())


def _batches(ids: list[int], vectors: list[np.ndarray]) -> list[np.ndarray]:
    """Split the flat id list into arrays matching the row counts of ``vectors``."""
    out, start = [], 0
    for block in vectors:
        out.append(np.asarray(ids[start : start + len(block)], dtype=np.int64))
        start += len(block)
    return out


def _open_vectors(
    db: Database, index_dir: Path, meta: dict[str, str], embedder: Embedder, rebuild: bool
) -> tuple[int, Callable[[], VectorStore]]:
    """The current generation and a loader of its vectors (a fresh store for a new or rebuilt index).

    The vector file is checked here (size, which catches truncation) and read by the loader.
    """
    def empty() -> VectorStore:
        return VectorStore.empty(embedder.dim)

    if not meta:
        return 0, empty
    if rebuild:  # whatever the meta says (a damaged value must not stop the repair)
        return _highest_generation(index_dir, meta), empty
    parsed = IndexMeta.from_rows(meta) if "generation" in meta else None
    if parsed is None:
        return 0, empty
    if parsed.schema_version > md.SCHEMA_VERSION:  # older schemas were just migrated
        raise IndexOutOfDate(
            f"the index uses schema {parsed.schema_version}, newer than this codesearch's "
            f"{md.SCHEMA_VERSION}; upgrade codesearch or run `codesearch index --rebuild`"
        )
    if parsed.model_fingerprint != embedder.fingerprint:
        raise IndexOutOfDate(
            f"the index was built with model {parsed.model_fingerprint}, the current model is "
            f"{embedder.fingerprint}; run `codesearch index --rebuild`"
        )
    checksum = parsed.id_checksum
    if checksum is None:  # written before schema 3: check against SQLite's ids themselves
        checksum = id_checksum([r[0] for r in db.execute("SELECT id FROM chunks")])
    rows = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    if rows != parsed.count:
        raise IndexCorrupt(f"metadata lists {parsed.count} vectors but the index has {rows} chunks")
    path = vectors_path(index_dir, parsed.generation)
    VectorStore.load(path, parsed.dim, parsed.count, checksum, mmap=True)  # checked now, cheaply (mapped)

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


def _scan(
    db: Database,
    candidates: list[Candidate],
    old_files: dict[str, tuple[int, int, int, str]],
    rebuild: bool,
    limits: Limits,
    embedder: Embedder,
    progress: ProgressFn,
    report: IndexReport,
    workers: int | None,
    runner: Runner | None = None,
) -> _Changes:
    """Read, parse, embed and store every file that may have changed (inside the run's transaction).

    On big inputs worker processes parse and embed while this process writes rows.
    """
    changes = _Changes()
    tasks = []
    for cand in candidates:
        old = old_files.get(cand.path)
        if old is not None and old[:3] == (cand.size, cand.mtime_ns, cand.ctime_ns):
            continue  # unchanged: a rewrite that restores size and mtime still changes the ctime
        if old is None or rebuild:
            tasks.append(Task(cand))
        else:
            known = frozenset((key, digest) for key, (_, digest) in md.chunk_hashes(db, cand.path).items())
            tasks.append(Task(cand, old[3], known))
    report.seconds.update(parse=0.0, embed=0.0, store=0.0)
    if runner is None:
        report.workers = pool_size(len(tasks), workers)
        results = process_all(tasks, limits, workers, postprocess=ChunkEmbedder(embedder))
    else:
        results = runner(tasks, limits, ChunkEmbedder(embedder))
    for done, result in enumerate(results, 1):
        progress("index", done, len(tasks))
        if isinstance(result, SkippedFile):
            report.skipped.append(result)
            if result.path in old_files:
                changes.removed_paths.append(result.path)
            continue
        report.seconds["parse"] += result.seconds
        report.seconds["embed"] += result.post_seconds
        clock = time.perf_counter()
        if result.chunks is None:  # same bytes, new mtime: refresh the file row only
            symbols = db.execute("SELECT COUNT(*) FROM chunks WHERE path = ?", [result.path]).fetchone()[0]
        else:
            report.files_parsed += 1
            existing = {} if (result.path not in old_files or rebuild) else md.chunk_hashes(db, result.path)
            _apply(db, changes, result, existing)
            symbols = len(result.chunks)
        md.upsert_files(db, [_file_row(result, int(symbols))])
        changes.file_rows += 1
        report.seconds["store"] += time.perf_counter() - clock
    progress("index", len(tasks), len(tasks))
    # A previously indexed file that is now skipped is treated as removed.
    if changes.removed_paths:
        changes.removed_ids.extend(md.chunk_ids_for_paths(db, changes.removed_paths))
    return changes


def _apply(db: Database, changes: _Changes, result: ParsedFile, existing: dict[str, tuple[int, str]]) -> None:
    """Diff one parsed file against its stored chunks and write the difference."""
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
    changes.deleted_ids.extend(chunk_id for key, (chunk_id, _) in existing.items() if key not in keep)
    md.delete_chunks(db, [chunk_id for key, (chunk_id, _) in existing.items() if key not in keep])
    md.update_positions(db, moved)
    changes.moved += len(moved)
    if new_rows:
        chunks = result.chunks or ()
        # The worker embedded exactly the chunks whose (key, hash) the index lacked: new_rows.
        vectors, lexical = result.post if result.post is not None else (None, None)
        if vectors is None or len(vectors) != len(new_rows) or len(lexical) != len(new_rows):
            raise IndexCorrupt(f"internal error: {len(new_rows)} new chunks in {result.path} but no matching vectors")
        changes.new_ids.extend(md.insert_chunks(db, [chunks[r] for r in new_rows], lexical))
        changes.new_vectors.append(vectors)


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


def _remove_stale_vector_files(index_dir: Path, generation: int) -> None:
    """Delete vector and lexical files of older generations and temp files of interrupted runs."""
    keep = {vectors_path(index_dir, generation).name, lexical_path(index_dir, generation).name}
    for pattern in ("vectors-*.faiss", "lexical-*.bin"):
        for path in index_dir.glob(pattern):
            if path.name not in keep:
                remove_entry(path)
    for pattern in (".vectors-*.tmp", ".lexical-*.tmp"):
        for path in index_dir.glob(pattern):
            remove_entry(path)
