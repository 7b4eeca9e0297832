"""Choose the lexical weight of hybrid search on a dev split (never on the test sample).

The test sample is what ``codesearch bench --max-queries 1000 --corpus-size 1000 --seed 0``
draws from ``~/.cache/codesearch/datasets``. This script removes those documents, draws a
dev sample of the same size from what is left (seed 1), indexes it with the shipped model,
and reports full-corpus MRR per language for several lexical weights of the score
fusion (``codesearch.search.fuse``). ``codesearch.search.LEXICAL_WEIGHT`` records the choice.

    python scripts/build_datasets.py
    python benchmarks/tune_fusion.py [--weights 1 3 10 1000] [--queries 300]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from codesearch.bench.corpus import materialise
from codesearch.bench.datasets import read_jsonl
from codesearch.bench.runner import select
from codesearch.pipeline import build_index
from codesearch.query import analyse
from codesearch.search import Searcher, fuse
from codesearch.terms import query_terms

DATASETS = Path.home() / ".cache" / "codesearch" / "datasets"
DEPTH = 100


def main() -> None:
    """Report dev MRR for each weight."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=float, nargs="+", default=[0.5, 1, 1.5, 2, 3, 5, 10, 1000])
    parser.add_argument("--queries", type=int, default=300, help="dev queries per language")
    args = parser.parse_args()
    examples = list(read_jsonl([DATASETS]))
    test = {(e.language, e.code) for e in select(examples, 1000, 1000, 0)}
    dev = select([e for e in examples if (e.language, e.code) not in test], args.queries, 1000, 1)
    work = Path(tempfile.mkdtemp(prefix="codesearch-tune-"))
    try:
        corpus, kept = materialise(dev, work / "corpus")
        build_index(work / "corpus", work / "index")
        queries: dict[str, list[tuple[str, str]]] = {}
        for example, path in zip(kept, corpus.paths):
            bucket = queries.setdefault(example.language, [])
            if len(bucket) < args.queries:
                bucket.append((example.query, path))
        macro: dict[float, list[float]] = {w: [] for w in args.weights}
        with Searcher(work / "index") as searcher:
            for language, pairs in sorted(queries.items()):
                rr: dict[float, list[float]] = {w: [] for w in args.weights}
                for query, target in pairs:
                    static, lexical = _rankings(searcher, query, language)
                    ids = sorted({i for i, _ in static} | {i for i, _ in lexical})
                    paths = {i: row["path"] for i, row in searcher.reader.chunks(ids).items()}
                    for weight in args.weights:
                        fused = fuse([static, lexical], [1.0, weight])
                        ranked = list(dict.fromkeys(paths[i] for i, _ in fused))
                        rr[weight].append(1 / (ranked.index(target) + 1) if target in ranked else 0.0)
                for weight in args.weights:
                    macro[weight].append(statistics.fmean(rr[weight]))
                print(language, {w: round(statistics.fmean(v), 3) for w, v in rr.items()}, flush=True)  # noqa: T201
        print("macro MRR", {w: round(statistics.fmean(v), 3) for w, v in macro.items()})  # noqa: T201
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _rankings(searcher: Searcher, query: str, language: str) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """The semantic and the lexical rankings (chunk id, score) of one query within a language."""
    vector = searcher.embedder.encode_queries([query])
    allowed = searcher.reader.ids_where(language=language)
    scores, ids = searcher.vectors.search(vector, DEPTH, allowed)
    static = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]
    info = analyse(query)
    lexical = searcher.lexical.search(query_terms(info.words, info.compounds), DEPTH, allowed)
    return static, lexical


if __name__ == "__main__":
    sys.exit(main())
