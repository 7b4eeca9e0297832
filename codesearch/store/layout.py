"""Names and versions of the on-disk index layout (no heavy imports here)."""

from __future__ import annotations

INDEX_DIR_NAME = ".codesearch"  # default location: <repo>/.codesearch
DB_NAME = "index.db"  # SQLite metadata
SCHEMA_VERSION = 2  # bump with a new migration that changes what readers expect (2: chunks_fts)
