"""``codesearch related``: code-to-code search from a place in a file or a symbol name."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from codesearch.bench.related import Place, score
from codesearch.cli import cli
from codesearch.errors import BadQuery
from codesearch.pipeline import build_index
from codesearch.related import at_line, name_parts, named, names_related, related
from codesearch.search import Searcher
from tests.conftest import FakeEmbedder, write

FORMATTERS = '''class Formatter:
    """Base of every log formatter."""

    def format(self, record):
        """Turn a log record into a line of text."""
        raise NotImplementedError

    def format_batch(self, records):
        return "".join(self.format(r) for r in records)
'''

LINE = '''from base import Formatter


class LineFormatter(Formatter):
    def format(self, record):
        """Turn a log record into one line: time, level and message."""
        return f"{record.time} {record.level} {record.message}"
'''

UNRELATED = '''def open_socket(host, port):
    """Open a tcp socket to a host and port."""
    return None


def test_open_socket():
    assert open_socket("localhost", 80) is None
'''


@pytest.fixture
def repo(tmp_path: Path, fake_embedder: FakeEmbedder) -> Path:
    root = tmp_path / "repo"
    write(root, "base.py", FORMATTERS)
    write(root, "line.py", LINE)
    write(root, "net.py", UNRELATED)
    build_index(root, embedder=fake_embedder, workers=1)
    return root


def test_the_line_picks_the_innermost_definition(repo: Path, fake_embedder) -> None:
    with Searcher(repo / ".codesearch", fake_embedder) as searcher:
        assert at_line(searcher, repo / "base.py", 6).qualname == "Formatter.format"
        assert at_line(searcher, repo / "base.py", 1).qualname == "Formatter"
        assert at_line(searcher, "line.py", 7).qualname == "LineFormatter.format"  # relative to the root


def test_an_override_comes_first_and_the_source_and_its_class_are_left_out(repo: Path, fake_embedder) -> None:
    with Searcher(repo / ".codesearch", fake_embedder) as searcher:
        source = at_line(searcher, repo / "base.py", 4)
        results = related(searcher, source, k=5)
    assert results[0].qualname == "LineFormatter.format"
    assert "name" in results[0].scores  # the name signal lifted it
    assert not any(r.path == "base.py" and r.start_line <= 4 <= r.end_line for r in results)
    assert all(0.0 <= r.score <= 1.0 for r in results)


def test_the_source_in_another_build_is_left_out_and_results_builds_fold(tmp_path: Path, fake_embedder) -> None:
    """hono ships `dist/x.js`, `dist/cjs/x.js` and `dist/types/x.d.ts`: related code of a function was its
    own CommonJS copy and declaration first, then each related function twice. The source's copies in build
    twins of its file are the source (left out); a result's copies fold into it (``similar``)."""
    esm = ("/** Stream server-sent events to the client. */\nexport function streamSSE(c, cb) {\n"
           "  return stream(c, cb, 'text/event-stream');\n}\n")
    text = ("/** Stream plain text to the client. */\nexport function streamText(c, cb) {\n"
            "  return stream(c, cb, 'text/plain');\n}\n")
    write(tmp_path, "dist/helper/sse.js", esm)
    write(tmp_path, "dist/cjs/helper/sse.js",
          '"use strict";\n' + esm.replace("export ", "") + "exports.streamSSE = streamSSE;\n")
    write(tmp_path, "dist/types/helper/sse.d.ts",
          "/** Stream server-sent events to the client. */\n"
          "export declare function streamSSE(c: Context, cb: Callback): Response;\n")
    write(tmp_path, "dist/helper/text.js", text)
    write(tmp_path, "dist/cjs/helper/text.js",
          '"use strict";\n' + text.replace("export ", "") + "exports.streamText = streamText;\n")
    build_index(tmp_path, embedder=fake_embedder, workers=1)
    with Searcher(tmp_path / ".codesearch", fake_embedder) as searcher:
        results = related(searcher, at_line(searcher, "dist/helper/sse.js", 3), k=5)
    assert [r.qualname for r in results if r.qualname == "streamSSE"] == []
    texts = [r for r in results if r.qualname == "streamText"]
    assert len(texts) == 1 and len(texts[0].similar) == 1
    assert {texts[0].path, texts[0].similar[0].rsplit(":", 1)[0]} == {"dist/helper/text.js", "dist/cjs/helper/text.js"}


def test_the_name_signal_can_be_switched_off(repo: Path, fake_embedder) -> None:
    with Searcher(repo / ".codesearch", fake_embedder) as searcher:
        source = at_line(searcher, repo / "net.py", 1)
        on = related(searcher, source, k=5)
        off = related(searcher, source, k=5, names=False)
    assert on[0].qualname == "test_open_socket" and "name" in on[0].scores
    assert all("name" not in r.scores for r in off)


def test_search_signals_never_reach_related(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    """Related ranks by the source's vector with the kind and stubs signals and the name lift only: three
    overrides of ``format`` in one file all come before other code, none saturated as a search for the
    one plain word ``format`` would be (that signal took Recall@5 0.903 -> 0.862 on the related set)."""
    root = tmp_path / "repo"
    write(root, "base.py", FORMATTERS)
    write(root, "many.py", "\n\n".join(
        f"class {name}Formatter(Formatter):\n    def format(self, record):\n"
        f"        \"\"\"Turn a log record into {name.lower()} text.\"\"\"\n        return str(record)\n"
        for name in ("Json", "Csv", "Xml")))
    write(root, "net.py", UNRELATED)
    build_index(root, embedder=fake_embedder, workers=1)
    with Searcher(root / ".codesearch", fake_embedder) as searcher:
        results = related(searcher, at_line(searcher, root / "base.py", 4), k=5)
    assert [r.qualname for r in results[:3]] == ["JsonFormatter.format", "CsvFormatter.format", "XmlFormatter.format"]
    search_only = {"saturation", "word", "overloads", "coherence", "file_path", "file_named", "definition", "path",
                   "noise", "file_topic"}
    assert not any(search_only & set(r.scores) for r in results)


def test_symbol_lookup_by_qualified_then_plain_name(repo: Path, fake_embedder) -> None:
    with Searcher(repo / ".codesearch", fake_embedder) as searcher:
        assert [s.path for s in named(searcher, "LineFormatter.format")] == ["line.py"]
        assert sorted(s.qualname for s in named(searcher, "format")) == ["Formatter.format", "LineFormatter.format"]
        with pytest.raises(BadQuery, match="no definition named"):
            named(searcher, "nothing_like_this")


def test_bad_places_are_clear_errors(repo: Path, tmp_path: Path, fake_embedder) -> None:
    write(tmp_path, "elsewhere.py", "def f():\n    pass\n")
    write(repo, "notes.txt", "not code\n")
    with Searcher(repo / ".codesearch", fake_embedder) as searcher:
        with pytest.raises(BadQuery, match="outside the repository"):
            at_line(searcher, tmp_path / "elsewhere.py", 1)
        with pytest.raises(BadQuery, match="not in the index"):
            at_line(searcher, repo / "notes.txt", 1)
        with pytest.raises(BadQuery, match="base.py has 9 lines; line 500 is past its end"):
            at_line(searcher, repo / "base.py", 500)
        with pytest.raises(BadQuery, match="start at 1"):
            at_line(searcher, repo / "base.py", 0)


def test_an_edited_file_is_read_as_it_is_now(repo: Path, fake_embedder) -> None:
    """Lines refer to today's file; a definition the index does not know yet is embedded on the fly."""
    (repo / "net.py").write_text("\n\n\n" + UNRELATED + '''

def close_socket(sock):
    """Close a tcp socket."""
    return None
''')
    with Searcher(repo / ".codesearch", fake_embedder) as searcher:
        moved = at_line(searcher, repo / "net.py", 4)
        assert moved.qualname == "open_socket" and moved.start_line == 4 and moved.chunk_id >= 0
        new = at_line(searcher, repo / "net.py", 13)
        assert new.qualname == "close_socket" and new.chunk_id == -1
        results = related(searcher, new, k=3)
    assert results[0].qualname == "open_socket" and results[0].start_line == 4 and results[0].stale


def test_name_parts_and_relations() -> None:
    assert name_parts("TestHeaders") == ["test", "headers"]
    assert name_parts("parse_HTTPResponse2") == ["parse", "http", "response", "2"]
    assert names_related("Headers", "TestHeaders")
    assert names_related("format", "formatBatch") and names_related("format", "FORMAT")
    assert not names_related("format", "reformatted") and not names_related("TestHeaders", "Headers")
    assert not names_related("", "x")


def test_bench_scoring_counts_spans_and_caps_recall_at_five() -> None:
    hit = SimpleNamespace(local_path="a.py", start_line=10, end_line=20, kind="method")
    outline = SimpleNamespace(local_path="a.py", start_line=1, end_line=90, kind="class")
    miss = SimpleNamespace(local_path="b.py", start_line=10, end_line=20, kind="function")
    targets = [Place("a.py", 12), *(Place(f"t{i}.py", 1) for i in range(7))]
    assert score([outline, miss, hit], targets) == {"recall@5": 1 / 5, "mrr": 1 / 3}
    assert score([miss], [Place("a.py", 12)]) == {"recall@5": 0.0, "mrr": 0.0}


def test_cli_related_prints_the_source_and_json(repo: Path, monkeypatch) -> None:
    import codesearch.embed.static as static

    monkeypatch.setattr(static.StaticEmbedder, "default", classmethod(lambda cls: FakeEmbedder()))
    out = CliRunner().invoke(cli, ["related", f"{repo / 'base.py'}:4", "--json", "-k", "2"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["source"]["qualname"] == "Formatter.format"
    assert doc["results"][0]["qualname"] == "LineFormatter.format"
    text = CliRunner().invoke(cli, ["related", "--symbol", "open_socket", "-C", str(repo), "-k", "1"])
    assert text.exit_code == 0 and "Related to function open_socket" in text.output
    bad = CliRunner().invoke(cli, ["related", "base.py"])
    assert bad.exit_code == 2 and "FILE:LINE" in bad.output
    both = CliRunner().invoke(cli, ["related", "base.py:1", "--symbol", "x"])
    assert both.exit_code == 2


def test_a_symbol_is_looked_up_in_its_file_as_it_is_now(repo: Path, fake_embedder) -> None:
    """`related --symbol` read the stored definition: after an edit (renamed, moved down 30 lines) it named the old
    lines as if they were current, while FILE:LINE saw today's file."""
    write(repo, "net.py", "# moved\n" * 30 + UNRELATED)  # open_socket moved down 30 lines
    with Searcher(repo / ".codesearch", embedder=fake_embedder) as searcher:
        [moved] = named(searcher, "open_socket")
        assert (moved.start_line, moved.end_line) == (31, 33)
        write(repo, "net.py", UNRELATED.replace("open_socket", "connect_socket"))  # renamed, not indexed again
        with pytest.raises(BadQuery, match="no definition named 'open_socket' in the files as they are now"):
            named(searcher, "open_socket")


def test_a_symbol_outside_any_repository_names_the_repo_option(tmp_path: Path, monkeypatch) -> None:
    """`related --symbol X` outside a repository said to index the current directory, not how to name one."""
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(cli, ["related", "--symbol", "retry"])
    assert out.exit_code == 2 and "or give the repository with -C/--repo" in out.output, out.output
