"""Names and versions of the on-disk index layout (no heavy imports here)."""

from __future__ import annotations

INDEX_DIR_NAME = ".codesearch"  # default location: <repo>/.codesearch
DB_NAME = "index.db"  # SQLite metadata
# Bump with a new migration that changes what readers expect. 2: chunks_fts. 3: the root
# relative to the index directory, files.ctime_ns, meta.id_checksum of the vector ids.
# 4: chunks_fts with whole compound identifiers and the Porter stemmer.
SCHEMA_VERSION = 4
APPLICATION_ID = 0x43534958  # SQLite's `PRAGMA application_id` of an index.db: "CSIX"
