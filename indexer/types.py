"""Data that crosses module boundaries: frozen dataclasses only."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import PurePosixPath


class Unindexable(Exception):
    """A file that parses but cannot be indexed within the limits; the message says why (a skip reason)."""


class SymbolKind(str, Enum):
    """What a definition is. Query files name these in ``@definition.<kind>`` captures."""

    FUNCTION = "function"
    METHOD = "method"
    CLASS = "class"
    INTERFACE = "interface"
    MODULE = "module"
    TRAIT = "trait"
    ENUM = "enum"
    TYPE = "type"
    CODE = "code"  # not a definition: the code between definitions (imports, constants, scripts)

    @property
    def is_container(self) -> bool:
        """True for kinds whose nested functions are methods (class, module, trait, ...)."""
        return self not in (SymbolKind.FUNCTION, SymbolKind.METHOD, SymbolKind.CODE)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file that discovery decided to index.

    :param path: path relative to the repository root, always with forward slashes.
    :param language: registry name of the language (``python``, ``go``, ...).
    :param source: the raw bytes of the file.
    :param mtime_ns: modification time, used to skip unchanged files cheaply.
    :param ctime_ns: status change time: restoring an old mtime (``touch -r``) still changes it.
    """

    path: str
    language: str
    source: bytes
    mtime_ns: int = 0
    ctime_ns: int = 0

    @property
    def sha1(self) -> str:
        """Hex SHA-1 of the file's bytes."""
        import hashlib  # here: a search imports these types and hashes nothing

        return hashlib.sha1(self.source).hexdigest()

    @property
    def suffix(self) -> str:
        """The file extension, with its dot."""
        return PurePosixPath(self.path).suffix


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file or directory that discovery did not index, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class UnsupportedFile:
    """A source file in a language we do not parse (counted per extension, not listed one by one)."""

    path: str
    extension: str


@dataclass(frozen=True, slots=True)
class Symbol:
    """A definition found by a language query. Lines are 1-based and inclusive."""

    kind: SymbolKind
    name: str
    qualname: str
    signature: str
    doc: str
    code: str
    code_without_doc: str
    start_line: int
    end_line: int
    start_byte: int
    end_byte: int
    doc_line: int = 0  # first line of a doc comment right above the definition (0: none)


@dataclass(frozen=True, slots=True)
class Chunk:
    """The unit that gets embedded and returned by search: one symbol of one file.

    ``key`` is ``path::qualname`` (with ``#2``, ``#3``... for repeated names such as
    overloads), stable across edits that do not rename the symbol. ``content_hash``
    covers everything that is embedded, so an unchanged hash means an unchanged vector.

    A long function or method also gets ``window`` chunks over the part of its body its
    own chunk does not embed (``indexer.chunk.window_chunks``): ``window`` is their number
    (1, 2, ...; 0 for every other chunk), and their key, name and qualified name are the
    definition's with ``@w<number>`` appended, so that a name lookup never finds them and a
    search result folds them back into the definition (``indexer.chunk.definition_key``).
    """

    path: str
    language: str
    kind: SymbolKind
    name: str
    qualname: str
    signature: str
    doc: str
    code: str
    code_without_doc: str
    start_line: int
    end_line: int
    key: str
    content_hash: str
    window: int = 0
    context: str = ""
