"""Training pairs: a documentation query and the text the index embeds for its function."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from codesearch.bench.corpus import document
from codesearch.bench.datasets import DatasetError, Example, dataset_files, read_jsonl
from indexer.chunk import embedding_text
from indexer.parse import PARSER_VERSION

Progress = Callable[[str, int, int], None]

# Bumped when ``pair_for`` builds a pair's text differently (2: a wrapper counts only when the parser
# sees a definition in it); with the parser's version it keys the cached pairs.
PAIRS_VERSION = 2


@dataclass(frozen=True, slots=True)
class Pair:
    """One training example: the query (a docstring's first paragraph) and the document."""

    query: str
    document: str
    language: str
    package: str


def pair_for(example: Example) -> Pair | None:
    """The pair for an example, with the document text built as the benchmark builds it.

    :return: None when the parser finds no function in the example's code.
    """
    _, chunk = document(example)
    if chunk is None or not example.query.strip():
        return None
    return Pair(example.query, embedding_text(chunk, with_doc=False), example.language, example.repo)


def load_pairs(sources: Sequence[Path], cache_dir: Path | None = None, progress: Progress | None = None) -> list[Pair]:
    """All pairs of the datasets in ``sources`` (files or folders of .jsonl[.gz]).

    Building a document re-parses its code, so the result is cached in ``cache_dir``
    under a key made of the source files' names, sizes and modification times, and of the
    versions of the parser and of the pairs' text: pairs made by an older chunker are made again.

    :raises DatasetError: for a missing source or a folder without dataset files.
    """
    files = sorted(dataset_files(sources))
    key = hashlib.sha1(json.dumps([PARSER_VERSION, PAIRS_VERSION]
                                  + [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files]).encode())
    cached = cache_dir / f"pairs-{key.hexdigest()[:16]}.gz" if cache_dir else None  # not *.jsonl*: never read as a dataset
    if cached and cached.exists():
        with gzip.open(cached, "rt", encoding="utf-8") as fh:
            return [Pair(**json.loads(line)) for line in fh]
    examples = list(read_jsonl(files))
    pairs = []
    for done, example in enumerate(examples, 1):
        pair = pair_for(example)
        if pair is not None:
            pairs.append(pair)
        if progress and (done % 500 == 0 or done == len(examples)):
            progress("pairs", done, len(examples))
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        with gzip.open(tmp, "wt", encoding="utf-8") as fh:
            for pair in pairs:
                fh.write(json.dumps(asdict(pair), ensure_ascii=False) + "\n")
        tmp.replace(cached)
    return pairs


def split_by_package(pairs: Sequence[Pair], dev_share: float = 0.1, seed: int = 0) -> tuple[list[Pair], list[Pair]]:
    """Split into (train, dev) so that no package has pairs on both sides.

    Per language, packages are taken in a seeded random order into the dev side while
    they fit within ``dev_share`` of the language's pairs; a language whose packages are
    all too large keeps everything for training.
    """
    by_package: dict[tuple[str, str], list[Pair]] = defaultdict(list)
    for pair in pairs:
        by_package[(pair.language, pair.package)].append(pair)
    totals: dict[str, int] = defaultdict(int)
    for (language, _), group in by_package.items():
        totals[language] += len(group)
    keys = sorted(by_package)
    random.Random(seed).shuffle(keys)
    dev_count: dict[str, int] = defaultdict(int)
    train, dev = [], []
    for language, package in keys:
        group = by_package[(language, package)]
        if dev_count[language] + len(group) <= dev_share * totals[language]:
            dev_count[language] += len(group)
            dev.extend(group)
        else:
            train.extend(group)
    return train, dev


def ensure_corpus(sources: Sequence[Path]) -> None:
    """:raises DatasetError: naming the build command when a training corpus is missing."""
    for source in sources:
        if not Path(source).exists():
            raise DatasetError(f"no training corpus in {source}; build it with "
                               "`python scripts/build_datasets.py --split train`, or pass --dataset")
