"""The postings file of the lexical stage: BM25 over code-aware terms, scored with numpy.

The file is the one store of each chunk's weighted terms (``codesearch.terms.chunk_terms``):
the writer builds one immutable file per generation, ``lexical-<generation>.bin``, beside the
vector file, holding for every term its postings (chunk position, weighted term frequency as
float16) sorted by term, and each chunk's weighted length. A query adds up the BM25 impacts of
its few terms' postings (``codesearch.terms.query_terms``), computed from those arrays, with
``numpy.bincount``: no SQL, no per-row Python, and the cost is that of reading a handful of
contiguous arrays.

A run that changes some files builds the next generation from the previous file
(``LexicalIndex.merged``): the postings of its deleted chunks are dropped and the new chunks'
terms (tokenised by the workers) added, so unchanged chunks are never tokenised again.
(Schema 4 kept a second copy of every chunk's terms in SQLite; schema 5 stores them once.)

The file is data, not trust (a repository can ship its own ``.codesearch/``): ``load``
checks every structure in it before a search uses it.
"""

from __future__ import annotations

import json
import mmap
import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from codesearch.errors import IndexCorrupt
from codesearch.store.indexdir import open_index_file, write_atomically

K1 = 1.2
B = 0.75
# BM25's length normalisation counts a chunk's weighted length (``codesearch.terms.chunk_terms``) up
# to this much, about 3.5 times the mean (75-120 in our benchmark repositories; 99th percentile
# about 500): past it a class outline or a long body is no more diluted, so ``JsonElement`` still
# matches "JSON element hierarchy". Measured in-process (uncapped -> 400): semble-dev NDCG@10
# 0.889 -> 0.893, plain-English R@5 0.715 =, MRR 0.619 -> 0.622, large 0.750 -> 0.754;
# 300 / 500: 0.894 / 0.891 with R@5 0.709 / 0.715; capping at 3.5x or 4x the mean lost on R@5.
LENGTH_CAP = 400.0
# How the scores in a postings file are computed (BM25's K1, B, LENGTH_CAP): an index whose meta
# names another version gets its postings file rewritten by the next `codesearch index` run,
# even when no file changed (the stored terms are the same; only the scores change).
SCORING_VERSION = "3"  # 2: lengths capped at LENGTH_CAP; 3: impacts computed at query time (same values)
# 001 (schema 4): precomputed impacts; 002: term frequencies and chunk lengths; 003: the same arrays, each at
# an offset that is a multiple of its item size (002's were wherever the header's length put them: numpy then
# copies a whole array to search it, 0.6 ms a query for the ids at 1M chunks).
_MAGIC = b"CSLEX003"
_MAGIC_UNALIGNED = b"CSLEX002"  # still read: each array that is not aligned is copied once, at load


class LexicalIndex:
    """Postings of every term with its weighted frequency in each chunk; immutable once built.

    :param ids: chunk id of each position (int64, strictly increasing).
    :param lengths: each chunk's weighted length (float32, by position).
    :param terms: the distinct term hashes (uint32, sorted); ``starts[i]:starts[i+1]`` are
        the postings of ``terms[i]`` in ``positions`` (int32) and ``tfs`` (float16).
    """

    def __init__(self, ids: np.ndarray, lengths: np.ndarray, terms: np.ndarray, starts: np.ndarray,
                 positions: np.ndarray, tfs: np.ndarray, mapped: mmap.mmap | None = None) -> None:
        self.ids, self.lengths, self.terms, self.starts = ids, lengths, terms, starts
        self.positions, self.tfs = positions, tfs
        self._norm: npt.NDArray[np.float32] | None = None
        self._mapped = mapped  # the file the arrays are views of (``load``), if any

    def let_go(self, array: np.ndarray | None = None, start: int = 0, stop: int | None = None) -> None:
        """Drop the pages of the mapped file (all of them, or those of ``array[start:stop]``) from this
        process's memory: they stay in the page cache and are read again when touched. The writer keeps
        the last checkpoint's file so, and the merge lets each block go once it is copied, so that the
        previous postings are never resident whole. Nothing for arrays in memory."""
        mapped = self._mapped
        if mapped is None or not hasattr(mapped, "madvise") or not len(mapped):
            return
        if array is None:
            low, high = 0, len(mapped)
        else:
            base = np.frombuffer(mapped, dtype=np.uint8).ctypes.data
            offset = array.ctypes.data - base
            low = offset + start * array.itemsize
            high = offset + (len(array) if stop is None else stop) * array.itemsize
        low -= low % mmap.PAGESIZE
        high = min(len(mapped), high)
        if high > low:
            mapped.madvise(mmap.MADV_DONTNEED, low, high - low)

    @classmethod
    def build(cls, rows: Iterable[tuple[int, bytes, bytes, float]] | PendingRows) -> LexicalIndex:
        """From rows ``(chunk id, term ids as uint32 bytes, weighted tfs as float16 bytes, length)``."""
        ids, lengths, counts, terms, tfs = _unpack_rows(rows)
        return cls._from_postings(ids, lengths, np.repeat(np.arange(len(ids), dtype=np.int32), counts), terms, tfs)

    def merged(self, dropped: Iterable[int],
               rows: Iterable[tuple[int, bytes, bytes, float]] | PendingRows) -> LexicalIndex:
        """A new index: this one without the chunks ``dropped`` and without any chunk of ``rows``,
        plus the chunks of ``rows`` (as ``build`` takes them). Nothing is tokenised again.

        Postings are handled as int32 chunk numbers, never as chunk ids, and freed as soon as they
        are copied: a checkpoint of a large index merges tens of millions of them.

        :raises ValueError: if ``rows`` name a chunk id twice.
        """
        new_ids, new_lengths, new_counts, new_terms, new_tfs = _unpack_rows(rows)
        gone = np.union1d(np.fromiter(dropped, dtype=np.int64), new_ids)
        keep_chunk = ~np.isin(self.ids, gone)
        kept = int(keep_chunk.sum())
        kept_ids = self.ids[keep_chunk]
        number = np.full(len(self.ids), -1, dtype=np.int32)  # a kept chunk's number in the new list
        number[keep_chunk] = np.arange(kept, dtype=np.int32)
        if _appended(kept_ids, new_ids):
            plan = _AppendedMerge(self, keep_chunk, number, kept_ids, new_ids, new_lengths, new_counts, new_terms,
                                  new_tfs)
            positions = np.empty(plan.total, dtype=np.int32)
            tfs = np.empty(plan.total, dtype=np.float16)
            plan.fill(0, len(plan.terms), positions, tfs)
            return LexicalIndex(plan.ids, plan.lengths, plan.terms, plan.starts, positions, tfs)
        keep = keep_chunk[self.positions]  # by posting
        total = int(keep.sum()) + len(new_terms)
        chunk = np.empty(total, dtype=np.int32)
        terms = np.empty(total, dtype=np.uint32)
        tfs = np.empty(total, dtype=np.float16)
        old = total - len(new_terms)
        chunk[:old] = number[self.positions[keep]]
        # Each term's kept postings, counted per term (terms never repeat one posting per chunk).
        terms[:old] = np.repeat(self.terms, np.add.reduceat(keep, self.starts[:-1]) if len(keep) else 0)
        tfs[:old] = self.tfs[keep]
        del keep, number
        chunk[old:] = kept + np.repeat(np.arange(len(new_ids), dtype=np.int32), new_counts)
        terms[old:], tfs[old:] = new_terms, new_tfs
        return LexicalIndex._from_postings(np.concatenate([self.ids[keep_chunk], new_ids]),
                                           np.concatenate([self.lengths[keep_chunk], new_lengths]),
                                           chunk, terms, tfs)

    def merge_into(self, path: Path, dropped: Iterable[int],
                   rows: Iterable[tuple[int, bytes, bytes, float]] | PendingRows) -> None:
        """Write ``merged(dropped, rows)`` to ``path`` (atomically, as ``save``) without holding its postings:
        when the new chunk ids come after the kept ones (the writer's), the file's postings are filled and
        written a range of terms at a time (``_WRITE_POSTINGS`` postings each), so a checkpoint of a large
        index holds its pending rows and one range, not the new file's arrays (384 MB at 64M postings).

        :raises ValueError: if ``rows`` name a chunk id twice.
        :raises OSError: if the file cannot be written completely.
        """
        if not isinstance(rows, PendingRows):  # read twice where the ids are not appended
            rows = _pending(rows)
        new_ids, new_lengths, new_counts, new_terms, new_tfs = _unpack_rows(rows)
        gone = np.union1d(np.fromiter(dropped, dtype=np.int64), new_ids)
        keep_chunk = ~np.isin(self.ids, gone)
        kept_ids = self.ids[keep_chunk]
        if not _appended(kept_ids, new_ids):
            self.merged(gone, rows).save(path)
            return
        number = np.full(len(self.ids), -1, dtype=np.int32)
        number[keep_chunk] = np.arange(len(kept_ids), dtype=np.int32)
        plan = _AppendedMerge(self, keep_chunk, number, kept_ids, new_ids, new_lengths, new_counts, new_terms,
                              new_tfs)
        small = {"ids": plan.ids, "starts": plan.starts, "lengths": plan.lengths, "terms": plan.terms}
        sizes = {name: (_LAYOUT[name], len(small[name]) if name in small else plan.total) for name in _LAYOUT}

        def write(fh: BinaryIO, offsets: dict[str, int]) -> None:
            for name, array in small.items():
                fh.seek(offsets[name])
                fh.write(np.ascontiguousarray(array, dtype=_LAYOUT[name]).tobytes())
            for lo, hi in plan.ranges(_WRITE_POSTINGS):
                n = int(plan.starts[hi] - plan.starts[lo])
                positions, tfs = np.empty(n, dtype=np.int32), np.empty(n, dtype=np.float16)
                plan.fill(lo, hi, positions, tfs)
                fh.seek(offsets["positions"] + int(plan.starts[lo]) * 4)
                fh.write(positions.tobytes())
                fh.seek(offsets["tfs"] + int(plan.starts[lo]) * 2)
                fh.write(tfs.tobytes())

        _write_file(path, sizes, write)

    def _blocks(self, first: int = 0, end: int | None = None) -> Iterator[tuple[int, int, int, int]]:
        """(first term, end term, first posting, end posting) of blocks of at most ``_MERGE_TERMS`` terms
        and ``_MERGE_POSTINGS`` postings (or one term), in order, over the terms ``first:end``."""
        end = len(self.terms) if end is None else end
        for a, b in _spans(self.starts, _MERGE_POSTINGS, _MERGE_TERMS, first, end):
            yield a, b, int(self.starts[a]), int(self.starts[b])

    @classmethod
    def _from_postings(cls, ids: npt.NDArray[np.int64], lengths: npt.NDArray[np.float32],
                       chunk: npt.NDArray[np.int32], terms: npt.NDArray[np.uint32],
                       tfs: npt.NDArray[np.float16]) -> LexicalIndex:
        """Sort chunks by id and postings by (term, chunk) into the file's arrays; ``chunk`` is each
        posting's index into ``ids`` (as given, before sorting).

        :raises ValueError: if a chunk id is given twice.
        """
        order = np.argsort(ids, kind="stable")
        ids, lengths = ids[order], lengths[order].astype(np.float32)
        if len(ids) > 1 and not bool((ids[1:] > ids[:-1]).all()):
            raise ValueError("a chunk id is given twice")
        position = np.empty(len(order), dtype=np.int32)  # a chunk's place once sorted by id
        position[order] = np.arange(len(order), dtype=np.int32)
        doc = position[chunk]
        by_term = np.lexsort((doc, terms))
        terms, doc, tfs = terms[by_term], doc[by_term], tfs[by_term]
        del by_term
        first = np.ones(len(terms), dtype=bool)  # where each term's postings start (terms are sorted)
        np.not_equal(terms[1:], terms[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        return cls(ids, lengths, terms[starts].astype(np.uint32), np.append(starts, len(terms)).astype(np.int64),
                   doc.astype(np.int32, copy=False), tfs.astype(np.float16, copy=False))

    def chunk_terms(self) -> dict[int, set[int]]:
        """chunk id -> the term ids of its postings (what the file holds of each chunk)."""
        out: dict[int, set[int]] = {int(i): set() for i in self.ids}
        for term, position in zip(np.repeat(self.terms, np.diff(self.starts)).tolist(), self.positions.tolist()):
            out[int(self.ids[position])].add(term)
        return out

    def search(self, query: npt.NDArray[np.uint32], k: int,
               allowed: npt.NDArray[np.int64] | None = None) -> list[tuple[int, float]]:
        """The ``k`` best chunks for the query's term ids: ``(chunk id, BM25 score)``, best first.

        :param allowed: if given, only these chunk ids can be returned.
        """
        return self.score(query).top(k, allowed)

    def score(self, query: npt.NDArray[np.uint32]) -> QueryScores:
        """The query's BM25 scores: its best chunks (``top``) and the scores of given chunks (``of``), each
        the value scoring every posting of every term gives.

        On an index of ``SKIP_FROM`` chunks or more, the postings of terms in more than ``COMMON_SHARE``
        of the chunks (``return``: 45% of 970k) are read only for the chunks that can be among the best
        (``QueryScores``: they are the costliest to read and add the least).
        """
        postings = self._postings(query)
        if not postings:
            return QueryScores(self.ids, None)
        n = len(self.ids)
        common = [(a, b, w) for a, b, w in postings if b - a > COMMON_SHARE * n] if n >= SKIP_FROM else []
        if not common or len(common) == len(postings):
            return QueryScores(self.ids, self._scores(postings))
        rare = [(a, b, w) for a, b, w in postings if b - a <= COMMON_SHARE * n]
        return QueryScores(self.ids, self._scores(rare), skipped=sum(float(w) * (K1 + 1) for _, _, w in common),
                           exact=lambda where: self._scores_at(postings, where),
                           every=lambda: self._scores(postings))

    def _postings(self, query: npt.NDArray[np.uint32]) -> list[tuple[int, int, np.float32]]:
        """``(first posting, end posting, idf)`` of each indexed term of the query, in the query's order."""
        where = np.searchsorted(self.terms, query)
        found = [(int(self.starts[w]), int(self.starts[w + 1])) for w, t in zip(where, query)
                 if w < len(self.terms) and self.terms[w] == t]
        if not found or not len(self.ids):
            return []
        if self._norm is None:
            self._norm = _length_norm(self.lengths)
        df = np.array([b - a for a, b in found], dtype=np.int64)
        n = len(self.ids)
        idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        return [(a, b, weight) for (a, b), weight in zip(found, idf)]

    def _impacts(self, a: int, b: int, weight: np.float32, where: npt.NDArray[np.int32],
                 postings: slice | npt.NDArray[np.intp], out: npt.NDArray[np.float32] | None = None
                 ) -> npt.NDArray[np.float32]:
        """The BM25 impacts of some of one term's postings (``postings`` of ``a:b``, in the chunks at
        ``where``): the float32 operations of ``idf * tf * (K1 + 1) / (tf + norm)`` in one order (the
        impacts schema 4 stored), so that every way of adding them up starts from the same values."""
        tf = self.tfs[a:b][postings].astype(np.float32)
        impact = np.multiply(weight, tf, out=out)
        impact *= np.float32(K1 + 1)
        norm = self._norm[where]  # type: ignore[index]
        norm += tf
        impact /= norm
        return impact

    def _scores(self, postings: list[tuple[int, int, np.float32]]) -> npt.NDArray[np.float64]:
        """Every chunk's BM25 score for some of the query's postings (``_postings``), by position.

        Term by term into two arrays, without a temporary of every posting for each step (a common term
        has hundreds of thousands of postings at 1M chunks), then added up by ``numpy.bincount``.
        """
        total = sum(b - a for a, b, _ in postings)
        positions = np.empty(total, dtype=np.int32)
        impacts = np.empty(total, dtype=np.float32)
        at = 0
        for a, b, weight in postings:
            where = positions[at : at + b - a]
            where[:] = self.positions[a:b]
            self._impacts(a, b, weight, where, slice(None), out=impacts[at : at + b - a])
            at += b - a
        return np.bincount(positions, weights=impacts, minlength=len(self.ids))

    def _scores_at(self, postings: list[tuple[int, int, np.float32]], where: npt.NDArray[np.intp]
                   ) -> npt.NDArray[np.float64]:
        """The BM25 scores of the chunks at positions ``where``, each the value ``_scores`` gives it: its
        terms' impacts added in the query's order, in float64, as ``bincount`` adds them."""
        where = np.asarray(where, dtype=self.positions.dtype)
        scores = np.zeros(len(where), dtype=np.float64)
        for a, b, weight in postings:
            positions = self.positions[a:b]  # a term's postings are in chunk order
            at = np.minimum(np.searchsorted(positions, where), b - a - 1)
            hit = np.flatnonzero(positions[at] == where)
            if len(hit):
                scores[hit] += self._impacts(a, b, weight, where[hit], at[hit])
        return scores

    def save(self, path: Path) -> None:
        """Write atomically (new temp file, fsync, rename), like the vector file.

        :raises OSError: if it cannot be written completely (e.g. ENOSPC).
        """
        arrays = {name: getattr(self, name) for name in _LAYOUT}

        def write(fh: BinaryIO, offsets: dict[str, int]) -> None:
            for array in arrays.values():
                fh.write(np.ascontiguousarray(array).tobytes())

        _write_file(path, {name: (a.dtype, int(a.size)) for name, a in arrays.items()}, write)

    @classmethod
    def load(cls, path: Path, count: int) -> LexicalIndex:
        """Read a lexical file, check every structure in it, and check it holds ``count`` chunks.

        The file is data, not trust (a repository can ship its own): the header must name
        exactly our arrays and dtypes with sizes that fit in the file, and the arrays must be
        what ``build`` writes (``_check_arrays``), so a search can neither fail nor allocate
        more than the file's size.

        :raises IndexCorrupt: if it is missing, truncated, malformed or disagrees with the metadata.
        :raises UnsafeIndexDir: if it is a symlink.
        """
        fd = open_index_file(path, "lexical file")
        with os.fdopen(fd, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            # Mapped, not read: the arrays are views of the page cache (the file is never written again).
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        try:
            arrays = _parse(data)
            _check_arrays(**arrays)
        except ValueError as exc:
            raise IndexCorrupt(f"lexical file {path.name} is damaged ({exc})") from exc
        if len(arrays["ids"]) != count:
            raise IndexCorrupt(f"lexical file {path.name} holds {len(arrays['ids'])} chunks; the metadata expects {count}")
        return cls(**arrays, mapped=data if isinstance(data, mmap.mmap) else None)


# Picking a query's best chunks from the score of every chunk (``QueryScores.top``): from this many
# chunks on, a strided sample's scores give a threshold that at least ``k`` scores reach, so only those
# are sorted, not every chunk a common term scored (at 969,633 chunks, ~7 ms -> ~1 ms).
SAMPLE_FROM = 1 << 16
SAMPLE_STRIDE = 16
SORT_ALL = 8  # up to this many times ``k`` candidates are sorted whole (ties exactly by id)


def _holding_top(scores: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.intp]:
    """Positions of nonzero scores that include the ``k`` best and every score tied with the ``k``-th.

    Exact: a threshold that at least ``k`` scores reach is at most the ``k``-th best score. On a large
    array the threshold is the ``2k / SAMPLE_STRIDE``-th best of every ``SAMPLE_STRIDE``-th score (so
    about ``2k`` reach it); when fewer than ``k`` do, every nonzero score is returned.
    """
    if len(scores) >= SAMPLE_FROM and k > 0:
        sample = scores[::SAMPLE_STRIDE]
        sample = sample[sample > 0]  # partitioning many equal zeros is slow
        rank = 2 * k // SAMPLE_STRIDE + 1
        if len(sample) > rank:
            threshold = np.partition(sample, len(sample) - 1 - rank)[len(sample) - 1 - rank]
            hit = np.flatnonzero(scores >= threshold)
            if len(hit) >= k:
                return hit
    return np.flatnonzero(scores)


# Terms in more than this share of an index's chunks are read only for the chunks that can be among a
# query's best, on an index of ``SKIP_FROM`` chunks or more (``LexicalIndex.score``); ``CHECKED`` times
# ``k`` chunks are scored exactly (every term) before the bound is checked.
COMMON_SHARE = 0.1
SKIP_FROM = 1 << 19  # at 300k chunks it measured no faster than scoring every posting (2.8 / 2.6 ms p50)
CHECKED = 8


@dataclass(frozen=True)
class QueryScores:
    """One query's BM25 score of every chunk of a lexical index (``LexicalIndex.score``).

    :param ids: the index's chunk ids, increasing.
    :param scores: the score of each, by position (None: no term of the query is indexed); with
        ``exact``, leaving out the query's commonest terms, which add at most ``skipped`` to any chunk.
    :param exact: the exact scores (every term) of the chunks at some positions.
    :param every: the exact scores of every chunk (the fallback, computed when needed).

    With the commonest terms left out, ``top(k)`` scores exactly the ``CHECKED * k`` best chunks by the
    other terms: if the ``k``-th best of those exact scores is above the best any other chunk can reach
    (the last of them by the other terms plus ``skipped``), those are the ``k`` best, ties included;
    otherwise, and with a filter, every chunk is scored.
    """

    ids: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64] | None
    skipped: float = 0.0
    exact: Callable[[npt.NDArray[np.intp]], npt.NDArray[np.float64]] | None = None
    every: Callable[[], npt.NDArray[np.float64]] | None = None

    def top(self, k: int, allowed: npt.NDArray[np.int64] | None = None) -> list[tuple[int, float]]:
        """The ``k`` best chunks with a score: ``(chunk id, score)``, best first (ties: the lower id).

        :param allowed: if given, only these chunk ids can be returned.
        """
        if self.scores is None or k <= 0:
            return []
        if self.exact is not None:
            found = self._checked_top(k) if allowed is None else None
            if found is not None:
                return found
            return QueryScores(self.ids, self.every()).top(k, allowed)  # type: ignore[misc]
        scores = self.scores
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=bool)
            mask[np.searchsorted(self.ids, allowed[np.isin(allowed, self.ids)])] = True
            scores = np.where(mask, scores, 0.0)
        hit = _holding_top(scores, k)
        if len(hit) > SORT_ALL * k:  # only the k best and every chunk tied with the k-th are sorted
            kth = np.partition(scores[hit], len(hit) - k)[len(hit) - k]
            hit = hit[scores[hit] >= kth]
        hit = hit[np.lexsort((self.ids[hit], -scores[hit]))][:k]
        return [(int(self.ids[p]), float(scores[p])) for p in hit]

    def _checked_top(self, k: int) -> list[tuple[int, float]] | None:
        """The ``k`` best from the ``CHECKED * k`` best by the terms kept, when the bound proves it (the class)."""
        assert self.scores is not None and self.exact is not None
        wanted = CHECKED * k
        hit = _holding_top(self.scores, wanted)
        if len(hit) > wanted:
            hit = hit[np.argpartition(-self.scores[hit], wanted - 1)[:wanted]]
        if len(hit) < k:
            return None
        # A chunk outside ``hit`` scores at most the lowest kept-terms score in it (every chunk scoring more
        # is in it) plus what the terms left out can add; a chunk no kept term has, at most ``skipped``.
        outside = (float(self.scores[hit].min()) if len(hit) == wanted else 0.0) + self.skipped
        exact = self.exact(hit)
        kth = float(np.partition(exact, len(exact) - k)[len(exact) - k])
        if not kth > outside * (1 + 1e-6):
            return None
        best = np.lexsort((self.ids[hit], -exact))[:k]
        return [(int(self.ids[hit[p]]), float(exact[p])) for p in best]

    def of(self, ids: Sequence[int]) -> list[float]:
        """The score of each chunk of ``ids`` (0.0 for an unknown id)."""
        if self.scores is None or not len(ids):
            return [0.0] * len(ids)
        wanted = np.asarray(ids, dtype=np.int64)
        where = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        known = self.ids[where] == wanted
        if self.exact is not None:
            out = np.zeros(len(wanted), dtype=np.float64)
            out[known] = self.exact(where[known])
            return [float(s) for s in out]
        return [float(self.scores[w]) if ok else 0.0 for w, ok in zip(where.tolist(), known.tolist())]


_LAYOUT = {"ids": np.dtype(np.int64), "starts": np.dtype(np.int64), "lengths": np.dtype(np.float32),
           "terms": np.dtype(np.uint32), "positions": np.dtype(np.int32), "tfs": np.dtype(np.float16)}
_LAYOUT_UNALIGNED = {name: _LAYOUT[name] for name in ("ids", "lengths", "terms", "starts", "positions", "tfs")}


_MERGE_TERMS = 1 << 16  # old terms a block of ``_AppendedMerge.fill`` moves at once
_MERGE_POSTINGS = 1 << 19  # postings a block or slab of ``_AppendedMerge.fill`` places at once
_WRITE_POSTINGS = 1 << 23  # postings ``merge_into`` fills and writes at once (48 MB of output)


class _AppendedMerge:
    """``merged`` when every new chunk id is above every kept one (what the writer's ids always are),
    without sorting every posting again: the kept postings are already in (term, chunk) order and keep
    it when renumbered; within each term the new chunks' postings come after them, in chunk order. The
    new file's terms, starts, ids and lengths are made at once; its postings by ``fill``, a range of
    terms at a time, each posting written once into its place: the kept ones a block of terms at a time
    (at most ``_MERGE_TERMS`` terms and ``_MERGE_POSTINGS`` postings, or one term), the new ones a slab
    of ``_MERGE_POSTINGS`` at a time (in chunk order, so each term's come in order), never an int64
    array over every posting (at 32M + 32M postings: +1.46 GB -> +0.4 GB in memory; by ranges into a
    file, ``merge_into``, the output is not held either). The result is the one ``_from_postings`` sorts
    into (tests)."""

    def __init__(self, old: LexicalIndex, keep_chunk: npt.NDArray[np.bool_], number: npt.NDArray[np.int32],
                 kept_ids: npt.NDArray[np.int64], new_ids: npt.NDArray[np.int64],
                 new_lengths: npt.NDArray[np.float32], new_counts: npt.NDArray[np.int64],
                 new_terms: npt.NDArray[np.uint32], new_tfs: npt.NDArray[np.float16]) -> None:
        self.old, self.keep_chunk, self.number, self.kept = old, keep_chunk, number, len(kept_ids)
        self.new_terms, self.new_tfs = new_terms, new_tfs
        self.old_counts = old_counts = np.zeros(len(old.terms), dtype=np.int64)
        for a, b, s0, s1 in old._blocks():  # each term's kept postings
            running = np.concatenate([[0], np.cumsum(keep_chunk[old.positions[s0:s1]])])
            old_counts[a:b] = running[old.starts[a + 1 : b + 1] - s0] - running[old.starts[a:b] - s0]
            old.let_go(old.positions, s0, s1)
        # The new file's terms and where each one's postings start: its kept postings, then its new ones.
        unique_new, new_per_term = _term_counts(new_terms, old.terms)
        present = old_counts > 0
        self.terms = terms = np.union1d(old.terms[present], unique_new).astype(np.uint32)
        kept_counts = np.zeros(len(terms), dtype=np.int64)
        kept_counts[np.searchsorted(terms, old.terms[present])] = old_counts[present]
        counts = kept_counts.copy()
        counts[np.searchsorted(terms, unique_new)] += new_per_term
        self.starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.total = int(self.starts[-1])
        self.where = np.searchsorted(terms, old.terms)  # each old term's place in the new terms (kept: exact)
        self.placed = self.starts[:-1] + kept_counts  # where each term's next new posting goes
        self.ends = np.cumsum(new_counts)  # where each new chunk's postings end
        self.ids = np.concatenate([kept_ids, new_ids])
        self.lengths = np.concatenate([old.lengths[keep_chunk], new_lengths]).astype(np.float32)

    def ranges(self, postings: int) -> Iterator[tuple[int, int]]:
        """Ranges of the new terms ``lo:hi`` holding at most ``postings`` postings (or one term), in order."""
        return _spans(self.starts, postings, len(self.terms), 0, len(self.terms))

    def fill(self, lo: int, hi: int, positions: npt.NDArray[np.int32], tfs: npt.NDArray[np.float16]) -> None:
        """The postings of the new terms ``lo:hi`` into ``positions`` and ``tfs`` (their length); ranges are
        filled in order."""
        old, starts, base = self.old, self.starts, int(self.starts[lo])
        first, end = np.searchsorted(self.where, [lo, hi])
        for a, b, s0, s1 in old._blocks(int(first), int(end)):
            keep = self.keep_chunk[old.positions[s0:s1]]
            block = self.old_counts[a:b]
            before = np.cumsum(block) - block  # kept postings of the block's earlier terms
            place = (np.repeat(starts[self.where[a:b]] - base - before, block)
                     + np.arange(int(block.sum()), dtype=np.int64))
            positions[place] = self.number[old.positions[s0:s1][keep]]
            tfs[place] = old.tfs[s0:s1][keep]
            old.let_go(old.positions, s0, s1)
            old.let_go(old.tfs, s0, s1)
        new_terms, every = self.new_terms, lo == 0 and hi == len(self.terms)
        low, high = (self.terms[lo], self.terms[hi - 1]) if hi > lo else (0, -1)
        for a in range(0, len(new_terms), _MERGE_POSTINGS):  # slabs in chunk order: each term's come in order
            slab = new_terms[a : a + _MERGE_POSTINGS]
            index = (np.arange(a, a + len(slab), dtype=np.int64) if every
                     else a + np.flatnonzero((slab >= low) & (slab <= high)))
            if not len(index):
                continue
            term = np.searchsorted(self.terms, new_terms[index])
            order = np.argsort(term, kind="stable")
            term = term[order]
            run = np.flatnonzero(np.concatenate([[True], term[1:] != term[:-1]]))
            length = np.diff(np.append(run, len(term)))
            place = self.placed[term] - base + np.arange(len(term), dtype=np.int64) - np.repeat(run, length)
            chunk = np.searchsorted(self.ends, index, side="right")
            positions[place] = (self.kept + chunk[order]).astype(np.int32)
            tfs[place] = self.new_tfs[index[order]]
            self.placed[term[run]] += length


def _spans(starts: npt.NDArray[np.int64], postings: int, terms: int, first: int, end: int
           ) -> Iterator[tuple[int, int]]:
    """Ranges ``a:b`` of the terms ``first:end`` (whose postings begin at ``starts``), in order, each of at most
    ``terms`` terms and ``postings`` postings, or of one term."""
    a = first
    while a < end:
        b = int(np.searchsorted(starts, starts[a] + postings, side="right")) - 1
        b = min(max(b, a + 1), a + terms, end)
        yield a, b
        a = b


def _term_counts(terms: npt.NDArray[np.uint32], known: npt.NDArray[np.uint32]
                 ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """The distinct ``terms`` (sorted) and how often each occurs, without a sorted copy of them all: a slab at a
    time, those among ``known`` (sorted; most of a new part's terms) are counted by their place in it, the
    others gathered and counted at the end (at 32M new postings: ~50 MB held, not ~190 MB)."""
    counts = np.zeros(len(known), dtype=np.int64)
    others: list[npt.NDArray[np.uint32]] = []
    for a in range(0, len(terms), _MERGE_POSTINGS):
        slab = terms[a : a + _MERGE_POSTINGS]
        place = np.minimum(np.searchsorted(known, slab), max(len(known) - 1, 0))
        found = known[place] == slab if len(known) else np.zeros(len(slab), dtype=bool)
        counts += np.bincount(place[found], minlength=len(known))
        others.append(slab[~found])
    rest, rest_counts = np.unique(np.concatenate(others) if others else np.zeros(0, dtype=np.uint32),
                                  return_counts=True)
    seen = counts > 0
    merged = np.concatenate([known[seen], rest]).astype(np.uint32)
    order = np.argsort(merged, kind="stable")
    return merged[order], np.concatenate([counts[seen], rest_counts]).astype(np.int64)[order]


def _write_file(path: Path, sizes: dict[str, tuple[np.dtype[Any], int]],
                write: Callable[[BinaryIO, dict[str, int]], None]) -> None:
    """Write a lexical file atomically (new temp file, fsync, rename): the header of the arrays' dtypes and
    sizes (in ``_LAYOUT``'s order), then ``write(fh, offsets)`` writes the arrays (at ``offsets``; the file
    is at the first when it is called).

    :raises OSError: if it cannot be written completely (e.g. ENOSPC).
    """
    header = json.dumps({name: [str(dtype), size] for name, (dtype, size) in sizes.items()}).encode()
    header += b" " * (-(16 + len(header)) % 8)  # the first array starts at a multiple of 8, and so each one
    # is aligned: the 8-byte arrays come first (``_LAYOUT``)
    offsets, at = {}, 16 + len(header)
    for name, (dtype, size) in sizes.items():
        offsets[name], at = at, at + size * np.dtype(dtype).itemsize

    def whole(fh: BinaryIO) -> None:
        fh.write(_MAGIC + len(header).to_bytes(8, "little") + header)
        write(fh, offsets)

    write_atomically(path, whole, at)


def _appended(kept_ids: npt.NDArray[np.int64], new_ids: npt.NDArray[np.int64]) -> bool:
    """Whether new chunk ids increase and all come after the kept ones (``merged`` then needs no sort)."""
    if len(new_ids) > 1 and not bool((new_ids[1:] > new_ids[:-1]).all()):
        return False
    return not len(new_ids) or not len(kept_ids) or int(new_ids[0]) > int(kept_ids[-1])


class PendingRows:
    """Lexical rows ``(chunk id, term ids, weighted tfs, length)`` waiting for the next generation (what an
    index run gathers between checkpoints), kept in five growing buffers instead of an object per row:
    a checkpoint's part can hold hundreds of thousands of rows. ``LexicalIndex.build`` and ``merged`` take
    it as they take rows, reading the buffers as arrays without a copy."""

    def __init__(self) -> None:
        self._ids = array("q")
        self._lengths = array("f")
        self._counts = array("q")
        self._terms = bytearray()
        self._tfs = bytearray()

    def extend(self, rows: Iterable[tuple[int, bytes, bytes, float]]) -> None:
        """Append rows. :raises ValueError: if a row's terms and weights differ in length."""
        for chunk_id, terms, tfs, length in rows:
            if len(terms) % 4 or len(tfs) % 2 or len(terms) // 4 != len(tfs) // 2:
                raise ValueError("a chunk's terms and weights differ in length")
            self._ids.append(chunk_id)
            self._lengths.append(length)
            self._counts.append(len(terms) // 4)
            self._terms += terms
            self._tfs += tfs

    def __len__(self) -> int:
        return len(self._ids)

    def arrays(self) -> tuple[np.ndarray, ...]:
        """(chunk ids, lengths, posting counts, terms, tfs), as ``_unpack_rows`` gives them."""
        return (np.frombuffer(self._ids, dtype=np.int64), np.frombuffer(self._lengths, dtype=np.float32),
                np.frombuffer(self._counts, dtype=np.int64), np.frombuffer(self._terms, dtype=np.uint32),
                np.frombuffer(self._tfs, dtype=np.float16))


def _unpack_rows(rows: Iterable[tuple[int, bytes, bytes, float]] | PendingRows) -> tuple[np.ndarray, ...]:
    """Rows ``(chunk id, term ids, weighted tfs, length)`` as arrays: chunk ids, lengths and posting
    counts by chunk; term and tf by posting (chunk after chunk, in the rows' order)."""
    return (rows if isinstance(rows, PendingRows) else _pending(rows)).arrays()


def _pending(rows: Iterable[tuple[int, bytes, bytes, float]]) -> PendingRows:
    pending = PendingRows()
    pending.extend(rows)
    return pending


def _length_norm(lengths: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """BM25's ``K1 * (1 - B + B * length / mean length)`` of each chunk, lengths capped at ``LENGTH_CAP``
    (the mean taken over the capped lengths)."""
    lengths = np.minimum(lengths, np.float32(LENGTH_CAP))
    return K1 * (1 - B + B * lengths / max(float(lengths.mean()), 1e-6))


def _parse(data: bytes | mmap.mmap) -> dict[str, np.ndarray]:
    """The six arrays of a lexical file, as views of ``data``.

    :raises ValueError: unless the magic, the header and the array sizes are exactly ours and
        the arrays fill the file (so no size in the header can exceed the file's).
    """
    magic = bytes(data[: len(_MAGIC)])
    if magic not in (_MAGIC, _MAGIC_UNALIGNED) or len(data) < 16:
        raise ValueError("not a lexical index file")
    layout = _LAYOUT if magic == _MAGIC else _LAYOUT_UNALIGNED
    header_size = int.from_bytes(data[8:16], "little")
    if header_size > len(data) - 16:
        raise ValueError("truncated header")
    try:
        header = json.loads(bytes(data[16 : 16 + header_size]))
    except (ValueError, RecursionError) as exc:
        raise ValueError("unreadable header") from exc
    if not isinstance(header, dict) or set(header) != set(layout):
        raise ValueError("unexpected header")
    offset, arrays = 16 + header_size, {}
    for name, dtype in layout.items():
        entry = header[name]
        if (not isinstance(entry, list) or len(entry) != 2 or entry[0] != dtype.name
                or type(entry[1]) is not int or entry[1] < 0):
            raise ValueError(f"unexpected header entry for {name}")
        n = entry[1]
        if n > (len(data) - offset) // dtype.itemsize:
            raise ValueError("truncated")
        arrays[name] = np.frombuffer(data, dtype=dtype, count=n, offset=offset)
        offset += n * dtype.itemsize
    if offset != len(data):
        raise ValueError("inconsistent sizes")
    # A file of the previous layout (or an odd mapping): an array off its alignment is copied once.
    return {name: a if a.flags.aligned else np.require(a, requirements=["A"]) for name, a in arrays.items()}


def _check_arrays(ids: np.ndarray, lengths: np.ndarray, terms: np.ndarray, starts: np.ndarray,
                  positions: np.ndarray, tfs: np.ndarray) -> None:
    """Check the arrays are what ``LexicalIndex.build`` makes: ids and terms strictly increasing,
    ``starts`` running monotonically from 0 to the number of postings, every position a valid
    chunk position, every length and frequency finite and not negative. Linear in the file's size; no copy
    of the postings is made.

    :raises ValueError: naming the first structure that is wrong.
    """
    if len(ids) > 1 and not bool((ids[1:] > ids[:-1]).all()):
        raise ValueError("chunk ids out of order")
    if len(terms) > 1 and not bool((terms[1:] > terms[:-1]).all()):
        raise ValueError("terms out of order")
    if len(starts) != len(terms) + 1 or starts[0] != 0 or starts[-1] != len(positions):
        raise ValueError("postings offsets do not span the postings")
    if len(starts) > 1 and not bool((starts[1:] >= starts[:-1]).all()):
        raise ValueError("postings offsets out of order")
    if len(positions) != len(tfs):
        raise ValueError("postings and frequencies differ in length")
    if len(lengths) != len(ids):
        raise ValueError("chunk lengths and ids differ in length")
    if len(positions) and (int(positions.min()) < 0 or int(positions.max()) >= len(ids)):
        raise ValueError("a posting points outside the chunks")
    for name, values in (("frequency", tfs), ("length", lengths)):
        # NaN fails both comparisons
        if len(values) and not (float(values.min()) >= 0.0 and float(values.max()) < np.inf):
            raise ValueError(f"a {name} is negative or not finite")


def lexical_path(index_dir: Path, generation: int) -> Path:
    """The lexical file of one generation."""
    return Path(index_dir) / f"lexical-{generation}.bin"
