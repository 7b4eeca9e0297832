"""Hard negatives mined with the first stage (codesearch.distill.negatives): no torch, a tiny corpus."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from codesearch.distill.data import Pair
from codesearch.distill.negatives import fused_order, is_near_duplicate, jaccard, mine_negatives


def _bag_of_words(texts: Sequence[str]) -> np.ndarray:
    """A stand-in for the static model: hashed word counts, unit length."""
    out = np.zeros((len(texts), 64), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"[a-z]+", text.lower()):
            out[row, zlib.crc32(word.encode()) % 64] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)


def _pair(query: str, document: str, language: str = "python") -> Pair:
    return Pair(query, document, language, "pkg")


POOL = [
    _pair("Parse a config file into a dict.", "function parse_config\ndef parse_config(path)\n  return load(path)"),
    _pair("Write a config file from a dict.", "function write_config\ndef write_config(path, data)\n dump(data, path)"),
    _pair("Parse a config file into a dict.", "function parse_config_v2\ndef parse_config_v2(p)\n return read(p)"),
    _pair("Send an email to a user.", "function send_mail\ndef send_mail(user, body)\n  smtp.send(user, body)"),
    _pair("Parse a config file.", "func parseConfig\nfunc parseConfig(path string) Config", language="go"),
]


def test_the_negative_is_the_best_ranked_other_chunk_of_the_same_language_and_no_duplicate() -> None:
    negatives, report = mine_negatives(POOL, [0, 3], _bag_of_words, _bag_of_words)
    # For "parse a config file": parse_config_v2 has the same docstring (a false negative) and the
    # Go function is in another pool, so the config writer is the hard negative.
    assert negatives[0] == POOL[1].document
    assert negatives[1] is not None and negatives[1] != POOL[3].document
    assert report.queries == 2 and report.mined == 2
    assert report.duplicates_skipped >= 1


def test_a_pool_of_only_near_duplicates_gives_no_negative() -> None:
    pool = [POOL[0], POOL[2]]
    negatives, report = mine_negatives(pool, [0], _bag_of_words, _bag_of_words)
    assert negatives == [None]
    assert report.mined == 0


def test_near_duplicates_by_query_or_document_words() -> None:
    words = lambda text: set(re.findall(r"\w+", text.lower()))  # noqa: E731
    a, b = POOL[0], _pair("Parse a config file into a dict!", "function other\ndef other(x)\n    pass")
    assert is_near_duplicate(a, b, words(a.document), words(b.document), 0.8)  # same docstring words
    c = _pair("Something else entirely.", a.document.replace("load", "loads"))
    assert is_near_duplicate(a, c, words(a.document), words(c.document), 0.7)  # nearly the same code
    assert not is_near_duplicate(a, POOL[3], words(a.document), words(POOL[3].document), 0.8)
    assert jaccard(set(), set()) == 0.0 and jaccard({"a"}, {"a", "b"}) == 0.5


def test_fusion_ranks_a_chunk_both_rankings_like_first() -> None:
    cosines = np.array([0.9, 0.8, 0.1, 0.85])
    bm25 = np.array([0.0, 5.0, 1.0, 4.0])
    assert fused_order(cosines, bm25, depth=3)[:2] == [1, 3]  # in both top threes beats first in one only


def test_training_with_hard_negatives_mines_them_once_and_trains(tiny_teacher: Path, tiny_corpus: Path,
                                                                 tmp_path: Path) -> None:
    """The cpu-hard recipe on the tiny BERT: negatives mined and cached in the work directory, every step run."""
    from dataclasses import replace

    from codesearch.distill.reranker import RECIPES, train_reranker

    recipe = replace(RECIPES["cpu-hard"], max_pairs=32, batch_size=8, checkpoint_every=4, dev_pairs=40)
    report = train_reranker([tiny_corpus], tmp_path / "out", tmp_path / "work", recipe, tiny_teacher)
    assert report.steps == 4 and set(report.dev_mrr) == {0, 4}
    assert "negatives" in report.seconds
    assert len(list((tmp_path / "work").glob("negatives-*.json.gz"))) == 1
    assert (tmp_path / "out" / "model.onnx").is_file()
