"""Several repositories searched as one corpus (``MultiSearcher``, ``codesearch search Q A B``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.errors import BadQuery
from codesearch.multi import MultiSearcher, prefixes
from codesearch.pipeline import build_index
from codesearch.search import Searcher
from tests.conftest import write

PARSERS = '''
def parse_config_file(path):
    """Parse an ini config file into a dict of sections."""
    return {}


def parse_command_line(argv):
    """Parse the command line flags."""
    return argv
'''

NETWORK = '''
def retry_request(url, attempts):
    """Retry a failed http request with exponential backoff."""
    return None


def open_socket(host, port):
    """Open a tcp socket to a host."""
    return None
'''


@pytest.fixture
def two_repos(tmp_path: Path, fake_embedder) -> tuple[Path, Path]:
    first, second = tmp_path / "work" / "config", tmp_path / "work" / "net"
    write(first, "cfg/parse.py", PARSERS)
    write(second, "http/client.py", NETWORK)
    for root in (first, second):
        build_index(root, embedder=fake_embedder, workers=1)
    return first, second


def test_results_from_both_repositories_carry_their_name(two_repos, fake_embedder) -> None:
    first, second = two_repos
    with MultiSearcher([first / ".codesearch", second / ".codesearch"], fake_embedder) as multi:
        results = multi.search("retry a failed http request", k=4)
        assert multi.roots == {"config": str(first), "net": str(second)}
    assert results[0].path == "net/http/client.py" and results[0].repo == "net"
    assert results[0].qualname == "retry_request" and results[0].root == str(second)
    assert results[0].local_path == "http/client.py"
    assert {r.repo for r in results} == {"config", "net"}
    assert [r.rank for r in results] == [1, 2, 3, 4]


def test_scores_are_normalised_over_all_repositories_not_per_repository(two_repos, fake_embedder) -> None:
    """Per-repository normalisation would give each repository's best hit the same fused score."""
    first, second = two_repos
    with MultiSearcher([first / ".codesearch", second / ".codesearch"], fake_embedder) as multi:
        results = multi.search("retry a failed http request with backoff", k=4)
    fused = {r.qualname: r.scores["fused"] for r in results}
    best_elsewhere = max(s for name, s in fused.items() if name not in ("retry_request",))
    assert fused["retry_request"] > 1.5 * best_elsewhere


def test_one_index_gives_the_same_results_as_a_plain_search(two_repos, fake_embedder) -> None:
    first, _ = two_repos
    with Searcher(first / ".codesearch", fake_embedder) as one:
        plain = one.search("parse the config", k=5)
    with MultiSearcher([first / ".codesearch"], fake_embedder) as multi:
        merged = multi.search("parse the config", k=5)
    assert [(r.qualname, r.start_line) for r in merged] == [(r.qualname, r.start_line) for r in plain]
    assert all(r.path == f"config/{p.path}" for r, p in zip(merged, plain))


def test_identical_code_in_two_repositories_is_folded_with_prefixed_places(tmp_path: Path, fake_embedder) -> None:
    a, b = tmp_path / "x" / "app", tmp_path / "y" / "app"
    for root in (a, b):
        write(root, "util.py", NETWORK)
        build_index(root, embedder=fake_embedder, workers=1)
    with MultiSearcher([a / ".codesearch", b / ".codesearch"], fake_embedder) as multi:
        results = multi.search("retry failed http request", k=3)
        names = multi.names
    assert names == ["x/app", "y/app"]  # same directory name: a parent is added
    top = results[0]
    assert top.qualname == "retry_request"
    assert top.duplicates == (f"{names[1]}/util.py:2",)
    assert sum(r.qualname == "retry_request" for r in results) == 1


def test_prefixes_refuse_the_same_repository_twice(tmp_path: Path) -> None:
    assert prefixes([tmp_path / "a" / "r", tmp_path / "b" / "r", tmp_path / "s"]) == ["a/r", "b/r", "s"]
    with pytest.raises(BadQuery):
        prefixes([tmp_path / "a", tmp_path / "a"])


def test_cli_searches_several_paths_and_maps_names_to_roots(two_repos, monkeypatch) -> None:
    first, second = two_repos
    import codesearch.embed.static as static
    from tests.conftest import FakeEmbedder

    monkeypatch.setattr(static.StaticEmbedder, "default", classmethod(lambda cls: FakeEmbedder()))
    out = CliRunner().invoke(cli, ["search", "open a tcp socket", str(first), str(second), "--json", "-k", "2"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["repos"] == {"config": str(first), "net": str(second)}
    assert doc["results"][0]["path"] == "net/http/client.py"
    grep = CliRunner().invoke(cli, ["search", "open a tcp socket", str(first), str(second), "-f", "grep", "-k", "1"])
    path, line = grep.output.split(": ")[0].rsplit(":", 1)
    assert Path(path).resolve() == second / "http" / "client.py" and line == "7"  # a real file, not a name
