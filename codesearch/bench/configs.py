"""Named search configurations for the real-query benchmarks, ablations included.

- ``hybrid``: the default search (vectors + lexical, code-aware ranking, diversity);
- ``static``: the same without the lexical stage;
- ``fusion``: vectors + lexical fused, no ranking signal and no per-file limit;
- ``hybrid-<signal>``: the default with one signal of ``codesearch.ranking.Signals`` off
  (``hybrid-definition``, ``hybrid-path``, ``hybrid-noise``, ``hybrid-kind``, ``hybrid-overloads``, ...);
- ``hybrid-diversity``: the default with at most two hits per file before other files;
- ``hybrid-deep``: the default with 100 hits from each first-stage ranking (the depth before 60);
- ``hybrid-equal-fusion``: the default with the lexical ranking weighted 1 for every kind of query (natural
  language's was 0.8 since path terms came into the lexical index);
- ``hybrid-files``: the default grouped by file (``codesearch search --by-file``): each result is a file
  with its best ``SHOWN`` chunks (``codesearch.search.files``), scored as one result at its file's rank;
- ``two-stage``: the default followed by the transformer rerank of the top ``RERANK_CANDIDATES`` (the shipped
  reranker, or ``rerank_model``).

Each repository is indexed once into ``index_cache/<name>`` (incrementally on later runs)
and searched through ``Searcher.search``, exactly as ``codesearch search`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from codesearch.bench.datasets import DatasetError
from codesearch.ranking import Signals

DEEP_DEPTH = 100  # the first-stage depth before it was lowered to 60 (``hybrid-deep``)
SIGNAL_NAMES = tuple(f.name for f in fields(Signals))
NAMES = ("hybrid", "static", "fusion", *(f"hybrid-{s}" for s in SIGNAL_NAMES), "hybrid-diversity", "hybrid-deep",
         "hybrid-equal-fusion", "hybrid-files", "two-stage")

# (repository name, its root) -> search(text, k) -> results
SearchFactory = Callable[[str, Path], Callable[[str, int], list[Any]]]


def options(name: str) -> dict[str, Any]:
    """``Searcher.search`` keyword arguments of a named configuration.

    :raises DatasetError: for an unknown name.
    """
    if name == "hybrid":
        return {"hybrid": True}
    if name == "static":
        return {"hybrid": False}
    if name == "fusion":
        return {"hybrid": True, "signals": Signals.none(), "per_file": 0}
    if name == "two-stage":
        return {"hybrid": True, "rerank": True}
    if name == "hybrid-files":
        return {"hybrid": True, "by_file": True}
    if name == "hybrid-diversity":
        return {"hybrid": True, "per_file": 2}
    if name == "hybrid-deep":
        return {"hybrid": True, "pool_depth": DEEP_DEPTH}
    if name == "hybrid-equal-fusion":
        return {"hybrid": True, "lexical_weight": 1.0}
    if name.startswith("hybrid-") and name[len("hybrid-"):] in SIGNAL_NAMES:
        return {"hybrid": True, "signals": Signals.without(name[len("hybrid-"):])}
    raise DatasetError(f"unknown system {name!r}; choose from {', '.join(NAMES)}")


def searchers(names: Sequence[str], index_cache: Path, model: Path | None = None,
              rerank_model: Path | None = None) -> dict[str, SearchFactory]:
    """A search factory per configuration name; indexes and searchers are shared between them.

    :raises DatasetError: for an unknown name.
    :raises ModelNotFound, MissingExtra: if ``two-stage`` is asked for and the reranker cannot load.
    """
    from codesearch.embed.static import StaticEmbedder
    from codesearch.pipeline import build_index
    from codesearch.search import Searcher

    chosen = {name: options(name) for name in names}
    embedder = StaticEmbedder(model) if model else StaticEmbedder.default()
    open_searchers: dict[str, Searcher] = {}

    def searcher_for(repo: str, root: Path) -> Searcher:
        if repo not in open_searchers:
            index_dir = Path(index_cache) / repo
            build_index(root, index_dir, embedder)
            open_searchers[repo] = Searcher(index_dir, embedder=embedder)
        return open_searchers[repo]

    def factory(kwargs: dict[str, Any]) -> SearchFactory:
        def build(repo: str, root: Path) -> Callable[[str, int], list[Any]]:
            searcher = searcher_for(repo, root)
            options = dict(kwargs)
            if options.pop("rerank", False):
                from codesearch.rerank import load_reranker

                options["rerank"] = load_reranker(rerank_model, Path(index_cache) / repo)
            if options.pop("by_file", False):
                from codesearch.search import files

                return lambda text, k: files.search_by_file(lambda n: searcher.search(text, n, **options), k)
            return lambda text, k: searcher.search(text, k, **options)

        return build

    return {name: factory(kwargs) for name, kwargs in chosen.items()}
