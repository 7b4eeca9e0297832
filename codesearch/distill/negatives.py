"""Hard negatives for the reranker, mined with our own first stage.

For each training query, the chunks of a pool (the training documents of the same
language) are ranked as the first stage ranks them: the static model's cosine and BM25
over code-aware terms (``codesearch.terms``, ``codesearch.store.postings``), fused by
reciprocal rank. The best-ranked chunk that is not the query's own document nor a
near-duplicate of it is the query's hard negative: what the first stage puts above, or
right below, the right answer, which is what the second stage has to learn to push down.

A near-duplicate is a chunk whose own query (docstring) is the same text, or nearly
(word Jaccard >= ``duplicate``), or whose document shares that share of its words with the
positive: overloads, copies and generated variants, which would be false negatives.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from codesearch.distill.data import Pair
from codesearch.store.postings import LexicalIndex
from codesearch.terms import chunk_terms, query_terms, terms

Encode = Callable[[Sequence[str]], np.ndarray]
RRF_K = 60  # reciprocal-rank fusion constant
DEPTH = 30  # candidates taken from each ranking
_WORDS = re.compile(r"\w+")


@dataclass
class MiningReport:
    """How the mining went: queries with a negative, and how many of those the first stage put above the positive."""

    queries: int = 0
    mined: int = 0
    above_positive: int = 0
    duplicates_skipped: int = 0


def mine_negatives(pool: Sequence[Pair], chosen: Sequence[int], encode_queries: Encode, encode_documents: Encode,
                   duplicate: float = 0.8, depth: int = DEPTH,
                   block: int = 512) -> tuple[list[str | None], MiningReport]:
    """One hard negative document for each pair ``pool[i]`` of ``chosen``, searched among the
    documents of ``pool`` in the same language (None where every candidate was a near-duplicate).

    :param encode_queries: unit vectors of queries (the static model's ``encode_queries``).
    :param encode_documents: unit vectors of documents, in the same space.
    :param duplicate: word-Jaccard threshold at or above which a candidate counts as a near-duplicate.
    :param depth: candidates considered from each ranking.
    """
    by_language: dict[str, list[int]] = defaultdict(list)
    for i, pair in enumerate(pool):
        by_language[pair.language].append(i)
    wanted = set(chosen)
    found: dict[int, str | None] = {}
    report = MiningReport(queries=len(chosen))
    for language in sorted(by_language):
        members = by_language[language]
        queries = [local for local, i in enumerate(members) if i in wanted]
        if not queries:
            continue
        group = [pool[i] for i in members]
        for local, negative in zip(queries, _mine_group(group, queries, encode_queries, encode_documents, duplicate,
                                                        depth, block, report), strict=True):
            found[members[local]] = negative
    return [found[i] for i in chosen], report


def _mine_group(group: Sequence[Pair], queries: Sequence[int], encode_queries: Encode, encode_documents: Encode,
                duplicate: float, depth: int, block: int, report: MiningReport) -> list[str | None]:
    """Negatives for the pairs ``group[i]`` of ``queries``, mined within ``group`` (one language's pool)."""
    documents = [p.document for p in group]
    doc_vectors = np.asarray(encode_documents(documents), dtype=np.float32)
    lexical = LexicalIndex.build((i, *chunk_terms("", "", "", text)) for i, text in enumerate(documents))
    doc_words = [_words(text) for text in documents]
    out: list[str | None] = []
    for start in range(0, len(queries), block):
        positives = queries[start:start + block]
        cosines = np.asarray(encode_queries([group[i].query for i in positives]), dtype=np.float32) @ doc_vectors.T
        for row, positive in enumerate(positives):
            bm25 = np.zeros(len(group))
            for chunk, score in lexical.search(query_terms(terms(group[positive].query)), depth):
                bm25[chunk] = score
            ranked = fused_order(cosines[row], bm25, depth)
            choice, skipped = first_acceptable(ranked, positive, group, doc_words, duplicate)
            report.duplicates_skipped += skipped
            if choice is None:
                out.append(None)
                continue
            report.mined += 1
            report.above_positive += int(positive not in ranked or ranked.index(choice) < ranked.index(positive))
            out.append(documents[choice])
    return out


def fused_order(cosines: np.ndarray, bm25: np.ndarray, depth: int) -> list[int]:
    """Pool positions best first by reciprocal-rank fusion of the top ``depth`` of each ranking
    (BM25 ranks only the positions with a positive score)."""
    fused: dict[int, float] = defaultdict(float)
    lexical_hits = np.flatnonzero(bm25 > 0)
    rankings = (np.argsort(-cosines, kind="stable")[:depth],
                lexical_hits[np.argsort(-bm25[lexical_hits], kind="stable")][:depth])
    for top in rankings:
        for rank, position in enumerate(top.tolist(), 1):
            fused[position] += 1.0 / (RRF_K + rank)
    return sorted(fused, key=lambda p: (-fused[p], p))


def first_acceptable(ranked: Sequence[int], positive: int, group: Sequence[Pair], doc_words: Sequence[set[str]],
                     duplicate: float) -> tuple[int | None, int]:
    """The best-ranked candidate that is neither the positive nor its near-duplicate, and how many were skipped."""
    skipped = 0
    for candidate in ranked:
        if candidate == positive:
            continue
        if is_near_duplicate(group[positive], group[candidate], doc_words[positive], doc_words[candidate], duplicate):
            skipped += 1
            continue
        return candidate, skipped
    return None, skipped


def is_near_duplicate(positive: Pair, candidate: Pair, positive_words: set[str], candidate_words: set[str],
                      duplicate: float) -> bool:
    """Whether ``candidate`` would be a false negative for ``positive``'s query: the same document or
    query (docstring), or either one's words shared at ``duplicate`` Jaccard or more."""
    if candidate.document == positive.document or candidate.query.strip().lower() == positive.query.strip().lower():
        return True
    return (jaccard(_words(positive.query), _words(candidate.query)) >= duplicate
            or jaccard(positive_words, candidate_words) >= duplicate)


def jaccard(a: set[str], b: set[str]) -> float:
    """Word-set Jaccard similarity (0.0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _words(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower()))
