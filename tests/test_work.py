"""Parallel file processing gives the same results, in the same order, as serial."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import indexer.work as work
from indexer.discover import FileEntry, Limits, walk
from indexer.types import Chunk, SkippedFile
from tests.conftest import FakeEmbedder, write


def test_pool_matches_serial_and_keeps_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two worker processes return exactly what one process returns, task for task."""
    for i in range(40):
        write(tmp_path, f"m{i:02d}.py", f"def f{i}(x):\n    '''Doc {i}.'''\n    return x + {i}\n")
    write(tmp_path, "bad.py", b"\x00binary")
    tasks = [work.Task(c, None) for c in walk(tmp_path) if isinstance(c, FileEntry)]
    serial = list(work.process_all(tasks, Limits(), workers=1))
    monkeypatch.setattr(work, "MIN_FILES_FOR_POOL", 1)
    parallel = list(work.process_all(tasks, Limits(), workers=2))
    strip = lambda r: r if isinstance(r, SkippedFile) else (r.path, r.sha1, r.chunks)  # noqa: E731
    assert [strip(r) for r in parallel] == [strip(r) for r in serial]
    assert sum(isinstance(r, SkippedFile) for r in serial) == 1


def test_known_sha1_skips_parsing(tmp_path: Path) -> None:
    """A file whose bytes match the index's sha1 is read but not parsed."""
    write(tmp_path, "a.py", "def a(): pass\n")
    (cand,) = [c for c in walk(tmp_path) if isinstance(c, FileEntry)]
    first = work.process(work.Task(cand, None), Limits())
    again = work.process(work.Task(cand, first.sha1), Limits())
    assert first.chunks and again.chunks is None and again.sha1 == first.sha1


def test_a_failure_after_parsing_costs_one_file_not_the_run(tmp_path: Path) -> None:
    """Embedding and term counting run per file in the workers; an exception there (a docstring repeating one
    word 70,000 times once overflowed the term weights) skips that file with its reason, as a parser bug does,
    instead of ending the index run."""
    write(tmp_path, "a.py", "def a(): pass\n")
    (cand,) = [c for c in walk(tmp_path) if isinstance(c, FileEntry)]

    def broken(chunks: list[object]) -> None:
        raise OverflowError("float too large to pack with e format")

    skipped = work.process(work.Task(cand, None), Limits(), broken)
    assert isinstance(skipped, SkippedFile) and skipped.path == "a.py"
    assert skipped.reason == "indexing failed: OverflowError: float too large to pack with e format"


def test_one_word_repeated_in_a_doc_past_float16_indexes(tmp_path: Path) -> None:
    """A term's weighted count is stored as float16; past its largest value (65,504) `struct.pack` raised and the
    whole run stopped. The count is kept at that value now, and the file is indexed and found."""
    from codesearch.pipeline import build_index
    from codesearch.search import Searcher
    from codesearch.terms import FLOAT16_MAX, chunk_terms
    from tests.conftest import FakeEmbedder

    doc = ("    " + " ".join(["word"] * 55) + "\n") * 1300
    ids, weights, length = chunk_terms("f", "def f()", doc, "return 1", "a.py")
    import struct

    assert max(struct.unpack(f"<{len(weights) // 2}e", weights)) == FLOAT16_MAX and length > FLOAT16_MAX
    write(tmp_path, "a.py", f'def f():\n    """Doc.\n{doc}    """\n    return 1\n')
    write(tmp_path, "b.py", "def three():\n    return 3\n")
    report = build_index(tmp_path, embedder=FakeEmbedder(), workers=1)
    assert report.files == 2 and not report.skipped
    assert Searcher(tmp_path / ".codesearch", embedder=FakeEmbedder()).search("word", 1)[0].path == "a.py"


def test_script_without_main_guard_still_indexes(tmp_path: Path) -> None:
    """Under spawn, workers of an unguarded script cannot start; the files are processed in-process."""
    import subprocess
    import sys

    for i in range(work.MIN_FILES_FOR_POOL + 10):
        write(tmp_path / "repo", f"m{i}.py", f"def f{i}():\n    return {i}\n")
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from pathlib import Path\n"
        "from codesearch.pipeline import build_index\n"
        f"report = build_index(Path({str(tmp_path / 'repo')!r}))\n"
        "print('CHUNKS', report.chunks_total)\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert f"CHUNKS {work.MIN_FILES_FOR_POOL + 10}" in out.stdout, out.stderr[-2000:]


def test_a_slow_caller_holds_a_bounded_number_of_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool is given at most IN_FLIGHT batches per worker ahead of the caller, not every batch at
    once: results wait in the caller's memory until taken (an indexer committing a checkpoint is slow)."""
    from concurrent.futures import ProcessPoolExecutor

    for i in range(400):
        write(tmp_path, f"m{i:03d}.py", f"def f{i}(x):\n    return x + {i}\n")
    tasks = [work.Task(c, None) for c in walk(tmp_path) if isinstance(c, FileEntry)]
    monkeypatch.setattr(work, "MIN_FILES_FOR_POOL", 1)
    monkeypatch.setattr(work, "IN_FLIGHT", 2)
    submitted = []
    real_submit = ProcessPoolExecutor.submit

    def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        if fn is work._process_batch:  # not the check that workers start
            submitted.append(taken)
        return real_submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", counted)
    taken = 0
    results = []
    for result in work.process_all(tasks, Limits(), workers=2):
        results.append(result)
        taken += 1
    batches = -(-len(tasks) // 32)
    assert len(results) == len(tasks) == 400 and len(submitted) == batches == 13
    # When each batch was submitted, the caller had taken all but the last 2 workers x 2 batches.
    assert all(len(submitted[:n + 1]) - (taken_then // 32) <= 2 * 2 + 1 for n, taken_then in enumerate(submitted))


class _StopsItsWorker:
    """A post-process step that kills the worker process running it on a chunk whose code says CRASH, as a
    segfault in a grammar would (in the calling process it raises instead, so that the test lives to fail)."""

    def __call__(self, chunks: list[Chunk]) -> int:
        if any("CRASH" in chunk.code for chunk in chunks):
            if multiprocessing.parent_process() is not None:
                os.kill(os.getpid(), signal.SIGSEGV)
            raise RuntimeError("this would have crashed the indexer")
        return len(chunks)


class _Allocates:
    """A post-process step that takes 2 GiB on a chunk whose code says BIG, as a runaway grammar does."""

    def __call__(self, chunks: list[Chunk]) -> int:
        if any("BIG" in chunk.code for chunk in chunks):
            held = bytearray(2 << 30)
            held[:: 1 << 12] = b"x" * len(held[:: 1 << 12])  # touch every page
        return len(chunks)


def test_a_file_that_crashes_its_worker_costs_that_file_not_the_run(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that dies (a segfault in a grammar's C code, the kernel's out-of-memory kill) broke the pool,
    and the files left were then processed in the indexer's own process: the crash came again there and took
    the run with it, every time the repository was indexed. The files in flight are now processed again one by
    one in a new pool; the one that stops its worker again is skipped with its reason, every other file is
    processed as usual, in order."""
    for i in range(100):
        write(tmp_path, f"m{i:03d}.py", f"def f{i}(x):\n    return x + {i}\n")
    write(tmp_path, "m050b.py", "def boom():\n    return 'CRASH'\n")
    tasks = [work.Task(c, None) for c in walk(tmp_path) if isinstance(c, FileEntry)]
    monkeypatch.setattr(work, "MIN_FILES_FOR_POOL", 1)
    monkeypatch.setattr(work, "IN_FLIGHT", 1)
    results = list(work.process_all(tasks, Limits(), workers=2, postprocess=_StopsItsWorker()))
    assert [r.path for r in results] == [t.entry.path for t in tasks]
    skipped = [r for r in results if isinstance(r, SkippedFile)]
    assert skipped == [SkippedFile("m050b.py", work.STOPPED_WORKER)]
    assert all(r.post == 1 and r.chunks for r in results if not isinstance(r, SkippedFile))


def test_a_worker_past_its_memory_limit_costs_that_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker's data is bounded (tree-sitter-python's error recovery once took 7 GB for 15 KB and was killed by
    the kernel at 24 GB): the file that goes past the bound is skipped, not the machine's memory taken."""
    for i in range(10):
        write(tmp_path, f"m{i}.py", f"def f{i}(x):\n    return x + {i}\n")
    write(tmp_path, "m5b.py", "def big():\n    return 'BIG'\n")
    tasks = [work.Task(c, None) for c in walk(tmp_path) if isinstance(c, FileEntry)]
    monkeypatch.setattr(work, "MIN_FILES_FOR_POOL", 1)
    results = list(work.process_all(tasks, Limits(), workers=2, postprocess=_Allocates(), worker_memory=1 << 30))
    skipped = [r for r in results if isinstance(r, SkippedFile)]
    assert [r.path for r in results] == [t.entry.path for t in tasks] and len(skipped) == 1
    assert skipped[0].path == "m5b.py" and "MemoryError" in skipped[0].reason


class CrashingEmbedder(FakeEmbedder):
    """Kills the process embedding a chunk whose text says CRASH, wherever it runs (a grammar's segfault)."""

    def encode_documents(self, texts):  # type: ignore[no-untyped-def]
        if any("CRASH" in text for text in texts):
            os.kill(os.getpid(), signal.SIGSEGV)
        return super().encode_documents(texts)


def _index_in_a_child(repo: Path) -> subprocess.CompletedProcess[str]:
    script = ("import json, sys\n"
              "from pathlib import Path\n"
              "from codesearch.pipeline import build_index\n"
              "from tests.test_work import CrashingEmbedder\n"
              "if __name__ == '__main__':\n"
              "    r = build_index(Path(sys.argv[1]), embedder=CrashingEmbedder())\n"
              "    print(json.dumps({'workers': r.workers, 'files': r.files, 'guarded': r.guarded,\n"
              "                      'skipped': [[s.path, s.reason] for s in r.skipped]}))\n")
    return subprocess.run([sys.executable, "-c", script, str(repo)], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[1])


def test_a_small_repository_with_a_file_that_kills_the_indexer_is_indexed_at_the_next_run(tmp_path: Path) -> None:
    """A few files are parsed in the indexer's own process (a pool costs more than the run): a file that crashes
    it crashed every run. The run leaves a mark while it parses; the next run finds it and parses in a worker,
    which skips that file with its reason and keeps the mark while the file stops its worker; once the file is
    mended, the mark goes and runs parse in their own process again."""
    from codesearch.pipeline import PARSING_MARK

    repo = tmp_path / "repo"
    for i in range(4):
        write(repo, f"m{i}.py", f"def f{i}(x):\n    return x + {i}\n")
    write(repo, "bad.py", "def bad():\n    return 'CRASH'\n")
    mark = repo / ".codesearch" / PARSING_MARK

    crashed = _index_in_a_child(repo)
    assert crashed.returncode == -signal.SIGSEGV and mark.exists()

    guarded = _index_in_a_child(repo)
    assert guarded.returncode == 0, guarded.stderr[-2000:]
    report = json.loads(guarded.stdout)
    assert report["workers"] >= 1 and report["files"] == 4 and report["guarded"]
    assert report["skipped"] == [["bad.py", work.STOPPED_WORKER]] and mark.exists()

    write(repo, "bad.py", "def bad():\n    return 'mended'\n")
    mended = json.loads(_index_in_a_child(repo).stdout)
    assert mended["workers"] >= 1 and mended["files"] == 5 and not mended["skipped"] and not mark.exists()
    write(repo, "m0.py", "def f0(x):\n    return x\n")
    again = json.loads(_index_in_a_child(repo).stdout)
    assert again["workers"] == 0 and not again["guarded"] and not mark.exists()


def test_the_index_summary_says_why_a_run_parsed_in_a_worker() -> None:
    from codesearch.pipeline import IndexReport
    from codesearch.render import index_report

    report = IndexReport(root="/r", index_dir="/r/.codesearch", files=4, workers=1, guarded=True,
                         skipped=[SkippedFile("bad.py", work.STOPPED_WORKER)])
    text = index_report(report, 0.5)
    assert "Parsed in a worker process: the last run stopped while parsing" in text
    assert f"bad.py: {work.STOPPED_WORKER}" in text
    assert "worker process" not in index_report(IndexReport(root="/r", index_dir="/r/.codesearch"), 0.5)


class _NeverEnds:
    """A post-process step that never returns on a chunk whose code says STUCK, as a grammar's error recovery that
    loops without asking the parse deadline would (in the calling process it raises, so that the test ends)."""

    def __call__(self, chunks: list[Chunk]) -> int:
        if any("STUCK" in chunk.code for chunk in chunks):
            if multiprocessing.parent_process() is None:
                raise RuntimeError("this would never have ended")
            import time

            time.sleep(3600)
        return len(chunks)


def test_a_file_that_keeps_its_worker_busy_forever_costs_that_file(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker busy past its time (generous: a minute and two per MB by default; five seconds here) is killed,
    the files it had are processed again one by one, and the one that keeps its worker busy again is skipped with
    its reason; before, the run waited for it forever."""
    import time

    for i in range(12):
        write(tmp_path, f"m{i:02d}.py", f"def f{i}(x):\n    return x + {i}\n")
    write(tmp_path, "m05b.py", "def loop():\n    return 'STUCK'\n")
    tasks = [work.Task(c, None) for c in walk(tmp_path) if isinstance(c, FileEntry)]
    monkeypatch.setattr(work, "MIN_FILES_FOR_POOL", 1)
    started = time.monotonic()
    results = list(work.process_all(tasks, Limits(), workers=2, postprocess=_NeverEnds(), stuck_seconds=(5.0, 0.0)))
    assert time.monotonic() - started < 60
    assert [r.path for r in results] == [t.entry.path for t in tasks]
    assert [r for r in results if isinstance(r, SkippedFile)] == [SkippedFile("m05b.py", work.STUCK_WORKER)]
    assert all(r.post == 1 for r in results if not isinstance(r, SkippedFile))
