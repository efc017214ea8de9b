"""No leakage in the split chapter 7 uses: the bundled set, ``split_instructions(entries, seed=123)``.

Two kinds of leak, both compared after normalization (case, punctuation, spacing ignored; a prompt
keeps the minus sign of its numbers, since "-10 °C" and "10 °C" are different questions):

1. a test (or validation) *prompt*, instruction + input, that also appears in training: the model
   would be tested on a question it was trained on;
2. a test (or validation) *reference* that also appears among the training *outputs*: the model
   could score by repeating an answer it memorised, whatever the question (three extracted fields,
   "Lyon", "chemist", "Turku", leaked this way before the split grouped equal answers).

Closed-answer kinds are exempt from 2, because their answers repeat by construction: a sentiment
answer is one of two sentences ("The sentiment is positive." / "... negative."), so every test
answer is a training answer, and must be, or the model could never learn the label. The exemption
is one explicit list, ``instruct_data.CLOSED_KINDS``, checked here to hold only kinds with a
handful of distinct answers.
"""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from llmscratch.finetune.instruct_data import CLOSED_KINDS, load_instructions, split_instructions
from llmscratch.finetune.instruct_kinds import KINDS
from llmscratch.finetune.metrics import normalize

ENTRIES = load_instructions()
SPLITS = split_instructions(ENTRIES, seed=123)  # exactly the chapter's call


def _prompt(entry):
    return " ".join(re.findall(r"-?[0-9]+|[a-z]+", f"{entry['instruction']} {entry['input']}".lower()))


def test_the_exempt_kinds_are_listed_with_a_reason_and_really_are_closed():
    assert set(CLOSED_KINDS) == {"sentiment"}
    for kind, reason in CLOSED_KINDS.items():
        assert kind in KINDS and len(reason) > 20
        answers = {normalize(e["output"]) for e in ENTRIES if e["kind"] == kind}
        assert len(answers) <= 5, (
            f"{kind} has {len(answers)} distinct answers: it is not a closed-answer kind"
        )


def test_no_test_or_validation_prompt_appears_in_training():
    train = {_prompt(e) for e in SPLITS.train}
    for name, part in (("test", SPLITS.test), ("validation", SPLITS.val)):
        leaks = [e for e in part if _prompt(e) in train]
        assert not leaks, f"{len(leaks)} {name} prompts are also training prompts, e.g. {leaks[0]}"


def test_no_open_ended_test_reference_appears_among_training_outputs():
    train = {normalize(e["output"]) for e in SPLITS.train}
    for name, part in (("test", SPLITS.test), ("validation", SPLITS.val)):
        leaks = [e for e in part if e["kind"] not in CLOSED_KINDS and normalize(e["output"]) in train]
        assert not leaks, (
            f"{len(leaks)} {name} references are training outputs too "
            f"({dict(Counter(e['kind'] for e in leaks))}), e.g. {leaks[0]}"
        )


def test_closed_kinds_do_share_answers_so_the_exemption_is_needed():
    """Without the exemption the test above would fail on sentiment: every test label is seen in training."""
    train = {normalize(e["output"]) for e in SPLITS.train}
    for kind in CLOSED_KINDS:
        test = [e for e in SPLITS.test if e["kind"] == kind]
        assert test and all(normalize(e["output"]) in train for e in test)


def test_sizes_stay_close_to_85_5_10_per_kind():
    n = Counter(e["kind"] for e in ENTRIES)
    for name, part, fraction in (
        ("train", SPLITS.train, 0.85),
        ("val", SPLITS.val, 0.05),
        ("test", SPLITS.test, 0.10),
    ):
        got = Counter(e["kind"] for e in part)
        for kind in KINDS:
            assert abs(got[kind] - fraction * n[kind]) <= max(2, 0.05 * n[kind]), (
                name,
                kind,
                got[kind],
                n[kind],
            )


@pytest.mark.parametrize("seed", [0, 1, 7, 123])
def test_equal_answers_stay_in_one_split_for_any_seed(seed):
    """On made-up data with many repeated answers, a repeated answer never straddles two splits,
    except in a closed kind, which is split entry by entry like any other stratified split."""
    rng = random.Random(seed)
    data = [
        {"instruction": f"Question {i} of {kind}?", "output": f"answer {rng.randrange(25)}", "kind": kind}
        for kind in ("open", "sentiment")
        for i in range(100)
    ]
    splits = split_instructions(data, seed=seed)
    where: dict[tuple[str, str], set[str]] = {}
    for name, part in (("train", splits.train), ("val", splits.val), ("test", splits.test)):
        for e in part:
            where.setdefault((e["kind"], normalize(e["output"])), set()).add(name)
    assert all(len(names) == 1 for (kind, _), names in where.items() if kind == "open")
    assert any(len(names) > 1 for (kind, _), names in where.items() if kind == "sentiment")
    assert sorted(map(len, (splits.train, splits.val, splits.test))) == sorted(splits.sizes())
    assert sum(splits.sizes()) == 200 and sum(e["kind"] == "sentiment" for e in splits.test) == 10
    assert (
        8 <= sum(e["kind"] == "open" for e in splits.test) <= 10
    )  # whole groups: never more than 10 %, a little less
