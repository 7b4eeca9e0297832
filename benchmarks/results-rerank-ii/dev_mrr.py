"""Dev MRR (the trainer's 2,000 dev pairs, package-level split) of exported rerankers, torch-free."""
import random, sys
from pathlib import Path
import numpy as np
from codesearch.distill.data import load_pairs, split_by_package
from codesearch.rerank import OnnxEncoder
pairs = load_pairs([Path.home()/".cache/codesearch/train"], Path.home()/".cache/codesearch/distill")
_, dev = split_by_package(pairs, seed=0)
dev = random.Random(1).sample(dev, 2000)
for arg in sys.argv[1:]:
    path, tokens = arg.split("@")
    enc = OnnxEncoder(Path(path))
    q = enc.encode([p.query for p in dev], enc.query_tokens)
    d = enc.encode([p.document for p in dev], int(tokens))
    s = q @ d.T
    ranks = (s > np.diag(s)[:, None]).sum(1) + 1
    print(arg, "dev MRR", round(float(np.mean(1 / ranks)), 4), flush=True)
