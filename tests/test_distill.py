"""Distillation: data split, vocabulary, teacher cache, training, saving, and a tiny real run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from codesearch.bench.datasets import build_from_repo, write_jsonl
from codesearch.distill import data as distill_data
from codesearch.distill.data import Pair, load_pairs, split_by_package
from codesearch.distill.teacher import TeacherCache, featurize
from codesearch.distill.train import DevSet, TrainConfig, _same_text, package_order, train_table
from codesearch.distill.vocab import code_vocabulary
from codesearch.embed.static import StaticEmbedder
from tests.conftest import SAMPLE_REPOS


def test_code_vocabulary_takes_frequent_split_words_the_teacher_lacks() -> None:
    texts = ["def parseJsonPayload(payload): return json.loads(payload)"] * 5 + ["mutexLock mutex"] * 2
    words = code_vocabulary(texts, {"json", "def", "return", "parse"}.__contains__, size=10, min_count=5)
    assert words == ["payload", "loads"]  # by count (10, 5); json/parse known; mutex below min_count
    assert code_vocabulary(texts, lambda w: False, size=1, min_count=1) == ["payload"]


def test_split_by_package_keeps_each_package_on_one_side() -> None:
    pairs = [Pair(f"q{i}", f"d{i}", lang, f"{lang}-pkg{i % 7}") for lang in ("go", "java") for i in range(700)]
    train, dev = split_by_package(pairs, dev_share=0.3, seed=1)
    assert len(train) + len(dev) == len(pairs)
    assert not {p.package for p in train} & {p.package for p in dev}
    for language in ("go", "java"):
        share = sum(p.language == language for p in dev) / 700
        assert 0 < share <= 0.3
    assert split_by_package(pairs, dev_share=0.3, seed=1) == (train, dev)  # deterministic


def test_load_pairs_builds_the_benchmark_document_text_and_caches_it(tmp_path: Path) -> None:
    examples = build_from_repo(SAMPLE_REPOS / "python", repo="sample-python")
    write_jsonl(examples, tmp_path / "python.jsonl.gz")
    pairs = load_pairs([tmp_path], cache_dir=tmp_path / "cache")
    assert len(pairs) == len(examples) > 5
    first = pairs[0]
    assert first.query == examples[0].query and first.package == "sample-python"
    assert first.document.startswith(("function ", "method ")) and examples[0].docstring not in first.document
    assert len(list((tmp_path / "cache").glob("pairs-*.gz"))) == 1
    assert load_pairs([tmp_path], cache_dir=tmp_path / "cache") == pairs


def test_cached_pairs_are_made_again_by_a_newer_chunker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pairs cached by another parser or pair version are not read back: the text would be stale."""
    write_jsonl(build_from_repo(SAMPLE_REPOS / "python", repo="sample-python"), tmp_path / "python.jsonl.gz")
    pairs = load_pairs([tmp_path], cache_dir=tmp_path / "cache")
    monkeypatch.setattr(distill_data, "PAIRS_VERSION", distill_data.PAIRS_VERSION + 1)
    monkeypatch.setattr(distill_data, "pair_for", lambda example: distill_data.Pair("q", "d", "python", "p"))
    again = load_pairs([tmp_path], cache_dir=tmp_path / "cache")
    assert again != pairs and {p.document for p in again} == {"d"}
    assert len(list((tmp_path / "cache").glob("pairs-*.gz"))) == 2


class CountingTeacher:
    fingerprint = "fake-teacher:1"

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        self.encoded += texts
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)


def test_teacher_cache_resumes_where_an_earlier_run_stopped(tmp_path: Path) -> None:
    texts = [f"text number {i}" for i in range(10)]
    cache = TeacherCache(tmp_path / "cache.sqlite")
    first = CountingTeacher()
    featurize(first, texts[:6], cache, batch_size=4)  # an "interrupted" run: 6 of 10 done
    cache.close()
    cache = TeacherCache(tmp_path / "cache.sqlite")
    second = CountingTeacher()
    seen: list[tuple[int, int]] = []
    vectors = featurize(second, texts, cache, batch_size=4, progress=lambda stage, done, total: seen.append((done, total)))
    assert second.encoded == texts[6:]
    assert vectors.shape == (10, 3) and vectors[3, 0] == len(texts[3])
    assert seen[0] == (6, 10) and seen[-1] == (10, 10)
    cache.close()


def test_contrastive_training_learns_a_synthetic_pairing() -> None:
    """Query token i belongs with document token 100 + i; random rows start near chance."""
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    table = rng.standard_normal((200, 16)).astype(np.float32)
    pairs = [([i, 50 + i % 7], [100 + i, 150 + i % 5]) for i in range(100)]
    dev = DevSet({"toy": ([p[0] for p in pairs[:50]], [p[1] for p in pairs[:50]])})
    before = dev.mrr(table)["toy"]
    trained, history = train_table(table, pairs, TrainConfig(epochs=30, batch_size=50, learning_rate=0.05, seed=0), dev)
    after = dev.mrr(trained)["toy"]
    assert before < 0.2 and after > 0.9
    assert history[0]["epoch"] == 0 and history[-1]["epoch"] == 30 and "loss" in history[-1]
    assert trained.shape == table.shape and not np.allclose(trained, table)


def test_package_order_makes_runs_of_one_package_and_covers_every_pair() -> None:
    import random

    groups = ["a"] * 10 + ["b"] * 3 + ["c"] * 7
    order = package_order(groups, 4, random.Random(0))
    assert sorted(order) == list(range(20))
    runs, current = [], [order[0]]
    for previous, position in zip(order, order[1:]):
        if groups[position] == groups[previous] and len(current) < 4:
            current.append(position)
        else:
            runs.append(current)
            current = [position]
    runs.append(current)
    assert all(len({groups[i] for i in r}) == 1 for r in runs)
    assert sorted(len(r) for r in runs) == [2, 3, 3, 4, 4, 4]  # a: 4+4+2, b: 3, c: 4+3
    assert package_order(groups, 4, random.Random(0)) == order  # seeded


def test_pairs_sharing_a_query_or_a_document_are_not_each_others_negatives() -> None:
    queries = np.array([1, 2, 1, 3])
    documents = np.array([10, 20, 30, 20])
    same = _same_text(queries, documents)
    assert same is not None
    assert same.tolist() == [[False, False, True, False], [False, False, False, True],
                             [True, False, False, False], [False, True, False, False]]
    assert _same_text(np.array([1, 2]), np.array([3, 4])) is None


def test_package_runs_train_as_well_on_a_synthetic_pairing() -> None:
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    table = rng.standard_normal((200, 16)).astype(np.float32)
    pairs = [([i, 50 + i % 7], [100 + i, 150 + i % 5]) for i in range(100)] + [([7, 57], [107, 152])]  # a repeat
    dev = DevSet({"toy": ([p[0] for p in pairs[:50]], [p[1] for p in pairs[:50]])})
    config = TrainConfig(epochs=30, batch_size=50, learning_rate=0.05, seed=0, package_run=10)
    with pytest.raises(ValueError, match="package"):
        train_table(table, pairs, config, dev)
    trained, _ = train_table(table, pairs, config, dev, groups=[i % 4 for i in range(len(pairs))])
    assert dev.mrr(trained)["toy"] > 0.9


def test_tiny_distillation_end_to_end(tiny_teacher: Path, tiny_corpus: Path, tmp_path: Path) -> None:
    """Vocabulary, base distillation, teacher targets and fine-tuning on a tiny teacher and corpus."""
    from codesearch.distill.recipe import Recipe, distill_model

    recipe = Recipe(teacher=str(tiny_teacher), vocab_size=30, vocab_min_count=2, pca_dims=16, teacher_targets=24,
                    dev_share=0.3, train=TrainConfig(epochs=2, batch_size=16, seed=0))
    stages: set[str] = set()
    report = distill_model(recipe, [tiny_corpus], tmp_path / "model", tmp_path / "work",
                           progress=lambda stage, done, total: stages.add(stage))
    assert {"pairs", "teacher", "train"} <= stages
    assert report.vocabulary_added == 30 and sum(report.pairs_dev.values()) > 0
    assert [h["epoch"] for h in report.history] == [0, 1, 2]
    model = StaticEmbedder(tmp_path / "model")
    assert model.dim == 16
    vectors = model.encode_documents(["def read_config(path): return open(path).read()", "class Cart: pass"])
    assert vectors.shape == (2, 16) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    training = json.loads((tmp_path / "model" / "training.json").read_text())
    assert training["recipe"]["vocab_size"] == 30 and training["corpus"]["train"]
    assert not set(training["corpus"]["train"].get("python", {})) & set(training["corpus"]["dev"].get("python", {}))
    cache = TeacherCache(tmp_path / "work" / "teacher-cache.sqlite")
    assert cache.db.execute("SELECT count(*) FROM vectors").fetchone()[0] == 24
    cache.close()


def test_saved_model_round_trips_through_the_loader(tmp_path: Path) -> None:
    """save_model writes a table the torch-free loader reads back (float16), with a new fingerprint."""
    from codesearch.distill.recipe import Recipe, save_model
    from codesearch.embed.static import default_model_path

    base = StaticEmbedder(default_model_path())
    table = base.embeddings[:, ::-1].copy()
    size = save_model(default_model_path(), tmp_path / "copy", table, Recipe(), [], [], [], [], {})
    loaded = StaticEmbedder(tmp_path / "copy")
    assert size > 0 and loaded.dim == base.dim
    assert np.allclose(loaded.embeddings, table, atol=2e-3)
    assert loaded.token_ids(["parse the config"]) == base.token_ids(["parse the config"])
    assert loaded.fingerprint != base.fingerprint


def test_shipped_model_loads_and_encodes_without_torch() -> None:
    code = ("import sys; sys.modules['torch'] = None; sys.modules['model2vec'] = None\n"
            "from codesearch.embed.static import StaticEmbedder\n"
            "m = StaticEmbedder.default(); v = m.encode_queries(['retry failed http requests'])\n"
            "print(v.shape[1], round(float((v ** 2).sum()), 3))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) >= 64 and out[1] == "1.0"


def test_extended_vocabulary_starts_as_the_sum_of_word_pieces(tmp_path: Path) -> None:
    """A new whole-word token's row is the sum of its old pieces, so texts embed the same."""
    from codesearch.distill.base import extend_vocabulary
    from codesearch.embed.static import default_model_path

    base = StaticEmbedder(default_model_path())
    words = ["kwargs", "getattr", "mutex", "the"]  # "the" is already one token: not added again
    extended = StaticEmbedder(extend_vocabulary(default_model_path(), tmp_path / "ext", words))
    assert len(extended.embeddings) == len(base.embeddings) + 3
    assert extended.tokenizer.encode("kwargs mutex", add_special_tokens=False).tokens == ["kwargs", "mutex"]
    texts = ["def wrap(kwargs): return getattr(mutex, 'the')", "lock the mutex before reading kwargs"]
    assert np.allclose(extended.encode_documents(texts), base.encode_documents(texts), atol=2e-3)


def test_missing_or_empty_training_corpus_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from codesearch.bench.datasets import DatasetError
    from codesearch.cli import cli

    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no .jsonl or .jsonl.gz files"):
        load_pairs([tmp_path / "empty"])
    with pytest.raises(DatasetError, match="does not exist"):
        load_pairs([tmp_path / "nowhere.jsonl.gz"])
    monkeypatch.setenv("CODESEARCH_CACHE", str(tmp_path / "cache"))
    result = CliRunner().invoke(cli, ["distill", str(tmp_path / "model")])
    assert result.exit_code == 2
    assert "no training corpus in" in result.output and "--split train" in result.output
    assert not (tmp_path / "model").exists()
