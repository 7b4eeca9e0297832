"""One command from a teacher and a training corpus to a saved static model."""

from __future__ import annotations

import hashlib
import json
import platform
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from codesearch.distill.base import distill_base, extend_vocabulary, teacher_vocabulary
from codesearch.distill.data import Pair, load_pairs, split_by_package
from codesearch.distill.teacher import KNOWN, Teacher, TeacherCache, featurize, resolve_teacher
from codesearch.distill.train import DevSet, TrainConfig, train_table
from codesearch.distill.vocab import code_vocabulary
from codesearch.embed.static import MAX_DOC_TOKENS, MAX_QUERY_TOKENS, StaticEmbedder
from codesearch.errors import CodeSearchError

Progress = Callable[[str, int, int], None]
DEV_QUERIES = 1000  # dev pairs per language used to pick the epoch


@dataclass
class Recipe:
    """Every choice that shapes a distilled model (saved in its ``training.json``)."""

    teacher: str = "minilm"
    vocab_size: int = 20_000  # code words added to the teacher's vocabulary (0: none)
    vocab_min_count: int = 5
    vocab_init: str = "pieces"  # "pieces": sum of the word's teacher-token rows; "teacher": a teacher pass per word
    pca_dims: int = 256
    sif_coefficient: float | None = 1e-4
    teacher_targets: int = 0  # texts featurised by the teacher for the tokenlearn-style loss (0: off)
    teacher_max_tokens: int = 128
    dev_share: float = 0.1
    max_pairs_per_language: int | None = None
    train: TrainConfig = field(default_factory=TrainConfig)


@dataclass
class DistillReport:
    """What a distillation run did, and what it cost."""

    out_dir: str
    pairs_train: dict[str, int]
    pairs_dev: dict[str, int]
    vocabulary_added: int
    history: list[dict[str, object]]
    seconds: dict[str, float]
    size_bytes: int


def distill_model(recipe: Recipe, sources: Sequence[Path], out_dir: Path, work_dir: Path,
                  progress: Progress | None = None, log: Callable[[str], None] = lambda m: None) -> DistillReport:
    """Build a static model following ``recipe`` from the training corpus in ``sources``.

    :param work_dir: caches (pairs, base models, teacher outputs); reused by later runs.
    :raises CodeSearchError: for an empty corpus, a missing teacher or missing extras.
    """
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    teacher_path = resolve_teacher(recipe.teacher)
    pairs = load_pairs(sources, work_dir, progress)
    if not pairs:
        raise CodeSearchError(f"no training pairs in {', '.join(map(str, sources))}")
    train, dev = split_by_package(pairs, recipe.dev_share, recipe.train.seed)
    train = _cap(train, recipe.max_pairs_per_language, recipe.train.seed)
    log(f"pairs: {len(train)} train, {len(dev)} dev ({_packages(train)} / {_packages(dev)} packages)")
    seconds["pairs"] = time.perf_counter() - clock

    clock = time.perf_counter()
    vocabulary: list[str] = []
    if recipe.vocab_size:
        known = teacher_vocabulary(teacher_path)
        vocabulary = code_vocabulary((t for p in train for t in (p.query, p.document)), known.__contains__,
                                     recipe.vocab_size, recipe.vocab_min_count)
        log(f"vocabulary: {len(vocabulary)} code words added to the teacher's {len(known)}")
    by_teacher = vocabulary if recipe.vocab_init == "teacher" else []
    key = hashlib.sha1(json.dumps([str(teacher_path), by_teacher, recipe.pca_dims, recipe.sif_coefficient]).encode())
    base_dir = work_dir / f"base-{Path(recipe.teacher).name}-{key.hexdigest()[:12]}"
    if not base_dir.exists():
        log(f"base distillation ({teacher_path.name}) -> {base_dir}")
        distill_base(teacher_path, base_dir, by_teacher, recipe.pca_dims, recipe.sif_coefficient)
    if vocabulary and recipe.vocab_init == "pieces":
        key = hashlib.sha1(json.dumps([base_dir.name, vocabulary]).encode())
        extended = work_dir / f"{base_dir.name}-vocab-{key.hexdigest()[:12]}"
        if not extended.exists():
            extend_vocabulary(base_dir, extended, vocabulary)
        base_dir = extended
    seconds["base"] = time.perf_counter() - clock

    base = StaticEmbedder(base_dir)
    table = base.embeddings
    history: list[dict[str, object]] = []
    targets = None
    if recipe.teacher_targets:
        clock = time.perf_counter()
        texts = _target_texts(train, recipe.teacher_targets, recipe.train.seed)
        teacher = Teacher(teacher_path, recipe.teacher_max_tokens)
        cache = TeacherCache(work_dir / "teacher-cache.sqlite")
        try:
            vectors = featurize(teacher, texts, cache, progress=progress)
        finally:
            cache.close()
        targets = (_clip(base.token_ids(texts), MAX_DOC_TOKENS), vectors)
        seconds["teacher"] = time.perf_counter() - clock
    if recipe.train.contrastive or targets is not None:
        clock = time.perf_counter()
        pair_ids = list(zip(_clip(base.token_ids([p.query for p in train]), MAX_QUERY_TOKENS),
                            _clip(base.token_ids([p.document for p in train]), MAX_DOC_TOKENS)))
        table, history = train_table(table, pair_ids, recipe.train, _dev_set(base, dev, recipe.train.seed),
                                     targets, progress, log, groups=[(p.language, p.package) for p in train])
        seconds["train"] = time.perf_counter() - clock
    size = save_model(base_dir, out_dir, table, recipe, train, dev, vocabulary, history, seconds)
    return DistillReport(str(out_dir), dict(Counter(p.language for p in train)), dict(Counter(p.language for p in dev)),
                         len(vocabulary), history, {k: round(v, 1) for k, v in seconds.items()}, size)


def save_model(base_dir: Path, out_dir: Path, table: np.ndarray, recipe: Recipe, train: Sequence[Pair],
               dev: Sequence[Pair], vocabulary: Sequence[str], history: list[dict[str, object]],
               seconds: dict[str, float]) -> int:
    """Write the model in Model2Vec format (float16 table) plus ``training.json``; returns its size."""
    from safetensors.numpy import save_file

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({"embeddings": np.asarray(table, dtype=np.float16)}, str(tmp / "model.safetensors"))
    shutil.copy(base_dir / "tokenizer.json", tmp / "tokenizer.json")
    config = json.loads((base_dir / "config.json").read_text())
    config.update(name=out_dir.name, hidden_dim=int(table.shape[1]), normalize=True)
    (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    training = {
        "recipe": asdict(recipe),
        "teacher": KNOWN.get(recipe.teacher, recipe.teacher),
        "corpus": {"train": _summary(train), "dev": _summary(dev)},
        "vocabulary_added": len(vocabulary),
        "vocabulary_sample": list(vocabulary[:50]),
        "history": history,
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}",
    }
    (tmp / "training.json").write_text(json.dumps(training, indent=2) + "\n")
    for path in tmp.iterdir():
        path.chmod(0o644)  # safetensors writes 0600; a model is meant to be shared
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.replace(out_dir)
    return sum(p.stat().st_size for p in out_dir.iterdir())


def _summary(pairs: Sequence[Pair]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for pair in pairs:
        packages = out.setdefault(pair.language, {})
        packages[pair.package] = packages.get(pair.package, 0) + 1
    return out


def _packages(pairs: Sequence[Pair]) -> int:
    return len({(p.language, p.package) for p in pairs})


def _cap(pairs: list[Pair], limit: int | None, seed: int) -> list[Pair]:
    if not limit:
        return pairs
    by_language: dict[str, list[Pair]] = {}
    for pair in pairs:
        by_language.setdefault(pair.language, []).append(pair)
    out = []
    for language in sorted(by_language):
        group = by_language[language]
        random.Random(seed).shuffle(group)
        out.extend(group[:limit])
    return out


def _clip(ids: list[list[int]], limit: int) -> list[list[int]]:
    return [i[:limit] for i in ids]


def _target_texts(train: Sequence[Pair], count: int, seed: int) -> list[str]:
    """Half documents, half queries, of pairs sampled at random."""
    chosen = random.Random(seed).sample(list(train), min(len(train), max(1, count // 2)))
    return [p.document for p in chosen] + [p.query for p in chosen]


def _dev_set(model: StaticEmbedder, dev: Sequence[Pair], seed: int) -> DevSet | None:
    by_language: dict[str, list[Pair]] = {}
    for pair in dev:
        by_language.setdefault(pair.language, []).append(pair)
    if not by_language:
        return None
    out = {}
    for language, group in sorted(by_language.items()):
        group = random.Random(seed).sample(group, min(len(group), DEV_QUERIES))
        out[language] = (_clip(model.token_ids([p.query for p in group]), MAX_QUERY_TOKENS),
                         _clip(model.token_ids([p.document for p in group]), MAX_DOC_TOKENS))
    return DevSet(out)
