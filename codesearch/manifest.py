"""A workspace: many repositories' indexes, listed in one manifest and searched as one corpus.

``DIR/workspace.json`` (written by ``codesearch index-many``) names every repository, its
root, its index (an ordinary ``codesearch index`` directory under ``DIR/indexes/``, or a pack
``DIR/packs/NAME`` that it shares with other small repositories: ``codesearch.pack``) and
how its last run went. A repository keeps its name and its index directory across runs,
so re-running only updates indexes. No two repositories share an index directory
(``index_name``) but the repositories of a pack, whose names are kept apart (``pack.clashes``).
The manifest is replaced atomically (temporary file, then rename).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import NamedTuple

from codesearch.errors import CodeSearchError, IndexNotFound, IndexUnavailable, UnsafeIndexDir, WorkspaceCorrupt
from codesearch.pack import Mounts, heads
from codesearch.store.indexdir import open_nofollow

MANIFEST_NAME = "workspace.json"
MANIFEST_VERSION = 1
INDEXES = "indexes"
PACKS = "packs"
MAX_MANIFEST_BYTES = 256 * 1024 * 1024  # 10,000 repositories take about 4 MB
NAME_BYTES = 255  # a directory name's limit on every common file system
PACK_INDEX = ".codesearch"  # a pack's index, in the pack's own directory (its root, which holds nothing else)


@dataclass
class RepoEntry:
    """One repository of a workspace.

    :param index: its index directory, relative to the workspace directory: ``indexes/NAME``, or
        ``packs/NAME`` for a repository in a pack.
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

    @property
    def packed(self) -> bool:
        """Whether it is indexed in a pack with other repositories."""
        return Path(self.index).parts[0] == PACKS


class Listed(NamedTuple):
    """One index of a workspace to search: a repository's, or a pack of several (``mounts``)."""

    name: str  # the repository's name; for a pack, its directory (``packs/NAME``), never shown
    directory: Path
    mounts: Mounts


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
        :raises IndexCorrupt: if it cannot be parsed, is of an unknown version, or puts an index
            anywhere but in a directory of ``indexes/``.
        :raises UnsafeIndexDir: if ``indexes/`` or ``packs/`` is a symlink.
        """
        directory = Path(directory).resolve()
        path = directory / MANIFEST_NAME
        for sub in (INDEXES, PACKS):  # a hostile workspace's `indexes -> ~/private` led its search to a private
            _own(directory, sub)  # repository's index, and index-many wrote through it (red team)
        try:
            data = json.loads(_read_manifest(path))
        except FileNotFoundError:
            if missing_ok:
                return cls(directory)
            raise IndexNotFound(f"{directory} is not a workspace (no {MANIFEST_NAME}); "
                                f"create it with `codesearch index-many SOURCES --out {directory}`") from None
        except (OSError, ValueError) as exc:
            raise WorkspaceCorrupt(f"cannot read the workspace manifest {path} ({exc})") from exc
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            raise WorkspaceCorrupt(f"{path} is not a version-{MANIFEST_VERSION} workspace manifest")
        try:
            repos = {name: RepoEntry(**{"name": name, **entry}) for name, entry in data["repos"].items()}
        except (KeyError, TypeError, AttributeError) as exc:
            raise WorkspaceCorrupt(f"{path} is damaged ({exc})") from exc
        for entry in repos.values():
            wrong = _mistyped(entry)
            if wrong:  # `"generation": "1"` was a traceback; `"root": 5` was taken
                raise WorkspaceCorrupt(f"{path} is damaged ({entry.name!r} has {wrong})")
            parts = Path(str(entry.index)).parts
            if len(parts) != 2 or parts[0] not in (INDEXES, PACKS) or parts[1] in (".", "..") or \
                    len(os.fsencode(parts[1])) > NAME_BYTES:  # a name of 300 characters was a traceback
                raise WorkspaceCorrupt(f"{path} is damaged (the index of {entry.name!r} is {entry.index!r}, "
                                       f"not a directory of {INDEXES}/ or {PACKS}/)")
        manifest = cls(directory, repos)
        manifest._separate_shared()
        for pack in manifest.packs():
            manifest.mounts(pack)  # :raises IndexCorrupt: if two of its names clash
        return manifest

    def save(self) -> None:
        """Write the manifest atomically: the previous one stays whole if writing fails.

        :raises IndexUnavailable: if it cannot be written (disk full, permissions, read-only).
        """
        data = {"version": MANIFEST_VERSION,
                "repos": {name: {k: v for k, v in asdict(e).items() if k != "name"}
                          for name, e in sorted(self.repos.items())}}
        temporary = self.directory / f".{MANIFEST_NAME}.{os.getpid()}.tmp"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            try:
                temporary.unlink(missing_ok=True)
            except OSError:
                pass
            fix = "free some disk space" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "check its permissions"
            raise IndexUnavailable(f"cannot write the workspace manifest {self.path} "
                                   f"({exc.strerror or exc}); {fix} and run index-many again "
                                   "(the indexes already built are kept)") from exc

    def entry_for(self, root: Path, name: str) -> RepoEntry:
        """The entry of ``root``: its existing one, or a new one named ``name`` (made unique)."""
        return self.entries_for([root], [name])[0]

    def entries_for(self, roots: Sequence[Path], names: Sequence[str]) -> list[RepoEntry]:
        """``entry_for`` of each root with its name (in one pass over the manifest: ten thousand
        repositories cost no more than one list)."""
        by_root = {e.root: e for e in self.repos.values()}
        taken = {_folded(e.index) for e in self.repos.values()}
        out = []
        for root, name in zip(roots, names, strict=True):
            root_text = str(Path(root).resolve())
            entry = by_root.get(root_text)
            if entry is None:
                unique, n = name, 1
                while unique in self.repos:
                    n += 1
                    unique = f"{name}-{n}"
                index = f"{INDEXES}/{index_name(unique, taken)}"
                taken.add(_folded(index))
                entry = by_root[root_text] = self.repos[unique] = RepoEntry(unique, root_text, index)
            out.append(entry)
        return out

    def _separate_shared(self) -> None:
        """Give a fresh index directory to every entry that shares one with another (a manifest
        written before ``index_name``: ``a/app`` and ``a__app`` both had ``indexes/a__app``).

        The directory stays with the entry that most likely wrote the index in it (indexed, most
        recently); the others start over in a directory of their own at the next run.
        """
        sharing: dict[str, list[RepoEntry]] = {}
        for entry in self.repos.values():
            if not entry.packed:  # a pack's repositories share its index on purpose
                sharing.setdefault(_folded(entry.index), []).append(entry)
        taken = set(sharing)
        for group in sharing.values():
            group.sort(key=lambda e: (e.status == "indexed", e.updated_at), reverse=True)
            for entry in group[1:]:
                directory = index_name(entry.name, taken)
                taken.add(_folded(f"{INDEXES}/{directory}"))
                entry.index, entry.generation, entry.status = f"{INDEXES}/{directory}", 0, "pending"

    def index_dir(self, entry: RepoEntry) -> Path:
        """The directory of the repository's index (a pack's: the index in the pack's directory).

        :raises UnsafeIndexDir: if a part of it below the workspace directory is a symlink.
        """
        return self.pack_index(entry.index) if entry.packed else _own(self.directory, entry.index)

    def pack_index(self, pack: str) -> Path:
        """The index of the pack ``packs/NAME``: in the pack's directory, its root.

        :raises UnsafeIndexDir: if a part of it below the workspace directory is a symlink.
        """
        return _own(self.directory, f"{pack}/{PACK_INDEX}")

    def pack_root(self, pack: str) -> Path:
        """The directory of the pack ``packs/NAME``: the root its index is registered with.

        :raises UnsafeIndexDir: if a part of it below the workspace directory is a symlink.
        """
        return _own(self.directory, pack)

    def packs(self) -> list[str]:
        """Every pack (``packs/NAME``) that holds a repository, in order."""
        return sorted({e.index for e in self.repos.values() if e.packed})

    def members(self, pack: str) -> list[RepoEntry]:
        """The repositories of a pack, by name."""
        return sorted((e for e in self.repos.values() if e.index == pack), key=lambda e: e.name)

    def mounts(self, pack: str, built: bool = False) -> Mounts:
        """The repositories of a pack as its index reads them (``built``: only those its index was last
        built with; one added by a run that failed is not in it yet).

        :raises IndexCorrupt: if two of its names clash (the manifest was edited).
        """
        return Mounts({e.name: e.root for e in self.members(pack) if e.generation > 0 or not built})

    def pack(self, sized: Sequence[tuple[RepoEntry, int]], capacity: int) -> None:
        """Put repositories that have no index yet, each with its number of files, into packs: the
        last pack while it has room for them (``capacity`` files) and none of its names clashes with
        theirs (``pack.clashes``), then new ones."""
        packs = self.packs()
        numbers = [int(p.rsplit("-", 1)[-1]) for p in packs if p.rsplit("-", 1)[-1].isdigit()]
        number = max(numbers, default=0)
        pack = packs[-1] if packs else ""
        members = self.members(pack) if pack else []
        names, taken_heads = {e.name for e in members}, {h for e in members for h in heads(e.name)}
        fill = sum(e.files for e in members)
        for entry, files in sized:
            clash = entry.name in taken_heads or names.intersection(heads(entry.name))
            if not pack or fill + files > capacity or clash:
                number += 1
                pack, names, taken_heads, fill = f"{PACKS}/pack-{number:05d}", set(), set(), 0
            entry.index, entry.files = pack, files
            names.add(entry.name)
            taken_heads.update(heads(entry.name))
            fill += files

    def searchable(self) -> list[Listed]:
        """Every index to search: each indexed repository's own, and each pack with its repositories.

        A repository whose latest run failed is still searched if an earlier run left an index.

        :raises IndexNotFound: if no repository has one.
        """
        out = [Listed(name, self.index_dir(e), Mounts()) for name, e in sorted(self.repos.items())
               if not e.packed and e.generation > 0 and (self.index_dir(e) / "index.db").is_file()]
        for pack in self.packs():
            mounts, directory = self.mounts(pack, built=True), self.pack_index(pack)
            if mounts and (directory / "index.db").is_file():
                out.append(Listed(pack, directory, mounts))
        if not out:
            raise IndexNotFound(f"the workspace {self.directory} has no indexed repository yet")
        return out


# What a field's annotation takes from JSON (a float may be written as an integer).
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {"str": str, "int": int, "float": (int, float), "bool": bool}


def _mistyped(entry: RepoEntry) -> str:
    """The first field of ``entry`` whose value is not of its annotated type, in words (``""``: none)."""
    for spec in fields(RepoEntry):
        name, kind = spec.name, _JSON_TYPES[str(spec.type)]
        value = getattr(entry, name)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            return f"{name} {value!r}"[:80]
    return ""


def _own(directory: Path, relative: str) -> Path:
    """``relative`` under the workspace ``directory``, none of its parts there a symlink: a hostile workspace's
    `indexes/`, or its `packs/NAME` or `indexes/NAME`, linked to another index was read by `search --workspace` and
    written by `index-many --out` (the red team, the recheck).

    :raises UnsafeIndexDir: if a part is a symlink.
    """
    place = directory
    for part in Path(relative).parts:
        place = place / part
        if place.is_symlink():
            raise UnsafeIndexDir(f"{place} is a symlink; refusing to follow it (a workspace's indexes and packs are "
                                 "its own directories)")
    return place


def _read_manifest(path: Path) -> str:
    """The text of a workspace's manifest, opened without following a link or blocking, a regular file of at most
    ``MAX_MANIFEST_BYTES`` (a `workspace.json` that was a FIFO held `search --workspace`, one linked to /dev/zero
    filled the memory, and the errors told what lay at the link's target: the second recheck).

    :raises FileNotFoundError: if there is none.
    :raises UnsafeIndexDir: if it is a link.
    :raises OSError: if it is no regular file, unreadable or too large (the caller says it cannot read it).
    """
    try:
        fd = open_nofollow(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeIndexDir(f"{path} is a symlink; refusing to follow it") from None
        raise
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path.name} is not a regular file")
        data = fh.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise OSError(f"{path.name} is over {MAX_MANIFEST_BYTES:,} bytes")
    return data.decode("utf-8")


def index_name(name: str, taken: set[str]) -> str:
    """The directory under ``indexes/`` of the repository ``name``: readable, and none of ``taken``.

    ``/`` becomes ``__``; a name that had one, or whose directory would be taken (``a/app``
    and ``a__app``, or ``App`` and ``app`` on a case-insensitive disk), gets a short hash of
    the full name, then a counter if even that is taken.

    :param taken: the index paths already used (``indexes/NAME``), as ``_folded`` gives them.
    """
    base = name.replace("/", "__")
    candidate = base
    if base != name or _folded(f"{INDEXES}/{base}") in taken:
        candidate = f"{base}-{hashlib.sha1(name.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"
    unique, n = candidate, 1
    while _folded(f"{INDEXES}/{unique}") in taken:
        n += 1
        unique = f"{candidate}-{n}"
    return unique


def _folded(index: str) -> str:
    """An index path as compared for clashes: case-folded, for case-insensitive disks."""
    return os.path.normpath(index).casefold()


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
