"""The lexical stage: code-aware terms, BM25 against a hand computation, the generation file."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from codesearch.errors import IndexCorrupt, UnsafeIndexDir
from codesearch.store.postings import B, K1, LexicalIndex
from codesearch.terms import chunk_terms, query_terms, term_ids, terms


def test_terms_split_identifiers_keep_compounds_and_stem() -> None:
    """parseJsonString -> parse, json, string and parsejsonstring; plurals and -ed stemmed; stopwords gone."""
    got = terms("def parseJsonString(max_retries): the registered handlers")
    assert {"parse", "json", "string", "parsejsonstring", "max", "retry", "maxretries", "regist", "handle"} <= set(got)
    assert "the" not in got and "def" in got
    assert terms("HTTP") == ["http"]  # an acronym is a word, not a compound


def _index(docs: dict[int, tuple[str, str, str, str]]) -> LexicalIndex:
    return LexicalIndex.build([(i, *chunk_terms(*fields)) for i, fields in docs.items()])


def test_bm25_matches_a_hand_computation() -> None:
    """Scores are BM25 (k1, b) over weighted term frequencies, summed over the query's terms."""
    docs = {10: ("", "", "", "alpha beta"), 20: ("", "", "", "alpha alpha gamma delta"), 30: ("", "", "", "gamma")}
    index = _index(docs)
    lengths = {10: 2.0, 20: 4.0, 30: 1.0}
    avg = sum(lengths.values()) / 3

    def bm25(tf: float, df: int, length: float) -> float:
        idf = math.log1p((3 - df + 0.5) / (df + 0.5))
        return idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / avg))

    got = dict(index.search(query_terms(["alpha", "gamma"]), k=10))
    assert got[10] == pytest.approx(bm25(1, 2, 2.0), rel=1e-5)
    assert got[20] == pytest.approx(bm25(2, 2, 4.0) + bm25(1, 2, 4.0), rel=1e-5)
    assert got[30] == pytest.approx(bm25(1, 2, 1.0), rel=1e-5)
    assert [i for i, _ in index.search(query_terms(["alpha", "gamma"]), k=10)] == sorted(got, key=lambda i: -got[i])
    assert index.search(query_terms(["missing"]), k=10) == []


def test_name_weighs_more_than_code_and_allowed_filters() -> None:
    """A word in the name outranks the same word in the code; ``allowed`` restricts the ids."""
    index = _index({1: ("cookie", "", "", "return x"), 2: ("other", "", "", "cookie here")})
    assert [i for i, _ in index.search(query_terms(["cookie"]), k=2)] == [1, 2]
    assert [i for i, _ in index.search(query_terms(["cookie"]), k=2, allowed=np.array([2]))] == [2]
    assert len(index.search(query_terms(["cookie"]), k=1)) == 1


def test_compound_identifier_query_term_matches_the_whole_identifier() -> None:
    """A query naming set_cookie finds setCookie through the compound term."""
    index = _index({1: ("setCookie", "", "", ""), 2: ("set", "", "", "cookie")})
    hits = index.search(query_terms(["set", "cookie"], ["setcookie"]), k=2)
    assert hits[0][0] == 1 and hits[0][1] > hits[1][1]


def test_save_load_round_trip_and_damage(tmp_path: Path) -> None:
    """The file round-trips; a truncated file, a wrong count or a symlink is refused."""
    index = _index({5: ("a", "", "", "alpha beta"), 7: ("b", "", "", "beta gamma")})
    path = tmp_path / "lexical-1.bin"
    index.save(path)
    loaded = LexicalIndex.load(path, count=2)
    q = query_terms(["beta"])
    assert loaded.search(q, 2) == index.search(q, 2)
    with pytest.raises(IndexCorrupt, match="expects 3"):
        LexicalIndex.load(path, count=3)
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(IndexCorrupt, match="damaged"):
        LexicalIndex.load(path, count=2)
    with pytest.raises(IndexCorrupt, match="missing"):
        LexicalIndex.load(tmp_path / "nope.bin", count=2)
    os.symlink(tmp_path / "elsewhere", tmp_path / "lexical-2.bin")
    with pytest.raises(UnsafeIndexDir):
        LexicalIndex.load(tmp_path / "lexical-2.bin", count=2)


def test_empty_index_searches_to_nothing(tmp_path: Path) -> None:
    """An index of no chunks builds, saves, loads and answers nothing."""
    index = LexicalIndex.build([])
    index.save(tmp_path / "l.bin")
    assert LexicalIndex.load(tmp_path / "l.bin", count=0).search(term_ids(["x"]), 5) == []


@given(st.lists(st.sampled_from([*"aZbY_$09 .(\n-éΣ", "HTTP", "Server", "parse", "json", "getURL"]), max_size=30)
       .map("".join))
@settings(max_examples=300, deadline=None)
def test_terms_per_run_equal_the_terms_of_the_whole_text(text: str) -> None:
    """The cached per-run split gives the same multiset as splitting the whole text at once."""
    from collections import Counter

    from codesearch.terms import _terms_of_run, terms

    assert Counter(terms(text)) == Counter(_terms_of_run.__wrapped__(text))


def _row(chunk_id: int, term_list: list[int], weights: list[float]) -> tuple[int, bytes, bytes, float]:
    return (chunk_id, np.array(term_list, dtype=np.uint32).tobytes(), np.array(weights, dtype=np.float16).tobytes(),
            float(len(term_list)))


_chunk = st.tuples(st.lists(st.integers(0, 40) | st.integers(0, 2**32 - 1), max_size=8),
                   st.floats(0.5, 8.0, width=16))


@settings(max_examples=150, deadline=None)
@given(old=st.dictionaries(st.integers(1, 300), _chunk, max_size=25),
       new=st.dictionaries(st.integers(1, 400), _chunk, max_size=15),
       dropped=st.sets(st.integers(1, 300), max_size=8))
def test_a_merge_equals_a_build_of_what_is_left(old: dict, new: dict, dropped: set) -> None:
    """``merged`` (what a checkpoint or an incremental run does) gives the arrays a build from scratch of
    the remaining and new chunks gives: same chunks, terms, postings in (term, chunk) order, weights."""
    rows = lambda chunks: [_row(i, terms_, [w] * len(terms_)) for i, (terms_, w) in chunks.items()]  # noqa: E731
    merged = LexicalIndex.build(rows(old)).merged(dropped, rows(new))
    left = {i: c for i, c in old.items() if i not in dropped and i not in new}
    built = LexicalIndex.build(rows({**left, **new}))
    for name in ("ids", "lengths", "terms", "starts", "positions", "tfs"):
        a, b = getattr(merged, name), getattr(built, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


@pytest.mark.parametrize("share", [0.0005, 0.05, 0.6, 1.0])
@pytest.mark.parametrize("k", [1, 10, 100, 5000])
def test_the_best_scores_of_a_large_index_are_picked_exactly(share: float, k: int) -> None:
    """Above ``SAMPLE_FROM`` chunks ``top`` sorts only the scores a sampled threshold lets through: the same
    chunks, scores and order (best first, ties by the lower id) as sorting every score, however many chunks
    a query scores and however many tie (scores rounded to a few values)."""
    from codesearch.store.postings import SAMPLE_FROM, QueryScores

    rng = np.random.default_rng(int(share * 1e4) + k)
    n = SAMPLE_FROM * 2 + 7
    ids = np.sort(rng.choice(10 * n, n, replace=False)).astype(np.int64)
    scores = np.where(rng.random(n) < share, np.round(rng.gamma(2.0, 2.0, n), 1) + 0.1, 0.0)
    allowed = ids[rng.random(n) < 0.5]
    for mask in (None, allowed):
        kept = scores if mask is None else np.where(np.isin(ids, mask), scores, 0.0)
        order = sorted(np.flatnonzero(kept), key=lambda p: (-kept[p], ids[p]))[:k]
        assert QueryScores(ids, scores).top(k, mask) == [(int(ids[p]), float(kept[p])) for p in order]


@settings(max_examples=150, deadline=None)
@given(old=st.dictionaries(st.integers(1, 300), _chunk, max_size=25),
       new=st.dictionaries(st.integers(301, 400), _chunk, max_size=15),
       dropped=st.sets(st.integers(1, 300), max_size=8), block=st.sampled_from([1, 2, 3, 1 << 16]),
       slab=st.sampled_from([1, 2, 5, 1 << 19]), written=st.sampled_from([1, 3, 8, 1 << 23]))
def test_a_merge_of_chunks_appended_after_the_kept_ones_moves_postings_without_a_sort(
        old: dict, new: dict, dropped: set, block: int, slab: int, written: int) -> None:
    """New ids above every kept id (what the writer gives): ``merged`` writes each posting into its place, a
    block of old terms and a slab of new postings at a time, and gives the arrays of a build from scratch,
    whatever the block and slab sizes; ``merge_into`` writes the same file a range of terms at a time."""
    import tempfile

    import codesearch.store.postings as postings

    rows = lambda chunks: [_row(i, terms_, [w] * len(terms_)) for i, (terms_, w) in chunks.items()]  # noqa: E731
    previous = postings._MERGE_TERMS, postings._MERGE_POSTINGS, postings._WRITE_POSTINGS
    postings._MERGE_TERMS, postings._MERGE_POSTINGS, postings._WRITE_POSTINGS = block, slab, written
    try:
        before = LexicalIndex.build(rows(old))
        assert postings._appended(before.ids[~np.isin(before.ids, list(dropped))], np.array(sorted(new)))
        merged = before.merged(dropped, rows(dict(sorted(new.items()))))
        with tempfile.TemporaryDirectory() as folder:
            merged.save(Path(folder) / "saved.bin")
            before.merge_into(Path(folder) / "written.bin", dropped, iter(rows(dict(sorted(new.items())))))
            assert (Path(folder) / "written.bin").read_bytes() == (Path(folder) / "saved.bin").read_bytes()
            assert sorted(p.name for p in Path(folder).iterdir()) == ["saved.bin", "written.bin"]  # no temp left
    finally:
        postings._MERGE_TERMS, postings._MERGE_POSTINGS, postings._WRITE_POSTINGS = previous
    built = LexicalIndex.build(rows({**{i: c for i, c in old.items() if i not in dropped}, **new}))
    for name in ("ids", "lengths", "terms", "starts", "positions", "tfs"):
        a, b = getattr(merged, name), getattr(built, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


def test_merge_into_writes_the_merged_file_also_when_new_ids_come_between_kept_ones(tmp_path: Path) -> None:
    """Rows whose ids are not all above the kept ones (an index merged by another path) take the sorting
    merge and are written as ``merged(...).save`` writes them."""
    old = [_row(i, [i % 4, 50 + i], [1.0, 0.5]) for i in range(10, 40, 2)]
    new = [_row(i, [i % 3, 7], [2.0, 1.0]) for i in (11, 21, 41)]
    before = LexicalIndex.build(old)
    before.merged({12}, new).save(tmp_path / "saved.bin")
    before.merge_into(tmp_path / "written.bin", {12}, iter(new))
    assert (tmp_path / "written.bin").read_bytes() == (tmp_path / "saved.bin").read_bytes()


def test_a_saved_file_maps_every_array_aligned_and_the_previous_layout_still_loads(tmp_path: Path) -> None:
    """Layout 003 puts each array at a multiple of its item size, so a search maps them as they are (an
    unaligned array is copied by numpy on each search of it); a file of layout 002 (arrays wherever the
    header's length put them) loads to the same arrays, each unaligned one copied once."""
    import json

    from codesearch.store import postings

    index = LexicalIndex.build([_row(i, [i % 7, 100 + i, 2**31 + i], [1.0, 2.0, 0.5]) for i in range(1, 40, 3)])
    path = tmp_path / "lexical-1.bin"
    index.save(path)
    assert path.read_bytes()[:8] == b"CSLEX003"
    loaded = LexicalIndex.load(path, len(index.ids))
    names = ("ids", "lengths", "terms", "starts", "positions", "tfs")
    for name in names:
        array = getattr(loaded, name)
        assert array.flags.aligned and not array.flags.owndata, name  # a view of the mapped file
        assert np.array_equal(array, getattr(index, name)), name
    arrays = {name: getattr(index, name) for name in postings._LAYOUT_UNALIGNED}
    header = json.dumps({name: [str(a.dtype), int(a.size)] for name, a in arrays.items()}).encode() + b" "
    assert (16 + len(header)) % 8  # the old writer's offsets: not aligned here
    previous = tmp_path / "lexical-2.bin"  # not over the mapped file
    previous.write_bytes(b"CSLEX002" + len(header).to_bytes(8, "little") + header
                         + b"".join(np.ascontiguousarray(a).tobytes() for a in arrays.values()))
    old = LexicalIndex.load(previous, len(index.ids))
    for name in names:
        assert getattr(old, name).flags.aligned and np.array_equal(getattr(old, name), getattr(index, name)), name
    assert old.search(term_ids(["x"]), 3) == index.search(term_ids(["x"]), 3)
    query = np.array([3, 105], dtype=np.uint32)
    assert old.search(query, 5) == index.search(query, 5) == loaded.search(query, 5) and index.search(query, 5)


def test_pending_rows_build_and_merge_as_the_rows_do() -> None:
    """What an index run gathers between checkpoints, kept in buffers, gives the arrays its rows give."""
    from codesearch.store.postings import PendingRows

    rows = [_row(i, [i % 5, 50 + i, 2**32 - 1 - i], [1.0, 0.5, 2.0]) for i in range(10, 30, 2)]
    pending = PendingRows()
    pending.extend(rows[:4])
    pending.extend(rows[4:])
    assert len(pending) == len(rows)
    before = LexicalIndex.build([_row(i, [i % 3, 7], [1.0, 1.0]) for i in range(1, 9)])
    for a, b in ((LexicalIndex.build(pending), LexicalIndex.build(rows)),
                 (before.merged([2, 3], pending), before.merged([2, 3], rows))):
        for name in ("ids", "lengths", "terms", "starts", "positions", "tfs"):
            assert getattr(a, name).dtype == getattr(b, name).dtype and np.array_equal(getattr(a, name),
                                                                                      getattr(b, name)), name
    with pytest.raises(ValueError, match="differ in length"):
        pending.extend([(99, np.array([1, 2], dtype=np.uint32).tobytes(), np.array([1.0], dtype=np.float16).tobytes(),
                         2.0)])


def test_a_mapped_index_lets_its_pages_go_and_still_merges_to_the_same_arrays(tmp_path: Path) -> None:
    """The writer keeps the last checkpoint's file mapped with its pages let go, and the merge lets each block
    go once copied: the pages are read again when touched, so nothing changes but what stays resident."""
    import codesearch.store.postings as postings

    old = {i: ([i % 5, 100 + i % 11, 7], [1.0, 2.0, 0.5]) for i in range(1, 200)}
    new = {i: ([i % 3, 100 + i % 7, 9], [0.5, 1.0, 2.0]) for i in range(300, 360)}
    rows = lambda chunks: [_row(i, t, w) for i, (t, w) in chunks.items()]  # noqa: E731
    path = tmp_path / "lexical-1.bin"
    LexicalIndex.build(rows(old)).save(path)
    mapped = LexicalIndex.load(path, len(old))
    mapped.let_go()
    mapped.let_go(mapped.positions, 3, 50)
    LexicalIndex.build(rows(old)).let_go()  # in memory: nothing to let go
    previous, postings._MERGE_POSTINGS = postings._MERGE_POSTINGS, 16  # many blocks, each let go
    try:
        merged = mapped.merged({5, 17}, rows(new))
    finally:
        postings._MERGE_POSTINGS = previous
    built = LexicalIndex.build(rows({**{i: c for i, c in old.items() if i not in (5, 17)}, **new}))
    for name in ("ids", "lengths", "terms", "starts", "positions", "tfs"):
        assert np.array_equal(getattr(merged, name), getattr(built, name)), name
    assert np.array_equal(mapped.positions, LexicalIndex.build(rows(old)).positions)  # still readable


@settings(max_examples=120, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.sampled_from([1, 3, 10, 40]), common=st.floats(0.0, 0.6),
       filtered=st.booleans())
@example(seed=8433, k=10, common=0.443359375, filtered=False)  # chunks 99 and 522 tie at the 10th place
def test_common_terms_read_only_for_the_chunks_that_can_win_change_nothing(seed: int, k: int, common: float,
                                                                          filtered: bool) -> None:
    """On a large index the postings of a query's commonest terms are read only for the chunks that can be among
    its best (``COMMON_SHARE``, ``QueryScores._checked_top``): ``top`` and ``of`` give exactly what scoring every
    posting gives (same chunks, scores, ties by the lower id), whether the bound proves the best or not (then
    every chunk is scored), with or without a filter."""
    from unittest import mock

    from codesearch.store import postings
    from codesearch.store.postings import QueryScores

    rng = np.random.default_rng(seed)
    n = 300
    rows = []
    for i in range(1, n + 1):  # terms 0-2 in most chunks, 3-29 rare; weights rounded so that scores tie
        term_list = [t for t in range(3) if rng.random() < common] + [int(t) for t in rng.choice(np.arange(3, 30), 2)]
        term_list = sorted(set(term_list))
        rows.append(_row(i * 3, term_list, [float(rng.integers(1, 4)) for _ in term_list]))
    index = LexicalIndex.build(rows)
    query = np.array(sorted({0, 1, 2, *rng.choice(np.arange(3, 30), 3).tolist()}), dtype=np.uint32)
    allowed = index.ids[rng.random(n) < 0.5] if filtered else None
    with mock.patch.object(postings, "SKIP_FROM", 0), mock.patch.object(postings, "COMMON_SHARE", 0.3):
        scored = index.score(query)
        full = index._postings(query)
        every = QueryScores(index.ids, index._scores(full))
        assert scored.top(k, allowed) == every.top(k, allowed)
        probe = [int(i) for i in index.ids[::7]] + [1, 10**6]  # and two ids the index does not hold
        assert scored.of(probe) == every.of(probe)


def test_a_crafted_file_with_postings_out_of_order_cannot_break_the_common_terms_reading() -> None:
    """A lexical file is data (a repository can ship one): postings out of chunk order within a term (``load``
    does not check that order) make its own scores wrong at worst; the binary searches of the exact scoring stay
    inside each term's postings, and ``top`` and ``of`` answer with chunks the index holds."""
    from unittest import mock

    from codesearch.store import postings

    rows = [_row(i, [0, 1, 2 + i % 5], [1.0, 2.0, 1.0]) for i in range(1, 200)]
    built = LexicalIndex.build(rows)
    shuffled = built.positions.copy()
    np.random.default_rng(1).shuffle(shuffled)  # every term's postings in no order
    crafted = LexicalIndex(built.ids, built.lengths, built.terms, built.starts, shuffled, built.tfs)
    with mock.patch.object(postings, "SKIP_FROM", 0), mock.patch.object(postings, "COMMON_SHARE", 0.5):
        scored = crafted.score(np.array([0, 1, 3], dtype=np.uint32))
        assert scored.exact is not None  # the common terms' reading is the one tried
        top = scored.top(10)
        scores = scored.of([int(i) for i in crafted.ids] + [10**6])
    held = set(crafted.ids.tolist())
    assert all(i in held and math.isfinite(s) for i, s in top)
    assert len(scores) == len(crafted.ids) + 1 and all(math.isfinite(s) and s >= 0 for s in scores)
