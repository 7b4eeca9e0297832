"""Deep index: every chunk embedded by the reranker ahead of time, so a query pays only for itself.

``codesearch index --deep`` runs this after the ordinary indexing run. It reads each
chunk's reranker text from the index, embeds those whose content hash the reranker's
vector cache (``rerank-cache.db``) lacks, and drops cached vectors of chunks that are no
longer indexed. Incremental like the index: an unchanged chunk is never embedded twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codesearch.rerank import CachingBiEncoder, VectorCache
from codesearch.search import rerank_key, rerank_text
from codesearch.store.reader import IndexReader

BATCH = 256


@dataclass
class DeepReport:
    """What a deep-indexing pass did."""

    chunks: int
    embedded: int
    removed: int
    seconds: float

    @property
    def per_second(self) -> float:
        """Chunks embedded per second."""
        return self.embedded / self.seconds if self.seconds > 0 else 0.0


@dataclass
class DeepPlan:
    """What a deep pass over one index has to do: ``missing`` keys to embed, ``stale`` ones to drop."""

    texts: dict[str, str]  # rerank_key -> reranker text, for every chunk of the index
    missing: list[str]
    stale: set[str]


def plan_deep(index_dir: Path, cache: VectorCache | None, model: str) -> DeepPlan:
    """The chunks of the index that ``cache`` lacks vectors of by ``model`` (a reranker's name),
    and the cached ones no longer indexed.

    :raises IndexNotFound, IndexCorrupt: as ``IndexReader``.
    """
    with IndexReader(index_dir) as reader:
        rows = reader.chunk_contents()
    texts = {rerank_key(row[0]): rerank_text(*row[1:]) for row in rows}
    known = cache.keys(model) if cache else set()
    return DeepPlan(texts, [key for key in texts if key not in known], known - set(texts))


def deep_index(index_dir: Path, reranker: CachingBiEncoder,
               progress: Callable[[str, int, int], None] | None = None) -> DeepReport:
    """Embed every chunk the reranker's cache lacks; forget vectors of chunks gone from the index.

    :raises IndexNotFound, IndexCorrupt: as ``IndexReader``.
    """
    progress = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    plan = plan_deep(index_dir, reranker.cache, reranker.name)
    missing = plan.missing
    for done in range(0, len(missing), BATCH):
        keys = missing[done : done + BATCH]
        reranker.vectors([plan.texts[k] for k in keys], keys)
        progress("deep", min(done + BATCH, len(missing)), len(missing))
    removed = reranker.cache.forget(reranker.name, plan.stale) if reranker.cache else 0
    return DeepReport(len(plan.texts), len(missing), removed, time.perf_counter() - started)
