"""codesearch: local semantic code search with a static embedding model.

Library use::

    from codesearch import build_index, Searcher
    build_index(Path("myrepo"))
    with Searcher(Path("myrepo/.codesearch")) as s:
        for hit in s.search("retry failed http requests", k=5):
            print(hit.path, hit.start_line, hit.qualname)

Heavy modules are imported lazily so that ``import codesearch`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codesearch.errors import (
    BadQuery,
    CodeSearchError,
    IndexCorrupt,
    IndexLocked,
    IndexNotFound,
    IndexOutOfDate,
    MissingExtra,
    ModelNotFound,
)

__version__ = "0.1.0"

if TYPE_CHECKING:
    from codesearch.pipeline import build_index
    from codesearch.search import Searcher, SearchResult

_LAZY = {"build_index": "codesearch.pipeline", "Searcher": "codesearch.search", "SearchResult": "codesearch.search"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


__all__ = [
    "BadQuery",
    "CodeSearchError",
    "IndexCorrupt",
    "IndexLocked",
    "IndexNotFound",
    "IndexOutOfDate",
    "MissingExtra",
    "ModelNotFound",
    "SearchResult",
    "Searcher",
    "__version__",
    "build_index",
]
