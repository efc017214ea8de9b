"""One generator per kind of chapter 7's bundled instruction (plurals, arithmetic, sentiment, ...).

Each yields ``(key, instruction, input, output)``; the key names the underlying question, so a
question is asked once however many phrasings exist, and every output is computed, never typed.
``KINDS`` maps each kind's name to its generator; ``instruct_gen`` runs them all.

This module holds the kinds that ask about words and facts from ``instruct_tables`` (plurals, past
tenses, antonyms, capitals, spelling, sentiment, definitions, formal rewrites, grammar); the kinds
whose answer is computed from numbers or a record in the question (arithmetic, unit conversion,
sorting, table look-ups, field extraction, comparisons) live in ``instruct_kinds_compute``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from .instruct_kinds_compute import (
    Item,
    _arithmetic,
    _compare,
    _extract,
    _sort,
    _table_lookup,
    _units,
)
from .instruct_tables import (
    ANTONYMS,
    ARTICLE_FRAMES,
    ARTICLE_NOUNS,
    CAPITALS,
    DEFINITIONS,
    DOUBLING_PAST,
    ELEMENTS,
    FIRST_NAMES,
    GRAMMAR_OBJECTS,
    GRAMMAR_VERBS,
    IRREGULAR_PAST,
    IRREGULAR_PLURALS,
    NEGATIVE,
    POSITIVE,
    REGISTER_PARTS,
    REGULAR_NOUNS,
    REGULAR_VERBS,
    SENTIMENT_SUBJECTS,
    SPELLING_WORDS,
    SYNONYMS,
    past_tense,
    pluralize,
    third_person,
)

__all__ = ["KINDS", "Item"]


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _plural(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        ('What is the plural of "{w}"?', ""),
        ("Give the plural form of the noun below.", "{w}"),
        ('Write the plural of the word "{w}".', ""),
        ("Turn this noun into its plural.", "{w}"),
        ('How do you say more than one "{w}"?', ""),
    ]
    for w in REGULAR_NOUNS + list(IRREGULAR_PLURALS):
        ins, inp = rng.choice(phrasings)
        yield w, ins.format(w=w), inp.format(w=w), f'The plural of "{w}" is "{pluralize(w)}".'


def _past(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        ('What is the past tense of "{w}"?', ""),
        ("Give the simple past form of the verb below.", "{w}"),
        ('Write the past tense of the verb "to {w}".', ""),
        ("Change this verb to the simple past tense.", "{w}"),
        ("Yesterday I ___ (to {w}). Fill in the verb in the past tense.", ""),
    ]
    for w in REGULAR_VERBS + list(DOUBLING_PAST) + list(IRREGULAR_PAST):
        ins, inp = rng.choice(phrasings)
        yield w, ins.format(w=w), inp.format(w=w), f'The past tense of "{w}" is "{past_tense(w)}".'


def _antonym(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        ('What is the opposite of "{w}"?', ""),
        ("Give an antonym for the word below.", "{w}"),
        ('Name a word that means the opposite of "{w}".', ""),
        ("Find the antonym of this word.", "{w}"),
    ]
    for w, a in ANTONYMS:
        ins, inp = rng.choice(phrasings)
        yield w, ins.format(w=w), inp.format(w=w), f'The opposite of "{w}" is "{a}".'


def _synonym(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        ('Give a synonym for "{w}".', ""),
        ("Suggest a word that means the same as the word below.", "{w}"),
        ('What is another word for "{w}"?', ""),
        ("Find a synonym of this word.", "{w}"),
    ]
    for w, s in SYNONYMS:
        ins, inp = rng.choice(phrasings)
        yield w, ins.format(w=w), inp.format(w=w), f'A synonym for "{w}" is "{s}".'


def _capital(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        ("What is the capital of {c}?", ""),
        ("Name the capital city of the country below.", "{c}"),
        ("Which city is the capital of {c}?", ""),
        ("Tell me the capital of {c}.", ""),
    ]
    for country, city in CAPITALS:
        ins, inp = rng.choice(phrasings)
        name = country[0].upper() + country[1:]
        yield country, ins.format(c=country), inp.format(c=name), f"The capital of {country} is {city}."


def _element(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        ("What is the chemical symbol for {e}?", ""),
        ("Give the chemical symbol of the element below.", "{e}"),
        ("Which symbol stands for {e} in the periodic table?", ""),
    ]
    for element, symbol in ELEMENTS:
        ins, inp = rng.choice(phrasings)
        yield (
            element,
            ins.format(e=element),
            inp.format(e=element),
            f"The chemical symbol for {element} is {symbol}.",
        )


def _misspell(word: str, rng: random.Random) -> str:
    """Swap two neighbouring inner letters (never the first), so the word is wrong but recognisable."""
    while True:
        i = rng.randrange(1, len(word) - 2)
        wrong = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if wrong != word:
            return wrong


def _spelling(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        ('Correct the spelling of "{x}".', ""),
        ("This word is misspelled. Write it correctly.", "{x}"),
        ('How do you spell "{x}" correctly?', ""),
        ("Fix the spelling mistake in the word below.", "{x}"),
    ]
    for word in SPELLING_WORDS:
        wrong = _misspell(word, rng)
        ins, inp = rng.choice(phrasings)
        yield word, ins.format(x=wrong), inp.format(x=wrong), f'The correct spelling is "{word}".'


def _sentiment(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        "Classify the sentiment of this sentence as positive or negative.",
        "Is the following review positive or negative?",
        "Decide whether this sentence expresses a positive or a negative opinion.",
        "Label the sentiment of the text: positive or negative.",
    ]
    pairs = [(s, p, "positive") for s in SENTIMENT_SUBJECTS for p in POSITIVE] + [
        (s, p, "negative") for s in SENTIMENT_SUBJECTS for p in NEGATIVE
    ]
    for subject, predicate, label in rng.sample(pairs, 96):
        text = f"{subject} {predicate}."
        yield text, rng.choice(phrasings), text, f"The sentiment is {label}."


def _definition(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        'Define the word "{w}" in one sentence.',
        "What is {a}?",
        "Give a short definition of the word below.",
        'Explain what the word "{w}" means.',
    ]
    for word, meaning in DEFINITIONS:
        ins = rng.choice(phrasings)
        inp = word if "below" in ins else ""
        yield word, ins.format(w=word, a=_a(word)), inp, f"{_a(word).capitalize()} is {meaning}."


def _register(rng: random.Random) -> Iterator[Item]:
    combos = [
        (a, b, c, d, e)
        for a in REGISTER_PARTS[0]
        for b in REGISTER_PARTS[1]
        for c in REGISTER_PARTS[2]
        for d in REGISTER_PARTS[3]
        for e in REGISTER_PARTS[4]
    ]
    for g, req, obj, when, close in rng.sample(combos, 90):
        informal = f"{g[0]}, {req[0]} {obj[0]} {when[0]}. {close[0]}"
        formal = f"{g[1]}, {req[1]} {obj[1]} {when[1]}. {close[1]}"
        ins = rng.choice(
            [
                "Rewrite this message in a formal tone.",
                "Make the following note more formal and polite.",
                "Turn this casual message into formal English.",
            ]
        )
        yield informal, ins, informal, formal


def _grammar(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        "Correct the grammar of this sentence.",
        "Fix the grammatical mistake in the sentence below.",
        "Rewrite the sentence with correct grammar.",
        "There is one grammar error here. Correct it.",
    ]
    subjects = [
        "She",
        "He",
        "My brother",
        "Our neighbour",
        "The teacher",
        "My sister",
        "Grandpa",
    ] + FIRST_NAMES[:8]
    agreement = [(s, o) for s in subjects for o in GRAMMAR_OBJECTS]
    for subject, obj in rng.sample(agreement, 60):
        verb = GRAMMAR_VERBS[obj]
        wrong, right = f"{subject} {verb} {obj}.", f"{subject} {third_person(verb)} {obj}."
        yield wrong, rng.choice(phrasings), wrong, right
    articles = [(n, f) for n in ARTICLE_NOUNS for f in ARTICLE_FRAMES]
    for noun, frame in rng.sample(articles, 35):
        wrong, right = frame.format(x=f"a {noun}"), frame.format(x=f"an {noun}")
        yield wrong, rng.choice(phrasings), wrong, right


KINDS: dict[str, Callable[[random.Random], Iterator[Item]]] = {
    "plural": _plural,
    "past_tense": _past,
    "antonym": _antonym,
    "synonym": _synonym,
    "unit_conversion": _units,
    "arithmetic": _arithmetic,
    "capital": _capital,
    "chemical_symbol": _element,
    "table_lookup": _table_lookup,
    "spelling": _spelling,
    "sentiment": _sentiment,
    "definition": _definition,
    "sort_list": _sort,
    "extract_field": _extract,
    "formal_rewrite": _register,
    "grammar_fix": _grammar,
    "compare_numbers": _compare,
}
