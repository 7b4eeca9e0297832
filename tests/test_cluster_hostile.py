"""Hostile input to queries, index-many's workspace and `codesearch serve`, mostly without Ray."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from codesearch.errors import BadQuery, IndexCorrupt, IndexUnavailable
from codesearch.manifest import Manifest
from codesearch.pipeline import build_index
from codesearch.query import analyse
from codesearch.search import validate_query
from tests.conftest import write

# --- 1. queries: linear analysis, a length cap -------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["A", "_", "a-", "a.", "aA", "a::", "a/", "Ab ", "x" * 50 + ".py "])
def test_a_60kb_adversarial_query_is_analysed_in_well_under_a_second(unit: str) -> None:
    text = (unit * (60_000 // len(unit) + 1))[:60_000]
    started = time.perf_counter()
    analyse(text)
    assert time.perf_counter() - started < 0.5


def test_the_linear_patterns_classify_queries_as_the_old_ones() -> None:
    """The same texts look like code and like paths as with the quadratic patterns they replace."""
    from codesearch import query

    old_camel = re.compile(r"[a-z0-9][A-Z]|[A-Z]{2,}[a-z]")
    old_path = re.compile(r"[\w.-]*/[\w./-]*|[\w-]+\.(?:py|js|jsx|mjs|cjs|ts|tsx|java|php|rb|go)\b")
    rng = random.Random(6)
    texts = ["HTTPAdapter", "parseJSON", "middleware/compress.go", "app.py", "Sinatra::Base", "x.pyc", "foo-bar.ts",
             "a.b.c.rb", "README", "/", "ABc", "-x.go", "é.py"]
    texts += ["".join(rng.choice("aAbBzZ09_-./:$ \\é") for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    texts += ["".join(rng.choice(["py", "go", ".", "/", "A", "b", "-", " ", "_"]) for _ in range(rng.randint(1, 8)))
              for _ in range(3000)]
    for text in texts:
        assert bool(query._CAMEL.search(text)) == bool(old_camel.search(text)), text
        assert query._looks_like_path(text) == bool(old_path.search(text)), text
        if text.strip():
            analyse(text)


def test_a_query_over_the_limit_is_refused_in_one_line() -> None:
    assert validate_query("x" * 2000) == "x" * 2000  # the limit: a long sentence, never a pasted file
    assert validate_query("  parse a url  ") == "parse a url"
    with pytest.raises(BadQuery, match=r"query too long \(60,000 characters; the limit is 2,000\)"):
        validate_query("  " + "x" * 60_000 + "\n")


def test_the_cli_refuses_a_long_query_before_opening_an_index(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from codesearch.cli import cli

    result = CliRunner().invoke(cli, ["search", "a" * 5000, str(tmp_path)])
    assert result.exit_code == 2 and "query too long" in result.output


# --- 2. index-many: one index directory per repository -------------------------------------------------------------


def _recorded_root(index_dir: Path) -> Path:
    """The repository an index says it belongs to."""
    from codesearch.store.reader import IndexReader

    with IndexReader(index_dir) as reader:
        return (index_dir / reader.meta.root).resolve()  # kept relative to the index


@pytest.mark.parametrize("rebuild", [False, True])
def test_repositories_named_a_slash_app_and_a__app_get_their_own_index(tmp_path: Path, rebuild: bool) -> None:
    """Both used to get indexes/a__app: without --rebuild one failed on every run, with it one
    silently overwrote the other's index."""
    manifest = Manifest(tmp_path / "ws")
    roots = [tmp_path / "src" / "a" / "app", tmp_path / "src" / "a__app"]
    for n, root in enumerate(roots):
        write(root, "m.py", f"def handler_{n}():\n    return {n}\n")
    entries = [manifest.entry_for(roots[0], "a/app"), manifest.entry_for(roots[1], "a__app")]
    assert len({manifest.index_dir(e) for e in entries}) == 2
    for entry in entries:  # what each index-many task does
        build_index(Path(entry.root), manifest.index_dir(entry), rebuild=rebuild)
    for entry in entries:
        assert _recorded_root(manifest.index_dir(entry)) == Path(entry.root)


def test_index_directories_differ_even_in_case_and_keep_a_readable_name(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "ws")
    upper = manifest.entry_for(tmp_path / "x" / "App", "App")
    lower = manifest.entry_for(tmp_path / "y" / "app", "app")  # one directory on a case-insensitive disk
    slashed = manifest.entry_for(tmp_path / "z" / "team" / "app", "team/app")
    assert upper.index == "indexes/App" and lower.index.lower() != upper.index.lower()
    assert slashed.index.startswith("indexes/team__app-") and "/" not in slashed.index[len("indexes/"):]


def test_an_existing_manifest_keeps_its_directories_and_a_shared_one_is_separated(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    repos = {
        "lib": {"root": "/src/lib", "index": "indexes/lib", "status": "indexed", "generation": 3},
        "a/app": {"root": "/src/a/app", "index": "indexes/a__app", "status": "failed", "generation": 2,
                  "updated_at": "2025-01-02T00:00:00+00:00"},
        "a__app": {"root": "/src/a__app", "index": "indexes/a__app", "status": "indexed", "generation": 2,
                   "updated_at": "2025-01-01T00:00:00+00:00"},
    }
    (workspace / "workspace.json").write_text(json.dumps({"version": 1, "repos": repos}))
    manifest = Manifest.load(workspace)
    assert manifest.repos["lib"].index == "indexes/lib" and manifest.repos["lib"].generation == 3
    assert manifest.repos["a__app"].index == "indexes/a__app"  # the one that wrote the index keeps it
    moved = manifest.repos["a/app"]
    assert moved.index != "indexes/a__app" and moved.generation == 0 and moved.status == "pending"


@pytest.mark.parametrize("index", ["../../home", "/etc", "indexes/..", "indexes/a/../../b", "other/x"])
def test_a_manifest_pointing_an_index_outside_the_workspace_is_refused(tmp_path: Path, index: str) -> None:
    entry = {"root": "/src/lib", "index": index}
    (tmp_path / "workspace.json").write_text(json.dumps({"version": 1, "repos": {"lib": entry}}))
    with pytest.raises(IndexCorrupt, match="not a directory of indexes/"):
        Manifest.load(tmp_path)


# --- 3. a full disk while saving the manifest ----------------------------------------------------------------------


def test_a_full_disk_while_saving_the_manifest_fails_in_one_line_and_keeps_the_previous_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = Manifest(tmp_path / "ws")
    manifest.entry_for(tmp_path / "src" / "lib", "lib")
    manifest.save()
    before = manifest.path.read_bytes()
    manifest.entry_for(tmp_path / "src" / "other", "other")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(IndexUnavailable, match="No space left on device.*free some disk space") as error:
        manifest.save()
    assert "\n" not in str(error.value)
    assert manifest.path.read_bytes() == before
    assert [p.name for p in manifest.directory.iterdir()] == ["workspace.json"]


# --- 5. serve: who may ask, and one damaged index ------------------------------------------------------------------


class _Handle:
    """A deployment handle's stand-in: ``handle.gather.remote(...)`` awaits the group's method."""

    class _Method:
        def __init__(self, fn: Any) -> None:
            self.remote = fn

    def __init__(self, group: Any) -> None:
        self.gather, self.fill = self._Method(group.gather), self._Method(group.fill)


def _ask(router: Any, query_string: bytes = b"q=parse+a+url", method: str = "GET",
         headers: dict[str, str] | None = None) -> Any:
    from starlette.requests import Request

    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {"host": "127.0.0.1:8765"}).items()]
    scope = {"type": "http", "method": method, "path": "/search", "query_string": query_string, "headers": raw}
    return asyncio.run(router(Request(scope)))


def test_the_router_answers_only_get_from_its_own_host_and_origin() -> None:
    pytest.importorskip("starlette")
    from codesearch.cluster.serve import Router

    router = Router([], {})
    assert _ask(router, method="POST").status_code == 405
    assert _ask(router, method="DELETE").headers["allow"] == "GET, HEAD"
    rebinding = _ask(router, headers={"host": "evil.example:8765"})
    assert rebinding.status_code == 403 and "Host" in json.loads(rebinding.body)["error"]
    assert _ask(router, headers={"host": "localhost:9999"}).status_code == 403  # another port
    for origin in ("http://evil.example", "null", "http://127.0.0.1:8766"):
        assert _ask(router, headers={"host": "127.0.0.1:8765", "origin": origin}).status_code == 403
    assert _ask(router, headers={"host": "localhost:8765", "sec-fetch-site": "cross-site"}).status_code == 403
    for host in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765", "localhost"):
        # allowed through the checks: no group, so "no repository answered"-free empty search
        assert _ask(router, headers={"host": host, "origin": f"http://{host}"}).status_code == 200, host


def test_the_guard_allows_the_bound_host_and_any_ip_when_listening_on_all() -> None:
    from codesearch.cluster.serve import Guard

    assert Guard("10.0.0.5", 80).refusal("GET", {"host": "10.0.0.5"}) is None
    assert Guard("10.0.0.5", 80).refusal("GET", {"host": "10.0.0.6"}) is not None
    assert Guard("0.0.0.0", 8765).refusal("GET", {"host": "192.168.1.4:8765"}) is None
    assert Guard("0.0.0.0", 8765).refusal("GET", {"host": "rebind.example:8765"})[0] == 403
    assert Guard("search.internal", 8765).refusal("HEAD", {"host": "SEARCH.internal:8765"}) is None


def test_a_token_is_asked_of_every_request_when_set() -> None:
    pytest.importorskip("starlette")
    from codesearch.cluster.serve import Guard, Router

    router = Router([], {}, guard=Guard(token="s3cret"))
    missing = _ask(router)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert _ask(router, headers={"host": "127.0.0.1:8765", "authorization": "Bearer wrong"}).status_code == 401
    assert _ask(router, headers={"host": "127.0.0.1:8765", "authorization": "Bearer s3cret"}).status_code == 200


def test_the_serve_command_takes_a_token_from_the_environment() -> None:
    from click.testing import CliRunner

    from codesearch.cli import cli

    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert "--token" in result.output and "CODESEARCH_SERVE_TOKEN" in result.output


def _two_repositories(tmp_path: Path) -> list[tuple[str, Path]]:
    out = []
    for name, body in (("web", 'def parse_url(text):\n    """Parse a url into its parts."""\n    return text\n'),
                       ("db", 'def parse_dsn(text):\n    """Parse a database url."""\n    return text\n')):
        write(tmp_path / "src" / name, "m.py", body)
        out.append((name, Path(build_index(tmp_path / "src" / name, tmp_path / "ws" / name).index_dir)))
    return out


def test_one_damaged_index_is_one_repositorys_error_and_the_others_answer(tmp_path: Path) -> None:
    pytest.importorskip("starlette")
    from codesearch.cluster.serve import Router, ShardGroup

    (web, web_dir), (db, db_dir) = _two_repositories(tmp_path)
    (db_dir / "index.db").write_bytes(b"this is not a database" * 100)  # damaged before the replica starts
    group = ShardGroup([db, web], [str(db_dir), str(web_dir)])
    router = Router([_Handle(group)], {}, [[db, web]])
    for query in (b"q=parse+a+url", b"q=parse+a+url&language=python&path=*.py"):
        answer = _ask(router, query)
        assert answer.status_code == 200, answer.body
        data = json.loads(answer.body)
        assert data["results"] and {r["repo"] for r in data["results"]} == {"web"}
        assert [e["repo"] for e in data["errors"]] == ["db"]
    assert _ask(router, b"q=parse&language=klingon").status_code == 400  # a bad filter is still the query's


def test_an_index_failing_during_a_search_or_a_whole_group_failing_is_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("starlette")
    from codesearch.cluster.serve import Router, ShardGroup

    (web, web_dir), (db, db_dir) = _two_repositories(tmp_path)
    healthy = ShardGroup([web], [str(web_dir)])
    failing = ShardGroup([db], [str(db_dir)])

    def damaged(*args: Any, **kwargs: Any) -> Any:
        raise IndexCorrupt(f"the index database in {db_dir} is damaged")

    monkeypatch.setattr(failing.searchers[db], "first_stage", damaged)
    router = Router([_Handle(healthy), _Handle(failing)], {}, [[web], [db]])
    data = json.loads(_ask(router).body)
    assert {r["repo"] for r in data["results"]} == {"web"} and data["errors"][0]["repo"] == "db"
    assert "damaged" in data["errors"][0]["error"]

    class Dead:  # a group whose replica died: Ray raises for the call
        class gather:  # noqa: N801 - mimics a deployment handle's method
            @staticmethod
            async def remote(*args: Any) -> Any:
                raise RuntimeError("The actor died unexpectedly before finishing this task.")

    data = json.loads(_ask(Router([_Handle(healthy), Dead()], {}, [[web], [db]])).body)
    assert {r["repo"] for r in data["results"]} == {"web"} and data["errors"] == [
        {"repo": "db", "error": "The actor died unexpectedly before finishing this task."}]
    everything = _ask(Router([Dead()], {}, [[db]]))
    assert everything.status_code == 503 and "db: The actor died" in json.loads(everything.body)["error"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="the watchdog reads /proc (Linux)")
def test_a_killed_driver_leaves_no_ray_process_behind(tmp_path: Path) -> None:
    """kill -9 of a driver holding a local cluster: its watchdog kills the leftovers (Ray's two agents
    lingered 60 s before) within seconds."""
    pytest.importorskip("ray")
    from codesearch.cluster.reaper import descendants

    ready = tmp_path / "ready"
    code = ("import pathlib, sys, time\n"
            "from codesearch.cluster import connected\n"
            "with connected('local', cpus=1):\n"
            "    time.sleep(3)  # the raylet starts its agents\n"
            f"    pathlib.Path({str(ready)!r}).write_text('x')\n"
            "    time.sleep(120)\n")
    driver = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while not ready.exists():
            assert driver.poll() is None and time.monotonic() < deadline, "the driver did not start Ray"
            time.sleep(0.2)
        time.sleep(1.5)  # one more refresh of the watchdog's list
        family = set(descendants(driver.pid))
        assert len(family) >= 4  # gcs, raylet, agents, the watchdog ...
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
        deadline = time.monotonic() + 15
        alive = family
        while alive and time.monotonic() < deadline:
            time.sleep(0.5)
            alive = {pid for pid in family if Path(f"/proc/{pid}").exists()
                     and Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"}
        assert not alive, f"still running after the driver died: {sorted(alive)}"
    finally:
        if driver.poll() is None:
            driver.kill()


def test_index_many_registers_each_index_in_the_drivers_registry(tmp_path: Path) -> None:
    """Workers on another machine have their own trust registry: the driver registers every index its
    tasks built, so the workspace is searched without a 'not built by you' refusal."""
    pytest.importorskip("ray")
    for name in ("alpha", "beta"):
        write(tmp_path / "repos" / name, "net.py", "def retry_request(url):\n    return url\n")
    code = ("import json, os, sys\n"
            "import ray\n"
            "from codesearch.cluster import connected\n"
            "from codesearch.cluster.index_many import index_many\n"
            "from codesearch.store import trust\n"
            "from codesearch.manifest import Manifest\n"
            f"ray.init(num_cpus=1, include_dashboard=False, runtime_env={{'env_vars': {{'CODESEARCH_STATE': "
            f"{str(tmp_path / 'worker-state')!r}}}}})\n"
            "with connected('local'):\n"
            f"    report = index_many({str(tmp_path / 'repos')!r}, {str(tmp_path / 'ws')!r})\n"
            f"manifest = Manifest.load({str(tmp_path / 'ws')!r})\n"
            "ids = []\n"
            "for entry in manifest.repos.values():\n"
            "    import sqlite3\n"
            "    db = sqlite3.connect(manifest.index_dir(entry) / 'index.db')\n"
            "    ids.append(db.execute(\"select value from meta where key = ?\", (trust.ID_KEY,)).fetchone()[0])\n"
            "print(json.dumps({'statuses': [e.status for e in report.repos],\n"
            "                  'registered': [trust.lookup(i) is not None for i in ids]}))\n")
    env = {**os.environ, "CODESEARCH_STATE": str(tmp_path / "driver-state")}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"statuses": ["indexed", "indexed"], "registered": [True, True]}
    assert (tmp_path / "worker-state").is_dir()  # the tasks really registered elsewhere too
