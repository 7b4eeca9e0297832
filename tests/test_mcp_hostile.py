"""``codesearch mcp`` on hostile ground: slow loads, a repository moved away, and bad requests.

The server runs as a subprocess spoken to in raw JSON-RPC lines; every read has a
deadline, so a server that stays silent fails the test instead of hanging it.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from codesearch.errors import CodeSearchError, RepositoryMoved
from codesearch.session import RepositorySession
from tests.conftest import SAMPLE_REPOS, FakeEmbedder, write

pytest.importorskip("mcp")

CODESEARCH = str(Path(sys.executable).with_name("codesearch"))
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "t", "version": "0"}}}
RETRY = '''def retry_request(url, attempts):
    """Retry a failed http request with exponential backoff."""
    return None
'''
HEAVY = ("codesearch.search", "codesearch.pipeline", "codesearch.related", "sqlite_utils", "pandas")
# A server whose background load waits for a gate file and first records which heavy modules were already loaded.
SLOW_LOAD = f'''
import json, sys, time
from pathlib import Path
import codesearch.session as session
root, gate, record = (Path(a) for a in sys.argv[1:4])
original = session.RepositorySession._load
def slow_load(self):
    record.write_text(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
    while not gate.exists():
        time.sleep(0.02)
    original(self)
session.RepositorySession._load = slow_load
from codesearch.mcp_server import serve
serve(root, workers=1)
'''


class Server:
    """A server subprocess, its stdout read by a thread into a queue (reads with a deadline)."""

    def __init__(self, *command: str) -> None:
        self.proc = subprocess.Popen(list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send(self, message: dict[str, Any] | str | bytes) -> None:
        assert self.proc.stdin is not None
        data = message if isinstance(message, bytes) else (
            message if isinstance(message, str) else json.dumps(message)).encode()
        self.proc.stdin.write(data + b"\n")
        self.proc.stdin.flush()

    def reply(self, timeout: float = 60) -> dict[str, Any]:
        """The next message the server writes; fails after ``timeout`` seconds of silence."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no reply within {timeout} s") from None
        if line is None:
            raise AssertionError(f"the server exited: {self.stderr()[-2000:]}")
        return json.loads(line)

    def initialize(self) -> dict[str, Any]:
        self.send(INITIALIZE)
        answer = self.reply()
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return answer

    def search(self, request_id: int, query: str = "retry a failed request") -> dict[str, Any]:
        self.send({"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                   "params": {"name": "search", "arguments": {"query": query, "k": 3}}})
        answer = self.reply()
        assert answer["id"] == request_id, answer
        return answer

    def stderr(self) -> str:
        if self.proc.poll() is None:
            self.close()
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _text(answer: dict[str, Any]) -> str:
    return answer["result"]["content"][0]["text"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(SAMPLE_REPOS / "python", root, ignore=shutil.ignore_patterns(".codesearch"))
    return root


@pytest.fixture
def server(repo: Path):
    running = Server(CODESEARCH, "mcp", str(repo), "--workers", "1")
    yield running
    running.close()


# -- 1. initialize is answered before anything heavy loads ------------------------------

def test_initialize_is_answered_before_the_load_which_starts_by_itself_and_a_tool_call_waits_for_it(
        repo: Path, tmp_path: Path) -> None:
    gate, record = tmp_path / "gate", tmp_path / "record.json"
    server = Server(sys.executable, "-c", SLOW_LOAD, str(repo), str(gate), str(record))
    try:
        assert server.initialize()["result"]["serverInfo"]["name"] == "codesearch"  # the load cannot have finished
        for _ in range(3000):  # the load starts after the reply, with no tool call to start it
            if record.exists() and record.read_text():
                break
            threading.Event().wait(0.02)
        assert record.exists(), "the session did not start loading after initialize"
        assert json.loads(record.read_text()) == []  # initialize paid for none of the heavy modules
        assert not (repo / ".codesearch").exists()
        server.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                     "params": {"name": "search", "arguments": {"query": "retry a failed request", "k": 1}}})
        server.send({"jsonrpc": "2.0", "id": 3, "method": "ping"})
        assert server.reply() == {"jsonrpc": "2.0", "id": 3, "result": {}}  # answered while the search waits
        gate.touch()  # the call waited for the load; now both finish
        answer = server.reply()
        assert answer["id"] == 2 and not answer["result"].get("isError"), answer
        assert json.loads(_text(answer))["results"]
    finally:
        server.close()


# -- 2 and 3. the repository moved, deleted, replaced, and moved back --------------------

@pytest.fixture
def ws(tmp_path: Path):
    root = tmp_path / "repo"
    write(root, "net/client.py", RETRY)
    session = RepositorySession(root, embedder=FakeEmbedder(), workers=1)
    yield session
    session.close()


def test_a_moved_deleted_or_replaced_repository_is_gone_and_nothing_is_recreated(ws: RepositorySession,
                                                                                tmp_path: Path) -> None:
    root = ws.root
    assert ws.call(ws.search, "retry a failed http request", 1)[0].qualname == "retry_request"
    root.rename(tmp_path / "moved")
    for _ in range(2):
        with pytest.raises(RepositoryMoved, match="repository gone"):
            ws.call(ws.search, "retry a failed http request", 1)
        assert not root.exists()  # neither the root nor its .codesearch was recreated
    shutil.rmtree(tmp_path / "moved")
    with pytest.raises(RepositoryMoved, match="repository gone"):
        ws.call(ws.status)
    assert not root.exists()
    write(root, "other.py", "def other():\n    return 1\n")  # another directory at the same path
    with pytest.raises(RepositoryMoved, match="repository gone"):
        ws.call(ws.search, "other", 1)
    assert sorted(p.name for p in root.iterdir()) == ["other.py"]


def test_a_repository_moved_away_and_back_is_searched_again(ws: RepositorySession, tmp_path: Path) -> None:
    root = ws.root
    assert ws.call(ws.search, "retry a failed http request", 1)
    root.rename(tmp_path / "moved")
    try:
        ws.call(ws.search, "retry a failed http request", 1)
    except CodeSearchError:
        pass
    if root.exists():  # what an older server recreated there
        shutil.rmtree(root)
    (tmp_path / "moved").rename(root)
    results = ws.call(ws.search, "retry a failed http request", 1)
    assert results and results[0].qualname == "retry_request"
    assert ws.call(ws.status)["files"] == 1


def test_the_server_answers_repository_gone_in_one_line_and_writes_nothing(server: Server, repo: Path,
                                                                          tmp_path: Path) -> None:
    server.initialize()
    assert json.loads(_text(server.search(2)))["results"]
    repo.rename(tmp_path / "moved")
    answer = server.search(3)
    assert answer["result"]["isError"] and "repository gone" in _text(answer) and "\n" not in _text(answer)
    assert not repo.exists()
    (tmp_path / "moved").rename(repo)
    assert json.loads(_text(server.search(4)))["results"]


def test_a_read_only_server_writes_nothing(repo: Path) -> None:
    server = Server(CODESEARCH, "mcp", str(repo), "--workers", "1", "--read-only")
    try:
        server.initialize()
        answer = server.search(2)
        assert answer["result"]["isError"] and "no index" in _text(answer)
    finally:
        server.close()
    assert not (repo / ".codesearch").exists()


# -- 4 and 5. bad requests get one clean error reply each, and the server lives on ------

def test_an_unknown_prompt_or_resource_is_a_clean_error_without_a_traceback(server: Server) -> None:
    server.initialize()
    server.send({"jsonrpc": "2.0", "id": 2, "method": "prompts/get", "params": {"name": "nope"}})
    answer = server.reply()
    assert answer["id"] == 2 and answer["error"]["code"] == -32602 and "nope" in answer["error"]["message"]
    server.send({"jsonrpc": "2.0", "id": 3, "method": "resources/read", "params": {"uri": "file:///etc/passwd"}})
    answer = server.reply()
    assert answer["id"] == 3 and answer["error"]["code"] == -32602
    server.send({"jsonrpc": "2.0", "id": 4, "method": "ping"})
    assert server.reply()["id"] == 4
    errors = server.stderr()
    assert "Traceback" not in errors and "raised" not in errors, errors[-3000:]


BAD_REQUESTS: list[tuple[str, Any, int, str]] = [  # (line, id of the reply, code, words in the message)
    ('{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"search","arguments":{"query":"\\ud800"}}}',
     12, -32602, "surrogate"),
    ('{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"search","arguments":{"\\udfff":"x"}}}',
     13, -32602, "surrogate"),
    ('{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}', None, -32600, "id"),
    ('{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"search"', 14, -32700, "not JSON"),
    ("{not json at all", None, -32700, "not JSON"),
    ('{"jsonrpc":"2.0","id":15,"method":"tools/call","params":[1,2]}', 15, -32602, "params"),
    ('{"jsonrpc":"2.0","id":16,"method":"tools/call","params":"search"}', 16, -32602, "params"),
    ('{"jsonrpc":"2.0","id":17}', 17, -32600, "method"),
    ('{"jsonrpc":"1.0","id":18,"method":"ping"}', 18, -32600, "jsonrpc"),
    ('{"jsonrpc":"2.0","id":19,"method":42}', 19, -32600, "method"),
    ('{"jsonrpc":"2.0","id":1.5,"method":"ping"}', None, -32600, "id"),
    ('[{"jsonrpc":"2.0","id":20,"method":"ping"}]', 20, -32600, "batch"),
    ("42", None, -32600, "object"),
    ('{"jsonrpc":"2.0","id":21,"method":"x","params":' + "[" * 100_000 + "]" * 100_000 + "}", 21, -32700, "nested"),
]


def test_every_bad_request_gets_one_clean_error_reply_and_the_server_lives_on(server: Server) -> None:
    server.initialize()
    for line, request_id, code, words in BAD_REQUESTS:
        server.send(line)
        answer = server.reply(timeout=30)
        assert answer.get("id") == request_id and answer["error"]["code"] == code, (line[:80], answer)
        assert words.lower() in answer["error"]["message"].lower() and "\n" not in answer["error"]["message"]
    server.send(b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":7}')  # a bad notification: no reply
    server.send(b'{"jsonrpc":"2.0","id":30,"method":"tools/call","params":{"name":"search","arguments":{"query":"'
                + b"x" * (9 * 1024 * 1024) + b'"}}}')
    answer = server.reply(timeout=60)
    assert answer["id"] == 30 and answer["error"]["code"] == -32600 and "longer than" in answer["error"]["message"]
    server.send(b'{"jsonrpc":"2.0","id":31,"method":"ping"}')
    assert server.reply() == {"jsonrpc": "2.0", "id": 31, "result": {}}
    assert json.loads(_text(server.search(32)))["results"]  # still searching
    errors = server.stderr()
    assert "Traceback" not in errors and "raised" not in errors, errors[-3000:]
