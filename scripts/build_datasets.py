"""Build CodeSearchNet-style benchmark sets for all six languages from registry packages.

Everything is fetched with the ordinary package clients and unpacked into a cache
(default ``~/.cache/codesearch``; ``$CODESEARCH_CACHE`` overrides it); nothing is
committed. Each package becomes one ``repo`` in the records, so training and evaluation
can be split by package. Output: ``datasets/<language>.jsonl.gz`` and
``datasets/MANIFEST.json`` (package, version, licence, pairs).

    python scripts/build_datasets.py                 # all languages
    python scripts/build_datasets.py --language go   # one

Sources (licences as declared by each package; see MANIFEST.json):
- Python: PyPI sdists (``pip download --no-binary :all:``).
- JavaScript: npm tarballs (``npm pack``).
- Java: the JDK's ``lib/src.zip`` (GPL-2.0 with Classpath Exception).
- Go, Ruby, PHP: Debian packages (``apt-get download`` + ``dpkg-deb -x``): Go's
  standard library sources and golang-* modules, Ruby's standard library and ruby-*
  gems, php-* libraries.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codesearch.bench.datasets import build_from_repo, write_jsonl  # noqa: E402

PYPI = ["requests==2.32.3", "click==8.1.7", "flask==3.0.3", "jinja2==3.1.4", "werkzeug==3.0.4", "attrs==24.2.0",
        "rich==13.8.1", "httpx==0.27.2", "more-itertools==10.5.0", "python-dateutil==2.9.0.post0", "boltons==24.0.0",
        "sqlparse==0.5.1"]
NPM = ["lodash@4.17.21", "async@3.2.6", "moment@2.30.1", "underscore@1.13.7", "express@4.21.0", "commander@12.1.0",
       "yargs@17.7.2", "bluebird@3.7.2", "ramda@0.30.1", "validator@13.12.0", "date-fns@2.30.0"]
JDK_MODULES = ["java.base", "java.sql", "java.net.http", "java.logging", "java.prefs", "java.xml"]
DEBIAN = {
    "go": ["golang-1.19-src", "golang-github-spf13-cobra-dev", "golang-github-sirupsen-logrus-dev",
           "golang-github-gorilla-mux-dev", "golang-golang-x-text-dev", "golang-github-google-go-cmp-dev"],
    "ruby": ["libruby3.1", "ruby-activesupport", "ruby-rack", "ruby-thor", "ruby-i18n", "ruby-addressable",
             "ruby-concurrent", "ruby-tzinfo", "ruby-faraday"],
    "php": ["php-symfony-console", "php-symfony-http-foundation", "php-symfony-string", "php-guzzlehttp-psr7",
            "php-monolog", "php-twig", "php-league-commonmark", "php-parser", "php-doctrine-inflector",
            "php-symfony-yaml", "php-symfony-finder"],
}
JDK_SRC_GLOBS = ("/usr/lib/jvm/*/lib/src.zip", "/usr/lib/jvm/*/src.zip")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # noqa: T201


def run(*command: str, cwd: Path | None = None) -> str:
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout


def unpack(archive: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    if archive.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
    elif archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    return dest


def python_packages(cache: Path) -> list[tuple[str, str, str, Path]]:
    out = []
    for spec in PYPI:
        name, version = spec.split("==")
        dest = cache / "src" / "python" / name
        if not dest.exists():
            tmp = cache / "downloads"
            tmp.mkdir(parents=True, exist_ok=True)
            run(sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-q", "-d", str(tmp), spec)
            archive = next(p for p in tmp.iterdir() if p.name.lower().replace("_", "-").startswith(f"{name}-{version}"))
            unpack(archive, dest)
        out.append((name, version, _pkg_info_licence(dest), dest))
    return out


def _pkg_info_licence(root: Path) -> str:
    for info in root.rglob("PKG-INFO"):
        text = info.read_text(errors="replace")
        for key in ("License-Expression", "License"):
            match = re.search(rf"^{key}: (.+)$", text, re.M)
            if match and match.group(1).strip() not in ("UNKNOWN", ""):
                return match.group(1).strip()[:60]
        match = re.search(r"^Classifier: License :: (?:OSI Approved :: )?(.+)$", text, re.M)
        if match:
            return match.group(1).strip()
    return "see package"


def npm_packages(cache: Path) -> list[tuple[str, str, str, Path]]:
    out = []
    for spec in NPM:
        name, version = spec.rsplit("@", 1)
        dest = cache / "src" / "javascript" / name
        if not dest.exists():
            tmp = cache / "downloads"
            tmp.mkdir(parents=True, exist_ok=True)
            tarball = run("npm", "pack", spec, "--silent", cwd=tmp).strip().splitlines()[-1]
            unpack(tmp / tarball, dest)
        manifest = json.loads((dest / "package" / "package.json").read_text())
        out.append((name, version, str(manifest.get("license", "see package")), dest))
    return out


def jdk_modules(cache: Path) -> list[tuple[str, str, str, Path]]:
    import glob

    src = next((Path(p) for g in JDK_SRC_GLOBS for p in sorted(glob.glob(g), reverse=True)
                if Path(p).is_file() and zipfile.is_zipfile(p)), None)
    if src is None:
        raise SystemExit("no JDK src.zip found; install one with: apt-get install -y openjdk-17-source")
    out = []
    with zipfile.ZipFile(src) as zf:
        for module in JDK_MODULES:
            dest = cache / "src" / "java" / module
            if not dest.exists():
                members = [m for m in zf.namelist() if m.startswith(module + "/") and m.endswith(".java")]
                zf.extractall(cache / "src" / "java", members)
            out.append((module, src.parent.parent.name, "GPL-2.0-with-classpath-exception", dest))
    return out


def debian_packages(language: str, cache: Path) -> list[tuple[str, str, str, Path]]:
    out = []
    for package in DEBIAN[language]:
        dest = cache / "src" / language / package
        if not dest.exists():
            tmp = cache / "downloads"
            tmp.mkdir(parents=True, exist_ok=True)
            try:
                run("apt-get", "download", "-q", package, cwd=tmp)
            except subprocess.CalledProcessError as exc:
                log(f"  skipping {package}: apt-get download failed ({exc.stderr.strip()[:120]})")
                continue
            deb = max(tmp.glob(f"{package}_*.deb"), key=os.path.getmtime)
            dest.mkdir(parents=True)
            run("dpkg-deb", "-x", str(deb), str(dest))
            (dest / ".version").write_text(run("dpkg-deb", "-f", str(deb), "Version").strip())
        if not (dest / ".version").exists():  # unpacked by an older run: ask apt what it serves
            policy = run("apt-cache", "policy", package)
            match = re.search(r"Candidate: (\S+)", policy)
            (dest / ".version").write_text(match.group(1) if match else "unknown")
        version = (dest / ".version").read_text().strip()
        out.append((package, version, _debian_licence(dest, package), dest))
    return out


def _debian_licence(root: Path, package: str) -> str:
    copyright_file = root / "usr" / "share" / "doc" / package / "copyright"
    if copyright_file.exists():
        match = re.search(r"^License: (.+)$", copyright_file.read_text(errors="replace"), re.M)
        if match:
            return match.group(1).strip()
    return "see /usr/share/doc/<package>/copyright"


SOURCES = {
    "python": python_packages,
    "javascript": npm_packages,
    "java": jdk_modules,
    "go": lambda cache: debian_packages("go", cache),
    "ruby": lambda cache: debian_packages("ruby", cache),
    "php": lambda cache: debian_packages("php", cache),
}


def main() -> None:
    """Fetch, unpack and convert every source package; write datasets and a manifest."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--language", action="append", choices=sorted(SOURCES), help="default: all six")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("CODESEARCH_CACHE", Path.home() / ".cache" / "codesearch")))
    args = parser.parse_args()
    out_dir = args.cache / "datasets"
    manifest_path = out_dir / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    for language in args.language or list(SOURCES):
        log(f"{language}: fetching ...")
        examples, rows = [], []
        for name, version, licence, root in SOURCES[language](args.cache):
            pairs = [e for e in build_from_repo(root, repo=name) if e.language == language]
            examples.extend(pairs)
            rows.append({"package": name, "version": version, "licence": licence, "pairs": len(pairs)})
            log(f"  {name} {version} ({licence}): {len(pairs)} pairs")
        count = write_jsonl(examples, out_dir / f"{language}.jsonl.gz")
        manifest[language] = {"pairs": count, "packages": rows}
        log(f"{language}: {count} pairs -> {out_dir / f'{language}.jsonl.gz'}")
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.rmtree(args.cache / "downloads", ignore_errors=True)


if __name__ == "__main__":
    main()
