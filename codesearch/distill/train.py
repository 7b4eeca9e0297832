"""Fine-tuning a static embedding table: contrastive and tokenlearn-style objectives.

The student is exactly the model the index uses: a text's vector is the sum of its
tokens' rows, L2-normalised (``StaticEmbedder``), so the trained table is saved as is.

- Contrastive: symmetric InfoNCE over docstring-to-code pairs with in-batch negatives. With
  ``package_run``, a batch is made of runs of pairs of one package each, so most of a query's
  negatives include its own package's other functions: the neighbours a search within one
  repository has to tell apart; a pair whose query or document is the same text as another's in
  the batch (an overload, a copy: far likelier within one package) is then not the other's negative.
- Regression (tokenlearn-style): a linear head maps the student's vector into the
  teacher's space, and 1 - cosine to the teacher's own embedding of the same text is
  minimised.

The dev set (other packages) picks the best epoch.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from codesearch.distill.teacher import INSTALL
from codesearch.errors import MissingExtra

Progress = Callable[[str, int, int], None]
Ids = list[int]


@dataclass
class TrainConfig:
    """Hyperparameters of the fine-tuning step."""

    epochs: int = 3
    batch_size: int = 1024
    learning_rate: float = 3e-3
    temperature: float = 0.05
    contrastive: bool = True
    regression_weight: float = 1.0  # weight of the tokenlearn-style loss when targets are given
    seed: int = 0
    threads: int = 0  # 0: torch's default
    package_run: int = 0  # batches made of runs of this many pairs of one package (0: pairs drawn at random)


@dataclass
class DevSet:
    """Held-out pairs per language, for choosing the epoch: query and document token ids."""

    by_language: dict[str, tuple[list[Ids], list[Ids]]]

    def mrr(self, table: np.ndarray) -> dict[str, float]:
        """Full-ranking MRR per language (each query against all of its language's documents)."""
        out = {}
        for language, (queries, documents) in self.by_language.items():
            q, d = _pool(table, queries), _pool(table, documents)
            scores = q @ d.T
            correct = scores[np.arange(len(q)), np.arange(len(q))]
            ranks = 1 + (scores > correct[:, None]).sum(axis=1)
            out[language] = float(np.mean(1.0 / ranks))
        return out


def _same_text(query_keys: np.ndarray, document_keys: np.ndarray) -> np.ndarray | None:
    """Where pair j of a batch has pair i's query or document text (j != i), or None when nowhere."""
    same = (query_keys[:, None] == query_keys[None, :]) | (document_keys[:, None] == document_keys[None, :])
    np.fill_diagonal(same, False)
    return same if same.any() else None


def _pool(table: np.ndarray, texts: Sequence[Ids]) -> np.ndarray:
    out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
    for i, ids in enumerate(texts):
        if ids:
            v = table[ids].sum(axis=0)
            n = np.linalg.norm(v)
            if n > 0:
                out[i] = v / n
    return out


def package_order(groups: Sequence[object], run: int, rng: random.Random) -> list[int]:
    """Pair positions in runs of at most ``run`` pairs of one group (package), the runs shuffled."""
    members: dict[object, list[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    runs = []
    for group in members.values():
        rng.shuffle(group)
        runs.extend(group[start:start + run] for start in range(0, len(group), run))
    rng.shuffle(runs)
    return [i for r in runs for i in r]


def train_table(table: np.ndarray, pairs: Sequence[tuple[Ids, Ids]], config: TrainConfig,
                dev: DevSet | None = None, targets: tuple[Sequence[Ids], np.ndarray] | None = None,
                progress: Progress | None = None, log: Callable[[str], None] = lambda m: None,
                groups: Sequence[object] | None = None) -> tuple[np.ndarray, list[dict[str, object]]]:
    """Train the rows of ``table`` (vocabulary x dims) and return the best table and the history.

    :param pairs: (query ids, document ids) for the contrastive loss.
    :param groups: each pair's package, for ``config.package_run`` (required then).
    :param targets: (text ids, teacher vectors) for the regression loss, or None.
    """
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as exc:
        raise MissingExtra(f"training needs torch: {INSTALL}") from exc
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    weight = torch.nn.Parameter(torch.tensor(np.asarray(table, dtype=np.float32)))
    params = [weight]
    head = None
    if targets is not None:
        head = torch.nn.Linear(table.shape[1], targets[1].shape[1], bias=False)
        params += list(head.parameters())
        target_vectors = torch.tensor(targets[1])
    optimizer = torch.optim.Adam(params, lr=config.learning_rate)
    examples = len(pairs) if config.contrastive else len(targets[0]) if targets else 0
    steps_per_epoch = max(1, math.ceil(examples / config.batch_size))
    total = steps_per_epoch * config.epochs
    warmup = max(1, total // 20)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, 0.5 * (1 + math.cos(math.pi * min(s, total) / total))))

    def encode(batch: Sequence[Ids]) -> torch.Tensor:
        lengths = [len(ids) for ids in batch]
        flat = torch.tensor([i for ids in batch for i in ids], dtype=torch.long)
        offsets = torch.tensor([0] + list(np.cumsum(lengths[:-1])), dtype=torch.long)
        summed = F.embedding_bag(flat, weight, offsets, mode="sum")
        return F.normalize(summed, dim=-1)

    history: list[dict[str, object]] = []
    best = np.array(table, dtype=np.float32, copy=True)
    best_score = -1.0
    if dev is not None:
        scores = dev.mrr(best)
        best_score = float(np.mean(list(scores.values())))
        history.append({"epoch": 0, "dev_mrr": best_score, "dev_mrr_by_language": scores})
        log(f"epoch 0: dev MRR {best_score:.4f}")
    step = 0
    order = list(range(len(pairs)))
    if config.package_run and (groups is None or len(groups) != len(pairs)):
        raise ValueError("package_run needs each pair's package")
    query_keys = np.array([hash(tuple(q)) for q, _ in pairs], dtype=np.int64)
    document_keys = np.array([hash(tuple(d)) for _, d in pairs], dtype=np.int64)
    target_order = list(range(len(targets[0]))) if targets else []
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        if config.package_run:
            order = package_order(groups, config.package_run, rng)  # type: ignore[arg-type]
        else:
            rng.shuffle(order)
        rng.shuffle(target_order)
        losses = []
        for s in range(steps_per_epoch):
            loss = torch.zeros(())
            if config.contrastive:
                chosen = order[s * config.batch_size : (s + 1) * config.batch_size]
                batch = [pairs[i] for i in chosen]
                if len(batch) < 2:
                    continue
                q, d = encode([b[0] for b in batch]), encode([b[1] for b in batch])
                logits = q @ d.T / config.temperature
                same = _same_text(query_keys[chosen], document_keys[chosen]) if config.package_run else None
                if same is not None:  # another pair with this query or this document is no negative
                    logits = logits.masked_fill(torch.from_numpy(same), float("-inf"))
                labels = torch.arange(len(batch))
                loss = loss + (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
            if targets is not None and head is not None:
                pick = [target_order[(s * config.batch_size + j) % len(target_order)] for j in range(config.batch_size)]
                student = head(encode([targets[0][i] for i in pick]))
                regression = (1 - F.cosine_similarity(student, target_vectors[pick], dim=-1)).mean()
                loss = loss + config.regression_weight * regression
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            losses.append(loss.item())
            if progress:
                progress("train", step, total)
        record: dict[str, object] = {"epoch": epoch, "loss": float(np.mean(losses)) if losses else None,
                                     "seconds": round(time.perf_counter() - started, 1)}
        current = weight.detach().numpy()
        if dev is not None:
            scores = dev.mrr(current)
            record["dev_mrr"] = float(np.mean(list(scores.values())))
            record["dev_mrr_by_language"] = scores
            if record["dev_mrr"] > best_score:  # type: ignore[operator]
                best_score, best = float(record["dev_mrr"]), current.copy()  # type: ignore[arg-type]
        else:
            best = current.copy()
        history.append(record)
        log(f"epoch {epoch}: loss {record['loss']:.4f}" + (f", dev MRR {record['dev_mrr']:.4f}" if dev else "")
            + f" ({record['seconds']} s)")
    return best, history
