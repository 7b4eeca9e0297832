"""Build or update an index: repo -> chunks -> diff -> embed -> store.

Incremental by construction: a file whose size and mtime are unchanged is not read;
a file whose bytes are unchanged is not parsed; a chunk whose content hash is
unchanged is not embedded (only its line numbers are refreshed). Every change of one
run lands in one SQLite transaction, and the FAISS file of the new generation is
written before that transaction commits, so an interrupted run changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sqlite_utils import Database

from codesearch.embed import Embedder
from codesearch.embed.static import StaticEmbedder
from codesearch.errors import CodeSearchError, IndexCorrupt, IndexOutOfDate
from codesearch.store import metadata as md
from codesearch.store.lock import writer_lock
from codesearch.store.layout import DB_NAME, INDEX_DIR_NAME
from codesearch.store.reader import IndexMeta
from codesearch.store.vectors import VectorStore, vectors_path
from indexer.chunk import embedding_text
from indexer.languages import parser_fingerprint
from indexer.discover import Candidate, Limits, walk
from indexer.types import Chunk, SkippedFile
from indexer.work import ParsedFile, Task, process_all

EMBED_BATCH = 4096

# progress(stage, done, total): called as work advances; total is 0 when unknown.
ProgressFn = Callable[[str, int, int], None]


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
    files_by_language: dict[str, int] = field(default_factory=dict)
    chunks_by_language: dict[str, int] = field(default_factory=dict)
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class _Plan:
    """Changes gathered while scanning, applied in one transaction."""

    new_chunks: list[Chunk] = field(default_factory=list)
    moved: list[tuple[int, Chunk]] = field(default_factory=list)
    deleted_ids: list[int] = field(default_factory=list)
    file_rows: list[dict[str, object]] = field(default_factory=list)
    removed_paths: list[str] = field(default_factory=list)


def default_index_dir(root: Path) -> Path:
    """Where an index of ``root`` lives unless told otherwise."""
    return root / INDEX_DIR_NAME


def build_index(
    root: Path,
    index_dir: Path | None = None,
    embedder: Embedder | None = None,
    *,
    rebuild: bool = False,
    limits: Limits = Limits(),
    progress: ProgressFn | None = None,
    wait: float = 0.0,
) -> IndexReport:
    """Create or incrementally update the index of ``root``.

    :param rebuild: discard the existing index content (needed after a model change).
    :param wait: seconds to wait for another indexing run to release the lock.
    :raises IndexOutOfDate: if the index was built by another model and ``rebuild`` is off.
    :raises IndexCorrupt: if the existing index is damaged and ``rebuild`` is off.
    :raises IndexLocked: if another run holds the lock for longer than ``wait``.
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise CodeSearchError(f"{root} is not a directory")
    index_dir = Path(index_dir).resolve() if index_dir else default_index_dir(root)
    index_dir.mkdir(parents=True, exist_ok=True)
    ignore_file = index_dir / ".gitignore"
    if not ignore_file.exists():
        ignore_file.write_text("*\n")
    embedder = embedder or StaticEmbedder.default()
    progress = progress or (lambda stage, done, total: None)
    report = IndexReport(root=str(root), index_dir=str(index_dir))
    with writer_lock(index_dir, wait=wait):
        db = md.open_for_write(index_dir / DB_NAME)
        try:
            _run(db, root, index_dir, embedder, rebuild, limits, progress, report)
        finally:
            db.close()
        _remove_stale_vector_files(index_dir, report.generation)
    return report


def _run(
    db: Database,
    root: Path,
    index_dir: Path,
    embedder: Embedder,
    rebuild: bool,
    limits: Limits,
    progress: ProgressFn,
    report: IndexReport,
) -> None:
    clock = time.perf_counter()
    meta = md.get_meta(db)
    generation, store = _open_vectors(db, index_dir, meta, embedder, rebuild)
    old_files = {} if rebuild else md.file_rows(db)
    if meta.get("parser_fingerprint") != parser_fingerprint():
        # The queries changed: parse every file again (unchanged chunks keep their vectors).
        old_files = {path: (-1, -1, "") for path in old_files}

    candidates: list[Candidate] = []
    for item in walk(root, limits):
        if isinstance(item, SkippedFile):
            report.skipped.append(item)
        else:
            candidates.append(item)
            progress("discover", len(candidates), 0)
    report.seconds["discover"] = time.perf_counter() - clock

    plan, vectors = _scan(db, candidates, old_files, rebuild, limits, embedder, progress, report)
    present = {c.path for c in candidates}
    gone = [p for p in old_files if p not in present]
    plan.removed_paths.extend(gone)
    plan.deleted_ids.extend(md.chunk_ids_for_paths(db, gone))

    clock = time.perf_counter()
    vectors_change = (
        bool(plan.new_chunks or plan.deleted_ids)
        or rebuild
        or not meta
        or meta.get("parser_fingerprint") != parser_fingerprint()
    )
    report.changed = vectors_change or bool(plan.moved or plan.file_rows or plan.removed_paths)
    with db.atomic():
        if rebuild:
            md.clear(db)
        md.delete_chunks(db, plan.deleted_ids)
        md.delete_files(db, plan.removed_paths)
        ids = md.insert_chunks(db, plan.new_chunks)
        md.update_positions(db, plan.moved)
        md.upsert_files(db, plan.file_rows)
        md.replace_skipped(db, report.skipped)
        if vectors_change:
            store.remove(plan.deleted_ids)
            store.add(np.asarray(ids, dtype=np.int64), vectors)
            count = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
            if count != store.count:
                raise IndexCorrupt(f"internal error: {count} chunks but {store.count} vectors; nothing was written")
            generation += 1
            store.save(vectors_path(index_dir, generation))
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            md.set_meta(db, {
                "schema_version": md.SCHEMA_VERSION,
                "model_name": embedder.name,
                "model_fingerprint": embedder.fingerprint,
                "parser_fingerprint": parser_fingerprint(),
                "dim": embedder.dim,
                "generation": generation,
                "count": store.count,
                "root": str(root),
                "updated_at": now,
                **({} if meta.get("created_at") and not rebuild else {"created_at": now}),
            })
    report.seconds["store"] = time.perf_counter() - clock
    report.generation = generation
    report.chunks_added = len(plan.new_chunks)
    report.chunks_removed = len(plan.deleted_ids)
    report.chunks_moved = len(plan.moved)
    report.files_removed = len(plan.removed_paths)
    report.chunks_total = store.count
    report.files_by_language = dict(db.execute("SELECT language, COUNT(*) FROM files GROUP BY 1 ORDER BY 1").fetchall())
    report.chunks_by_language = dict(db.execute("SELECT language, COUNT(*) FROM chunks GROUP BY 1 ORDER BY 1").fetchall())
    report.files = sum(report.files_by_language.values())


def _open_vectors(
    db: Database, index_dir: Path, meta: dict[str, str], embedder: Embedder, rebuild: bool
) -> tuple[int, VectorStore]:
    """The current generation and its vectors, or a fresh store for a new or rebuilt index."""
    if not meta:
        return 0, VectorStore.empty(embedder.dim)
    parsed = IndexMeta.from_rows(meta) if "generation" in meta else None
    if parsed is None:
        return 0, VectorStore.empty(embedder.dim)
    if rebuild:
        return parsed.generation, VectorStore.empty(embedder.dim)
    if parsed.schema_version != md.SCHEMA_VERSION:
        raise IndexOutOfDate(
            f"the index uses schema {parsed.schema_version}, this codesearch uses {md.SCHEMA_VERSION}; "
            "run `codesearch index --rebuild`"
        )
    if parsed.model_fingerprint != embedder.fingerprint:
        raise IndexOutOfDate(
            f"the index was built with model {parsed.model_fingerprint}, the current model is "
            f"{embedder.fingerprint}; run `codesearch index --rebuild`"
        )
    store = VectorStore.load(vectors_path(index_dir, parsed.generation), parsed.dim, parsed.count)
    rows = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    if rows != store.count:
        raise IndexCorrupt(f"metadata lists {rows} chunks but the vector file has {store.count}")
    return parsed.generation, store


def _scan(
    db: Database,
    candidates: list[Candidate],
    old_files: dict[str, tuple[int, int, str]],
    rebuild: bool,
    limits: Limits,
    embedder: Embedder,
    progress: ProgressFn,
    report: IndexReport,
) -> tuple[_Plan, np.ndarray]:
    """Read, parse, diff and embed every file that may have changed.

    Parsing runs in worker processes on big inputs while this process embeds the
    chunks already parsed, so the two stages overlap.
    """
    plan = _Plan()
    tasks = []
    for cand in candidates:
        old = old_files.get(cand.path)
        if old is not None and old[0] == cand.size and old[1] == cand.mtime_ns:
            continue
        tasks.append(Task(cand, None if (old is None or rebuild) else old[2]))
    parse_seconds = embed_seconds = 0.0
    vectors: list[np.ndarray] = []
    pending = 0  # chunks of plan.new_chunks not yet embedded
    for done, result in enumerate(process_all(tasks, limits), 1):
        progress("index", done, len(tasks))
        if isinstance(result, SkippedFile):
            report.skipped.append(result)
            if result.path in old_files:
                plan.removed_paths.append(result.path)
            continue
        parse_seconds += result.seconds
        if result.chunks is None:  # same bytes, new mtime: refresh the file row only
            symbols = db.execute("SELECT COUNT(*) FROM chunks WHERE path = ?", [result.path]).fetchone()[0]
            plan.file_rows.append(_file_row(result, int(symbols)))
            continue
        report.files_parsed += 1
        existing = {} if (result.path not in old_files or rebuild) else md.chunk_hashes(db, result.path)
        _diff(plan, result.chunks, existing)
        plan.file_rows.append(_file_row(result, len(result.chunks)))
        if len(plan.new_chunks) - pending >= EMBED_BATCH:
            clock = time.perf_counter()
            vectors.append(_embed(embedder, plan.new_chunks[pending:]))
            embed_seconds += time.perf_counter() - clock
            pending = len(plan.new_chunks)
    clock = time.perf_counter()
    vectors.append(_embed(embedder, plan.new_chunks[pending:]))
    embed_seconds += time.perf_counter() - clock
    progress("index", len(tasks), len(tasks))
    report.seconds["parse"] = parse_seconds
    report.seconds["embed"] = embed_seconds
    # A previously indexed file that is now skipped is treated as removed.
    if plan.removed_paths:
        plan.deleted_ids.extend(md.chunk_ids_for_paths(db, plan.removed_paths))
        gone = set(plan.removed_paths)
        plan.file_rows = [r for r in plan.file_rows if r["path"] not in gone]
    return plan, np.concatenate(vectors) if vectors else np.zeros((0, embedder.dim), dtype=np.float32)


def _diff(plan: _Plan, chunks: Sequence[Chunk], existing: dict[str, tuple[int, str]]) -> None:
    """Sort one file's chunks into new, moved (same content) and deleted."""
    keep: set[str] = set()
    for chunk in chunks:
        old = existing.get(chunk.key)
        if old is not None and old[1] == chunk.content_hash:
            plan.moved.append((old[0], chunk))
            keep.add(chunk.key)
        else:
            plan.new_chunks.append(chunk)
    plan.deleted_ids.extend(chunk_id for key, (chunk_id, _) in existing.items() if key not in keep)


def _embed(embedder: Embedder, chunks: Sequence[Chunk]) -> np.ndarray:
    if not chunks:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return embedder.encode_documents([embedding_text(c) for c in chunks])


def _file_row(parsed: ParsedFile, symbols: int) -> dict[str, object]:
    return {
        "path": parsed.path,
        "language": parsed.language,
        "size": parsed.size,
        "mtime_ns": parsed.mtime_ns,
        "sha1": parsed.sha1,
        "symbols": symbols,
    }


def _remove_stale_vector_files(index_dir: Path, generation: int) -> None:
    """Delete vector files of older generations and temp files of interrupted runs."""
    keep = vectors_path(index_dir, generation).name
    for path in index_dir.glob("vectors-*.faiss"):
        if path.name != keep:
            path.unlink(missing_ok=True)
    for path in index_dir.glob(".vectors-*.tmp"):
        path.unlink(missing_ok=True)
