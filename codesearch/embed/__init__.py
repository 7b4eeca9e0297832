"""Embedders turn text into unit vectors. Every engine satisfies the ``Embedder`` protocol."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]  # shape (n, dim), rows L2-normalised


class Embedder(Protocol):
    """What indexing and search need from a model.

    ``fingerprint`` changes whenever the vectors would change (weights, tokenizer,
    text normalisation); the index stores it and refuses to mix fingerprints.
    """

    name: str
    fingerprint: str

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    def encode_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed code chunks."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed natural-language queries."""
        ...


__all__ = ["Embedder", "Vectors"]
