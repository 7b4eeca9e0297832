"""Turn source code into a stream of chunks: discovery, tree-sitter parsing, chunking.

This package is pure and deterministic. It depends only on the standard library,
tree-sitter and the official grammar wheels; it never imports ``codesearch``.
"""

from __future__ import annotations

from indexer.types import Chunk, SkippedFile, SourceFile, Symbol, SymbolKind

__all__ = ["Chunk", "SkippedFile", "SourceFile", "Symbol", "SymbolKind"]
