"""Fetch the six real repositories of the hand-written plain-English query set.

One evaluation package per language from ``scripts/build_datasets.py``'s lists (never
used for training): click (PyPI sdist), commander (npm), the JDK's java.net.http module,
gorilla/mux, rack and monolog (Debian). They land in the dataset cache
(``~/.cache/codesearch/src/<language>/<package>``), as ``build_datasets.py`` leaves them;
``benchmarks/queries/plain-english.json`` names each repository's indexed folder there.
Nothing is committed.

    python scripts/fetch_query_repos.py
    python benchmarks/plain_english.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_datasets import debian_packages, jdk_modules, npm_packages, python_packages  # noqa: E402

from codesearch.cache import cache_root  # noqa: E402


def main() -> None:
    cache = cache_root()
    fetched = [
        *python_packages(["click==8.1.7"], cache),
        *npm_packages(["commander@12.1.0"], cache),
        *jdk_modules(["java.net.http"], cache),
        *debian_packages("go", ["golang-github-gorilla-mux-dev"], cache),
        *debian_packages("ruby", ["ruby-rack"], cache),
        *debian_packages("php", ["php-monolog"], cache),
    ]
    for name, version, licence, path in fetched:
        print(f"{name} {version} ({licence}): {path}")  # noqa: T201


if __name__ == "__main__":
    main()
