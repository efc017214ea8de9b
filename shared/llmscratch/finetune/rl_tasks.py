"""Tasks a program can check, and their rewards: the data of reinforcement learning (GRPO).

Chapter 7 trains on answers written out in full; reinforcement learning with verifiable rewards
only needs *questions* and a rule that says whether an answer is right. Both exist already:

- the questions come from chapter 7's generators (``instruct_kinds.KINDS``), run with fresh seeds
  so they ask *new* questions: every question chapter 7's bundled set asks (in any of its splits,
  in any phrasing) is left out, so a model tuned in chapter 7 has never seen an answer to these;
- the rule is chapter 7's checker (``correctness.correct``), which reads the answer out of free
  text (the numbers and direction word of a comparison, the items of a sorted list, the last number
  of a sum, a number and its unit).

``make_rl_tasks(kinds, n_train, n_heldout, seed)`` returns ``RLTasks(train, heldout)``: per kind,
distinct questions dealt into the two parts in a seeded order, so no question (and no prompt)
lands in both. Each ``Task`` knows its prompt in chapter 7's layout (``prompts.format_prompt``).

``reward(response, task, format_bonus=0.0)`` is 1 for a right answer and 0 for a wrong one, plus
``format_bonus`` when the answer has the expected shape (``well_formed``: one line, with the
numbers or the list the checker looks for) whether right or not. A small bonus can help a model
that rarely answers in a checkable way at all; correctness stays what dominates the reward.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .correctness import correct, numbers
from .instruct_gen import SEED as CHAPTER7_SEED
from .instruct_kinds import KINDS
from .prompts import format_prompt

__all__ = ["RL_KINDS", "RLTasks", "Task", "chapter7_questions", "make_rl_tasks", "reward", "well_formed"]

RL_KINDS = ("compare_numbers", "sort_list", "arithmetic", "unit_conversion")  # all checkable by rule
MAX_ROUNDS = 200  # generator runs per kind before we conclude the kind has no more new questions


@dataclass(frozen=True)
class Task:
    """One question: chapter 7's fields (``output`` is the reference answer) and its ``kind``."""

    kind: str
    instruction: str
    input: str
    output: str

    @property
    def entry(self) -> dict[str, str]:
        """The chapter-7 entry (``format_prompt(task.entry, style=...)`` for another layout)."""
        return {
            "instruction": self.instruction,
            "input": self.input,
            "output": self.output,
            "kind": self.kind,
        }

    @property
    def prompt(self) -> str:
        """The prompt in chapter 7's layout, ending where the model's response begins."""
        return format_prompt(self.entry)


@dataclass
class RLTasks:
    """The training questions and the held-out ones (never asked in training)."""

    train: list[Task]
    heldout: list[Task]

    def sizes(self) -> tuple[int, int]:
        return len(self.train), len(self.heldout)


def _check_kinds(kinds: Sequence[str]) -> None:
    unknown = [k for k in kinds if k not in RL_KINDS]
    if unknown or not kinds:
        raise ValueError(f"kinds must be a non-empty selection of {RL_KINDS}, got {tuple(kinds)}")


def chapter7_questions(kind: str) -> set[str]:
    """The keys of the questions chapter 7's bundled set asks for ``kind`` (see ``instruct_gen``).

    The generator of a kind, seeded as ``instruct_gen.generate_instructions`` seeds it, yields the
    same questions in the same order, so their keys are exactly the bundled file's questions.
    """
    return {key for key, *_ in KINDS[kind](random.Random(f"{CHAPTER7_SEED}:{kind}"))}


def _new_questions(kind: str, n: int, seed: int) -> list[Task]:
    """``n`` distinct questions of ``kind`` that chapter 7 does not ask, in the order generated."""
    excluded, seen_prompts, tasks = chapter7_questions(kind), set(), []
    for round_ in range(MAX_ROUNDS):
        for key, instruction, inp, output in KINDS[kind](random.Random(f"rl:{seed}:{kind}:{round_}")):
            task = Task(kind, instruction, inp, output)
            prompt = " ".join(task.prompt.lower().split())
            if key in excluded or prompt in seen_prompts:
                continue
            excluded.add(key)  # a question is asked once, whatever its phrasing
            seen_prompts.add(prompt)
            tasks.append(task)
            if len(tasks) == n:
                return tasks
    raise ValueError(
        f"{kind} has only {len(tasks)} questions that chapter 7 does not ask (after {MAX_ROUNDS} rounds); "
        f"ask for at most that many (train + held-out), not {n}"
    )


def make_rl_tasks(
    kinds: Sequence[str] = RL_KINDS, *, n_train: int = 200, n_heldout: int = 50, seed: int = 0
) -> RLTasks:
    """``n_train`` training and ``n_heldout`` held-out questions per kind, none from chapter 7.

    Per kind, ``n_train + n_heldout`` distinct questions are generated and dealt in a seeded order:
    the first ``n_heldout`` are held out. Both lists are shuffled (kinds mixed) with ``seed``.

    >>> tasks = make_rl_tasks(["compare_numbers"], n_train=3, n_heldout=2)
    >>> tasks.sizes(), tasks.train[0].kind
    ((3, 2), 'compare_numbers')
    """
    _check_kinds(kinds)
    if n_train < 0 or n_heldout < 0 or n_train + n_heldout == 0:
        raise ValueError(f"n_train and n_heldout must be >= 0 and not both 0, got {n_train} and {n_heldout}")
    train, heldout = [], []
    for kind in dict.fromkeys(kinds):  # each kind once, in the order given
        tasks = _new_questions(kind, n_train + n_heldout, seed)
        random.Random(f"rl:{seed}:{kind}:split").shuffle(tasks)
        heldout += tasks[:n_heldout]
        train += tasks[n_heldout:]
    rng = random.Random(seed)
    rng.shuffle(train)
    rng.shuffle(heldout)
    return RLTasks(train, heldout)


_SHAPES = {  # kind -> does the response have the shape the checker reads? (checked on one line)
    "compare_numbers": lambda text: 1 <= len(numbers(text)) <= 2,  # the answer, or both numbers
    "arithmetic": lambda text: len(numbers(text)) >= 1,
    "unit_conversion": lambda text: re.search(r"\d\s*[A-Za-z]", text) is not None,  # a number and a unit
    "sort_list": lambda text: text.count(",") >= 1,  # at least two items
}


def well_formed(response: str, kind: str) -> bool:
    """Whether ``response`` is one non-empty line with what ``kind``'s checker reads (right or not).

    >>> well_formed("431 is larger than 122.", "compare_numbers"), well_formed("I think so", "compare_numbers")
    (True, False)
    >>> well_formed("3, 1, 2", "sort_list"), well_formed("3, 1,\\n2", "sort_list")
    (True, False)
    """
    if not isinstance(response, str):
        raise TypeError(f"response must be a str, got {type(response).__name__}")
    if kind not in _SHAPES:
        raise ValueError(f"kind must be one of {tuple(_SHAPES)}, got {kind!r}")
    text = response.strip()
    return bool(text) and "\n" not in text and _SHAPES[kind](text)


def reward(response: str, task: Task, *, format_bonus: float = 0.0) -> float:
    """1.0 for a right answer, 0.0 for a wrong one (chapter 7's ``correct``), plus ``format_bonus``
    if the response is ``well_formed``.

    >>> task = Task("arithmetic", "What is 2 + 3?", "", "2 + 3 = 5.")
    >>> reward("5", task), reward("2 + 3 = 6", task), reward("6", task, format_bonus=0.1)
    (1.0, 0.0, 0.1)
    """
    if not isinstance(task, Task):
        raise TypeError(f"task must be a Task, got {type(task).__name__}")
    if not 0.0 <= format_bonus < 1.0:
        raise ValueError(
            f"format_bonus must be in [0, 1): a small bonus that never outweighs a right answer, got {format_bonus}"
        )
    score = correct(response, task.output, task.kind)  # raises TypeError for a response that is not a str
    if format_bonus and well_formed(response, task.kind):
        score += format_bonus
    return score
