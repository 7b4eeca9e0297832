"""Where downloaded corpora, unpacked teachers and training caches live."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$CODESEARCH_CACHE``, else ``~/.cache/codesearch``."""
    return Path(os.environ.get("CODESEARCH_CACHE", Path.home() / ".cache" / "codesearch"))
