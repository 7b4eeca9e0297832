"""An approximate vector index for large indexes: an inverted file (IVF) of 8-bit vectors.

``VectorStore`` scans every vector, which costs time linear in the index (17-38 ms a query at 1M
chunks). From ``ANN_THRESHOLD`` vectors on, the writer keeps them in an ``IvfVectorStore``
instead: k-means centroids (trained once, on a sample) split the vectors into ``nlist`` lists; a
query scans the ``nprobe`` lists whose centroids are nearest (1/8 of them at 1M vectors: 0.10-0.17
of flat search's time), comparing 8-bit codes: each component is stored in 256 steps between the
least and the greatest value that component takes in the vectors trained on (FAISS ``QT_8bit``,
a quarter of float32, half of the flat store's float16). Unlike a
graph index (HNSW), an inverted file removes entries natively: an incremental run adds new vectors
to their nearest list and removes deleted ids, keeping the centroids, until the index has grown
or shrunk ``RETRAIN_FACTOR`` times since training (``fitted`` then trains again). Choice and
measurements: docs/SCALE.md.

The file (``vectors-<generation>.faiss``, told from the flat layout by its magic) is our own, so
that FAISS never parses an untrusted byte::

    header   magic "CSIVF002", dim u32, nlist u32, count u64, trained_for u64, nprobe u32, 0 u32
    float32  ranges (2, dim): each component's least value, then its step range (FAISS's trained array)
    float32  centroids (nlist, dim)
    uint64   list sizes (nlist)
    int64    ids, list by list, strictly increasing within each list
    uint8    codes (dim bytes a vector), in the order of the ids

The previous layout, magic "CSIVF001", has no ranges and float16 vectors (2 * dim bytes); it is
still read, and the writer's next generation stores it as 8-bit codes over the same centroids.
Its size must be exactly what the header's counts imply, and the counts must be the metadata's,
before anything is allocated; the ranges and centroids must be finite and the steps not negative;
the list sizes must add up to the count; the ids are checked as the flat file's are (against the
metadata's checksum). Loading copies the lists into FAISS.
"""

from __future__ import annotations

import math
import mmap
import os
import struct
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import faiss
import numpy as np
import numpy.typing as npt

from codesearch.embed import Vectors
from codesearch.errors import IndexCorrupt
from codesearch.store.indexdir import write_atomically
from codesearch.store.vectors import VectorStore, id_checksum, threads_for

ANN_THRESHOLD = 200_000  # from this many vectors the writer keeps an IVF index (below half as many: flat)
MAGIC = b"CSIVF002"  # 8-bit codes (what the writer writes); also in codesearch.store.vectors._is_ivf_file
MAGIC_FLOAT16 = b"CSIVF001"  # the previous layout: float16 vectors, no ranges (read, converted when written)
MAGICS = (MAGIC, MAGIC_FLOAT16)
HEADER = struct.Struct("<8sIIQQII")
MAX_NLIST = 1 << 18
RETRAIN_FACTOR = 4  # train again once the count is this many times (or this fraction of) the trained count
# Lists a query scans: 1/8 of them, at least 512 (benchmarks/bench_ann.py: exact neighbour recall@10 0.989 at 1M
# vectors, 4,096 lists; at 200k, 2,048 lists, 1/8 finds 0.976 and 512 0.988).
NPROBE_FRACTION = 1 / 8
MIN_NPROBE = 512
TRAIN_POINTS_PER_LIST = 50  # k-means sample: this many vectors per list (FAISS asks for at least 39)
_ROWS = 1 << 16  # vectors per block when assigning them to lists


def choose_nlist(count: int) -> int:
    """Lists for ``count`` vectors: about 4 * sqrt(count), a power of two, with enough vectors
    per list to train on (4,096 at 1M vectors)."""
    wanted = 2 ** round(math.log2(max(1.0, 4 * math.sqrt(count))))
    return max(1, min(wanted, count // 39, MAX_NLIST))


def choose_nprobe(nlist: int) -> int:
    """Lists a query scans: ``NPROBE_FRACTION`` of them, at least ``MIN_NPROBE`` (all, if fewer)."""
    return min(nlist, max(MIN_NPROBE, round(nlist * NPROBE_FRACTION)))


def file_size(dim: int, nlist: int, count: int, magic: bytes = MAGIC) -> int:
    """The exact size of an IVF vector file of this layout."""
    ranges, code_size = _layout(magic, dim)
    return HEADER.size + ranges * 4 + nlist * dim * 4 + nlist * 8 + count * 8 + count * code_size


def _layout(magic: bytes, dim: int) -> tuple[int, int]:
    """(float32 range values, bytes per vector) of a layout."""
    return (2 * dim, dim) if magic == MAGIC else (0, 2 * dim)


def _blocks(batches: Iterable[tuple[npt.NDArray[np.int64], npt.NDArray[np.float16]]], dim: int
            ) -> Iterator[tuple[int, npt.NDArray[np.float32]]]:
    """(offset, float32 rows) in blocks of ``_ROWS`` of the batches' rows, whatever the batches' sizes: a
    FAISS search of a few hundred vectors at a time (an IVF list) costs 2.5x as much in all."""
    block = np.zeros((_ROWS, dim), dtype=np.float32)
    filled = start = 0
    for _, rows in batches:
        at = 0
        while at < len(rows):
            n = min(len(rows) - at, _ROWS - filled)
            block[filled : filled + n] = rows[at : at + n]
            filled, at = filled + n, at + n
            if filled == _ROWS:
                yield start, block
                start, filled = start + _ROWS, 0
    if filled:
        yield start, block[:filled]


def ranges_of(rows: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """The 8-bit codec's trained array for these vectors: each component's least value, then the span
    up to its greatest (at least 1e-6, so that a constant component still encodes; [0, 1] without vectors)."""
    if not len(rows):
        return np.concatenate([np.zeros(rows.shape[1]), np.ones(rows.shape[1])]).astype(np.float32)
    return _ranges(rows.min(axis=0).astype(np.float32), rows.max(axis=0).astype(np.float32))


def _ranges(low: npt.NDArray[np.float32], high: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """``ranges_of`` from each component's least and greatest value."""
    return np.concatenate([low, np.maximum(high - low, np.float32(1e-6))]).astype(np.float32)


class IvfVectorStore(VectorStore):
    """A FAISS ``IndexIVFScalarQuantizer`` (8-bit, or float16 as read from the previous layout; inner
    product, no residual) whose ids are chunk ids,
    with the ``VectorStore`` API (``search``, ``vectors``, ``similarity``, ``add``, ``remove``, ``save``);
    ``VectorStore.load`` returns one for an IVF file."""

    def __init__(self, index: faiss.IndexIVFScalarQuantizer, quantizer: faiss.IndexFlatIP, trained_for: int) -> None:
        super().__init__(index)
        self._quantizer = quantizer  # FAISS does not own it: keep it alive
        self.trained_for = trained_for
        index.set_direct_map_type(faiss.DirectMap.Hashtable)  # vectors by id, and removal by id

    @classmethod
    def untrained(cls, centroids: npt.NDArray[np.float32], nprobe: int, trained_for: int,
                  ranges: npt.NDArray[np.float32] | None = None) -> IvfVectorStore:
        """An empty store over given centroids (nlist, dim): 8-bit codes over ``ranges`` (``ranges_of``),
        or float16 codes (the previous layout) without them."""
        nlist, dim = centroids.shape
        quantizer = faiss.IndexFlatIP(dim)
        quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
        kind = faiss.ScalarQuantizer.QT_fp16 if ranges is None else faiss.ScalarQuantizer.QT_8bit
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, kind, faiss.METRIC_INNER_PRODUCT, False)
        if ranges is not None:
            faiss.copy_array_to_vector(np.ascontiguousarray(ranges, dtype=np.float32), index.sq.trained)
        index.is_trained = True  # the centroids and the ranges are given
        index.nprobe = nprobe
        return cls(index, quantizer, trained_for)

    @classmethod
    def build(cls, ids: npt.NDArray[np.int64], rows: npt.NDArray[np.float16],
              centroids: npt.NDArray[np.float32] | None = None) -> IvfVectorStore:
        """Train centroids on a sample of ``rows`` (unit vectors, float16, one per id) unless given, take
        the 8-bit ranges from every row, and file each row's code in the list of its nearest centroid."""
        return cls.build_from(lambda: iter([(ids, rows)]), len(ids), rows.shape[1], centroids)

    @classmethod
    def build_from(cls, batches: Callable[[], Iterable[tuple[npt.NDArray[np.int64], npt.NDArray[np.float16]]]],
                   count: int, dim: int, centroids: npt.NDArray[np.float32] | None = None) -> IvfVectorStore:
        """``build`` from ``count`` vectors that ``batches()`` yields as (ids, float16 rows), read twice
        and never all at once: an IVF index trained again from its own lists holds its codes, the new
        ones and the k-means sample, not every vector decoded as well (800,000 vectors: +776 MB -> less).

        Each list is allocated once at its final size (adding batch by batch grows FAISS's lists by
        doubling: up to twice the memory).
        """
        chosen = np.zeros(0, dtype=np.int64)
        wanted = choose_nlist(count) if centroids is None else 1
        if wanted > 1:
            chosen = np.sort(np.random.default_rng(0).choice(count, size=min(count, TRAIN_POINTS_PER_LIST * wanted),
                                                             replace=False))
        ids = np.zeros(count, dtype=np.int64)
        sample = np.zeros((len(chosen), dim), dtype=np.float32)
        low, high = np.full(dim, np.inf, dtype=np.float32), np.full(dim, -np.inf, dtype=np.float32)
        start = taken = 0
        for part_ids, part_rows in batches():  # first pass: the ids, the ranges and the sample
            n = len(part_ids)
            ids[start : start + n] = part_ids
            for a in range(0, n, _ROWS):
                block = part_rows[a : a + _ROWS]
                np.minimum(low, block.min(axis=0).astype(np.float32), out=low)
                np.maximum(high, block.max(axis=0).astype(np.float32), out=high)
            upto = int(np.searchsorted(chosen, start + n))
            sample[taken:upto] = part_rows[chosen[taken:upto] - start]
            start, taken = start + n, upto
        if start != count:
            raise ValueError(f"{start} vectors given for {count}")
        ranges = _ranges(low, high) if count else ranges_of(np.zeros((0, dim), dtype=np.float16))
        if centroids is None:
            centroids = np.zeros((1, dim), dtype=np.float32)
            if wanted > 1:
                kmeans = faiss.Kmeans(dim, wanted, niter=10, spherical=True, seed=1234)
                kmeans.train(sample)
                centroids = kmeans.centroids
        del sample
        nlist = len(centroids)
        store = cls.untrained(centroids, choose_nprobe(nlist), count, ranges)
        # Second pass: each vector's list and code, kept as pieces by list (in the vectors' order), and each
        # list made of its pieces and let go at once: the codes are never held twice (an array of them all
        # beside the lists they were copied into: +205 MB at 800,000 vectors).
        pieces: list[list[tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]]] = [[] for _ in range(nlist)]
        for start, block in _blocks(batches(), dim):
            assigned = store._quantizer.search(block, 1)[1][:, 0]
            codes = store.index.sq.compute_codes(block)
            order = np.argsort(assigned, kind="stable")
            bounds = np.searchsorted(assigned[order], np.arange(nlist + 1))
            for number in np.flatnonzero(np.diff(bounds)).tolist():
                members = order[bounds[number] : bounds[number + 1]]
                pieces[number].append((start + members, codes[members]))
        for number in range(nlist):
            if pieces[number]:
                where = np.concatenate([p for p, _ in pieces[number]])
                store._add_list(number, ids[where], np.concatenate([c for _, c in pieces[number]]))
                pieces[number] = []
        store._finish(count)
        return store

    @property
    def code_size(self) -> int:
        """Bytes a stored vector takes."""
        return int(self.index.code_size)

    @property
    def magic(self) -> bytes:
        """The file layout of this store's codes."""
        return MAGIC_FLOAT16 if self.index.sq.qtype == faiss.ScalarQuantizer.QT_fp16 else MAGIC

    def _add_list(self, number: int, ids: npt.NDArray[np.int64], codes: npt.NDArray[Any]) -> None:
        """Append codes (rows of ``code_size`` bytes) to one list as they are, without the direct map."""
        if len(ids):
            self.index.invlists.add_entries(number, len(ids), faiss.swig_ptr(np.ascontiguousarray(ids)),
                                            faiss.swig_ptr(np.ascontiguousarray(codes).view(np.uint8)))

    def _finish(self, count: int) -> None:
        """Set the count and build the id -> vector map after ``_add_list``."""
        self.index.ntotal = count
        self.index.set_direct_map_type(faiss.DirectMap.NoMap)
        self.index.set_direct_map_type(faiss.DirectMap.Hashtable)

    @classmethod
    def read(cls, fd: int, name: str, dim: int, count: int) -> IvfVectorStore:
        """Read an IVF file from an open descriptor, checked as the module's doc says (not the id checksum).

        :raises IndexCorrupt: on any disagreement with ``dim`` and ``count`` or inside the file.
        """
        magic, nlist, trained_for, nprobe = _checked_header(fd, name, dim, count)
        # Not closed explicitly: the map goes with the last view of it (on an error, a traceback keeps some).
        return cls._from_buffer(mmap.mmap(fd, 0, access=mmap.ACCESS_READ), name, magic, dim, nlist, count,
                                trained_for, nprobe)

    @classmethod
    def _from_buffer(cls, buffer: mmap.mmap, name: str, magic: bytes, dim: int, nlist: int, count: int,
                     trained_for: int, nprobe: int) -> IvfVectorStore:
        """Check and copy the arrays of a file whose header and size were checked."""
        ranges, centroids, sizes, ids, codes = _arrays(buffer, magic, dim, nlist, count)
        bounds = _checked_arrays(name, count, ranges, centroids, sizes, ids)
        store = cls.untrained(centroids, nprobe, trained_for, ranges if magic == MAGIC else None)
        for number in np.flatnonzero(sizes):
            a, b = int(bounds[number]), int(bounds[number + 1])
            store._add_list(int(number), ids[a:b], codes[a:b])
        store._finish(count)
        return store

    @property
    def nlist(self) -> int:
        """Number of lists."""
        return int(self.index.nlist)

    @property
    def nprobe(self) -> int:
        """Lists scanned by an unfiltered query."""
        return int(self.index.nprobe)

    def ids(self) -> npt.NDArray[np.int64]:
        """Every stored id, in increasing order."""
        parts = [ids for ids, _ in self._lists(codes=False)]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def remove(self, ids: Iterable[int]) -> None:
        """Remove vectors by id; unknown ids are ignored."""
        array = np.fromiter(ids, dtype=np.int64)
        if array.size:
            self.index.remove_ids(faiss.IDSelectorArray(array))

    def search(
        self, queries: Vectors, k: int, allowed: npt.NDArray[np.int64] | None = None
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Approximate top-k by inner product: (scores, ids), each (nq, k), padded with id -1.

        :param allowed: if given, only these ids can be returned. The search scans as many more lists
            as the filter is narrow (``nprobe / fraction allowed``, at most all of them), so that about
            as many allowed vectors are compared as an unfiltered query compares. (Comparing a narrow
            filter's vectors one by one was slower: a lookup by id costs ~3 us, 24 ms for 9,206 ids.)
        """
        k = max(1, min(k, self.count)) if self.count else 1
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        params = None
        if allowed is not None:
            fraction = min(1.0, max(len(allowed), 1) / max(self.count, 1))
            nprobe = min(self.nlist, math.ceil(self.nprobe / fraction))
            params = faiss.SearchParametersIVF(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)),
                                               nprobe=nprobe)
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

    def float16_batches(self) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float16]]]:
        """(ids, float16 vectors) of every stored vector (8-bit codes decoded), list by list."""
        for ids, codes in self._lists(codes=True):
            if self.magic == MAGIC_FLOAT16:
                yield ids, codes.view(np.float16).reshape(len(ids), self.dim)
            else:
                yield ids, self.index.sq.decode(codes).astype(np.float16)

    def ranges(self) -> npt.NDArray[np.float32]:
        """The 8-bit codec's trained array (2 * dim: least values, then spans); empty for float16 codes."""
        return faiss.vector_to_array(self.index.sq.trained).astype(np.float32)

    def centroids(self) -> npt.NDArray[np.float32]:
        """The trained centroids (nlist, dim)."""
        return faiss.vector_to_array(self._quantizer.codes).view(np.float32).reshape(self.nlist, self.dim)

    def save(self, path: Path) -> None:
        """Write atomically: new temp file (``O_EXCL``) in the same directory, fsync, rename.

        :raises OSError: if the file cannot be written completely (e.g. ENOSPC); nothing is renamed.
        """
        write_atomically(path, self._write, file_size(self.dim, self.nlist, self.count, self.magic))

    def _write(self, fh: BinaryIO) -> None:
        """The file's bytes: header, ranges, centroids, sizes, then each list's ids and codes, sorted by id."""
        sizes = np.array([self.index.invlists.list_size(n) for n in range(self.nlist)], dtype=np.uint64)
        fh.write(HEADER.pack(self.magic, self.dim, self.nlist, self.count, self.trained_for, self.nprobe, 0))
        if self.magic == MAGIC:
            fh.write(np.ascontiguousarray(self.ranges(), dtype="<f4").tobytes())
        fh.write(np.ascontiguousarray(self.centroids(), dtype="<f4").tobytes())
        fh.write(sizes.astype("<u8").tobytes())
        for ids, _ in self._lists(codes=False):
            fh.write(np.sort(ids).astype("<i8").tobytes())
        for ids, codes in self._lists(codes=True):
            fh.write(codes[np.argsort(ids, kind="stable")].tobytes())

    def _lists(self, *, codes: bool) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]]:
        """(ids, codes (n, code size)) of every non-empty list, copied out of FAISS; codes empty unless asked."""
        invlists = self.index.invlists
        code_size = invlists.code_size
        for number in range(self.nlist):
            n = invlists.list_size(number)
            if not n:
                continue
            ids = faiss.rev_swig_ptr(invlists.get_ids(number), n).copy()
            data = (faiss.rev_swig_ptr(invlists.get_codes(number), n * code_size).copy().reshape(n, code_size)
                    if codes else np.zeros((0, code_size), dtype=np.uint8))
            yield ids, data


def fitted(store: VectorStore) -> VectorStore:
    """The store the writer saves for this size: an IVF index from ``ANN_THRESHOLD`` vectors, trained again
    once it has grown or shrunk ``RETRAIN_FACTOR`` times since training; a flat one below half the
    threshold (between the two, whichever it is: an index near the threshold does not flip each run).
    """
    count = store.count
    if isinstance(store, IvfVectorStore):
        if store.magic == MAGIC_FLOAT16 and count >= max(ANN_THRESHOLD // 2, 1):
            # the previous layout: the same lists, as 8-bit codes
            return IvfVectorStore.build_from(store.float16_batches, count, store.dim, store.centroids())
        if count < max(ANN_THRESHOLD // 2, 1):
            ids, rows = _float16_rows(store)
            flat = VectorStore.empty(store.dim)
            if len(ids):
                order = np.argsort(ids)
                flat.add(ids[order], rows[order].astype(np.float32))
            return flat
        if store.trained_for / RETRAIN_FACTOR <= count <= store.trained_for * RETRAIN_FACTOR:
            return store
    elif count < max(ANN_THRESHOLD, 1):
        return store
    return _trained(store)


def _trained(store: VectorStore) -> IvfVectorStore:
    """An IVF index of the store's vectors, with centroids trained on a sample of them."""
    if isinstance(store, IvfVectorStore):  # its lists decoded a list at a time, twice, never all at once
        return IvfVectorStore.build_from(store.float16_batches, store.count, store.dim)
    ids, rows = _float16_rows(store)
    return IvfVectorStore.build(ids, rows)


def _float16_rows(store: VectorStore) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float16]]:
    """Every stored id and its float16 vector (for a flat store, a view of its codes, not a copy:
    converting 1M vectors holds the flat and the IVF index, 0.5 GB each, not a third copy)."""
    if isinstance(store, IvfVectorStore):
        ids = np.zeros(store.count, dtype=np.int64)
        rows = np.zeros((store.count, store.dim), dtype=np.float16)
        start = 0
        for part_ids, part_rows in store.float16_batches():
            ids[start : start + len(part_ids)] = part_ids
            rows[start : start + len(part_ids)] = part_rows
            start += len(part_ids)
        return ids, rows
    if not store.count:
        return store.ids(), np.zeros((0, store.dim), dtype=np.float16)
    quantizer = faiss.downcast_index(store.index.index)
    codes = faiss.rev_swig_ptr(quantizer.codes.data(), store.count * quantizer.code_size)
    return store.ids(), codes.view(np.float16).reshape(store.count, store.dim)


def check_file(fd: int, name: str, dim: int, count: int, checksum: str | None) -> None:
    """Check an IVF file as ``IvfVectorStore.read`` and ``VectorStore.load`` do, without building the index.

    :raises IndexCorrupt: as they do.
    """
    magic, nlist, _, _ = _checked_header(fd, name, dim, count)
    ranges, centroids, sizes, ids, _ = _arrays(mmap.mmap(fd, 0, access=mmap.ACCESS_READ), magic, dim, nlist, count)
    _checked_arrays(name, count, ranges, centroids, sizes, ids)
    if checksum is not None and id_checksum(ids) != checksum:
        raise IndexCorrupt(f"the ids in vector file {name} do not match the metadata's (damaged id map)")


def _checked_header(fd: int, name: str, dim: int, count: int) -> tuple[bytes, int, int, int]:
    """(magic, nlist, trained_for, nprobe) of a file whose header agrees with ``dim`` and ``count`` and
    whose size is exactly what the header implies. :raises IndexCorrupt: otherwise."""
    size = os.fstat(fd).st_size
    header = os.pread(fd, HEADER.size, 0)
    if len(header) != HEADER.size:
        raise IndexCorrupt(f"vector file {name} is truncated ({size:,} bytes)")
    magic, file_dim, nlist, file_count, trained_for, nprobe, zero = HEADER.unpack(header)
    if magic not in MAGICS or zero != 0 or not 0 < nlist <= MAX_NLIST or not 0 < nprobe <= nlist or trained_for < 1:
        raise IndexCorrupt(f"vector file {name} is unreadable (its IVF header is not one we write)")
    if file_dim != dim or file_count != count:
        raise IndexCorrupt(f"vector file {name} holds {file_count:,} vectors of dimension {file_dim}; "
                           f"the metadata expects {count:,} of dimension {dim}")
    expected = file_size(dim, nlist, count, magic)
    if size != expected:
        raise IndexCorrupt(f"vector file {name} has {size:,} bytes; {count:,} vectors of dimension {dim} in "
                           f"{nlist:,} lists take {expected:,} (truncated or damaged)")
    return magic, nlist, trained_for, nprobe


_Arrays = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.uint64], npt.NDArray[np.int64],
                npt.NDArray[np.uint8]]


def _arrays(buffer: mmap.mmap, magic: bytes, dim: int, nlist: int, count: int) -> _Arrays:
    """Views of a checked file's ranges (empty in the previous layout), centroids, list sizes, ids and codes."""
    range_values, code_size = _layout(magic, dim)
    at = HEADER.size
    ranges = np.frombuffer(buffer, np.float32, range_values, at)
    at += ranges.nbytes
    centroids = np.frombuffer(buffer, np.float32, nlist * dim, at).reshape(nlist, dim)
    at += centroids.nbytes
    sizes = np.frombuffer(buffer, np.uint64, nlist, at)
    at += sizes.nbytes
    ids = np.frombuffer(buffer, np.int64, count, at)
    codes = np.frombuffer(buffer, np.uint8, count * code_size, at + ids.nbytes).reshape(count, code_size)
    return ranges, centroids, sizes, ids, codes


def _checked_arrays(name: str, count: int, ranges: npt.NDArray[np.float32], centroids: npt.NDArray[np.float32],
                    sizes: npt.NDArray[np.uint64], ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The lists' bounds (list n holds ``ids[bounds[n]:bounds[n+1]]``), once the ranges and centroids are
    finite, no span is negative, the sizes add up to ``count`` and the ids increase within each list.
    :raises IndexCorrupt: otherwise."""
    if not np.isfinite(ranges).all() or bool((ranges[len(ranges) // 2 :] < 0).any()):
        raise IndexCorrupt(f"vector file {name} is unreadable (its 8-bit ranges are not finite and positive)")
    if not np.isfinite(centroids).all():
        raise IndexCorrupt(f"vector file {name} is unreadable (a centroid is not finite)")
    if bool((sizes > np.uint64(count)).any()) or int(sizes.sum(dtype=np.uint64)) != count:
        raise IndexCorrupt(f"vector file {name} is unreadable (its list sizes do not add up to {count:,})")
    bounds = np.concatenate([[0], np.cumsum(sizes.astype(np.int64))])
    if count and (int(ids.min()) < 0 or not _increasing_within(ids, bounds)):
        raise IndexCorrupt(f"the ids in vector file {name} are out of order (damaged id map)")
    return bounds


def _increasing_within(ids: npt.NDArray[np.int64], bounds: npt.NDArray[np.int64]) -> bool:
    """Whether ids are strictly increasing inside each list (list n holds ``ids[bounds[n]:bounds[n+1]]``)."""
    if len(ids) < 2:
        return True
    rising = ids[1:] > ids[:-1]
    starts = bounds[1:-1]
    starts = starts[(starts > 0) & (starts < len(ids))]
    rising[starts - 1] = True  # a new list may start lower
    return bool(rising.all())
