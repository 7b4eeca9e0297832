"""Peak memory of an index run's two largest steps, each alone, in a fresh process.

- ``merge``: a checkpoint's lexical merge of OLD kept chunks and NEW pending chunks (80 postings a
  chunk, Zipf-like terms), into memory (``LexicalIndex.merged``) and into the file
  (``LexicalIndex.merge_into``, what the writer does);
- ``retrain``: training an IVF index again at 4x growth (``ivf.fitted`` on N vectors trained at a
  quarter), as the writer does at 800,000 vectors.

Each step's peak is the process's VmHWM (reset just before the step, Linux) minus its resident size
then. Synthetic data, so the numbers compare code, not corpora; ``bench_scaling.py --monorepo`` measures
the whole run.

    python benchmarks/bench_memory.py --old 400000 --new 400000 --vectors 800000 -o results-memory.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

STEP = r'''
import gc, hashlib, json, sys, time
from pathlib import Path
import numpy as np
step, a, b, folder = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
PER = 80

def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

def start():
    gc.collect()
    open("/proc/self/clear_refs", "w").write("5")  # VmHWM := VmRSS
    return rss(), time.perf_counter()

def done(before, started, **extra):
    peak = int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) / 1024
    print(json.dumps({"step": step, "held_mb": round(before), "peak_mb": round(peak),
                      "added_mb": round(peak - before), "seconds": round(time.perf_counter() - started, 2), **extra}))

if step.startswith("merge"):
    from codesearch.store.postings import LexicalIndex, PendingRows
    rng = np.random.default_rng(0)
    def rows(first, n):
        pending = PendingRows()
        terms = np.empty(n * PER, dtype=np.uint32)
        for s in range(0, n, 50_000):
            e = min(n, s + 50_000)
            t = (rng.zipf(1.3, size=(e - s, PER * 2)) % 3_000_000).astype(np.uint32)
            t.sort(axis=1)
            terms[s * PER:e * PER] = (t[:, ::2] * 64 + np.arange(PER, dtype=np.uint32)).ravel()
        pending._ids.frombytes(np.arange(first, first + n, dtype=np.int64).tobytes())
        pending._lengths.frombytes(np.full(n, 100.0, dtype=np.float32).tobytes())
        pending._counts.frombytes(np.full(n, PER, dtype=np.int64).tobytes())
        pending._terms += terms.tobytes()
        pending._tfs += np.ones(n * PER, dtype=np.float16).tobytes()
        return pending
    old, new = LexicalIndex.build(rows(1, a)), rows(a + 1, b)
    before, started = start()
    if step == "merge-memory":
        merged = old.merged([], new)
    else:
        old.merge_into(Path(folder) / "lexical.bin", [], new)
    done(before, started, postings=len(old.positions) + b * PER)
else:
    from codesearch.store import ivf
    from codesearch.store.vectors import VectorStore
    rng = np.random.default_rng(0)
    dim, quarter = 256, a // 4 - 10_000
    flat = VectorStore.empty(dim)
    for s in range(0, a, 100_000):
        x = rng.standard_normal((min(a, s + 100_000) - s, dim)).astype(np.float32)
        flat.add(np.arange(s + 1, s + 1 + len(x), dtype=np.int64), x / np.linalg.norm(x, axis=1, keepdims=True))
    ids, rows16 = ivf._float16_rows(flat)
    store = ivf.IvfVectorStore.build(ids[:quarter], rows16[:quarter])
    for s in range(quarter, a, 100_000):
        store.add(ids[s:s + 100_000], rows16[s:s + 100_000].astype(np.float32))
    del flat, ids, rows16
    before, started = start()
    trained = ivf.fitted(store)
    digest = hashlib.sha1()
    for list_ids, codes in trained._lists(codes=True):
        digest.update(list_ids.tobytes())
        digest.update(codes.tobytes())
    done(before, started, vectors=a, lists=trained.nlist, digest=digest.hexdigest()[:12])
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=int, default=400_000, help="kept chunks in the merge")
    parser.add_argument("--new", type=int, default=400_000, help="pending chunks in the merge")
    parser.add_argument("--vectors", type=int, default=800_000, help="vectors in the retrain")
    parser.add_argument("--steps", default="merge-memory,merge-file,retrain",
                        help="which steps (merge-file needs LexicalIndex.merge_into: not in older commits)")
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        steps = (("merge-memory", args.old, args.new), ("merge-file", args.old, args.new), ("retrain", args.vectors, 0))
        for step, a, b in (s for s in steps if s[0] in args.steps.split(",")):
            line = subprocess.run([sys.executable, "-c", STEP, step, str(a), str(b), folder], check=True,
                                  capture_output=True, text=True).stdout.strip().splitlines()[-1]
            results.append(json.loads(line))
            print(line, flush=True)
    if args.output:
        args.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
