"""The resident search process (``codesearch.resident``): a search it answers prints what the search in
the CLI's own process prints; a socket or directory that is not this user's alone is never used; and
without an answering process the CLI searches by itself, silently."""

from __future__ import annotations

import os
import json
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from codesearch import resident
from codesearch.cli import cli
from codesearch.resident import Resident, ResidentRunning, UnsafeRuntimeDir
from tests.conftest import write


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private, short ``XDG_RUNTIME_DIR`` (a socket's path is limited to about 100 bytes)."""
    base = Path(tempfile.mkdtemp(prefix="cs-run-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(base))
    yield base / "codesearch"
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write(tmp_path, "src/users.py", "def create_user(name):\n    '''Create a user account.'''\n")
    write(tmp_path, "src/users_test.py", "def test_create_user():\n    '''Create a user account test.'''\n")
    write(tmp_path, "tools/report.py", "def monthly_report(rows):\n    '''Sum the rows of a monthly report.'''\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    return tmp_path


@contextmanager
def serving(index_dir: Path) -> Iterator[None]:
    """A resident process for ``index_dir`` on a thread (which opens the index: SQLite connections stay
    on their thread), stopped by a ``stop`` request."""
    ready, failed = threading.Event(), []

    def serve() -> None:
        try:
            server = Resident(index_dir)
        except Exception as exc:  # handed to the test below
            failed.append(exc)
            ready.set()
            return
        ready.set()
        try:
            server.serve_forever()
        finally:
            server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(30)
    if failed:
        raise failed[0]
    try:
        yield
    finally:
        resident.ask(index_dir, {"op": "stop"})
        thread.join(10)


def searches(index_dir: Path) -> int:
    reply = resident.ask(index_dir, {"op": "status"})
    assert reply is not None and reply["ok"]
    return int(reply["searches"])


def test_a_search_it_answers_prints_what_a_search_in_process_prints(repo: Path, runtime: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """grep and text output, a subdirectory scope and the exit code 1 of nothing found are the same
    through the resident process (which counts them) as in the CLI's own process."""
    index_dir = repo / ".codesearch"
    monkeypatch.chdir(repo / "src")
    with serving(index_dir):
        cases = [("user account", ".", "--format", "grep"), ("user account", str(repo), "--all", "--fast"),
                 ("monthly report", str(repo), "-p", "nowhere/*", "--format", "grep")]
        for case in cases:
            before = searches(index_dir)
            answered = run("search", *case)
            assert searches(index_dir) == before + 1, case
            local = run("search", *case, "--no-resident")
            assert (answered.output, answered.exit_code) == (local.output, local.exit_code), case
        assert run("search", "user account", ".", "--format", "grep").output.startswith("users")
        assert run("search", "monthly report", str(repo), "-p", "nowhere/*").exit_code == 1
        status = run("resident", str(repo), "--status")
        assert status.exit_code == 0 and "chunks" in status.output
    assert run("resident", str(repo), "--status").exit_code == 1


def test_it_sees_a_new_index_generation(repo: Path, runtime: Path) -> None:
    """A function indexed after the process started is found by the next search it answers."""
    index_dir = repo / ".codesearch"
    with serving(index_dir):
        write(repo, "tools/mail.py", "def send_invoice_email(to):\n    '''Email an invoice to a customer.'''\n")
        assert run("index", str(repo), "-q").exit_code == 0
        before = searches(index_dir)
        out = run("search", "email an invoice to a customer", str(repo), "--format", "grep", "-k", "1")
        assert searches(index_dir) == before + 1 and "send_invoice_email" in out.output


def test_an_index_removed_and_built_again_is_the_one_it_answers_from(repo: Path, runtime: Path) -> None:
    """An operations review: `rm -rf .codesearch` (or `git clean -fdx`) and `codesearch index` again made a new
    database with the old generation's number, and the resident process went on answering from the deleted one
    (a new function missing; --no-resident found it). It answers from the new database now; while the index is
    gone, searches fail in one line as without it, and --stop still reaches the process."""
    import shutil

    index_dir = repo / ".codesearch"
    with serving(index_dir):
        shutil.rmtree(index_dir)
        assert run("search", "user account", str(repo)).exit_code == 2
        write(repo, "tools/mail.py", "def send_invoice_email(to):\n    '''Email an invoice to a customer.'''\n")
        assert run("index", str(repo), "-q").exit_code == 0
        before = searches(index_dir)
        out = run("search", "email an invoice to a customer", str(repo), "--format", "grep", "-k", "1")
        assert searches(index_dir) == before + 1 and "send_invoice_email" in out.output
        shutil.rmtree(index_dir)
        assert run("resident", str(repo), "--stop").exit_code == 0
        assert run("resident", str(repo), "--status").exit_code == 1


def test_a_loose_runtime_directory_is_refused(repo: Path, runtime: Path) -> None:
    """A socket directory open to others (or not a directory) makes `codesearch resident` fail in one line."""
    runtime.mkdir(mode=0o755, parents=True)
    os.chmod(runtime, 0o755)
    with pytest.raises(UnsafeRuntimeDir, match="chmod 700"):
        resident.ensure_runtime_dir()
    result = run("resident", str(repo))
    assert result.exit_code == 2 and "chmod 700" in result.output


def test_a_socket_that_is_not_private_is_never_used(repo: Path, runtime: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A socket open to others, a directory open to others, or either of another uid: the client does
    not connect, and the CLI answers by itself (the process counts no search)."""
    index_dir = repo / ".codesearch"
    path = resident.socket_path(index_dir)
    request = {"query": "user account", "k": 3, "path": str(repo), "cwd": str(repo), "format": "grep"}
    with serving(index_dir):
        assert resident.search_answer(index_dir, request) is not None
        for target, loose, private in ((path, 0o666, 0o600), (runtime, 0o755, 0o700)):
            before = searches(index_dir)
            os.chmod(target, loose)
            assert resident.search_answer(index_dir, request) is None
            assert run("search", "user account", str(repo), "--format", "grep").exit_code == 0
            os.chmod(target, private)
            assert searches(index_dir) == before
        real_uid = os.getuid()
        monkeypatch.setattr(resident.os, "getuid", lambda: real_uid + 1)
        assert resident.search_answer(index_dir, request) is None
        monkeypatch.setattr(resident.os, "getuid", lambda: real_uid)


def test_without_a_process_the_cli_searches_by_itself(repo: Path, runtime: Path) -> None:
    """No socket, or a stale one nobody listens on: no answer, and the search prints its results."""
    index_dir = repo / ".codesearch"
    assert resident.ask(index_dir, {"op": "status"}) is None
    assert run("search", "user account", str(repo), "--format", "grep").exit_code == 0
    resident.ensure_runtime_dir()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stale:
        stale.bind(str(resident.socket_path(index_dir)))
    os.chmod(resident.socket_path(index_dir), 0o600)
    assert resident.ask(index_dir, {"op": "status"}) is None
    result = run("search", "user account", str(repo), "--format", "grep")
    assert result.exit_code == 0 and "create_user" in result.output
    with serving(index_dir):  # a new process replaces the stale socket
        assert searches(index_dir) == 0


def test_it_answers_only_for_its_own_index_and_refuses_a_second_process(repo: Path, runtime: Path,
                                                                        tmp_path: Path) -> None:
    """A request naming another index, protocol or version, a rerank, or a bad value is refused (the
    client then searches by itself) and the server goes on; a second process for the same index does not start."""
    index_dir = repo / ".codesearch"
    with serving(index_dir):
        base = {"op": "search", "query": "user account", "k": 3, "path": str(repo), "cwd": str(repo)}
        assert resident.ask(index_dir, base)["ok"] is True
        assert resident.ask(index_dir, {**base, "rerank": True})["ok"] is False
        assert resident.ask(index_dir, {**base, "protocol": 99})["ok"] is False
        assert resident.ask(index_dir, {**base, "root": str(tmp_path / "elsewhere")})["ok"] is False
        for bad in ({"version": "0.0.0"}, {"k": "many"}, {"max_lines": "all"}, {"cwd": "relative"}, {"query": ""},
                    {"op": "exec"}):
            assert resident.ask(index_dir, {**base, **bad})["ok"] is False, bad
        assert searches(index_dir) == 1  # and it still answers
        with pytest.raises(ResidentRunning):
            Resident(index_dir)


def test_a_subdirectory_that_is_not_indexed_says_why_here_and_through_the_resident_process(
        repo: Path, runtime: Path) -> None:
    """A search of a subdirectory inside a skipped one (a hidden directory) says why nothing is there,
    in text and in JSON (``not_indexed``), the same with and without the resident process; exit 1."""
    write(repo, ".config/nvim/init.py", "def monthly_report_keys():\n    '''Sum the rows of a monthly report.'''\n")
    assert run("index", str(repo), "-q").exit_code == 0
    where = str(repo / ".config" / "nvim")
    hint = "No results: nothing under .config/nvim is indexed (.config: hidden directory"
    with serving(repo / ".codesearch"):
        for extra in ((), ("--no-resident",)):
            text = run("search", "monthly report", where, *extra)
            assert text.exit_code == 1 and text.output.startswith(hint), (extra, text.output)
            data = json.loads(run("search", "monthly report", where, "--json", *extra).output)
            assert data["results"] == [] and data["not_indexed"]["path"] == ".config", extra
    found = run("search", "monthly report", str(repo / "tools"), "--json", "--no-resident")
    assert "not_indexed" not in json.loads(found.output)  # found something: nothing to explain


def test_stop_says_it_stopped_the_process(repo: Path, runtime: Path) -> None:
    """`resident --stop` printed nothing on success (exit code 0); without a process it says so (exit code 1)."""
    with serving(repo / ".codesearch"):
        out = run("resident", str(repo), "--stop")
        assert out.exit_code == 0 and f"Stopped the resident process of {repo / '.codesearch'}" in out.output
    out = run("resident", str(repo), "--stop")
    assert out.exit_code == 1 and "No resident process answers for this index." in out.output


def test_json_nested_thousands_deep_does_not_stop_the_process(repo: Path, runtime: Path) -> None:
    """`[` 2,000 times then `]` 2,000 times: json.loads raised RecursionError, which ended the resident process."""
    import socket as sockets

    from codesearch.resident import socket_path

    index_dir = repo / ".codesearch"
    with serving(index_dir):
        with sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM) as conn:
            conn.settimeout(10)
            conn.connect(str(socket_path(index_dir)))
            conn.sendall(("[" * 20000 + "]" * 20000 + "\n").encode())
            conn.recv(100)
        assert searches(index_dir) == 0  # and it still answers


def test_two_index_directories_never_share_a_socket_name(tmp_path: Path) -> None:
    """A security review: the socket was named by a CRC-32 of the index's path, which a directory name can be chosen
    to match (another repository's resident process then held the victim's socket, and the victim could start
    none). Two paths of one length and one CRC-32 (found by a birthday search) get two sockets now."""
    import random
    import zlib

    from codesearch.resident import socket_path

    rng, seen = random.Random(1), {}
    for _ in range(400_000):
        path = f"{tmp_path}/{rng.getrandbits(64):016x}/.codesearch"
        other = seen.setdefault(zlib.crc32(path.encode()), path)
        if other != path:
            break
    else:
        raise AssertionError("no CRC-32 collision found")
    assert len(path) == len(other) and zlib.crc32(path.encode()) == zlib.crc32(other.encode())
    assert socket_path(Path(path)) != socket_path(Path(other))
