"""Ranking metrics for retrieval with one or more relevant documents per query.

Each function takes the ranked list of returned keys and the set of relevant keys.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence, Set


def first_relevant_rank(ranked: Sequence[str], relevant: Set[str]) -> int | None:
    """1-based rank of the first relevant key, or None if none was returned."""
    for rank, key in enumerate(ranked, 1):
        if key in relevant:
            return rank
    return None


def reciprocal_rank(ranked: Sequence[str], relevant: Set[str]) -> float:
    """1 / rank of the first relevant key; 0 if none was returned."""
    rank = first_relevant_rank(ranked, relevant)
    return 0.0 if rank is None else 1.0 / rank


def recall_at(ranked: Sequence[str], relevant: Set[str], k: int) -> float:
    """Share of the relevant keys found in the top ``k``."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / len(relevant)


def hit_at(ranked: Sequence[str], relevant: Set[str], k: int) -> float:
    """1 if any relevant key is in the top ``k``, else 0 (success@k)."""
    return 1.0 if any(key in relevant for key in ranked[:k]) else 0.0


def ndcg_at(ranked: Sequence[str], relevant: Set[str], k: int) -> float:
    """Normalised discounted cumulative gain at ``k`` with binary relevance."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, key in enumerate(ranked[:k], 1) if key in relevant)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / ideal if ideal else 0.0


def rank_metrics(rank: int | None) -> dict[str, float]:
    """MRR and NDCG@10 contributions of one query whose single relevant item is at ``rank``."""
    if rank is None:
        return {"mrr": 0.0, "ndcg@10": 0.0}
    return {"mrr": 1.0 / rank, "ndcg@10": 1.0 / math.log2(rank + 1) if rank <= 10 else 0.0}


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct``-th percentile by nearest rank (0 for no values)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))] if ordered else 0.0


def throughput(fn: Callable[[list[str]], object], texts: list[str]) -> float:
    """Texts per second of one call ``fn(texts)`` (for the speed benchmarks)."""
    started = time.perf_counter()
    fn(texts)
    return len(texts) / (time.perf_counter() - started)
