"""Pre-tokenization: how text is cut into chunks before any merge (merges never cross a chunk).

- ``GPT2_PATTERN`` (from ``gpt2_tokenizer.py``) and ``GPT4_PATTERN``, by name in ``PATTERNS``;
- special tokens are cut out first (``_special_regex``), and text that cannot be UTF-8 encoded
  (lone surrogates) is repaired as tiktoken does (``_valid_unicode``).

Shared by the tokenizer (``tokenizer.py``) and the trainers (``train.py``), so both split text the
same way.
"""

from __future__ import annotations

import functools

import regex

from ..gpt2_tokenizer import GPT2_PATTERN

# GPT-4's (cl100k) pre-tokenization pattern as first published in tiktoken: case-insensitive
# contractions, a letter run with at most one leading non-letter, digits in groups of at most
# three, punctuation runs with trailing newlines, then whitespace. It runs unchanged in Python's
# ``regex`` and in tiktoken's Rust engine.
GPT4_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
PATTERNS = {"gpt2": GPT2_PATTERN, "gpt4": GPT4_PATTERN}

def _valid_unicode(text: str) -> str:
    """``text`` unchanged, or with invalid surrogates replaced by U+FFFD (as tiktoken does).

    Lone surrogates cannot be UTF-8 encoded; a surrogate *pair* written as two code points is
    joined into the character it stands for.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _resolve_pattern(pattern: str) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"pattern must be 'gpt2', 'gpt4' or a regex string, got {pattern!r}")
    return PATTERNS.get(pattern, pattern)


def _compile(pattern: str) -> regex.Pattern:
    try:
        return regex.compile(pattern)
    except regex.error as err:
        raise ValueError(f"pattern {pattern!r} is not a valid regex: {err}") from err


@functools.lru_cache(maxsize=64)
def _special_regex(specials: frozenset[str]) -> regex.Pattern:
    # Longest first, so a special token that contains another one wins.
    return regex.compile("|".join(regex.escape(s) for s in sorted(specials, key=lambda s: (-len(s), s))))
