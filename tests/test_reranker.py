"""The trained second stage: training, ONNX export, torch-free reranking, the vector cache,
the deep index, and what happens when the reranker is missing or damaged."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from codesearch.errors import ModelNotFound
from codesearch.ranking import rerank_score
from tests.conftest import FakeEmbedder, write


@pytest.fixture(scope="module")
def tiny_reranker(tiny_teacher: Path, tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A reranker fine-tuned from the tiny BERT on the sample-repository pairs: (export dir, work dir)."""
    from codesearch.distill.reranker import RECIPES, train_reranker

    out = tmp_path_factory.mktemp("reranker") / "tiny-reranker"
    work = tmp_path_factory.mktemp("reranker-work")
    recipe = replace(RECIPES["cpu"], max_pairs=64, batch_size=8, checkpoint_every=4, dev_pairs=40)
    report = train_reranker([tiny_corpus], out, work, recipe, tiny_teacher)
    assert report.steps == 8 and report.best_step in (4, 8) and set(report.dev_mrr) == {0, 4, 8}
    return out, work


def test_training_writes_a_complete_exported_model(tiny_reranker: tuple[Path, Path], tiny_teacher: Path) -> None:
    """The export has the ONNX model, the tokenizer and its card, and matches the torch checkpoint."""
    from codesearch.distill.reranker import check_exported

    out, work = tiny_reranker
    assert {"model.onnx", "tokenizer.json", "reranker.json", "training.json"} <= {p.name for p in out.iterdir()}
    config = json.loads((out / "reranker.json").read_text())
    assert config["doc_tokens"] == 64 and config["weights"] == "int8" and len(config["id"]) == 12
    best = work / "reranker-cpu-0" / "best"
    texts = ["def read_config(path): return open(path).read()", "class Cart: holds items", "retry a request"]
    assert check_exported(out, best, texts) > 0.95  # int8 weights: close to, not equal to, float32


def test_training_resumes_from_its_checkpoint(tiny_reranker: tuple[Path, Path], tiny_teacher: Path,
                                              tiny_corpus: Path, tmp_path: Path) -> None:
    """A second run with the same work directory finds every step done and only exports."""
    from codesearch.distill.reranker import RECIPES, train_reranker

    _, work = tiny_reranker
    recipe = replace(RECIPES["cpu"], max_pairs=64, batch_size=8, checkpoint_every=4, dev_pairs=40)
    report = train_reranker([tiny_corpus], tmp_path / "again", work, recipe, tiny_teacher)
    assert report.seconds["train"] < 1.0 and report.steps == 8 and (tmp_path / "again" / "model.onnx").is_file()


def test_exported_reranker_scores_without_torch(tiny_reranker: tuple[Path, Path]) -> None:
    """OnnxReranker loads and scores in a process where importing torch fails."""
    out, _ = tiny_reranker
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'transformers', 'sentence_transformers'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from codesearch.rerank import OnnxReranker\n"
        f"r = OnnxReranker({str(out)!r})\n"
        "s = r.score('read a config file', ['def read_config(path): pass', 'class Cart: pass'], ['a', 'b'])\n"
        "print('SCORES', len(s), all(-1.01 <= x <= 1.01 for x in s))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "SCORES 2 True" in result.stdout, result.stderr[-2000:]


def test_deep_index_embeds_each_chunk_once_and_forgets_removed_ones(tiny_reranker: tuple[Path, Path],
                                                                     tmp_path: Path) -> None:
    """--deep fills the cache incrementally; searching reranked then needs no document encoding."""
    from codesearch.deep import deep_index
    from codesearch.pipeline import build_index
    from codesearch.rerank import load_reranker
    from codesearch.search import Searcher

    out, _ = tiny_reranker
    root = tmp_path / "repo"
    write(root, "a.py", "def read_config(path):\n    '''Read settings.'''\n    return open(path).read()\n")
    write(root, "b.py", "def retry(fn):\n    '''Call again.'''\n    return fn()\n\nX = 1\n")
    build_index(root, embedder=FakeEmbedder())
    reranker = load_reranker(out, root / ".codesearch")
    first = deep_index(root / ".codesearch", reranker)
    assert first.embedded == first.chunks == 3 and first.removed == 0
    again = deep_index(root / ".codesearch", reranker)
    assert again.embedded == 0 and again.chunks == 3
    calls: list[int] = []
    original = reranker.encode_documents
    reranker.encode_documents = lambda texts: calls.append(len(texts)) or original(texts)
    with Searcher(root / ".codesearch", embedder=FakeEmbedder()) as searcher:
        hits = searcher.search("read settings", k=3, rerank=reranker)
    assert hits and "rerank" in hits[0].scores and calls == []  # every candidate came from the cache
    (root / "b.py").unlink()
    build_index(root, embedder=FakeEmbedder())
    assert deep_index(root / ".codesearch", reranker).removed == 2


def test_reranker_reads_a_docstring_once() -> None:
    """The doc comes once, after the signature, as in training (documents there are the code
    without its doc): a docstring inside the code is cut with its quote lines; a doc comment
    above the definition is not in the code; a comment on the signature's line is kept."""
    from codesearch.search import rerank_text
    from codesearch.search.rerank_step import without_doc

    code = ('def load(path):\n    """\n    Read the settings.\n\n    Missing keys default.\n    """\n'
            "    return parse(path)\n")
    text = rerank_text("function", "load", "def load(path):", "Read the settings.\n\nMissing keys default.", code)
    assert text.count("Read the settings.") == 1 and text.count("Missing keys default.") == 1
    assert text.endswith("def load(path):\n    return parse(path)\n") and '"""' not in text
    assert without_doc("public int size() {\n  return n;\n}", "The number of items.") == \
        "public int size() {\n  return n;\n}"
    assert without_doc("def f(): # the doc\n    pass", "the doc") == "def f(): # the doc\n    pass"
    assert without_doc("def g():\n    'One line.'\n    x = 1\n", "One line.") == "def g():\n    x = 1\n"


def test_vectors_cached_for_an_older_reranker_text_are_replaced(tiny_reranker: tuple[Path, Path],
                                                              tmp_path: Path) -> None:
    """Cached vectors are keyed by content hash and text format: after a change of what the
    reranker reads, the next deep pass embeds every chunk again and drops the old vectors."""
    from codesearch.deep import deep_index
    from codesearch.pipeline import build_index
    from codesearch.rerank import load_reranker
    from codesearch.store.reader import IndexReader

    out, _ = tiny_reranker
    root = tmp_path / "repo"
    write(root, "a.py", "def read_config(path):\n    '''Read settings.'''\n    return open(path).read()\n")
    build_index(root, embedder=FakeEmbedder())
    reranker = load_reranker(out, root / ".codesearch")
    with IndexReader(root / ".codesearch") as reader:
        hashes = [row[0] for row in reader.chunk_contents()]
    assert reranker.cache is not None
    dim = len(reranker.encode_query(""))
    reranker.cache.put(reranker.name, {h: np.ones(dim, dtype=np.float32) / dim ** 0.5 for h in hashes})
    report = deep_index(root / ".codesearch", reranker)
    assert report.embedded == len(hashes) and report.removed == len(hashes)
    assert all("/" in key for key in reranker.cache.keys(reranker.name))


def test_missing_or_damaged_reranker_is_a_clear_error(tmp_path: Path) -> None:
    """A directory without the files, or with a damaged model, raises ModelNotFound naming the fix."""
    from codesearch.rerank import OnnxReranker

    with pytest.raises(ModelNotFound, match="missing model.onnx"):
        OnnxReranker(tmp_path)
    for name, text in (("model.onnx", "not onnx"), ("tokenizer.json", "{}"), ("reranker.json", "{}")):
        (tmp_path / name).write_text(text)
    with pytest.raises(ModelNotFound, match="damaged.*--fast"):
        OnnxReranker(tmp_path)


def test_default_rerank_falls_back_to_the_first_stage_with_a_warning(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """When reranking is the default and the shipped reranker cannot load, search still answers."""
    import codesearch.rerank as rerank
    import codesearch.search as search
    from codesearch.cli import cli

    root = tmp_path / "repo"
    write(root, "a.py", "def read_config(path):\n    '''Read settings.'''\n    return open(path).read()\n")
    assert CliRunner().invoke(cli, ["index", str(root), "-q"]).exit_code == 0
    monkeypatch.setattr(search, "DEFAULT_RERANK", True)
    monkeypatch.setattr(rerank, "shipped_reranker_path", lambda: tmp_path / "no-such-reranker")
    result = CliRunner().invoke(cli, ["search", "read settings", str(root), "--json"])
    assert result.exit_code == 0, result.output
    assert "warning: reranker" in result.output and "first-stage results" in result.output
    asked = CliRunner().invoke(cli, ["search", "read settings", str(root), "--rerank"])
    assert asked.exit_code == 2 and "missing model.onnx" in asked.output  # asked for explicitly: an error


def test_rerank_score_blends_the_cosine_with_the_first_stage() -> None:
    """Equal weights: a first-stage lead can outweigh a small cosine lead, and the other way round."""
    assert rerank_score(0.6, 1.0) == pytest.approx(0.8)
    assert rerank_score(0.5, 1.0) > rerank_score(0.6, 0.8)  # first stage: +0.2, cosine: -0.1
    assert rerank_score(0.8, 0.6) > rerank_score(0.5, 0.8)  # cosine: +0.3, first stage: -0.2


@pytest.mark.skipif(not (Path(__file__).resolve().parents[1] / "codesearch/models/rerank-minilm-code/model.onnx")
                    .is_file(), reason="no shipped reranker in this checkout")
def test_shipped_reranker_reranks_sample_queries() -> None:
    """The shipped reranker loads with onnxruntime and puts a relevant function first for a sample query."""
    from codesearch.rerank import load_reranker

    reranker = load_reranker()
    texts = ["function retry_call\\ndef retry_call(func, policy)\\nCall func, retrying with backoff.",
             "class Cart\\nclass Cart\\nA shopping cart of items."]
    scores = reranker.score("retry a failed call with backoff", texts, ["x", "y"])
    assert scores[0] > scores[1] and np.isfinite(scores).all()


def test_onnx_reranker_uses_cuda_only_on_an_assigned_gpu(monkeypatch) -> None:
    from codesearch.rerank import _providers

    both = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert _providers(both) == ["CPUExecutionProvider"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")  # what Ray sets for an actor with num_gpus=1
    assert _providers(both) == both
    assert _providers(["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
