"""Our own index files are data, not trust: a repository can ship a crafted ``.codesearch/``.

One group of tests per item of the index-format review: the lexical file, the FAISS
header, the id map's order, the reranker's vector cache, ``reranker.json`` and a
read-only index directory. Each crafts the bad file from a small real index.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from codesearch.errors import IndexCorrupt
from codesearch.store.postings import LexicalIndex, lexical_path
from tests.conftest import FakeEmbedder, write


def _indexed(tmp_path: Path) -> tuple[Path, Path]:
    """A small repository indexed with the fake embedder: (root, index directory)."""
    from codesearch.pipeline import build_index

    root = tmp_path / "repo"
    write(root, "a.py", "def read_config(path):\n    '''Read settings.'''\n    return open(path).read()\n")
    write(root, "b.py", "def retry(fn):\n    '''Call again.'''\n    return fn()\n\nX = 1\n")
    write(root, "c.py", "class Cart:\n    '''A shopping cart.'''\n    def total(self):\n        return 0\n")
    build_index(root, embedder=FakeEmbedder())
    return root, root / ".codesearch"


def _generation(index_dir: Path) -> int:
    from codesearch.store.reader import IndexReader

    with IndexReader(index_dir) as reader:
        return reader.meta.generation


# -- 1. the lexical file ------------------------------------------------------------------


def _lexical(index_dir: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """The lexical file and writable copies of its arrays."""
    path = lexical_path(index_dir, _generation(index_dir))
    data = path.read_bytes()
    header_size = int.from_bytes(data[8:16], "little")
    header = json.loads(data[16 : 16 + header_size])
    offset, arrays = 16 + header_size, {}
    for name, (dtype, n) in header.items():
        arrays[name] = np.frombuffer(data, dtype=dtype, count=n, offset=offset).copy()
        offset += n * np.dtype(dtype).itemsize
    return path, arrays


def _damaged(tmp_path: Path, change) -> tuple[Path, Path, int]:  # noqa: ANN001
    _, index_dir = _indexed(tmp_path)
    path, arrays = _lexical(index_dir)
    change(arrays)
    LexicalIndex(**arrays).save(path)
    return index_dir, path, len(_lexical(index_dir)[1]["ids"])


@pytest.mark.parametrize("change", [
    pytest.param(lambda a: a["positions"].__setitem__(0, len(a["ids"]) + 3), id="position-past-the-chunks"),
    pytest.param(lambda a: a["positions"].__setitem__(0, 2**31 - 2), id="position-near-2**31"),
    pytest.param(lambda a: a["positions"].__setitem__(0, -1), id="negative-position"),
    pytest.param(lambda a: a["starts"].__setitem__(1, a["starts"][2] + 1), id="starts-not-monotone"),
    pytest.param(lambda a: a["starts"].__setitem__(0, 1), id="starts-not-from-zero"),
    pytest.param(lambda a: a["ids"].__setitem__(slice(0, 2), a["ids"][1::-1]), id="ids-swapped"),
    pytest.param(lambda a: a["terms"].__setitem__(slice(0, 2), a["terms"][1::-1]), id="terms-unsorted"),
    pytest.param(lambda a: a["tfs"].__setitem__(0, np.nan), id="frequency-nan"),
    pytest.param(lambda a: a["tfs"].__setitem__(0, -1.0), id="frequency-negative"),
    pytest.param(lambda a: a["lengths"].__setitem__(0, np.inf), id="length-infinite"),
    pytest.param(lambda a: a.__setitem__("tfs", a["tfs"][:-1]), id="fewer-frequencies"),
    pytest.param(lambda a: a.__setitem__("lengths", a["lengths"][:-1]), id="fewer-lengths"),
])
def test_damaged_lexical_structures_are_index_corrupt_at_load(tmp_path: Path, change) -> None:  # noqa: ANN001
    """Every structure is checked when the file is opened: the search never sees a bad posting
    (a position near 2**31 would make numpy.bincount allocate about 16 GB)."""
    from codesearch.search import Searcher

    index_dir, path, count = _damaged(tmp_path, change)
    with pytest.raises(IndexCorrupt, match=r"lexical file .*damaged.*codesearch index --rebuild"):
        LexicalIndex.load(path, count)
    with pytest.raises(IndexCorrupt, match="--rebuild"):
        with Searcher(index_dir, embedder=FakeEmbedder()) as searcher:
            searcher.search("read settings config", k=3)


@pytest.mark.parametrize("header", [
    b"[]", b'{"ids": ["object", 1]}', b"[" * 100_000, b'{"ids": ["int64", 1e30], "terms": 0}', b"\xff\xfe",
])
def test_crafted_lexical_header_is_index_corrupt(tmp_path: Path, header: bytes) -> None:
    """A header that is not ours (a list, an object dtype, deep nesting, a huge size, not UTF-8)."""
    path = tmp_path / "lexical-1.bin"
    path.write_bytes(b"CSLEX002" + len(header).to_bytes(8, "little") + header)
    with pytest.raises(IndexCorrupt, match="damaged"):
        LexicalIndex.load(path, 1)
    path.write_bytes(b"CSLEX002" + (2**62).to_bytes(8, "little") + header)
    with pytest.raises(IndexCorrupt, match="damaged"):
        LexicalIndex.load(path, 1)


def test_huge_lexical_array_size_is_bounded_by_the_file(tmp_path: Path) -> None:
    """An array size far beyond the file is refused before anything is allocated."""
    arrays = {"ids": ["int64", 2**40], "lengths": ["float32", 0], "terms": ["uint32", 0], "starts": ["int64", 1],
              "positions": ["int32", 0], "tfs": ["float16", 0]}
    header = json.dumps(arrays).encode()
    path = tmp_path / "lexical-1.bin"
    path.write_bytes(b"CSLEX002" + struct.pack("<Q", len(header)) + header + bytes(8))
    with pytest.raises(IndexCorrupt, match="truncated"):
        LexicalIndex.load(path, 2**40)


# -- 2. the FAISS header, and 3. the order of the id map ------------------------------------


def _vector_file(index_dir: Path) -> Path:
    from codesearch.store.vectors import vectors_path

    return vectors_path(index_dir, _generation(index_dir))


def _patch(path: Path, at: int, value: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[at : at + len(value)] = value
    path.write_bytes(bytes(data))


def _no_faiss_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make FAISS's reader fail the test: a bad header must be refused before FAISS allocates from it."""
    import faiss

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("FAISS was handed a bad header")

    monkeypatch.setattr(faiss, "read_index", refuse)


# Offsets in our layout (IndexIDMap2 header, then IndexScalarQuantizer's, then its quantizer).
@pytest.mark.parametrize(("at", "value"), [
    pytest.param(102, struct.pack("<Q", 2**39), id="trained-size-huge"),
    pytest.param(102, struct.pack("<Q", 1), id="trained-size-one"),
    pytest.param(70, struct.pack("<i", 1), id="metric-flipped-to-l2"),
    pytest.param(33, struct.pack("<i", 1), id="outer-metric-flipped"),
    pytest.param(74, struct.pack("<i", 0), id="quantizer-type"),
    pytest.param(0, b"IxMp", id="index-type"),
    pytest.param(41, struct.pack("<i", 16), id="inner-dimension"),
    pytest.param(45, struct.pack("<q", 2**40), id="inner-count"),
])
def test_crafted_faiss_header_is_refused_before_faiss_reads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                at: int, value: bytes) -> None:
    """Every header field FAISS would trust (a trained-vector size that makes it allocate
    gigabytes, a metric byte that silently changes rankings, ...) is compared with ours."""
    from codesearch.store.vectors import VectorStore

    _, index_dir = _indexed(tmp_path)
    path = _vector_file(index_dir)
    count = len(VectorStore.load(path, FakeEmbedder.dim, _count(index_dir)).ids())
    _patch(path, at, value)
    _no_faiss_read(monkeypatch)
    for mmap in (False, True):
        with pytest.raises(IndexCorrupt, match=r"vector file .* unreadable .*header.*--rebuild"):
            VectorStore.load(path, FakeEmbedder.dim, count, mmap=mmap)


def _count(index_dir: Path) -> int:
    from codesearch.store.reader import IndexReader

    with IndexReader(index_dir) as reader:
        return reader.meta.count


def test_flipped_metric_byte_is_index_corrupt_when_searching(tmp_path: Path) -> None:
    """Before: a vector file whose metric says L2 loaded and gave other rankings without an error."""
    from codesearch.search import Searcher

    _, index_dir = _indexed(tmp_path)
    _patch(_vector_file(index_dir), 70, struct.pack("<i", 1))
    with pytest.raises(IndexCorrupt, match="vector file"):
        with Searcher(index_dir, embedder=FakeEmbedder()) as searcher:
            searcher.search("read settings", k=3)


def test_swapped_ids_in_the_id_map_are_index_corrupt(tmp_path: Path) -> None:
    """Two ids swapped keep the set of ids (and its order-free checksum) but point each vector at
    the other's chunk; the id map must be in the order the writer keeps."""
    from codesearch.search import Searcher
    from codesearch.store.vectors import VectorStore

    _, index_dir = _indexed(tmp_path)
    path, count = _vector_file(index_dir), _count(index_dir)
    ids = VectorStore.load(path, FakeEmbedder.dim, count).ids()
    data = path.read_bytes()
    _patch(path, len(data) - 8 * count, struct.pack("<2q", ids[1], ids[0]))
    with pytest.raises(IndexCorrupt, match="out of order.*--rebuild"):
        with Searcher(index_dir, embedder=FakeEmbedder()) as searcher:
            searcher.search("read settings", k=3)


def test_vectors_added_out_of_id_order_are_saved_in_order(tmp_path: Path) -> None:
    """The writer keeps the id map sorted (moving the stored codes with it), so load can demand it."""
    from codesearch.store.vectors import VectorStore

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((5, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)  # stored vectors are unit vectors
    store = VectorStore.empty(8)
    store.add(np.array([9, 3, 7, 1, 5]), vectors)
    store.save(tmp_path / "v.faiss")
    loaded = VectorStore.load(tmp_path / "v.faiss", 8, 5, store.id_checksum())
    assert loaded.ids().tolist() == [1, 3, 5, 7, 9]
    np.testing.assert_allclose(loaded.vectors([9, 3, 7, 1, 5]), vectors, atol=1e-2)
    assert loaded.search(vectors[3:4], 1)[1][0, 0] == 1


# -- 4. the reranker's vector cache, and 6. a read-only index directory --------------------


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This user's cache directory (where the key that tags our rerank caches is kept)."""
    home = tmp_path / "user-cache"
    monkeypatch.setenv("CODESEARCH_CACHE", str(home))
    return home


def _fake_reranker(index_dir: Path | None):  # noqa: ANN202
    """A cheap bi-encoder reranker (the fake embedder's vectors) caching in ``index_dir``."""
    from codesearch.rerank import CACHE_NAME, CachingBiEncoder, VectorCache

    fake = FakeEmbedder()
    cache = VectorCache(index_dir / CACHE_NAME) if index_dir else None
    return CachingBiEncoder("fake-reranker", fake._encode, lambda q: fake._encode([q])[0], cache)


def _reranked(index_dir: Path, reranker, query: str = "read settings") -> list:  # noqa: ANN001
    from codesearch.search import Searcher

    with Searcher(index_dir, embedder=FakeEmbedder()) as searcher:
        return searcher.search(query, k=5, rerank=reranker)


def _hash_of(index_dir: Path, name: str) -> str:
    """The key of the chunk named ``name`` in the rerank cache (its content hash and text format)."""
    import sqlite3

    from codesearch.search import rerank_key
    from codesearch.store.layout import DB_NAME

    with sqlite3.connect(index_dir / DB_NAME) as conn:
        return rerank_key(conn.execute("SELECT content_hash FROM chunks WHERE name = ?", [name]).fetchone()[0])


def _old_format_cache(path: Path, rows: list[tuple[str, str, bytes]]) -> None:
    """A cache as a repository would ship it (the original layout, which had no owner tag)."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE vectors (model TEXT, key TEXT, vector BLOB, PRIMARY KEY (model, key))")
        conn.executemany("INSERT INTO vectors VALUES (?, ?, ?)", rows)
    conn.close()


@pytest.mark.parametrize("content", [b"not a database at all" * 100, b"SQLite format 3\x00" + bytes(200)])
def test_damaged_rerank_cache_is_recreated_for_search_and_deep(tmp_path: Path, cache_home: Path,
                                                               content: bytes) -> None:
    """A shipped rerank-cache.db that is not SQLite: search --rerank and index --deep work and
    the cache is replaced by a sound one."""
    from codesearch.deep import deep_index
    from codesearch.rerank import CACHE_NAME

    _, index_dir = _indexed(tmp_path)
    (index_dir / CACHE_NAME).write_bytes(content)
    hits = _reranked(index_dir, _fake_reranker(index_dir))
    assert hits and hits[0].name == "read_config" and "rerank" in hits[0].scores
    (index_dir / CACHE_NAME).write_bytes(content)
    reranker = _fake_reranker(index_dir)
    report = deep_index(index_dir, reranker)
    assert report.embedded == report.chunks > 0
    assert deep_index(index_dir, _fake_reranker(index_dir)).embedded == 0  # the new cache is kept and used


def test_poisoned_rerank_cache_cannot_lift_an_unrelated_chunk(tmp_path: Path, cache_home: Path) -> None:
    """Before: a shipped cache holding the query's own vector under the hash of an unrelated chunk
    (and its opposite under the right one's) put that chunk first. A cache without this user's
    tag is dropped whole: the ranking is the one computed without any cache."""
    from codesearch.rerank import CACHE_NAME

    _, index_dir = _indexed(tmp_path)
    clean = [h.name for h in _reranked(index_dir, _fake_reranker(None))]
    query = FakeEmbedder()._encode(["read settings"])[0].astype("<f4")
    _old_format_cache(index_dir / CACHE_NAME, [("fake-reranker", _hash_of(index_dir, "Cart"), query.tobytes()),
                                               ("fake-reranker", _hash_of(index_dir, "read_config"),
                                                (-query).tobytes())])
    assert clean[0] == "read_config"
    assert [h.name for h in _reranked(index_dir, _fake_reranker(index_dir))] == clean


def test_rerank_cache_of_another_user_key_is_not_used(tmp_path: Path, cache_home: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache in our exact format, tagged with another key (what an attacker can write), is dropped."""
    from codesearch.rerank import CACHE_NAME

    _, index_dir = _indexed(tmp_path)
    monkeypatch.setenv("CODESEARCH_CACHE", str(tmp_path / "attacker-cache"))
    attacker = _fake_reranker(index_dir)
    poison = FakeEmbedder()._encode(["read settings"])[0]
    attacker.cache.put("fake-reranker", {_hash_of(index_dir, "Cart"): poison})
    attacker.cache.conn.close()
    monkeypatch.setenv("CODESEARCH_CACHE", str(cache_home))
    ours = _fake_reranker(index_dir)
    assert ours.cache.keys("fake-reranker") == set() and ours.cache.problem is None
    assert _reranked(index_dir, ours)[0].name == "read_config"
    assert (index_dir / CACHE_NAME).is_file()


@pytest.mark.parametrize("blob", [
    pytest.param(np.ones(3, dtype="<f4").tobytes(), id="wrong-length"),
    pytest.param(np.full(64, np.nan, dtype="<f4").tobytes(), id="nan"),
    pytest.param(np.full(64, np.inf, dtype="<f4").tobytes(), id="inf"),
    pytest.param((np.ones(64, dtype="<f4") * 5).tobytes(), id="norm-5"),
    pytest.param(np.ones(64, dtype="<f8").tobytes()[:256], id="float64-bytes"),
    pytest.param("text, not bytes", id="text"),
])
def test_unsound_cached_vectors_are_ignored(tmp_path: Path, cache_home: Path, blob: object) -> None:
    """A damaged row of our own cache (bit rot, a crash) is treated as missing and encoded again."""
    _, index_dir = _indexed(tmp_path)
    reranker = _fake_reranker(index_dir)
    key = _hash_of(index_dir, "Cart")
    reranker.cache.conn.execute("INSERT INTO vectors VALUES (?, ?, ?)", ["fake-reranker", key, blob])
    hits = _reranked(index_dir, reranker)
    assert hits[0].name == "read_config" and all(np.isfinite(h.scores["rerank"]) for h in hits)
    cart = next(h for h in hits if h.name == "Cart")
    assert cart.scores["rerank"] < 0.9
    assert len(reranker.cache.get("fake-reranker", [key], 64)[key]) == 64  # replaced by a sound vector


def test_hard_linked_rerank_cache_is_refused(tmp_path: Path, cache_home: Path) -> None:
    """SQLite would write through a hard link into whatever file it shares its inode with."""
    from codesearch.errors import UnsafeIndexDir
    from codesearch.rerank import CACHE_NAME

    _, index_dir = _indexed(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (index_dir / f"{CACHE_NAME}-wal").hardlink_to(victim)
    with pytest.raises(UnsafeIndexDir, match="link"):
        _fake_reranker(index_dir)
    assert victim.read_text() == "precious\n"
    (index_dir / f"{CACHE_NAME}-wal").unlink()
    (index_dir / CACHE_NAME).mkdir()  # SQLite would fail on it; a FIFO would block the open
    with pytest.raises(UnsafeIndexDir, match="not a plain file"):
        _fake_reranker(index_dir)


def test_read_only_index_directory_still_reranks(tmp_path: Path, cache_home: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache cannot be created: reranking works, vectors kept in memory for the process."""
    import os
    import sqlite3

    import codesearch.rerank as rerank

    _, index_dir = _indexed(tmp_path)
    connect = sqlite3.connect

    def read_only(database: object, *args: object, **kwargs: object) -> sqlite3.Connection:
        if str(database).endswith(rerank.CACHE_NAME):  # root ignores the mode bits; refuse as the FS would
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", read_only)
    os.chmod(index_dir, 0o555)
    try:
        reranker = _fake_reranker(index_dir)
        hits = _reranked(index_dir, reranker)
        assert hits[0].name == "read_config" and "rerank" in hits[0].scores
        assert reranker.cache.problem and "cannot be written" in reranker.cache.problem
        calls: list[int] = []
        original = reranker.encode_documents
        reranker.encode_documents = lambda texts: calls.append(len(texts)) or original(texts)
        _reranked(index_dir, reranker)
        assert calls == []  # the second query found every vector in memory
    finally:
        os.chmod(index_dir, 0o755)


# -- 5. reranker.json ----------------------------------------------------------------------


SHIPPED = Path(__file__).resolve().parents[1] / "codesearch" / "models" / "rerank-minilm-code"


@pytest.mark.skipif(not (SHIPPED / "model.onnx").is_file(), reason="no shipped reranker in this checkout")
@pytest.mark.parametrize("config", [
    pytest.param("not json {", id="not-json"),
    pytest.param("[1, 2]", id="a-list"),
    pytest.param('"text"', id="a-string"),
    pytest.param('{"format": "codesearch-reranker-1"}', id="missing-keys"),
    pytest.param('{"format": "codesearch-reranker-1", "query_tokens": "32", "doc_tokens": 64, "name": "x", "id": "y"}',
                 id="tokens-a-string"),
    pytest.param('{"format": "codesearch-reranker-1", "query_tokens": 32, "doc_tokens": -1, "name": "x", "id": "y"}',
                 id="tokens-negative"),
    pytest.param('{"format": "codesearch-reranker-1", "query_tokens": 32, "doc_tokens": 64, "name": ["x"], '
                 '"id": "y"}', id="name-a-list"),
    pytest.param("[" * 100_000, id="deeply-nested"),
])
def test_malformed_reranker_json_is_model_not_found(tmp_path: Path, config: str) -> None:
    """The model and tokenizer are the shipped ones; only reranker.json is bad: one typed error."""
    from codesearch.errors import ModelNotFound
    from codesearch.rerank import load_reranker

    model = tmp_path / "reranker"
    model.mkdir()
    for name in ("model.onnx", "tokenizer.json"):
        (model / name).symlink_to(SHIPPED / name)
    (model / "reranker.json").write_text(config)
    with pytest.raises(ModelNotFound, match=r"reranker file .*reranker.json is damaged.*--rerank-model") as caught:
        load_reranker(model)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("config", ["not json {", "[1]", '{"architectures": "BertModel"}'])
def test_malformed_model_config_json_is_model_not_found(tmp_path: Path, config: str) -> None:
    """A sentence-transformers directory whose config.json is not what it should be."""
    from codesearch.errors import ModelNotFound
    from codesearch.rerank import load_reranker

    (tmp_path / "config.json").write_text(config)
    with pytest.raises(ModelNotFound, match="model config .*config.json is damaged"):
        load_reranker(tmp_path)


def test_the_rerank_cache_is_readable_by_its_owner_only(tmp_path: Path, cache_home: Path) -> None:
    """`index --deep` and `search --rerank` made rerank-cache.db 0644 while every other index file is 0600
    (SECURITY.md); a cache an older version made so is made private when opened."""
    import os
    import stat

    from codesearch.rerank import CACHE_NAME

    _, index_dir = _indexed(tmp_path)
    assert _reranked(index_dir, _fake_reranker(index_dir))
    cache = index_dir / CACHE_NAME
    for name in (cache, Path(f"{cache}-wal"), Path(f"{cache}-shm")):
        if name.exists():
            assert stat.S_IMODE(os.stat(name).st_mode) == 0o600, name
    os.chmod(cache, 0o644)
    assert _reranked(index_dir, _fake_reranker(index_dir))
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
