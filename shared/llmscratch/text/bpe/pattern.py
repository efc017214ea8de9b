r"""Pre-tokenization: how text is cut into chunks before any merge (merges never cross a chunk).

- ``GPT2_PATTERN`` (from ``text.gpt2``) and ``GPT4_PATTERN``, by name in ``PATTERNS``;
- special tokens are cut out first (``special_regex``), and text that cannot be UTF-8 encoded
  (lone surrogates) is repaired as tiktoken does (``valid_unicode``);
- ``FastSplitter`` gives the same chunks as ``regex`` for the GPT-2 and GPT-4 patterns about twice
  as fast, by running ASCII text on Python's built-in ``re`` engine (the tokenizer's encoder uses it;
  the test suite compares both on random text).

Shared by the tokenizer (``tokenizer.py``) and the trainers (``train.py``), so both split text the
same way.
"""

from __future__ import annotations

import functools
import re

import regex

from ..gpt2 import GPT2_PATTERN

# GPT-4's (cl100k) pre-tokenization pattern as first published in tiktoken: case-insensitive
# contractions, a letter run with at most one leading non-letter, digits in groups of at most
# three, punctuation runs with trailing newlines, then whitespace. It runs unchanged in Python's
# ``regex`` and in tiktoken's Rust engine.
GPT4_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
PATTERNS = {"gpt2": GPT2_PATTERN, "gpt4": GPT4_PATTERN}


def valid_unicode(text: str) -> str:
    """``text`` unchanged, or with invalid surrogates replaced by U+FFFD (as tiktoken does).

    Lone surrogates cannot be UTF-8 encoded; a surrogate *pair* written as two code points is
    joined into the character it stands for.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def resolve_pattern(pattern: str) -> str:
    """The regex behind a pattern name (``"gpt2"``, ``"gpt4"``), or ``pattern`` itself."""
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"pattern must be 'gpt2', 'gpt4' or a regex string, got {pattern!r}")
    return PATTERNS.get(pattern, pattern)


def compile_pattern(pattern: str) -> regex.Pattern:
    """``regex.compile``, with a ``ValueError`` naming the pattern if it is not a valid regex."""
    try:
        return regex.compile(pattern)
    except regex.error as err:
        raise ValueError(f"pattern {pattern!r} is not a valid regex: {err}") from err


# A cut before position p is safe when text[p - 2] and text[p] are printable, non-space ASCII and
# text[p - 1] is a newline: with the GPT-2 and GPT-4 patterns no chunk spans it, and the chunks on
# either side come out the same whether the two halves are cut apart or not (the one lookahead in
# the patterns, ``\s+(?!\S)``, cannot reach past a lone newline that follows a non-space).
_SAFE_CUT = re.compile(r"(?<=[!-~]\n)(?=[!-~])")


class FastSplitter:
    r"""``findall`` for the GPT-2 and GPT-4 patterns that gives exactly ``regex``'s chunks, faster.

    Python's built-in ``re`` engine cuts ASCII text about twice as fast as ``regex``, but it has no
    ``\p{L}`` (letter) or ``\p{N}`` (number). On ASCII text those are just ``[A-Za-z]`` and ``[0-9]``,
    so ``_ascii_pattern`` rewrites the pattern for ASCII text, with each class's members taken from
    ``regex`` itself. A text with some non-ASCII characters is cut at safe places (``_SAFE_CUT``,
    between lines) into pieces; ASCII pieces go to ``re``, the others to ``regex``.
    """

    def __init__(self, pattern: str, compiled: regex.Pattern):
        self.ascii = re.compile(_ascii_pattern(pattern), re.ASCII)
        self.unicode = compiled

    def findall(self, text: str) -> list[str]:
        if text.isascii():
            return self.ascii.findall(text)
        out: list[str] = []
        for piece in _SAFE_CUT.split(text):
            out += (self.ascii if piece.isascii() else self.unicode).findall(piece)
        return out


def fast_splitter(pattern: str, compiled: regex.Pattern) -> FastSplitter | regex.Pattern:
    """A ``FastSplitter`` for the GPT-2 and GPT-4 patterns (the safe-cut rule is proved for those
    two only), else ``compiled`` itself."""
    return FastSplitter(pattern, compiled) if pattern in PATTERNS.values() else compiled


def _ascii_class(name: str) -> str:
    r"""The ASCII characters ``regex`` matches with ``name`` (``\p{L}``, ``\p{N}``, ``\s``), as the
    inside of a character class (each one escaped)."""
    return "".join(f"\\x{ord(c):02x}" for c in regex.findall(name, "".join(map(chr, range(128)))))


def _ascii_pattern(pattern: str) -> str:
    r"""``pattern`` for ``re``, equal to it on ASCII text: ``\p{L}``, ``\p{N}``, ``\s``, ``\S`` spelled
    out as the ASCII characters ``regex`` gives them (only the escapes the GPT-2/GPT-4 patterns use).

    >>> _ascii_pattern(r" ?\p{N}+") == " ?[" + "".join(f"\\x{c:02x}" for c in b"0123456789") + "]+"
    True
    """
    out, i, in_class = [], 0, False
    while i < len(pattern):
        token = next((t for t in (r"\p{L}", r"\p{N}", r"\s") if pattern.startswith(t, i)), None)
        if token is not None:
            body = _ascii_class(token)
            out.append(body if in_class else f"[{body}]")
            i += len(token)
            continue
        if pattern.startswith(r"\S", i) and not in_class:
            out.append("[^" + _ascii_class(r"\s") + "]")
            i += 2
            continue
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=64)
def special_regex(specials: frozenset[str]) -> regex.Pattern:
    """One regex matching any of the special-token strings."""
    # Longest first, so a special token that contains another one wins.
    return regex.compile("|".join(regex.escape(s) for s in sorted(specials, key=lambda s: (-len(s), s))))
