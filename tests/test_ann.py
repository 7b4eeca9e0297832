"""The approximate (IVF) vector index: the size threshold, updates, filters and its file, against the flat store."""

from __future__ import annotations

import struct
from pathlib import Path

import faiss
import numpy as np
import pytest

from codesearch.errors import IndexCorrupt
from codesearch.store import ivf
from codesearch.store.vectors import VectorStore
from tests.conftest import FakeEmbedder, write

DIM = 16


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _same_codes(approximate: ivf.IvfVectorStore, ids: np.ndarray, vectors: np.ndarray) -> VectorStore:
    """A flat store with the IVF store's 8-bit ranges, holding ``vectors``: the same codes, so the same scores."""
    index = faiss.IndexScalarQuantizer(DIM, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    faiss.copy_array_to_vector(approximate.ranges(), index.sq.trained)
    index.is_trained = True
    reference = VectorStore(faiss.IndexIDMap2(index))
    reference.add(ids, vectors)
    return reference


def _stores(monkeypatch: pytest.MonkeyPatch, n: int = 800) -> tuple[VectorStore, ivf.IvfVectorStore]:
    """(flat, IVF scanning every list) over the same n vectors with ids 5, 8, 11, ...; the flat store
    holds the IVF store's 8-bit codes, so that results must be equal."""
    monkeypatch.setattr(ivf, "ANN_THRESHOLD", 100)
    flat = VectorStore.empty(DIM)
    ids, vectors = np.arange(n, dtype=np.int64) * 3 + 5, _unit(np.random.default_rng(0), n)
    flat.add(ids, vectors)
    approximate = ivf.fitted(flat)
    assert isinstance(approximate, ivf.IvfVectorStore) and approximate.nlist > 1
    assert approximate.magic == ivf.MAGIC and approximate.code_size == DIM
    approximate.index.nprobe = approximate.nlist  # exact: results must equal the flat store's
    return _same_codes(approximate, ids, flat.vectors(ids.tolist())), approximate


def test_eight_bit_codes_are_within_half_a_step_of_the_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ivf, "ANN_THRESHOLD", 100)
    flat = VectorStore.empty(DIM)
    vectors = _unit(np.random.default_rng(11), 500)
    flat.add(np.arange(500, dtype=np.int64), vectors)
    approximate = ivf.fitted(flat)
    assert isinstance(approximate, ivf.IvfVectorStore)
    low, span = np.split(approximate.ranges(), 2)
    stored = flat.vectors(list(range(500)))
    np.testing.assert_allclose(low, stored.min(axis=0))
    np.testing.assert_allclose(low + span, stored.max(axis=0), rtol=1e-6)
    error = np.abs(approximate.vectors(list(range(500))) - stored)
    assert (error <= span / 255 / 2 + 1e-6).all()
    assert error.max() > 1e-4  # codes, not copies of the vectors


def _same(a: VectorStore, b: VectorStore, queries: np.ndarray, k: int = 10,
          allowed: np.ndarray | None = None) -> None:
    (sa, ia), (sb, ib) = a.search(queries, k, allowed), b.search(queries, k, allowed)
    np.testing.assert_array_equal(ia, ib)
    np.testing.assert_allclose(sa, sb, atol=1e-6)


def test_the_writer_switches_to_ivf_at_the_threshold_and_back_below_half(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ivf, "ANN_THRESHOLD", 100)
    flat = VectorStore.empty(DIM)
    flat.add(np.arange(99, dtype=np.int64), _unit(np.random.default_rng(1), 99))
    assert ivf.fitted(flat) is flat
    flat.add(np.array([99], dtype=np.int64), _unit(np.random.default_rng(2), 1))
    approximate = ivf.fitted(flat)
    assert isinstance(approximate, ivf.IvfVectorStore) and approximate.trained_for == 100
    approximate.remove(range(40))  # 60 left: above half the threshold, kept as it is
    assert ivf.fitted(approximate) is approximate
    approximate.remove(range(40, 55))
    back = ivf.fitted(approximate)
    assert type(back) is VectorStore and back.count == 45
    np.testing.assert_array_equal(back.ids(), np.arange(55, 100))
    step = approximate.ranges()[DIM:] / 255
    np.testing.assert_allclose(back.vectors([70])[0], flat.vectors([70])[0], atol=float(step.max()) / 2 + 1e-3)
    monkeypatch.setattr(ivf, "ANN_THRESHOLD", 0)  # even then, an empty index is flat
    assert type(ivf.fitted(VectorStore.empty(DIM))) is VectorStore


def test_an_index_grown_past_the_retrain_factor_is_trained_again(monkeypatch: pytest.MonkeyPatch) -> None:
    flat, approximate = _stores(monkeypatch, 400)
    approximate.add(np.arange(10_000, 10_000 + 1300, dtype=np.int64), _unit(np.random.default_rng(3), 1300))
    retrained = ivf.fitted(approximate)
    assert retrained is not approximate and retrained.trained_for == 1700  # type: ignore[attr-defined]
    np.testing.assert_array_equal(retrained.ids(), approximate.ids())


def test_add_remove_and_update_keep_results_equal_to_flat(monkeypatch: pytest.MonkeyPatch) -> None:
    flat, approximate = _stores(monkeypatch)
    queries = _unit(np.random.default_rng(4), 6)
    _same(flat, approximate, queries)
    gone = [5, 8, 11, 302, 605]
    new_ids = np.array([5000, 5003], dtype=np.int64)
    new = _unit(np.random.default_rng(5), 2)
    for store in (flat, approximate):
        store.remove(gone + [999_999])  # an unknown id is ignored
        store.add(new_ids, new)
        store.remove([14])  # an update: removed, added again with another vector
        store.add(np.array([14], dtype=np.int64), queries[:1])
    assert approximate.count == flat.count == 800 - 5 + 2
    _same(flat, approximate, queries)
    assert approximate.search(queries[:1], 1)[1][0, 0] == 14
    np.testing.assert_array_equal(approximate.ids(), np.sort(flat.ids()))
    np.testing.assert_allclose(approximate.similarity([5000, 17], queries[0]), flat.similarity([5000, 17], queries[0]),
                               atol=1e-6)
    with pytest.raises(KeyError):
        approximate.vectors([5])


def test_scanning_an_eighth_of_the_lists_finds_most_neighbours_on_clustered_vectors(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Vectors near 40 topics (as code is): the lists nearest a query hold its neighbours."""
    monkeypatch.setattr(ivf, "ANN_THRESHOLD", 100)
    rng = np.random.default_rng(6)
    topics = _unit(rng, 40)
    x = topics[rng.integers(0, 40, 4000)] + 0.15 * rng.standard_normal((4000, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    flat = VectorStore.empty(DIM)
    flat.add(np.arange(4000, dtype=np.int64), x)
    approximate = ivf.fitted(flat)
    assert isinstance(approximate, ivf.IvfVectorStore)
    approximate.index.nprobe = round(approximate.nlist * ivf.NPROBE_FRACTION)
    queries = x[:50] + 0.05 * rng.standard_normal((50, DIM)).astype(np.float32)
    exact, found = flat.search(queries, 10)[1], approximate.search(queries, 10)[1]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact.tolist(), found.tolist(), strict=True)])
    assert recall >= 0.9


def test_allowed_ids_filter_like_flat(monkeypatch: pytest.MonkeyPatch) -> None:
    flat, approximate = _stores(monkeypatch)
    queries = _unit(np.random.default_rng(7), 4)
    allowed = np.arange(800, dtype=np.int64)[::9] * 3 + 5
    _same(flat, approximate, queries, 10, allowed)
    scores, ids = approximate.search(queries, 10, allowed[:3])  # fewer allowed than asked: padded with -1
    assert set(ids[0, :3].tolist()) == set(allowed[:3].tolist()) and (ids[:, 3:] == -1).all()


def test_a_narrow_filter_scans_more_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the default nprobe, a filter allowing 1/10 of the ids scans 10x the lists (here: all)."""
    flat, approximate = _stores(monkeypatch)
    approximate.index.nprobe = max(1, approximate.nlist // 10)
    allowed = np.arange(800, dtype=np.int64)[::10] * 3 + 5
    _same(flat, approximate, _unit(np.random.default_rng(8), 4), 10, allowed)


def test_save_and_load_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flat, approximate = _stores(monkeypatch)
    approximate.remove([8, 20])
    approximate.add(np.array([1], dtype=np.int64), _unit(np.random.default_rng(9), 1))  # lower than its list's ids
    path = tmp_path / "vectors-1.faiss"
    approximate.save(path)
    assert path.read_bytes()[:8] == ivf.MAGIC
    assert path.stat().st_size == ivf.file_size(DIM, approximate.nlist, approximate.count)
    for mmap in (False, True):
        loaded = VectorStore.load(path, DIM, approximate.count, approximate.id_checksum(), mmap=mmap)
        assert isinstance(loaded, ivf.IvfVectorStore)
        assert (loaded.nlist, loaded.nprobe, loaded.trained_for) == (approximate.nlist, approximate.nprobe, 800)
        np.testing.assert_array_equal(loaded.ids(), approximate.ids())
        _same(loaded, approximate, _unit(np.random.default_rng(10), 5))
        np.testing.assert_array_equal(loaded.vectors([1, 11]), approximate.vectors([1, 11]))
    VectorStore.check(path, DIM, approximate.count, approximate.id_checksum())
    for read in (VectorStore.load, VectorStore.check):
        with pytest.raises(IndexCorrupt, match="do not match the metadata"):
            read(path, DIM, approximate.count, flat.id_checksum())


def _saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, ivf.IvfVectorStore]:
    _, approximate = _stores(monkeypatch, 400)
    path = tmp_path / "vectors-1.faiss"
    approximate.save(path)
    return path, approximate


def _patch(path: Path, at: int, value: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[at : at + len(value)] = value
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("magic", b"CSIVF999", "flat"),  # not our IVF magic: read as a flat file, whose size check refuses it
    ("dim", struct.pack("<I", 1 << 30), "dimension"),
    ("nlist", struct.pack("<I", 1 << 30), "header"),
    ("count", struct.pack("<Q", 1 << 60), "holds"),
    ("nprobe", struct.pack("<I", 0), "header"),
])
def test_a_crafted_header_is_refused_before_anything_is_allocated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str, value: bytes, message: str) -> None:
    path, store = _saved(tmp_path, monkeypatch)
    at = {"magic": 0, "dim": 8, "nlist": 12, "count": 16, "nprobe": 32}[field]
    _patch(path, at, value)
    with pytest.raises(IndexCorrupt, match=message if message != "flat" else "bytes"):
        VectorStore.load(path, DIM, store.count)


def test_damaged_lists_are_index_corrupt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, store = _saved(tmp_path, monkeypatch)
    data = path.read_bytes()
    centroids_at = ivf.HEADER.size + 2 * DIM * 4
    sizes_at = centroids_at + store.nlist * DIM * 4
    ids_at = sizes_at + store.nlist * 8
    first = int(np.frombuffer(data, np.uint64, 1, sizes_at)[0])
    assert first >= 2
    cases = {
        "do not add up": (sizes_at, struct.pack("<Q", first + 1)),
        "out of order": (ids_at, struct.pack("<2q", *np.frombuffer(data, np.int64, 2, ids_at)[::-1])),
        "centroid is not finite": (centroids_at, struct.pack("<f", float("nan"))),
        "ranges are not finite": (ivf.HEADER.size, struct.pack("<f", float("inf"))),
        "ranges are not finite and positive": (ivf.HEADER.size + DIM * 4, struct.pack("<f", -1.0)),
    }
    for message, (at, value) in cases.items():
        path.write_bytes(data)
        _patch(path, at, value)
        with pytest.raises(IndexCorrupt, match=message):
            VectorStore.load(path, DIM, store.count)
        with pytest.raises(IndexCorrupt, match=message):  # the writer's cheap check, without building
            VectorStore.check(path, DIM, store.count)
    path.write_bytes(data[:-1])
    with pytest.raises(IndexCorrupt, match="truncated"):
        VectorStore.load(path, DIM, store.count)
    path.write_bytes(data[:20])
    with pytest.raises(IndexCorrupt, match="truncated"):
        VectorStore.load(path, DIM, store.count)


def test_an_index_above_the_threshold_searches_and_updates_like_a_flat_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer keeps an IVF file for a tiny threshold; searches and an incremental run give the flat results."""
    from codesearch.pipeline import build_index
    from codesearch.search import Searcher

    roots = {}
    for name, threshold in (("flat", ivf.ANN_THRESHOLD), ("ivf", 1)):
        monkeypatch.setattr(ivf, "ANN_THRESHOLD", threshold)
        root = roots[name] = tmp_path / name
        write(root, "a.py", "def read_config(path):\n    '''Read settings.'''\n    return open(path).read()\n")
        write(root, "b.py", "def retry(fn):\n    '''Call again.'''\n    return fn()\n")
        write(root, "c.py", "class Cart:\n    '''A shopping cart.'''\n    def total(self):\n        return 0\n")
        build_index(root, embedder=FakeEmbedder())
        # The 8-bit ranges come from the first run's vectors; the second run's new ones are coded in them.
        write(root, "b.py", "def retry(fn, times):\n    '''Call again and again.'''\n    return fn()\n")
        write(root, "d.py", "def pay(cart):\n    '''Pay for a shopping cart.'''\n    return cart.total()\n")
        build_index(root, embedder=FakeEmbedder())
    assert (tmp_path / "ivf" / ".codesearch").is_dir()
    found = {}
    for name, root in roots.items():
        with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
            assert isinstance(searcher.vectors, ivf.IvfVectorStore) == (name == "ivf")
            found[name] = [(h.path, h.name) for h in searcher.search("shopping cart total", k=5)]
            found[name + " python"] = [(h.path, h.name) for h in searcher.search("retry lang:python", k=5)]
    assert found["ivf"] == found["flat"] and found["ivf"]
    # 8-bit codes may swap near ties (here the 4th and 5th of five nearly unrelated chunks)
    assert found["ivf python"][:3] == found["flat python"][:3]
    assert set(found["ivf python"]) == set(found["flat python"])


def test_a_float16_file_of_the_previous_layout_is_read_and_written_again_as_eight_bit_codes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, approximate = _stores(monkeypatch, 400)
    ids = approximate.ids()
    flat = VectorStore.empty(DIM)
    flat.add(ids, _unit(np.random.default_rng(12), len(ids)))
    old = ivf.IvfVectorStore.untrained(approximate.centroids(), approximate.nlist, 400)  # no ranges: float16
    old.add(ids, flat.vectors(ids.tolist()))
    path = tmp_path / "vectors-1.faiss"
    old.save(path)
    assert path.read_bytes()[:8] == ivf.MAGIC_FLOAT16
    assert path.stat().st_size == ivf.file_size(DIM, old.nlist, len(ids), ivf.MAGIC_FLOAT16)
    loaded = VectorStore.load(path, DIM, len(ids), flat.id_checksum())
    assert isinstance(loaded, ivf.IvfVectorStore) and loaded.magic == ivf.MAGIC_FLOAT16
    _same(flat, loaded, _unit(np.random.default_rng(13), 5))  # float16 codes, every list scanned: flat's results
    converted = ivf.fitted(loaded)
    assert isinstance(converted, ivf.IvfVectorStore) and converted.magic == ivf.MAGIC
    np.testing.assert_array_equal(converted.centroids(), loaded.centroids())  # the same lists, no k-means
    np.testing.assert_array_equal(converted.ids(), np.sort(ids))
    converted.save(path)
    assert path.read_bytes()[:8] == ivf.MAGIC
    assert path.stat().st_size < ivf.file_size(DIM, old.nlist, len(ids), ivf.MAGIC_FLOAT16)


@pytest.mark.parametrize("rows_per_block", [7, 64, 1 << 16])
def test_an_index_built_from_uneven_batches_is_the_one_built_from_every_row_at_once(
        monkeypatch: pytest.MonkeyPatch, rows_per_block: int) -> None:
    """``build_from`` reads the vectors twice in whatever batches they come (an IVF index's lists, when it
    is trained again) and gives the index ``build`` gives for all of them in one array: the same
    centroids, ranges, lists and codes (the k-means sample and the search blocks are the same rows)."""
    monkeypatch.setattr(ivf, "_ROWS", rows_per_block)
    monkeypatch.setattr(ivf, "TRAIN_POINTS_PER_LIST", 5)
    rng = np.random.default_rng(3)
    vectors = _unit(rng, 600).astype(np.float16)
    ids = rng.choice(10_000, 600, replace=False).astype(np.int64)
    whole = ivf.IvfVectorStore.build(ids, vectors)
    cuts = [0, 1, 2, 50, 51, 333, 599, 600]
    parts = lambda: ((ids[a:b], vectors[a:b]) for a, b in zip(cuts, cuts[1:]))  # noqa: E731
    streamed = ivf.IvfVectorStore.build_from(parts, len(ids), vectors.shape[1])
    assert whole.nlist == streamed.nlist > 1
    assert np.array_equal(whole.centroids(), streamed.centroids()) and np.array_equal(whole.ranges(), streamed.ranges())
    for (a_ids, a_codes), (b_ids, b_codes) in zip(whole._lists(codes=True), streamed._lists(codes=True), strict=True):
        assert np.array_equal(a_ids, b_ids) and np.array_equal(a_codes, b_codes)
    with pytest.raises(ValueError):
        ivf.IvfVectorStore.build_from(parts, len(ids) + 1, vectors.shape[1])


def test_one_query_searches_on_one_thread_and_the_thread_keeps_its_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """A waiting OpenMP thread spins (17 ms instead of 0.05 for one query on a busy machine), so one query
    is searched on one thread, flat or IVF, filtered or not; several queries keep every thread, and the
    caller's setting is restored after, exceptions included."""
    flat, approximate = _stores(monkeypatch)
    default = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    try:
        _check_threads(flat, approximate, monkeypatch)
    finally:
        faiss.omp_set_num_threads(default)


def _check_threads(flat: VectorStore, approximate: ivf.IvfVectorStore, monkeypatch: pytest.MonkeyPatch) -> None:
    for store in (flat, approximate):
        seen: list[int] = []
        search = store.index.search

        def spy(*args: object, _search: object = search, **kwargs: object) -> object:
            seen.append(faiss.omp_get_max_threads())
            return _search(*args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(store.index, "search", spy)
        queries = _unit(np.random.default_rng(3), 3)
        store.search(queries[:1], 5)
        store.search(queries[:1], 5, np.array([5, 8, 11], dtype=np.int64))
        store.search(queries, 5)
        assert seen == [1, 1, 2] and faiss.omp_get_max_threads() == 2
        monkeypatch.setattr(store.index, "search", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
        with pytest.raises(RuntimeError, match="boom"):
            store.search(queries[:1], 5)
        assert faiss.omp_get_max_threads() == 2
