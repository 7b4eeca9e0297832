"""Rank fusion: combine rankings from different retrievers without calibrating their scores."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

RRF_K = 60  # the constant of Cormack et al. (2009); damps the weight of the very top ranks


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[K, float]]:
    """Fuse rankings (best first) by reciprocal rank: score(d) = sum_i w_i / (k + rank_i(d)).

    Items missing from a ranking get nothing from it. Ties keep first-seen order.
    """
    weights = weights or [1.0] * len(rankings)
    scores: dict[K, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


def score_fusion(
    scored: Sequence[Sequence[tuple[K, float]]], weights: Sequence[float] | None = None
) -> list[tuple[K, float]]:
    """Fuse scored rankings by their scores, each divided by its ranking's best: sum_i w_i * s_i(d) / max_i.

    Unlike reciprocal rank, a clear lead in one ranking stays a clear lead. Scores must be
    non-negative (cosines below zero count as zero). Ties keep first-seen order.
    """
    weights = weights or [1.0] * len(scored)
    fused: dict[K, float] = {}
    for ranking, weight in zip(scored, weights):
        top = max((s for _, s in ranking), default=0.0)
        for item, value in ranking:
            share = max(value, 0.0) / top if top > 0 else 0.0
            fused[item] = fused.get(item, 0.0) + weight * share
    return sorted(fused.items(), key=lambda pair: -pair[1])
