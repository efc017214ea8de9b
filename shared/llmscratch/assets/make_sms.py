"""Generate the bundled spam/ham text messages (``sms_messages.tsv``) from templates and fact lists we wrote.

Run ``python -m llmscratch.assets.make_sms`` to (re)write the file; the output depends only on
``SEED`` and the lists in ``sms_tables`` (facts, kinds, templates), and a test checks that the
committed file equals this module's output. This module holds the code: the template language
(``expand``), the phone-keyboard roughening (``roughen``) and the generator (``make_messages``).

How a message is made (see ``SOURCES.md``):

1. pick a *kind* (a plan with a friend, a delivery scam, a real bank code, ...), each with a few
   templates written by us;
2. expand the template: ``[a|b|c]`` picks one alternative (an empty one makes a part optional),
   ``{slot}`` draws from a fact list (names, places, amounts, made-up shops and web addresses);
3. roughen it like a phone keyboard would: text-speak (``you`` -> ``u``), dropped capitals,
   swapped or missing letters, missing final punctuation, now and then SHOUTING.

The kinds are chosen so that a bag of words cannot separate the classes cleanly: many genuine
messages talk about prizes, codes, links, money and urgency (a raffle win, a real one-time code, a
link to holiday photos, "call me now"), and some spam is written casually, without a single
tell-tale word ("hi mum, new number", "hey, is this Sam? we met at the gym").

Format: one message per line, ``label<TAB>text``, labels ``ham`` or ``spam``, no header (the
layout of the UCI SMS Spam Collection, so one parser reads both).

>>> expand("[Hi|Hey] {name}", random.Random(0), {"name": ["Ada"]}) in {"Hi Ada", "Hey Ada"}
True
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from ..fileio import atomic_write
from .sms_tables import (
    AMBIGUOUS,
    CLOSERS,
    FACTS,
    HAM,
    OPENERS,
    SHORTENERS,
    SPAM,
    TEXTSPEAK,
    URL_ENDS,
    URL_WORDS,
)

SEED = 2026
N_HAM = 1_100
N_SPAM = 500
OUTPUT = Path(__file__).parent / "sms_messages.tsv"

AMBIGUOUS_SHARE = 0.06  # of each class: drawn from sms_tables.AMBIGUOUS, which both classes share


def make_url(rng: random.Random) -> str:
    """An invented web address: a link shortener or two joined words, then a random path."""
    path = "".join(
        rng.choice("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        for _ in range(rng.randint(4, 6))
    )
    if rng.random() < 0.4:
        return f"{rng.choice(SHORTENERS)}/{path}"
    host = rng.choice(URL_WORDS) + rng.choice(["", "-", ""]) + rng.choice(URL_WORDS)
    return f"{rng.choice(['', 'www.', 'https://'])}{host}.{rng.choice(URL_ENDS)}/{path.lower()}"


def make_phone(rng: random.Random) -> str:
    """An invented UK-style mobile number (07700 900xxx is reserved for drama, so never real)."""
    return f"07700 900{rng.randint(0, 999):03d}"


GENERATED = {"url": make_url, "phone": make_phone}

_CHOICE = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{(\w+)\}")


def expand(template: str, rng: random.Random, facts: dict[str, list[str]] = FACTS) -> str:
    """Fill ``[a|b]`` choices and ``{slot}`` facts in ``template``; tidy spaces."""
    text = template
    while (m := _CHOICE.search(text)) is not None:
        text = text[: m.start()] + rng.choice(m.group(1).split("|")) + text[m.end() :]

    def fill(m: re.Match) -> str:
        slot = m.group(1)
        if slot == "punct":
            return rng.choice(["!", ".", ",", ""])
        return GENERATED[slot](rng) if slot in GENERATED else rng.choice(facts[slot])

    text = _SLOT.sub(fill, text)
    return re.sub(r"\s+([,.!?])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()


def roughen(text: str, rng: random.Random, casualness: float) -> str:
    """Make ``text`` look typed on a phone: text-speak, lower case, typos, lost punctuation."""
    if rng.random() < casualness:
        for pattern, short in TEXTSPEAK:
            if rng.random() < 0.6:
                text = re.sub(pattern, short, text, flags=re.IGNORECASE)
    if rng.random() < casualness * 0.7:
        text = text.lower()
    if rng.random() < casualness * 0.8 and len(text) > 8:  # 1-3 keyboard slips inside words
        for _ in range(rng.randint(1, 3)):
            words = text.split(" ")
            i = rng.randrange(len(words))
            w = words[i]
            if len(w) > 3 and w.isalpha():
                j = rng.randrange(1, len(w) - 1)
                w = rng.choice(
                    [w[:j] + w[j + 1] + w[j] + w[j + 2 :], w[:j] + w[j + 1 :], w[:j] + w[j] + w[j:]]
                )
                words[i] = w
            text = " ".join(words)
    if rng.random() < casualness * 0.5:
        text = text.rstrip(".!")
    return text


def _kinds(table: dict[str, tuple[float, list[str]]]) -> tuple[list[str], list[float]]:
    return list(table), [w for w, _ in table.values()]


def make_messages(seed: int = SEED, n_ham: int = N_HAM, n_spam: int = N_SPAM) -> list[tuple[str, str]]:
    """``n_ham + n_spam`` distinct ``(label, text)`` pairs in a seeded random order."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for label, table, n, casualness in (("ham", HAM, n_ham, 0.6), ("spam", SPAM, n_spam, 0.45)):
        kinds, weights = _kinds(table)
        count = 0
        while count < n:
            if rng.random() < AMBIGUOUS_SHARE:
                kind, text = "ambiguous", expand(rng.choice(AMBIGUOUS), rng)
            else:
                kind = rng.choices(kinds, weights)[0]
                text = expand(rng.choice(table[kind][1]), rng)
            if label == "spam" and kind != "casual" and rng.random() < 0.12:
                text = text.upper()  # the classic SHOUTING spam
            if label == "ham" and rng.random() < 0.15:  # two thoughts in one message
                extra = expand(rng.choice(table[rng.choices(kinds, weights)[0]][1]), rng)
                text = f"{text} {extra}" if text[-1:] in ".!?x" else f"{text}. {extra}"
            # The same openers and closers for both classes, so that "hi", "now" or a link are no give-away.
            if rng.random() < 0.25:
                text = f"{expand(rng.choice(OPENERS), rng)} {text[:1].lower() + text[1:]}"
            if rng.random() < 0.2:
                end = expand(rng.choice(CLOSERS), rng)
                text = f"{text} {end}" if text[-1:] in ".!?x" else f"{text}. {end}"
            text = roughen(text, rng, casualness if kind != "casual" else 0.6)
            if text and text not in seen:
                seen.add(text)
                out.append((label, text))
                count += 1
    rng.shuffle(out)
    return out


def to_tsv(messages: list[tuple[str, str]]) -> str:
    """The file's text: ``label<TAB>text`` per line, newline-terminated."""
    for _label, text in messages:
        if "\t" in text or "\n" in text:
            raise ValueError(f"message {text!r} contains a tab or newline; the TSV format cannot hold it")
    return "".join(f"{label}\t{text}\n" for label, text in messages)


def main(path: Path = OUTPUT) -> Path:
    """Write the bundled file (atomically) and return its path."""
    with atomic_write(path, "wb") as f:  # bytes: the same "\n" line ends on every OS
        f.write(to_tsv(make_messages()).encode("utf-8"))
    return path


if __name__ == "__main__":
    print(f"wrote {main()}")
