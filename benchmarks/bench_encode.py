"""Encode throughput on ONE core, side by side: our static model against its baselines.

Texts are the functions of the retrieval benchmark sets (``~/.cache/codesearch/datasets``,
built by ``scripts/build_datasets.py``), embedded exactly as the index embeds them.
The process is pinned to one CPU and every library to one thread, then it measures,
in the same process and on the same texts:

- our static model (``StaticEmbedder``), with cold token caches and warm ones;
- plain model2vec (``StaticModel.encode``) on the plain distillation;
- a BM25 index build (bm25s);
- the teacher transformer (sentence-transformers all-MiniLM-L6-v2) on a sample.

    python benchmarks/bench_encode.py                      # shipped model, 20,000 functions
    python benchmarks/bench_encode.py --model DIR --output benchmarks/results-encode.json
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy / torch / tokenizers load
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from codesearch.bench.corpus import document  # noqa: E402
from codesearch.bench.metrics import throughput  # noqa: E402
from codesearch.bench.datasets import read_jsonl  # noqa: E402
from codesearch.cache import cache_root  # noqa: E402
from codesearch.embed.static import StaticEmbedder  # noqa: E402
from indexer.chunk import embedding_text  # noqa: E402

LANGUAGES = ("python", "javascript", "java", "php", "ruby", "go")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # noqa: T201


def texts_from(datasets: Path, count: int, seed: int) -> list[str]:
    per_language = count // len(LANGUAGES) + 1
    out = []
    for language in LANGUAGES:
        examples = list(itertools.islice(read_jsonl([datasets / f"{language}.jsonl.gz"]), per_language * 3))
        random.Random(seed).shuffle(examples)
        for example in examples[:per_language]:
            _, chunk = document(example)
            if chunk is not None:
                out.append(embedding_text(chunk, with_doc=False))
    random.Random(seed).shuffle(out)
    return out[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="static model directory (default: the shipped model)")
    parser.add_argument("--datasets", type=Path, default=cache_root() / "datasets")
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--teacher-sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    texts = texts_from(args.datasets, args.count, args.seed)
    log(f"{len(texts)} functions, mean {sum(map(len, texts)) / len(texts):.0f} characters")
    rates: dict[str, float] = {}
    model = StaticEmbedder(args.model) if args.model else StaticEmbedder.default()
    rates["static, cold token cache"] = throughput(model.encode_documents, texts)
    rates["static, warm token cache"] = throughput(model.encode_documents, texts)
    try:
        from model2vec import StaticModel

        from codesearch.bench.systems import plain_model_path

        plain = StaticModel.from_pretrained(str(plain_model_path()))
        rates["plain model2vec encode"] = throughput(lambda t: plain.encode(t, show_progress_bar=False, use_multiprocessing=False), texts)
    except ImportError:
        log("skipping plain model2vec: pip install 'codesearch[distill]'")
    try:
        import bm25s

        def bm25_build(batch: list[str]) -> None:
            bm25s.BM25().index(bm25s.tokenize(batch, stopwords="en", show_progress=False), show_progress=False)

        rates["BM25 index build (bm25s)"] = throughput(bm25_build, texts)
    except ImportError:
        log("skipping BM25: pip install bm25s")
    try:
        import torch
        from sentence_transformers import SentenceTransformer

        from codesearch.distill.teacher import resolve_teacher

        torch.set_num_threads(1)
        teacher = SentenceTransformer(str(resolve_teacher("minilm")), device="cpu")
        teacher.encode(texts[:16])
        sample = texts[: args.teacher_sample]
        rates["teacher all-MiniLM-L6-v2 (256 tokens)"] = throughput(lambda t: teacher.encode(t, batch_size=32), sample)
    except ImportError:
        log("skipping the teacher: pip install 'codesearch[distill]'")
    ours = rates["static, warm token cache"]
    result = {
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, 1 core pinned, Python {platform.python_version()}",
        "model": str(model.path), "functions": len(texts),
        "per_second": {k: round(v) for k, v in rates.items()},
        "ours_warm_vs": {k: round(ours / v, 2) for k, v in rates.items() if not k.startswith("static")},
    }
    print(json.dumps(result, indent=2))  # noqa: T201
    if args.output:
        args.output.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
