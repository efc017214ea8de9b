"""Preference pairs for DPO: for each prompt of chapter 7's set, a chosen and a rejected answer.

A pair is ``{instruction, input, kind, chosen, rejected, variant}``: the prompt as chapter 7 has it,
the reference answer as ``chosen``, and a ``rejected`` answer whose ``variant`` says how it was
made. Two sources, both ours:

- **generated** (``make_pairs``): one rejected answer per prompt, made by rule
  (``preference_variants``: a wrong number, a wrong order, a wrong word, the input handed back,
  another question's answer, a rambling one), the variant drawn by a seeded generator per prompt;
- **on-policy** (``on_policy_pairs``): a model's own answers that ``correctness.correct`` judges
  wrong (chapter 7 saves them with ``instruct.save_responses``), ``variant="on_policy"``.

**Splits follow chapter 7's.** ``preference_splits`` splits the *instructions* with
``instruct_data.split_instructions`` (same seed, same leak rules) and builds each split's pairs
from its own entries only, so a prompt, and any answer ``ignores_input`` borrows, stays in one
split. ``assign_splits`` sends other pairs (on-policy ones) to the split of their prompt.
``validate_pairs`` is the schema check; its errors name the pair's index and the field.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .correctness import correct
from .instruct_data import InstructionSplits, load_instructions, split_instructions, validate_entries
from .preference_variants import KIND_VARIANTS, VARIANTS, rejected_answer

__all__ = [
    "PAIR_FIELDS",
    "PAIR_SEED",
    "PAIR_VARIANTS",
    "PreferenceSplits",
    "assign_splits",
    "make_pairs",
    "on_policy_pairs",
    "preference_splits",
    "validate_pairs",
]

PAIR_FIELDS = ("instruction", "input", "kind", "chosen", "rejected", "variant")
PAIR_VARIANTS = (*VARIANTS, "on_policy")
PAIR_SEED = 2026
# How often each variant is drawn: the kind's own way of being wrong twice as often as each generic one.
_WEIGHTS = {"specific": 2, "ignores_input": 1, "rambling": 1}


def _prompt(entry: dict) -> tuple[str, str]:
    return entry["instruction"], entry.get("input") or ""


def _pair(entry: dict, rejected: str, variant: str) -> dict[str, str]:
    instruction, inp = _prompt(entry)
    return {
        "instruction": instruction,
        "input": inp,
        "kind": entry.get("kind") or "unknown",
        "chosen": entry["output"],
        "rejected": rejected,
        "variant": variant,
    }


def _candidates(kind: str) -> list[tuple[str, int]]:
    specific = KIND_VARIANTS.get(kind)
    options = [(specific, _WEIGHTS["specific"])] if specific else []
    return options + [("ignores_input", _WEIGHTS["ignores_input"]), ("rambling", _WEIGHTS["rambling"])]


def make_pairs(
    entries: Sequence[dict], *, seed: int = PAIR_SEED, every_variant: bool = False
) -> list[dict[str, str]]:
    """One pair per entry (``every_variant``: one per variant the entry's kind allows), in order.

    The variant is drawn with ``_WEIGHTS`` by a ``random.Random`` seeded from ``seed`` and the
    prompt, so a pair does not depend on the other entries, except that ``ignores_input`` borrows
    an answer from ``entries`` (pass one split at a time). A variant that cannot be made for an
    entry falls back to the next one; ``rambling`` always can.

    >>> e = {"instruction": "Which is bigger, 122 or 431?", "output": "431 is larger than 122.",
    ...      "kind": "compare_numbers"}
    >>> [p["variant"] for p in make_pairs([e], every_variant=True)]
    ['wrong_order', 'rambling']
    """
    entries = validate_entries(entries)
    pairs = []
    for entry in entries:
        instruction, inp = _prompt(entry)
        rng = random.Random(f"{seed}:{entry['kind']}:{instruction}\n{inp}")
        options = _candidates(entry["kind"])
        if every_variant:
            order = [variant for variant, _ in options]
        else:
            first = rng.choices([v for v, _ in options], weights=[w for _, w in options])[0]
            order = [first] + [v for v, _ in options if v != first]
        for variant in order:
            rejected = rejected_answer(entry, variant, rng, entries)
            if rejected is not None:
                pairs.append(_pair(entry, rejected, variant))
                if not every_variant:
                    break
    return pairs


def on_policy_pairs(
    records: Iterable[dict], *, keys: Sequence[str] = ("response_before", "response_after")
) -> list[dict[str, str]]:
    """Pairs from a model's own answers: every answer under ``keys`` that ``correct`` judges wrong.

    ``records`` are entries with the model's answers added (``instruct.load_responses`` of a file
    ``save_responses`` wrote). An empty answer is skipped (nothing to push down), so is a repeat of
    an answer already taken for the same prompt. Kinds without a rule are compared as whole texts.

    >>> r = {"instruction": "Which is bigger, 122 or 431?", "output": "431 is larger than 122.",
    ...      "kind": "compare_numbers", "response_before": "122.", "response_after": "431."}
    >>> [(p["rejected"], p["variant"]) for p in on_policy_pairs([r])]
    [('122.', 'on_policy')]
    """
    pairs = []
    for i, record in enumerate(records):
        if not isinstance(record, dict) or "output" not in record or "instruction" not in record:
            raise ValueError(f"record {i} needs at least 'instruction' and 'output' (got {record!r:.80})")
        taken = set()
        for key in keys:
            answer = record.get(key)
            if answer is None:
                continue
            if not isinstance(answer, str):
                raise TypeError(f"record {i}: {key!r} must be a str, got {type(answer).__name__}")
            answer = answer.strip()
            if not answer or answer in taken or correct(answer, record["output"], record.get("kind")):
                continue
            taken.add(answer)
            pairs.append(_pair(record, answer, "on_policy"))
    return pairs


def validate_pairs(pairs: Sequence[dict]) -> list[dict[str, str]]:
    """Check the schema of every pair and return clean copies (fields in ``PAIR_FIELDS`` order).

    ``TypeError`` for a pair that is not a dict or a field that is not a string; ``ValueError``
    for a missing field, an empty instruction, chosen or rejected answer, a rejected answer equal
    to the chosen one, or an unknown variant. Each message names the pair's index and the field.
    """
    clean = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, dict):
            raise TypeError(f"pair {i} must be a dict with fields {PAIR_FIELDS}, got {type(pair).__name__}")
        missing = [f for f in PAIR_FIELDS if f not in pair]
        if missing:
            raise ValueError(f"pair {i} is missing the field(s) {missing}; a pair has {PAIR_FIELDS}")
        for field in PAIR_FIELDS:
            if not isinstance(pair[field], str):
                raise TypeError(f"pair {i}: field {field!r} must be a str, got {type(pair[field]).__name__}")
        for field in ("instruction", "chosen", "rejected"):
            if not pair[field].strip():
                raise ValueError(f"pair {i}: field {field!r} is empty")
        if pair["chosen"].strip() == pair["rejected"].strip():
            raise ValueError(f"pair {i}: 'rejected' equals 'chosen'; there is nothing to prefer")
        if pair["variant"] not in PAIR_VARIANTS:
            raise ValueError(
                f"pair {i}: field 'variant' must be one of {PAIR_VARIANTS}, got {pair['variant']!r}"
            )
        clean.append({f: pair[f] for f in PAIR_FIELDS})
    return clean


@dataclass
class PreferenceSplits:
    """The train / validation / test pairs; a prompt's pairs are in the split its prompt is in."""

    train: list[dict[str, str]]
    val: list[dict[str, str]]
    test: list[dict[str, str]]

    def sizes(self) -> tuple[int, int, int]:
        return len(self.train), len(self.val), len(self.test)

    def variants(self) -> dict[str, int]:
        """How many pairs of each variant, over all three splits (most frequent first)."""
        return dict(Counter(p["variant"] for p in self.train + self.val + self.test).most_common())


def preference_splits(
    entries: Sequence[dict] | None = None,
    *,
    seed: int = 123,
    pair_seed: int = PAIR_SEED,
    every_variant: bool = False,
) -> PreferenceSplits:
    """Chapter 7's split of ``entries`` (default: the bundled set), each split's pairs made from it alone.

    ``seed`` is chapter 7's split seed (``split_instructions(entries, seed=123)`` in the chapter);
    ``pair_seed`` and ``every_variant`` go to ``make_pairs``.
    """
    splits = split_instructions(load_instructions() if entries is None else entries, seed=seed)
    return PreferenceSplits(
        *(
            make_pairs(part, seed=pair_seed, every_variant=every_variant)
            for part in (splits.train, splits.val, splits.test)
        )
    )


def assign_splits(pairs: Sequence[dict], splits: InstructionSplits) -> PreferenceSplits:
    """Send each pair to the split its prompt (instruction and input) is in; an unknown prompt is an error."""
    where = {}
    for name in ("train", "val", "test"):
        for entry in getattr(splits, name):
            where[_prompt(entry)] = name
    out: dict[str, list] = {"train": [], "val": [], "test": []}
    for i, pair in enumerate(validate_pairs(pairs)):
        name = where.get(_prompt(pair))
        if name is None:
            raise ValueError(
                f"pair {i}'s prompt is in none of the splits ({pair['instruction'][:60]!r}); "
                "pairs must come from the instructions that were split"
            )
        out[name].append(pair)
    return PreferenceSplits(out["train"], out["val"], out["test"])
