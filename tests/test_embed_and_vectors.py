"""The static embedder (against model2vec as an oracle) and the FAISS store (against NumPy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codesearch.embed.static import StaticEmbedder, default_model_path
from codesearch.embed.text import split_identifiers
from codesearch.errors import IndexCorrupt, ModelNotFound
from codesearch.store.vectors import VectorStore


@pytest.fixture(scope="session")
def embedder() -> StaticEmbedder:
    return StaticEmbedder.default()


def test_shipped_model_matches_model2vec(embedder: StaticEmbedder) -> None:
    """Our loader gives the vectors model2vec's own StaticModel gives for the same text."""
    model2vec = pytest.importorskip("model2vec")
    reference = model2vec.StaticModel.from_pretrained(str(default_model_path()))
    texts = ["def retry_request(url, attempts): pass", "parseJsonString(raw)", "where do we open files"]
    ours = embedder.encode_documents(texts)
    theirs = reference.encode([split_identifiers(t) for t in texts])
    theirs = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
    np.testing.assert_allclose(ours, theirs, atol=2e-3)


def test_vectors_are_unit_length_and_empty_text_is_zero(embedder: StaticEmbedder) -> None:
    """Rows are L2-normalised; text with no tokens gives a zero row, not NaN."""
    vectors = embedder.encode_documents(["open a file", "", "read the config file " * 2_000])
    assert vectors.dtype == np.float32 and vectors.shape == (3, embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors[[0, 2]], axis=1), 1.0, rtol=1e-5)
    assert not vectors[1].any()


def test_fingerprint_is_stable_and_names_the_model(embedder: StaticEmbedder) -> None:
    """Loading the same files twice gives the same fingerprint."""
    assert StaticEmbedder.default().fingerprint == embedder.fingerprint
    assert embedder.fingerprint.startswith(embedder.name + ":")


def test_missing_or_broken_model_directory(tmp_path: Path) -> None:
    """A missing file or unreadable weights raise ModelNotFound, naming the problem."""
    with pytest.raises(ModelNotFound, match="missing"):
        StaticEmbedder(tmp_path)
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        (tmp_path / name).write_bytes(b"garbage")
    with pytest.raises(ModelNotFound, match="cannot load"):
        StaticEmbedder(tmp_path)


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_faiss_search_matches_numpy_brute_force() -> None:
    """Top-k ids and scores equal an exact NumPy inner-product search."""
    rng = np.random.default_rng(1338)
    base, queries = _unit(rng, 500, 32), _unit(rng, 20, 32)
    ids = rng.choice(10_000, size=500, replace=False).astype(np.int64) + 1
    store = VectorStore.empty(32)
    store.add(ids, base)
    scores, found = store.search(queries, 10)
    # The store keeps float16: the oracle searches the same rounded vectors exactly...
    exact = queries @ base.astype(np.float16).astype(np.float32).T
    order = np.argsort(-exact, axis=1)[:, :10]
    np.testing.assert_array_equal(found, ids[order])
    np.testing.assert_allclose(scores, np.take_along_axis(exact, order, axis=1), atol=1e-4)
    # ...and the scores stay within float16 rounding of the float32 truth.
    truth = np.take_along_axis(queries @ base.T, order, axis=1)
    np.testing.assert_allclose(scores, truth, atol=5e-4)


def test_padding_removal_filtering_and_roundtrip(tmp_path: Path) -> None:
    """k > n pads with -1; removed ids vanish; an allow-list filters exactly; save/load round-trips."""
    rng = np.random.default_rng(7)
    base = _unit(rng, 3, 8)
    store = VectorStore.empty(8)
    store.add(np.array([101, 205, 309]), base)
    assert store.search(base[:1], 5)[1].shape == (1, 3)
    store.remove([205])
    assert sorted(store.ids().tolist()) == [101, 309]
    _, ids = store.search(base[1:2], 3, allowed=np.array([309]))
    assert ids[0].tolist()[0] == 309 and set(ids[0].tolist()) <= {309, -1}
    path = tmp_path / "v.faiss"
    store.save(path)
    loaded = VectorStore.load(path, dim=8, count=2)
    np.testing.assert_array_equal(np.sort(loaded.ids()), [101, 309])


def test_truncated_or_mismatched_vector_file_is_corrupt(tmp_path: Path) -> None:
    """A truncated file, or one that disagrees with the metadata, raises IndexCorrupt."""
    store = VectorStore.empty(8)
    store.add(np.arange(1, 11), _unit(np.random.default_rng(0), 10, 8))
    path = tmp_path / "v.faiss"
    store.save(path)
    with pytest.raises(IndexCorrupt, match="10 vectors|take"):  # checked by size before FAISS parses it
        VectorStore.load(path, dim=8, count=11)
    data = path.read_bytes()
    path.write_bytes(b"JUNK" + data[4:])  # right size, wrong header
    with pytest.raises(IndexCorrupt, match="unreadable"):
        VectorStore.load(path, dim=8, count=10)
    path.write_bytes(data[:100])
    with pytest.raises(IndexCorrupt, match="truncated"):
        VectorStore.load(path, dim=8, count=10)
    with pytest.raises(IndexCorrupt, match="missing"):
        VectorStore.load(tmp_path / "nope.faiss", dim=8, count=10)


def test_token_cache_overflow_gives_the_same_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the token cache fills up it starts a new generation (over and over, at a size of 4), and
    results do not change."""
    import codesearch.embed.static as static

    texts = ["def parse_config(path): return load(path)", "class HttpClient: retry = 3", "parse the config"]
    expected = StaticEmbedder.default().encode_documents(texts)
    monkeypatch.setattr(static, "_CACHE_SIZE", 4)
    small = StaticEmbedder.default()
    np.testing.assert_array_equal(small.encode_documents(texts), expected)
    np.testing.assert_array_equal(small.encode_documents(texts[::-1]), expected[::-1])


def test_a_full_token_cache_keeps_its_last_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A full cache becomes the old generation: its words are taken from there, not tokenized again,
    and a word in neither generation is tokenized once."""
    import codesearch.embed.static as static

    monkeypatch.setattr(static, "_CACHE_SIZE", 3)
    embedder = StaticEmbedder.default()
    tokenized: list[str] = []
    word_ids = embedder._word_ids
    monkeypatch.setattr(embedder, "_word_ids", lambda words: tokenized.extend(words) or word_ids(words))
    first = embedder.token_ids(["alpha beta gamma delta"])  # four words: the cache is over its size
    assert sorted(tokenized) == ["alpha", "beta", "delta", "gamma"]
    tokenized.clear()
    again = embedder.token_ids(["delta gamma beta alpha epsilon"])  # a new generation, filled from the old
    assert tokenized == ["epsilon"]
    fresh = StaticEmbedder.default()
    assert (first, again) == (fresh.token_ids(["alpha beta gamma delta"]),
                              fresh.token_ids(["delta gamma beta alpha epsilon"]))


def test_a_mapped_vector_file_searches_like_a_read_one_and_survives_its_unlinking(tmp_path: Path) -> None:
    """Readers map the file (no load cost); a writer's later rename/unlink of it does not disturb them."""
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((300, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = VectorStore.empty(32)
    store.add(np.arange(10, 310, dtype=np.int64), vectors)
    path = tmp_path / "vectors-1.faiss"
    store.save(path)
    read = VectorStore.load(path, 32, 300, store.id_checksum())
    mapped = VectorStore.load(path, 32, 300, store.id_checksum(), mmap=True)
    path.unlink()
    queries = rng.standard_normal((4, 32)).astype(np.float32)
    (s1, i1), (s2, i2) = read.search(queries, 10), mapped.search(queries, 10)
    assert (i1 == i2).all() and np.allclose(s1, s2)
    assert mapped.similarity([10, 11], queries[0]) == pytest.approx(read.similarity([10, 11], queries[0]))


def test_vectors_held_as_stored_add_the_same_codes() -> None:
    """An index run holds its new vectors as float16 (``as_stored``, half of float32's memory); the store
    then holds bit for bit what adding the float32 vectors gives."""
    import faiss

    from codesearch.store.vectors import as_stored

    rng = np.random.default_rng(3)
    x = rng.standard_normal((500, 64)).astype(np.float32)
    x[0, :3] = [6.1035e-05, 2.98e-08, 0.333333343]  # a subnormal and values between two float16s
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    held = as_stored(x)
    assert held.dtype == np.float16 and held.shape == x.shape
    ids = np.arange(500, dtype=np.int64) * 2
    direct, via = VectorStore.empty(64), VectorStore.empty(64)
    direct.add(ids, x)
    via.add(ids, held)
    codes = [faiss.vector_to_array(faiss.downcast_index(s.index.index).codes) for s in (direct, via)]
    assert np.array_equal(codes[0], codes[1])
    assert as_stored(np.zeros((0, 64), dtype=np.float32)).shape == (0, 64)


def test_our_header_is_the_one_faiss_writes() -> None:
    """The flat file's header is written out by hand (``vectors._header``), so that a search reads a flat file
    without importing FAISS: it must be what FAISS itself writes, at every dimension (a FAISS upgrade that
    changes its layout fails here, not in a user's search)."""
    import faiss

    from codesearch.store.vectors import _header, _sizes

    for dim in (8, 64, 256, 384, 1000):
        store = VectorStore.empty(dim)
        empty = bytes(faiss.serialize_index(store.index))
        store.add(np.zeros(1, dtype=np.int64), np.zeros((1, dim), dtype=np.float32))
        one = bytes(faiss.serialize_index(store.index))
        prefix = empty[:-16]
        counts_at = tuple(i for i in range(len(prefix)) if prefix[i] != one[i])
        assert _header(dim) == (prefix, counts_at, len(one) - len(empty) - 8)
        assert _sizes(dim) == (len(empty), len(one) - len(empty))


def test_a_flat_file_read_with_numpy_answers_as_faiss_does(tmp_path: Path) -> None:
    """``FlatVectors`` (what a search reads a flat file with) gives FAISS's ids, scores, vectors and similarities:
    with and without an allow-list, with k above the count; it refuses what
    ``VectorStore.load`` refuses, and leaves an IVF file to it."""
    from codesearch.store import ivf
    from codesearch.store.vectors import FlatVectors

    rng = np.random.default_rng(11)
    base = _unit(rng, 400, 32)
    ids = np.sort(rng.choice(100_000, size=400, replace=False).astype(np.int64))
    store = VectorStore.empty(32)
    store.add(ids, base)
    path = tmp_path / "vectors-1.faiss"
    store.save(path)
    flat = FlatVectors.open(path, 32, 400, store.id_checksum())
    assert flat is not None and flat.count == 400 and flat.dim == 32 and flat.id_checksum() == store.id_checksum()
    queries = _unit(rng, 6, 32)
    allowed = rng.choice(ids, size=50, replace=False)
    for k, allow in ((10, None), (60, None), (500, None), (10, allowed), (80, allowed), (5, np.array([ids[0], 7]))):
        (s1, i1), (s2, i2) = store.search(queries, k, allow), flat.search(queries, k, allow)
        np.testing.assert_array_equal(i2, i1)
        np.testing.assert_allclose(s2[i2 >= 0], s1[i1 >= 0], atol=1e-5)
    pick = [int(ids[5]), int(ids[0]), int(ids[399])]
    np.testing.assert_array_equal(flat.vectors(pick), store.vectors(pick))
    np.testing.assert_allclose(flat.similarity(pick, queries[1]), store.similarity(pick, queries[1]), atol=1e-6)
    with pytest.raises(KeyError):
        flat.vectors([int(ids[-1]) + 1])
    with pytest.raises(IndexCorrupt, match="do not match"):
        FlatVectors.open(path, 32, 400, "400:0000000000000000")
    with pytest.raises(IndexCorrupt, match="take"):
        FlatVectors.open(path, 32, 401)
    data = path.read_bytes()
    path.write_bytes(b"JUNK" + data[4:])
    with pytest.raises(IndexCorrupt, match="unreadable"):
        FlatVectors.open(path, 32, 400)
    ivf_path = tmp_path / "vectors-2.faiss"
    ivf.IvfVectorStore.build(ids, base.astype(np.float16)).save(ivf_path)
    assert FlatVectors.open(ivf_path, 32, 400) is None


def test_a_search_of_a_flat_index_does_not_import_faiss(tmp_path: Path) -> None:
    """FAISS took 45-100 ms of a one-shot `codesearch search`; a flat index is read with numpy."""
    import subprocess
    import sys

    from tests.conftest import write

    root = tmp_path / "repo"
    write(root, "a.py", "def retry_request(request):\n    '''Retry a failed request.'''\n    return request\n")
    from codesearch.pipeline import build_index

    build_index(root)
    code = ("import sys; from codesearch.search import Searcher\n"
            f"with Searcher({str(root / '.codesearch')!r}) as s:\n"
            "    hits = s.search('retry a failed request', 3)\n"
            "print(hits[0].qualname, 'faiss' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["retry_request", "False"]


def test_a_reader_takes_numpy_for_small_flat_files_and_faiss_above(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """numpy keeps a float32 copy of the vectors it searches: above ``NUMPY_UP_TO`` vectors FAISS searches the mapped
    float16 file instead, with the same hits."""
    import codesearch.store.reader as reader_module
    from codesearch.pipeline import build_index
    from codesearch.search import Searcher
    from codesearch.store.vectors import FlatVectors
    from tests.conftest import FakeEmbedder, write

    root = tmp_path / "repo"
    for i in range(5):
        write(root, f"m{i}.py", f"def helper_{i}():\n    '''Helper number {i} retries.'''\n    return {i}\n")
    build_index(root, embedder=FakeEmbedder())
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        small = [(h.path, h.start_line) for h in searcher.search("helper retries", 5)]
        assert isinstance(searcher.vectors, FlatVectors)
    monkeypatch.setattr(reader_module, "NUMPY_UP_TO", 2)
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        assert [(h.path, h.start_line) for h in searcher.search("helper retries", 5)] == small
        assert isinstance(searcher.vectors, VectorStore)
