"""Build or update an index: repo -> files -> chunks -> embed -> store.

Incremental by construction: a file whose size and mtime are unchanged is not read;
a file whose bytes are unchanged is not parsed; a chunk whose content hash is
unchanged is not embedded (only its line numbers are refreshed).

This module decides what to read and runs the parsing and embedding (``indexer.work``, or
a ``Runner`` such as ``codesearch.cluster``); every write goes through the run's
``codesearch.store.writer.IndexWriter``: one SQLite transaction per run, the new
generation's vector and lexical files written before it commits, so an interrupted run
changes nothing. Only an index this user built is updated (``codesearch.store.trust``):
any other one is deleted and built again from scratch.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from codesearch.embed import Embedder
from codesearch.embed.static import StaticEmbedder
from codesearch.errors import CodeSearchError, IndexCorrupt, IndexOutOfDate, naming_index
from codesearch.pack import Mounts
from codesearch.store.indexdir import default_index_dir
from codesearch.store.writer import FileState, IndexWriter
from codesearch.terms import chunk_terms
from codesearch.watch import directory_mtimes
from indexer.chunk import embedding_text
from indexer.discover import FileEntry, Limits, walk
from indexer.languages import TEXT_LANGUAGE, parser_fingerprint
from indexer.types import Chunk, SkippedFile, UnsupportedFile
from indexer.work import STOPPED_WORKER, ParsedFile, PostProcess, Task, pool_size, process_all

# A run commits a generation after this many new chunks (``IndexWriter.checkpoint``), then after as
# many again as it has committed (100k, 200k, 400k, ...): an interrupted run keeps the files it
# finished, and at most half its work is redone.
CHECKPOINT_CHUNKS = 100_000
# Left in the index directory by a run that parses in its own process, until it finishes (``_ParsingMark``).
PARSING_MARK = "parsing"

# progress(stage, done, total): called as work advances; total is 0 when unknown.
ProgressFn = Callable[[str, int, int], None]
# runner(tasks, limits, postprocess): processes the tasks and yields their results in order;
# replaces the local process pool (``codesearch.cluster`` runs file shards on Ray with it).
Runner = Callable[[Sequence[Task], Limits, PostProcess], Iterable[ParsedFile | SkippedFile]]
# What a run's walk found (every item, and every directory read), before any file is read.
WalkedFn = Callable[[Sequence[FileEntry | SkippedFile | UnsupportedFile], Sequence[str]], None]


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
    # Parsed in workers whatever the number of files: the last run stopped while parsing in its own process,
    # or a file stopped its worker (``_ParsingMark``).
    guarded: bool = False
    checkpoints: int = 0  # generations committed before the run's end (a long run: CHECKPOINT_CHUNKS)
    unsupported: dict[str, int] = field(default_factory=dict)  # extension -> source files not indexed
    files_without_grammar: int = 0  # files indexed as line windows (language ``text``), among ``files``
    moved_from: str = ""  # the repository's previous place, when it moved since the last run
    replaced_untrusted: bool = False  # an index this user did not build was deleted and built afresh
    removed_journals: tuple[str, ...] = ()  # the database journals this user's runs did not leave, deleted
    index_id: str = ""  # the index's random id, as registered in this user's trust registry
    files_by_language: dict[str, int] = field(default_factory=dict)
    chunks_by_language: dict[str, int] = field(default_factory=dict)
    # A pack: repository -> (files, chunks, whether any of its files was added, changed or removed).
    by_mount: dict[str, tuple[int, int, bool]] = field(default_factory=dict)
    skipped: list[SkippedFile] = field(default_factory=list)
    # path -> why its grammar refused it: read anew in this run and indexed as line windows instead.
    windowed: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Settings:
    """How one run parses and embeds (the arguments of ``build_index`` that are not about the store)."""

    embedder: Embedder
    limits: Limits
    progress: ProgressFn
    workers: int | None
    use_ignore_files: bool
    runner: Runner | None
    walked: WalkedFn | None = None
    mounts: Mounts = field(default_factory=Mounts)


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
        lexical = [chunk_terms(c.qualname, c.signature, c.doc, c.code_without_doc, c.path) for c in chunks]
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
    walked: WalkedFn | None = None,
    mounts: Mounts | None = None,
) -> IndexReport:
    """Create or incrementally update the index of ``root``.

    :param rebuild: discard the existing index content (needed after a model change), or
        replace a damaged database, a database that is not ours, or another repository's index.
    :param wait: seconds to wait for another indexing run to release the lock.
    :param workers: the most worker processes to parse and embed with (default: the CPU count).
    :param use_ignore_files: False ignores .gitignore/.codesearchignore and the vendored rules (one run).
    :param runner: parses and embeds the changed files instead of the local pool (``workers`` is then
        unused); whatever it does, the results are written by this process in the run's one commit.
    :param walked: called with what the run's walk found (every item, every directory read) before any
        file is read: a watcher's snapshot of the same walk (``codesearch.watch.Snapshot.of_walk``).
    :param mounts: build a pack (``codesearch.pack``): index these repositories, each file as ``NAME/PATH``,
        instead of the files under ``root`` (then a directory of the workspace's own, holding nothing else).
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
    settings = _Settings(embedder, limits, progress, workers, use_ignore_files, runner, walked, mounts or Mounts())
    try:
        with IndexWriter.open(index_dir, root, embedder, parser=parser_fingerprint(), rebuild=rebuild,
                              wait=wait, mounts=settings.mounts.digest()) as writer:
            report.replaced_untrusted = writer.replaced_untrusted
            report.removed_journals = writer.removed_journals
            report.moved_from = writer.moved_from
            _run(writer, settings, report)
    except (IndexCorrupt, IndexOutOfDate) as exc:
        if settings.mounts:
            raise  # a pack is rebuilt by index-many
        raise naming_index(exc, root, index_dir) from exc
    return report


def _run(writer: IndexWriter, settings: _Settings, report: IndexReport) -> None:
    """Discover the repository's files, write what changed, and commit the run."""
    clock = time.perf_counter()
    old_files = writer.known_files()
    files, directories = _discover(writer.root, settings, report)
    report.seconds["discover"] = time.perf_counter() - clock
    touched: set[str] = set()  # the paths this run parsed anew or removed
    with writer.transaction():
        _scan(writer, files, old_files, settings, report, touched)
        present = {f.path for f in files}
        gone = [p for p in old_files if p not in present]
        writer.remove_files(gone)
        touched.update(gone)
        clock = time.perf_counter()
        done = writer.finish(skipped=report.skipped, unsupported=report.unsupported,
                             max_file_bytes=settings.limits.max_bytes, directories=directories)
        report.index_id = writer.index_id
        report.seconds["store"] += time.perf_counter() - clock
    report.generation = done.generation
    report.changed = done.changed
    report.chunks_added = done.chunks_added
    report.chunks_removed = done.chunks_removed
    report.chunks_moved = done.chunks_moved
    report.files_removed = done.files_removed
    report.chunks_total = done.chunks_total
    report.files_by_language, report.chunks_by_language = writer.counts_by_language()
    report.files = sum(report.files_by_language.values())
    report.files_without_grammar = report.files_by_language.get(TEXT_LANGUAGE, 0)
    if settings.mounts:
        report.by_mount = _by_mount(settings.mounts, writer.chunks_by_file(), touched)


def _by_mount(mounts: Mounts, chunks_by_file: dict[str, int], touched: set[str]) -> dict[str, tuple[int, int, bool]]:
    """(files, chunks, changed) of each repository of a pack (every mount; with nothing: (0, 0, ...))."""
    counts = {name: [0, 0] for name in mounts.roots}
    for path, chunks in chunks_by_file.items():
        name = mounts.name_of(path)
        if name is not None:
            counts[name][0] += 1
            counts[name][1] += chunks
    changed = {mounts.name_of(path) for path in touched}
    return {name: (files, chunks, name in changed) for name, (files, chunks) in counts.items()}


def _walk(root: Path, settings: _Settings, directories: list[str] | None
          ) -> Iterable[FileEntry | SkippedFile | UnsupportedFile]:
    """What the walk of ``root`` finds or, for a pack, of each of its repositories, as ``NAME/PATH``."""
    if not settings.mounts:
        yield from walk(root, settings.limits, settings.use_ignore_files, directories=directories)
        return
    for name, mounted in sorted(settings.mounts.roots.items()):
        prefix = settings.mounts.prefix(name)
        seen: list[str] | None = [] if directories is not None else None
        for item in walk(Path(mounted), settings.limits, settings.use_ignore_files, directories=seen):
            if isinstance(item, FileEntry):
                yield replace(item, path=prefix + item.path, prefix=prefix)
            else:
                yield replace(item, path=prefix + item.path)
        if directories is not None and seen is not None:
            directories.extend(prefix + d if d else name for d in seen)


def _discover(root: Path, settings: _Settings, report: IndexReport) -> tuple[list[FileEntry], dict[str, int] | None]:
    """Every indexable file under ``root``, and the mtime of each directory the walk read, taken before any file
    is read (None for a pack: ``codesearch.freshness.unindexed_files`` looks at one repository's); what is
    skipped or unsupported goes to the report."""
    files: list[FileEntry] = []
    items: list[FileEntry | SkippedFile | UnsupportedFile] = []
    directories: list[str] = []
    for item in _walk(root, settings, directories):
        if settings.walked is not None:
            items.append(item)
        if isinstance(item, SkippedFile):
            report.skipped.append(item)
        elif isinstance(item, UnsupportedFile):
            report.unsupported[item.extension] = report.unsupported.get(item.extension, 0) + 1
        else:
            files.append(item)
            settings.progress("discover", len(files), 0)
    if settings.walked is not None:
        settings.walked(items, directories)
    return files, None if settings.mounts else directory_mtimes(root, directories)


def _scan(writer: IndexWriter, files: list[FileEntry], old_files: dict[str, FileState], settings: _Settings,
          report: IndexReport, touched: set[str]) -> None:
    """Read, parse, embed and write every file that may have changed (inside the run's transaction);
    the paths parsed anew or removed go to ``touched``.

    On big inputs worker processes parse and embed while this process writes rows.
    """
    tasks = []
    for found in files:
        old = old_files.get(found.path)
        if old is not None and old[:3] == (found.size, found.mtime_ns, found.ctime_ns):
            continue  # unchanged: a rewrite that restores size and mtime still changes the ctime
        if old is None or writer.rebuild:
            tasks.append(Task(found))
        else:
            known = frozenset((key, digest) for key, (_, digest) in writer.stored_chunks(found.path).items())
            tasks.append(Task(found, old[3], known))
    report.seconds.update(parse=0.0, embed=0.0, store=0.0)
    embed = ChunkEmbedder(settings.embedder)
    mark = _ParsingMark(writer.index_dir) if settings.runner is None else None
    if mark is not None:
        guarded = report.guarded = mark.present() and bool(tasks)
        report.workers = pool_size(len(tasks), settings.workers, guarded)
        if tasks and not report.workers:
            mark.set()  # parsing in this process: a file that kills it leaves the mark for the next run
        results = process_all(tasks, settings.limits, settings.workers, postprocess=embed, guarded=guarded)
    else:
        results = settings.runner(tasks, settings.limits, embed)
    try:
        _write_results(writer, results, old_files, settings, report, touched, len(tasks))
    except BaseException:
        if mark is not None and not report.workers:
            mark.clear()  # a Python exception (Ctrl-C included), not a file that stopped this process parsing it
        raise
    stopped = any(s.reason == STOPPED_WORKER for s in report.skipped)
    if mark is not None:
        if report.workers and stopped:
            mark.set()  # the file is parsed at every run until it changes: in workers while it stops them
        else:
            mark.clear()
    settings.progress("index", len(tasks), len(tasks))


def _write_results(writer: IndexWriter, results: Iterable[ParsedFile | SkippedFile], old_files: dict[str, FileState],
                   settings: _Settings, report: IndexReport, touched: set[str], total: int) -> None:
    """Write each parsed file's chunks as it comes (checkpointing a long run); skipped files go to the report."""
    for done, result in enumerate(results, 1):
        settings.progress("index", done, total)
        if isinstance(result, SkippedFile):
            report.skipped.append(result)
            if result.path in old_files:  # a previously indexed file that is now skipped is removed
                writer.remove_files([result.path])
                touched.add(result.path)
            continue
        report.seconds["parse"] += result.seconds
        report.seconds["embed"] += result.post_seconds
        clock = time.perf_counter()
        if result.chunks is not None:
            report.files_parsed += 1
            touched.add(result.path)
        if result.windowed:
            report.windowed[result.path] = result.windowed
        writer.write_file(result, indexed=result.path in old_files)
        # A long run keeps its finished files; each part at least as large as all before it, so that
        # rewriting the index's files at each checkpoint costs a run a bounded share of its time.
        if writer.pending_chunks >= max(CHECKPOINT_CHUNKS, writer.committed_chunks):
            writer.checkpoint(max_file_bytes=settings.limits.max_bytes)
            report.checkpoints += 1
        report.seconds["store"] += time.perf_counter() - clock


class _ParsingMark:
    """A file in the index directory (``PARSING_MARK``) while this process parses a run's files, and after a run
    whose workers found a file that stops the process parsing it (a crash in a grammar, a runaway of memory):
    while it is there, runs parse in worker processes, however few the files, so that such a file costs itself
    only (``indexer.work.process_all``). Its contents are never read; it is never followed if a link."""

    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / PARSING_MARK

    def present(self) -> bool:
        return os.path.lexists(self.path)

    def set(self) -> None:
        try:
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600))
        except OSError:
            pass  # a link or something else is there: present all the same

    def clear(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


