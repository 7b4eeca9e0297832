"""Names and versions of the on-disk index layout (no heavy imports here)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

INDEX_DIR_NAME = ".codesearch"  # default location: <repo>/.codesearch
DB_NAME = "index.db"  # SQLite metadata
# Bump with a new migration that changes what readers expect. 2: chunks_fts (FTS5). 3: the root
# relative to the index directory, files.ctime_ns, meta.id_checksum of the vector ids.
# 4: no more FTS5: each chunk's weighted code-aware terms in the ``lexical`` table (the source
# of every generation's lexical-<n>.bin postings file), indexes on chunk names and content hashes.
# 5: the stored code compressed (``chunks.code_z``), the terms in the lexical file only (no ``lexical``
# table; the file holds term frequencies and chunk lengths, the impacts are computed per query).
# 6: each file's topic (``files.topic``: the normalised mean of its chunks' vectors, float16).
# 7: ``chunks.key`` without the path it starts with (``KEY_SQL`` puts it back): NULL for the usual
# ``PATH::QUALNAME``, ``::QUALNAME#2`` or ``::QUALNAME@w2`` for overloads and windows (0.15x of the source).
# 8: chunks name their file by ``files.id`` (``chunk_rows.file``), not by path; ``chunks`` is a view with the
# path, which readers read (0.25x of the source on disk, the path column and its index).
SCHEMA_VERSION = 8
# The view readers read chunks through (schema 8): the only view codesearch writes.
CHUNKS_VIEW = ("CREATE VIEW chunks AS SELECT c.id AS id, c.key AS key, f.path AS path, f.language AS language, "
               "c.kind AS kind, c.name AS name, c.qualname AS qualname, c.signature AS signature, c.doc AS doc, "
               "c.start_line AS start_line, c.end_line AS end_line, c.content_hash AS content_hash, "
               "c.code_z AS code_z FROM chunk_rows c JOIN files f ON f.id = c.file")
# A chunk's key as readers see it, from the stored column (``stored_key`` writes it).
KEY_SQL = ("CASE WHEN key IS NULL THEN path || '::' || qualname WHEN substr(key, 1, 2) = '::' THEN path || key "
           "ELSE key END")


def stored_key(key: str, path: str, qualname: str) -> str | None:
    """What ``chunks.key`` stores for a chunk's key (see ``KEY_SQL``)."""
    if key == f"{path}::{qualname}":
        return None
    if key.startswith(f"{path}::"):
        return key[len(path):]
    return key


APPLICATION_ID = 0x43534958  # SQLite's `PRAGMA application_id` of an index.db: "CSIX"


def in_batches(values: Sequence[T], size: int = 500) -> Iterator[tuple[Sequence[T], str]]:
    """``values`` in parts of at most ``size``, each with its ``?`` placeholders for an SQL ``IN (...)``."""
    for start in range(0, len(values), size):
        part = values[start : start + size]
        yield part, ",".join("?" * len(part))
