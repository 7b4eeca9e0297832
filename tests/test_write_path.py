"""The write path (issue 20, items 3 and 4): one store object for an index run, one model check,
the lexical code split into term analysis (query side) and the postings file (store side)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _codesearch_imports(path: Path) -> set[str]:
    """Every ``codesearch.*`` module a source file imports (at any depth of the file)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n == "codesearch" or n.startswith("codesearch.")}


@pytest.mark.parametrize("path", sorted((ROOT / "codesearch" / "store").glob("*.py")), ids=lambda p: p.name)
def test_the_store_imports_only_itself_and_the_term_functions(path: Path) -> None:
    """The store never imports the query side (no cycle through ``codesearch.lexical``): only the
    term analysis it stores (``codesearch.terms``), the errors and the vector type."""
    allowed = {"codesearch.errors", "codesearch.terms", "codesearch.embed", "codesearch.store"}
    outside = {n for n in _codesearch_imports(path) if not n.startswith("codesearch.store.")} - allowed
    assert not outside, outside


def test_the_postings_file_lives_beside_the_vector_file() -> None:
    """``codesearch.store.postings`` owns the lexical file; ``codesearch.terms`` the term analysis;
    ``codesearch.lexical`` only re-exports both (same objects)."""
    import codesearch.lexical as lexical
    from codesearch.store import postings
    from codesearch import terms

    assert lexical.LexicalIndex is postings.LexicalIndex and lexical.lexical_path is postings.lexical_path
    assert lexical.chunk_terms is terms.chunk_terms and lexical.query_terms is terms.query_terms
    assert "codesearch.query" not in _codesearch_imports(ROOT / "codesearch" / "store" / "postings.py")
