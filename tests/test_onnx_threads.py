"""The reranker's ONNX session does not spin idle threads (they lose to any other busy process)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHIPPED = Path(__file__).resolve().parents[1] / "codesearch/models/rerank-minilm-code/model.onnx"


@pytest.mark.skipif(not SHIPPED.is_file(), reason="no shipped reranker in this checkout")
def test_the_reranker_session_does_not_spin() -> None:
    from codesearch.rerank import load_reranker

    reranker = load_reranker()
    encoder = next(o for o in (reranker, *vars(reranker).values()) if hasattr(o, "session"))
    options = encoder.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
