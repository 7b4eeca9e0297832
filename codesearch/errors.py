"""Typed errors raised by the library. The CLI turns each into a one-line message."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TypeVar


class CodeSearchError(Exception):
    """Base class of every error codesearch raises on purpose."""


class IndexNotFound(CodeSearchError):
    """No index exists where one was looked for."""


class IndexOutOfDate(CodeSearchError):
    """The index was built by another model or schema and must be rebuilt."""


class IndexCorrupt(CodeSearchError):
    """An index file is unreadable, truncated, or disagrees with the metadata.

    The message always ends with how to repair the index.
    """

    HINT = "run `codesearch index --rebuild` to rebuild the index"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint or self.HINT

    def __str__(self) -> str:
        return f"{super().__str__()}; {self.hint}"


class WorkspaceCorrupt(IndexCorrupt):
    """A workspace's manifest (``codesearch index-many``) is unreadable or damaged."""

    HINT = "run `codesearch index-many` again to rebuild the workspace"


class IndexLocked(CodeSearchError):
    """Another process is updating the index."""


class UnsafeIndexDir(CodeSearchError):
    """The index directory, or an entry in it, is a symlink, belongs to another user, or is not ours."""


class IndexConflict(CodeSearchError):
    """The index directory holds the index of another repository."""


class IndexUnavailable(CodeSearchError):
    """The index directory cannot be read or written (permissions, read-only, disk full)."""


class RepositoryMoved(IndexNotFound):
    """The repository an index was built for is no longer where the index says."""


class ModelNotFound(CodeSearchError):
    """A model directory is missing or incomplete."""


class MissingExtra(CodeSearchError):
    """An optional dependency is needed; the message names the pip extra."""


class BadQuery(CodeSearchError):
    """A query or filter that cannot be searched (empty, unknown language, ...)."""


class AmbiguousSymbol(BadQuery):
    """A symbol name that names several definitions; the message lists them (``path:line qualname``)."""


REBUILD = "`codesearch index --rebuild`"  # the fix as a message names it before it knows which index
E = TypeVar("E", bound=CodeSearchError)


def naming_index(exc: E, root: Path | None, index_dir: Path) -> E:
    """``exc`` (an ``IndexCorrupt`` or ``IndexOutOfDate``) with its fix naming the repository, and the index directory
    when it is not the repository's ``.codesearch``: "run `codesearch index --rebuild`", followed as written from
    another directory, built a new index there and left the damaged one as it was."""
    from codesearch.store.layout import INDEX_DIR_NAME

    if root is None and index_dir.name == INDEX_DIR_NAME:
        root = index_dir.parent
    command = f"codesearch index --rebuild {shlex.quote(str(root)) if root is not None else 'REPO'}"
    if root is None or index_dir != root / INDEX_DIR_NAME:
        command += f" --index-dir {shlex.quote(str(index_dir))}"
    named = f"`{command}`"
    if isinstance(exc, IndexCorrupt):
        out: CodeSearchError = type(exc)(str(exc.args[0]).replace(REBUILD, named), exc.hint.replace(REBUILD, named))
    else:
        out = type(exc)(str(exc).replace(REBUILD, named))
    return out  # type: ignore[return-value]
