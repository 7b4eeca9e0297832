"""Code-aware terms: what the lexical stage matches, shared by queries and indexing.

Identifiers are split into words (``parseJsonString`` -> ``parse``, ``json``, ``string``)
and compound identifiers are also kept whole (``parsejsonstring``); words are lowercased
and lightly stemmed (``codesearch.query.stem``), exactly as a query is, and stopwords are
dropped. A chunk's terms come from its name, signature, doc and code, the name counting
``FIELD_WEIGHTS`` times more (a BM25F-style weighted term frequency). Terms are 32-bit
hashes (CRC-32), so no vocabulary has to be kept in sync.

The indexer stores each chunk's weighted terms (``chunk_terms``) in SQLite; the postings
file built from them, and scored against a query's ``query_terms``, is
``codesearch.store.postings``.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from codesearch.embed.text import split_identifiers
from codesearch.query import STOPWORDS, stem

FIELD_WEIGHTS = (3.0, 1.5, 1.0, 1.0)  # name, signature, doc, code
# The file's name (without its extension) and its directory's name: every chunk of ``JsonElement.java``
# is about a JSON element, though its code may never spell the class's name out.
PATH_WEIGHTS = (2.0, 1.0)  # file name, directory name
CODE_CHARS = 4000  # code characters of a chunk that the lexical index reads
FLOAT16_MAX = 65504.0  # the largest weighted term frequency a chunk stores (float16's largest finite value)
CACHED_RUNS = 50_000  # runs of word characters (and terms) whose terms (ids) are remembered, per process
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")
_WORD = re.compile(r"[a-z0-9]+")
_RUN = re.compile(r"[\w$]+")


def terms(text: str) -> list[str]:
    """The code-aware terms of any text (documents and queries alike), as a multiset.

    Computed per run of word characters (every boundary the splitting rules look at lies
    inside one), each run's terms cached: code repeats its words, so most runs are seen
    before. The same terms as ``_terms_of_run`` over the whole text, in another order.
    """
    out: list[str] = []
    for run in _RUN.findall(text):
        out.extend(_terms_of_run(run))
    return out


@lru_cache(maxsize=CACHED_RUNS)
def _terms_of_run(text: str) -> tuple[str, ...]:
    """Split words (stemmed, no stopwords) and whole compound identifiers of ``text``."""
    out = [stem(w) for w in _WORD.findall(split_identifiers(text).lower()) if len(w) > 1 and w not in STOPWORDS]
    for identifier in _IDENTIFIER.findall(text):
        core = identifier.strip("_$")
        if "_" in core or (not core.islower() and not core.isupper() and not core[1:].islower()):
            out.append(identifier.lower().replace("_", "").replace("$", ""))
    return tuple(out)


def term_ids(words: Iterable[str]) -> npt.NDArray[np.uint32]:
    """32-bit hashes of terms."""
    return np.fromiter((zlib.crc32(w.encode()) for w in words), dtype=np.uint32)


def path_fields(path: str) -> tuple[str, str]:
    """The file's name without its extension and its directory's name (``gson/JsonElement.java`` ->
    ``JsonElement``, ``gson``)."""
    parts = path.rsplit("/", 2)
    return parts[-1].split(".", 1)[0], parts[-2] if len(parts) > 1 else ""


def chunk_terms(name: str, signature: str, doc: str, code: str, path: str = "") -> tuple[bytes, bytes, float]:
    """(term ids, weighted term frequencies, weighted length) of one chunk, as stored in SQLite
    (uint32 hashes and float16 frequencies, little-endian bytes). ``path``: the chunk's file, whose
    name and directory are fields too (``PATH_WEIGHTS``)."""
    counts: dict[str, float] = {}
    get = counts.get
    fields = (*FIELD_WEIGHTS, *PATH_WEIGHTS), (name, signature, doc, code[:CODE_CHARS], *path_fields(path))
    for weight, text in zip(*fields, strict=True):
        for term in terms(text):
            counts[term] = get(term, 0.0) + weight
    # struct, not numpy: two small arrays per chunk, where numpy's per-call cost dominated.
    n = len(counts)
    ids = struct.pack(f"<{n}I", *(_crc(term) for term in counts))
    # float16, rounded as numpy rounds; a count past its largest value (one word 70,000 times in a docstring
    # raised OverflowError and stopped the whole index run) is kept at it: BM25 saturates long before.
    weights = struct.pack(f"<{n}e", *(min(weight, FLOAT16_MAX) for weight in counts.values()))
    return ids, weights, float(sum(struct.unpack(f"<{n}e", weights)))


@lru_cache(maxsize=CACHED_RUNS)
def _crc(term: str) -> int:
    return zlib.crc32(term.encode())


def query_terms(words: Sequence[str], compounds: Sequence[str] = ()) -> npt.NDArray[np.uint32]:
    """Distinct term ids of a query: its split words (stemmed here) and its compound identifiers."""
    return term_ids(dict.fromkeys([*(stem(w) for w in words), *compounds]))
