"""How well each grammar and query file cover real code: files the parser fails, lines left outside definitions.

    python benchmarks/bench_parse_health.py [--files 300] [--languages kotlin,c] [-o benchmarks/results-parse-health.json]

For every registry language, a sample of files (seed 0) from the registry sources in the cache
(``~/.cache/codesearch/src``: PyPI sdists, npm packages, the JDK, Debian source and ``-dev``
packages, as ``scripts/fetch_query_repos.py`` and ``scripts/build_datasets.py`` fetch them) is
parsed as the indexer parses it (``indexer.parse``, with the registry's rewrites) and chunked:

- ``errors``: share of files whose syntax tree has an error node (tree-sitter recovers; most are local);
- ``whole_file``: share whose root is an error, where no definition survives;
- ``outside``: share of lines in ``code`` chunks (between definitions) rather than in a definition;
- ``definitions``, ``documented``, ``lines_outside``, ``lines_inside``: the counts behind it (with
  ``--files 0``, over every file: a parser change's gain, run once per tree with ``PYTHONPATH``);
- the files with most lines outside definitions (data tables and scripts are expected there; a
  class or a module's functions are not).

A high ``outside`` or ``whole_file`` is where to look for a query gap (Kotlin 2.1's `when`
guards failed whole files; Java's annotation types and Lua's tables of functions were code).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from codesearch.cache import cache_root
from indexer.chunk import chunks_for_file
from indexer.languages import language_for_path, parser
from indexer.parse import parseable, rewritten
from indexer.types import SourceFile, SymbolKind, Unindexable

MAX_BYTES = 300_000


def sources(root: Path) -> dict[str, list[Path]]:
    """Registry language -> the files of that language under ``root`` (by extension)."""
    found: dict[str, list[Path]] = defaultdict(list)
    for folder, _, names in os.walk(root):
        for name in names:
            if (spec := language_for_path(name)) is not None:
                found[spec.name].append(Path(folder) / name)
    return found


def health(language: str, files: list[Path]) -> dict[str, Any]:
    """Parse errors and lines outside definitions over ``files`` of one language."""
    errors = whole = parsed = outside = inside = definitions = documented = 0
    worst: list[tuple[int, int, str]] = []
    for path in files:
        source = path.read_bytes()
        if len(source) > MAX_BYTES:
            continue
        root = parser(language).parse(rewritten(parseable(source), language)).root_node
        try:
            chunks = chunks_for_file(SourceFile(str(path), language, source))
        except Unindexable:
            continue
        parsed += 1
        errors += root.has_error
        whole += root.type == "ERROR" or (root.child_count == 1 and root.children[0].type == "ERROR")
        code = sum(c.end_line - c.start_line + 1 for c in chunks if c.kind is SymbolKind.CODE)
        defined = sum(c.end_line - c.start_line + 1 for c in chunks if c.kind is not SymbolKind.CODE)
        outside, inside = outside + code, inside + defined
        definitions += sum(c.kind is not SymbolKind.CODE for c in chunks)
        documented += sum(c.kind is not SymbolKind.CODE and bool(c.doc) for c in chunks)
        worst.append((code, defined, str(path)))
    worst.sort(reverse=True)
    return {"files": parsed, "errors": round(errors / max(parsed, 1), 3), "whole_file": round(whole / max(parsed, 1), 3),
            "outside": round(outside / max(outside + inside, 1), 3),
            "definitions": definitions, "documented": documented, "lines_outside": outside, "lines_inside": inside,
            "most_outside": [{"path": p, "outside": c, "inside": d} for c, d, p in worst[:5]]}


def main() -> None:
    parser_ = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser_.add_argument("--files", type=int, default=300, help="files sampled per language (0: every file)")
    parser_.add_argument("--languages", help="comma-separated registry names (default: all)")
    parser_.add_argument("--root", type=Path, default=cache_root() / "src")
    parser_.add_argument("-o", "--output", type=Path)
    args = parser_.parse_args()
    if not args.root.is_dir():
        sys.exit(f"no registry sources at {args.root}: run scripts/fetch_query_repos.py and scripts/build_datasets.py")
    wanted = set(args.languages.split(",")) if args.languages else None
    results: dict[str, Any] = {"root": str(args.root), "files_per_language": args.files, "languages": {}}
    for language, files in sorted(sources(args.root).items()):
        if wanted is not None and language not in wanted:
            continue
        files.sort()
        sample = random.Random(0).sample(files, min(args.files, len(files))) if args.files else files
        row = results["languages"][language] = health(language, sample)
        print(f"{language:11s} files {row['files']:4d}  errors {row['errors']:.0%}  whole file {row['whole_file']:.0%}"
              f"  outside definitions {row['outside']:.0%}", file=sys.stderr)
    if args.output:
        args.output.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
