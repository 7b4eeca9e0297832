"""Hostile input, staleness, safety and concurrency: nothing crashes, nothing is lost."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import indexer.discover as discover
from codesearch.errors import BadQuery, CodeSearchError, IndexCorrupt
from codesearch.pipeline import build_index
from codesearch.search import Searcher
from codesearch.store.reader import IndexReader
from tests.conftest import FakeEmbedder, write


def hostile_repo(root: Path) -> Path:
    """A repository with every kind of bad input the indexer must survive."""
    write(root, "good.py", "def fine():\n    '''Works.'''\n    return 1\n")
    write(root, "binary.py", b"\x7fELF\x00\x00\x01" + bytes(range(256)))
    write(root, "latin1.py", b"# -*- coding: latin-1 -*-\ndef caf\xe9():\n    '''Caf\xe9 cr\xe8me.'''\n")
    write(root, "mixed.js", "/** ok \u00e9 */\nfunction mixed() {}\n".encode() + b"// \xff\xfe broken\nfunction after() {}\n")
    write(root, "dist/bundle.js", "var a=function(){return 1};" * 400_000)  # 10.8 MB on one line
    write(root, "dense.js", "var x=[" + "1," * 150_000 + "];\n")  # 300 kB, minified-looking
    write(root, "broken.go", "package p\nfunc ok() {}\nfunc broken( {\n")
    write(root, "broken.php", "<?php\nfunction ok() {}\nclass { function x( }\n")
    write(root, "deep.py", "".join("    " * i + f"def f{i}():\n" for i in range(200)) + "    " * 200 + "pass\n")
    write(root, "deep.js", "const v = " + "[\n" * 5000 + "]\n" * 5000 + ";\nfunction deepAfter() {}\n")
    write(root, "empty.rb", "")
    write(root, "dir with spaces/naïve café.rb", "# Greets.\ndef bonjour\nend\n")
    outside = write(root.parent / "outside", "secret.py", "def secret():\n    pass\n")
    os.symlink(outside, root / "escape.py")
    os.symlink(root / "loop", root / "loop")
    return root


def test_hostile_repository_is_indexed_without_crashing(tmp_path: Path) -> None:
    """Bad files are indexed where sensible and otherwise skipped with a reason; search works."""
    root = hostile_repo(tmp_path / "repo")
    report = build_index(root, embedder=FakeEmbedder())
    skipped = {s.path: s.reason for s in report.skipped}
    assert skipped["binary.py"].startswith("binary")
    assert skipped["dist/bundle.js"].startswith("too large")
    assert skipped["dense.js"].startswith("minified")
    assert skipped["escape.py"] == "symlink points outside the repository"
    assert skipped["loop"] == "symlink is broken or loops"
    # 200 nested defs, beyond MAX_NESTING: its grammar's symbols are refused, its lines still searchable.
    assert "deep.py" not in skipped and report.windowed["deep.py"].startswith("too deeply nested")
    with IndexReader(root / ".codesearch") as reader:
        names = {row[0] for row in reader.conn.execute("SELECT name FROM chunks")}
        indexed = set(reader.file_paths())
    # The Latin-1 file declares its encoding: `café` whole (read as UTF-8, tree-sitter ended the name at `caf`).
    assert {"fine", "café", "mixed", "after", "ok", "bonjour", "deepAfter"} <= names
    assert "secret" not in names
    assert {"empty.rb", "broken.go", "deep.js", "deep.py", "dir with spaces/naïve café.rb"} <= indexed
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        assert searcher.search("fine works", k=3)


def test_permission_denied_is_skipped_with_a_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unreadable files and directories become skip reasons (simulated: tests may run as root)."""
    write(tmp_path, "ok.py", "def ok(): pass\n")
    write(tmp_path, "locked.py", "def x(): pass\n")
    write(tmp_path, "closed/in.py", "def y(): pass\n")
    real_open, real_scandir = os.open, os.scandir

    def fake_open(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if str(path).endswith(("locked.py", "closed")):  # walk opens directories before listing them
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    def fake_scandir(path):  # noqa: ANN001, ANN202
        if str(path).endswith("closed"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(discover.os, "open", fake_open)
    monkeypatch.setattr(discover.os, "scandir", fake_scandir)
    report = build_index(tmp_path, embedder=FakeEmbedder())
    skipped = {s.path: s.reason for s in report.skipped}
    assert skipped["locked.py"] == "not readable: Permission denied"
    assert skipped["closed"] == "directory not readable: Permission denied"
    assert report.files == 1


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root, "a.py", "def alpha():\n    '''Alpha helper.'''\n    return 1\n\n\ndef beta():\n    return 2\n")
    write(root, "b.py", "def gamma():\n    '''Gamma helper.'''\n    return 3\n")
    build_index(root, embedder=FakeEmbedder())
    return root


def _search(root: Path, query: str) -> dict[str, object]:
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        return {r.qualname: r for r in searcher.search(query, k=10)}


def test_changed_file_shows_current_lines(indexed: Path) -> None:
    """A hit in a file edited after indexing carries the symbol's current lines and code."""
    (indexed / "a.py").write_text("import os\n\n\ndef alpha():\n    '''Alpha helper.'''\n    return 10\n")
    hits = _search(indexed, "alpha helper")
    assert hits["alpha"].stale and (hits["alpha"].start_line, hits["alpha"].end_line) == (4, 6)
    assert "return 10" in hits["alpha"].code
    assert "beta" not in hits  # removed from the file: never shown at a stale position
    assert not hits["gamma"].stale


def test_a_file_read_for_freshness_is_read_again_only_when_its_stat_changes(
        indexed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose ctime changed but whose bytes did not (``git checkout``, a copy of the tree) is read
    and hashed by the first search, not by the next ones (it was, at every search); an edit after that
    changes its stat and is seen at once, and an edited file is parsed again only when edited again."""
    import codesearch.freshness as freshness

    reads: list[str] = []
    real = freshness.read_inside
    monkeypatch.setattr(freshness, "read_inside", lambda r, p, m: reads.append(p) or real(r, p, m))
    os.chmod(indexed / "b.py", 0o644)  # a new ctime, the same bytes
    for _ in range(3):
        hit = _search(indexed, "gamma helper")["gamma"]
        assert not hit.stale and hit.start_line == 1
    assert reads.count("b.py") == 1
    (indexed / "b.py").write_text("\n\ndef gamma():\n    '''Gamma helper.'''\n    return 3\n")
    for _ in range(2):
        hit = _search(indexed, "gamma helper")["gamma"]
        assert hit.stale and (hit.start_line, hit.end_line) == (3, 5)
    assert reads.count("b.py") == 2
    (indexed / "b.py").write_text("def gamma():\n    '''Gamma helper.'''\n    return 3\n")  # the indexed bytes again
    hit = _search(indexed, "gamma helper")["gamma"]
    assert not hit.stale and hit.start_line == 1 and reads.count("b.py") == 3


def test_deleted_file_hits_are_dropped(indexed: Path) -> None:
    """Hits in deleted files are not shown."""
    (indexed / "b.py").unlink()
    assert "gamma" not in _search(indexed, "gamma helper")


def test_file_replaced_by_outside_symlink_is_never_read(indexed: Path, tmp_path: Path) -> None:
    """A file swapped for a link to a secret after indexing is treated as gone, not read."""
    secret = write(tmp_path, "secret.py", "def gamma():\n    '''TOP SECRET.'''\n")
    (indexed / "b.py").unlink()
    os.symlink(secret, indexed / "b.py")
    hits = _search(indexed, "gamma helper")
    assert "gamma" not in hits
    assert all("SECRET" not in r.code for r in hits.values())


def test_directory_above_a_file_swapped_for_an_outside_link_is_never_read(tmp_path: Path) -> None:
    """A hit's file is looked at from the root down without following a link: a directory above it swapped
    for a link to an outside look-alike (other content) makes the hit gone, and the look-alike is never read."""
    root = tmp_path / "repo"
    code = "def delta():\n    '''Delta helper.'''\n    return 4\n"
    write(root, "pkg/c.py", code)
    build_index(root, embedder=FakeEmbedder())
    write(tmp_path, "outside/c.py", code.replace("Delta helper", "TOP SECRET"))
    shutil.rmtree(root / "pkg")
    os.symlink(tmp_path / "outside", root / "pkg")
    hits = _search(root, "delta helper")
    assert "delta" not in hits and all("SECRET" not in r.code for r in hits.values())


def test_symlinked_index_dir_is_refused(tmp_path: Path) -> None:
    """A repo that ships .codesearch as a link cannot make us write elsewhere."""
    root = tmp_path / "repo"
    write(root, "a.py", "def a(): pass\n")
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", root / ".codesearch")
    with pytest.raises(CodeSearchError, match="symlink"):
        build_index(root, embedder=FakeEmbedder())
    assert not any((tmp_path / "elsewhere").iterdir())


def _tree_state(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else "dir"
        for p in sorted(root.rglob("*"))
    }


def test_indexing_writes_nothing_outside_the_index_dir(tmp_path: Path) -> None:
    """The repository and everything around it are byte-for-byte unchanged; only the index dir is new."""
    root = hostile_repo(tmp_path / "repo")
    write(root, ".gitignore", "!../outside/*\n!/../../*\n/../outside/secret.py\n!**\n")
    before = _tree_state(tmp_path)
    report = build_index(root, tmp_path / "idx", embedder=FakeEmbedder())
    after = _tree_state(tmp_path)
    added = set(after) - set(before)
    assert all(p.startswith("idx") for p in added), added
    assert {p: v for p, v in after.items() if not p.startswith("idx")} == before
    with IndexReader(tmp_path / "idx") as reader:
        assert all(not p.startswith("..") and not p.startswith("/") for p in reader.file_paths())
    assert "secret" not in str(report.chunks_by_language) and report.files > 0


def test_garbage_database_is_detected_and_rebuild_repairs_it(indexed: Path) -> None:
    """A corrupt index.db gives IndexCorrupt naming --rebuild; --rebuild starts afresh."""
    for suffix in ("-wal", "-shm"):
        Path(f"{indexed / '.codesearch' / 'index.db'}{suffix}").unlink(missing_ok=True)
    (indexed / ".codesearch" / "index.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(IndexCorrupt, match="--rebuild"):
        Searcher(indexed / ".codesearch", embedder=FakeEmbedder())
    with pytest.raises(IndexCorrupt, match="--rebuild"):
        build_index(indexed, embedder=FakeEmbedder())
    report = build_index(indexed, embedder=FakeEmbedder(), rebuild=True)
    assert report.chunks_total == 3


@pytest.mark.parametrize(
    "query",
    ["x" * 100_000, "\x00\x01\x02 null bytes", "emoji 🚀 and 中文 and العربية", "\u202e reversed \u200b zero width", "(" * 5000],
    ids=["100kB", "control", "unicode", "bidi", "parens"],
)
def test_odd_queries_get_results_or_a_clear_error(indexed: Path, query: str) -> None:
    """Long, binary-ish and exotic queries never crash the search path."""
    with Searcher(indexed / ".codesearch", embedder=FakeEmbedder()) as s:
        try:
            results = s.search(query, k=5)
        except BadQuery as exc:
            assert str(exc)
        else:
            assert len(results) <= 5


def _cli(*args: str, **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "codesearch.cli", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, **kwargs,  # type: ignore[arg-type]
    )


def _many_files(root: Path, n: int, variant: int = 0) -> None:
    for i in range(n):
        body = "\n".join(
            f"def handler_{i}_{j}_{variant}(request, retries={j}):\n    '''Handle request {j} of module {i}.'''\n"
            f"    return request.get('key_{j}') or retries + {variant}\n"
            for j in range(12)
        )
        write(root, f"pkg{i % 10}/mod{i}.py", body)


def _wait_for_lock_holder(index_dir: Path, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        lock = index_dir / "lock"
        if lock.exists() and lock.read_text().strip() == str(proc.pid):
            return
        time.sleep(0.02)
    raise AssertionError("the indexing process never took the lock")


@pytest.mark.slow
def test_second_concurrent_index_run_fails_clearly_or_waits(tmp_path: Path) -> None:
    """While one `codesearch index` runs, another fails with a clear message; with --wait it succeeds."""
    root = tmp_path / "repo"
    _many_files(root, 400)
    first = _cli("index", str(root), "-q")
    _wait_for_lock_holder(root / ".codesearch", first)
    second = subprocess.run([sys.executable, "-m", "codesearch.cli", "index", str(root), "-q"], capture_output=True, text=True)
    assert second.returncode == 2
    assert "another `codesearch index` is updating" in second.stderr and "Traceback" not in second.stderr
    waiting = subprocess.run([sys.executable, "-m", "codesearch.cli", "index", str(root), "-q", "--wait", "120"],
                             capture_output=True, text=True)
    assert first.wait(120) == 0 and waiting.returncode == 0, waiting.stderr
    with IndexReader(root / ".codesearch") as reader:
        assert reader.meta.count == 400 * 12 == reader.vectors().count


def test_index_files_are_written_atomically_or_not_at_all(tmp_path: Path) -> None:
    """The one writer of the vector and lexical files (``write_atomically``): a file that comes out short,
    or a write that fails half-way (ENOSPC), leaves the previous file and no temp file behind."""
    import errno

    from codesearch.store.indexdir import write_atomically

    target = tmp_path / "vectors-1.faiss"
    write_atomically(target, lambda fh: fh.write(b"old!"), 4)
    with pytest.raises(OSError) as short:
        write_atomically(target, lambda fh: fh.write(b"ne"), 4)
    assert short.value.errno == errno.EIO and "written incompletely" in str(short.value)

    def full_disk(fh: object) -> None:
        fh.write(b"n")  # type: ignore[attr-defined]
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError, match="No space"):
        write_atomically(target, full_disk, 4)
    assert target.read_bytes() == b"old!" and sorted(p.name for p in tmp_path.iterdir()) == ["vectors-1.faiss"]


def test_a_search_opens_each_directory_once_and_leaves_no_descriptor_open(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files behind a search's hits are looked at from the root down without following links, and each of
    their directories is opened once per search, not once per file (``indexer.discover.Tree``); every
    descriptor is closed when the search ends, and a directory swapped for a link is never followed."""
    root = tmp_path / "repo"
    for i in range(6):
        write(root, f"pkg/sub/m{i}.py", f"def helper_{i}():\n    '''Helper number {i}.'''\n    return {i}\n")
    build_index(root, embedder=FakeEmbedder())
    opened: list[str] = []
    real_open = discover.os.open

    def counting_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(discover.os, "open", counting_open)
    before = len(os.listdir("/proc/self/fd"))
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        hits = searcher.search("helper number", k=6)
        assert {h.path for h in hits} == {f"pkg/sub/m{i}.py" for i in range(6)}
        assert opened.count("pkg") == 1 and opened.count("sub") == 1  # six files, one walk
        (root / "pkg" / "sub").rename(root / "moved")
        (root / "pkg" / "sub").symlink_to(root / "moved")  # same files, now behind a link
        assert searcher.search("helper number", k=6) == []  # never followed: gone
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_run_that_fails_after_writing_its_vector_file_leaves_no_orphan(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk while the lexical file was written left the new generation's vector file behind (an orphan,
    as large as the vectors, on the disk that is full) until a later run succeeded: a failed run removes the
    files of the generation it did not commit, and the index stays the previous one."""
    import errno

    from codesearch.store import writer as writer_module

    root = tmp_path / "repo"
    write(root, "a.py", "def first():\n    '''The first.'''\n    return 1\n")
    build_index(root, embedder=FakeEmbedder())
    before = sorted(p.name for p in (root / ".codesearch").iterdir())
    write(root, "b.py", "def second():\n    '''The second.'''\n    return 2\n")

    def full_disk(self: object, path: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(writer_module.IndexWriter, "_write_lexical", full_disk)
    with pytest.raises(CodeSearchError):
        build_index(root, embedder=FakeEmbedder())
    assert sorted(p.name for p in (root / ".codesearch").iterdir()) == before
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        assert [h.name for h in searcher.search("first", k=5)] == ["first"]
