"""Training pairs taken from the index's own chunks: an experiment (docs/TRAINING.md, "class pairs").

The shipped model trains on CodeSearchNet-style pairs: a docstring's first paragraph and its
function re-parsed alone (``codesearch.distill.data``). This script builds two other kinds of pair
from the training packages of ``scripts/build_datasets.py`` (their cached sources), as the index
chunks them (``indexer.chunk.embedding_text(chunk, with_doc=False)``):

- ``classes``: classes, interfaces, traits, modules and enums (the outline the index embeds);
- ``functions``: functions and methods with their qualified names and their class's doc as context
  (``keep_pair``'s rules, code or docstring of an evaluation set dropped);

then distils the shipped recipe with them (``classes`` added to the shipped pairs, training packages
only, so the dev split is the shipped one; ``functions`` instead of the shipped pairs), and scores a
model on semble's dev set, the large set and the plain-English set, each index built fresh.

    python benchmarks/pair_experiment.py extract classes /tmp/classes.jsonl.gz
    python benchmarks/pair_experiment.py train /tmp/model-classes --add /tmp/classes.jsonl.gz
    python benchmarks/pair_experiment.py extract functions /tmp/functions.jsonl.gz
    python benchmarks/pair_experiment.py train /tmp/model-functions --only /tmp/functions.jsonl.gz
    python benchmarks/pair_experiment.py score /tmp/model-classes /tmp/indexes-classes   # or: score shipped DIR
    python benchmarks/pair_experiment.py train /tmp/model-masked --mask-code 0.5         # docstrings without code words
    python benchmarks/pair_experiment.py train /tmp/model-again --every-epoch   # the shipped recipe, each epoch
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import random
import re
import statistics
import sys
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

CACHE = Path.home() / ".cache" / "codesearch"
RECIPE = ["--teacher", "minilm", "--vocab-size", "0", "--pca-dims", "256", "--epochs", "8", "--lr", "2e-2",
          "--temperature", "0.05", "--batch-size", "4096", "--seed", "0"]  # scripts/build_default_model.py's
OLDER = {"python", "javascript", "java", "php", "ruby", "go"}  # with trpc: semble-dev's older ten


def _normal(text: str) -> str:
    return " ".join(text.split()).lower()


def _package_pairs(job: tuple[str, str, str, str]) -> list[dict[str, Any]]:
    from codesearch.bench.datasets import keep_pair, tokens
    from indexer.chunk import chunks_for_file, embedding_text
    from indexer.discover import FileEntry, read_source, walk
    from indexer.docs import first_paragraph
    from indexer.types import SourceFile, SymbolKind

    kinds, language, package, root = job
    wanted = ({SymbolKind.FUNCTION, SymbolKind.METHOD} if kinds == "functions" else
              {SymbolKind.CLASS, SymbolKind.INTERFACE, SymbolKind.TRAIT, SymbolKind.MODULE, SymbolKind.ENUM})
    out = []
    for item in walk(Path(root)):
        source = read_source(item) if isinstance(item, FileEntry) else None
        if not isinstance(source, SourceFile) or source.language != language:
            continue
        try:
            chunks = chunks_for_file(source)
        except Exception:  # noqa: BLE001 - as the indexer does: a parser failure costs one file
            continue
        for c in chunks:
            if c.kind not in wanted or c.window or not c.doc:
                continue
            query = first_paragraph(c.doc)
            if kinds == "functions":
                keep = keep_pair(c.language, c.name, c.qualname, c.doc, c.code_without_doc)
            else:
                keep = (len(tokens(query)) >= 3 and "test" not in c.qualname.lower() and "test" not in c.path.lower()
                        and len(c.code_without_doc.strip().splitlines()) >= 3)
            if keep:
                out.append({"query": query, "document": embedding_text(c, with_doc=False), "language": language,
                            "package": package, "code": c.code_without_doc})
    return out


def extract(kinds: str, out: Path) -> None:
    import build_datasets

    jobs, held = [], {}
    for language in build_datasets.SPLITS["train"]:
        held[language] = build_datasets.evaluation_texts(CACHE, language)
        jobs += [(kinds, language, name, str(root))
                 for name, _, _, root in build_datasets.packages("train", language, CACHE)]
    seen: set[str] = set()
    count = 0
    with gzip.open(out, "wt", encoding="utf-8") as fh, Pool(2) as pool:
        for rows in pool.imap_unordered(_package_pairs, jobs):
            for row in rows:
                code = _normal(row.pop("code"))
                codes, docs = held[row["language"]]
                if code in seen or code in codes or _normal(row["query"]) in docs:
                    continue
                seen.add(code)
                count += 1
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{count} {kinds} pairs from {len(jobs)} packages -> {out}")


def _read(path: Path) -> list[Any]:
    from codesearch.distill.data import Pair

    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [Pair(**json.loads(line)) for line in fh]


# Code written in a docstring: a backquoted span, or a word with ``_``, ``::``, ``->``, ``()``, an inner
# capital or an inner dot (``--mask-code``).
_CODE_WORD = re.compile(r"`[^`]+`|\S*(?:_|::|->|\(\)|[a-z][A-Z]|\w\.\w)\S*")


def train(out: Path, add: Path | None, only: Path | None, mask_code: float = 0.0, every_epoch: bool = False) -> None:
    import codesearch.distill.recipe as recipe
    import codesearch.distill.train as training
    from codesearch.cli import main

    tables: list[Any] = []
    if every_epoch:  # the dev split scores each epoch's table: keep them (epoch 0 is the base model)
        mrr = training.DevSet.mrr

        def kept(self: Any, table: Any) -> dict[str, float]:
            tables.append(table.astype("float16"))
            return mrr(self, table)

        training.DevSet.mrr = kept  # type: ignore[method-assign]

    if only is not None:
        recipe.load_pairs = lambda sources, work_dir=None, progress=None: _read(only)  # type: ignore[assignment]
    if add is not None:
        split = recipe.split_by_package

        def with_added(pairs: Any, dev_share: float = 0.1, seed: int = 0) -> Any:
            train_pairs, dev = split(pairs, dev_share, seed)
            dev_packages = {(p.language, p.package) for p in dev}
            return train_pairs + [p for p in _read(add) if (p.language, p.package) not in dev_packages], dev

        recipe.split_by_package = with_added  # type: ignore[assignment]
    if mask_code:
        split_pairs = recipe.split_by_package

        def masked(pairs: Any, dev_share: float = 0.1, seed: int = 0) -> Any:
            train_pairs, dev = split_pairs(pairs, dev_share, seed)
            rng = random.Random(7)
            for n, pair in enumerate(train_pairs):  # the dev split keeps its queries as written
                if _CODE_WORD.search(pair.query) and rng.random() < mask_code:
                    query = " ".join(_CODE_WORD.sub(" ", pair.query).split())
                    if len(query.split()) >= 3:
                        train_pairs[n] = dataclasses.replace(pair, query=query)
            return train_pairs, dev

        recipe.split_by_package = masked  # type: ignore[assignment]
    sys.argv = ["codesearch", "distill", str(out), "-d", str(CACHE / "train"), *RECIPE]
    try:
        main()
    except SystemExit as exit_:
        if exit_.code:
            raise
    if every_epoch:
        import shutil

        from safetensors.numpy import save_file

        for epoch, table in enumerate(tables[1:], start=1):
            model = out.parent / f"{out.name}-epoch{epoch}"
            shutil.copytree(out, model, dirs_exist_ok=True)
            save_file({"embeddings": table}, str(model / "model.safetensors"))
            print(f"wrote {model}")


def score(model: str, indexes: Path) -> None:
    from codesearch.bench import configs, queryset, semble

    model_dir = None if model == "shipped" else Path(model)
    repos_file = ROOT.parent / "shared/bench/semble-dev/repos.json"
    languages = {r["name"]: r["language"] for r in json.loads(repos_file.read_text())}
    out: dict[str, Any] = {}
    for name, bench, checkouts in (("semble-dev", ROOT.parent / "shared/bench/semble-dev", CACHE / "semble-repos"),
                                   ("large", ROOT / "benchmarks/large", CACHE / "large")):
        system = semble.make_systems(["hybrid"], indexes / name, model_dir)["hybrid"]
        repos = semble.load_repos(bench)
        queries = semble.load_queries(bench, repos)
        per: dict[str, list[float]] = defaultdict(list)
        per_category: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for repo in repos:
            search = system(repo, checkouts / repo.name / repo.root)
            for q in (q for q in queries if q.repo == repo.name):
                value = semble.ndcg_at_10(search(q.text), q.targets)
                per[repo.name].append(value)
                per_category[q.category][repo.name].append(value)
        mean = statistics.mean
        out[name] = round(mean(mean(v) for v in per.values()), 4)
        if name == "semble-dev":
            older = [r for r in per if languages.get(r) in OLDER or r == "trpc"]
            out["older 10"] = round(mean(mean(per[r]) for r in older), 4)
            for category, repos_of in per_category.items():
                out[f"older 10 {category}"] = round(mean(mean(repos_of[r]) for r in older if r in repos_of), 4)
    result = queryset.run(ROOT / "benchmarks/queries/plain-english.json", CACHE / "src",
                          configs.searchers(["hybrid"], indexes / "plain-english", model_dir))
    out["plain-english"] = {k: round(v, 4) for k, v in result.systems["hybrid"].items()
                            if k in ("recall@5", "mrr", "ndcg@10")}
    print(json.dumps(out, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("extract")
    p.add_argument("kinds", choices=("classes", "functions"))
    p.add_argument("out", type=Path)
    p = sub.add_parser("train")
    p.add_argument("out", type=Path)
    p.add_argument("--add", type=Path, help="pairs added to the shipped ones (training packages only)")
    p.add_argument("--only", type=Path, help="pairs instead of the shipped ones")
    p.add_argument("--every-epoch", action="store_true",
                   help="also write each epoch's model beside OUT (OUT-epoch1, ...), to score epochs apart")
    p.add_argument("--mask-code", type=float, default=0.0, metavar="P",
                   help="with probability P, a training query's code words are taken out (docs/TRAINING.md)")
    p = sub.add_parser("score")
    p.add_argument("model", help="a model directory, or 'shipped'")
    p.add_argument("indexes", type=Path, help="a folder for this model's indexes")
    args = parser.parse_args()
    if args.command == "extract":
        extract(args.kinds, args.out)
    elif args.command == "train":
        train(args.out, args.add, args.only, args.mask_code, args.every_epoch)
    else:
        score(args.model, args.indexes)


if __name__ == "__main__":
    main()
