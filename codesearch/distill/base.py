"""The Model2Vec step: a static table from one teacher pass per vocabulary entry."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from codesearch.distill.teacher import INSTALL
from codesearch.errors import MissingExtra


def teacher_vocabulary(teacher_path: Path) -> set[str]:
    """The tokens of the teacher's own tokenizer."""
    from tokenizers import Tokenizer

    return set(Tokenizer.from_file(str(Path(teacher_path) / "tokenizer.json")).get_vocab())


def distill_base(teacher_path: Path, out_dir: Path, vocabulary: Sequence[str] = (), pca_dims: int = 256,
                 sif_coefficient: float | None = 1e-4, device: str | None = None) -> Path:
    """Distil with model2vec (teacher tokens plus ``vocabulary``), PCA and SIF weighting; save to ``out_dir``.

    :raises MissingExtra: without model2vec's distillation dependencies.
    """
    try:
        import torch
        from model2vec.distill import distill
    except ImportError as exc:
        raise MissingExtra(f"distillation needs model2vec[distill] and torch: {INSTALL}") from exc
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = distill(str(teacher_path), vocabulary=list(vocabulary) or None, pca_dims=pca_dims,
                    sif_coefficient=sif_coefficient, device=device)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    model.save_pretrained(str(tmp))
    config = json.loads((tmp / "config.json").read_text())
    config["name"] = out_dir.name
    (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    tmp.replace(out_dir)
    return out_dir


def extend_vocabulary(base_dir: Path, out_dir: Path, words: Sequence[str]) -> Path:
    """Add ``words`` to a WordPiece model as whole tokens, each initialised to the sum of its pieces.

    A text's vector is the normalised sum of its token rows, so with this initialisation
    the extended model embeds every text exactly as the base does; fine-tuning then gives
    frequent code words rows of their own. (The alternative, one teacher pass per new
    word as ``distill_base(vocabulary=...)`` does, starts from rows inconsistent with the
    pieces around them; see the model card's ablation.)
    """
    import numpy as np
    from safetensors.numpy import load_file, save_file
    from tokenizers import Tokenizer

    spec = json.loads((base_dir / "tokenizer.json").read_text("utf-8"))
    if spec["model"]["type"] != "WordPiece":
        raise ValueError(f"only WordPiece vocabularies can be extended, not {spec['model']['type']}")
    tokenizer = Tokenizer.from_file(str(base_dir / "tokenizer.json"))
    table = load_file(str(base_dir / "model.safetensors"))["embeddings"].astype(np.float32)
    vocab: dict[str, int] = spec["model"]["vocab"]
    if max(vocab.values()) + 1 != len(table):
        raise ValueError(f"{base_dir}: tokenizer and embedding table sizes differ")
    unk = vocab.get(spec["model"].get("unk_token", "[UNK]"))
    new_words = [w for w in dict.fromkeys(words) if w not in vocab]
    rows = []
    for word in new_words:
        ids = [i for i in tokenizer.encode(word, add_special_tokens=False).ids if i != unk]
        rows.append(table[ids].sum(axis=0) if ids else np.zeros(table.shape[1], dtype=np.float32))
        vocab[word] = len(vocab)
    if rows:
        table = np.vstack([table, np.stack(rows)])
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False), "utf-8")
    save_file({"embeddings": table.astype(np.float16)}, str(tmp / "model.safetensors"))
    config = json.loads((base_dir / "config.json").read_text())
    config["name"] = out_dir.name
    (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    tmp.replace(out_dir)
    return out_dir
