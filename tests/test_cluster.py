"""index-many, workspace search and serving on a real local Ray cluster (2 CPUs)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("ray")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

from codesearch.cli import cli  # noqa: E402
from codesearch.cluster import connected  # noqa: E402
from codesearch.cluster.index_many import index_many, task_pids  # noqa: E402
from codesearch.manifest import Manifest  # noqa: E402
from codesearch.multi import MultiSearcher  # noqa: E402
from codesearch.pipeline import build_index  # noqa: E402
from codesearch.store.layout import KEY_SQL  # noqa: E402
from codesearch.store.reader import IndexReader  # noqa: E402
from tests.conftest import LANGUAGES, ROOT, write  # noqa: E402

QUERIES = ["retry a failed http request", "parse a url", "connect to the database", "ParseError"]


@pytest.fixture(scope="module")
def cluster():
    with connected("local", cpus=2) as ray:
        yield ray


@pytest.fixture
def repos(tmp_path: Path) -> Path:
    """The seven sample repositories, copied (one per language)."""
    sources = tmp_path / "repos"
    for language in sorted(p for p in (ROOT / "sample_repos").iterdir() if p.is_dir()):
        shutil.copytree(language, sources / language.name, ignore=shutil.ignore_patterns(".codesearch"))
    return sources


def _results(results) -> list[tuple[str, int, str, float]]:
    return [(r.path, r.start_line, r.qualname, round(r.score, 5)) for r in results]


def _chunks(index_dir: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(index_dir / "index.db") as conn:
        return set(conn.execute(f"SELECT {KEY_SQL}, content_hash FROM chunks"))


def _check_sound(index_dir: Path) -> int:
    """The single-machine agreement check (raises IndexCorrupt); the number of chunks."""
    with IndexReader(index_dir) as reader:
        return reader.verify()


def test_index_many_equals_each_repository_indexed_alone_and_merged(cluster, repos: Path, tmp_path: Path) -> None:
    out = tmp_path / "ws"
    # shard_files=2: every repository is split into Ray shard tasks, merged by one commit;
    # pack_files=0: each its own index (packs: test_index_many_packs_small_repositories).
    report = index_many(repos, out, shard_files=2, pack_files=0)
    assert not report.failed and len(report.repos) == len(LANGUAGES)
    assert all(r.shards >= 2 for r in report.repos)
    manifest = Manifest.load(out)
    alone = {}
    for name, directory, _ in manifest.searchable():
        alone[name] = build_index(repos / name, tmp_path / "alone" / name, workers=1).index_dir
        assert _chunks(directory) == _chunks(Path(alone[name]))
        _check_sound(directory)
    names = sorted(alone)
    with MultiSearcher([Path(alone[n]) for n in names], names=names) as merged:
        expected = {q: _results(merged.search(q, 10)) for q in QUERIES}
    for query in QUERIES:
        out_json = CliRunner().invoke(cli, ["search", query, "--workspace", str(out), "--json", "-k", "10"])
        assert out_json.exit_code == 0, out_json.output
        data = json.loads(out_json.output)
        got = [(r["path"], r["start_line"], r["qualname"], round(r["score"], 5)) for r in data["results"]]
        assert got == expected[query]
        assert data["repos"]["python"] == str((repos / "python").resolve())
    assert expected["retry a failed http request"][0][0].startswith("python/")


def test_index_many_packs_small_repositories(cluster, repos: Path, tmp_path: Path) -> None:
    out = tmp_path / "ws"
    report = index_many(repos, out, pack_capacity=10_000)  # every sample repository is small: one pack
    assert not report.failed and len(report.repos) == len(LANGUAGES)
    assert report.as_dict()["packs"] == 1 and report.as_dict()["packed"] == len(LANGUAGES)
    manifest = Manifest.load(out)
    assert manifest.packs() == ["packs/pack-00001"] and not (out / "indexes").exists()
    [(name, directory, mounts)] = manifest.searchable()
    assert name == "packs/pack-00001" and sorted(mounts.roots) == sorted(LANGUAGES)
    _check_sound(directory)
    for entry in report.repos[:3]:
        alone = build_index(repos / entry.name, tmp_path / "alone" / entry.name, workers=1)
        assert (entry.files, entry.chunks) == (alone.files, alone.chunks_total) and entry.status == "indexed"
    result = CliRunner().invoke(cli, ["search", "retry a failed http request", "--workspace", str(out), "--json"])
    data = json.loads(result.output)
    top = data["results"][0]
    assert top["path"].startswith("python/") and top["repo"] == "python"
    assert top["root"] == data["repos"]["python"] == str((repos / "python").resolve())
    assert (Path(top["root"]) / top["path"][len("python/"):]).is_file()

    write(repos / "go", "extra.go", "package mux\n\n// Reverse a string.\nfunc Reverse(s string) string { return s }\n")
    write(repos / "later" / "lib", "later.py", "def later():\n    return 1\n")
    listing = tmp_path / "list.txt"
    listing.write_text(f"{repos / 'go'}\n{repos / 'later'}\n")
    second = index_many(listing, out, pack_capacity=1)  # the pack is full: the new repository starts another
    assert {r.name: (r.status, r.generation, r.changed) for r in second.repos} == {
        "go": ("indexed", 2, True), "later": ("indexed", 1, True)}
    after = Manifest.load(out).repos
    assert not after["python"].changed  # in go's pack, but none of its files changed
    go = [r for r in second.repos if r.name == "go"][0]
    assert go.files == [r for r in report.repos if r.name == "go"][0].files + 1
    assert Manifest.load(out).packs() == ["packs/pack-00001", "packs/pack-00002"]


def test_failed_repository_is_reported_and_a_rerun_updates_only_what_changed(cluster, repos: Path,
                                                                               tmp_path: Path) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text("# our repositories\nrepos/python\nrepos/go\nrepos/missing\n")
    out = tmp_path / "ws"
    first = index_many(listing, out, pack_files=0)
    status = {r.name: r.status for r in first.repos}
    assert status == {"python": "indexed", "go": "indexed", "missing": "failed"}
    assert "not a directory" in [r for r in first.repos if r.name == "missing"][0].error
    assert [n for n, _, _ in Manifest.load(out).searchable()] == ["go", "python"]

    write(repos / "go", "extra.go", "package mux\n\n// Reverse a string.\nfunc Reverse(s string) string { return s }\n")
    second = index_many(listing, out, pack_files=0)
    changed = {r.name: r.changed for r in second.repos if r.status == "indexed"}
    assert changed == {"python": False, "go": True}
    go = [r for r in second.repos if r.name == "go"][0]
    before = [r for r in first.repos if r.name == "go"][0]
    assert go.generation == 2 and go.files == before.files + 1 and go.chunks > before.chunks


def test_cli_index_many_exit_code_and_json(cluster, repos: Path, tmp_path: Path) -> None:
    out = tmp_path / "ws"
    result = CliRunner().invoke(cli, ["index-many", str(repos), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["indexed"] == len(LANGUAGES) and data["failed"] == 0 and data["chunks"] > 200
    assert "connect" in data["seconds"] and "index" in data["seconds"]
    bad = tmp_path / "list.txt"
    bad.write_text(f"{repos / 'ruby'}\n{tmp_path / 'nowhere'}\n")
    result = CliRunner().invoke(cli, ["index-many", str(bad), "--out", str(out)])
    assert result.exit_code == 1
    assert "Indexed 1 of 2 repositories" in result.output and "FAILED nowhere" in result.output


def _make_repo(root: Path, files: int, seed: int) -> None:
    rng = random.Random(seed)
    words = ["parse", "retry", "open", "close", "read", "write", "send", "cache", "load", "merge", "split"]
    for n in range(files):
        body = "\n\n".join(
            f'def {rng.choice(words)}_{rng.choice(words)}_{n}_{m}(value):\n'
            f'    """{rng.choice(words).title()} the {rng.choice(words)} of a value."""\n'
            f'    return value * {m}\n' for m in range(6))
        write(root, f"pkg{n % 7}/mod{n}.py", body)


def test_killed_workers_lose_no_repository_and_leave_no_half_index(cluster, tmp_path: Path) -> None:
    sources = tmp_path / "many"
    for n in range(6):
        _make_repo(sources / f"repo{n}", files=240, seed=n)
    out = tmp_path / "ws"
    rng = random.Random(14)
    killed: list[int] = []
    finished = threading.Event()

    def killer() -> None:
        # Three kills at random points of the run, each of a random worker busy with one of our tasks.
        for _ in range(3):
            deadline = time.monotonic() + rng.uniform(0.2, 2.5)
            while time.monotonic() < deadline and not finished.is_set():
                time.sleep(0.05)
            busy = task_pids()
            if busy and not finished.is_set():
                victim = rng.choice(busy)
                try:
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)
                except ProcessLookupError:
                    pass

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        first = index_many(sources, out, shard_files=60)
    finally:
        finished.set()
        thread.join()
    assert killed, "no worker was killed: the run ended before the first kill"
    # Whatever the first run managed, no index it left is half-written.
    for entry in first.repos:
        directory = Manifest.load(out).index_dir(entry)
        if (directory / "index.db").exists() and entry.status == "indexed":
            _check_sound(directory)
    second = index_many(sources, out, shard_files=60)
    assert [r.status for r in second.repos] == ["indexed"] * 6
    manifest = Manifest.load(out)
    assert manifest.packs() == ["packs/pack-00001"]  # six small repositories: one pack, killed and re-run
    for entry in second.repos:
        directory = manifest.index_dir(entry)
        assert _check_sound(directory) >= 240 * 6
        prefix = f"{entry.name}/"  # a pack's chunk keys start with the repository's name
        ours = {(key.removeprefix(prefix), digest) for key, digest in _chunks(directory) if key.startswith(prefix)}
        assert ours == _chunks(Path(build_index(sources / entry.name, tmp_path / "alone" / entry.name,
                                                workers=1).index_dir))


def test_serve_answers_the_json_of_the_cli(cluster, repos: Path, tmp_path: Path) -> None:
    from codesearch.cluster import serve

    out = tmp_path / "ws"
    index_many(repos, out)
    url = serve.start(out, groups=2, port=8791)
    try:
        for query in QUERIES[:3]:
            served = json.loads(urllib.request.urlopen(f"{url}?{urllib.parse.urlencode({'q': query, 'k': 5})}",
                                                       timeout=60).read())
            cli_out = CliRunner().invoke(cli, ["search", query, "--workspace", str(out), "--json", "-k", "5"])
            expected = json.loads(cli_out.output)
            served.pop("elapsed_ms"), expected.pop("elapsed_ms")
            for r in served["results"] + expected["results"]:
                r["score"] = round(r["score"], 5)
            assert served == expected
        only_go = json.loads(urllib.request.urlopen(f"{url}?q=parse+a+url&k=3&language=go", timeout=60).read())
        assert only_go["results"] and {r["language"] for r in only_go["results"]} == {"go"}
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"{url}?q=", timeout=60)
        assert error.value.code == 400 and "empty" in json.loads(error.value.read())["error"]
    finally:
        serve.stop()


def test_deep_pass_on_ray_data_fills_each_cache_as_the_single_machine_pass(cluster, repos: Path,
                                                                           tmp_path: Path) -> None:
    from codesearch.cluster.deep import deep_many
    from codesearch.deep import deep_index
    from codesearch.rerank import load_reranker

    out = tmp_path / "ws"
    index_many(repos, out, pack_files=0)
    listed = {name: directory for name, directory, _ in Manifest.load(out).searchable()}
    report = deep_many(listed)
    assert report.embedded == report.chunks > 200 and report.actors >= 1
    assert deep_many(listed).embedded == 0  # incremental, as `index --deep`
    for name in ("python", "go"):
        alone = build_index(repos / name, tmp_path / "alone" / name, workers=1).index_dir
        deep_index(Path(alone), load_reranker(None, Path(alone)))
        ours, theirs = load_reranker(None, listed[name]), load_reranker(None, Path(alone))
        keys = sorted(theirs.cache.keys(theirs.name))
        assert sorted(ours.cache.keys(ours.name)) == keys
        mine, reference = ours.cache.get(ours.name, keys), theirs.cache.get(theirs.name, keys)
        # The int8 model quantizes activations per batch, so the same text in another batch
        # gives a vector a little apart: the same vectors, not the same bits. Measured: mean 0.997, and
        # 0.989 at the least for one Go chunk once the batches held other repositories' changed texts
        # (Rust and Elixir module functions named `function`, not `method`).
        cosines = [float(mine[key] @ reference[key]) for key in keys]
        assert min(cosines) > 0.98 and sum(cosines) / len(cosines) > 0.99, sorted(cosines)[:3]


def test_router_answers_503_when_a_group_fails_and_400_for_a_bad_number() -> None:
    import asyncio

    from starlette.requests import Request

    from codesearch.cluster.serve import Router
    from codesearch.errors import IndexCorrupt

    class Broken:
        class gather:  # noqa: N801 - mimics a deployment handle's method
            @staticmethod
            async def remote(*args):
                raise IndexCorrupt("the index database in /ws/indexes/go is damaged")

    def ask(query_string: bytes):
        scope = {"type": "http", "method": "GET", "path": "/search", "query_string": query_string, "headers": []}
        return asyncio.run(Router([Broken()], {})(Request(scope)))

    failed = ask(b"q=parse+a+url")
    assert failed.status_code == 503 and "damaged" in json.loads(failed.body)["error"]
    bad = ask(b"q=parse&k=ten")
    assert bad.status_code == 400
    missing = asyncio.run(Router([Broken()], {})(Request({"type": "http", "method": "GET", "path": "/x",
                                                            "query_string": b"", "headers": []})))
    assert missing.status_code == 404


def test_cli_index_many_deep_reports_the_ray_data_pass(cluster, repos: Path, tmp_path: Path) -> None:
    out = tmp_path / "ws"
    listing = tmp_path / "list.txt"
    listing.write_text(f"{repos / 'python'}\n{repos / 'php'}\n")
    first = CliRunner().invoke(cli, ["index-many", str(listing), "--out", str(out), "--deep", "--json"])
    assert first.exit_code == 0, first.output
    deep = json.loads(first.output)["deep"]
    assert deep["embedded"] == deep["chunks"] > 50 and deep["gpus_per_actor"] == 0.0
    again = CliRunner().invoke(cli, ["index-many", str(listing), "--out", str(out), "--deep"])
    assert again.exit_code == 0 and "Deep: 0 chunks embedded" in again.output
