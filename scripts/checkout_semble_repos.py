"""Check out the repositories of a semble-format benchmark at their pinned revisions.

The benchmark folder (``repos.json`` + ``annotations/``) names each repository's git URL,
``revision`` and ``benchmark_root``. This script exports that folder of that revision
from a local git directory (a clone, or a bare mirror such as the ones the project's
``fetch`` tool leaves in ``/work/.mirror/OWNER+NAME/repo``) into a cache outside the
project, and records which commit it used in ``checkouts.json``. Where the pinned
revision is missing from the local history, the newest commit of the default branch is
used and the record says so. Nothing is downloaded and no third-party code is committed.

    python scripts/checkout_semble_repos.py ../shared/bench/semble-dev --mirror /work/.mirror
    codesearch bench --semble ../shared/bench/semble-dev --checkouts ~/.cache/codesearch/semble-repos
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codesearch.bench.semble import load_repos  # noqa: E402
from codesearch.cache import cache_root  # noqa: E402


def git_dir_for(url: str, mirror: Path) -> Path:
    """The local git directory of ``url`` under ``mirror`` (``OWNER+NAME/repo`` or ``OWNER+NAME``)."""
    owner_name = url.removeprefix("https://github.com/").removesuffix(".git").replace("/", "+")
    for candidate in (mirror / owner_name / "repo", mirror / owner_name, mirror / owner_name / ".git"):
        if candidate.is_dir():
            return candidate
    raise SystemExit(f"no git directory for {url} under {mirror} (expected {mirror / owner_name / 'repo'})")


def git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True).stdout


def resolve(git_dir: Path, revision: str) -> tuple[str, str]:
    """(commit used, note): the pinned revision, or the default branch's head when it is missing."""
    if subprocess.run(["git", "--git-dir", str(git_dir), "cat-file", "-e", f"{revision}^{{commit}}"],
                      capture_output=True).returncode == 0:
        return revision, "pinned revision"
    head = git(git_dir, "rev-parse", "HEAD").decode().strip()
    branch = git(git_dir, "symbolic-ref", "--short", "HEAD").decode().strip()
    return head, f"pinned revision {revision} is not in the local history; used {branch} at {head}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", type=Path, help="the benchmark folder (repos.json, annotations/)")
    parser.add_argument("--mirror", type=Path, required=True, help="folder of local git directories")
    parser.add_argument("--out", type=Path, default=cache_root() / "semble-repos", help="where to check out")
    args = parser.parse_args()
    records = {}
    for repo in load_repos(args.bench):
        git_dir = git_dir_for(repo.url, args.mirror)
        commit, note = resolve(git_dir, repo.revision)
        dest = args.out / repo.name
        record = dest / ".checkout.json"
        if record.is_file() and json.loads(record.read_text()).get("commit") == commit:
            print(f"{repo.name}: already at {commit[:12]}")  # noqa: T201
        else:
            subprocess.run(["rm", "-rf", str(dest)], check=True)
            dest.mkdir(parents=True)
            archive = git(git_dir, "archive", "--format=tar", commit, *([repo.root] if repo.root else []))
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(dest, filter="data")
            record.write_text(json.dumps({"commit": commit, "note": note}) + "\n")
            print(f"{repo.name}: {note} -> {dest}")  # noqa: T201
        records[repo.name] = {"url": repo.url, "pinned": repo.revision, "commit": commit, "note": note}
    (args.out / "checkouts.json").write_text(json.dumps(records, indent=2) + "\n")


if __name__ == "__main__":
    main()
