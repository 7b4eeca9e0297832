"""The query stage: a query validated, analysed (``codesearch.query``) and embedded, once per search."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codesearch.embed import Embedder
from codesearch.errors import BadQuery
from codesearch.query import MAX_QUERY_CHARS, QueryInfo, analyse, is_utf8
from codesearch.search.options import MAX_K
from codesearch.terms import query_terms


@dataclass(frozen=True)
class ParsedQuery:
    """A validated query, analysed and embedded: what the searches of one query share across indexes.

    ``related`` builds one from a chunk (its vector and terms) instead of from text.
    """

    text: str
    info: QueryInfo
    vector: np.ndarray  # (1, dim)
    terms: np.ndarray  # distinct lexical term ids


def validate_query(query: str, k: int = 10) -> str:
    """The stripped query, or BadQuery if it is empty, too long or ``k`` is out of range.

    Every entry point (CLI, MCP, ``serve``, the library's searchers) calls this before any
    work, so the length cap bounds what one query can cost.

    :raises BadQuery: for an empty or whitespace-only query, one longer than
        ``codesearch.query.MAX_QUERY_CHARS`` once stripped, not UTF-8 text, or ``k`` outside 1..MAX_K.
    """
    if not isinstance(query, str) or not query.strip():
        raise BadQuery("the query is empty; say what the code does, e.g. \"retry failed http requests\"")
    stripped = query.strip()
    if len(stripped) > MAX_QUERY_CHARS:
        raise BadQuery(f"query too long ({len(stripped):,} characters; the limit is {MAX_QUERY_CHARS:,}); "
                       "describe the code in a sentence, or search for one name")
    if not 1 <= k <= MAX_K:
        raise BadQuery(f"k must be between 1 and {MAX_K}, got {k}")
    if not is_utf8(stripped):
        raise BadQuery("the query is not UTF-8 text (bytes a terminal could not decode); type it again")
    return stripped



def parse_query(query: str, k: int, embedder: Embedder) -> ParsedQuery:
    """The query validated, analysed and embedded (the same for every index of this model).

    :raises BadQuery: for an empty query, a bad ``k``, or a query with no known word.
    """
    text = validate_query(query, k)
    info = analyse(text)
    vector = embedder.encode_queries([info.text])  # "what calls X" is X (``query.usage_target``)
    terms = query_terms(info.words, info.compounds)
    if not np.any(vector) and not len(terms):
        raise BadQuery("the query has no words the model knows; try other words")
    return ParsedQuery(text, info, vector, terms)
