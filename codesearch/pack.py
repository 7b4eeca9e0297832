"""Packs: several small repositories in one index, so a workspace query costs per pack, not per repository.

A query over a workspace pays a fixed cost for every index it searches (query analysis, a vector
and a lexical search, each in Python: about 0.24 ms of CPU however small the index). Ten
thousand small repositories, each with its own index, would cost seconds a query; packed into
a few indexes of a few hundred thousand chunks each they cost what a monorepo of the same size
costs.

A pack is an ordinary index whose files come from several repositories (``Mounts``): each file is
stored as ``NAME/PATH``, where ``NAME`` is the repository's name in the workspace and ``PATH`` its
path in the repository, which is how a workspace search shows it anyway. The pack's mounts (names
and roots) are kept in the workspace manifest, not in the index, and bound to the index by this
user's registry (``digest``: a manifest that names other roots for a pack is refused); a search
reads a hit's file under its repository's root (``split``), never under a root the index names.
No mount name is another's prefix at a ``/`` (``clashes``), so every stored path belongs to exactly
one repository.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from codesearch.errors import IndexCorrupt


@dataclass(frozen=True)
class Mounts:
    """The repositories of one pack: name -> absolute root.

    :raises IndexCorrupt: if a name is empty, absolute, has an empty, ``.`` or ``..`` part, or is
        another's prefix at a ``/`` (a stored path would then belong to two repositories).
    """

    roots: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.roots:
            if not name or any(part in ("", ".", "..") for part in name.split("/")):
                raise IndexCorrupt(f"{name!r} cannot name a repository of a pack")
        clash = clashes(self.roots)
        if clash:
            raise IndexCorrupt(f"the repositories {clash[0]!r} and {clash[1]!r} cannot share a pack "
                               "(one name is a prefix of the other's)")

    def __bool__(self) -> bool:
        return bool(self.roots)

    def digest(self) -> str:
        """What this user's registry binds a pack's index to (``codesearch.store.trust``): a search with
        other mounts (a workspace manifest edited, or a repository moved) is refused, never read."""
        if not self.roots:
            return ""
        import hashlib  # only a pack's search: a one-shot search of one repository imports no hashlib (~4 ms)

        return hashlib.sha256(json.dumps(sorted(self.roots.items())).encode("utf-8", "surrogateescape")).hexdigest()

    def prefix(self, name: str) -> str:
        """What the stored paths of repository ``name`` start with."""
        return f"{name}/"

    def split(self, path: str) -> tuple[str, str, str] | None:
        """``(name, root, path in the repository)`` of a stored path (None: no repository of the pack's)."""
        cut = path.find("/")
        while cut > 0:
            root = self.roots.get(path[:cut])
            if root is not None:
                return path[:cut], root, path[cut + 1:]
            cut = path.find("/", cut + 1)
        return None

    def locate(self, root: str, path: str) -> tuple[str, str] | None:
        """``(root, path under it)`` of a stored path: as given when this is no pack (no mounts)."""
        if not self.roots:
            return root, path
        found = self.split(path)
        return None if found is None else (found[1], found[2])

    def name_of(self, path: str) -> str | None:
        """The repository a stored path belongs to."""
        found = self.split(path)
        return None if found is None else found[0]


def heads(name: str) -> list[str]:
    """The names ``name`` starts with at a ``/`` (``a/b/c``: ``a`` and ``a/b``)."""
    parts = name.split("/")
    return ["/".join(parts[:n]) for n in range(1, len(parts))]


def clashes(names: Iterable[str]) -> tuple[str, str] | None:
    """Two names of which one is the other's prefix at a ``/`` (``a`` and ``a/b``), or None."""
    names = list(names)
    pool = set(names)
    for name in names:
        for head in heads(name):
            if head in pool:
                return head, name
    return None
