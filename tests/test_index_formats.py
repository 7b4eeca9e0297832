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
