"""Doc comment cleaning and identifier splitting."""

from __future__ import annotations

import pytest

from codesearch.embed.text import split_identifiers
from indexer.docs import clean_doc, first_paragraph


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ('"""Summary.\n\n    Details here.\n    """', "Summary.\n\nDetails here."),  # Python docstring
        ("r'''Raw doc.'''", "Raw doc."),  # string prefix and single quotes
        ("/**\n * Fetch a user.\n * @param id the id\n */", "Fetch a user.\n@param id the id"),  # JSDoc / Javadoc
        ("/* Block. */", "Block."),  # C block comment
        ("// Line one.\n// Line two.", "Line one.\nLine two."),  # Go / JS line comments
        ("/// Triple slash.", "Triple slash."),
        ("# Ruby comment.\n#   indented\n# flush", "Ruby comment.\n  indented\nflush"),  # keeps relative indent
        ("=begin\nEmbedded doc.\n=end", "Embedded doc."),  # Ruby block doc
        ("#[derive] not a doc but cleaned", "[derive] not a doc but cleaned"),
    ],
)
def test_clean_doc(raw: str, clean: str) -> None:
    """Comment markers and quotes are stripped, indentation normalised."""
    assert clean_doc(raw) == clean


def test_first_paragraph_joins_lines() -> None:
    """The CodeSearchNet query is the first paragraph on one line."""
    assert first_paragraph("Fetch a user\nby id.\n\nMore.") == "Fetch a user by id."


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("parseJsonString", "parse Json String"),
        ("parse_json_string", "parse json string"),
        ("HTTPServer", "HTTP Server"),
        ("getHTTPResponseCode", "get HTTP Response Code"),
        ("__init__", " init "),
        ("sha256sum", "sha256sum"),
        ("plain english words", "plain english words"),
    ],
)
def test_split_identifiers(text: str, words: str) -> None:
    """camelCase, PascalCase, acronyms and snake_case become words."""
    assert split_identifiers(text) == words


def test_split_identifiers_matches_the_lookaround_definition() -> None:
    """The two-pass implementation equals the one-pattern definition on random identifiers."""
    import random
    import re

    definition = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
    rng = random.Random(5)
    for _ in range(20_000):
        text = "".join(rng.choice("aAbBzZ09_ .") for _ in range(rng.randint(0, 24)))
        assert split_identifiers(text) == definition.sub(" ", re.sub(r"_+", " ", text)), text
