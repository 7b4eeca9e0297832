"""Turn symbols into chunks: stable keys, content hashes and the text to embed."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable

from indexer.parse import extract_symbols
from indexer.types import Chunk, SourceFile, Symbol

# Characters of code that go into the text to embed. A static model averages token
# vectors, so the name, signature and doc must not drown in a long body.
MAX_CODE_CHARS = 1200


def chunks_for_file(file: SourceFile) -> list[Chunk]:
    """Parse ``file`` and return one chunk per symbol, in source order."""
    return chunks_from_symbols(file, extract_symbols(file))


def chunks_from_symbols(file: SourceFile, symbols: Iterable[Symbol]) -> list[Chunk]:
    """Wrap already extracted symbols of ``file`` as chunks with unique keys."""
    seen: Counter[str] = Counter()
    chunks = []
    for symbol in symbols:
        seen[symbol.qualname] += 1
        n = seen[symbol.qualname]
        key = f"{file.path}::{symbol.qualname}" + (f"#{n}" if n > 1 else "")
        chunks.append(
            Chunk(
                path=file.path,
                language=file.language,
                kind=symbol.kind,
                name=symbol.name,
                qualname=symbol.qualname,
                signature=symbol.signature,
                doc=symbol.doc,
                code=symbol.code,
                code_without_doc=symbol.code_without_doc,
                start_line=symbol.start_line,
                end_line=symbol.end_line,
                key=key,
                content_hash=content_hash(file.language, symbol),
            )
        )
    return chunks


def content_hash(language: str, symbol: Symbol) -> str:
    """Hash of everything that shapes the chunk's vector (not its position in the file)."""
    h = hashlib.sha1()
    for part in (language, symbol.kind.value, symbol.qualname, symbol.signature, symbol.doc, symbol.code):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def embedding_text(chunk: Chunk, *, with_doc: bool = True, max_code_chars: int = MAX_CODE_CHARS) -> str:
    """The text a model embeds for a chunk: kind, qualified name, signature, doc and code.

    :param with_doc: False embeds the code without its doc comment or docstring, as the
        CodeSearchNet protocol requires when the doc is the query.
    """
    parts = [f"{chunk.kind.value} {chunk.qualname}", chunk.signature]
    if with_doc and chunk.doc:
        parts.append(chunk.doc)
    parts.append(chunk.code_without_doc[:max_code_chars])
    return "\n".join(parts)
