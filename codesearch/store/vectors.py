"""FAISS vector storage: an exhaustive inner-product index whose ids are SQLite chunk ids.

Each committed index state has a generation number; its vectors live in
``vectors-<generation>.faiss``, written to a temporary file, fsynced and renamed into
place *before* the SQLite transaction that points ``meta.generation`` at it commits.
A reader therefore always finds the file of the generation it read, and a run killed
halfway leaves the previous generation untouched.

Files are read and written through Python file objects (FAISS's callback I/O), never
by path: a read does not follow a symlink, and a write error such as a full disk raises
instead of being printed and ignored by FAISS's own ``fclose``. A vector file is data, not
trust (a repository can ship its own ``.codesearch/``): before FAISS parses a file, its size
must be exactly what the metadata's count and dimension imply and its header must be byte
for byte the one we write for that count and dimension (index types, metric, quantizer,
trained-vector size), so FAISS never allocates from a crafted field. After loading, the ids
must be in increasing order (the writer keeps them sorted, so the position of every id is
fixed and a swap in the id map is caught) and match the metadata's checksum of the SQLite ids.
Every stored vector must be a unit vector, as the writer stores them (or zero: a text with no
known token), so bytes overwritten inside the vectors, which keep the size, the header and the
ids, are caught before a search ranks by them (``_check_lengths``).

From ``codesearch.store.ivf.ANN_THRESHOLD`` vectors on, the file holds an approximate (IVF) index in
a layout of our own instead (``codesearch.store.ivf``); ``VectorStore.load`` tells the two apart by
the magic, and returns an ``IvfVectorStore`` (a ``VectorStore`` with the same API) for it.
"""

from __future__ import annotations

import functools
import os
import stat
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from codesearch.embed import Vectors
from codesearch.errors import IndexCorrupt
from codesearch.store.indexdir import open_index_file, write_atomically

if TYPE_CHECKING:
    import faiss

_IO_BLOCK = 1 << 22
MAX_DIM = 1 << 16  # far above any embedding model's; a larger dimension in the metadata is damage
# A stored unit vector's squared length is within 3e-4 of 1 after float16 rounding; damage lands far off.
LENGTH_TOLERANCE = 0.02
_CHECKED_ROWS = 1 << 14  # vectors converted to float32 at a time by ``_check_lengths``


def id_checksum(ids: npt.ArrayLike) -> str:
    """A checksum of a set of ids: ``count:hex`` (a sum of SplitMix64 mixes).

    Independent of order, so SQLite's ids, the lexical file's and the vector file's can be
    compared; their order is checked separately, since both files keep ids strictly increasing
    (``VectorStore.load``, ``LexicalIndex.load``): with the order fixed, equal checksums mean
    every position of a file holds the same id, and two swapped ids fail the order check.
    """
    x = np.asarray(ids, dtype=np.int64).astype(np.uint64)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return f"{x.size}:{int(x.sum(dtype=np.uint64)):016x}"


def as_stored(vectors: Vectors) -> npt.NDArray[np.float16]:
    """``vectors`` as the store keeps them: float16, rounded by FAISS's own float16 quantizer, so adding
    them gives bit for bit the codes that adding the float32 vectors gives, at half their memory (what
    an index run holds until it writes a generation)."""
    import faiss  # here, as in every function that needs it: a search of a flat index never imports it

    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if x.ndim != 2 or not len(x):
        return x.astype(np.float16)
    return faiss.ScalarQuantizer(x.shape[1], faiss.ScalarQuantizer.QT_fp16).compute_codes(x).view(np.float16)


@contextmanager
def threads_for(queries: int) -> Iterator[None]:
    """FAISS's OpenMP threads for a search of ``queries`` vectors in this thread: one for one query.

    One query gains nothing from a second thread (a flat search of 20k vectors 0.55 ms either way, IVF at
    970k 8 ms), but a waiting OpenMP thread spins: with both cores busy elsewhere, a one-query search of
    1,801 vectors took 17-18 ms on two threads against 0.05 ms on one (20k: 20 against 0.5 ms). The
    setting is this thread's (OpenMP keeps it per thread) and restored after, so an index run in
    another thread, or later in this one, keeps every core.
    """
    if queries != 1:
        yield
        return
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


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

    def __init__(self, index: faiss.Index) -> None:
        self.index = index

    @classmethod
    def empty(cls, dim: int) -> VectorStore:
        """A new store with no vectors."""
        import faiss

        quantizer = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
        return cls(faiss.IndexIDMap2(quantizer))

    @classmethod
    def load(cls, path: Path, dim: int, count: int, checksum: str | None = None, *,
             mmap: bool = False) -> VectorStore:
        """Read a FAISS file and check it against the metadata's dimension, count and id checksum.

        An IVF file (``codesearch.store.ivf``, which the writer keeps above ``ivf.ANN_THRESHOLD`` vectors)
        is told by its magic and read as an ``IvfVectorStore``, checked the same way.

        :param checksum: ``id_checksum`` of the ids SQLite holds (None: not checked).
        :param mmap: map the vectors instead of reading them (read-only: for searching, not
            for a writer that adds and removes). A search then costs no load of the file; the
            page cache serves it. The file is still opened without following links, and
            mapped through that descriptor (``/proc/self/fd``; read as usual where there is none).
            An IVF file is always read (copied into FAISS's lists).
        :raises IndexCorrupt: if the file is missing or unreadable, its header is not the one we
            write for ``count`` vectors of dimension ``dim``, its ids are out of order, or it
            disagrees with SQLite.
        :raises UnsafeIndexDir: if the file is a symlink.
        """
        _check_shape(path, dim, count)
        import faiss

        fd = open_index_file(path, "vector file")
        with os.fdopen(fd, "rb", buffering=0) as fh:
            st = os.fstat(fd)
            if stat.S_ISREG(st.st_mode) and _is_ivf_file(fd):
                from codesearch.store.ivf import IvfVectorStore  # which imports this module

                store: VectorStore = IvfVectorStore.read(fd, path.name, dim, count)
                if checksum is not None and store.id_checksum() != checksum:
                    raise IndexCorrupt(f"the ids in vector file {path.name} do not match the metadata's "
                                       "(damaged id map)")
                return store
            _check_flat(fd, st, path.name, dim, count)
            _check_mapped_lengths(fd, path.name, dim, count)
            try:
                via_fd = f"/proc/self/fd/{fd}"
                if mmap and os.path.exists(via_fd):
                    index = faiss.read_index(via_fd, faiss.IO_FLAG_MMAP_IFC)
                else:
                    index = faiss.read_index(faiss.PyCallbackIOReader(fh.read, _IO_BLOCK))
            except (RuntimeError, OSError, MemoryError) as exc:
                message = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
                raise IndexCorrupt(f"vector file {path.name} is unreadable ({message})") from exc
        if not isinstance(index, faiss.IndexIDMap2):
            index = faiss.downcast_index(index)
        if not isinstance(index, faiss.IndexIDMap2) or index.d != dim or index.ntotal != count:
            raise IndexCorrupt(
                f"vector file {path.name} holds {index.ntotal} vectors of dimension {index.d}; "
                f"the metadata expects {count} of dimension {dim}"
            )
        store = cls(index)
        _check_ids(store.ids(), path.name, checksum)
        return store

    @classmethod
    def check(cls, path: Path, dim: int, count: int, checksum: str | None = None) -> None:
        """Check a vector file as ``load`` does, cheaply: a flat file is mapped, an IVF file is checked
        without building its index (0.5 s and 0.5 GB at 1M vectors).

        :raises IndexCorrupt, UnsafeIndexDir: as ``load`` does.
        """
        fd = open_index_file(path, "vector file")
        with os.fdopen(fd, "rb", buffering=0):
            if stat.S_ISREG(os.fstat(fd).st_mode) and _is_ivf_file(fd):
                from codesearch.store.ivf import check_file  # which imports this module

                check_file(fd, path.name, dim, count, checksum)
                return
        cls.load(path, dim, count, checksum, mmap=True)

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
        import faiss

        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def id_checksum(self) -> str:
        """``id_checksum`` of the stored ids (the metadata keeps the same of the SQLite ids)."""
        return id_checksum(self.ids())

    def add(self, ids: npt.NDArray[np.int64], vectors: Vectors) -> None:
        """Add unit vectors (n, dim) under int64 ids."""
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: Iterable[int]) -> None:
        """Remove vectors by id; unknown ids are ignored."""
        import faiss

        array = np.fromiter(ids, dtype=np.int64)
        if array.size:
            self.index.remove_ids(faiss.IDSelectorBatch(array))

    def search(
        self, queries: Vectors, k: int, allowed: npt.NDArray[np.int64] | None = None
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Top-k by inner product: (scores, ids), each (nq, k), padded with id -1.

        :param allowed: if given, only these ids can be returned (exact filtered search).
        """
        import faiss

        k = max(1, min(k, self.count)) if self.count else 1
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        with threads_for(len(queries)):
            return self.index.search(queries, k, params=params)

    def vectors(self, ids: list[int]) -> npt.NDArray[np.float32]:
        """The stored vectors of ``ids``, one row each. :raises KeyError: for an unknown id."""
        if not ids:
            return np.zeros((0, self.dim), dtype=np.float32)
        try:
            return self.index.reconstruct_batch(np.asarray(ids, dtype=np.int64)).astype(np.float32)
        except RuntimeError as exc:  # FAISS: "key not found"
            raise KeyError(str(exc)) from None

    def similarity(self, ids: list[int], query: Vectors) -> npt.NDArray[np.float32]:
        """Inner products of one query vector (dim,) with the stored vectors of ``ids``."""
        if not ids:
            return np.zeros(0, dtype=np.float32)
        return self.vectors(ids) @ np.asarray(query, dtype=np.float32)

    def save(self, path: Path) -> None:
        """Write atomically: new temp file (``O_EXCL``) in the same directory, fsync, rename.

        :raises OSError: if the file cannot be written completely (e.g. ENOSPC); nothing is renamed.
        """
        import faiss

        self._sort()
        write_atomically(path, lambda fh: faiss.write_index(self.index, faiss.PyCallbackIOWriter(fh.write, _IO_BLOCK)),
                         _file_size(self.dim, self.count))

    def _sort(self) -> None:
        """Order the vectors by id (a no-op when they already are, as appends of new ids keep them),
        so that ``load`` can require increasing ids. Moves the float16 codes, not decoded vectors."""
        import faiss

        ids = self.ids()
        if len(ids) < 2 or bool((ids[1:] > ids[:-1]).all()):
            return
        order = np.argsort(ids, kind="stable")
        quantizer = faiss.downcast_index(self.index.index)
        codes = faiss.vector_to_array(quantizer.codes).reshape(len(ids), -1)
        faiss.copy_array_to_vector(np.ascontiguousarray(codes[order]).ravel(), quantizer.codes)
        self.index.id_map.clear()
        faiss.copy_array_to_vector(ids[order], self.index.id_map)
        self.index.construct_rev_map()


# A flat file of at most this many vectors is searched with numpy (``FlatVectors``), whose float32 copy of the
# vectors a long-lived process keeps (64 MB at 256 dimensions); a larger one with FAISS, on its mapped float16.
NUMPY_UP_TO = 65_536


class FlatVectors:
    """A flat vector file read for searching only, with numpy instead of FAISS: the same API as ``VectorStore``'s
    reading half and the same answers (each score the float32 inner product of the query with the stored
    float16 vector), without importing FAISS, which took 45-100 ms of a one-shot ``codesearch search``.

    The file is checked as ``VectorStore.load`` checks it (size, header byte for byte, increasing ids, the
    metadata's checksum, unit vectors) and mapped read-only through the descriptor it was opened by; the float32
    copy of the vectors that a search multiplies is made when it is opened (the lengths are checked on it) and
    kept, the only copy read after (4 bytes a component: a long-lived process holds it, for at most
    ``NUMPY_UP_TO`` vectors).
    """

    def __init__(self, matrix: npt.NDArray[np.float32], ids: npt.NDArray[np.int64], keep: object = None) -> None:
        self._matrix = matrix  # the stored float16 vectors as float32
        self._ids = ids
        self._keep = keep  # the mapping ``ids`` views

    @classmethod
    def open(cls, path: Path, dim: int, count: int, checksum: str | None = None) -> FlatVectors | None:
        """The flat vector file at ``path`` (None: it holds an IVF index; read it with ``VectorStore.load``).

        :raises IndexCorrupt, UnsafeIndexDir: as ``VectorStore.load`` does.
        """
        _check_shape(path, dim, count)
        import mmap

        fd = open_index_file(path, "vector file")
        try:
            st = os.fstat(fd)
            if stat.S_ISREG(st.st_mode) and _is_ivf_file(fd):
                return None
            _check_flat(fd, st, path.name, dim, count)
            mapped = mmap.mmap(fd, _file_size(dim, count), access=mmap.ACCESS_READ)
        finally:
            os.close(fd)
        prefix, _, code_size = _header(dim)
        ids = np.frombuffer(mapped, dtype="<i8", count=count, offset=len(prefix) + 16 + count * code_size)
        _check_ids(ids, path.name, checksum)
        matrix = _mapped_codes(mapped, dim, count).astype(np.float32)
        _check_lengths(matrix, path.name)
        return cls(matrix, ids, mapped)

    @property
    def count(self) -> int:
        return len(self._ids)

    @property
    def dim(self) -> int:
        return int(self._matrix.shape[1])

    def ids(self) -> npt.NDArray[np.int64]:
        return np.asarray(self._ids, dtype=np.int64)

    def id_checksum(self) -> str:
        return id_checksum(self._ids)

    def search(self, queries: Vectors, k: int, allowed: npt.NDArray[np.int64] | None = None
               ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Top-k by inner product: (scores, ids), each (nq, k), padded with id -1 (``VectorStore.search``)."""
        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = max(1, min(k, self.count)) if self.count else 1
        if allowed is None:
            rows = np.arange(self.count)
            scores = q @ self._matrix.T
        else:
            wanted = np.asarray(allowed, dtype=np.int64)
            at = np.searchsorted(self._ids, wanted)
            found = at < self.count
            found[found] = self._ids[at[found]] == wanted[found]
            rows = np.unique(at[found])
            scores = q @ self._matrix[rows].T
        out_scores = np.full((len(q), k), -np.finfo(np.float32).max, dtype=np.float32)
        out_ids = np.full((len(q), k), -1, dtype=np.int64)
        take = min(k, len(rows))
        for n, row in enumerate(scores):
            best = np.argpartition(-row, take - 1)[:take] if take < len(row) else np.arange(len(row))
            best = best[np.lexsort((rows[best], -row[best]))]  # by score (then position: one order every time)
            out_scores[n, :take] = row[best]
            out_ids[n, :take] = self._ids[rows[best]]
        return out_scores, out_ids

    def vectors(self, ids: list[int]) -> npt.NDArray[np.float32]:
        """The stored vectors of ``ids``, one row each. :raises KeyError: for an unknown id."""
        if not ids:
            return np.zeros((0, self.dim), dtype=np.float32)
        wanted = np.asarray(ids, dtype=np.int64)
        at = np.searchsorted(self._ids, wanted)
        if bool((at >= self.count).any()) or not bool((self._ids[np.minimum(at, self.count - 1)] == wanted).all()):
            raise KeyError("key not found")
        return self._matrix[at]

    def similarity(self, ids: list[int], query: Vectors) -> npt.NDArray[np.float32]:
        """Inner products of one query vector (dim,) with the stored vectors of ``ids``."""
        if not ids:
            return np.zeros(0, dtype=np.float32)
        return self.vectors(ids) @ np.asarray(query, dtype=np.float32)


SearchedVectors = VectorStore | FlatVectors  # what a search reads (``IndexReader.snapshot_vectors``)


def _is_ivf_file(fd: int) -> bool:
    """Whether the open file starts with the magic of ``codesearch.store.ivf``'s layout."""
    return os.pread(fd, 8, 0) in (b"CSIVF001", b"CSIVF002")


def _check_shape(path: Path, dim: int, count: int) -> None:
    """:raises IndexCorrupt: if the metadata's dimension or count cannot be a vector file's."""
    if not 0 < dim <= MAX_DIM or count < 0:
        raise IndexCorrupt(f"the metadata gives vector file {path.name} dimension {dim} and count {count}")


def _check_flat(fd: int, st: os.stat_result, name: str, dim: int, count: int) -> None:
    """Check an open flat vector file (``st`` its ``fstat``) before anything reads its vectors: a regular file of
    exactly the size ``count`` vectors of dimension ``dim`` take, with our header byte for byte.

    :raises IndexCorrupt: naming what differs.
    """
    expected = _file_size(dim, count)
    if not stat.S_ISREG(st.st_mode) or st.st_size != expected:
        raise IndexCorrupt(f"vector file {name} has {st.st_size:,} bytes; {count:,} vectors of "
                           f"dimension {dim} take {expected:,} (truncated or damaged)")
    _check_header(fd, name, dim, count)


def _check_ids(ids: npt.NDArray[np.int64], name: str, checksum: str | None) -> None:
    """:raises IndexCorrupt: if a flat file's ids are out of order or do not match the metadata's ``checksum``."""
    if len(ids) > 1 and not bool((ids[1:] > ids[:-1]).all()):
        raise IndexCorrupt(f"the ids in vector file {name} are out of order (damaged id map)")
    if checksum is not None and id_checksum(ids) != checksum:
        raise IndexCorrupt(f"the ids in vector file {name} do not match the metadata's (damaged id map)")


def _check_lengths(vectors: npt.NDArray[np.floating], name: str) -> None:
    """Check every row is a unit vector (or zero), as the writer stores them.

    :raises IndexCorrupt: counting the rows that are not (NaN, infinite or of another length: overwritten bytes).
    """
    _raise_if_not_unit(_not_unit(vectors), len(vectors), name)


def _check_mapped_lengths(fd: int, name: str, dim: int, count: int) -> None:
    """``_check_lengths`` of an open flat file's vectors (size and header checked before), read through a mapping.

    :raises IndexCorrupt: as ``_check_lengths``.
    """
    if not count:
        return
    import mmap

    mapped = mmap.mmap(fd, _file_size(dim, count), access=mmap.ACCESS_READ)
    codes = _mapped_codes(mapped, dim, count)
    bad = _not_unit(codes)
    del codes  # the mapping closes only once no array views it
    mapped.close()
    _raise_if_not_unit(bad, count, name)


def _mapped_codes(mapped: object, dim: int, count: int) -> npt.NDArray[np.float16]:
    """The float16 vectors of a mapped flat file (its size and header checked), as a view: ``count`` rows."""
    prefix, _, _ = _header(dim)
    return np.frombuffer(mapped, dtype="<f2", count=count * dim, offset=len(prefix) + 8).reshape(count, dim)


def _not_unit(vectors: npt.NDArray[np.floating]) -> int:
    """How many rows are neither unit vectors nor zero, ``_CHECKED_ROWS`` converted to float32 at a time."""
    bad = 0
    for start in range(0, len(vectors), _CHECKED_ROWS):
        block = np.asarray(vectors[start : start + _CHECKED_ROWS], dtype=np.float32)
        squared = np.einsum("ij,ij->i", block, block)
        bad += len(block) - int(np.count_nonzero((np.abs(squared - 1.0) <= LENGTH_TOLERANCE) | (squared == 0.0)))
    return bad


def _raise_if_not_unit(bad: int, count: int, name: str) -> None:
    if bad:
        raise IndexCorrupt(f"vector file {name} is damaged ({bad:,} of its {count:,} vectors are not unit "
                           "vectors: overwritten bytes)")


def _check_header(fd: int, name: str, dim: int, count: int) -> None:
    """Check the file's header is exactly ours for ``count`` vectors of dimension ``dim``.

    Everything FAISS reads before the vectors (index types, dimensions, counts, metric,
    quantizer type, code size, the trained-vector size) and the two array lengths are
    compared with what ``save`` writes; the file's size was checked before.

    :raises IndexCorrupt: naming the first byte that differs.
    """
    prefix, counts_at, code_size = _header(dim)
    expected = bytearray(prefix)
    for at in counts_at:
        expected[at : at + 8] = count.to_bytes(8, "little")
    expected += (count * code_size).to_bytes(8, "little")
    found = os.pread(fd, len(expected), 0)
    ids_length = os.pread(fd, 8, len(expected) + count * code_size)
    if found != expected or ids_length != count.to_bytes(8, "little"):
        at = next((i for i, (a, b) in enumerate(zip(found, expected)) if a != b), len(expected))
        raise IndexCorrupt(f"vector file {name} is unreadable (not ours: its header differs at byte {at} from "
                           f"that of {count:,} float16 inner-product vectors of dimension {dim})")


@functools.lru_cache(maxsize=8)
def _header(dim: int) -> tuple[bytes, tuple[int, ...], int]:
    """Our header at this dimension: (the bytes before the vectors with every count zeroed, the offsets of
    those int64 counts, bytes per stored vector), as FAISS writes an ``IndexIDMap2`` ("IxM2") over a float16
    inner-product ``IndexScalarQuantizer`` ("IxSQ"): each index's dimension, count, two unused int64 fields
    (2**20), "trained" and the metric (0: inner product); then the quantizer's type (4: fp16), range
    statistic and its argument, the dimension and code size (int64) and an empty trained vector. Written
    here, not learnt from FAISS, so that a search reads a flat file without importing it; a test checks it
    against FAISS's own output.
    """
    def index(fourcc: bytes) -> bytes:
        return fourcc + struct.pack("<iqqqBi", dim, 0, 1 << 20, 1 << 20, 1, 0)

    code_size = 2 * dim
    outer = index(b"IxM2")
    prefix = outer + index(b"IxSQ") + struct.pack("<iifqqq", 4, 0, 0.0, dim, code_size, 0)
    return prefix, (8, len(outer) + 8), code_size


def _sizes(dim: int) -> tuple[int, int]:
    """(bytes of an empty file, bytes per vector) of our FAISS layout at this dimension: the header, then
    the codes and the ids, each an int64 length and the data."""
    prefix, _, code_size = _header(dim)
    return len(prefix) + 16, code_size + 8


def _file_size(dim: int, count: int) -> int:
    """The exact size of a vector file holding ``count`` vectors of dimension ``dim``."""
    empty, per_vector = _sizes(dim)
    return empty + count * per_vector
