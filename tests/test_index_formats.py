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
from codesearch.lexical import LexicalIndex, lexical_path
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
    pytest.param(lambda a: a["impacts"].__setitem__(0, np.nan), id="impact-nan"),
    pytest.param(lambda a: a.__setitem__("impacts", a["impacts"][:-1]), id="fewer-impacts"),
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
    path.write_bytes(b"CSLEX001" + len(header).to_bytes(8, "little") + header)
    with pytest.raises(IndexCorrupt, match="damaged"):
        LexicalIndex.load(path, 1)
    path.write_bytes(b"CSLEX001" + (2**62).to_bytes(8, "little") + header)
    with pytest.raises(IndexCorrupt, match="damaged"):
        LexicalIndex.load(path, 1)


def test_huge_lexical_array_size_is_bounded_by_the_file(tmp_path: Path) -> None:
    """An array size far beyond the file is refused before anything is allocated."""
    arrays = {"ids": ["int64", 2**40], "terms": ["uint32", 0], "starts": ["int64", 1], "positions": ["int32", 0],
              "impacts": ["float32", 0]}
    header = json.dumps(arrays).encode()
    path = tmp_path / "lexical-1.bin"
    path.write_bytes(b"CSLEX001" + struct.pack("<Q", len(header)) + header + bytes(8))
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
    store = VectorStore.empty(8)
    store.add(np.array([9, 3, 7, 1, 5]), vectors)
    store.save(tmp_path / "v.faiss")
    loaded = VectorStore.load(tmp_path / "v.faiss", 8, 5, store.id_checksum())
    assert loaded.ids().tolist() == [1, 3, 5, 7, 9]
    np.testing.assert_allclose(loaded.vectors([9, 3, 7, 1, 5]), vectors, atol=1e-2)
    assert loaded.search(vectors[3:4], 1)[1][0, 0] == 1
