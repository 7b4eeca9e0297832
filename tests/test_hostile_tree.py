"""A hostile working tree: ignore files, file shapes, directories and races meant to hang,
crash or mislead ``index``. Each test says what it once did."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write

# -- per-file CPU is bounded: shapes that made tree-sitter run for minutes or crash -----------

_SHAPES = {  # each 550 KB to 1 MB in short lines, so that it does not look minified
    # "[": a run of unnamed siblings that the query engine walks quadratically (over 2 minutes).
    "brackets.js": "[[[[[[[[[[\n" * 55_000,
    # no bracket, but 245,000 keywords in a row: the query's cost grows with the square (over 40 s).
    "keywords.js": "new new new new new\n" * 49_000,
    # no bracket at all, but 250,000 levels: the query slows down without bound past 65,535.
    "assign.js": "a=a=a=a=a=\n" * 50_000 + "b;\n",
    # 150,000 nested `{a: `: the parser overflowed the C stack (the process died with SIGSEGV).
    "objects.js": "{a: {a: {a: \n" * 50_000,
}


@pytest.mark.parametrize("name", sorted(_SHAPES))
def test_pathological_shape_is_skipped_in_seconds(tmp_path: Path, name: str) -> None:
    """Each shape is skipped with a reason within seconds, in a child process so a hang or a
    crash fails the test instead of the suite; the ordinary file next to it is indexed."""
    root = tmp_path / "repo"
    write(root, name, _SHAPES[name])
    write(root, "ok.js", "function fine() { return 1; }\n")
    script = ("from pathlib import Path\nfrom codesearch.pipeline import build_index\nfrom tests.conftest import FakeEmbedder\n"
              f"r = build_index(Path({str(root)!r}), embedder=FakeEmbedder())\n"
              "print(r.files, dict((s.path, s.reason) for s in r.skipped))\n")
    try:
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                             cwd=Path(__file__).resolve().parents[1])
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name}: still busy after 30 s")
    assert out.returncode == 0, f"{name}: exit {out.returncode}: {out.stderr[-500:]}"
    files, skipped = out.stdout.strip().split(" ", 1)
    assert files == "1", out.stdout
    assert f"'{name}': 'too deeply nested" in skipped or f"'{name}': 'took too long to parse" in skipped, skipped


def test_query_cost_check_leaves_real_code_alone() -> None:
    """Ordinary code far bigger than the walk's threshold passes both checks and keeps its symbols."""
    from indexer.parse import extract_symbols
    from indexer.types import SourceFile

    body = "".join(f"def f{i}(x):\n    return [x, ({i}, {{'k': x}})]\n\n" for i in range(3000))
    symbols = extract_symbols(SourceFile("big.py", "python", body.encode()))
    assert len(symbols) == 3000 and symbols[-1].name == "f2999"
