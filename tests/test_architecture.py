"""The code base's dependency rules, checked on the source itself: indexer/ stands alone, only the
CLI modules know click, no language branches outside the registry, the search path stays light,
and only codesearch/cluster imports Ray (the store's own rules: tests/test_write_path.py)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LANGUAGES, ROOT

STDLIB = set(sys.stdlib_module_names)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _sources("indexer"), ids=lambda p: p.name)
def test_indexer_depends_only_on_stdlib_and_tree_sitter(path: Path) -> None:
    """indexer/ never imports codesearch, numpy, faiss, sqlite or click."""
    allowed = STDLIB | {"tree_sitter", "indexer"}
    assert _imports(path) <= allowed, _imports(path) - allowed


@pytest.mark.parametrize("path", _sources("codesearch"), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_cli_knows_click_and_prints(path: Path) -> None:
    """click, print() and sys.exit() appear in cli.py (and devcli.py, its developer commands, and entry.py,
    the console script in front of it that prints a resident process's answer) only."""
    if path.name in ("cli.py", "devcli.py", "entry.py"):
        return
    assert "click" not in _imports(path)
    tree = ast.parse(path.read_text())
    calls = [n.func for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert not any(isinstance(f, ast.Name) and f.id == "print" for f in calls)
    assert not any(isinstance(f, ast.Attribute) and f.attr == "exit" for f in calls)


@pytest.mark.parametrize("path", _sources("indexer") + _sources("codesearch"), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_language_branches_outside_the_registry(path: Path) -> None:
    """No Python module compares against a language name; that knowledge is in queries and the registry."""
    if path.name == "languages.py":
        return
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for part in [node.left, *node.comparators]:
                assert not (isinstance(part, ast.Constant) and part.value in LANGUAGES), (path, ast.unparse(node))


def test_search_path_stays_light() -> None:
    """Opening a Searcher imports neither sqlite-utils nor torch (CLI start-up time)."""
    code = "import sys, codesearch.search, codesearch.render, codesearch.cli; print(sorted(m for m in ('sqlite_utils', 'torch', 'model2vec', 'sentence_transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


@pytest.mark.parametrize("path", _sources("indexer") + _sources("codesearch"), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_cluster_package_imports_ray(path: Path) -> None:
    """Ray (the `cluster` extra) is imported by codesearch/cluster only, so the base install never needs it."""
    if (ROOT / "codesearch" / "cluster") in path.parents:
        return
    assert not _imports(path) & {"ray", "starlette"}
