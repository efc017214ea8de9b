"""Preference pairs (``preference_data``, ``preference_variants``): schema, realism, the split, no leaks.

The pairs are made from chapter 7's bundled instructions split exactly as the chapter splits them
(``split_instructions(entries, seed=123)``); every claim below is checked on all of them.
"""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from llmscratch.finetune.correctness import correct
from llmscratch.finetune.instruct import load_responses, save_responses
from llmscratch.finetune.instruct_data import CLOSED_KINDS, load_instructions, split_instructions
from llmscratch.finetune.instruct_kinds import KINDS
from llmscratch.finetune.normalize import normalize, words
from llmscratch.finetune.preference_data import (
    PAIR_FIELDS,
    assign_splits,
    make_pairs,
    on_policy_pairs,
    preference_splits,
    validate_pairs,
)
from llmscratch.finetune.preference_variants import KIND_VARIANTS, VARIANTS, rejected_answer

ENTRIES = load_instructions()
CH07 = split_instructions(ENTRIES, seed=123)  # chapter 7's call
SPLITS = preference_splits(seed=123)
ALL = SPLITS.train + SPLITS.val + SPLITS.test
NAMES = ("train", "val", "test")


def _prompt(x):
    return x["instruction"], x["input"]


# ---------------------------------------------------------------------------------------------
# The split follows chapter 7's, and nothing leaks across it
# ---------------------------------------------------------------------------------------------


def test_each_split_holds_one_pair_per_prompt_of_chapter_7s_split():
    for name in NAMES:
        pairs, entries = getattr(SPLITS, name), getattr(CH07, name)
        assert Counter(_prompt(p) for p in pairs) == Counter(_prompt(e) for e in entries), name
        outputs = {_prompt(e): e["output"] for e in entries}
        assert all(p["chosen"] == outputs[_prompt(p)] for p in pairs)  # chosen = the reference answer
    assert SPLITS.sizes() == CH07.sizes()


def test_no_prompt_is_in_two_splits():
    seen = {name: {normalize(" ".join(_prompt(p))) for p in getattr(SPLITS, name)} for name in NAMES}
    assert (
        not seen["train"] & seen["val"]
        and not seen["train"] & seen["test"]
        and not seen["val"] & seen["test"]
    )


def test_no_held_out_reference_is_in_a_training_pair():
    """A training pair must not hold a validation or test reference in either slot, unless its own
    prompt shows it (a record's other field, "Bergen", is fair: the prompt gave it away). Answers that
    ignores_input borrows come from the same split only. Closed kinds repeat answers by construction."""

    def leaks_from(pair):
        own_prompt = f" {normalize(' '.join(_prompt(pair)))} "
        texts = {normalize(pair["chosen"]), normalize(pair["rejected"])}
        return {t for t in texts if f" {t} " not in own_prompt}

    train_texts = set().union(*(leaks_from(p) for p in SPLITS.train if p["kind"] not in CLOSED_KINDS))
    for name in ("val", "test"):
        held = [p for p in getattr(SPLITS, name) if p["kind"] not in CLOSED_KINDS]
        leaks = [p for p in held if normalize(p["chosen"]) in train_texts]
        assert not leaks, f"{len(leaks)} {name} references appear in training pairs, e.g. {leaks[0]}"


def test_assign_splits_sends_a_pair_to_its_prompts_split_and_rejects_unknown_prompts():
    moved = assign_splits(ALL, CH07)
    for name in NAMES:
        assert sorted(map(_prompt, getattr(moved, name))) == sorted(map(_prompt, getattr(SPLITS, name)))
    stranger = {**ALL[0], "instruction": "A question nobody asked."}
    with pytest.raises(ValueError, match="none of the splits"):
        assign_splits([stranger], CH07)


def test_pairs_are_reproducible_and_depend_on_the_seed():
    assert preference_splits(seed=123) == SPLITS
    other = preference_splits(seed=123, pair_seed=7)
    assert other.sizes() == SPLITS.sizes()
    assert other.train != SPLITS.train and Counter(map(_prompt, other.train)) == Counter(
        map(_prompt, SPLITS.train)
    )


# ---------------------------------------------------------------------------------------------
# The rejected answers: wrong by the chapter's own rule, realistic, every variant present
# ---------------------------------------------------------------------------------------------


def test_the_schema_holds_for_every_pair():
    assert validate_pairs(ALL) == ALL
    assert all(tuple(p) == PAIR_FIELDS for p in ALL)


def test_every_rejected_answer_is_wrong_except_rambling_which_is_right_but_longer():
    for p in ALL:
        if p["variant"] == "rambling":
            assert (
                p["chosen"].strip() in p["rejected"]
                and len(words(p["rejected"])) >= len(words(p["chosen"])) + 15
            )
        else:
            assert correct(p["rejected"], p["chosen"], p["kind"]) == 0.0, p


def test_rule_made_variants_keep_the_references_sentence():
    """Not noise: a wrong number, order or word changes a few words of the reference's sentence."""
    for p in ALL:
        if p["variant"] in ("wrong_number", "wrong_order", "wrong_word"):
            chosen, rejected = Counter(words(p["chosen"])), Counter(words(p["rejected"]))
            assert (
                len(list((chosen - rejected).elements())) <= 3
                and len(list((rejected - chosen).elements())) <= 3
            ), p
            if p["chosen"].endswith("."):
                assert p["rejected"].endswith("."), p  # a sentence for a sentence


def test_every_kind_gets_its_own_variant_and_every_variant_occurs():
    by_kind = Counter((p["kind"], p["variant"]) for p in ALL)
    for kind in KINDS:
        assert by_kind[(kind, "rambling")] > 0, kind
        if kind in KIND_VARIANTS:
            assert by_kind[(kind, KIND_VARIANTS[kind])] > 0, kind
        if kind not in CLOSED_KINDS:
            assert by_kind[(kind, "ignores_input")] > 0, kind
    assert set(SPLITS.variants()) == set(VARIANTS)


def test_every_variant_gives_one_pair_per_variant_the_kind_allows():
    pairs = make_pairs(CH07.val, every_variant=True)
    per_prompt = Counter(_prompt(p) for p in pairs)
    for entry in CH07.val:
        allowed = 1 + (entry["kind"] in KIND_VARIANTS) + (entry["kind"] not in CLOSED_KINDS)
        assert per_prompt[_prompt(entry)] == allowed, entry


@pytest.mark.parametrize(
    ("kind", "output", "inp", "variant", "expected"),
    [
        ("plural", 'The plural of "mouse" is "mice".', "", "wrong_word", 'The plural of "mouse" is "mouses".'),
        ("plural", 'The plural of "city" is "cities".', "", "wrong_word", 'The plural of "city" is "citys".'),
        ("past_tense", 'The past tense of "go" is "went".', "", "wrong_word", 'The past tense of "go" is "goed".'),
        ("past_tense", 'The past tense of "stop" is "stopped".', "", "wrong_word", 'The past tense of "stop" is "stoped".'),
        ("antonym", 'The opposite of "big" is "small".', "", "wrong_word", 'The opposite of "big" is "large".'),
        ("synonym", 'A synonym for "big" is "large".', "", "wrong_word", 'A synonym for "big" is "small".'),
        ("chemical_symbol", "The chemical symbol for sodium is Na.", "", "wrong_word", "The chemical symbol for sodium is So."),
        ("sentiment", "The sentiment is negative.", "It was awful.", "wrong_word", "The sentiment is positive."),
        ("compare_numbers", "431 is larger than 122.", "", "wrong_order", "122 is larger than 431."),
        ("unit_conversion", "20 degrees Celsius is 68 degrees Fahrenheit.", "", "wrong_number", "20 degrees Celsius is 52 degrees Fahrenheit."),
        ("grammar_fix", "She plays the piano.", "She play the piano.", "copies_input", "She play the piano."),
    ],
)  # fmt: skip
def test_hand_checked_rejected_answers(kind, output, inp, variant, expected):
    entry = {"instruction": "x", "input": inp, "output": output, "kind": kind}
    assert rejected_answer(entry, variant, random.Random(0)) == expected


def test_table_lookup_reads_another_row_or_column_of_the_same_table():
    table = "fruit | price (cents) | in stock\npears | 25 | 86\nplums | 40 | 72\nfigs | 70 | 60"
    entry = {"instruction": "Look up the price of pears.", "input": table, "output": "Pears cost 25 cents.", "kind": "table_lookup"}  # fmt: skip
    got = {rejected_answer(entry, "wrong_number", random.Random(s)) for s in range(30)}
    assert got == {"Pears cost 40 cents.", "Pears cost 70 cents.", "Pears cost 86 cents."}


def test_closed_kinds_never_borrow_another_answer_and_unknown_variants_are_refused():
    entry = {
        "instruction": "x",
        "input": "Great.",
        "output": "The sentiment is positive.",
        "kind": "sentiment",
    }
    assert rejected_answer(entry, "ignores_input", random.Random(0), pool=ENTRIES) is None
    with pytest.raises(ValueError, match="variant must be one of"):
        rejected_answer(entry, "wrong_colour", random.Random(0))


# ---------------------------------------------------------------------------------------------
# On-policy pairs from a model's saved answers
# ---------------------------------------------------------------------------------------------

RECORDS = [
    {"instruction": "Which is bigger, 122 or 431?", "input": "", "output": "431 is larger than 122.",
     "kind": "compare_numbers", "response_before": "122 is larger than 431.", "response_after": "431."},
    {"instruction": "Give the plural form of the noun below.", "input": "mouse", "output": 'The plural of "mouse" is "mice".',
     "kind": "plural", "response_before": "mouses mouses mouses", "response_after": " mouses mouses mouses "},
    {"instruction": "Convert 5 kilometers to meters.", "input": "", "output": "5 kilometers is 5,000 meters.",
     "kind": "unit_conversion", "response_before": "", "response_after": "It is 5000 meters."},
]  # fmt: skip


def test_on_policy_pairs_keep_only_wrong_non_empty_distinct_answers(tmp_path):
    path = tmp_path / "responses.json"
    entries = [{k: r[k] for k in ("instruction", "input", "output", "kind")} for r in RECORDS]
    save_responses(path, entries, [r["response_before"] for r in RECORDS], key="response_before")
    save_responses(path, load_responses(path), [r["response_after"] for r in RECORDS], key="response_after")
    pairs = on_policy_pairs(load_responses(path))
    assert [(p["instruction"][:14], p["rejected"]) for p in pairs] == [
        ("Which is bigge", "122 is larger than 431."),  # after: "431." is right, so only "before" is taken
        ("Give the plura", "mouses mouses mouses"),  # the same wrong answer twice is taken once
    ]  # the third: before is empty, after is right in other words
    assert all(p["variant"] == "on_policy" and p["chosen"] == r["output"] for p, r in zip(pairs, RECORDS))
    assert validate_pairs(pairs) == pairs
    assert (
        on_policy_pairs(load_responses(path), keys=("response_after",))[0]["rejected"]
        == "mouses mouses mouses"
    )


def test_on_policy_pairs_of_test_answers_land_in_the_test_split():
    records = [{**e, "response_after": "I do not know."} for e in CH07.test[:20]]
    moved = assign_splits(on_policy_pairs(records), CH07)
    assert moved.sizes() == (0, 0, 20)


@pytest.mark.parametrize(
    ("records", "error", "words"),
    [
        ([{"instruction": "x"}], ValueError, "record 0"),
        ([{**RECORDS[0], "response_before": 3}], TypeError, "'response_before' must be a str"),
    ],
)
def test_on_policy_bad_records_give_one_clear_error(records, error, words):
    with pytest.raises(error, match=words):
        on_policy_pairs(records)


# ---------------------------------------------------------------------------------------------
# Schema errors
# ---------------------------------------------------------------------------------------------

GOOD = dict(ALL[0])


@pytest.mark.parametrize(
    ("pair", "error", "words"),
    [
        ("not a pair", TypeError, "pair 1 must be a dict"),
        (
            {k: v for k, v in GOOD.items() if k != "rejected"},
            ValueError,
            "pair 1 is missing the field(s) ['rejected']",
        ),
        ({**GOOD, "chosen": None}, TypeError, "pair 1: field 'chosen' must be a str"),
        ({**GOOD, "rejected": "  "}, ValueError, "pair 1: field 'rejected' is empty"),
        ({**GOOD, "rejected": GOOD["chosen"]}, ValueError, "pair 1: 'rejected' equals 'chosen'"),
        ({**GOOD, "variant": "noise"}, ValueError, "pair 1: field 'variant' must be one of"),
    ],
)
def test_schema_errors_name_the_pair_and_the_field(pair, error, words):
    with pytest.raises(error, match=re.escape(words)):
        validate_pairs([GOOD, pair])
