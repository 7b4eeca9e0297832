"""Where the lexical stage used to live; kept so that existing imports keep working.

Term analysis (shared by queries and indexing) is ``codesearch.terms``; the postings file
of each generation (build, save, validated load, BM25 search) is ``codesearch.store.postings``.
New code imports from those modules.
"""

from __future__ import annotations

from codesearch.store.postings import B, K1, LexicalIndex, lexical_path
from codesearch.terms import CODE_CHARS, FIELD_WEIGHTS, _terms_of_run, chunk_terms, query_terms, term_ids, terms

__all__ = [
    "B", "CODE_CHARS", "FIELD_WEIGHTS", "K1", "LexicalIndex", "_terms_of_run", "chunk_terms", "lexical_path",
    "query_terms", "term_ids", "terms",
]
