"""What starting a command imports: the CLI and the client of a resident process import no part of the
search stack, a search a resident process answers loads no numpy, and the write path leaves pandas out.
(How long each takes is measured by benchmarks/bench_startup.py, not asserted here.)"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_resident import repo, runtime, serving  # noqa: F401 (fixtures)

HEAVY = ("numpy", "faiss", "tree_sitter", "tokenizers", "safetensors", "sqlite_utils", "pandas", "codesearch.search")


def loaded_after(code: str) -> list[str]:
    """The HEAVY modules loaded once ``code`` ran in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", probe(code)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip())


def probe(code: str) -> str:
    """``code``, then a last line of output: the JSON list of the HEAVY modules it loaded."""
    return f"import json, sys\n{code}\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"


def test_the_cli_and_the_resident_client_import_no_search_stack() -> None:
    assert loaded_after("import codesearch.cli, codesearch.resident") == []


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas is not installed")
def test_the_write_path_leaves_pandas_out_and_importable() -> None:
    """sqlite-utils would import pandas (about 0.3 s); it is hidden for that import only."""
    assert "pandas" not in loaded_after("import codesearch.pipeline")
    assert "pandas" in loaded_after("import codesearch.pipeline, pandas")


def test_a_search_answered_by_a_resident_process_loads_no_numpy(repo: Path, runtime: Path) -> None:  # noqa: F811
    """The CLI asks the resident process (on a thread of this test) and prints its answer, and its
    own process never imports numpy or the search stack."""
    code = ("from codesearch.cli import cli\n"
            f"cli(['search', 'user account', {str(repo)!r}, '--format', 'grep'], standalone_mode=False)")
    with serving(repo / ".codesearch"):
        done = subprocess.run([sys.executable, "-c", probe(code)], capture_output=True, text=True, check=True)
    printed, loaded = done.stdout.strip().rsplit("\n", 1)
    assert "create_user" in printed and loaded == "[]"


def test_a_query_embeds_from_the_stored_rows_as_from_the_whole_converted_table() -> None:
    """A fresh model converts only a query's rows (fp16 -> fp32): the vectors are bit-identical to
    those of the table converted whole, as documents and later queries use it."""
    import numpy as np

    from codesearch.embed.static import StaticEmbedder

    texts = ["retry a failed connection with a timeout", "HTTPClient.sendRequest(url)", "", "parse_config"]
    fresh = StaticEmbedder.default()
    lazy = fresh.encode_queries(texts)
    assert fresh._fp32 is None  # nothing converted the whole table
    fresh.encode_documents(texts[:1])  # converts it
    assert np.array_equal(lazy, fresh.encode_queries(texts)) and lazy.dtype == np.float32


def test_the_model_fingerprint_is_remembered_until_a_model_file_changes(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The fingerprint is computed from the files' bytes once, remembered in the user's cache for those
    exact files (size, inode, times), and computed again when one is rewritten."""
    import shutil

    from codesearch.embed.static import MODEL_FILES, StaticEmbedder, default_model_path, fingerprint_cache

    monkeypatch.setenv("CODESEARCH_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "model"
    model.mkdir()
    for name in MODEL_FILES:
        shutil.copy(default_model_path() / name, model / name)
    first = StaticEmbedder(model).fingerprint
    assert json.loads(fingerprint_cache(model).read_text())["fingerprint"] == first
    assert first == StaticEmbedder.default().fingerprint  # the same bytes, the same fingerprint
    remembered = json.loads(fingerprint_cache(model).read_text())
    fingerprint_cache(model).write_text(json.dumps({**remembered, "fingerprint": "remembered:0"}))
    assert StaticEmbedder(model).fingerprint == "remembered:0"  # not hashed again
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "note": "retrained"}))
    changed = StaticEmbedder(model).fingerprint
    assert changed not in (first, "remembered:0") and changed.startswith(f"{config.get('name', 'model')}:")
    fingerprint_cache(model).write_text("not json")
    assert StaticEmbedder(model).fingerprint == changed


def test_the_console_script_reads_search_arguments_as_click_does(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``codesearch.entry`` reads the arguments it understands into the parameters click's parser gives
    the search command (PATHs as strings), and declines the rest, which the CLI then parses."""
    from codesearch.cli import cli
    from codesearch.entry import fast_search_params

    def search_context(args: list[str]) -> object:
        # Under the group's context, as the CLI makes it: a command's context made alone caches a help
        # option without the group's `-h` on the command, which later tests in this process would see.
        return cli.commands["search"].make_context("search", args, parent=cli.make_context("codesearch", ["search"]))

    (tmp_path / "src").mkdir()
    (tmp_path / "file.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CODESEARCH_INDEX_DIR", raising=False)
    understood = [["parse a url"], ["parse a url", "src", "-k", "5", "--format", "grep"],
                  ["-e", "--offline", "src", "."], ["q", "--top-k=3", "-l", "python", "-p", "a/*", "--path", "b/*",
                                                    "-x", "*_test.go", "--kind", "function", "--kind", "method"],
                  ["q", "--json", "--all", "--no-hybrid", "--fast", "--explain", "--no-color", "-q", "-v"],
                  ["q", "--hybrid", "--rerank", "--color", "--candidates", "50", "--per-file", "1",
                   "--min-score", "0.25", "--max-lines", "3", "--index-dir", "idx", "-k", "2", "-k", "7"],
                  ["q", "--", "--not-an-option"], ["--query", "q", "--", "src"], ["q", "src", "--no-resident"],
                  ["q", "--by-file", "--per-file", "2", "-k", "4"]]
    for args in understood:
        if args[-1] == "--not-an-option":
            (tmp_path / "--not-an-option").mkdir()
        ours = fast_search_params(args)
        clicks = search_context(list(args)).params
        assert ours == {key: str(value) if isinstance(value, Path) else value for key, value in clicks.items()}, args
    monkeypatch.setenv("CODESEARCH_INDEX_DIR", "elsewhere")
    assert fast_search_params(["q"])["index_dir"] == "elsewhere" == str(
        search_context(["q"]).params["index_dir"])
    declined = [[], ["-h"], ["q", "--help"], ["q", "-k5"], ["q", "-qv"], ["q", "--top", "5"], ["q", "-k", "0"],
                ["q", "-k", "many"], ["q", "--min-score", "2"], ["q", "--format", "xml"], ["q", "--kind", "file"],
                ["q", "missing"], ["q", "file.txt"], ["q", "--all=yes"], ["q", "-k"], ["q", "--workspace", "src"],
                ["q", "--rerank-model", "src"], ["q", "--index-dir", "file.txt"], ["q", "-"]]
    for args in declined:
        assert fast_search_params(args) is None, args


def test_the_console_script_prints_the_resident_answer_without_click(repo: Path, runtime: Path) -> None:  # noqa: F811
    """A search a resident process answers is printed by ``codesearch.entry`` as the CLI prints it, with
    neither click nor the CLI imported; one it cannot answer goes to the CLI."""
    code = ("import sys\nfrom codesearch import entry\n"
            f"sys.argv = ['codesearch', 'search', 'user account', {str(repo)!r}, '--format', 'grep']\n"
            "try:\n    entry.main()\nexcept SystemExit as exit:\n    print('exit', exit.code)\n"
            "print([m for m in ('click', 'codesearch.cli') if m in sys.modules])")
    with serving(repo / ".codesearch"):
        answered = subprocess.run([sys.executable, "-c", probe(code)], capture_output=True, text=True, check=True)
    printed = answered.stdout.strip().split("\n")
    assert "src/users.py:1: create_user" in printed[0] and printed[-3:] == ["exit 0", "[]", "[]"]
    alone = subprocess.run([sys.executable, "-c", probe(code)], capture_output=True, text=True, check=True)
    # No resident process: searched in this process (the search stack loaded), still without click.
    assert alone.stdout.strip().split("\n")[:-1] == printed[:-1]


def test_a_search_the_console_script_cannot_answer_goes_to_the_cli(repo: Path,
                                                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    """An error (an index of another repository, an empty query): the CLI runs the search again and
    reports it as always (one line, exit code 2)."""
    code = ("import sys\nfrom codesearch import entry\n"
            "sys.argv = ['codesearch', 'search', *sys.argv[1:]]\n"
            "try:\n    entry.main()\nexcept SystemExit as exit:\n    print('exit', exit.code)\n"
            "print('click' in sys.modules)")
    other = tmp_path_factory.mktemp("other")  # outside the repository
    wrong = subprocess.run([sys.executable, "-c", code, "user account", str(other), "--index-dir",
                            str(repo / ".codesearch")], capture_output=True, text=True, check=True)
    assert wrong.stdout.split() == ["exit", "2", "True"] and "belongs to" in wrong.stderr
    empty = subprocess.run([sys.executable, "-c", code, "  ", str(repo)], capture_output=True, text=True,
                           check=True)
    assert empty.stdout.split() == ["exit", "2", "True"] and "the query is empty" in empty.stderr


def test_a_resident_process_asks_for_one_numeric_thread_unless_told_otherwise() -> None:
    """Before numpy loads, ``one_query_threads`` sets OpenMP and OpenBLAS to one thread, keeping a value the
    user set; once numpy is loaded it changes nothing."""
    import os

    code = ("import os\nfrom codesearch.cli import one_query_threads\none_query_threads()\n"
            "print(os.environ.get('OMP_NUM_THREADS'), os.environ.get('OPENBLAS_NUM_THREADS'))")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    run_with = lambda extra, prefix="": subprocess.run(  # noqa: E731
        [sys.executable, "-c", prefix + code], capture_output=True, text=True, check=True, env={**env, **extra}
    ).stdout.split()
    assert run_with({}) == ["1", "1"]
    assert run_with({"OMP_NUM_THREADS": "4"}) == ["4", "1"]
    assert run_with({}, "import numpy\n") == ["None", "None"]


def test_an_interrupted_search_in_the_console_script_exits_as_the_cli(monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C during a search the console script runs itself: the CLI's message and exit code 130."""
    from codesearch import entry

    def interrupted(args: list[str]) -> tuple[int | None, bool]:
        raise KeyboardInterrupt

    monkeypatch.setattr(entry, "fast_search", interrupted)
    monkeypatch.setattr(sys, "argv", ["codesearch", "search", "parse a url"])
    with pytest.raises(SystemExit) as exit_:
        entry.main()
    assert exit_.value.code == 130 and "Interrupted" in capsys.readouterr().err


def test_the_search_stack_imports_nothing_of_the_write_path() -> None:
    """A one-shot search of one fresh repository hashes, parses and writes nothing: hashlib (~4 ms),
    tree_sitter and importlib.resources (~5 ms), tempfile and shutil (with lzma and bz2, ~8 ms) are
    imported where a pack's digest, a changed file or a new index needs them."""
    modules = ("hashlib", "tree_sitter", "importlib.resources", "tempfile", "shutil", "lzma")
    code = ("import sys, codesearch.search, codesearch.render, codesearch.entry\n"
            f"print(sorted(m for m in {modules!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
