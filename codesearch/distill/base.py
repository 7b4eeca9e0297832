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
