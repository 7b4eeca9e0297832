"""A code vocabulary: frequent identifier words that the teacher's tokenizer splits into pieces."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

from codesearch.embed.text import split_identifiers

_WORD = re.compile(r"[a-z]{3,24}")


def code_vocabulary(texts: Iterable[str], in_vocabulary: Callable[[str], bool], size: int,
                    min_count: int = 5) -> list[str]:
    """The ``size`` most frequent words of ``texts`` (after identifier splitting and lower-casing).

    Only alphabetic words of 3 to 24 letters that occur at least ``min_count`` times and
    are not already one token (``in_vocabulary``) qualify, most frequent first.
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_WORD.findall(split_identifiers(text).lower()))
    words = [(n, w) for w, n in counts.items() if n >= min_count and not in_vocabulary(w)]
    words.sort(key=lambda item: (-item[0], item[1]))
    return [w for _, w in words[:size]]
