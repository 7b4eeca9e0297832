"""Build twins in the first screen: npm packages that ship their builds and no sources.

An npm package often ships one module several times, built for several targets and no sources beside
them (`dist/x.js` and `dist/cjs/x.js`, `x.js` and `x.mjs`, `lib/` and `es6/`, `dist/types/x.d.ts`), so
the indexer keeps every copy (it skips a `dist/` only beside the `src/` or `lib/` it is built from).
For each package below, fetched with `npm pack`, indexed as it unpacks, this asks the first paragraph
of documented definitions drawn at random (seeded) and measures the first ten results:

- **repeats**: results that are another copy of an earlier result of the ten: the same qualified name in
  another file, and code of nearly the same words (Jaccard similarity of their word sets at least 0.7);
- **distinct**: the other results, the different definitions the first screen shows;
- **MRR@10** of the queried definition, any of its copies counting (as a result, or folded into one as
  identical code or a near-copy);
- **declarations**: results in type declaration files (`.d.ts`, `.d.mts`, `.d.cts`), which state a
  definition's types and doc but not its code.

Uses only ``build_index`` and ``Searcher(index_dir).search(query, k)``, so the same script measures an
older checkout too (put it first on ``PYTHONPATH``) for before/after figures.

    python benchmarks/bench_build_twins.py [--queries 30] [-o benchmarks/results-build-twins.json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import statistics
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codesearch.cache import cache_root
from codesearch.pipeline import build_index
from codesearch.search import Searcher
from indexer.docs import first_paragraph

# Packages that ship two or more builds of each module and no sources (pinned: the numbers are theirs).
PACKAGES = ("hono@4.6.3", "date-fns@3.6.0", "fp-ts@2.16.11", "io-ts@2.2.21", "graphql@16.9.0", "ramda@0.30.1",
            "@sinclair/typebox@0.33.17", "class-validator@0.14.1", "@floating-ui/core@1.6.8", "neverthrow@8.0.0",
            "mobx-state-tree@6.0.1", "xstate@5.18.2", "yup@1.4.0")
K = 10


def fetch(spec: str, dest: Path) -> Path:
    """The unpacked npm tarball of ``spec`` (``npm pack``), fetched once into ``dest``."""
    root = dest / spec.rsplit("@", 1)[0].replace("/", "__")
    if not (root / "package.json").exists():
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, capture_output=True, text=True,
                                 check=True).stdout.strip().splitlines()[-1]
            with tarfile.open(Path(tmp) / out) as tar:
                members = [m for m in tar.getmembers() if m.isfile() and m.name.startswith("package/")]
                for m in members:
                    m.name = m.name[len("package/"):]
                tar.extractall(root, members=members, filter="data")
    return root


WORDS = re.compile(r"[A-Za-z_$][\w$]*")
DECLARATION = re.compile(r"\.d\.[cm]?ts$")
COPY_WORDS = 0.7  # the least Jaccard similarity of two chunks' word sets that makes one a copy of the other


def is_copy(result: Any, earlier: Sequence[Any]) -> bool:
    """Whether a result is another copy of one of the ``earlier`` results (see the module doc)."""
    words = set(WORDS.findall(result.code))
    return any(e.qualname == result.qualname and e.path != result.path
               and len(words & (other := set(WORDS.findall(e.code)))) >= COPY_WORDS * len(words | other)
               for e in earlier)


def measure(root: Path, index_dir: Path, queries: int, seed: int) -> dict[str, object]:
    build_index(root, index_dir)
    db = sqlite3.connect(index_dir / "index.db")
    rows = db.execute("SELECT path, start_line, qualname, doc FROM chunks "
                      "WHERE kind != 'code' AND doc != ''").fetchall()
    places: dict[str, set[str]] = {}  # a doc's first paragraph -> the places of the definitions it documents
    names: dict[str, str] = {}
    for path, start, qualname, doc in rows:
        text = first_paragraph(doc)
        if len(text.split()) >= 4:
            places.setdefault(text, set()).add(f"{path}:{start}")
            names.setdefault(text, qualname)
    asked = random.Random(seed).sample(sorted(places), min(queries, len(places)))
    repeats, ranks, declarations = [], [], []
    with Searcher(index_dir) as searcher:
        for text in asked:
            results = searcher.search(text, K)
            repeats.append(sum(is_copy(r, results[:n]) for n, r in enumerate(results)))
            declarations.append(sum(bool(DECLARATION.search(r.path)) for r in results))
            rank = next((n for n, r in enumerate(results, 1)
                         if {f"{r.path}:{r.start_line}", *r.duplicates, *r.similar} & places[text]), None)
            ranks.append(1 / rank if rank else 0.0)
        count = searcher.reader.conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    return {"chunks": count, "queries": len(asked), "repeats": statistics.mean(repeats) if repeats else 0.0,
            "distinct": statistics.mean(K - x for x in repeats) if repeats else 0.0,
            "mrr@10": statistics.mean(ranks) if ranks else 0.0,
            "declarations": statistics.mean(declarations) if declarations else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=30, help="definitions asked per package (default 30)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--index-cache", type=Path, default=cache_root() / "build-twins" / "index",
                        help="where the indexes go (default: the user cache)")
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args()
    sources = cache_root() / "build-twins" / "src"
    sources.mkdir(parents=True, exist_ok=True)
    out: dict[str, dict[str, object]] = {}
    print(f"{'package':16s} {'chunks':>7s} {'queries':>7s} {'repeats':>7s} {'distinct':>8s} {'MRR@10':>7s} "
          f"{'declarations':>12s}")
    for spec in PACKAGES:
        name = spec.rsplit("@", 1)[0]
        row = measure(fetch(spec, sources), args.index_cache / name, args.queries, args.seed)
        out[spec] = row
        print(f"{name:16s} {row['chunks']:7d} {row['queries']:7d} {row['repeats']:7.2f} {row['distinct']:8.2f} "
              f"{row['mrr@10']:7.3f} {row['declarations']:12.2f}", flush=True)
    mean = {key: statistics.mean(float(r[key]) for r in out.values())  # type: ignore[arg-type]
            for key in ("repeats", "distinct", "mrr@10", "declarations")}
    print(f"{'mean':16s} {'':7s} {'':7s} {mean['repeats']:7.2f} {mean['distinct']:8.2f} {mean['mrr@10']:7.3f} "
          f"{mean['declarations']:12.2f}")
    if args.output:
        args.output.write_text(json.dumps({"k": K, "packages": out, "mean": mean}, indent=2) + "\n")


if __name__ == "__main__":
    main()
