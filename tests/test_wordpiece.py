"""A query's token ids without the tokenizers library (``codesearch.embed.wordpiece``): the same ids as
the model's own tokenizer, the vocabulary remembered safely, the table mapped within its bounds."""

from __future__ import annotations

import json
import re
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesearch.embed.static import MODEL_FILES, StaticEmbedder, default_model_path, mapped_table, tokenizer_vocab
from codesearch.embed.text import split_identifiers
from codesearch.embed.wordpiece import WordPiece
from codesearch.errors import ModelNotFound

SAMPLES = Path(__file__).resolve().parents[1] / "sample_repos"
EDGE_CASES = ["", " ", "x" * 100, "x" * 101, "a\x01b", "a\x0bb", "a\x7fb", "tab\there", "__init__", "--offline",
              "C++", "don't", "e.g.", "HTTPServer", "parse Json String", "12345", "0x1F", "@decorator",
              "$scope", "a_b-c.d/e\\f", "unknownzzzqqqxxx", "##", "[UNK]", "[PAD]", "`code`", "~/.ssh"]


@pytest.fixture(scope="module")
def model() -> tuple[WordPiece, object]:
    from tokenizers import Tokenizer

    settings_, vocab = tokenizer_vocab(default_model_path() / "tokenizer.json")
    pieces = WordPiece.from_config(settings_, vocab)
    assert pieces is not None, "the shipped model's tokenizer is a BERT WordPiece"
    tokenizer = Tokenizer.from_file(str(default_model_path() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return pieces, tokenizer


def library_ids(tokenizer: object, texts: list[str]) -> list[list[int]]:
    return [e.ids for e in tokenizer.encode_batch_fast(texts, add_special_tokens=False)]  # type: ignore[attr-defined]


def test_every_word_of_the_sample_repositories_gets_the_tokenizers_ids(model: tuple[WordPiece, object]) -> None:
    pieces, tokenizer = model
    words = set(EDGE_CASES)
    for path in SAMPLES.rglob("*"):
        if path.is_file() and path.suffix not in {".json", ".jsonl"}:
            text = path.read_text("utf-8", errors="replace")
            words.update(split_identifiers(w) for w in re.findall(r"\w+|[^\w\s]", text) if w.isascii())
            words.update(line for line in text.splitlines()[:40] if line.isascii())  # whole lines too
    texts = sorted(words)
    assert len(texts) > 3000
    ours = [pieces.ids(t) for t in texts]
    kept = [n for n, ids in enumerate(ours) if ids is not None]  # an added token ("[UNK]"): the library's
    assert len(kept) >= len(texts) - 5
    assert [ours[n] for n in kept] == [ids for n, ids in enumerate(library_ids(tokenizer, texts)) if n in set(kept)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=40))
def test_any_ascii_text_gets_the_tokenizers_ids(model: tuple[WordPiece, object], text: str) -> None:
    pieces, tokenizer = model
    ours = pieces.ids(text)
    assert ours == library_ids(tokenizer, [text])[0] or (ours is None and any(a in text for a in pieces.added))


def test_text_that_is_not_ascii_is_left_to_the_library(model: tuple[WordPiece, object]) -> None:
    pieces, _ = model
    assert pieces.ids("café") is None and pieces.ids("日本") is None and pieces.ids("x [PAD] y") is None


def test_a_query_is_embedded_without_loading_the_tokenizer_and_as_the_library_embeds_it() -> None:
    texts = ["where do we retry failed HTTP requests?", "parseJsonString(max_retry_count)", "--offline"]
    fresh = StaticEmbedder.default()
    quick = fresh.encode_queries(texts)
    assert fresh._tokenizer is None  # a few ASCII words: no tokenizers library
    library = StaticEmbedder.default()
    _ = library.tokenizer  # loaded first: every word goes through the library
    assert np.array_equal(quick, library.encode_queries(texts))
    assert np.array_equal(fresh.encode_queries(["naïve café"]), library.encode_queries(["naïve café"]))
    assert fresh._tokenizer is not None  # a word that is not ASCII loads it


def _model_copy(tmp_path: Path) -> Path:
    model = tmp_path / "model"
    model.mkdir()
    for name in MODEL_FILES:
        shutil.copy(default_model_path() / name, model / name)
    return model


def test_the_vocabulary_is_remembered_and_a_damaged_or_foreign_copy_is_not_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESEARCH_CACHE", str(tmp_path / "cache"))
    model = _model_copy(tmp_path)
    settings_, vocab = tokenizer_vocab(model / "tokenizer.json")
    cached = list((tmp_path / "cache" / "fingerprints").glob("*.vocab"))
    assert len(cached) == 1 and tokenizer_vocab(model / "tokenizer.json") == (settings_, vocab)
    lines = cached[0].read_text("utf-8").split("\n")
    # A cache whose tokens were swapped (same count) but whose stamp is another file's is not read.
    lines[2], lines[3] = lines[3], lines[2]
    cached[0].write_text("\n".join(["[\"another file\"]", *lines[1:]]), "utf-8")
    assert tokenizer_vocab(model / "tokenizer.json")[1] == vocab
    cached[0].write_text("\n".join(lines[:1] + lines[1:-5]), "utf-8")  # cut short: the count disagrees
    assert tokenizer_vocab(model / "tokenizer.json")[1] == vocab
    cached[0].write_bytes(b"\xff\xfe\x00garbage")
    assert tokenizer_vocab(model / "tokenizer.json")[1] == vocab
    # The file rewritten (new times): its cache is made again from the new bytes.
    config = json.loads((model / "tokenizer.json").read_text("utf-8"))
    config["model"]["vocab"]["zzzznewtoken"] = len(config["model"]["vocab"])
    (model / "tokenizer.json").write_text(json.dumps(config), "utf-8")
    assert tokenizer_vocab(model / "tokenizer.json")[1]["zzzznewtoken"] == len(vocab)


def _safetensors(path: Path, header: dict[str, object], data: bytes) -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def test_the_table_is_mapped_only_when_it_lies_inside_the_file(tmp_path: Path) -> None:
    data = np.arange(12, dtype="<f2").tobytes()
    good = _safetensors(tmp_path / "good.safetensors",
                        {"embeddings": {"dtype": "F16", "shape": [3, 4], "data_offsets": [0, 24]}}, data)
    assert np.array_equal(mapped_table(good, "embeddings"), np.arange(12, dtype=np.float16).reshape(3, 4))
    crafted = [
        {"embeddings": {"dtype": "F16", "shape": [300, 4], "data_offsets": [0, 2400]}},  # beyond the end
        {"embeddings": {"dtype": "F16", "shape": [3, 4], "data_offsets": [0, 20]}},  # size disagrees
        {"embeddings": {"dtype": "F16", "shape": [12], "data_offsets": [0, 24]}},  # not 2-d
        {"embeddings": {"dtype": "I64", "shape": [3, 1], "data_offsets": [0, 24]}},  # not a float table
        {"embeddings": {"dtype": "F16", "shape": [3, 4], "data_offsets": [-8, 16]}},  # before the data
        {"other": {"dtype": "F16", "shape": [3, 4], "data_offsets": [0, 24]}},  # no such tensor
    ]
    for n, header in enumerate(crafted):
        with pytest.raises(ValueError):
            mapped_table(_safetensors(tmp_path / f"bad{n}.safetensors", header, data), "embeddings")
    (tmp_path / "huge.safetensors").write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    with pytest.raises(ValueError):
        mapped_table(tmp_path / "huge.safetensors", "embeddings")


def test_a_model_with_a_damaged_table_is_model_not_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESEARCH_CACHE", str(tmp_path / "cache"))
    model = _model_copy(tmp_path)
    raw = (model / "model.safetensors").read_bytes()
    (model / "model.safetensors").write_bytes(raw[: len(raw) // 2])  # the table runs past the end
    with pytest.raises(ModelNotFound):
        StaticEmbedder(model)
