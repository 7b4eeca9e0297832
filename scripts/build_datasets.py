"""Build CodeSearchNet-style sets for all six languages from registry packages.

Everything is fetched with the ordinary package clients and unpacked into a cache
(default ``~/.cache/codesearch``; ``$CODESEARCH_CACHE`` overrides it); nothing is
committed. Each package becomes one ``repo`` in the records. Two disjoint package lists:

- ``--split eval`` (default): the benchmark sets, ``datasets/<language>.jsonl.gz``.
- ``--split train``: the corpus ``codesearch distill`` trains on, ``train/<language>.jsonl.gz``.
  No package appears in both lists (checked), and a training pair whose code or whose
  docstring also occurs in the evaluation set of its language is dropped (vendored
  copies), so nothing evaluated is trained on.

Each folder gets a ``MANIFEST.json`` (package, version, licence, pairs).

    python scripts/build_datasets.py                          # evaluation sets, all languages
    python scripts/build_datasets.py --split train            # training corpus (run eval first)
    python scripts/build_datasets.py --language go            # one language

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
# npm packages that ship their TypeScript sources (not only compiled .js and .d.ts).
NPM_TS = ["immer@11.2.10", "zod@4.6.7", "mobx@7.1.3", "@tanstack/query-core@5.108.0"]
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
# The training corpus: other packages of the same registries. Unpinned PyPI/npm specs take
# the registry's newest; the version fetched is recorded in the manifest.
TRAIN_PYPI = ["django", "sqlalchemy", "networkx", "sympy", "pandas", "twisted", "tornado", "docutils", "sphinx",
              "pygments", "babel", "aiohttp", "paramiko", "celery", "kombu", "marshmallow", "nltk", "scikit-learn",
              "pytest", "hypothesis", "mypy", "numpy", "matplotlib", "pyyaml", "boto3", "botocore", "fsspec",
              "dask", "xarray", "pyparsing", "chardet", "certifi", "psutil", "simplejson", "toolz", "cachetools",
              "tqdm", "openpyxl", "pillow", "astroid", "pylint", "coverage", "ipython", "traitlets", "jsonschema"]
TRAIN_NPM = ["eslint", "mocha", "chai", "jquery", "handlebars", "marked", "immutable", "rxjs", "webpack", "ajv", "acorn",
             "esprima", "sinon", "mathjs", "jsdom", "cheerio", "superagent", "q", "axios", "luxon", "dayjs", "core-js",
             "highlight.js", "ws", "socket.io", "graphql", "yup", "joi", "chart.js", "leaflet", "uglify-js", "terser",
             "node-forge", "bn.js", "big.js", "decimal.js", "numeral", "moment-timezone", "express-validator",
             "body-parser", "qs", "semver", "minimatch", "glob", "uuid", "knex", "sequelize", "mongoose", "pg",
             "redis", "ioredis", "winston", "pino", "nodemailer", "passport", "jsonwebtoken", "xml2js", "cron",
             "d3-array", "d3-scale", "d3-shape", "three", "pdfkit", "esquery", "escodegen", "estraverse", "babel-core"]
TRAIN_JDK_MODULES = ["java.desktop", "java.management", "java.naming", "java.rmi", "java.compiler", "java.scripting",
                     "java.security.jgss", "java.security.sasl", "java.smartcardio", "java.sql.rowset",
                     "java.xml.crypto", "java.instrument", "java.datatransfer", "java.transaction.xa",
                     "jdk.compiler", "jdk.javadoc", "jdk.jshell", "jdk.jfr", "jdk.httpserver", "jdk.jdi",
                     "jdk.jlink", "jdk.zipfs", "jdk.management", "jdk.jconsole", "jdk.jartool", "jdk.xml.dom",
                     "jdk.internal.le", "jdk.internal.opt", "jdk.jpackage", "jdk.jstatd", "jdk.net", "jdk.sctp",
                     "jdk.security.auth", "jdk.security.jgss", "jdk.naming.dns", "jdk.hotspot.agent", "jdk.jcmd",
                     "jdk.charsets", "jdk.crypto.cryptoki", "jdk.dynalink", "jdk.editpad", "jdk.jsobject"]
TRAIN_DEBIAN = {
    "python": ["libpython3.11-stdlib"],
    "go": ["golang-github-stretchr-testify-dev", "golang-github-prometheus-client-golang-dev",
           "golang-github-prometheus-common-dev", "golang-github-gogo-protobuf-dev", "golang-google-grpc-dev",
           "golang-github-pkg-errors-dev", "golang-github-spf13-pflag-dev", "golang-github-spf13-viper-dev",
           "golang-github-spf13-afero-dev", "golang-github-spf13-cast-dev", "golang-gopkg-yaml.v3-dev",
           "golang-github-miekg-dns-dev", "golang-github-gorilla-websocket-dev", "golang-github-go-sql-driver-mysql-dev",
           "golang-github-lib-pq-dev", "golang-github-mattn-go-sqlite3-dev", "golang-github-json-iterator-go-dev",
           "golang-github-klauspost-compress-dev", "golang-github-pelletier-go-toml-dev",
           "golang-github-burntsushi-toml-dev", "golang-github-urfave-cli-dev", "golang-github-gin-gonic-gin-dev",
           "golang-github-go-kit-kit-dev", "golang-github-davecgh-go-spew-dev", "golang-github-google-uuid-dev",
           "golang-github-golang-snappy-dev", "golang-github-syndtr-goleveldb-dev", "golang-github-hashicorp-raft-dev",
           "golang-github-hashicorp-memberlist-dev", "golang-github-hashicorp-hcl-dev", "golang-github-minio-minio-go-dev",
           "golang-github-boltdb-bolt-dev", "golang-go.etcd-bbolt-dev", "golang-github-coreos-go-systemd-dev",
           "golang-github-fsnotify-fsnotify-dev", "golang-github-gobwas-glob-dev", "golang-github-labstack-echo-dev",
           "golang-github-go-redis-redis-dev", "golang-github-nats-io-go-nats-dev", "golang-github-olekukonko-tablewriter-dev",
           "golang-github-blevesearch-bleve-dev", "golang-github-dgraph-io-badger-dev", "golang-github-jackc-pgx-v4-dev",
           "golang-github-vmihailenco-msgpack-v5-dev", "golang-github-ulikunitz-xz-dev", "golang-github-yuin-goldmark-dev",
           "golang-github-alecthomas-chroma-dev", "golang-github-google-go-github-dev", "golang-github-xanzy-go-gitlab-dev"],
    "ruby": ["ruby-activerecord", "ruby-actionpack", "ruby-actionview", "ruby-activemodel", "ruby-activejob",
             "ruby-actionmailer", "ruby-railties", "ruby-sequel", "ruby-nokogiri", "ruby-sinatra", "ruby-rouge",
             "ruby-kramdown", "ruby-redcarpet", "ruby-mime-types", "ruby-rspec-core", "ruby-rspec-expectations",
             "ruby-rspec-mocks", "ruby-minitest", "rake", "ruby-httpclient", "ruby-mustermann", "ruby-tilt",
             "ruby-builder", "ruby-mail", "ruby-net-ssh", "ruby-excon", "ruby-rest-client", "ruby-hashie", "rubocop",
             "yard", "ruby-haml", "ruby-liquid", "ruby-mocha", "ruby-webmock", "ruby-vcr", "puma", "ruby-fog-core",
             "ruby-rubygems", "bundler", "ruby-pry", "ruby-coderay", "ruby-thin", "ruby-eventmachine", "ruby-rack-test",
             "ruby-oj", "ruby-dalli", "ruby-redis", "ruby-sidekiq", "ruby-gettext", "ruby-sass", "ruby-prawn",
             "ruby-asciidoctor", "ruby-commander", "ruby-highline", "ruby-net-ldap", "ruby-jwt", "ruby-oauth2"],
    "php": ["php-symfony-dependency-injection", "php-symfony-http-kernel", "php-symfony-routing",
            "php-symfony-validator", "php-symfony-form", "php-symfony-security-core", "php-symfony-serializer",
            "php-symfony-event-dispatcher", "php-symfony-process", "php-symfony-filesystem", "php-symfony-cache",
            "php-symfony-config", "php-symfony-intl", "php-symfony-mime", "php-symfony-mailer", "php-symfony-var-dumper",
            "php-symfony-property-access", "php-symfony-options-resolver", "php-symfony-translation",
            "php-symfony-dom-crawler", "php-symfony-css-selector", "php-symfony-expression-language",
            "php-doctrine-dbal", "php-doctrine-orm", "php-doctrine-collections", "php-doctrine-annotations",
            "php-doctrine-common", "php-doctrine-lexer", "php-doctrine-persistence", "php-doctrine-instantiator",
            "php-doctrine-event-manager", "php-doctrine-cache", "php-league-flysystem", "php-guzzlehttp-guzzle",
            "php-guzzlehttp-promises", "php-nesbot-carbon", "php-ramsey-uuid", "php-phpseclib3", "php-phpseclib",
            "php-sabre-dav", "php-sabre-vobject", "php-sabre-xml", "phpunit", "php-nikic-fast-route", "php-psr-log",
            "php-webmozart-assert", "php-composer-semver", "php-mockery", "php-phpdocumentor-reflection-docblock",
            "php-tcpdf", "php-getid3", "smarty3", "php-horde-util", "php-horde-mime", "php-horde-imap-client",
            "php-horde-date", "php-horde-icalendar", "php-laminas-code", "php-laminas-validator", "php-amqplib",
            "php-predis", "php-pear", "php-markdown", "php-htmlpurifier", "php-phpmailer", "php-swiftmailer",
            "php-fig-link-util", "php-zeta-console-tools", "composer"],
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
    elif archive.suffix in (".zip", ".whl"):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    return dest


def python_packages(specs: list[str], cache: Path, wheels: bool = False) -> list[tuple[str, str, str, Path]]:
    """Sdists (the evaluation set), or wheels (training: no build step, and sources all the same)."""
    out = []
    for spec in specs:
        name, _, pinned = spec.partition("==")
        dest = cache / "src" / "python" / name
        if not dest.exists():
            tmp = cache / "downloads" / "pypi" / name
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            try:
                kind = "--only-binary" if wheels else "--no-binary"
                run(sys.executable, "-m", "pip", "download", kind, ":all:", "--no-deps", "-q", "-d", str(tmp), spec)
            except subprocess.CalledProcessError as exc:
                log(f"  skipping {spec}: pip download failed ({exc.stderr.strip()[-120:]})")
                continue
            archive = next(tmp.iterdir())
            unpack(archive, dest)
            if wheels:  # <name>-<version>-<tags>.whl
                (dest / ".version").write_text(archive.name.split("-")[1])
        stamp = dest / ".version"
        version = pinned or (stamp.read_text().strip() if stamp.exists() else _sdist_version(dest, name))
        out.append((name, version, _pkg_info_licence(dest), dest))
    return out


def _sdist_version(root: Path, name: str) -> str:
    for child in root.iterdir():  # an sdist unpacks to <name>-<version>/
        if child.is_dir() and "-" in child.name:
            return child.name.rsplit("-", 1)[1]
    return "unknown"


def _pkg_info_licence(root: Path) -> str:
    for info in [*root.rglob("PKG-INFO"), *root.rglob("*.dist-info/METADATA")]:  # sdist, wheel
        text = info.read_text(errors="replace")
        for key in ("License-Expression", "License"):
            match = re.search(rf"^{key}: (.+)$", text, re.M)
            if match and match.group(1).strip() not in ("UNKNOWN", ""):
                return match.group(1).strip()[:60]
        match = re.search(r"^Classifier: License :: (?:OSI Approved :: )?(.+)$", text, re.M)
        if match:
            return match.group(1).strip()
    return "see package"


def npm_packages(specs: list[str], cache: Path) -> list[tuple[str, str, str, Path]]:
    out = []
    for spec in specs:
        name = spec.rsplit("@", 1)[0] if "@" in spec[1:] else spec
        dest = cache / "src" / "javascript" / name
        if not dest.exists():
            tmp = cache / "downloads"
            tmp.mkdir(parents=True, exist_ok=True)
            try:
                tarball = run("npm", "pack", spec, "--silent", cwd=tmp).strip().splitlines()[-1]
            except subprocess.CalledProcessError as exc:
                log(f"  skipping {spec}: npm pack failed ({exc.stderr.strip()[-120:]})")
                continue
            unpack(tmp / tarball, dest)
        manifest = json.loads((dest / "package" / "package.json").read_text())
        licence = manifest.get("license", "see package")
        out.append((name, str(manifest.get("version", "unknown")), str(licence)[:60], dest))
    return out


def jdk_modules(modules: list[str], cache: Path) -> list[tuple[str, str, str, Path]]:
    import glob

    src = next((Path(p) for g in JDK_SRC_GLOBS for p in sorted(glob.glob(g), reverse=True)
                if Path(p).is_file() and zipfile.is_zipfile(p)), None)
    if src is None:
        raise SystemExit("no JDK src.zip found; install one with: apt-get install -y openjdk-17-source")
    out = []
    with zipfile.ZipFile(src) as zf:
        names = zf.namelist()
        for module in modules:
            dest = cache / "src" / "java" / module
            if not dest.exists():
                members = [m for m in names if m.startswith(module + "/") and m.endswith(".java")]
                if not members:
                    log(f"  skipping {module}: not in {src}")
                    continue
                zf.extractall(cache / "src" / "java", members)
            out.append((module, src.parent.parent.name, "GPL-2.0-with-classpath-exception", dest))
    return out


def debian_packages(language: str, packages: list[str], cache: Path) -> list[tuple[str, str, str, Path]]:
    out = []
    for package in packages:
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


SPLITS = {
    "eval": {"python": (PYPI, []), "javascript": (NPM, []), "typescript": (NPM_TS, []), "java": (JDK_MODULES, []),
             "go": ([], DEBIAN["go"]), "ruby": ([], DEBIAN["ruby"]), "php": ([], DEBIAN["php"])},
    "train": {"python": (TRAIN_PYPI, TRAIN_DEBIAN["python"]), "javascript": (TRAIN_NPM, []),
              "java": (TRAIN_JDK_MODULES, []), "go": ([], TRAIN_DEBIAN["go"]), "ruby": ([], TRAIN_DEBIAN["ruby"]),
              "php": ([], TRAIN_DEBIAN["php"])},
}
FOLDERS = {"eval": "datasets", "train": "train"}
FETCHERS = {"python": python_packages, "javascript": npm_packages, "typescript": npm_packages, "java": jdk_modules}
TRAIN_FETCHERS = {**FETCHERS, "python": lambda specs, cache: python_packages(specs, cache, wheels=True)}


def _name(spec: str) -> str:
    return re.split(r"==|@(?=[^@]*$)", spec[1:] if spec.startswith("@") else spec)[0].lower()


def check_disjoint() -> None:
    """No package may be both evaluated and trained on."""
    for language, (registry, debian) in SPLITS["train"].items():
        if language not in SPLITS["eval"]:
            continue
        evaluated = {_name(s) for s in SPLITS["eval"][language][0] + SPLITS["eval"][language][1]}
        both = evaluated & {_name(s) for s in registry + debian}
        if both:
            raise SystemExit(f"{language}: packages in both splits: {sorted(both)}")


def packages(split: str, language: str, cache: Path) -> list[tuple[str, str, str, Path]]:
    registry, debian = SPLITS[split][language]
    fetchers = TRAIN_FETCHERS if split == "train" else FETCHERS
    out = fetchers[language](registry, cache) if registry else []
    return out + (debian_packages(language, debian, cache) if debian else [])


def _fingerprint(text: str) -> str:
    return " ".join(text.split()).lower()


def evaluation_texts(out_root: Path, language: str) -> tuple[set[str], set[str]]:
    """Normalised code and docstrings of a language's evaluation set (for de-duplication)."""
    from codesearch.bench.datasets import read_jsonl

    path = out_root / FOLDERS["eval"] / f"{language}.jsonl.gz"
    if not path.exists():
        raise SystemExit(f"build the evaluation set first ({path} is missing): python {sys.argv[0]} --language {language}")
    codes, docs = set(), set()
    for example in read_jsonl([path]):
        codes.add(_fingerprint(example.code))
        docs.add(_fingerprint(example.query))
    return codes, docs


def main() -> None:
    """Fetch, unpack and convert every source package; write datasets and a manifest."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--language", action="append", choices=sorted(FETCHERS) + ["go", "ruby", "php"],
                        help="default: every language of the split")
    parser.add_argument("--split", choices=sorted(SPLITS), default="eval")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("CODESEARCH_CACHE", Path.home() / ".cache" / "codesearch")))
    args = parser.parse_args()
    check_disjoint()
    out_dir = args.cache / FOLDERS[args.split]
    manifest_path = out_dir / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    for language in args.language or list(SPLITS[args.split]):
        log(f"{language} ({args.split}): fetching ...")
        held_out = evaluation_texts(args.cache, language) if args.split == "train" else (set(), set())
        examples, rows, seen, dropped = [], [], set(), 0
        for name, version, licence, root in packages(args.split, language, args.cache):
            pairs = []
            for example in build_from_repo(root, repo=name, partition=args.split):
                code = _fingerprint(example.code)
                if example.language != language or (args.split == "train" and code in seen):
                    continue
                seen.add(code)
                if code in held_out[0] or _fingerprint(example.query) in held_out[1]:
                    dropped += 1
                    continue
                pairs.append(example)
            examples.extend(pairs)
            rows.append({"package": name, "version": version, "licence": licence, "pairs": len(pairs)})
            log(f"  {name} {version} ({licence}): {len(pairs)} pairs")
        count = write_jsonl(examples, out_dir / f"{language}.jsonl.gz")
        manifest[language] = {"pairs": count, "packages": rows, "dropped_as_in_eval": dropped}
        log(f"{language}: {count} pairs -> {out_dir / f'{language}.jsonl.gz'} ({dropped} dropped: also in eval)")
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.rmtree(args.cache / "downloads", ignore_errors=True)


if __name__ == "__main__":
    main()
