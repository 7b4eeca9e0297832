"""Score fusion: combine rankings from different retrievers by their scores, each divided by its ranking's best."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def score_fusion(
    scored: Sequence[Sequence[tuple[K, float]]], weights: Sequence[float] | None = None
) -> list[tuple[K, float]]:
    """Fuse scored rankings by their scores, each divided by its ranking's best: sum_i w_i * s_i(d) / max_i.

    Unlike reciprocal-rank fusion, a clear lead in one ranking stays a clear lead. Scores must be
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
