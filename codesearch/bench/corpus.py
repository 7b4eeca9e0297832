"""Turn dataset examples into a corpus on disk that the real indexer can read.

Each document becomes one file, ``<language>/<n>.<ext>``, holding the function without
its docstring or doc comment, wrapped where a lone function or method is not a valid
file (the registry's ``snippet_wrappers``: ``<?php``, a class around a Java or JS
method). The benchmark then indexes that folder exactly as a user would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codesearch.bench.datasets import Example
from indexer.chunk import chunks_for_file, embedding_text
from indexer.languages import spec_for
from indexer.types import Chunk, SourceFile, SymbolKind

# A wrapper fits when the snippet's main symbol spans at least this share of its lines.
_COVERAGE = 0.8


@dataclass
class Corpus:
    """A materialised corpus: one file per document, and the text each one embeds."""

    root: Path
    paths: list[str] = field(default_factory=list)
    by_language: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)  # paths, texts
    # documents no wrapper made a definition of, per language: the ranking puts such gap chunks below
    # definitions, so a language with many measures something other than its functions
    gap_chunks: dict[str, int] = field(default_factory=dict)


def document(example: Example) -> tuple[str, Chunk | None]:
    """The example as a parseable file without its doc, and the chunk of its function.

    A wrapper counts when the parser sees a definition in it: a TypeScript method alone on a
    file reads as a call and a block, a gap chunk the index never makes of a method inside its
    class, so the class wrapper is tried next. Code that no wrapper makes a definition of (a C
    prototype, a definition only with its doc) is taken as the gap chunk it is.

    :return: (file text, main chunk or None when no wrapper lets the parser find it).
    """
    parsed: dict[str, list[Chunk]] = {}  # text -> its chunks: the second round parses nothing again
    for definitions_only in (True, False):
        found = _wrapped(example, definitions_only, parsed)
        if found is not None:
            return found
    return example.code, None


def _wrapped(example: Example, definitions_only: bool,
             parsed: dict[str, list[Chunk]]) -> tuple[str, Chunk | None] | None:
    """The first wrapper whose main chunk covers the example's lines, else the first with one."""
    lines = max(1, len(example.code.strip().splitlines()))
    first: tuple[str, Chunk | None] | None = None
    for prefix, suffix in spec_for(example.language).snippet_wrappers:
        chunks = _chunks(example.language, prefix + example.code + suffix, parsed)
        main = _main_symbol(chunks, prefix.count("\n"), definitions_only)
        if main is None:
            continue
        text = prefix + main.code_without_doc + suffix
        if main.end_line - main.start_line + 1 >= _COVERAGE * lines:
            # as the indexer will see the doc-free file; a wrapper whose file does not parse back is passed over
            reparsed = _main_symbol(_chunks(example.language, text, parsed), prefix.count("\n"), definitions_only)
            if reparsed is not None:
                return text, reparsed
            continue
        first = first or (text, main)
    return first


def _chunks(language: str, text: str, parsed: dict[str, list[Chunk]]) -> list[Chunk]:
    """The chunks of ``text`` as a file, parsed once per ``document`` call."""
    if text not in parsed:
        parsed[text] = chunks_for_file(SourceFile("x", language, text.encode()))
    return parsed[text]


def _main_symbol(chunks: Sequence[Chunk], prefix_lines: int, definitions_only: bool = False) -> Chunk | None:
    """The largest chunk that starts after the wrapper's prefix lines (not the wrapper itself);
    with ``definitions_only``, the largest definition (no gap chunk)."""
    candidates = [c for c in chunks if c.start_line > prefix_lines
                  and not (definitions_only and c.kind is SymbolKind.CODE)]
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c.end_line - c.start_line, -c.start_line))


def materialise(examples: Sequence[Example], root: Path) -> tuple[Corpus, list[Example]]:
    """Write one file per example and collect the texts they embed.

    :return: the corpus and the examples it holds, in order: an example whose code the
        parser cannot turn into a symbol is left out (it could never be a search hit).
    """
    corpus = Corpus(root)
    kept = []
    for example in examples:
        text, chunk = document(example)
        if chunk is None:
            continue
        path = f"{example.language}/{len(kept):06d}{spec_for(example.language).extensions[0]}"
        kept.append(example)
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        corpus.paths.append(path)
        paths, texts = corpus.by_language.setdefault(example.language, ([], []))
        paths.append(path)
        texts.append(embedding_text(chunk, with_doc=False))
        if chunk.kind is SymbolKind.CODE:
            corpus.gap_chunks[example.language] = corpus.gap_chunks.get(example.language, 0) + 1
    return corpus, kept
