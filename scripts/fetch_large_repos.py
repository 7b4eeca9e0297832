"""Fetch the repositories of our own semble-format sets and check their labels: ``benchmarks/large/``
(six large repositories in the first seven languages), ``benchmarks/unseen/`` (codebases in the later
languages: C, C++, Rust, C#, Lua, Kotlin, Swift, Haskell) and ``benchmarks/unseen-ii/`` (held-out codebases
in Python, TypeScript, Java, Go, PHP and Ruby).

Each repository comes from a package registry with its ordinary client (a PyPI sdist, an
npm tarball, Debian binary or source packages), through the helpers of ``build_datasets.py``.
None of them is in semble's benchmark or in our training and evaluation package lists (checked
below; a source package split by folder, as Mono's, counts when the folders overlap).
The downloads are unpacked under ``<out>/.registry`` and each repository's tree is copied
to ``<out>/<name>``, laid out as its source repository is, so that
``<out>/<name>/<benchmark_root>`` is the indexed folder. ``<out>/checkouts.json`` records
what was used (registry, version, licence). Nothing is committed.

    python scripts/fetch_large_repos.py                  # fetch (default out: ~/.cache/codesearch/large)
    python scripts/fetch_large_repos.py --check          # fetch if needed, then validate every label
    python scripts/fetch_large_repos.py --set unseen --check   # benchmarks/unseen, into ~/.cache/codesearch/unseen
    python scripts/fetch_large_repos.py --set unseen-ii --check   # benchmarks/unseen-ii, likewise
    codesearch bench --semble benchmarks/large --checkouts ~/.cache/codesearch/large -s hybrid
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from build_datasets import (  # noqa: E402
    DEBIAN,
    EVAL_NEW,
    JDK_MODULES,
    NPM,
    NPM_TS,
    PYPI,
    TRAIN_DEBIAN,
    TRAIN_JDK_MODULES,
    TRAIN_NEW,
    TRAIN_NPM,
    TRAIN_PYPI,
    _name,
    debian_packages,
    debian_sources,
    log,
    npm_packages,
    python_packages,
)

from codesearch.bench.semble import load_repos  # noqa: E402
from codesearch.cache import cache_root  # noqa: E402

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
CATEGORIES = ("architecture", "semantic", "symbol")
Fetched = tuple[str, str, str, Path]  # (package, version, licence, unpacked folder)


@dataclass(frozen=True, slots=True)
class Source:
    """Where one benchmark repository comes from and which part of the package is its tree.

    :param name: the repository's name in ``repos.json``.
    :param registry: ``pypi``, ``npm``, ``debian`` (a binary package) or ``debsrc`` (a source package).
    :param spec: the package spec (``name==version``, ``name@version``, Debian package name).
    :param language: the ``build_datasets`` language folder the package is unpacked under.
    :param tree: the folder inside the unpacked package that becomes ``<out>/<name>/<into>``.
    :param into: where that folder goes inside the checkout ('' = the checkout itself).
    :param zip_member: for a package that ships a ``src.zip``: the module folder to extract from it.
    """

    name: str
    registry: str
    spec: str
    language: str
    tree: str
    into: str = ""
    zip_member: str = ""


LARGE = [
    Source("ansible-core", "pypi", "ansible-core==2.17.5", "python", "ansible_core-2.17.5"),
    Source("openlayers", "npm", "ol@10.2.1", "javascript", "package"),
    Source("javafx-controls", "debian", "openjfx-source", "java", "usr/share/openjfx/lib/src.zip",
           zip_member="javafx.controls"),
    Source("nats-server", "debian", "golang-github-nats-io-nats-server-dev", "go",
           "usr/share/gocode/src/github.com/nats-io/nats-server"),
    Source("puppet", "debian", "puppet-agent", "ruby", "usr/lib/ruby/vendor_ruby", into="lib"),
    Source("phpmyadmin", "debian", "phpmyadmin", "php", "usr/share/phpmyadmin"),
]
UNSEEN = [
    Source("nginx", "debsrc", "nginx", "c", "src", into="src"),
    Source("spdlog", "debian", "libspdlog-dev", "cpp", "usr/include", into="include"),
    Source("tracing-subscriber", "debian", "librust-tracing-subscriber-dev", "rust",
           "usr/share/cargo/registry/tracing-subscriber-0.3.16/src", into="src"),
    Source("cecil", "debsrc", "mono", "csharp", "external/cecil"),
    Source("vis", "debsrc", "vis", "c", "lua", into="lua"),
    Source("keyboard-controller-android", "npm", "react-native-keyboard-controller@1.22.5", "javascript",
           "package/android", into="android"),
    Source("keyboard-controller-ios", "npm", "react-native-keyboard-controller@1.22.5", "javascript",
           "package/ios", into="ios"),
    Source("pandoc", "debsrc", "pandoc", "haskell", "src", into="src"),
    Source("hakyll", "debsrc", "haskell-hakyll", "haskell", "lib", into="lib"),
]
UNSEEN_II = [
    Source("scrapy", "pypi", "scrapy==2.19.0", "python", "scrapy-2.19.0/scrapy", into="scrapy"),
    Source("fabric", "npm", "fabric@7.4.0", "javascript", "package/src", into="src"),
    Source("commons-compress", "debsrc", "libcommons-compress-java", "java", "src/main/java", into="src/main/java"),
    Source("go-git", "debian", "golang-github-go-git-go-git-dev", "go",
           "usr/share/gocode/src/github.com/go-git/go-git"),
    Source("php-codesniffer", "debian", "php-codesniffer", "php", "usr/share/php/PHP/CodeSniffer/src", into="src"),
    Source("vagrant", "debian", "vagrant", "ruby", "usr/share/rubygems-integration/all/gems/vagrant-2.3.4"),
]
SETS = {"large": LARGE, "unseen": UNSEEN, "unseen-ii": UNSEEN_II}
# Kept out: semble's benchmark (development and held-out repositories) and near-copies.
SEMBLE = {"flask", "model2vec", "requests", "starlette", "aiohttp", "fastapi", "httpx", "pydantic", "click", "express",
          "axios", "redux", "chi", "gin", "cobra", "gson", "commons-lang", "jackson-databind", "guzzle", "monolog",
          "laravel", "laravel-framework", "sinatra", "rack", "rails", "railties", "trpc", "zod", "vitest"}
# The plain-English set's repositories (scripts/fetch_query_repos.py).
QUERY_SET = {"click", "commander", "java.net.http", "golang-github-gorilla-mux-dev", "ruby-rack", "php-monolog"}


def excluded_packages() -> dict[str, set[str]]:
    """Every package of our training and evaluation lists, semble's benchmark and the query set, with the
    folders of it that a list takes ('' = the whole package)."""
    specs = [*PYPI, *NPM, *NPM_TS, *JDK_MODULES, *TRAIN_PYPI, *TRAIN_NPM, *TRAIN_JDK_MODULES]
    specs += [p for packages in (*DEBIAN.values(), *TRAIN_DEBIAN.values()) for p in packages]
    specs += [p for kinds in (*EVAL_NEW.values(), *TRAIN_NEW.values()) for packages in kinds.values() for p in packages]
    excluded: dict[str, set[str]] = {name: {""} for name in SEMBLE | QUERY_SET}
    for spec in specs:
        folder = spec.split(":", 1)[1] if ":" in spec else ""
        excluded.setdefault(_name(spec), set()).add(folder.strip("/"))
    return excluded


def _in_a_list(source: Source, excluded: dict[str, set[str]]) -> bool:
    """Whether a list takes the source's package: a source package's folder overlapping one a list takes, or
    any of a binary package (its folders are not told apart)."""
    folder = source.tree if source.registry == "debsrc" else ""
    return _name(source.spec) in excluded and _overlaps(excluded[_name(source.spec)], folder)


def _overlaps(folders: set[str], tree: str) -> bool:
    """Whether a list's folders of a package and a benchmark's tree of it share files."""
    return any(not f or not tree or f == tree or tree.startswith(f + "/") or f.startswith(tree + "/") for f in folders)


def check_outside(sources: list[Source]) -> None:
    """No benchmark repository may be a package we train or evaluate on, or one of semble's."""
    excluded = excluded_packages()
    clashes = [s.spec for s in sources if _in_a_list(s, excluded) or s.name in excluded or s.zip_member in excluded]
    if clashes:
        raise SystemExit(f"in a training/evaluation list or semble's benchmark: {clashes}")


FETCH: dict[str, Callable[[Source, Path], list[Fetched]]] = {
    "pypi": lambda s, cache: python_packages([s.spec], cache),
    "npm": lambda s, cache: npm_packages([s.spec], cache),
    "debian": lambda s, cache: debian_packages(s.language, [s.spec], cache),
    "debsrc": lambda s, cache: debian_sources(s.language, [s.spec], cache),
}


def fetch(source: Source, out: Path) -> dict[str, str]:
    """Download and unpack one repository into ``out/<name>``; return its checkouts.json record."""
    fetched = FETCH[source.registry](source, out / ".registry")
    if not fetched:
        raise SystemExit(f"{source.name}: {source.registry} could not fetch {source.spec}")
    package, version, licence, unpacked = fetched[0]
    record = {"registry": source.registry, "package": package, "version": version, "licence": licence,
              "tree": source.tree + (f"!{source.zip_member}" if source.zip_member else "")}
    dest = out / source.name
    stamp = dest / ".checkout.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == record:
        log(f"{source.name}: already unpacked ({package} {version})")
        return record
    shutil.rmtree(dest, ignore_errors=True)
    target = dest / source.into
    tree = unpacked / source.tree
    if source.zip_member:
        with zipfile.ZipFile(tree) as zf:
            zf.extractall(target, [m for m in zf.namelist() if m.startswith(source.zip_member + "/")])
    else:
        shutil.copytree(tree, target, symlinks=True)
    stamp.write_text(json.dumps(record) + "\n")
    log(f"{source.name}: {package} {version} ({licence}) -> {dest}")
    return record


def check_labels(bench: Path, out: Path) -> list[str]:
    """Every problem with the annotations against the checkouts (an empty list: all labels hold).

    A file label must name a file inside the repository's benchmark root; a function label
    must have 1 <= start_line <= end_line <= the file's length and be exactly the span of a
    definition the indexer's parser finds there.
    """
    problems = []
    for repo in load_repos(bench):
        rows = json.loads((bench / "annotations" / f"{repo.name}.json").read_text())
        for row in rows:
            where = f"{repo.name}: {row['query']!r}"
            if row.get("category") not in CATEGORIES:
                problems.append(f"{where}: category {row.get('category')!r}")
            if not 1 <= len([t for t in row["relevant"] if isinstance(t, str)]) <= 3:
                problems.append(f"{where}: needs 1-3 relevant files")
            for target in [*row["relevant"], *row.get("secondary", [])]:
                problems += [f"{where}: {p}" for p in _check_target(out / repo.name, repo.root, target)]
    return problems


def _check_target(checkout: Path, root: str, target: str | dict[str, object]) -> list[str]:
    path = target if isinstance(target, str) else str(target["path"])
    if root and not path.startswith(root + "/"):
        return [f"{path} is outside the benchmark root {root}"]
    file = checkout / path
    if not file.is_file():
        return [f"{path} does not exist"]
    if isinstance(target, str):
        return []
    start, end = int(target["start_line"]), int(target["end_line"])  # type: ignore[call-overload]
    lines = len(file.read_bytes().splitlines())
    if not 1 <= start <= end <= lines:
        return [f"{path}:{start}-{end} is not inside its {lines} lines"]
    spans = _definition_spans(file, path)
    if (start, end) not in spans:
        near = min(spans, key=lambda s: abs(s[0] - start), default=None)
        return [f"{path}:{start}-{end} is no definition's span (nearest: {near})"]
    return []


def _definition_spans(file: Path, path: str) -> set[tuple[int, int]]:
    from indexer.languages import language_for_path
    from indexer.parse import extract_symbols
    from indexer.types import SourceFile

    spec = language_for_path(path)
    if spec is None:
        return set()
    symbols = extract_symbols(SourceFile(path, spec.name, file.read_bytes()))
    return {(s.start_line, s.end_line) for s in symbols}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=sorted(SETS), default="large", help="which set (benchmarks/<set>)")
    parser.add_argument("--out", type=Path, help="where the checkouts go (default: ~/.cache/codesearch/<set>)")
    parser.add_argument("--check", action="store_true", help="validate every label against the checkouts")
    args = parser.parse_args()
    sources, bench, out = SETS[args.set], BENCHMARKS / args.set, args.out or cache_root() / args.set
    check_outside(sources)
    records = {source.name: fetch(source, out) for source in sources}
    (out / "checkouts.json").write_text(json.dumps(records, indent=2) + "\n")
    if args.check:
        problems = check_labels(bench, out)
        for problem in problems:
            log(problem)
        count = sum(len(json.loads(p.read_text())) for p in (bench / "annotations").glob("*.json"))
        log(f"{count} queries checked: {len(problems)} problems")
        raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
