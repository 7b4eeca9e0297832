"""The static embedder: a Model2Vec-format model loaded with numpy and tokenizers only.

A Model2Vec model is a token embedding table plus a tokenizer; a text's vector is the
mean of its tokens' rows, L2-normalised. This loader reads the same files model2vec
writes (``model.safetensors``, ``tokenizer.json``, ``config.json``) without importing
model2vec itself, which keeps ``codesearch search`` free of torch and quick to start.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from codesearch.embed.text import TEXT_PIPELINE_VERSION, split_identifiers
from codesearch.errors import ModelNotFound

from codesearch.embed import Vectors

DEFAULT_MODEL = "minilm-l6-m2v256"
MODEL_FILES = ("model.safetensors", "tokenizer.json", "config.json")
# Tokens per document and per query; the mean over more adds little and costs time.
MAX_DOC_TOKENS = 512
MAX_QUERY_TOKENS = 256
_BATCH = 2048
# Words and single punctuation characters: the units the tokenizer's pre-tokenizer
# produces, so tokenizing them one by one gives the same ids as tokenizing the text.
_PIECES = re.compile(r"\w+|[^\w\s]")
_PIECE_CACHE_SIZE = 500_000  # whitespace-separated pieces whose token ids are remembered


def default_model_path() -> Path:
    """The directory of the model that ships inside the package."""
    return Path(str(resources.files("codesearch").joinpath("models", DEFAULT_MODEL)))


class StaticEmbedder:
    """Embeds documents and queries with a static (Model2Vec-style) model.

    :param path: a directory with ``model.safetensors``, ``tokenizer.json`` and ``config.json``.
    :raises ModelNotFound: if the directory or one of its files is missing or unreadable.
    """

    def __init__(self, path: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.path = Path(path)
        missing = [f for f in MODEL_FILES if not (self.path / f).is_file()]
        if missing:
            raise ModelNotFound(f"model directory {self.path} is missing {', '.join(missing)}")
        try:
            tensors = load_file(str(self.path / "model.safetensors"))
            self.tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
            self.config = json.loads((self.path / "config.json").read_text("utf-8"))
        except Exception as exc:  # safetensors/tokenizers raise their own exception types
            raise ModelNotFound(f"cannot load the model in {self.path}: {exc}") from exc
        table = tensors.get("embeddings")
        if table is None or table.ndim != 2:
            raise ModelNotFound(f"{self.path / 'model.safetensors'} has no 2-d 'embeddings' tensor")
        self.embeddings = table.astype(np.float32)
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self._unk_id = self._special_id("unk_token")
        self._piece_cache: dict[str, list[int]] = {}
        self.name = self.config.get("name", self.path.name)
        self.fingerprint = self._fingerprint()

    @classmethod
    def default(cls) -> StaticEmbedder:
        """The model shipped with the package."""
        return cls(default_model_path())

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self.embeddings.shape[1])

    def encode_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed code chunks: an (n, dim) float32 array with unit-length rows."""
        return self._encode(texts, MAX_DOC_TOKENS)

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed natural-language queries: an (n, dim) float32 array with unit-length rows."""
        return self._encode(texts, MAX_QUERY_TOKENS)

    def _encode(self, texts: Sequence[str], max_tokens: int) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        table = self.embeddings
        for start in range(0, len(texts), _BATCH):
            for offset, ids in enumerate(self.token_ids(texts[start : start + _BATCH])):
                ids = ids[:max_tokens]
                if ids:
                    vector = table.take(ids, axis=0).sum(axis=0)
                    norm = float(np.sqrt(vector @ vector))
                    if norm > 0:
                        out[start + offset] = vector / norm
        return out

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """The token ids the model averages for each text (identifiers split, unknowns dropped).

        The tokenizer's pre-tokenizer splits on whitespace and punctuation, and nothing in
        our normalisation crosses those boundaries, so each word or punctuation mark is
        tokenized once and cached: code repeats the same words endlessly, and this is
        several times faster than tokenizing every text, with the same ids.
        """
        cache = self._piece_cache
        split = [_PIECES.findall(text) for text in texts]
        missing = {piece for pieces in split for piece in pieces if piece not in cache}
        if len(cache) + len(missing) > _PIECE_CACHE_SIZE:
            cache.clear()
            missing = {piece for pieces in split for piece in pieces}
        if missing:
            ordered = list(missing)
            encodings = self.tokenizer.encode_batch_fast([split_identifiers(p) for p in ordered], add_special_tokens=False)
            unk = self._unk_id
            for piece, encoding in zip(ordered, encodings):
                cache[piece] = [i for i in encoding.ids if i != unk]
        result = []
        for pieces in split:
            ids: list[int] = []
            for piece in pieces:
                ids += cache[piece]
            result.append(ids)
        return result

    def _special_id(self, key: str) -> int | None:
        token = self.config.get(key, "[UNK]")
        return self.tokenizer.token_to_id(token) if token else None

    def _fingerprint(self) -> str:
        h = hashlib.sha256(TEXT_PIPELINE_VERSION.encode())
        h.update(f"doc{MAX_DOC_TOKENS}q{MAX_QUERY_TOKENS}".encode())
        for name in MODEL_FILES:
            h.update((self.path / name).read_bytes())
        return f"{self.name}:{h.hexdigest()[:16]}"
