"""Fetch the six real repositories of the hand-written plain-English query set.

One evaluation package per language from ``scripts/build_datasets.py``'s lists (never
used for training): click (PyPI sdist), commander (npm), the JDK's java.net.http module,
gorilla/mux, rack and monolog (Debian). They land in the dataset cache
(``~/.cache/codesearch/src/<language>/<package>``), as ``build_datasets.py`` leaves them;
``benchmarks/queries/plain-english.json`` names each repository's indexed folder there.
Nothing is committed.

    python scripts/fetch_query_repos.py
    python benchmarks/plain_english.py

``--set how-it-works`` fetches the four large codebases of ``benchmarks/queries/how-it-works.json`` instead (48
"how does X work" questions a helper wrote blind, with function-level answers): SQLAlchemy 2.0.36 (PyPI sdist),
eslint 9.15.0 (npm), gRPC-Go and seven Symfony 5.4 components as one tree (Debian), under
``~/.cache/codesearch/how-it-works`` (apart from the training sources: all four are in the training package
lists, so the set measures the ranking, not the model)::

    python scripts/fetch_query_repos.py --set how-it-works
    codesearch bench --queries benchmarks/queries/how-it-works.json \
        --sources ~/.cache/codesearch/how-it-works/src -s hybrid
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_datasets import debian_packages, jdk_modules, npm_packages, python_packages  # noqa: E402

from codesearch.cache import cache_root  # noqa: E402


SYMFONY = ["php-symfony-http-kernel", "php-symfony-http-foundation", "php-symfony-routing",
           "php-symfony-dependency-injection", "php-symfony-event-dispatcher", "php-symfony-console",
           "php-symfony-config"]


def how_it_works(cache: Path) -> list[tuple[str, str, str, Path]]:
    """The how-it-works set's codebases under ``cache`` (Symfony's components copied into one tree,
    ``php/symfony/Component``, as the set's paths name them)."""
    fetched = [*python_packages(["sqlalchemy==2.0.36"], cache), *npm_packages(["eslint@9.15.0"], cache),
               *debian_packages("go", ["golang-google-grpc-dev"], cache)]
    parts = debian_packages("php", SYMFONY, cache)
    tree = cache / "src" / "php" / "symfony" / "Component"
    for _, _, _, unpacked in parts:
        for component in (unpacked / "usr" / "share" / "php" / "Symfony" / "Component").iterdir():
            if not (tree / component.name).exists():
                shutil.copytree(component, tree / component.name, symlinks=True)
    versions = sorted({version for _, version, _, _ in parts})
    return [*fetched, ("symfony", ",".join(versions), "MIT", tree.parent)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("plain-english", "how-it-works"), default="plain-english",
                        help="which query set's repositories")
    args = parser.parse_args()
    cache = cache_root()
    if args.set == "how-it-works":
        for name, version, licence, path in how_it_works(cache / "how-it-works"):
            print(f"{name} {version} ({licence}): {path}")  # noqa: T201
        return
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
