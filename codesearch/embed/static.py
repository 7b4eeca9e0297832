"""The static embedder: a Model2Vec-format model loaded with numpy and tokenizers only.

A Model2Vec model is a token embedding table plus a tokenizer; a text's vector is the
mean of its tokens' rows, L2-normalised. This loader reads the same files model2vec
writes (``model.safetensors``, ``tokenizer.json``, ``config.json``) without importing
model2vec itself, which keeps ``codesearch search`` free of torch and quick to start.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from collections.abc import Callable, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from codesearch.embed import Vectors
from codesearch.embed.text import TEXT_PIPELINE_VERSION, split_identifiers
from codesearch.embed.wordpiece import WordPiece
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
# Words whose token ids are remembered, per generation (two are kept). 50,000 indexed as fast as 300,000
# did (92,315 chunks of the monorepo corpus in one process: 33 s either way, with a cache of pieces
# in front) and holds ~140 MB less per worker.
_CACHE_SIZE = 50_000
_DTYPES = {"F16": "<f2", "F32": "<f4"}  # safetensors dtypes of an embedding table, little-endian


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
        self.path = Path(path)
        missing = [f for f in MODEL_FILES if not (self.path / f).is_file()]
        if missing:
            raise ModelNotFound(f"model directory {self.path} is missing {', '.join(missing)}")
        try:
            table = mapped_table(self.path / "model.safetensors", "embeddings")
            self.config = json.loads((self.path / "config.json").read_text("utf-8"))
            settings, vocab = tokenizer_vocab(self.path / "tokenizer.json")
        except (OSError, ValueError) as exc:
            raise ModelNotFound(f"cannot load the model in {self.path}: {exc}") from exc
        self._table = table  # as stored (fp16, mapped): a query reads and converts only the rows it uses
        self._fp32: np.ndarray | None = None
        self._tokenizer: Any = None  # the tokenizers library's, loaded when a text needs it (``tokenizer``)
        unk = self.config.get("unk_token", "[UNK]")
        self._unk_id = None if not unk else vocab[unk] if unk in vocab else self.tokenizer.token_to_id(unk)
        self._pieces = WordPiece.from_config(settings, vocab)  # ASCII words without the library
        self._word_cache: dict[str, list[int]] = {}
        self._old_words: dict[str, list[int]] = {}  # the generation before (``token_ids``)
        self.name = self.config.get("name", self.path.name)
        self.fingerprint = self._fingerprint()

    @property
    def tokenizer(self) -> Any:
        """The model's tokenizer (``tokenizers.Tokenizer``), loaded on first use.

        :raises ModelNotFound: if ``tokenizer.json`` cannot be loaded.
        """
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            try:
                tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
            except Exception as exc:  # tokenizers raises its own exception types
                raise ModelNotFound(f"cannot load the model in {self.path}: {exc}") from exc
            tokenizer.no_padding()
            tokenizer.no_truncation()
            self._tokenizer = tokenizer
        return self._tokenizer

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
        our normalisation crosses those boundaries, so tokenizing word by word (``_WORDS``: a
        word or one punctuation character) gives the same ids as tokenizing the text. Each
        word's ids are remembered, in two generations of ``_CACHE_SIZE`` words (a full one
        becomes the old one, asked before the tokenizer), so a repository's vocabulary that
        outgrows one generation is not tokenized again and again; only words in neither reach
        the tokenizer. (A cache of whitespace-separated pieces in front of it missed most of the
        time: 20,016 chunks hold 156,094 distinct pieces, and a miss cost a loop in Python.)
        """
        cache = self._word_cache
        if len(cache) > _CACHE_SIZE:  # a new generation; the last one is still asked before the tokenizer
            self._old_words, cache = cache, {}
            self._word_cache = cache
        words = [_WORDS.findall(text) for text in texts]
        new_words = set().union(*words).difference(cache)
        if new_words:
            old, unknown = self._old_words, []
            for word in new_words:
                if (ids := old.get(word)) is None:
                    unknown.append(word)
                else:
                    cache[word] = ids
            unk = self._unk_id
            for word, ids in zip(unknown, self._word_ids([split_identifiers(w) for w in unknown])):
                cache[word] = [i for i in ids if i != unk]
        lookup = cache.__getitem__
        return [list(chain.from_iterable(map(lookup, each))) for each in words]

    def _word_ids(self, words: list[str]) -> list[list[int]]:
        """The tokenizer's ids of each word: ASCII words in Python (``WordPiece``, the same ids), the others
        by the tokenizers library. Python is the faster of the two for the new words of a file (20,016
        chunks embedded file by file from a fresh model: 2.1-2.2 s against 2.9-3.0 s) and as fast for
        batches of 2,048 texts; a query of ASCII words never loads the library."""
        if self._pieces is None:
            return [e.ids for e in self.tokenizer.encode_batch_fast(words, add_special_tokens=False)]
        ids = [self._pieces.ids(word) for word in words]
        rest = [n for n, found in enumerate(ids) if found is None]
        if rest:
            for n, encoding in zip(rest, self.tokenizer.encode_batch_fast([words[n] for n in rest],
                                                                          add_special_tokens=False)):
                ids[n] = encoding.ids
        return ids  # type: ignore[return-value]

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
        import hashlib  # only when the fingerprint is not remembered: a search imports no hashlib

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
        stamp.extend(file_identity(self.path / name) for name in MODEL_FILES)
        return stamp


def fingerprint_cache(path: Path) -> Path:
    """Where the fingerprint of the model in ``path`` is remembered: one small file per model
    directory in the user's cache (``cache_root()/fingerprints``), never in the model's directory."""
    from codesearch.cache import cache_root

    key = f"{zlib.crc32(os.path.realpath(path).encode('utf-8', 'surrogateescape')):08x}"  # the stamp checks the rest
    return cache_root() / "fingerprints" / f"{key}.json"


def file_identity(path: Path) -> list[object]:
    """A file's resolved path, size, inode, modification and change times in ns: any rewrite changes it
    (what the user-cache copies of a model's fingerprint and vocabulary are checked against).

    :raises OSError: if the file cannot be stat-ed.
    """
    st = os.stat(path)
    return [os.path.realpath(path), st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]


def mapped_table(path: Path, name: str) -> np.ndarray:
    """The 2-d tensor ``name`` of a safetensors file, mapped read-only (nothing is read until a row is
    used; loading the shipped model's 15 MB took a search ~10 ms).

    :raises ValueError: if the file is not a safetensors file holding a 2-d F16/F32 tensor ``name``
        inside its bounds.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(8)
        length = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 2 <= length <= min(size - 8, 100_000_000):
            raise ValueError(f"{path} is not a safetensors file")
        header = json.loads(handle.read(length))
    entry = header.get(name) if isinstance(header, dict) else None
    if not isinstance(entry, dict) or entry.get("dtype") not in _DTYPES:
        raise ValueError(f"{path} has no F16/F32 tensor {name!r}")
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    dtype = np.dtype(_DTYPES[entry["dtype"]])
    if (not isinstance(shape, list) or len(shape) != 2 or not all(isinstance(n, int) and n > 0 for n in shape)
            or not isinstance(offsets, list) or len(offsets) != 2 or not all(isinstance(n, int) for n in offsets)
            or offsets[1] - offsets[0] != shape[0] * shape[1] * dtype.itemsize
            or not 0 <= offsets[0] <= offsets[1] <= size - 8 - length):
        raise ValueError(f"{path}: tensor {name!r} is not a 2-d table inside the file")
    return np.memmap(path, dtype=dtype, mode="r", offset=8 + length + offsets[0], shape=(shape[0], shape[1]))


def tokenizer_vocab(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """(a tokenizer.json's settings, its WordPiece vocabulary; empty for another kind of model). The
    vocabulary is remembered in the user's cache for this very file (its identity, as the fingerprint's
    stamp) one token per line, read in about half the time of the JSON; a cache that is not for this
    file, or is damaged, is read from the JSON again.

    :raises OSError, ValueError: if the file cannot be read or parsed.
    """
    stamp = json.dumps([TEXT_PIPELINE_VERSION, *file_identity(path)])
    cache = fingerprint_cache(path.parent).with_suffix(".vocab")
    try:
        head, settings_line, *tokens = cache.read_text("utf-8").split("\n")
        settings = json.loads(settings_line)
        if head == stamp and isinstance(settings, dict) and settings.pop("vocab_size", None) == len(tokens):
            vocab = {token: i for i, token in enumerate(tokens)}
            if len(vocab) == len(tokens):
                return settings, vocab
    except (OSError, ValueError):
        pass
    config = json.loads(path.read_text("utf-8"))
    if not isinstance(config, dict):
        raise ValueError(f"{path} is not a tokenizer")
    model = config.get("model") if isinstance(config.get("model"), dict) else {}
    vocab = model.get("vocab") if isinstance(model.get("vocab"), dict) else {}
    settings = {**config, "model": {k: v for k, v in model.items() if k != "vocab"}}
    ordered = sorted(vocab, key=vocab.__getitem__)
    if not vocab or [vocab[t] for t in ordered] != list(range(len(ordered))) or any("\n" in t for t in ordered):
        return settings, {}  # not a plain WordPiece vocabulary: the tokenizers library does every text
    _write_quietly(cache, "\n".join([stamp, json.dumps({**settings, "vocab_size": len(ordered)}), *ordered]))
    return settings, vocab


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
