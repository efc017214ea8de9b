"""How answers are compared as text: lower-cased words, punctuation and spacing ignored.

One tokenizer, ``words``, for every score of ``metrics`` and the rules of ``correctness`` (the
default tokenizer of ``rouge-score``, without stemming); ``normalize`` joins its words.
"""

from __future__ import annotations

import re

__all__ = ["normalize", "words"]

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-cased runs of letters and digits (punctuation and other characters separate words).

    >>> words("The plural of \\"Mouse\\" is \\"mice\\".")
    ['the', 'plural', 'of', 'mouse', 'is', 'mice']
    """
    return _WORD.findall(text.lower())


def normalize(text: str) -> str:
    """``words`` joined by single spaces: what ``exact_match`` compares.

    >>> normalize("  Paris!  ") == normalize("paris")
    True
    """
    return " ".join(words(text))
