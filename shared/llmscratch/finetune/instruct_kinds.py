"""One generator per kind of chapter 7's bundled instruction (plurals, arithmetic, sentiment, ...).

Each yields ``(key, instruction, input, output)``; the key names the underlying question, so a
question is asked once however many phrasings exist, and every output is computed, never typed.
``KINDS`` maps each kind's name to its generator; ``instruct_gen`` runs them all.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from .instruct_tables import (
    ANTONYMS,
    ARTICLE_FRAMES,
    ARTICLE_NOUNS,
    CAPITALS,
    CITIES,
    DEFINITIONS,
    DOUBLING_PAST,
    ELEMENTS,
    FIRST_NAMES,
    FRUITS,
    GRAMMAR_OBJECTS,
    GRAMMAR_VERBS,
    IRREGULAR_PAST,
    IRREGULAR_PLURALS,
    ITEMS,
    JOBS,
    NEGATIVE,
    POSITIVE,
    REGISTER_PARTS,
    REGULAR_NOUNS,
    REGULAR_VERBS,
    SENTIMENT_SUBJECTS,
    SORT_WORDS,
    SPELLING_WORDS,
    SURNAMES,
    SYNONYMS,
    UNITS,
    past_tense,
    pluralize,
    third_person,
)

__all__ = ["KINDS", "Item"]


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _join(items: list[str]) -> str:
    return ", ".join(items)


Item = tuple[str, str, str, str]


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


def _units(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        ("Convert {v} {a} to {b}.", ""),
        ("How many {b} are in {v} {a}?", ""),
        ("Convert the quantity below to {b}.", "{v} {a}"),
        ("Express {v} {a} in {b}.", ""),
    ]
    for a, b, factor in UNITS:
        for v in sorted(rng.sample(range(2, 60), 9)):
            ins, inp = rng.choice(phrasings)
            ins, inp = ins.format(v=v, a=a, b=b), inp.format(v=v, a=a)
            yield f"{a}:{v}", ins, inp, f"{v} {a} is {v * factor:,} {b}."
    for c in sorted(rng.sample(range(-40, 101, 5), 12)):  # multiples of 5 Celsius are whole Fahrenheit
        f = c * 9 // 5 + 32
        ins, inp = rng.choice(
            [
                ("Convert {c} degrees Celsius to Fahrenheit.", ""),
                ("What is this temperature in degrees Fahrenheit?", "{c} °C"),
            ]
        )
        yield f"C:{c}", ins.format(c=c), inp.format(c=c), f"{c} degrees Celsius is {f} degrees Fahrenheit."


def _arithmetic(rng: random.Random) -> Iterator[Item]:
    for i in range(110):
        name, item = rng.choice(FIRST_NAMES), rng.choice(ITEMS)
        items = pluralize(item)
        op = i % 4
        if op == 0:
            a, b = rng.randint(3, 40), rng.randint(2, 30)
            q = f"{name} has {a} {items} and gets {b} more. How many {items} does {name} have now?"
            out = f"{a} + {b} = {a + b}. {name} has {a + b} {items}."
        elif op == 1:
            a = rng.randint(10, 60)
            b = rng.randint(2, a - 1)
            q = f"{name} had {a} {items} and gave {b} of them away. How many {items} are left?"
            out = f"{a} - {b} = {a - b}. {name} has {a - b} {items} left."
        elif op == 2:
            a, b = rng.randint(2, 12), rng.randint(2, 12)
            q = f"{name} fills {a} bags with {b} {items} each. How many {items} is that in total?"
            out = f"{a} x {b} = {a * b}. That is {a * b} {items} in total."
        else:
            b, each = rng.randint(2, 9), rng.randint(2, 12)
            a = b * each
            q = f"{name} shares {a} {items} equally among {b} friends. How many {items} does each friend get?"
            out = f"{a} / {b} = {each}. Each friend gets {each} {items}."
        ins, inp = rng.choice(
            [("Solve this word problem.", q), ("Answer the question and show the calculation.", q), (q, "")]
        )
        yield q, ins, inp, out


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


def _table_lookup(rng: random.Random) -> Iterator[Item]:
    """A small stock table we make up in the input, and a question about one cell of it."""
    seen = set()
    while len(seen) < 90:
        fruits = rng.sample(FRUITS, 4)
        prices = [rng.randint(1, 9) * 10 + rng.choice((0, 5)) for _ in fruits]
        stock = [rng.randint(5, 95) for _ in fruits]
        table = "fruit | price (cents) | in stock\n" + "\n".join(
            f"{f} | {p} | {s}" for f, p, s in zip(fruits, prices, stock)
        )
        if table in seen:
            continue
        seen.add(table)
        j = rng.randrange(4)
        if rng.random() < 0.5:
            ins = rng.choice(
                ["Using the table, how much do {f} cost?", "Look up the price of {f} in the table."]
            ).format(f=fruits[j])
            out = f"{fruits[j].capitalize()} cost {prices[j]} cents."
        else:
            ins = rng.choice(
                [
                    "Using the table, how many {f} are in stock?",
                    "According to the table, how many {f} are there?",
                ]
            ).format(f=fruits[j])
            out = f"There are {stock[j]} {fruits[j]} in stock."
        yield table, ins, table, out


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


def _sort(rng: random.Random) -> Iterator[Item]:
    for i in range(90):
        if i % 2 == 0:
            words = rng.sample(SORT_WORDS, rng.randint(4, 6))
            ins = rng.choice(
                [
                    "Sort these words in alphabetical order.",
                    "Put the following words in alphabetical order.",
                    "Arrange the words below from A to Z.",
                ]
            )
            yield _join(words), ins, _join(words), _join(sorted(words)) + "."
        else:
            nums = rng.sample(range(1, 100), rng.randint(4, 7))
            descending = rng.random() < 0.4
            ins = (
                "Sort these numbers from largest to smallest."
                if descending
                else rng.choice(
                    [
                        "Sort these numbers from smallest to largest.",
                        "Arrange the numbers below in ascending order.",
                    ]
                )
            )
            yield (
                _join(map(str, nums)) + str(descending),
                ins,
                _join(map(str, nums)),
                _join(map(str, sorted(nums, reverse=descending))) + ".",
            )


def _extract(rng: random.Random) -> Iterator[Item]:
    fields = {"name": "name", "age": "age", "city": "city", "job": "job"}
    for _ in range(90):
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        record = {
            "name": f"{first} {last}",
            "age": str(rng.randint(19, 78)),
            "city": rng.choice(CITIES),
            "job": rng.choice(JOBS),
        }
        order = rng.sample(list(fields), 4)
        text = " ".join(f"{k.capitalize()}: {record[k]}." for k in order)
        field = rng.choice(order)
        ins = rng.choice(
            [
                "Extract the person's {f} from the record.",
                "What is the {f} in this record?",
                "From the text below, give only the {f}.",
            ]
        ).format(f=fields[field])
        yield text + field, ins, text, record[field]


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


def _compare(rng: random.Random) -> Iterator[Item]:
    pairs = rng.sample([(a, b) for a in range(10, 1000, 7) for b in range(13, 1000, 11) if a != b], 80)
    for a, b in pairs:
        larger = rng.random() < 0.6
        if larger:
            ins, out = (
                rng.choice(["Which number is larger: {a} or {b}?", "Which is bigger, {a} or {b}?"]),
                f"{max(a, b)} is larger than {min(a, b)}.",
            )
        else:
            ins, out = (
                rng.choice(["Which number is smaller: {a} or {b}?", "Which is less, {a} or {b}?"]),
                f"{min(a, b)} is smaller than {max(a, b)}.",
            )
        yield f"{a},{b},{larger}", ins.format(a=a, b=b), "", out


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
