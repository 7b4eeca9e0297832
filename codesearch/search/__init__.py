"""Query an index: one retrieval path, one stage per module.

The path a query takes (one index, several, a workspace, ``serve`` and ``related`` alike):

- ``parse``: validated, analysed (``codesearch.query``) and embedded once -> ``ParsedQuery``;
- ``options``: the filters and settings that travel with it -> ``SearchOptions``;
- ``searcher``: an open index (``Searcher``) turns the filters into the chunk ids they allow -> ``Plan``;
- ``first_stage``: the vector and lexical rankings and the definitions on one index -> a shard;
- ``pool``: every shard's hits pooled, fused, ranked by the code-aware signals, diversified,
  picked as the files are now and finished (``ranked``);
- ``rerank_step``: the optional transformer rerank, the similarity floor, the first ``k``;
- ``results``: ``SearchResult`` and what a result is checked and completed with.
"""

from __future__ import annotations

from codesearch.search.first_stage import IndexHits, Plan
from codesearch.search.options import (
    CANDIDATES,
    DEFAULT_HYBRID,
    DEFAULT_RERANK,
    DEFINITIONS,
    MAX_K,
    PER_FILE,
    RERANK_CANDIDATES,
    PathFilter,
    SearchOptions,
    first_stage_depth,
)
from codesearch.search.parse import ParsedQuery, parse_query, validate_query
from codesearch.search.pool import LEXICAL_WEIGHT, LEXICAL_WEIGHTS, Lift, Shard, fuse, ranked, shortlist
from codesearch.search.rerank_step import RERANK_CODE_CHARS, rerank_key, rerank_text
from codesearch.search.results import SearchResult, as_checked, clipped, with_duplicates
from codesearch.search.searcher import Searcher, find_index

__all__ = [
    "CANDIDATES", "DEFAULT_HYBRID", "DEFAULT_RERANK", "DEFINITIONS", "LEXICAL_WEIGHT", "LEXICAL_WEIGHTS", "MAX_K",
    "PER_FILE", "RERANK_CANDIDATES", "RERANK_CODE_CHARS", "IndexHits", "Lift", "ParsedQuery", "PathFilter", "Plan",
    "SearchOptions", "SearchResult", "Searcher", "Shard", "as_checked", "clipped", "find_index", "first_stage_depth",
    "fuse", "parse_query", "ranked", "rerank_key", "rerank_text", "shortlist", "validate_query", "with_duplicates",
]
