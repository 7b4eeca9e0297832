"""The transformer stage of ``index-many --deep``: every new chunk embedded by the reranker, on Ray Data.

The one indexing stage that runs a transformer is the deep pass (``codesearch index
--deep``): the reranker's vector of every chunk, cached per index by content hash so a
reranked search pays only for its query. Over a workspace, the chunks that the caches
lack are gathered from every repository into one Ray Data dataset and embedded by
``map_batches`` on a pool of model actors: one GPU each when the cluster has GPUs, else
CPU actors. The driver writes each repository's vectors into its own cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from codesearch.cluster import require_ray

BATCH = 256


class _Encoder:
    """A Ray Data actor: loads the reranker once, embeds batches of texts."""

    def __init__(self, model: str | None) -> None:
        from codesearch.rerank import load_reranker

        self.reranker = load_reranker(Path(model) if model else None)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.reranker.encode_documents([str(t) for t in batch["text"]])
        return {"repo": batch["repo"], "key": batch["key"], "vector": np.asarray(vectors, dtype=np.float32)}


@dataclass
class DeepManyReport:
    """What a workspace deep pass did."""

    chunks: int
    embedded: int
    removed: int
    actors: int
    gpus_per_actor: float
    seconds: float


def deep_many(index_dirs: dict[str, Path], model: Path | None = None,
              progress: Callable[[str, int, int], None] | None = None) -> DeepManyReport:
    """Embed, with the reranker ``model`` (default: the shipped one), every chunk of ``index_dirs``
    (name -> index directory) that its index's cache lacks; drop cached vectors of chunks gone.

    :raises ModelNotFound, MissingExtra: as ``load_reranker``.
    """
    require_ray()  # a clear error when the extra is missing
    import ray
    import ray.data

    from codesearch.deep import plan_deep
    from codesearch.rerank import CACHE_NAME, VectorCache, load_reranker

    progress = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    model_name = load_reranker(model).name  # what the caches key vectors by; each actor loads its own copy
    caches = {name: VectorCache(directory / CACHE_NAME) for name, directory in index_dirs.items()}
    rows: list[dict[str, str]] = []
    removed = chunks = 0
    for name, directory in index_dirs.items():
        plan = plan_deep(directory, caches[name], model_name)
        chunks += len(plan.texts)
        rows.extend({"repo": name, "key": key, "text": plan.texts[key]} for key in plan.missing)
        if plan.stale:
            removed += caches[name].forget(model_name, plan.stale)
    gpus = int(ray.cluster_resources().get("GPU", 0))
    actors = gpus or max(1, int(ray.cluster_resources().get("CPU", 1)) // 2)
    if rows:
        dataset = ray.data.from_items(rows).map_batches(
            _Encoder, fn_constructor_kwargs={"model": str(model) if model else None}, batch_size=BATCH,
            compute=ray.data.ActorPoolStrategy(size=actors), num_gpus=1 if gpus else 0, batch_format="numpy")
        done = 0
        for batch in dataset.iter_batches(batch_size=1024, batch_format="numpy"):
            _store(caches, model_name, batch["repo"], batch["key"], batch["vector"])
            done += len(batch["key"])
            progress("deep", done, len(rows))
    return DeepManyReport(chunks, len(rows), removed, actors if rows else 0, 1.0 if gpus else 0.0,
                          time.perf_counter() - started)


def _store(caches: dict[str, Any], model: str, repos: Sequence[str], keys: Sequence[str],
           vectors: np.ndarray) -> None:
    by_repo: dict[str, dict[str, np.ndarray]] = {}
    for repo, key, vector in zip(repos, keys, vectors):
        by_repo.setdefault(str(repo), {})[str(key)] = vector
    for repo, items in by_repo.items():
        caches[repo].put(model, items)
