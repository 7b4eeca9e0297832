"""Code-aware text normalisation shared by documents and queries.

Identifiers carry most of the meaning in code, but a WordPiece vocabulary splits
``parseJsonString`` into meaningless pieces. Splitting camelCase, PascalCase and
snake_case into words first lets the static model see ``parse json string``.
"""

from __future__ import annotations

import re

# Bump when the normalisation changes: it is part of the model fingerprint, so an
# index built with the old text pipeline asks for a rebuild.
TEXT_PIPELINE_VERSION = "1"

# Two passes that consume the character before each boundary: faster than one pattern
# of zero-width lookarounds tried at every position, with identical output.
_LOWER_UPPER = re.compile(r"([a-z0-9])(?=[A-Z])")  # parseJson -> parse Json
_ACRONYM_WORD = re.compile(r"([A-Z])(?=[A-Z][a-z])")  # HTTPServer -> HTTP Server
_UNDERSCORES = re.compile(r"_+")


def split_identifiers(text: str) -> str:
    """Split camelCase, PascalCase and snake_case identifiers into space-separated words.

    >>> split_identifiers("parseJsonString(HTTPServer, max_retry_count)")
    'parse Json String(HTTP Server,  max retry count)'
    """
    return _ACRONYM_WORD.sub(r"\1 ", _LOWER_UPPER.sub(r"\1 ", _UNDERSCORES.sub(" ", text)))
