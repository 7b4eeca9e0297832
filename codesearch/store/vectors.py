"""FAISS vector storage: an exhaustive inner-product index whose ids are SQLite chunk ids.

Each committed index state has a generation number; its vectors live in
``vectors-<generation>.faiss``, written to a temporary file, fsynced and renamed into
place *before* the SQLite transaction that points ``meta.generation`` at it commits.
A reader therefore always finds the file of the generation it read, and a run killed
halfway leaves the previous generation untouched.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from codesearch.embed import Vectors
from codesearch.errors import IndexCorrupt


def vectors_path(index_dir: Path, generation: int) -> Path:
    """The FAISS file of one generation."""
    return index_dir / f"vectors-{generation}.faiss"


class VectorStore:
    """An ``IndexIDMap2`` over a float16 ``IndexScalarQuantizer`` with inner-product metric.

    Exhaustive search on unit vectors (cosine). A single query is bound by memory
    bandwidth, so storing float16 halves both the file (faster ``codesearch search``
    start-up) and the scan time; the rounding error (about 5e-4 relative per component)
    does not change rankings at the precision scores are shown.
    """

    def __init__(self, index: faiss.IndexIDMap2) -> None:
        self.index = index

    @classmethod
    def empty(cls, dim: int) -> VectorStore:
        """A new store with no vectors."""
        quantizer = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
        return cls(faiss.IndexIDMap2(quantizer))

    @classmethod
    def load(cls, path: Path, dim: int, count: int) -> VectorStore:
        """Read a FAISS file and check it against the metadata's dimension and count.

        :raises IndexCorrupt: if the file is missing, unreadable or disagrees with SQLite.
        """
        if not path.is_file():
            raise IndexCorrupt(f"vector file {path.name} is missing")
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexCorrupt(f"vector file {path.name} is unreadable ({str(exc).splitlines()[0][:120]})") from exc
        if not isinstance(index, faiss.IndexIDMap2):
            index = faiss.downcast_index(index)
        if index.d != dim or index.ntotal != count:
            raise IndexCorrupt(
                f"vector file {path.name} holds {index.ntotal} vectors of dimension {index.d}; "
                f"the metadata expects {count} of dimension {dim}"
            )
        return cls(index)

    @property
    def count(self) -> int:
        """Number of stored vectors."""
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self.index.d)

    def ids(self) -> npt.NDArray[np.int64]:
        """Every stored id."""
        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def add(self, ids: npt.NDArray[np.int64], vectors: Vectors) -> None:
        """Add unit vectors (n, dim) under int64 ids."""
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: Iterable[int]) -> None:
        """Remove vectors by id; unknown ids are ignored."""
        array = np.fromiter(ids, dtype=np.int64)
        if array.size:
            self.index.remove_ids(faiss.IDSelectorBatch(array))

    def search(
        self, queries: Vectors, k: int, allowed: npt.NDArray[np.int64] | None = None
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Top-k by inner product: (scores, ids), each (nq, k), padded with id -1.

        :param allowed: if given, only these ids can be returned (exact filtered search).
        """
        k = max(1, min(k, self.count)) if self.count else 1
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k, params=params)

    def save(self, path: Path) -> None:
        """Write atomically: temp file in the same directory, fsync, rename."""
        fd, tmp = tempfile.mkstemp(prefix=".vectors-", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            faiss.write_index(self.index, tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
