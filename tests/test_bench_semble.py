"""semble's benchmark format: scoring, and `codesearch bench --semble` end to end (ours, and semble itself)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from codesearch.bench.semble import Hit, Target, ndcg_at_10
from codesearch.cli import cli
from tests.conftest import write


def test_ndcg_counts_each_target_once_at_its_first_hit_and_respects_spans() -> None:
    hits = [Hit("a.py", 1, 10), Hit("b.py", 5, 9), Hit("a.py", 20, 30)]
    assert ndcg_at_10(hits, [Target("a.py")]) == 1.0
    assert ndcg_at_10(hits, [Target("b.py")]) == pytest.approx(1 / math.log2(3))
    # a span target is hit only by a result whose lines overlap it: the third hit, not the first
    assert ndcg_at_10(hits, [Target("a.py", 25, 26)]) == pytest.approx(1 / math.log2(4))
    two = ndcg_at_10(hits, [Target("a.py"), Target("c.py")])
    assert two == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert ndcg_at_10(hits, []) == 0.0


def test_ndcg_of_a_file_and_a_function_in_it_is_at_most_one() -> None:
    """A file label and a function label inside it are both hit by the function's chunk: the
    ideal ranking hits both at rank 1, so finding them there scores 1 (it scored 1.23)."""
    nested = [Target("a.py"), Target("a.py", 20, 30)]
    assert ndcg_at_10([Hit("a.py", 22, 28)], nested) == pytest.approx(1.0)
    # the file first and the function second: the function's label is found at rank 2
    assert ndcg_at_10([Hit("a.py", 1, 5), Hit("a.py", 22, 28)], nested) == pytest.approx(
        (1 + 1 / math.log2(3)) / 2)
    # two functions of one file: no result hits both, so the ideal needs two ranks
    apart = [Target("a.py", 1, 5), Target("a.py", 20, 30)]
    assert ndcg_at_10([Hit("a.py", 1, 5), Hit("a.py", 20, 30)], apart) == pytest.approx(1.0)
    # one result spanning both (a class) finds both at rank 1: capped at 1
    assert ndcg_at_10([Hit("a.py", 1, 30)], apart) == 1.0


@pytest.fixture
def bench(tmp_path: Path) -> tuple[Path, Path]:
    folder, checkouts = tmp_path / "bench", tmp_path / "checkouts"
    write(folder, "repos.json", json.dumps([{"name": "tiny", "language": "python", "url": "local",
                                             "revision": "0", "benchmark_root": "src"}]))
    write(folder, "annotations/tiny.json", json.dumps([
        {"query": "retry a failed http request with backoff", "category": "semantic",
         "relevant": ["src/net/retry.py"]},
        {"query": "parse_config", "category": "symbol", "relevant": [{"path": "src/cfg.py", "start_line": 1,
                                                                      "end_line": 2}]},
    ]))
    write(checkouts, "tiny/src/net/retry.py",
          "def retry_request(url, attempts=3):\n    '''Retry a failed HTTP request with exponential backoff.'''\n"
          "    return url\n")
    write(checkouts, "tiny/src/cfg.py", "def parse_config(path):\n    return open(path).read()\n")
    write(checkouts, "tiny/src/util.py", "def slugify(text):\n    return text.lower()\n")
    return folder, checkouts


def test_bench_semble_scores_our_search_and_semble_itself_on_the_same_set(bench: tuple[Path, Path],
                                                                           tmp_path: Path) -> None:
    """-s hybrid,semble: both systems answer the same queries and get a row each (semble only if installed)."""
    folder, checkouts = bench
    systems = "hybrid,semble"
    try:
        import semble  # noqa: F401
    except ImportError:
        systems = "hybrid"
    result = CliRunner().invoke(cli, ["bench", "--semble", str(folder), "--checkouts", str(checkouts),
                                      "-s", systems, "--json"], env={"SEMBLE_CACHE_LOCATION": str(tmp_path / "sc"),
                                                                     "CODESEARCH_CACHE": str(tmp_path / "cache")})
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout[result.stdout.index("["):])
    rows = payload[0]["systems"]
    assert set(rows) == set(systems.split(","))
    assert rows["hybrid"]["ndcg@10"] == 1.0  # both targets first on a three-file repository
    for row in rows.values():
        assert 0.0 <= row["ndcg@10"] <= 1.0 and set(row["per_category"]) == {"semantic", "symbol"}


def _bench_into(bench: tuple[Path, Path], tmp_path: Path, systems: str) -> tuple[Any, Path]:
    """`codesearch bench --semble ... -s SYSTEMS -o DIR --json` on the tiny set: the CLI's result and DIR."""
    folder, checkouts = bench
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["bench", "--semble", str(folder), "--checkouts", str(checkouts),
                                      "-s", systems, "-o", str(out), "--json"],
                                env={"CODESEARCH_CACHE": str(tmp_path / "cache")})
    assert result.exit_code == 0, result.output
    return result, out


def test_bench_semble_writes_each_query_with_its_hits(bench: tuple[Path, Path], tmp_path: Path) -> None:
    """-o DIR: per-query.json holds every query's score and first hits; results.json and --json do not."""
    result, out = _bench_into(bench, tmp_path, "hybrid,hybrid-files")
    [entry] = json.loads((out / "per-query.json").read_text())
    rows = entry["systems"]["hybrid"]
    assert {(r["query"], r["category"], r["ndcg@10"]) for r in rows} == {
        ("retry a failed http request with backoff", "semantic", 1.0), ("parse_config", "symbol", 1.0)}
    first = next(r for r in rows if r["query"] == "parse_config")
    assert first["repo"] == "tiny" and first["hits"][0] == "src/cfg.py:1-2"
    grouped = entry["systems"]["hybrid-files"][0]["hits"][0]
    assert isinstance(grouped, list) and grouped[0].startswith("src/")
    assert "per_query" not in json.loads((out / "results.json").read_text())[0]
    assert "per_query" not in json.loads(result.stdout[result.stdout.index("["):])[0]


def test_an_unknown_system_names_the_choices(bench: tuple[Path, Path]) -> None:
    folder, checkouts = bench
    result = CliRunner().invoke(cli, ["bench", "--semble", str(folder), "--checkouts", str(checkouts), "-s", "nope"])
    assert result.exit_code == 2 and "semble" in result.output and "hybrid" in result.output


def test_a_label_relative_to_the_benchmark_root_matches_by_suffix() -> None:
    """semble's suffix rule: xmonad labels `Core.hs` for `src/XMonad/Core.hs`; no partial names."""
    from codesearch.bench.semble import infer_category, path_matches

    hits = [Hit("src/XMonad/Core.hs", 1, 40), Hit("src/XMonad/Operations.hs", 1, 9)]
    assert ndcg_at_10(hits, [Target("Core.hs")]) == 1.0
    assert ndcg_at_10(hits, [Target("XMonad/Operations.hs", 5, 6)]) == pytest.approx(1 / math.log2(3))
    assert not path_matches("src/XMonad/MyCore.hs", "Core.hs")
    assert path_matches("Core.hs", "src/XMonad/Core.hs")
    assert [infer_category(q) for q in ("spawn", "how does layout work", "find the window")] == [
        "symbol", "architecture", "semantic"]


def test_a_labelled_definition_is_found_at_the_rank_of_the_first_result_overlapping_it() -> None:
    from codesearch.bench.semble import function_rank

    hits = [Hit("src/a.py", 1, 10), Hit("src/b.py", 5, 9), (Hit("src/a.py", 40, 50), Hit("src/a.py", 20, 30))]
    assert function_rank(hits, Target("a.py", 25, 26)) == 3  # the file's group holds it; the first a.py hit does not
    assert function_rank(hits, Target("src/b.py", 1, 6)) == 2
    assert function_rank(hits, Target("src/c.py", 1, 6)) is None


def test_bench_semble_reports_the_labelled_definition_beside_the_file_level_score(bench: tuple[Path, Path],
                                                                                   tmp_path: Path) -> None:
    """Our sets name the one definition that answers some questions (``function``, not scored by NDCG): the run
    reports where it was found (Recall@1, @5, MRR over those queries, and each query's rank), so that a change
    can be read at both levels, the files and the function."""
    folder, _ = bench
    rows = json.loads((folder / "annotations/tiny.json").read_text())
    rows[0]["function"] = {"path": "src/net/retry.py", "name": "retry_request", "start_line": 1, "end_line": 3}
    (folder / "annotations/tiny.json").write_text(json.dumps(rows))
    _, out = _bench_into(bench, tmp_path, "hybrid")
    [summary] = json.loads((out / "results.json").read_text())
    assert summary["systems"]["hybrid"]["function"] == {"queries": 1.0, "recall@1": 1.0, "recall@5": 1.0, "mrr": 1.0}
    [entry] = json.loads((out / "per-query.json").read_text())
    ranks = {r["query"]: r.get("function_rank", "none") for r in entry["systems"]["hybrid"]}
    assert ranks == {"retry a failed http request with backoff": 1, "parse_config": "none"}
    assert "the labelled definition" in (out / "report.md").read_text()
