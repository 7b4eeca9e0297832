"""Results grouped by file (``search --by-file``, MCP ``by_file``, the ``hybrid-files`` benchmark system)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from codesearch.bench import configs, queryset, semble
from codesearch.bench.metrics import ndcg_at, reciprocal_rank, recall_at
from codesearch.cli import cli
from codesearch.search import SearchResult, Searcher
from codesearch.search.files import DEPTH_FLOOR, SHOWN, by_file, depth, grouped
from codesearch.search.options import MAX_K
from tests.conftest import write


def _hit(rank: int, path: str, name: str = "f") -> SearchResult:
    return SearchResult(rank=rank, score=1.0 / rank, key=f"{path}::{name}", path=path, root="/r", language="python",
                        kind="function", name=name, qualname=name, signature="", doc="", code=f"def {name}(): pass",
                        start_line=rank, end_line=rank)


def test_files_come_in_the_order_of_their_best_hit_each_with_its_first_hits() -> None:
    ranking = [_hit(1, "a.py"), _hit(2, "a.py"), _hit(3, "b.py"), _hit(4, "a.py"), _hit(5, "a.py"),
               _hit(6, "c.py"), _hit(7, "b.py"), _hit(8, "d.py"), _hit(9, "c.py")]
    groups = by_file(ranking, files=3)
    assert [(g.rank, g.path) for g in groups] == [(1, "a.py"), (2, "b.py"), (3, "c.py")]
    assert [[h.rank for h in g.hits] for g in groups] == [[1, 2, 4], [3, 7], [6, 9]]  # d.py: a fourth file
    assert groups[0].score == 1.0 and groups[1].score == pytest.approx(1 / 3)
    assert [[h.rank for h in g.hits] for g in by_file(ranking, files=2, shown=1)] == [[1], [3]]
    assert [len(g.hits) for g in by_file(ranking, files=1, shown=0)] == [4]  # 0: every hit of the file
    assert by_file([], files=3) == []
    data = groups[1].to_dict()
    assert (data["rank"], data["path"], data["root"]) == (2, "b.py", "/r") and [h["rank"] for h in data["hits"]] == [3, 7]
    assert grouped(["x/1", "y/1", "x/2"], 5, lambda s: s.split("/")[0], shown=1) == [["x/1"], ["y/1"]]


def test_a_grouped_answer_reads_one_more_hit_per_file_than_it_shows() -> None:
    assert depth(20) == 20 * (SHOWN + 1) and depth(20, shown=4) == 100 and depth(MAX_K) == MAX_K
    assert depth(10) == depth(1) == depth(2, shown=5) == DEPTH_FLOOR == 10 * (SHOWN + 1)  # at least ten files' worth


def test_the_hits_under_a_file_do_not_depend_on_how_many_files_are_asked_for() -> None:
    """`--by-file -k 1` showed the first file's hits among the first 4 chunks only (getTask, and not runWorker,
    for ThreadPoolExecutor.java); `-k 5` the same file with three."""
    from codesearch.search.files import search_by_file

    paths = ["a.py", "b.py", "c.py", "d.py", "e.py", "a.py", "f.py", "g.py", "a.py", "h.py"]

    def search(k: int) -> list[SearchResult]:
        return [_hit(rank, path) for rank, path in enumerate(paths[:k], 1)]

    first = [[h.rank for h in search_by_file(search, files)[0].hits] for files in (1, 2, 5, 10)]
    assert first == [[1, 6, 9]] * 4


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root, "retry.py", '''
def retry_request(url, attempts=3):
    """Retry a failed HTTP request with backoff."""
    return url


def backoff_delay(attempt):
    """Seconds to wait before retrying a failed request."""
    return 2 ** attempt


def give_up(attempt, limit):
    """Whether to stop retrying a failed request."""
    return attempt >= limit
''')
    write(root, "client.py", '''
def send_request(url):
    """Send an HTTP request, retrying on failure."""
    return retry_request(url)
''')
    write(root, "db.go", "package db\n\n// Connect opens a database connection.\nfunc Connect(dsn string) error { return nil }\n")
    assert CliRunner().invoke(cli, ["index", str(root)]).exit_code == 0
    return root


def test_search_by_file_prints_each_file_once_with_its_hits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _repo(tmp_path)
    monkeypatch.chdir(root)  # paths print relative to the working directory
    run = lambda *args: CliRunner().invoke(cli, ["search", "retry a failed http request", str(root), *args])  # noqa: E731
    text = run("--by-file", "-k", "2", "--no-color", "--max-lines", "1")
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    heads = [line for line in lines if line[:3].strip().rstrip(".").isdigit()]
    assert [h.split()[1] for h in heads] == ["retry.py", "client.py"]  # two files, each named once
    assert sum("retry.py" in line for line in lines) == 1
    assert {"retry_request", "backoff_delay", "give_up"} <= {w for line in lines for w in line.split()}
    payload = json.loads(run("--by-file", "-k", "2", "--per-file", "2", "--json").output)
    assert [f["path"] for f in payload["files"]] == ["retry.py", "client.py"] and "results" not in payload
    assert [len(f["hits"]) for f in payload["files"]] == [2, 1]
    assert payload["files"][0]["score"] == payload["files"][0]["hits"][0]["score"]
    ranks = [h["rank"] for f in payload["files"] for h in f["hits"]]
    assert len(set(ranks)) == len(ranks) and ranks[0] == 1  # the chunk ranking's ranks
    jsonl = [json.loads(line) for line in run("--by-file", "-k", "3", "--format", "jsonl").output.splitlines()]
    assert [f["rank"] for f in jsonl] == [1, 2, 3] and all(f["schema_version"] == 1 for f in jsonl)
    grep = run("--by-file", "-k", "2", "--format", "grep").output.splitlines()
    assert [line.split(":")[0] for line in grep] == ["retry.py"] * 3 + ["client.py"]  # file by file
    jsonschema = pytest.importorskip("jsonschema")
    from importlib import resources

    schema = json.loads(resources.files("codesearch").joinpath("schema", "search.schema.json").read_text())
    jsonschema.validate(payload, schema)
    for line in jsonl:
        jsonschema.validate(line, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**payload, "files": [{"rank": 1, "path": "x", "root": "/", "score": 0.5, "hits": []}]},
                            schema)


def test_the_resident_answer_groups_as_the_cli_does(tmp_path: Path) -> None:
    from codesearch.resident import answer

    root = _repo(tmp_path)
    request = {"query": "retry a failed http request", "k": 2, "by_file": True, "per_file": 2, "format": "json",
               "path": str(root), "cwd": str(root)}
    with Searcher(root / ".codesearch") as searcher:
        reply = answer(searcher, request)
    assert reply["ok"] and reply["found"]
    cli_json = json.loads(CliRunner().invoke(cli, ["search", "retry a failed http request", str(root), "--by-file",
                                                   "-k", "2", "--per-file", "2", "--json"]).output)
    assert [[h["key"] for h in f["hits"]] for f in json.loads(reply["text"])["files"]] == \
        [[h["key"] for h in f["hits"]] for f in cli_json["files"]]


def test_a_file_of_hits_is_one_result_that_hits_what_any_of_them_hits() -> None:
    a1, a2, b = semble.Hit("a.py", 1, 5), semble.Hit("a.py", 40, 50), semble.Hit("b.py", 1, 9)
    targets = [semble.Target("a.py", 40, 45), semble.Target("b.py")]
    assert semble.ndcg_at_10([(a1, a2), (b,)], targets) == 1.0  # both at their file's rank
    assert semble.ndcg_at_10([a1, a2, b], targets) < 1.0  # as chunks: ranks 2 and 3
    assert semble.ndcg_at_10([(a1,), (b,)], targets) < semble.ndcg_at_10([(a1, a2), (b,)], targets)


def test_query_set_scores_equal_the_metrics_for_one_key_a_rank_and_count_a_files_keys_at_its_rank() -> None:
    rng = random.Random(7)
    for _ in range(300):
        keys = [f"k{i}" for i in range(rng.randint(0, 15))]
        rng.shuffle(keys)
        relevant = {f"k{i}" for i in rng.sample(range(20), rng.randint(1, 4))}
        got = queryset.scores([frozenset({key}) for key in keys], relevant)
        assert got == pytest.approx({"recall@5": recall_at(keys, relevant, 5), "mrr": reciprocal_rank(keys, relevant),
                                     "ndcg@10": ndcg_at(keys, relevant, 10)})
    got = queryset.scores([frozenset({"x", "a"}), frozenset({"b"})], {"a", "b"})
    assert got["recall@5"] == 1.0 and got["mrr"] == 1.0 and got["ndcg@10"] == 1.0
    assert queryset.scores([frozenset({"a", "b"})], {"a", "b"})["ndcg@10"] == 1.0  # capped


def test_the_hybrid_files_system_answers_files(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    search = configs.searchers(["hybrid-files"], tmp_path / "cache")["hybrid-files"]("repo", root)
    groups = search("retry a failed http request", 2)
    assert [g.path for g in groups] == ["retry.py", "client.py"] and len(groups[0].hits) == SHOWN
    keys = queryset.ranked_keys(groups)
    assert keys[0] == {"retry.py::retry_request", "retry.py::backoff_delay", "retry.py::give_up"}
