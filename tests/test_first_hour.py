"""What a new user trips over in the first hour: each behaviour of issue 11, through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.pipeline import build_index
from codesearch.render import shown_path
from codesearch.search import PathFilter, Searcher
from tests.conftest import FakeEmbedder, edited_db, write

CODESEARCH = Path(sys.executable).parent / "codesearch"
READER = "class StreamReader:\n    '''Read a stream of encoded bytes.'''\n    def read(self):\n        return b''\n"


def run(*args: str, **kwargs: object) -> object:
    return CliRunner().invoke(cli, list(args), **kwargs)  # type: ignore[arg-type]


def test_identical_code_is_folded_into_one_result(tmp_path: Path) -> None:
    """Ten identical classes at ten paths come back once, with '+9 identical at ...'."""
    for i in range(10):
        write(tmp_path, f"encodings/codec{i}.py", READER)
    write(tmp_path, "csv_reader.py", "def dict_reader(rows):\n    '''Map csv rows to dicts.'''\n    return rows\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    with Searcher(tmp_path / ".codesearch") as searcher:
        hits = searcher.search("stream reader read encoded bytes", k=10)
    readers = [h for h in hits if h.qualname == "StreamReader"]
    assert len(readers) == 1 and len(readers[0].duplicates) == 9
    assert all(d.startswith("encodings/codec") for d in readers[0].duplicates)
    out = run("search", "stream reader read encoded bytes", str(tmp_path), "--fast", "-k", "3", "--no-color")
    # named as the hit is (from the working directory, or absolute when that is shorter)
    shown = shown_path(str(tmp_path.resolve()), "encodings/codec0.py")[:-len("codec0.py")]
    assert f"+9 identical at {shown}codec" in out.output, out.output


def test_the_same_method_in_several_classes_is_folded_into_one_result(tmp_path: Path) -> None:
    """A setter written alike in eighteen classes filled a whole first screen (league/commonmark's
    `setConfiguration`): its content hash differs by its class, its code does not. A method of that name with
    other code stays a result of its own."""
    setter = "    def set_configuration(self, configuration):\n        self.config = configuration\n"
    for i in range(6):
        write(tmp_path, f"renderers/r{i}.py", f'class Renderer{i}:\n    """Render node kind {i}."""\n{setter}')
    write(tmp_path, "parser.py", "class Parser:\n    def set_configuration(self, configuration):\n"
                                 "        self.config = dict(configuration)\n        self.strict = True\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    with Searcher(tmp_path / ".codesearch") as searcher:
        hits = searcher.search("set_configuration", k=10)
    setters = [h for h in hits if h.name == "set_configuration"]
    assert sorted(len(h.duplicates) for h in setters) == [0, 5], [(h.path, h.duplicates) for h in setters]
    assert {h.path for h in setters if not h.duplicates} == {"parser.py"}


def test_min_score_and_weak_matches(tmp_path: Path) -> None:
    """--min-score drops low similarities; when every hit is weak, the output says so once."""
    root = tmp_path / "repo"
    write(root, "a.py", "def read_config(path):\n    '''Read the settings file.'''\n    return open(path).read()\n")
    assert run("index", str(root), "-q").exit_code == 0
    strict = run("search", "read the settings file", str(root), "--fast", "--min-score", "0.99", "--json")
    assert strict.exit_code == 1 and json.loads(strict.output)["results"] == []
    weak = run("search", "zebra giraffe elephant savanna", str(root), "--fast", "--no-color")
    assert weak.exit_code == 0 and weak.output.startswith("Weak matches only")


def test_unsupported_languages_are_reported_per_extension(tmp_path: Path) -> None:
    """C, C#, Rust and Kotlin are indexed now; a notebook is still reported as not indexed."""
    for name in ("main.c", "util.c", "lib.rs", "App.cs", "Main.kt"):
        write(tmp_path, name, "// code\n")
    for name in ("a.ipynb", "b.ipynb"):
        write(tmp_path, name, "{}\n")
    write(tmp_path, "notes.md", "# notes\n")
    write(tmp_path, "ok.py", "def ok():\n    return 1\n")
    write(tmp_path, "app.ts", "export function ok(): number { return 1; }\n")
    out = run("index", str(tmp_path))
    assert out.exit_code == 0, out.output
    assert "Unsupported (not indexed): .ipynb 2 files" in out.output
    stats = json.loads(run("stats", str(tmp_path), "--json").output)
    assert stats["unsupported"] == {".ipynb": 2}  # .md is not code
    assert stats["files_by_language"] == {"c": 2, "csharp": 1, "kotlin": 1, "python": 1, "rust": 1, "typescript": 1}


def test_virtualenv_is_recognised_by_pyvenv_cfg_not_by_name(tmp_path: Path) -> None:
    """The stdlib's own `venv` package is indexed; a real virtualenv (pyvenv.cfg) under any name is not."""
    write(tmp_path, "venv/__init__.py", "def create(env_dir):\n    '''Create a virtual environment.'''\n")
    write(tmp_path, "env/pyvenv.cfg", "home = /usr/bin\n")
    write(tmp_path, "env/lib/site.py", "def hidden():\n    pass\n")
    report = build_index(tmp_path, embedder=FakeEmbedder())
    skipped = {s.path: s.reason for s in report.skipped}
    assert skipped == {"env": "virtualenv (has pyvenv.cfg)"}
    assert report.files == 1 and report.files_by_language == {"python": 1}


def test_codesearchignore_negation_and_no_ignore(tmp_path: Path) -> None:
    """`!node_modules/` in .codesearchignore re-includes it; --no-ignore indexes ignored files for one run."""
    write(tmp_path, "node_modules/lib/index.js", "function vendored() {}\n")
    write(tmp_path, "build/gen.py", "def generated():\n    pass\n")
    write(tmp_path, ".gitignore", "build/\n")
    write(tmp_path, "app.py", "def app():\n    pass\n")
    first = build_index(tmp_path, embedder=FakeEmbedder())
    assert first.files == 1 and {s.path for s in first.skipped} == {"node_modules"}
    write(tmp_path, ".codesearchignore", "!node_modules/\n")
    assert build_index(tmp_path, embedder=FakeEmbedder()).files == 2
    assert build_index(tmp_path, embedder=FakeEmbedder(), use_ignore_files=False).files == 3
    assert "--no-ignore" in run("index", "--help").output


@pytest.fixture
def nested(tmp_path: Path) -> Path:
    write(tmp_path, "src/api/users.py", "def create_user(name):\n    '''Create a user account.'''\n")
    write(tmp_path, "src/api/users_test.py", "def test_create_user():\n    '''Create a user account test.'''\n")
    write(tmp_path, "tools/users.py", "def list_users():\n    '''List user accounts.'''\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    return tmp_path


def test_subdirectory_scope_all_exclude_and_printed_paths(nested: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a subdirectory only it is searched (--all: everything); --exclude drops; --path matches as printed."""
    monkeypatch.chdir(nested / "src")
    scoped = json.loads(run("search", "user account", ".", "--fast", "--json").output)
    assert {r["path"] for r in scoped["results"]} == {"api/users.py", "api/users_test.py"} or \
        {r["path"].split("/")[0] for r in scoped["results"]} == {"src"}
    assert all(r["path"].startswith("src/") for r in scoped["results"])
    everything = json.loads(run("search", "user account", ".", "--fast", "--all", "--json").output)
    assert "tools/users.py" in {r["path"] for r in everything["results"]}
    excluded = json.loads(run("search", "user account", ".", "--fast", "--all", "-x", "*_test.py", "--json").output)
    assert not any(r["path"].endswith("_test.py") for r in excluded["results"])
    printed = json.loads(run("search", "user account", ".", "--fast", "--all", "-p", "api/*", "--json").output)
    assert {r["path"] for r in printed["results"]} == {"src/api/users.py", "src/api/users_test.py"}
    assert PathFilter(include=("api/*",), cwd=nested / "src").matches(nested, "src/api/users.py")


def test_exit_codes_like_ripgrep(nested: Path) -> None:
    """0 with results, 1 with none, 2 on an error; -q prints nothing."""
    assert run("search", "user account", str(nested), "--fast", "-q").exit_code == 0
    assert run("search", "user account", str(nested), "--fast", "-q").output == ""
    assert run("search", "user account", str(nested), "--fast", "-p", "nowhere/*").exit_code == 1
    assert run("search", "   ", str(nested)).exit_code == 2
    assert run("index", str(nested), "-q").output == ""


def test_grep_format_marks_stale_hits_and_explains(nested: Path) -> None:
    """--format grep honours --explain and says when a file changed since indexing."""
    (nested / "tools/users.py").write_text("\n\ndef list_users():\n    '''List user accounts.'''\n")
    out = run("search", "list user accounts", str(nested), "--fast", "--format", "grep", "--explain", "-k", "1")
    assert "(stale)" in out.output and "stages: static" in out.output and ":3: list_users" in out.output


def test_no_color_environment_variable(nested: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR turns highlighting off on a terminal; --color still forces it."""
    import codesearch.cli as cli_module

    monkeypatch.setattr(cli_module.sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    plain = run("search", "user account", str(nested), "--fast", "-k", "1")
    assert "\x1b[" not in plain.output
    forced = run("search", "user account", str(nested), "--fast", "-k", "1", "--color")
    assert "\x1b[" in forced.output


def test_index_and_stats_piped_into_head_exit_cleanly(tmp_path: Path) -> None:
    """A closed pipe ends `index` and `stats` quietly with exit 0, as it does `search`."""
    for i in range(300):
        write(tmp_path, f"bin{i}.py", b"\x00binary")  # 300 skipped files: a long report
    for command in (f"{CODESEARCH} index {tmp_path} | head -1", f"{CODESEARCH} stats {tmp_path} --json | head -c 10"):
        result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True)
        assert result.returncode == 0 and "Traceback" not in result.stderr and "Broken pipe" not in result.stderr, \
            (command, result.stderr[-500:])


def test_index_prints_wall_time_and_json_names_the_summed_split(tmp_path: Path) -> None:
    """The summary's time is wall time; the per-stage sums over worker processes are only in --json."""
    write(tmp_path, "a.py", "def a():\n    pass\n")
    payload = json.loads(run("index", str(tmp_path), "--json").output)
    assert payload["wall_seconds"] > 0 and "stage_seconds_summed_over_workers" in payload and "seconds" not in payload


def test_interrupted_first_index_names_the_fix(tmp_path: Path) -> None:
    """An index whose first run never committed says to run `codesearch index`."""
    write(tmp_path, "a.py", "def a():\n    pass\n")
    build_index(tmp_path, embedder=FakeEmbedder())
    with edited_db(tmp_path / ".codesearch" / "index.db") as conn:
        conn.execute("DELETE FROM meta")
    out = run("search", "anything", str(tmp_path))
    assert out.exit_code == 2 and "never been completed" in out.output and "run `codesearch index`" in out.output


def test_library_progress_bars_are_silenced_unless_verbose(nested: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """search sets the libraries' progress-bar switches off, unless -v."""
    for name in ("HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY", "TQDM_DISABLE"):
        monkeypatch.delenv(name, raising=False)
    run("search", "user account", str(nested), "--fast", "-v", "-q")
    assert "TQDM_DISABLE" not in os.environ
    run("search", "user account", str(nested), "--fast", "-q")
    assert os.environ["TQDM_DISABLE"] == "1" and os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"


@pytest.mark.slow
def test_names_are_found_in_the_real_standard_library(tmp_path: Path) -> None:
    """`codesearch search DictReader` over this interpreter's standard library puts csv.DictReader
    first, and `csv dict reader` shows the ten identical encodings StreamReaders once at most."""
    import shutil
    import sysconfig

    root = tmp_path / "stdlib"
    shutil.copytree(sysconfig.get_paths()["stdlib"], root,
                    ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc", "test", "tests", "idlelib"))
    assert run("index", str(root), "-q").exit_code == 0
    first = json.loads(run("search", "DictReader", str(root), "--fast", "--json", "-k", "3").output)["results"][0]
    assert (first["path"], first["qualname"]) == ("csv.py", "DictReader")
    hits = json.loads(run("search", "csv dict reader", str(root), "--fast", "--json").output)["results"]
    readers = [h for h in hits if h["qualname"].endswith("StreamReader") and h["path"].startswith("encodings/")]
    assert len(readers) <= 1


def _readme_commands() -> list[str]:
    """The README's two set-up commands: the first bash block of the Quickstart and the test command."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    quickstart = readme[readme.index("## Quickstart"):]
    blocks = quickstart.split("```bash\n")[1:3]
    return [block[:block.index("```")].strip() for block in blocks]


def test_readme_installs_what_searching_needs_and_the_test_command_what_testing_needs() -> None:
    """The first command installs no extra (no pytest, no dev tools); the test command adds the test extra.

    .ci/run runs both commands exactly as the README writes them.
    """
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    first, tests = _readme_commands()
    assert "pip install -e . &&" in first and "[" not in first.split("&&")[1]
    assert "codesearch index sample_repos" in first and "codesearch search" in first
    assert "pip install -e '.[test]'" in tests and tests.endswith("python -m pytest")
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert first in ci.splitlines() and tests in ci.splitlines()
    extras = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    test_extra = " ".join(extras["project"]["optional-dependencies"]["test"])
    assert "pytest" in test_extra and "pytest" not in " ".join(extras["project"]["dependencies"])


def test_index_inside_an_indexed_repository_updates_that_index(tmp_path: Path) -> None:
    """`codesearch index` in a subdirectory finds the enclosing index (as git does) instead of nesting one."""
    write(tmp_path, "app.py", "def main():\n    return 1\n")
    write(tmp_path, "pkg/sub/util.py", "def helper():\n    return 2\n")
    assert run("index", str(tmp_path), "-q").exit_code == 0
    write(tmp_path, "pkg/sub/extra.py", "def parse_config_file(path):\n    return path\n")
    result = run("index", str(tmp_path / "pkg" / "sub"), "--json")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "pkg" / "sub" / ".codesearch").exists()
    assert json.loads(result.stdout)["root"] == str(tmp_path.resolve())
    with Searcher(tmp_path / ".codesearch") as searcher:
        assert {r.path for r in searcher.search("parse_config_file", k=3)} >= {"pkg/sub/extra.py"}
    separate = run("index", str(tmp_path / "pkg"), "--index-dir", str(tmp_path / "pkg" / ".codesearch"), "-q")
    assert separate.exit_code == 0 and (tmp_path / "pkg" / ".codesearch" / "index.db").is_file()


def test_weak_match_note_uses_the_measured_threshold() -> None:
    """A best similarity of 0.33 (an unrelated top hit, like open_with_lockfile for 'open a database
    connection') is flagged; the threshold is the one benchmarks/calibrate_weak.py chose on the dev sets."""
    from codesearch.render import WEAK_SIMILARITY, to_text
    from codesearch.search import SearchResult

    measured = json.loads((Path(__file__).resolve().parents[1] / "benchmarks" / "results-weak.json").read_text())
    assert WEAK_SIMILARITY == measured["chosen"]
    assert measured["rates"][f"{WEAK_SIMILARITY:.2f}"]["answered_flagged"] <= measured["max_false_alarms"]

    def hit(score: float) -> SearchResult:
        return SearchResult(rank=1, score=score, key="k", path="locks.py", root="/r", language="python",
                            kind="function", name="open_with_lockfile", qualname="open_with_lockfile",
                            signature="", doc="", code="def open_with_lockfile(path):\n    pass\n",
                            start_line=1, end_line=2)

    assert to_text([hit(0.33)]).startswith("Weak matches only (best similarity 0.33)")
    assert not to_text([hit(0.45)]).startswith("Weak matches only")
