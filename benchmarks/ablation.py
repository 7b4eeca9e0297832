"""Ablation of the distillation recipe: each model's full-corpus MRR on the held-out sets.

Every model directory is benchmarked as the ``static`` system of ``codesearch bench``
(same index and search path, same sample: 1,000 queries over 1,000 documents per
language, seed 0, full-corpus protocol), and its dev MRR (other training packages,
recorded in ``training.json`` by ``codesearch distill``) is shown next to it. The
recipe was chosen on dev; the held-out numbers are reported, not tuned on.

    python benchmarks/ablation.py "plain distill + split=DIR" "contrastive=DIR" ... \\
        [--output benchmarks/results-ablation.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from codesearch.bench import runner
from codesearch.bench.datasets import read_jsonl
from codesearch.cache import cache_root

LANGUAGES = ("go", "java", "javascript", "php", "python", "ruby")


def dev_mrr(model: Path) -> float | None:
    """The best dev MRR in the model's training history (None for models not trained by us)."""
    path = model / "training.json"
    if not path.exists():
        return None
    scores = [h["dev_mrr"] for h in json.loads(path.read_text())["history"] if "dev_mrr" in h]
    return max(scores) if scores else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="NAME=DIR")
    parser.add_argument("--datasets", type=Path, default=cache_root() / "datasets")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    examples = list(read_jsonl([args.datasets]))
    rows = []
    for spec in args.models:
        name, _, directory = spec.partition("=")
        result = runner.run(examples, ["static"], ("full",), max_queries=1000, corpus_size=1000, seed=0,
                            model=Path(directory))
        system = result.results[0]
        row = {"name": name, "model": directory, "dev_mrr": dev_mrr(Path(directory)),
               "mrr": system.overall["mrr"], "by_language": {k: v["mrr"] for k, v in system.per_language.items()}}
        rows.append(row)
        print(f"{name}: {row['mrr']:.3f}", file=sys.stderr, flush=True)  # noqa: T201
    print("| recipe | dev MRR | held-out MRR | " + " | ".join(LANGUAGES) + " |")  # noqa: T201
    print("|---" * (3 + len(LANGUAGES)) + "|")  # noqa: T201
    for row in rows:
        dev = f"{row['dev_mrr']:.3f}" if row["dev_mrr"] is not None else "-"
        cells = " | ".join(f"{row['by_language'].get(lang, 0):.3f}" for lang in LANGUAGES)
        print(f"| {row['name']} | {dev} | {row['mrr']:.3f} | {cells} |")  # noqa: T201
    if args.output:
        args.output.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
