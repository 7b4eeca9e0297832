"""The command line: exit codes, one-line errors, JSON output, help text."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from codesearch import render
from codesearch.cli import cli
from tests.conftest import edited_db, write


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root, "net.py", 'def retry_request(url, attempts=3):\n    """Retry a failed HTTP request."""\n    return url\n')
    write(root, "db.go", "package db\n\n// Connect opens a database connection.\nfunc Connect(dsn string) error { return nil }\n")
    return root


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args))


def test_index_then_search_json(repo: Path) -> None:
    """index prints a summary; search --json returns structured results."""
    result = run("index", str(repo))
    assert result.exit_code == 0, result.output
    assert "Indexed 2 files, 3 chunks" in result.output  # two functions and Go's `package db` line
    result = run("search", "retry http request", str(repo), "--json", "-k", "2")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["query"] == "retry http request"
    first = payload["results"][0]
    assert (first["qualname"], first["path"], first["start_line"], first["end_line"]) == ("retry_request", "net.py", 1, 3)
    assert first["language"] == "python" and 0 < first["score"] <= 1 and first["rank"] == 1


def test_index_json_summary(repo: Path) -> None:
    """index --json reports counts per language and the time split."""
    payload = json.loads(run("index", str(repo), "--json").output)
    assert payload["chunks_by_language"] == {"go": 2, "python": 1}
    assert set(payload["stage_seconds_summed_over_workers"]) == {"discover", "parse", "embed", "store"}
    assert payload["wall_seconds"] > 0


def test_grep_and_text_formats(repo: Path) -> None:
    """grep format is path:line: qualname; text shows location, name and code."""
    run("index", str(repo))
    grep = run("search", "open a database connection", str(repo), "--format", "grep", "-k", "1")
    assert grep.exit_code == 0 and grep.output.strip().split(": ")[0].endswith("db.go:4")
    text = run("search", "open a database connection", str(repo), "-k", "1", "--no-color")
    assert "db.go:4-4" in text.output and "Connect" in text.output and "func Connect" in text.output


def test_filters(repo: Path) -> None:
    """--language and --path restrict results."""
    run("index", str(repo))
    out = json.loads(run("search", "retry", str(repo), "--json", "-l", "go").output)
    assert {r["language"] for r in out["results"]} == {"go"} and len(out["results"]) == 2
    out = json.loads(run("search", "retry", str(repo), "--json", "--path", "*.py").output)
    assert [r["path"] for r in out["results"]] == ["net.py"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "   "], "query is empty"),
        (["search", "retry", "-l", "cobol"], "unknown language 'cobol'"),
        (["search", "retry", "-k", "0"], "Invalid value"),
    ],
)
def test_bad_search_input(repo: Path, args: list[str], message: str) -> None:
    """Bad input gives a non-zero exit and a one-line message, no traceback."""
    run("index", str(repo))
    result = CliRunner().invoke(cli, args[:2] + [str(repo)] + args[2:])
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output


def test_empty_query_is_reported_before_looking_for_an_index(tmp_path: Path) -> None:
    """An empty query is the error to report, even where no index exists."""
    result = run("search", "", str(tmp_path))
    assert result.exit_code == 2 and "query is empty" in result.output


def test_missing_index(tmp_path: Path) -> None:
    """Searching where nothing was indexed says to run `codesearch index`."""
    result = run("search", "anything", str(tmp_path))
    assert result.exit_code == 2
    assert "no index found" in result.output and "codesearch index" in result.output


def test_index_from_another_model(repo: Path) -> None:
    """An index stamped with another model fingerprint asks for --rebuild; --rebuild fixes it."""
    run("index", str(repo))
    with edited_db(repo / ".codesearch" / "index.db") as conn:
        conn.execute("UPDATE meta SET value='other-model:123' WHERE key='model_fingerprint'")
    for args in (["search", "retry", str(repo)], ["index", str(repo)]):
        result = run(*args)
        assert result.exit_code == 2 and "--rebuild" in result.output and "other-model:123" in result.output
    assert run("index", str(repo), "--rebuild").exit_code == 0
    assert run("search", "retry", str(repo)).exit_code == 0


def test_stats(repo: Path) -> None:
    """stats --json describes the model and counts."""
    run("index", str(repo))
    info = json.loads(run("stats", str(repo), "--json").output)
    assert info["chunks"] == 3 and info["files"] == 2 and info["dim"] == 256
    assert info["chunks_by_kind"] == {"code": 1, "function": 2}
    assert info["model_fingerprint"].startswith("minilm-l6-code256:")
    text = run("stats", str(repo)).output
    assert "Chunks:  3" in text
    disk = info["disk"]
    assert disk["index_bytes"] == disk["database_bytes"] + disk["vector_bytes"] + disk["lexical_bytes"] > 0
    assert f"x the {render.byte_size(disk['source_bytes'])} of source indexed" in text


def test_byte_size_reads_as_people_write_sizes() -> None:
    assert [render.byte_size(n) for n in (0, 812, 9_500, 14_200_000, 3_100_000_000)] == [
        "0 B", "812 B", "9.5 kB", "14.2 MB", "3.1 GB"]


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_with_an_example(name: str) -> None:
    """-h works for every command, and its help carries an example."""
    result = run(name, "-h")
    assert result.exit_code == 0 and "Example:" in result.output and "codesearch" in result.output


def test_readme_next_step_activates_the_virtualenv_before_using_the_command() -> None:
    """The 'on your own code' commands come after activating .venv (the command is not on PATH otherwise)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme[readme.index("Then, on your own code"):]
    block = block[block.index("```bash"):block.index("```", block.index("```bash") + 7)]
    assert block.index("source .venv/bin/activate") < block.index("codesearch index")
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "source .venv/bin/activate" in ci and "codesearch search" in ci


def _schema() -> dict:
    from importlib import resources

    return json.loads(resources.files("codesearch").joinpath("schema", "search.schema.json").read_text())


def test_json_and_jsonl_follow_the_versioned_schema(repo: Path) -> None:
    """--json and --format jsonl validate against codesearch/schema/search.schema.json (schema_version 1)."""
    jsonschema = pytest.importorskip("jsonschema")
    run("index", str(repo))
    payload = json.loads(run("search", "retry http request", str(repo), "--fast", "--json").output)
    jsonschema.validate(payload, _schema())
    assert payload["schema_version"] == 1
    lines = run("search", "retry http request", str(repo), "--fast", "--format", "jsonl").output.splitlines()
    assert len(lines) == len(payload["results"]) >= 2
    for line in lines:
        jsonschema.validate(json.loads(line), _schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**payload, "schema_version": 2}, _schema())


def test_max_lines_and_kind(repo: Path) -> None:
    """--max-lines cuts the code field and the snippet; --kind keeps only chunks of that kind."""
    run("index", str(repo))
    cut = json.loads(run("search", "retry http request", str(repo), "--fast", "--json", "--max-lines", "1").output)
    assert all(len(r["code"].split("\n")) == 1 for r in cut["results"])
    only = json.loads(run("search", "database", str(repo), "--fast", "--json", "--kind", "code").output)
    assert only["results"] and {r["kind"] for r in only["results"]} == {"code"}
    text = run("search", "retry http request", str(repo), "--fast", "--max-lines", "1", "-k", "1", "--no-color").output
    assert text.count("\n") <= 3
