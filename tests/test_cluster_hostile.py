"""Hostile input to queries, index-many's workspace and `codesearch serve`, mostly without Ray."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest

from codesearch.errors import BadQuery, IndexCorrupt, IndexUnavailable
from codesearch.manifest import Manifest
from codesearch.pipeline import build_index
from codesearch.query import analyse
from codesearch.search import validate_query
from tests.conftest import write

# --- 1. queries: linear analysis, a length cap -------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["A", "_", "a-", "a.", "aA", "a::", "a/", "Ab ", "x" * 50 + ".py "])
def test_a_60kb_adversarial_query_is_analysed_in_well_under_a_second(unit: str) -> None:
    text = (unit * (60_000 // len(unit) + 1))[:60_000]
    started = time.perf_counter()
    analyse(text)
    assert time.perf_counter() - started < 0.5


def test_the_linear_patterns_classify_queries_as_the_old_ones() -> None:
    """The same texts look like code and like paths as with the quadratic patterns they replace."""
    from codesearch import query

    old_camel = re.compile(r"[a-z0-9][A-Z]|[A-Z]{2,}[a-z]")
    old_path = re.compile(r"[\w.-]*/[\w./-]*|[\w-]+\.(?:py|js|jsx|mjs|cjs|ts|tsx|java|php|rb|go)\b")
    rng = random.Random(6)
    texts = ["HTTPAdapter", "parseJSON", "middleware/compress.go", "app.py", "Sinatra::Base", "x.pyc", "foo-bar.ts",
             "a.b.c.rb", "README", "/", "ABc", "-x.go", "é.py"]
    texts += ["".join(rng.choice("aAbBzZ09_-./:$ \\é") for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    texts += ["".join(rng.choice(["py", "go", ".", "/", "A", "b", "-", " ", "_"]) for _ in range(rng.randint(1, 8)))
              for _ in range(3000)]
    for text in texts:
        assert bool(query._CAMEL.search(text)) == bool(old_camel.search(text)), text
        assert query._looks_like_path(text) == bool(old_path.search(text)), text
        if text.strip():
            analyse(text)


def test_a_query_over_the_limit_is_refused_in_one_line() -> None:
    assert validate_query("x" * 2000) == "x" * 2000  # the limit: a long sentence, never a pasted file
    assert validate_query("  parse a url  ") == "parse a url"
    with pytest.raises(BadQuery, match=r"query too long \(60,000 characters; the limit is 2,000\)"):
        validate_query("  " + "x" * 60_000 + "\n")


def test_the_cli_refuses_a_long_query_before_opening_an_index(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from codesearch.cli import cli

    result = CliRunner().invoke(cli, ["search", "a" * 5000, str(tmp_path)])
    assert result.exit_code == 2 and "query too long" in result.output
