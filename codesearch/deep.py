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

from codesearch.rerank import CachingBiEncoder
from codesearch.search import rerank_text
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


def deep_index(index_dir: Path, reranker: CachingBiEncoder,
               progress: Callable[[str, int, int], None] | None = None) -> DeepReport:
    """Embed every chunk the reranker's cache lacks; forget vectors of chunks gone from the index.

    :raises IndexNotFound, IndexCorrupt: as ``IndexReader``.
    """
    progress = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    with IndexReader(index_dir) as reader:
        rows = reader.conn.execute("SELECT content_hash, kind, qualname, signature, doc, code FROM chunks").fetchall()
    texts = {row[0]: rerank_text(*row[1:]) for row in rows}
    cache = reranker.cache
    known = cache.keys(reranker.name) if cache else set()
    missing = [key for key in texts if key not in known]
    for done in range(0, len(missing), BATCH):
        keys = missing[done : done + BATCH]
        reranker.vectors([texts[k] for k in keys], keys)
        progress("deep", min(done + BATCH, len(missing)), len(missing))
    removed = cache.forget(reranker.name, known - set(texts)) if cache else 0
    return DeepReport(len(texts), len(missing), removed, time.perf_counter() - started)
