"""Read and chunk many files, in worker processes when there are enough of them.

tree-sitter parsing holds the GIL, so on a large repository the files are spread over
a process pool. An optional ``postprocess`` callable (the caller's embedder, which
this package knows nothing about) runs on each file's chunks in the same worker, so
parsing and embedding both use every core while the caller writes results. Results
come back in the order of the tasks.

The repository being indexed is untrusted, and it is usually the current directory.
A spawned Python child (worker or multiprocessing's resource tracker) starts as
``python -c ...``, which puts the current directory first on ``sys.path``, so a
repository shipping ``multiprocessing/__init__.py`` would run in it. Children are
therefore started with ``PYTHONSAFEPATH=1`` (Python 3.11+; older Pythons process
in-process), and each worker dies with the process that started it.

A file can also stop the process that parses it: a grammar's C code can crash, or its error
recovery can run away with memory (``WORKER_MEMORY_BYTES`` bounds a worker's). When a worker
dies, the files that were in flight are processed again one at a time, and the one that stops
its worker again is skipped with its reason; the run goes on. So is one that keeps its worker busy
past a generous time (``STUCK_SECONDS``), its worker killed. Inputs too small for a pool are
processed in the calling process, without that guard, unless the caller asks for it (``guarded``:
``codesearch.pipeline`` does after a run that died while parsing in its own process).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from indexer import memory
from indexer.chunk import chunks_or_windows
from indexer.discover import FileEntry, Limits, read_source
from indexer.types import Chunk, SkippedFile

# Below this many files a pool costs more to start than it saves.
MIN_FILES_FOR_POOL = 200
# Batches (of 32 files) per worker submitted ahead of the caller: enough to keep every worker busy.
IN_FLIGHT = 4

# A worker's data (heap and private mappings) may grow to this much. A grammar whose error recovery runs away
# (tree-sitter-python once took 7 GB for 15 KB of operator lines, and was killed at 24 GB on 60 KB) then stops
# its own worker, and its file is skipped, instead of taking the machine's memory.
WORKER_MEMORY_BYTES = 4 << 30
STOPPED_WORKER = (f"stopped its worker process (a crash in the parser, or over the worker's "
                  f"{WORKER_MEMORY_BYTES >> 30} GiB of memory)")
# A worker's file is taken for stuck after STUCK_SECONDS plus STUCK_SECONDS_PER_MB of it (a batch: the sum of its
# files' sizes), about ten times the parse deadline and the embedding of a file on a slow machine: a grammar
# whose error recovery loops without asking the parse deadline and without allocating is stopped with its worker.
STUCK_SECONDS = 60.0
STUCK_SECONDS_PER_MB = 120.0
STUCK_WORKER = "took too long in its worker process, which was stopped (a parse that does not end)"

# Runs on a file's chunks after parsing (e.g. to embed them); its result is ParsedFile.post.
PostProcess = Callable[[Sequence[Chunk]], Any]
_worker_postprocess: PostProcess | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """One file to process, with what the index already holds for it.

    :param known_sha1: the file's hash in the index; equal bytes are not parsed again.
    :param known_chunks: ``(key, content_hash)`` of its indexed chunks; those are not post-processed.
    """

    entry: FileEntry
    known_sha1: str | None = None
    known_chunks: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """A file that was read. ``chunks`` is None when its bytes match ``known_sha1``.

    ``post`` is the post-processing result for the chunks not in ``known_chunks``, in order.
    ``windowed`` says why the chunks are line windows, where the file's grammar refused it.
    """

    path: str
    language: str
    size: int
    mtime_ns: int
    sha1: str
    chunks: tuple[Chunk, ...] | None
    seconds: float
    post: Any = None
    post_seconds: float = 0.0
    ctime_ns: int = 0
    windowed: str = ""


def process(task: Task, limits: Limits, postprocess: PostProcess | None = None) -> ParsedFile | SkippedFile:
    """Read, check and (if its content changed) chunk and post-process one file.

    Never raises for bad input: an unreadable file comes back as a SkippedFile, one its grammar refuses
    as line windows (``ParsedFile.windowed`` says why).
    """
    started = time.perf_counter()
    source = read_source(task.entry, limits)
    if isinstance(source, SkippedFile):
        return source
    sha1 = source.sha1
    chunks: tuple[Chunk, ...] | None = None
    windowed = ""
    if sha1 != task.known_sha1:
        try:
            found, windowed = chunks_or_windows(source)
            chunks = tuple(found)
        except Exception as exc:  # a parser bug must cost one file, not the run
            return SkippedFile(source.path, f"parser failed: {type(exc).__name__}: {exc}")
    parsed = time.perf_counter()
    post = None
    if postprocess is not None and chunks is not None:
        try:
            post = postprocess([c for c in chunks if (c.key, c.content_hash) not in task.known_chunks])
        except Exception as exc:  # a bug in embedding or term counting must cost one file, not the run
            return SkippedFile(source.path, f"indexing failed: {type(exc).__name__}: {exc}")
    return ParsedFile(
        path=source.path,
        language=source.language,
        size=len(source.source),
        mtime_ns=source.mtime_ns,
        ctime_ns=source.ctime_ns,
        sha1=sha1,
        chunks=chunks,
        seconds=parsed - started,
        post=post,
        post_seconds=time.perf_counter() - parsed,
        windowed=windowed,
    )


# `python -P` / PYTHONSAFEPATH: never prepend the script's directory or the current one to sys.path.
CAN_ISOLATE_CHILDREN = sys.version_info >= (3, 11)


@contextmanager
def _safe_path_for_children() -> Iterator[None]:
    """Python children started inside this block do not put the current directory on ``sys.path``."""
    previous = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = previous


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored inside the block, when this is the main thread: a process started here starts with it ignored.

    A spawned worker imports for a second or more before its initializer sets its handler (``_init_worker``); a
    Ctrl-C then (it reaches the whole process group) printed a KeyboardInterrupt traceback per worker, or an
    EOFError's where the parent stopped while writing a worker's start. An ignored signal stays ignored in the
    program a process executes, and Python then installs no KeyboardInterrupt of its own; the parent's handler is
    back as soon as its workers are started (a Ctrl-C in those milliseconds is lost; the next one is not).
    """
    if threading.current_thread() is not threading.main_thread():  # only the main thread sets handlers
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)


def _die_with_parent(parent_pid: int) -> None:
    """Make this worker exit when ``parent_pid`` does (``kill -9`` included)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    else:  # no parent-death signal: watch the parent id instead

        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def _limit_memory(limit: int | None) -> None:
    """Keep this process's data (heap and private mappings) under ``limit`` bytes, where the system allows it."""
    try:
        import resource
    except ImportError:  # Windows: no limit
        return
    if limit is None:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def _init_worker(postprocess: PostProcess | None, parent_pid: int, memory: int | None) -> None:
    global _worker_postprocess
    # Ctrl-C reaches the whole process group: the parent stops the run and says so in one line; a worker that took
    # it as KeyboardInterrupt printed multiprocessing's traceback first. It ends at once and quietly now (ignoring it
    # instead left the parent's pool shutdown waiting on workers it had killed, in one CI run of three).
    signal.signal(signal.SIGINT, _end_quietly)  # ignored until now (_sigint_ignored)
    _die_with_parent(parent_pid)
    _limit_memory(memory)
    _worker_postprocess = postprocess


def _end_quietly(_signum: int, _frame: object) -> None:
    """A worker's Ctrl-C: end now, without a traceback (its parent reports the interruption)."""
    os._exit(130)


def _started() -> bool:
    return True


def _process_batch(tasks: Sequence[Task], limits: Limits) -> list[ParsedFile | SkippedFile]:
    done = [process(task, limits, _worker_postprocess) for task in tasks]
    memory.trim()  # a batch's trees, texts and vectors are freed: a worker's heap does not keep its largest
    return done


class _Stuck(Exception):
    """A worker did not finish its work in time and was stopped."""


def _budget(tasks: Sequence[Task], stuck_seconds: tuple[float, float]) -> float:
    """Seconds the work of ``tasks`` may take in a worker before it is taken for stuck."""
    seconds, per_mb = stuck_seconds
    return seconds + per_mb * sum(task.entry.size for task in tasks) / (1 << 20)


def _within(future: Future[list[ParsedFile | SkippedFile]], pool: ProcessPoolExecutor,
            seconds: float) -> list[ParsedFile | SkippedFile]:
    """``future``'s result; past ``seconds``, the pool's workers are killed (the pool is broken then).

    :raises _Stuck: past ``seconds``. :raises BrokenProcessPool: if a worker died.
    """
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        _kill_workers(pool)
        raise _Stuck from None


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Stop ``pool``'s workers now (the pool is broken then)."""
    # No public way to stop a pool's workers before Python 3.14 (``kill_workers``): its process table.
    kill = getattr(pool, "kill_workers", None)
    if kill is not None:
        kill()
    else:
        for worker in list(getattr(pool, "_processes", {}).values()):
            worker.kill()
    # A worker that dies while it writes a result (Ctrl-C ends workers at once; a kill does too) leaves part of it in
    # the results' pipe, and the pool's manager thread waits for the rest for ever: this process holds the pipe's
    # writing end as well, so no end of file comes, and the shutdown that joins the thread hung (a Ctrl-C'd index run
    # waited in `ProcessPoolExecutor.shutdown` for hours, its workers dead). This process never writes there: its end
    # closed, the read ends once the workers' ends are gone (the pool is broken, as it is).
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    if writer is not None:
        writer.close()


def pool_size(tasks: int, workers: int | None = None, guarded: bool = False) -> int:
    """How many worker processes ``process_all`` starts for this many tasks (0: it works in-process).

    :param workers: the most to start (default: the CPU count).
    :param guarded: start at least one, whatever the number of tasks (a file may stop the process parsing it).
    """
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if not CAN_ISOLATE_CHILDREN or not tasks:
        return 0
    if guarded:
        return max(1, min(workers, tasks))
    if workers <= 1 or tasks < MIN_FILES_FOR_POOL:
        return 0
    return workers


def process_all(
    tasks: Sequence[Task],
    limits: Limits,
    workers: int | None = None,
    postprocess: PostProcess | None = None,
    worker_memory: int | None = WORKER_MEMORY_BYTES,
    guarded: bool = False,
    stuck_seconds: tuple[float, float] = (STUCK_SECONDS, STUCK_SECONDS_PER_MB),
) -> Iterator[ParsedFile | SkippedFile]:
    """Process every task, in order; uses up to ``workers`` processes (default: CPU count) for big inputs.

    ``postprocess`` is pickled once per worker process. A file that stops its worker (a crash in a grammar, or
    past ``worker_memory`` bytes of data), or that keeps its worker busy past ``stuck_seconds`` (seconds, and
    seconds per MB), comes back as a SkippedFile, and the run goes on; with ``guarded``, that holds for inputs too
    small for a pool too (they are processed by one).
    """
    workers = pool_size(len(tasks), workers, guarded)
    if not workers:
        for task in tasks:
            yield process(task, limits, postprocess)
        return
    batch = 32
    batches = [tasks[i : i + batch] for i in range(0, len(tasks), batch)]

    def start() -> ProcessPoolExecutor | None:
        """A new pool whose workers could start (None: they cannot, e.g. a script without an
        `if __name__ == "__main__":` guard under spawn)."""
        # spawn, not fork: the parent may hold tokenizer threads and open SQLite handles. The resource tracker
        # starts with the pool's queues, and a worker with each task submitted while none is idle: one check per
        # worker, submitted at once, starts them all inside the safe-path block.
        with _safe_path_for_children():
            with _sigint_ignored():  # the workers start with Ctrl-C ignored until they can end quietly (_init_worker)
                started = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                              initializer=_init_worker,
                                              initargs=(postprocess, os.getpid(), worker_memory))
                checks = [started.submit(_started) for _ in range(workers)]
            try:
                for check in checks:
                    check.result()
            except BrokenProcessPool:
                started.shutdown(wait=True, cancel_futures=True)
                return None
            except BaseException:  # Ctrl-C while they start: they ignore it until then
                _kill_workers(started)
                started.shutdown(wait=True, cancel_futures=True)
                raise
        return started

    def alone(task: Task) -> ParsedFile | SkippedFile:
        """``task`` processed by itself, so that a worker it stops, or gets stuck in, is its own."""
        nonlocal pool
        if pool is None:
            return process(task, limits, postprocess)
        reason = STOPPED_WORKER
        future = pool.submit(_process_batch, [task], limits)
        try:
            return _within(future, pool, _budget([task], stuck_seconds))[0]
        except _Stuck:
            reason = STUCK_WORKER
        except BrokenProcessPool:
            pass
        pool.shutdown(wait=True, cancel_futures=True)
        pool = start()
        return SkippedFile(task.entry.path, reason)

    pool = start()
    # At most IN_FLIGHT batches per worker are submitted and not yet taken: results wait in this
    # process's memory until the caller takes them, and a caller slower than the workers (writing
    # rows, committing a checkpoint) would otherwise hold the whole repository's vectors at once.
    window: deque[Future[list[ParsedFile | SkippedFile]]] = deque()
    submitted = done = 0
    try:
        while done < len(batches):
            if pool is None:  # workers cannot start: the rest in this process
                for task in batches[done]:
                    yield process(task, limits, postprocess)
                done += 1
                continue
            try:
                while submitted < len(batches) and len(window) < workers * IN_FLIGHT:
                    window.append(pool.submit(_process_batch, batches[submitted], limits))
                    submitted += 1
                results = _within(window[0], pool, _budget(batches[done], stuck_seconds))
            except (BrokenProcessPool, _Stuck):
                # A worker died (one of the files in flight stopped it, or its start failed) or was stopped, stuck.
                # Each of them is processed again by itself, and one that stops its worker, or gets stuck, again is
                # skipped, not the run.
                window.clear()
                pool.shutdown(wait=True, cancel_futures=True)
                pool = start()
                for batch in batches[done:submitted]:
                    for task in batch:
                        yield alone(task)
                done = submitted
                continue
            window.popleft()
            done += 1
            yield from results
    except BaseException:  # Ctrl-C (which ends the workers too), or the caller stopped: their work is not wanted
        if pool is not None:
            _kill_workers(pool)
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
