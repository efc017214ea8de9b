"""Chapter 7's instruction kinds whose answer is worked out from values in the question.

Unit conversions, arithmetic word problems, look-ups in a small made-up table, sorting, extracting a
field from a record and comparing two numbers: random values go in, the answer is computed from them.
Its neighbour ``instruct_kinds`` holds the kinds that ask about words and facts from the tables
(plurals, antonyms, capitals, spelling, ...) and the ``KINDS`` registry that lists both.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from .instruct_tables import CITIES, FIRST_NAMES, FRUITS, ITEMS, JOBS, SORT_WORDS, SURNAMES, UNITS, pluralize

Item = tuple[str, str, str, str]  # (key, instruction, input, output); the key names the question


def _join(items: list[str]) -> str:
    return ", ".join(items)


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
