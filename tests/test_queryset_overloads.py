"""The hand-written query-set benchmark counts each relevant key once."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from codesearch.bench import queryset


def test_two_overloads_of_a_target_are_one_hit(tmp_path: Path) -> None:
    """Overloads share `path::qualname`: two of them in the top 10 are one right answer, not
    two (NDCG@10 above 1 on three plain-English queries before)."""
    (tmp_path / "src" / "r").mkdir(parents=True)
    data = {"repos": {"r": {"language": "python", "root": "r"}},
            "queries": [{"repo": "r", "query": "parse it", "relevant": ["a.py::parse"]}]}
    (tmp_path / "q.json").write_text(json.dumps(data))
    hits = [SimpleNamespace(path="a.py", qualname="parse"), SimpleNamespace(path="a.py", qualname="parse"),
            SimpleNamespace(path="b.py", qualname="other")]
    result = queryset.run(tmp_path / "q.json", tmp_path / "src", {"fake": lambda repo, root: lambda text, k: hits})
    scores = result.systems["fake"]
    assert scores["ndcg@10"] == 1.0 and scores["mrr"] == 1.0
    [row] = result.per_query["fake"]
    assert (row["repo"], row["query"], row["mrr"], row["relevant"]) == ("r", "parse it", 1.0, ["a.py::parse"])
    assert row["ranked"] == [["a.py::parse"], ["b.py::other"]]
