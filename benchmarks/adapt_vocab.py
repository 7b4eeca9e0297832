"""The vocabulary half of the adaptation experiment (``adapt_experiment.py --new-tokens N``): a
repository's frequent compound identifiers become tokens of their own.

- **Which**: names of the repository's definitions that the tokenizer splits into two or more
  pieces (``JsonReader`` -> json, reader; ``Railtie`` -> rail, ##tie), ranked by how many chunks
  use them, the first ``N``.
- **Where**: a word written as the identifier (any case, underscores ignored: ``JsonReader``,
  ``json_reader``) or two or three adjacent words spelling it (``json reader`` in a query) is
  read as the new token instead of its pieces.
- **Start**: each new row is the *sum* of its pieces' rows, which is what the model gives the
  word today (a text's vector is the normalised sum of its rows), and the token is followed by
  one less than its pieces' count of a zero row, so a text keeps its length in tokens (and is
  cut at ``MAX_DOC_TOKENS`` where it was): every vector is unchanged before training.
- **Training** (``adapt_experiment.adapt``): only the new rows move; the shipped rows are frozen.

The adapted model directory holds the grown table and ``vocab.json`` (word -> [row, pieces]);
``VocabEmbedder`` reads both. Experiment code, not part of the package.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from codesearch.embed.static import _WORDS, StaticEmbedder
from codesearch.store.reader import IndexReader

VOCAB_FILE = "vocab.json"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def key_of(word: str) -> str:
    """How an identifier and the words spelling it are compared: lower case, no underscores."""
    return word.lower().replace("_", "")


def choose_vocabulary(index_dir: Path, embedder: StaticEmbedder, n: int) -> dict[str, list[int]]:
    """The ``n`` definition names of the index that the tokenizer splits into 2+ pieces, most used
    first (chunks whose code contains the name), with their pieces' token ids."""
    with IndexReader(index_dir) as reader:
        rows = reader.chunk_contents()  # (content_hash, kind, qualname, signature, doc, code)
    names: dict[str, str] = {}
    for _, kind, qualname, _, _, _ in rows:
        if kind == "code" or "@w" in qualname:
            continue
        name = re.split(r"[.:#\\/]", qualname)[-1]
        if len(key_of(name)) >= 5 and _IDENT.fullmatch(name):
            names.setdefault(key_of(name), name)
    pieces = {k: ids for k, ids in zip(names, embedder.token_ids(list(names.values())), strict=True) if len(ids) >= 2}
    used: Counter[str] = Counter()
    for *_, code in rows:
        used.update({key_of(w) for w in _IDENT.findall(code)} & pieces.keys())
    return {k: pieces[k] for k, _ in used.most_common(n) if used[k] >= 2}


class VocabEmbedder(StaticEmbedder):
    """The static embedder with a repository's own tokens (``vocab.json`` in the model directory)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        vocab_file = Path(path) / VOCAB_FILE
        self.vocab: dict[str, list[int]] = json.loads(vocab_file.read_text()) if vocab_file.is_file() else {}
        self.zero = len(self._table) - len(self.vocab) - 1  # the zero row that pads a token to its pieces' count

    def __reduce__(self) -> tuple[Callable[[Path], VocabEmbedder], tuple[Path]]:
        return (VocabEmbedder, (self.path,))

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        if not self.vocab:
            return super().token_ids(texts)
        split = [_WORDS.findall(text) for text in texts]
        words = sorted({w for ws in split for w in ws})
        ids_of = dict(zip(words, super().token_ids(words), strict=True))
        vocab, zero, out = self.vocab, self.zero, []
        for ws in split:
            ids: list[int] = []
            i = 0
            while i < len(ws):
                token = vocab.get(key_of(ws[i]))
                if token is not None:
                    ids += [token[0]] + [zero] * (token[1] - 1)
                    i += 1
                    continue
                for n in (3, 2):  # adjacent words spelling an identifier: "json reader"
                    run = ws[i:i + n]
                    if len(run) == n and all(w.isalpha() for w in run):
                        token = vocab.get("".join(w.lower() for w in run))
                        if token is not None:
                            ids += [token[0]] + [zero] * (token[1] - 1)
                            i += n
                            break
                else:
                    ids += ids_of[ws[i]]
                    i += 1
            out.append(ids)
        return out


def grown_table(table: np.ndarray, vocabulary: dict[str, list[int]]) -> tuple[np.ndarray, dict[str, list[int]]]:
    """The table with a zero row, then one row per new word (the sum of its pieces' rows), and the
    word -> [row, pieces] map."""
    start = len(table) + 1
    rows = [np.zeros(table.shape[1], dtype=np.float32)] + [table[ids].sum(axis=0) for ids in vocabulary.values()]
    return (np.concatenate([table, np.stack(rows).astype(table.dtype)]),
            {w: [start + j, len(ids)] for j, (w, ids) in enumerate(vocabulary.items())})
