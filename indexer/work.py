"""Read and chunk many files, in worker processes when there are enough of them.

tree-sitter parsing holds the GIL, so on a large repository the files are spread over
a process pool while the caller embeds the chunks that are already back. Results come
back in the order of the tasks.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from indexer.chunk import chunks_for_file
from indexer.discover import Candidate, Limits, read_source
from indexer.types import Chunk, SkippedFile

# Below this many files a pool costs more to start than it saves.
MIN_FILES_FOR_POOL = 200


@dataclass(frozen=True, slots=True)
class Task:
    """One file to process; ``known_sha1`` is what the index holds for it, if anything."""

    candidate: Candidate
    known_sha1: str | None


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """A file that was read. ``chunks`` is None when its bytes match ``known_sha1``."""

    path: str
    language: str
    size: int
    mtime_ns: int
    sha1: str
    chunks: tuple[Chunk, ...] | None
    seconds: float


def process(task: Task, limits: Limits) -> ParsedFile | SkippedFile:
    """Read, check and (if its content changed) chunk one file. Never raises for bad input."""
    started = time.perf_counter()
    source = read_source(task.candidate, limits)
    if isinstance(source, SkippedFile):
        return source
    sha1 = source.sha1
    chunks: tuple[Chunk, ...] | None = None
    if sha1 != task.known_sha1:
        try:
            chunks = tuple(chunks_for_file(source))
        except Exception as exc:  # a parser bug must cost one file, not the run
            return SkippedFile(source.path, f"parser failed: {type(exc).__name__}: {exc}")
    return ParsedFile(
        path=source.path,
        language=source.language,
        size=len(source.source),
        mtime_ns=source.mtime_ns,
        sha1=sha1,
        chunks=chunks,
        seconds=time.perf_counter() - started,
    )


def _process_batch(tasks: Sequence[Task], limits: Limits) -> list[ParsedFile | SkippedFile]:
    return [process(task, limits) for task in tasks]


def process_all(tasks: Sequence[Task], limits: Limits, workers: int | None = None) -> Iterator[ParsedFile | SkippedFile]:
    """Process every task, in order; uses ``workers`` processes (default: CPU count) for big inputs."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(tasks) < MIN_FILES_FOR_POOL:
        for task in tasks:
            yield process(task, limits)
        return
    batch = 32
    batches = [tasks[i : i + batch] for i in range(0, len(tasks), batch)]
    # spawn, not fork: the parent may hold tokenizer threads and open SQLite handles.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        for results in pool.map(_process_batch, batches, [limits] * len(batches)):
            yield from results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
