"""BERT WordPiece for ASCII text in plain Python: a query's token ids without the tokenizers library.

A one-shot ``codesearch search`` embeds one query of a few words; importing ``tokenizers`` and
parsing ``tokenizer.json`` cost it about 25 ms, several times what the rest of the embedding
does. For ASCII text this module gives the ids that the model's own tokenizer gives (a
``BertNormalizer`` that lowercases, a ``BertPreTokenizer``, a ``WordPiece`` model with the
``##`` prefix; ``tests/test_wordpiece.py`` compares the two on every word of the sample
repositories and on generated strings); anything else (a non-ASCII character, another kind of
tokenizer) is left to the tokenizers library (``None``).

``codesearch.embed.static`` reads the vocabulary from ``tokenizer.json`` once and remembers it in
the user's cache, one token per line, about twice as fast to read as the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# What this module reproduces of a tokenizer.json (anything else: the tokenizers library).
_NORMALIZER = {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "lowercase": True}
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")  # ASCII punctuation: a token of its own
_WHITESPACE = frozenset(" \t\n\r")  # \x0b and \x0c are control characters to clean_text: dropped


class WordPiece:
    """Greedy longest-match-first WordPiece over ``vocab`` (token -> id), as BERT's tokenizer runs it.

    ``ids`` returns None for text that is not ASCII (its normalisation: accents, CJK, Unicode
    punctuation) or that holds an added token such as ``[PAD]``: the tokenizers library does those.
    """

    def __init__(self, vocab: Mapping[str, int], unk_token: str = "[UNK]", prefix: str = "##",
                 max_chars: int = 100, added: tuple[str, ...] = ()) -> None:
        self.vocab = vocab
        self.added = added  # tokens the library matches in the raw text first (``[PAD]``): left to it
        self.unk_id = vocab.get(unk_token)
        self.prefix = prefix
        self.max_chars = max_chars

    @classmethod
    def from_config(cls, config: dict[str, Any], vocab: Mapping[str, int]) -> WordPiece | None:
        """The WordPiece of a parsed ``tokenizer.json`` (``vocab`` may come from the cache), or None when
        the file describes a tokenizer this module does not reproduce."""
        model, normalizer = config.get("model") or {}, config.get("normalizer") or {}
        if (model.get("type") != "WordPiece" or (config.get("pre_tokenizer") or {}).get("type") != "BertPreTokenizer"
                or any(normalizer.get(k) != v for k, v in _NORMALIZER.items())
                or normalizer.get("strip_accents") not in (None, True)):  # None: as lowercase (True)
            return None
        if any(token.get("normalized") for token in config.get("added_tokens") or ()):
            return None  # added tokens matched inside the text: not reproduced
        added = tuple(str(token.get("content", "")) for token in config.get("added_tokens") or ())
        return cls(vocab, model.get("unk_token", "[UNK]"), model.get("continuing_subword_prefix", "##"),
                   int(model.get("max_input_chars_per_word", 100)), tuple(a for a in added if a))

    def ids(self, text: str) -> list[int] | None:
        """The token ids of ``text`` (no special tokens added), or None if it is not ASCII or holds an
        added token."""
        if not text.isascii() or any(token in text for token in self.added):
            return None
        out: list[int] = []
        for word in _pre_tokens(text.lower()):
            out += self._word(word)
        return out

    def _word(self, word: str) -> list[int]:
        unk = [] if self.unk_id is None else [self.unk_id]
        if len(word) > self.max_chars:
            return unk
        vocab, pieces, start = self.vocab, [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else self.prefix + word[start:end]
                found = vocab.get(piece)
                if found is not None:
                    pieces.append(found)
                    break
                end -= 1
            else:
                return unk  # one piece matches nothing: the whole word is unknown
            start = end
        return pieces


def _pre_tokens(text: str) -> list[str]:
    """Words split at whitespace and around each punctuation character; control characters dropped
    (``BertNormalizer``'s ``clean_text`` and ``BertPreTokenizer``, for ASCII text)."""
    words: list[str] = []
    current: list[str] = []
    for char in text:
        if char in _WHITESPACE or char in _PUNCTUATION:
            if current:
                words.append("".join(current))
                current = []
            if char in _PUNCTUATION:
                words.append(char)
        elif char >= " " and char != "\x7f":
            current.append(char)
    if current:
        words.append("".join(current))
    return words

