"""Files without a grammar (issue 22): a Dockerfile, a Makefile, a SQL migration or a script are
indexed as line windows named by the file, reported as indexed without a grammar; binary,
minified, lock, vendored and unknown files stay out."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.pipeline import build_index
from codesearch.render import index_report
from codesearch.search import Searcher
from indexer.chunk import MAX_CODE_CHARS, MAX_GAP_LINES, text_symbols
from indexer.discover import walk
from indexer.languages import TEXT_LANGUAGE
from indexer.types import SourceFile, UnsupportedFile
from tests.conftest import FakeEmbedder, write

DOCKERFILE = ("FROM python:3.12-slim\nRUN pip install uv\n\n"
              "COPY . /app\nWORKDIR /app\nCMD [\"python\", \"-m\", \"app\"]\n")
MAKEFILE = "build:\n\tgo build ./...\ntest:\n\tgo test ./...\n"
MIGRATION = ("CREATE TABLE users (\n    id INTEGER PRIMARY KEY,\n    email TEXT NOT NULL UNIQUE\n);\n\n"
             "CREATE INDEX users_email ON users (email);\n")


def _windows(name: str, text: str) -> list[tuple[int, int, str]]:
    """(start line, end line, code) of each window of a text file."""
    symbols = text_symbols(SourceFile(name, TEXT_LANGUAGE, text.encode()))
    lines = text.split("\n")
    for s in symbols:  # every window holds exactly the lines it claims
        assert s.code == "\n".join(lines[s.start_line - 1 : s.end_line]) and s.name == f"<{name}>"
        assert s.end_line - s.start_line < MAX_GAP_LINES
    return [(s.start_line, s.end_line, s.code) for s in symbols]


def test_dockerfile_makefile_and_migration_are_indexed_and_found(tmp_path: Path) -> None:
    """The three files are `code` chunks in language `text`, named by the file; a search finds the
    migration, and `language="text"` keeps the Python out."""
    write(tmp_path, "Dockerfile", DOCKERFILE)
    write(tmp_path, "Makefile", MAKEFILE)
    write(tmp_path, "migrations/001_users.sql", MIGRATION)
    write(tmp_path, "app.py", "def create_user(email):\n    '''Insert a user.'''\n    return email\n")
    report = build_index(tmp_path, embedder=FakeEmbedder())
    assert report.files_by_language == {"python": 1, TEXT_LANGUAGE: 3} and report.files_without_grammar == 3
    with Searcher(tmp_path / ".codesearch", embedder=FakeEmbedder()) as searcher:
        hits = searcher.search("create table users email unique", k=5, language="text")
        docker = searcher.search("dockerfile workdir copy app", k=1)
    assert {h.language for h in hits} == {TEXT_LANGUAGE}
    top = hits[0]
    assert (top.path, top.qualname, top.kind, top.start_line, top.end_line) == \
        ("migrations/001_users.sql", "<001_users.sql>", "code", 1, 6)
    assert (docker[0].path, docker[0].qualname) == ("Dockerfile", "<Dockerfile>")


def test_windows_end_before_a_target_back_at_column_zero() -> None:
    """A long Makefile without blank lines is cut before targets (after their recipes), never inside one."""
    text = "".join(f"target_{i}: deps_{i}\n\t@echo building target {i} with its long command line\n"
                   f"\tcc -o out/{i} src/{i}.c\n" for i in range(40))
    windows = _windows("Makefile", text)
    assert len(windows) > 2
    assert all(re.match(r"target_\d+:", code) and code.split("\n")[-1].startswith("\tcc ") for _, _, code in windows)
    assert all(len(code) <= MAX_CODE_CHARS for _, _, code in windows)
    assert [start for start, _, _ in windows[1:]] == [end + 1 for _, end, _ in windows[:-1]]  # nothing lost


def test_windows_end_at_blank_lines() -> None:
    """Paragraphs of lines at column 0 (Dockerfile stages) are windows' edges; a short file is one window."""
    stage = "FROM golang:1.{i} AS stage{i}\n" + "".join(f"RUN go install example.com/tool{{i}}/cmd{c}@latest\n"
                                                         for c in range(8))
    windows = _windows("Dockerfile", "\n".join(stage.format(i=i) for i in range(8)))
    assert len(windows) > 2
    assert all(code.startswith("FROM golang") and code.endswith("@latest") for _, _, code in windows)
    assert _windows("Dockerfile", DOCKERFILE) == [(1, 6, DOCKERFILE.rstrip("\n"))]


def test_windows_do_not_start_at_a_closing_bracket() -> None:
    """SQL statements at column 0 end with `);` there: that line closes a block, the next one starts one."""
    table = "CREATE TABLE t{i} (\n" + "".join(f"    column_{{i}}_{c} TEXT NOT NULL,\n" for c in range(8)) + ");\n"
    windows = _windows("schema.sql", "".join(table.format(i=i) for i in range(12)))
    assert len(windows) > 2
    assert all(code.startswith("CREATE TABLE") and code.endswith(");") for _, _, code in windows)


def test_a_block_longer_than_a_window_is_cut_before_its_least_indented_line() -> None:
    """A YAML mapping of 100 lines without a blank line or a top-level key is cut at `  test:`."""
    steps = "".join(f"      - run: echo step {i}\n" for i in range(45))
    text = "jobs:\n  build:\n    steps:\n" + steps + "  test:\n    steps:\n" + steps
    windows = _windows("ci.yml", text)
    assert [(start, end) for start, end, _ in windows][:2] == [(1, 48), (49, 95)]
    assert windows[1][2].startswith("  test:")


def test_binary_minified_lock_vendored_and_unknown_files_stay_out(tmp_path: Path) -> None:
    """A SQL file with NUL bytes and a YAML file with a 6,000-character line are skipped as today;
    lock files, JSON, prose and unknown extensions are not indexed at all; a notebook is counted."""
    write(tmp_path, "dump.sql", b"CREATE TABLE t (x BLOB);\n\0\0\0")
    write(tmp_path, "bundle.yaml", "data: " + "x" * 6000 + "\n")
    write(tmp_path, "vendor/lib.sql", "SELECT 1;\n")
    for name in ("pnpm-lock.yaml", ".terraform.lock.hcl", "package-lock.json", "README.md", "data.xyz",
                 "notes.txt", "Cargo.lock"):
        write(tmp_path, name, "key: value\n")
    write(tmp_path, "analysis.ipynb", '{"cells": []}\n')
    report = build_index(tmp_path, embedder=FakeEmbedder())
    skipped = {s.path: s.reason for s in report.skipped}
    assert skipped["dump.sql"].startswith("binary") and skipped["bundle.yaml"].startswith("minified")
    assert skipped["vendor"] == "vendored dependencies"
    assert set(skipped) == {"dump.sql", "bundle.yaml", "vendor"}
    assert report.files == 0 and report.unsupported == {".ipynb": 1}


def test_extensionless_scripts_are_indexed_by_their_shebang(tmp_path: Path) -> None:
    """`#!/usr/bin/env python3` is parsed as Python, `#!/usr/bin/perl` read as text, a Gemfile as Ruby;
    a LICENSE is not a script, and autoconf's `configure` beside `configure.ac` is build output (its source,
    `configure.ac`, is read as text)."""
    write(tmp_path, "bin/serve", "#!/usr/bin/env python3\ndef serve(port):\n    return port\n")
    write(tmp_path, "bin/report", "#!/usr/bin/perl\nprint \"weekly report\";\n")
    write(tmp_path, "Gemfile", "source 'https://rubygems.org'\ngem 'rails'\n")
    write(tmp_path, "LICENSE", "MIT License\n")
    write(tmp_path, "configure", "#! /bin/sh\necho generated\n")
    write(tmp_path, "configure.ac", "AC_INIT([x], [1])\n")
    found = {e.path: getattr(e, "language", getattr(e, "reason", "")) for e in walk(tmp_path)
             if not isinstance(e, UnsupportedFile)}
    assert found == {"bin/serve": "python", "bin/report": TEXT_LANGUAGE, "Gemfile": "ruby",
                     "configure": "build output (generated from configure.ac)", "configure.ac": TEXT_LANGUAGE}
    build_index(tmp_path, embedder=FakeEmbedder())
    with Searcher(tmp_path / ".codesearch", embedder=FakeEmbedder()) as searcher:
        assert searcher.search("serve port", k=1)[0].qualname == "serve"
        assert searcher.search("weekly report", k=1, language="text")[0].path == "bin/report"


def test_index_report_and_stats_count_the_files_without_a_grammar(tmp_path: Path) -> None:
    """`index` says how many files were indexed without a grammar; so do `stats` and `stats --json`."""
    write(tmp_path, "Dockerfile", DOCKERFILE)
    write(tmp_path, "db/001_users.sql", MIGRATION)
    write(tmp_path, "app.py", "def ok():\n    return 1\n")
    report = build_index(tmp_path, embedder=FakeEmbedder())
    assert "2 files indexed without a grammar" in index_report(report, 0.1)
    runner = CliRunner()
    stats = json.loads(runner.invoke(cli, ["stats", str(tmp_path), "--json"]).output)
    assert stats["files_without_grammar"] == 2 and stats["files_by_language"] == {"python": 1, TEXT_LANGUAGE: 2}
    assert "2 files indexed without a grammar" in runner.invoke(cli, ["stats", str(tmp_path)]).output


def test_a_file_its_grammar_refuses_is_searchable_as_windows_and_reported(tmp_path: Path) -> None:
    """A Python file nested beyond ``MAX_NESTING`` (generated, or hostile) was skipped, and an edit that
    made a grammar run away dropped the file from the index; it is indexed as line windows now, in its
    language, the reason reported, and a changed copy is read the same way at search time."""
    nested = "".join("    " * i + f"def level{i}():\n" for i in range(200)) + "    " * 200 + "return 'quokka'\n"
    write(tmp_path, "gen/deep.py", "# quokka habitat tables, generated.\n" + nested)
    write(tmp_path, "app.py", "def fine():\n    return 1\n")
    report = build_index(tmp_path, embedder=FakeEmbedder())
    assert report.skipped == [] and list(report.windowed) == ["gen/deep.py"]
    assert report.windowed["gen/deep.py"].startswith("too deeply nested")
    assert report.files_by_language == {"python": 2}
    assert "Indexed as line windows, their grammar refusing them, 1:\n  gen/deep.py: too deeply nested" \
        in index_report(report, 0.1)
    with Searcher(tmp_path / ".codesearch", embedder=FakeEmbedder()) as searcher:
        hit = searcher.search("quokka habitat", k=1)[0]
        assert (hit.path, hit.kind, hit.qualname, hit.start_line) == ("gen/deep.py", "code", "<deep.py>", 1)
        write(tmp_path, "gen/deep.py", "\n\n# quokka habitat tables, generated.\n" + nested)  # not indexed yet
        moved = searcher.search("quokka habitat", k=1)[0]
    assert (moved.path, moved.start_line) == ("gen/deep.py", 3)  # found where it is now, not dropped
    result = CliRunner().invoke(cli, ["index", str(tmp_path), "--rebuild", "--json"])  # the shipped model
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["windowed"] == {"gen/deep.py": report.windowed["gen/deep.py"]}
