"""rl_tasks: every checker on right, wrong and malformed answers; held-out questions never trained on."""

from __future__ import annotations

import re

import pytest

from llmscratch.finetune.instruct_data import load_instructions, split_instructions
from llmscratch.finetune.prompts import format_prompt
from llmscratch.finetune.rl_tasks import (
    RL_KINDS,
    Task,
    chapter7_questions,
    make_rl_tasks,
    reward,
    well_formed,
)

# One hand-written task per kind, with answers a model might give: right ones in other words than the
# reference, wrong ones close to right, and malformed ones the checker finds nothing in.
CASES = {
    "compare_numbers": (
        Task("compare_numbers", "Which number is larger: 696 or 299?", "", "696 is larger than 299."),
        ["696 is larger than 299.", "696", "The larger number is 696.", "696 is bigger than 299"],
        ["299 is larger than 696.", "299", "696 is smaller than 299.", "The larger number is 299."],
        ["", "Both are numbers.", "larger", "I cannot tell."],
    ),
    "sort_list": (
        Task(
            "sort_list", "Sort these numbers from smallest to largest.", "34, 66, 47, 19", "19, 34, 47, 66."
        ),
        ["19, 34, 47, 66", "Sorted: 19, 34, 47, 66.", "19, 34, 47 and 66"],
        ["66, 47, 34, 19", "19, 34, 66, 47.", "19, 34, 47", "19, 34, 47, 66, 70"],
        ["", "Sure!", "numbers"],
    ),
    "arithmetic": (
        Task(
            "arithmetic",
            "Solve this word problem.",
            "Ada has 3 coins and gets 4 more.",
            "3 + 4 = 7. Ada has 7 coins.",
        ),
        ["7", "3 + 4 = 7", "Ada has 7 coins now."],
        ["8", "3 + 4 = 8. Ada has 8 coins.", "Ada had 7 coins, now 12."],
        ["", "seven", "Ada has some coins."],
    ),
    "unit_conversion": (
        Task("unit_conversion", "Convert 30 days to hours.", "", "30 days is 720 hours."),
        ["720 hours", "30 days is 720 hours.", "That is 720 hours."],
        ["720 minutes", "30 days is 700 hours.", "30 days is 72 hours."],
        ["", "720", "a lot of hours"],
    ),
}


def test_every_rl_kind_has_its_cases():
    assert set(CASES) == set(RL_KINDS)


@pytest.mark.parametrize("kind", RL_KINDS)
def test_right_answers_get_1_wrong_and_malformed_get_0(kind):
    task, right, wrong, malformed = CASES[kind]
    assert [reward(r, task) for r in right] == [1.0] * len(right)
    assert [reward(w, task) for w in wrong] == [0.0] * len(wrong)
    assert [reward(m, task) for m in malformed] == [0.0] * len(malformed)


@pytest.mark.parametrize("kind", RL_KINDS)
def test_the_format_bonus_rewards_shape_not_correctness(kind):
    task, right, wrong, malformed = CASES[kind]
    assert reward(right[0], task, format_bonus=0.1) == pytest.approx(1.1)
    assert reward(wrong[0], task, format_bonus=0.1) == pytest.approx(0.1)  # wrong, but well formed
    assert [reward(m, task, format_bonus=0.1) for m in malformed] == [0.0] * len(malformed)
    assert not well_formed(right[0] + "\n" + right[0], kind)  # one line only
    assert not well_formed("   ", kind)


@pytest.mark.parametrize("kind", RL_KINDS)
def test_every_generated_reference_is_right_by_its_own_checker(kind):
    tasks = make_rl_tasks([kind], n_train=60, n_heldout=20, seed=3)
    for task in tasks.train + tasks.heldout:
        assert reward(task.output, task) == 1.0, task
        assert well_formed(task.output, kind), task


def test_bad_input_gives_one_clear_error():
    task = CASES["arithmetic"][0]
    with pytest.raises(TypeError, match="must be str"):
        reward(7, task)
    with pytest.raises(TypeError, match="task must be a Task"):
        reward("7", {"kind": "arithmetic"})
    with pytest.raises(ValueError, match="format_bonus must be in"):
        reward("7", task, format_bonus=1.0)
    with pytest.raises(ValueError, match="kinds must be a non-empty selection"):
        make_rl_tasks(["plural"])
    with pytest.raises(ValueError, match="not both 0"):
        make_rl_tasks(n_train=0, n_heldout=0)
    with pytest.raises(ValueError, match="unit_conversion has only 507 questions"):
        make_rl_tasks(["unit_conversion"], n_train=600, n_heldout=100)
    with pytest.raises(ValueError, match="kind must be one of"):
        well_formed("7", "plural")


def _key(text: str) -> str:
    """Prompt identity, written independently of the package: words and signed numbers, lower-cased."""
    return " ".join(re.findall(r"-?[0-9]+|[a-z]+", text.lower()))


TASKS = make_rl_tasks(n_train=150, n_heldout=40, seed=0)


def test_sizes_kinds_and_prompt_layout():
    assert TASKS.sizes() == (4 * 150, 4 * 40)
    for part, n in ((TASKS.train, 150), (TASKS.heldout, 40)):
        assert {k: sum(t.kind == k for t in part) for k in RL_KINDS} == dict.fromkeys(RL_KINDS, n)
    task = TASKS.train[0]
    assert task.prompt == format_prompt({"instruction": task.instruction, "input": task.input})


def test_no_prompt_appears_twice_or_in_two_splits():
    train = [_key(t.prompt) for t in TASKS.train]
    heldout = [_key(t.prompt) for t in TASKS.heldout]
    assert len(set(train)) == len(train) and len(set(heldout)) == len(heldout)
    assert not set(train) & set(heldout)


def test_no_task_asks_a_chapter7_question():
    entries = load_instructions()
    chapter7_test = {_key(format_prompt(e)) for e in split_instructions(entries, seed=123).test}
    chapter7_all = {_key(format_prompt(e)) for e in entries}
    ours = {_key(t.prompt) for t in TASKS.train + TASKS.heldout}
    assert not ours & chapter7_test
    assert not ours & chapter7_all  # stronger: not even in another phrasing of the same words


def test_chapter7_questions_are_the_bundled_ones():
    entries = load_instructions()
    for kind in RL_KINDS:
        assert len(chapter7_questions(kind)) == sum(e["kind"] == kind for e in entries)


def test_the_split_is_seeded():
    again = make_rl_tasks(n_train=150, n_heldout=40, seed=0)
    assert again.train == TASKS.train and again.heldout == TASKS.heldout
    other = make_rl_tasks(n_train=150, n_heldout=40, seed=1)
    assert {t.prompt for t in other.heldout} != {t.prompt for t in TASKS.heldout}
