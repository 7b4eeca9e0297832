"""Vectors below fp16: recall@10 of FAISS scalar quantisers against exact search, on one index's vectors.

    python benchmarks/bench_quantize.py INDEX_DIR [--queries 500] [-o results.json]

Reads every vector of an index (any size; an IVF index's vectors too), embeds ``--queries`` first
paragraphs of its doc comments with the shipped static model (seed 7), and compares the top 10 of
exact inner-product search with the top 10 of each quantiser (int8 per dimension, int8 uniform,
fp16, int4), with each one's bytes per vector. Recall is against exact float32 search, so fp16
shows what the shipped format loses.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import faiss
import numpy as np

from codesearch.embed.static import StaticEmbedder
from codesearch.store.reader import IndexReader
from indexer.docs import first_paragraph

QUANTISERS = {"int8": faiss.ScalarQuantizer.QT_8bit, "int8-uniform": faiss.ScalarQuantizer.QT_8bit_uniform,
              "fp16": faiss.ScalarQuantizer.QT_fp16, "int4": faiss.ScalarQuantizer.QT_4bit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args()
    with IndexReader(args.index_dir) as reader:
        store = reader.vectors()
        ids = [row[0] for row in reader.conn.execute("SELECT id FROM chunks")]
        docs = [row[0] for row in reader.conn.execute("SELECT doc FROM chunks WHERE doc != ''")]
    vectors = np.asarray(store.vectors(ids), dtype=np.float32)
    texts = random.Random(7).sample([first_paragraph(d) for d in docs if len(d.split()) >= 4], args.queries)
    queries = StaticEmbedder.default().encode_queries(texts)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, gold = exact.search(queries, 10)
    result: dict[str, object] = {"index": str(args.index_dir), "vectors": len(vectors), "dim": vectors.shape[1],
                                 "queries": len(texts)}
    for name, kind in QUANTISERS.items():
        index = faiss.IndexScalarQuantizer(vectors.shape[1], kind, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.add(vectors)
        _, found = index.search(queries, 10)
        recall = float(np.mean([len(set(g) & set(f)) / 10 for g, f in zip(gold, found, strict=True)]))
        result[name] = {"recall@10": round(recall, 4), "bytes_per_vector": index.code_size}
    text = json.dumps(result, indent=2)
    print(text)  # noqa: T201
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
