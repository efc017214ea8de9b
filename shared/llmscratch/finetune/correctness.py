"""Verifiable correctness: did the answer say the right thing, judged by a rule per task kind?

``metrics.py`` measures how much an answer *looks like* the reference (shared words, a common
subsequence). That rewards copying the reference's wording and misses what matters for checkable
tasks: "122 is larger than 431." shares every word with "431 is larger than 122." (token F1 = 1.0)
and is wrong. This module pulls the *answer* out of both texts with a rule per task kind of the
bundled set and compares the answers, so a right answer in other words counts and a wrong one in
the reference's words does not:

==========================================  =======================================================
kinds                                       the answer, and how it is compared
==========================================  =======================================================
plural, past_tense, antonym, synonym,       one word: the last "quoted" span, else the phrase after
spelling                                    the last " is ", else the whole text; case-insensitive.
                                            All phrase rules read the first sentence that states
                                            something ("is", "are" or a quote), so "Sure!" is skipped
capital, extract_field                      the phrase after the last " is " (else the whole text),
                                            up to the first , . ; ! or line end, without a leading
                                            article, or the subject before " is " ("Paris is the
                                            capital ..."); a bare-number reference wants that number
chemical_symbol                             as above, but case-sensitive ("Co" is not "CO")
arithmetic, table_lookup                    the *last* number stated, compared numerically
unit_conversion                             the last number stated *and* its unit: the reference's
                                            unit word must follow the number ("5,000 meters")
compare_numbers                             the numbers in order and the direction word (larger /
                                            bigger / greater vs smaller / less), or the answer
                                            number alone: "122 is larger than 431." is wrong
sort_list                                   the items in order (split at commas, "and" and line
                                            breaks; anything up to a colon is dropped); numbers
                                            compared as numbers
sentiment                                   exactly one of the labels "positive" / "negative"
definition (open-ended)                     the defining phrase after " is ", normalized and without
                                            a leading article, equal to the reference's
grammar_fix, formal_rewrite (open-ended)    the whole sentence, normalized (case, spacing,
                                            punctuation): articles are *kept*, since "a" vs "an"
                                            is the very fix
any other kind (Alpaca, say)                the whole text, normalized
==========================================  =======================================================

**What "verifiable" means for open-ended kinds.** A definition, a formal rewrite or a grammar fix
has more than one right answer, and no rule can recognise them all without a judge. We score them
against *our* reference after normalization, which is honest for grammar fixes (one word changes)
and strict for definitions and rewrites (a correct paraphrase scores 0); ``OPEN_ENDED`` lists them
so tables can say so, and ROUGE-L stays the more informative column there.

``correct(prediction, reference, kind) -> 1.0 | 0.0``; an answer the rule cannot find (no number,
both labels, an empty text) is wrong, never an error.
"""

from __future__ import annotations

import re
import unicodedata

from .normalize import normalize

__all__ = ["OPEN_ENDED", "RULES", "answer_phrase", "correct", "numbers"]

OPEN_ENDED = ("definition", "formal_rewrite", "grammar_fix")  # more than one right answer exists
ARTICLES = ("a", "an", "the")
_NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?![\d])|(?<![\w.])-?\d+(?:\.\d+)?")
_LARGER, _SMALLER = {"larger", "bigger", "greater", "higher", "more"}, {"smaller", "less", "lower", "fewer"}


def _clean(text: str) -> str:
    """Unicode-normalized text with curly quotes made straight and the ends stripped."""
    text = unicodedata.normalize("NFKC", text)
    return text.translate(str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})).strip()


def numbers(text: str) -> list[float]:
    """Every number in ``text``, in order; "5,000" is five thousand, a leading minus is kept.

    >>> numbers("-40 degrees Celsius is -40 degrees; 5 km is 5,000 m, or 5.5 miles")
    [-40.0, -40.0, 5.0, 5000.0, 5.5]
    """
    return [float(m.group().replace(",", "")) for m in _NUMBER.finditer(_clean(text))]


def _drop_article(phrase: str) -> str:
    first, _, rest = phrase.partition(" ")
    return rest if first in ARTICLES and rest else phrase


_STATES = re.compile(r"\b(?:is|are)\b")


def _statement(text: str) -> str:
    """The first sentence that states something (has "is"/"are" or a quote), else the first sentence."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n+", _clean(text)) if s.strip()]
    return next((s for s in sentences if _STATES.search(s) or '"' in s), sentences[0] if sentences else "")


def answer_phrase(
    text: str, *, quoted: bool = False, case_sensitive: bool = False, subject: bool = False
) -> str:
    """The answer part of a text, read from its first statement (``_statement``): the last "quoted"
    span (with ``quoted``), else what follows the last "is"/"are" up to the first , . ; ! ?, else the
    whole statement; normalized (see ``normalize.normalize``) and without a leading article. With
    ``subject``, what comes *before* the first "is"/"are" instead ("Paris is the capital of France.").

    >>> answer_phrase('Sure! The plural of "mouse" is "mice". Two "mice".', quoted=True)
    'mice'
    >>> answer_phrase("The capital of Peru is Lima, I think."), answer_phrase("Lima")
    ('lima', 'lima')
    >>> answer_phrase("The chemical symbol for cobalt is Co.", case_sensitive=True)
    'Co'
    >>> answer_phrase("Lima is the capital of Peru.", subject=True)
    'lima'
    """
    sentence = _statement(text)
    spans = re.findall(r'"([^"]+)"', sentence) if quoted else []
    if spans:
        phrase = spans[-1]
    elif subject:
        phrase = _STATES.split(sentence)[0] if _STATES.search(sentence) else ""
    else:
        phrase = _STATES.split(sentence)[-1]
        phrase = re.split(r"[,;!?]|\.(?!\d)", phrase.strip(), maxsplit=1)[0]
    if case_sensitive:
        return " ".join(re.findall(r"[A-Za-z0-9]+", phrase))
    return _drop_article(normalize(phrase))


def _same_phrase(prediction: str, reference: str, **kwargs) -> bool:
    """The answer phrase after "is" (or, unquoted, the subject before it) equals the reference's;
    a reference that is one bare number (an age) wants that number, alone."""
    if re.fullmatch(r"-?\d+", reference.strip()):
        return numbers(prediction) == numbers(reference)
    ref = answer_phrase(reference, **kwargs)
    candidates = {answer_phrase(prediction, **kwargs)}
    if not kwargs.get("quoted"):
        candidates.add(answer_phrase(prediction, subject=True, **kwargs))
    return bool(ref) and ref in candidates


def _last_number(prediction: str, reference: str) -> bool:
    pred, ref = numbers(prediction), numbers(reference)
    return bool(pred) and bool(ref) and pred[-1] == ref[-1]


def _number_with_unit(prediction: str, reference: str) -> bool:
    """The last number of each text, followed (within two words) by the reference's unit word."""

    def last_quantity(text: str) -> tuple[float, list[str]] | None:
        matches = list(_NUMBER.finditer(_clean(text)))
        if not matches:
            return None
        last = matches[-1]
        return float(last.group().replace(",", "")), normalize(_clean(text)[last.end() :]).split()[:2]

    pred, ref = last_quantity(prediction), last_quantity(reference)
    if pred is None or ref is None or not ref[1]:
        return False
    return pred[0] == ref[0] and ref[1][-1] in pred[1]


def _direction(text: str) -> set[str]:
    found = set(normalize(text).split())
    return {name for name, group in (("larger", _LARGER), ("smaller", _SMALLER)) if found & group}


def _compare(prediction: str, reference: str) -> bool:
    """Same numbers in the same order with the same direction word, or the answer number alone."""
    pred, ref = numbers(prediction), numbers(reference)
    if not pred or not ref:
        return False
    if pred == ref[:1]:
        return True  # "431" or "The larger number is 431."
    return pred == ref and _direction(prediction) == _direction(reference) != set()


def _items(text: str) -> list[str | float]:
    """List items in order: split at commas, "and" and line breaks, after dropping anything up to a
    colon; bullets and a final full stop go, numbers become floats, words are normalized."""
    parts = re.split(r",|\band\b|\n", _clean(text).split(":")[-1])
    items: list[str | float] = []
    for part in parts:
        part = re.sub(r"^\s*(?:[-*\u2022]\s+)?", "", part).strip().rstrip(".")
        if re.fullmatch(r"-?\d+(?:\.\d+)?", part):
            items.append(float(part))
        elif normalize(part):
            items.append(normalize(part))
    return items


def _same_list(prediction: str, reference: str) -> bool:
    """The same items in the same order."""
    ref = _items(reference)
    return bool(ref) and _items(prediction) == ref


def _label(text: str, labels: tuple[str, ...] = ("positive", "negative")) -> str | None:
    found = set(normalize(text).split()) & set(labels)
    return found.pop() if len(found) == 1 else None


def _sentiment(prediction: str, reference: str) -> bool:
    ref = _label(reference)
    return ref is not None and _label(prediction) == ref


def _definition(prediction: str, reference: str) -> bool:
    """The defining phrase: the first statement after its first "is" (commas kept), no leading article."""

    def defining(text: str) -> str:
        sentence = _statement(text)
        return _drop_article(normalize(re.split(r"\bis\b", sentence, maxsplit=1)[-1]))

    ref = defining(reference)
    return bool(ref) and defining(prediction) == ref


def _whole(prediction: str, reference: str) -> bool:
    return bool(normalize(reference)) and normalize(_clean(prediction).strip('"')) == normalize(reference)


RULES = {
    **dict.fromkeys(
        ("plural", "past_tense", "antonym", "synonym", "spelling"),
        lambda p, r: _same_phrase(p, r, quoted=True),
    ),
    **dict.fromkeys(("capital", "extract_field"), _same_phrase),
    "chemical_symbol": lambda p, r: _same_phrase(p, r, case_sensitive=True),
    **dict.fromkeys(("arithmetic", "table_lookup"), _last_number),
    "unit_conversion": _number_with_unit,
    "compare_numbers": _compare,
    "sort_list": _same_list,
    "sentiment": _sentiment,
    "definition": _definition,
    **dict.fromkeys(("grammar_fix", "formal_rewrite"), _whole),
}


def correct(prediction: str, reference: str, kind: str | None = None) -> float:
    """1.0 if ``prediction`` gives the reference's answer under ``kind``'s rule (see the module table), else 0.0.

    >>> correct("431 is larger than 122.", "431 is larger than 122.", "compare_numbers")
    1.0
    >>> correct("122 is larger than 431.", "431 is larger than 122.", "compare_numbers")
    0.0
    >>> correct("It is 5000 meters", "5 kilometers is 5,000 meters.", "unit_conversion")
    1.0
    """
    if not isinstance(prediction, str) or not isinstance(reference, str):
        raise TypeError(
            f"prediction and reference must be str, got {type(prediction).__name__} and {type(reference).__name__}"
        )
    rule = RULES.get(kind or "", _whole)
    return float(rule(prediction, reference))
