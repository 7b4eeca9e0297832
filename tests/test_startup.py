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
