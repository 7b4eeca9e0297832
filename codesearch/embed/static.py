"""The static embedder: a Model2Vec-format model loaded with numpy and tokenizers only.

A Model2Vec model is a token embedding table plus a tokenizer; a text's vector is the
mean of its tokens' rows, L2-normalised. This loader reads the same files model2vec
writes (``model.safetensors``, ``tokenizer.json``, ``config.json``) without importing
model2vec itself, which keeps ``codesearch search`` free of torch and quick to start.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from itertools import chain
from pathlib import Path

import numpy as np

from codesearch.embed import Vectors
from codesearch.embed.text import TEXT_PIPELINE_VERSION, split_identifiers
from codesearch.errors import ModelNotFound

DEFAULT_MODEL = "minilm-l6-code256"
MODEL_FILES = ("model.safetensors", "tokenizer.json", "config.json")
# Tokens per document and per query; the mean over more adds little and costs time.
MAX_DOC_TOKENS = 512
MAX_QUERY_TOKENS = 256
_BATCH = 2048
# Words and single punctuation characters: the units the tokenizer's pre-tokenizer
# produces, so tokenizing them one by one gives the same ids as tokenizing the text.
_WORDS = re.compile(r"\w+|[^\w\s]")
_CACHE_SIZE = 300_000  # pieces and words whose token ids are remembered (each cache)


def default_model_path() -> Path:
    """The directory of the model that ships inside the package (next to this package's modules;
    no ``importlib.resources``, which costs a search ~8 ms to import)."""
    return Path(__file__).resolve().parent.parent / "models" / DEFAULT_MODEL


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
        self._table = table  # as stored (fp16): a query converts only the rows it uses
        self._fp32: np.ndarray | None = None
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self._unk_id = self._special_id("unk_token")
        self._piece_cache: dict[str, list[int]] = {}
        self._word_cache: dict[str, list[int]] = {}
        self.name = self.config.get("name", self.path.name)
        self.fingerprint = self._fingerprint()

    def __reduce__(self) -> tuple[Callable[[Path], StaticEmbedder], tuple[Path]]:
        """Pickle as the model path: a worker process loads the files itself, once (see ``_unpickled``)."""
        return (_unpickled, (self.path,))

    @classmethod
    def default(cls) -> StaticEmbedder:
        """The model shipped with the package."""
        return cls(default_model_path())

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self._table.shape[1])

    @property
    def embeddings(self) -> np.ndarray:
        """The token embedding table in float32 (converted on first use: a search that embeds one
        query never needs it whole)."""
        if self._fp32 is None:
            self._fp32 = self._table.astype(np.float32)
        return self._fp32

    def encode_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed code chunks: an (n, dim) float32 array with unit-length rows."""
        return self._encode(texts, MAX_DOC_TOKENS, self.embeddings)

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed natural-language queries: an (n, dim) float32 array with unit-length rows."""
        # The rows each query uses, converted from the stored table: the same float32 values
        # (and sums) as the converted table gives, without converting all of it (~16 ms).
        return self._encode(texts, MAX_QUERY_TOKENS, self.embeddings if self._fp32 is not None else self._table)

    def _encode(self, texts: Sequence[str], max_tokens: int, table: np.ndarray) -> Vectors:
        # One small gather-and-sum per text: faster in numpy than one batched gather with
        # ``np.add.reduceat`` (measured: 2-4x), and no large scratch arrays. Rows of a
        # table stored below float32 are converted before the sum, so results are identical.
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        take = table.take
        convert = table.dtype != np.float32
        for start in range(0, len(texts), _BATCH):
            for offset, ids in enumerate(self.token_ids(texts[start : start + _BATCH]), start):
                if ids:
                    rows = take(ids[:max_tokens], axis=0)
                    out[offset] = (rows.astype(np.float32) if convert else rows).sum(axis=0)
        norms = np.sqrt(np.einsum("ij,ij->i", out, out))[:, None]
        return np.divide(out, norms, out=out, where=norms > 0)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """The token ids the model averages for each text (identifiers split, unknowns dropped).

        The tokenizer's pre-tokenizer splits on whitespace and punctuation, and nothing in
        our normalisation crosses those boundaries, so tokenizing word by word gives the
        same ids as tokenizing the text. Two caches exploit how repetitive code is: one
        maps whitespace-separated pieces (``self.items()``) to ids, the other maps words
        (``items``) to ids; only words never seen before reach the tokenizer.
        """
        pieces_cache, words_cache = self._piece_cache, self._word_cache
        if len(pieces_cache) > _CACHE_SIZE:
            pieces_cache.clear()
        if len(words_cache) > _CACHE_SIZE:
            words_cache.clear()
        split = [text.split() for text in texts]
        new_pieces = {piece: _WORDS.findall(piece) for piece in set().union(*split).difference(pieces_cache)}
        new_words = list({w for words in new_pieces.values() for w in words if w not in words_cache})
        if new_words:
            encodings = self.tokenizer.encode_batch_fast([split_identifiers(w) for w in new_words], add_special_tokens=False)
            unk = self._unk_id
            for word, encoding in zip(new_words, encodings):
                words_cache[word] = [i for i in encoding.ids if i != unk]
        for piece, words in new_pieces.items():
            ids: list[int] = []
            for word in words:
                ids += words_cache[word]
            pieces_cache[piece] = ids
        lookup = pieces_cache.__getitem__
        return [list(chain.from_iterable(map(lookup, pieces))) for pieces in split]

    def _special_id(self, key: str) -> int | None:
        token = self.config.get(key, "[UNK]")
        return self.tokenizer.token_to_id(token) if token else None

    def _fingerprint(self) -> str:
        """The model's fingerprint: remembered in the user's cache for these exact files
        (``fingerprint_cache``), else computed from their bytes (~22 ms for the shipped model)."""
        stamp = self._file_stamp()
        cache = fingerprint_cache(self.path)
        try:
            remembered = json.loads(cache.read_text("utf-8"))
            if remembered.get("stamp") == stamp and isinstance(remembered.get("fingerprint"), str):
                return str(remembered["fingerprint"])
        except (OSError, ValueError, AttributeError):
            pass
        h = hashlib.sha1(TEXT_PIPELINE_VERSION.encode())  # identity, not security: the fastest hash
        h.update(f"doc{MAX_DOC_TOKENS}q{MAX_QUERY_TOKENS}".encode())
        for name in MODEL_FILES:
            h.update((self.path / name).read_bytes())
        fingerprint = f"{self.name}:{h.hexdigest()[:16]}"
        if stamp == self._file_stamp():  # not rewritten while it was read
            _write_quietly(cache, json.dumps({"stamp": stamp, "fingerprint": fingerprint}))
        return fingerprint

    def _file_stamp(self) -> list[object]:
        """What the fingerprint depends on besides the files' bytes, and each file's identity
        (resolved path, size, inode, modification and change times in ns): any rewrite changes it."""
        stamp: list[object] = [TEXT_PIPELINE_VERSION, MAX_DOC_TOKENS, MAX_QUERY_TOKENS, self.name]
        for name in MODEL_FILES:
            st = os.stat(self.path / name)
            stamp.append([os.path.realpath(self.path / name), st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns])
        return stamp


def fingerprint_cache(path: Path) -> Path:
    """Where the fingerprint of the model in ``path`` is remembered: one small file per model
    directory in the user's cache (``cache_root()/fingerprints``), never in the model's directory."""
    from codesearch.cache import cache_root

    key = hashlib.sha1(os.path.realpath(path).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return cache_root() / "fingerprints" / f"{key}.json"


def _write_quietly(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, or nothing when that fails (a read-only cache is only slower)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_text(text, "utf-8")
        os.replace(partial, path)
    except OSError:
        pass


# Models unpickled in this process, by path and file version: a long-lived worker (a pool
# process, a Ray worker running task after task) loads each model once and keeps its caches.
_UNPICKLED: dict[tuple[str, int], StaticEmbedder] = {}


def _unpickled(path: Path) -> StaticEmbedder:
    try:
        version = (Path(path) / "model.safetensors").stat().st_mtime_ns
    except OSError:
        return StaticEmbedder(path)  # raises ModelNotFound with the reason
    key = (str(path), version)
    if key not in _UNPICKLED:
        _UNPICKLED[key] = StaticEmbedder(path)
    return _UNPICKLED[key]
