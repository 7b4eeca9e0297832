"""A workspace: many repositories' indexes, listed in one manifest and searched as one corpus.

``DIR/workspace.json`` (written by ``codesearch index-many``) names every repository, its
root, its index (an ordinary ``codesearch index`` directory under ``DIR/indexes/``) and
how its last run went. A repository keeps its name across runs, so re-running only
updates indexes. The manifest is replaced atomically (temporary file, then rename).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from codesearch.errors import CodeSearchError, IndexCorrupt, IndexNotFound

MANIFEST_NAME = "workspace.json"
MANIFEST_VERSION = 1
INDEXES = "indexes"


@dataclass
class RepoEntry:
    """One repository of a workspace.

    :param index: its index directory, relative to the workspace directory.
    :param status: ``indexed`` or ``failed`` (its last run; a failed repository keeps any earlier
        index), ``pending`` before its first run ends.
    """

    name: str
    root: str
    index: str
    status: str = "pending"
    error: str = ""
    files: int = 0
    chunks: int = 0
    generation: int = 0
    changed: bool = False
    shards: int = 0
    seconds: float = 0.0
    updated_at: str = ""


@dataclass
class Manifest:
    """The repositories of the workspace in ``directory``."""

    directory: Path
    repos: dict[str, RepoEntry] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.directory / MANIFEST_NAME

    @classmethod
    def load(cls, directory: Path, missing_ok: bool = False) -> Manifest:
        """The manifest in ``directory``.

        :raises IndexNotFound: if there is none (unless ``missing_ok``: then an empty one).
        :raises IndexCorrupt: if it cannot be parsed or is of an unknown version.
        """
        directory = Path(directory).resolve()
        path = directory / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            if missing_ok:
                return cls(directory)
            raise IndexNotFound(f"{directory} is not a workspace (no {MANIFEST_NAME}); "
                                f"create it with `codesearch index-many SOURCES --out {directory}`") from None
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"cannot read the workspace manifest {path} ({exc})") from exc
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            raise IndexCorrupt(f"{path} is not a version-{MANIFEST_VERSION} workspace manifest")
        try:
            repos = {name: RepoEntry(**{"name": name, **entry}) for name, entry in data["repos"].items()}
        except (KeyError, TypeError, AttributeError) as exc:
            raise IndexCorrupt(f"{path} is damaged ({exc})") from exc
        return cls(directory, repos)

    def save(self) -> None:
        """Write the manifest atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        data = {"version": MANIFEST_VERSION,
                "repos": {name: {k: v for k, v in asdict(e).items() if k != "name"}
                          for name, e in sorted(self.repos.items())}}
        temporary = self.directory / f".{MANIFEST_NAME}.{os.getpid()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)

    def entry_for(self, root: Path, name: str) -> RepoEntry:
        """The entry of ``root``: its existing one, or a new one named ``name`` (made unique)."""
        root_text = str(Path(root).resolve())
        for entry in self.repos.values():
            if entry.root == root_text:
                return entry
        unique, n = name, 1
        while unique in self.repos:
            n += 1
            unique = f"{name}-{n}"
        entry = RepoEntry(unique, root_text, f"{INDEXES}/{unique.replace('/', '__')}")
        self.repos[unique] = entry
        return entry

    def index_dir(self, entry: RepoEntry) -> Path:
        return self.directory / entry.index

    def searchable(self) -> list[tuple[str, Path]]:
        """``(name, index directory)`` of every repository that has an index.

        A repository whose latest run failed is still searched if an earlier run left an index.

        :raises IndexNotFound: if no repository has one.
        """
        out = [(name, self.index_dir(e)) for name, e in sorted(self.repos.items())
               if e.generation > 0 and (self.index_dir(e) / "index.db").is_file()]
        if not out:
            raise IndexNotFound(f"the workspace {self.directory} has no indexed repository yet")
        return out


def read_sources(sources: Path) -> list[Path]:
    """The repositories ``SOURCES`` names: a file with one path per line (``#`` comments,
    relative paths from the file's directory) or a directory whose subdirectories are repositories.

    :raises CodeSearchError: if it names none.
    """
    sources = Path(sources)
    if sources.is_dir():
        roots = sorted(p for p in sources.iterdir() if p.is_dir() and not p.is_symlink()
                       and not p.name.startswith("."))
    else:
        try:
            lines = sources.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CodeSearchError(f"cannot read the list of repositories {sources} ({exc})") from exc
        roots = []
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#"):
                path = Path(os.path.expanduser(line))
                roots.append(path if path.is_absolute() else sources.parent / path)
    roots = list(dict.fromkeys(p.resolve() for p in roots))
    if not roots:
        raise CodeSearchError(f"{sources} names no repository")
    return roots
