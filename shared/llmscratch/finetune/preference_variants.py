"""Rejected answers made by rule: one realistic way to be wrong per task kind, and the variant's name.

Preference tuning needs, for each prompt, an answer people prefer (our reference) and one they do
not. ``preference_data`` pairs them; this module writes the *rejected* side. Every variant keeps the
reference's sentence so that only what matters differs (a model cannot tell them apart by style):

===============  =================================================================================
variant          what goes wrong (kinds)
===============  =================================================================================
wrong_number     a plausible slip: off by one, two or ten, or the other operation (arithmetic);
                 a unit factor off by ten, or Celsius + 32 without the 9/5 (unit_conversion);
                 the next row's cell, or the other column (table_lookup)
wrong_order      two neighbours swapped, or the opposite direction (sort_list); the two numbers
                 swapped round the same direction word (compare_numbers)
wrong_word       an over-regularized form ("mouses", "goed"), a synonym for an antonym and back, a
                 misspelling, another country's capital, a symbol read off the name ("So" for
                 sodium), another field of the record, the other sentiment label
copies_input     the input handed back unchanged: the grammar error or the casual tone kept
                 (grammar_fix, formal_rewrite)
ignores_input    a well-formed answer to *another* question of the same kind, as if the prompt's
                 word, numbers or record had not been read (every kind but sentiment)
rambling         the right answer wrapped in filler: an opener, a generic explanation, a closer
                 (every kind); the one variant that is not wrong, only needlessly long
===============  =================================================================================

``rejected_answer(entry, variant, rng, pool)`` returns the text, or ``None`` when the variant
cannot be made for that entry (a list whose neighbours are all equal, say). Except for
``rambling``, every text it returns is judged wrong by ``correctness.correct`` (a test checks all).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from .correctness import correct
from .instruct_data import CLOSED_KINDS
from .instruct_tables import ANTONYMS, CAPITALS, SYNONYMS

__all__ = ["KIND_VARIANTS", "VARIANTS", "rejected_answer"]

VARIANTS = ("wrong_number", "wrong_order", "wrong_word", "copies_input", "ignores_input", "rambling")

# The kind-specific variant of each task kind (``definition`` has none: only the two generic ones).
KIND_VARIANTS = {
    **dict.fromkeys(("arithmetic", "unit_conversion", "table_lookup"), "wrong_number"),
    **dict.fromkeys(("sort_list", "compare_numbers"), "wrong_order"),
    **dict.fromkeys(
        (
            "plural",
            "past_tense",
            "antonym",
            "synonym",
            "spelling",
            "capital",
            "chemical_symbol",
            "extract_field",
            "sentiment",
        ),
        "wrong_word",
    ),
    **dict.fromkeys(("grammar_fix", "formal_rewrite"), "copies_input"),
}

_QUOTED_ANSWER = re.compile(r'^(.*)"([^"]+)"(\.?)$')  # ... "answer".
_SYNONYM_OF = {a: b for pair in SYNONYMS for a, b in (pair, pair[::-1])}
_ANTONYM_OF = {a: b for pair in ANTONYMS for a, b in (pair, pair[::-1])}


def _replace_quoted(output: str, word: str) -> str | None:
    match = _QUOTED_ANSWER.match(output)
    return f'{match.group(1)}"{word}"{match.group(3)}' if match else None


def _quoted(output: str) -> list[str]:
    return re.findall(r'"([^"]+)"', output)


def _wrong_plural(word: str, plural: str) -> str:
    """The plural rule misapplied: "mouses", "citys", "boxs"; a regular "-s" plural left singular."""
    return word if plural == word + "s" else word + "s"


def _wrong_past(verb: str, past: str) -> str:
    """Over-regularized ("goed", "stoped", "cryed"); a regular past left in the present ("walk")."""
    regular = verb + ("d" if verb.endswith("e") else "ed")
    return regular if regular != past else verb


def _wrong_spelling(word: str, rng: random.Random) -> str:
    """A double letter written once ("necesary"), else two inner neighbours swapped."""
    doubles = [i for i in range(len(word) - 1) if word[i] == word[i + 1]]
    if doubles:
        i = rng.choice(doubles)
        return word[:i] + word[i + 1 :]
    options = [i for i in range(1, len(word) - 2) if word[i] != word[i + 1]]
    i = rng.choice(options)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _wrong_symbol(element: str, symbol: str) -> str | None:
    """A symbol read off the name: its first two letters, or first and third ("So" for sodium)."""
    for guess in (element[:2], element[0] + element[2], element[:1]):
        guess = guess.capitalize()
        if guess != symbol:
            return guess
    return None


def _wrong_word(entry: dict, rng: random.Random) -> str | None:
    kind, output, inp = entry["kind"], entry["output"], entry.get("input") or ""
    quoted = _quoted(output)
    if kind == "plural" and len(quoted) == 2:
        return _replace_quoted(output, _wrong_plural(*quoted))
    if kind == "past_tense" and len(quoted) == 2:
        return _replace_quoted(output, _wrong_past(*quoted))
    if kind in ("antonym", "synonym") and len(quoted) == 2:
        word, answer = quoted
        confused = (_SYNONYM_OF if kind == "antonym" else _ANTONYM_OF).get(word)  # the opposite relation
        table = ANTONYMS if kind == "antonym" else SYNONYMS
        others = [b for a, b in table if a != word and b != answer]
        return _replace_quoted(output, confused if confused and confused != answer else rng.choice(others))
    if kind == "spelling" and len(quoted) == 1:
        return _replace_quoted(output, _wrong_spelling(quoted[0], rng))
    if kind == "capital":
        match = re.fullmatch(r"(The capital of .+ is )(.+)\.", output)
        if match:
            other = rng.choice([city for _, city in CAPITALS if city != match.group(2)])
            return f"{match.group(1)}{other}."
    if kind == "chemical_symbol":
        match = re.fullmatch(r"(The chemical symbol for (\w+) is )(\w+)\.", output)
        guess = _wrong_symbol(match.group(2), match.group(3)) if match else None
        return f"{match.group(1)}{guess}." if guess else None
    if kind == "extract_field":
        values = [v.strip() for v in re.findall(r"\w+: ([^.]+)\.", inp)]
        others = [v for v in values if v != output.strip()]
        return rng.choice(others) if others else None
    if kind == "sentiment":
        flipped = {"positive": "negative", "negative": "positive"}
        return re.sub(r"positive|negative", lambda m: flipped[m.group()], output, count=1)
    return None


def _wrong_number(entry: dict, rng: random.Random) -> str | None:
    kind, output, inp = entry["kind"], entry["output"], entry.get("input") or ""
    if kind == "arithmetic":
        match = re.fullmatch(r"(\d+) ([-+x/]) (\d+) = (\d+)\. (.+)", output)
        if not match:
            return None
        a, op, b, result, tail = match.groups()
        a, b, result = int(a), int(b), int(result)
        slips = {result + 1, result - 1, result + 2, result + 10, result - 10, a + b, abs(a - b), a * b}
        slips = sorted(s for s in slips if s >= 0 and s != result)
        wrong = rng.choice(slips)
        return f"{a} {op} {b} = {wrong}. " + re.sub(rf"\b{result}\b", str(wrong), tail)
    if kind == "unit_conversion":
        celsius = re.fullmatch(r"(-?\d+) degrees Celsius is (-?\d+) degrees Fahrenheit\.", output)
        if celsius:
            c, f = int(celsius.group(1)), int(celsius.group(2))
            wrong = c + 32 if c + 32 != f else 2 * c + 30  # the 9/5 forgotten; else the "double it" rule
            return None if wrong == f else f"{c} degrees Celsius is {wrong} degrees Fahrenheit."
        match = re.fullmatch(r"(\d+ \w+ is )([\d,]+)( \w+\.)", output)
        if not match:
            return None
        value = int(match.group(2).replace(",", ""))
        slips = [value * 10] + ([value // 10] if value % 10 == 0 else [value + 1])
        return f"{match.group(1)}{rng.choice(slips):,}{match.group(3)}"
    if kind == "table_lookup":
        rows = [line.split(" | ") for line in inp.splitlines()[1:]]
        asked = next((r for r in rows if r[0].lower() in output.lower()), None)
        numbers = re.findall(r"\d+", output)
        if asked is None or len(numbers) != 1:
            return None
        column = 1 if "cost" in output else 2
        other_rows = [r[column] for r in rows if r is not asked and r[column] != numbers[0]]
        other_column = asked[3 - column]
        wrong = rng.choice(other_rows) if other_rows and rng.random() < 0.7 else other_column
        return None if wrong == numbers[0] else output.replace(numbers[0], wrong)
    return None


def _wrong_order(entry: dict, rng: random.Random) -> str | None:
    output = entry["output"]
    if entry["kind"] == "compare_numbers":
        match = re.fullmatch(r"(\d+) is (\w+) than (\d+)\.", output)
        return f"{match.group(3)} is {match.group(2)} than {match.group(1)}." if match else None
    if entry["kind"] == "sort_list":
        items = output.rstrip(".").split(", ")
        if len(items) < 2:
            return None
        if rng.random() < 0.7:
            i = rng.randrange(len(items) - 1)
            items[i], items[i + 1] = items[i + 1], items[i]
        else:
            items = items[::-1]  # the opposite direction
        wrong = ", ".join(items) + "."
        return None if wrong == output else wrong
    return None


def _copies_input(entry: dict, rng: random.Random) -> str | None:
    inp = (entry.get("input") or "").strip()
    return inp if inp and inp != entry["output"].strip() else None


def _ignores_input(entry: dict, rng: random.Random, pool: Sequence[dict]) -> str | None:
    """Another entry's answer of the same kind, judged wrong for this entry (closed kinds: never)."""
    if entry["kind"] in CLOSED_KINDS:
        return None
    others = [
        e["output"]
        for e in pool
        if e["kind"] == entry["kind"]
        and e["output"] != entry["output"]
        and not correct(e["output"], entry["output"], entry["kind"])
    ]
    alike = [o for o in others if _shape(o) == _shape(entry["output"])]  # a city for a city, not an age
    return rng.choice(alike or others) if others else None


def _shape(text: str) -> tuple[int, bool, str]:
    """Word count, whether there is a digit, and the first word: answers of one shape read alike."""
    words = text.split()
    return len(words), any(c.isdigit() for c in text), words[0] if words else ""


_OPENERS = (
    "Sure! Let me think about this carefully before I answer.",
    "Great question! This is something a lot of people wonder about.",
    "Of course, I would be happy to help you with that.",
    "Let me go through this step by step so that nothing is missed.",
)
_CLOSERS = (
    "I hope this helps, and feel free to ask if you have any other questions!",
    "Let me know if you would like more examples like this one.",
    "Please double-check it yourself if this is for something important.",
)
_EXPLAIN = {
    "plural": "English plurals usually add an s, although quite a few common nouns have forms of their own.",
    "past_tense": "Most English verbs form the past tense with -ed, but many everyday verbs are irregular.",
    "antonym": "An antonym is a word whose meaning is the opposite of another word.",
    "synonym": "A synonym is a word that means the same, or nearly the same, as another word.",
    "unit_conversion": "To convert between units you multiply by the conversion factor between them.",
    "arithmetic": "Problems like this are solved by picking the right operation and applying it to the numbers.",
    "capital": "The capital is the city where a country's government usually sits.",
    "chemical_symbol": "Every element in the periodic table has a short symbol of one or two letters.",
    "table_lookup": "To read a table, you find the right row first and then the right column.",
    "spelling": "Spelling in English can be tricky, because words are not always written the way they sound.",
    "sentiment": "The sentiment of a sentence is the opinion or feeling it expresses.",
    "definition": "Definitions explain what a word means in a few simple words.",
    "sort_list": "Sorting means putting items in order, one after another.",
    "extract_field": "A record lists several fields, and each field has a name and a value.",
    "formal_rewrite": "Formal writing avoids slang and abbreviations and sounds more polite.",
    "grammar_fix": "In English the verb has to agree with its subject, and articles depend on the next sound.",
    "compare_numbers": "To compare two numbers, look at how many digits they have and then at each digit.",
}


def _rambling(entry: dict, rng: random.Random) -> str:
    answer = entry["output"].strip()
    if not answer.endswith((".", "!", "?")):
        answer = f"The answer is {answer}."
    explain = _EXPLAIN.get(entry["kind"], "There are a few things to keep in mind with a task like this.")
    return " ".join((rng.choice(_OPENERS), answer, explain, rng.choice(_CLOSERS)))


_MAKERS: dict[str, Callable[[dict, random.Random], str | None]] = {
    "wrong_number": _wrong_number,
    "wrong_order": _wrong_order,
    "wrong_word": _wrong_word,
    "copies_input": _copies_input,
    "rambling": _rambling,
}


def rejected_answer(entry: dict, variant: str, rng: random.Random, pool: Sequence[dict] = ()) -> str | None:
    """A rejected answer for ``entry`` of the given ``variant``, or ``None`` if it cannot be made.

    ``pool`` holds the entries ``ignores_input`` may borrow an answer from (give it the entry's own
    split, so no answer crosses splits).

    >>> e = {"instruction": "Which is bigger, 122 or 431?", "input": "", "output": "431 is larger than 122.",
    ...      "kind": "compare_numbers"}
    >>> rejected_answer(e, "wrong_order", random.Random(0))
    '122 is larger than 431.'
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if variant == "ignores_input":
        return _ignores_input(entry, rng, pool)
    return _MAKERS[variant](entry, rng)
