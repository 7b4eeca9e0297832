"""How large an index is on disk, part by part, against the source it covers.

    python benchmarks/bench_index_size.py [REPO ...] [--index-dir DIR] [--out benchmarks/results-index-size.json]

Each repository (default: puppet and javafx-controls as ``benchmarks/large`` fetches them into
``~/.cache/codesearch/large/``) is indexed into a temporary directory (or ``--index-dir``
names an existing index of the one repository given), and the bytes of every part are
printed with their ratio to the source bytes the index covers (the sum of ``files.size``):

- in ``index.db``, each table and index as SQLite's ``dbstat`` counts its pages, and the
  stored code's compressed bytes (``chunks.code_z``) with the text they hold;
- the vector file and the lexical file of the current generation;
- the total (the database file with its WAL, both generation files).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

from codesearch.pipeline import build_index
from codesearch.store.codec import unpack_code
from codesearch.store.reader import IndexReader

CACHE = Path(os.environ.get("CODESEARCH_CACHE", Path.home() / ".cache" / "codesearch"))
DEFAULT_REPOS = [CACHE / "large" / "puppet", CACHE / "large" / "javafx-controls"]


def breakdown(index_dir: Path) -> dict[str, Any]:
    """Bytes of each part of the index in ``index_dir`` and their ratio to the source bytes."""
    with IndexReader(index_dir) as reader:
        disk = reader.disk_usage()
        chunks = reader.meta.count
    source = disk["source_bytes"]
    conn = sqlite3.connect(f"file:{index_dir / 'index.db'}?mode=ro", uri=True)
    try:
        tables = dict(conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall())
        blobs = conn.execute("SELECT code_z FROM chunks").fetchall()
    finally:
        conn.close()
    packed = sum(len(b[0]) for b in blobs)
    text = sum(len(unpack_code(b[0]).encode()) for b in blobs)

    def ratio(n: int) -> float:
        return round(n / source, 3)

    return {
        "source_bytes": source,
        "chunks": chunks,
        "sqlite": {name: {"bytes": n, "ratio": ratio(n)} for name, n in tables.items() if n >= 8192},
        "stored_code": {"compressed_bytes": packed, "text_bytes": text, "ratio": ratio(packed),
                        "compression": round(text / max(packed, 1), 2)},
        "database": {"bytes": disk["database_bytes"], "ratio": ratio(disk["database_bytes"])},
        "vectors": {"bytes": disk["vector_bytes"], "ratio": ratio(disk["vector_bytes"]),
                    "bytes_per_chunk": round(disk["vector_bytes"] / max(chunks, 1), 1)},
        "lexical": {"bytes": disk["lexical_bytes"], "ratio": ratio(disk["lexical_bytes"])},
        "total": {"bytes": disk["index_bytes"], "ratio": ratio(disk["index_bytes"])},
    }


def show(name: str, parts: dict[str, Any]) -> None:
    """Print one repository's breakdown."""
    print(f"{name}: {parts['source_bytes']:,} source bytes, {parts['chunks']:,} chunks")
    for table, part in parts["sqlite"].items():
        print(f"  sqlite {table:<28} {part['bytes']:>12,}  {part['ratio']:.3f}x")
    code = parts["stored_code"]
    print(f"  (stored code: {code['compressed_bytes']:,} bytes, {code['ratio']:.3f}x, "
          f"{code['compression']}x smaller than its text)")
    for part in ("database", "vectors", "lexical", "total"):
        print(f"  {part:<35} {parts[part]['bytes']:>12,}  {parts[part]['ratio']:.3f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="*", type=Path, default=DEFAULT_REPOS)
    parser.add_argument("--index-dir", type=Path, help="an existing index of the one repository given")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.index_dir and len(args.repos) != 1:
        parser.error("--index-dir needs exactly one repository")
    results: dict[str, Any] = {}
    for repo in args.repos:
        with tempfile.TemporaryDirectory(prefix="codesearch-size-") as tmp:
            index_dir = args.index_dir or Path(tmp) / "index"
            if not args.index_dir:
                build_index(repo, index_dir)
            results[repo.name] = breakdown(index_dir)
        show(repo.name, results[repo.name])
    if args.out:
        args.out.write_text(json.dumps({"command": " ".join(["python", *sys.argv]), "repos": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
