"""A file changed since indexing is parsed again by the searching process: bytes that kill it cost one search."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codesearch import reparse
from codesearch.pipeline import build_index
from tests.conftest import FakeEmbedder

ROOT = Path(__file__).resolve().parents[1]


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _search_in_a_child(repo: Path, query: str) -> subprocess.CompletedProcess[str]:
    """A search in its own process whose parser dies (SIGSEGV, as a grammar's C code would) on bytes saying CRASH."""
    script = ("import json, os, signal, sys\n"
              "from pathlib import Path\n"
              "import indexer.chunk as chunk\n"
              "real = chunk.chunks_or_windows\n"
              "def crashing(source, *args):\n"
              "    if b'CRASH' in source.source:\n"
              "        os.kill(os.getpid(), signal.SIGSEGV)\n"
              "    return real(source, *args)\n"
              "chunk.chunks_or_windows = crashing\n"
              "from codesearch.search import Searcher\n"
              "from tests.conftest import FakeEmbedder\n"
              "with Searcher(Path(sys.argv[1]) / '.codesearch', embedder=FakeEmbedder()) as s:\n"
              "    print(json.dumps({r.qualname: r.stale for r in s.search(sys.argv[2], k=10)}))\n")
    return subprocess.run([sys.executable, "-c", script, str(repo), query], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_a_search_that_dies_parsing_a_changed_file_costs_one_search(tmp_path: Path) -> None:
    """A file edited after indexing into bytes that kill the parser killed every search that met one of its hits
    (an MCP server once, then at each restart). The first search dies; the next ones drop that file's hits and
    show the rest; once the file changes again, it is parsed and its hits come back."""
    repo = tmp_path / "repo"
    write(repo, "a.py", "def alpha():\n    '''Alpha helper.'''\n    return 1\n")
    write(repo, "b.py", "def gamma():\n    '''Gamma helper.'''\n    return 3\n")
    build_index(repo, embedder=FakeEmbedder())
    write(repo, "a.py", "def alpha():\n    '''Alpha helper.'''\n    return 'CRASH'\n")

    died = _search_in_a_child(repo, "alpha gamma helper")
    assert died.returncode == -signal.SIGSEGV, died.stderr[-2000:]
    for _ in range(2):
        after = _search_in_a_child(repo, "alpha gamma helper")
        assert after.returncode == 0, after.stderr[-2000:]
        assert json.loads(after.stdout) == {"gamma": False}  # a.py's hit dropped, as a file gone

    write(repo, "a.py", "\n\ndef alpha():\n    '''Alpha helper.'''\n    return 'mended'\n")
    mended = _search_in_a_child(repo, "alpha gamma helper")
    assert mended.returncode == 0 and json.loads(mended.stdout) == {"alpha": True, "gamma": False}


def test_a_parse_that_ends_leaves_no_mark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESEARCH_STATE", str(tmp_path / "state"))
    assert reparse.guarded("python", "ab" * 20, lambda: 42) == 42
    with pytest.raises(ValueError):
        reparse.guarded("python", "cd" * 20, _raises)
    marks = tmp_path / "state" / reparse.MARKS_DIR
    assert list(marks.iterdir()) == [] and (marks.stat().st_mode & 0o777) == 0o700
    assert reparse.guarded("python", "cd" * 20, lambda: 7) == 7  # an exception is no crash: parsed again


def _raises() -> None:
    raise ValueError("a parser bug")


def _hold(state: str, started: str, seconds: float) -> None:
    os.environ["CODESEARCH_STATE"] = state

    def parse() -> str:
        Path(started).touch()
        time.sleep(seconds)
        return "held"

    reparse.guarded("python", "ef" * 20, parse)


def _holder(tmp_path: Path, seconds: float) -> tuple[subprocess.Popen[bytes], Path]:
    started = tmp_path / "started"
    code = (f"from tests.test_reparse import _hold; _hold({str(tmp_path / 'state')!r}, {str(started)!r}, "
            f"{seconds})")
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    deadline = time.monotonic() + 60
    while not started.exists():
        assert holder.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    return holder, started


def test_a_parse_another_process_is_running_is_waited_for_not_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESEARCH_STATE", str(tmp_path / "state"))
    holder, _ = _holder(tmp_path, 1.0)
    try:
        assert reparse.guarded("python", "ef" * 20, lambda: "mine") == "mine"
    finally:
        holder.wait(60)
    assert holder.returncode == 0


def test_a_parse_another_process_runs_for_too_long_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESEARCH_STATE", str(tmp_path / "state"))
    monkeypatch.setattr(reparse, "WAIT_SECONDS", 0.2)
    holder, _ = _holder(tmp_path, 30.0)
    try:
        called: list[bool] = []
        assert reparse.guarded("python", "ef" * 20, lambda: called.append(True)) is reparse.REFUSED and not called
        holder.kill()
        holder.wait(60)
        # killed while parsing: its mark stays, and those bytes are refused without waiting
        assert reparse.guarded("python", "ef" * 20, lambda: called.append(True)) is reparse.REFUSED and not called
        assert reparse.guarded("python", "01" * 20, lambda: "other bytes") == "other bytes"
    finally:
        if holder.poll() is None:
            holder.kill()


def test_marks_that_cannot_be_kept_safely_leave_parsing_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A state directory that is a link, or a mark planted as a link, is not used: the file is parsed as before
    the marks, and nothing is written through the link."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "linked").symlink_to(elsewhere)
    monkeypatch.setenv("CODESEARCH_STATE", str(tmp_path / "linked"))
    assert reparse.guarded("python", "ab" * 20, lambda: 1) == 1
    assert list(elsewhere.iterdir()) == []

    monkeypatch.setenv("CODESEARCH_STATE", str(tmp_path / "state"))
    marks = tmp_path / "state" / reparse.MARKS_DIR
    marks.mkdir(parents=True)
    target = tmp_path / "secret"
    target.write_text("keep")
    (marks / reparse.mark_name("python", "ab" * 20)).symlink_to(target)
    assert reparse.guarded("python", "ab" * 20, lambda: 2) == 2
    assert target.read_text() == "keep"
