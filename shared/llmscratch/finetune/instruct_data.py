"""Chapter 7's instruction data: the bundled set or Stanford Alpaca, validated and split.

``load_instructions(source="bundled" | "alpaca")`` is the one-line switch between the two.
``validate_entries`` checks every entry (the error names its index); ``split_instructions`` makes a
seeded 85/5/10 train/validation/test split, stratified by ``kind``, with no prompt in two splits and
no answer in two splits (except for closed-answer kinds). The bundled
file (``assets/instructions.json``) is written by ``instruct_gen``. Stanford Alpaca (52,002 entries
written by OpenAI's text-davinci-003) is licensed CC BY-NC 4.0, *non-commercial use only*: we do not
ship it; this module registers it with the download registry and fetches it when you ask.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..assets import ASSET_DIR
from ..downloads import Resource, fetch, register
from .normalize import normalize

__all__ = [
    "ALPACA",
    "ALPACA_NOTICE",
    "ALPACA_SIZE",
    "CLOSED_KINDS",
    "INSTRUCTIONS_PATH",
    "InstructionSplits",
    "check_alpaca",
    "load_instructions",
    "split_instructions",
    "validate_entries",
]

INSTRUCTIONS_PATH = ASSET_DIR / "instructions.json"
ALPACA_NOTICE = (
    "Stanford Alpaca (52,002 entries) is licensed CC BY-NC 4.0: non-commercial use only. "
    "It is downloaded when you ask for it, never bundled."
)
ALPACA_SIZE = 52_002

# Kinds whose answers repeat by construction: the split may put equal answers in train and test
# (``split_instructions`` keeps every other kind's equal answers in one split).
CLOSED_KINDS = {
    "sentiment": "the answer is one of two sentences (positive / negative), so every test answer is also a "
    "training answer, and must be: the model learns the label, not a memorised text",
}


def check_alpaca(path: Path) -> None:
    """Structure check for the Alpaca file (it publishes no checksum): 52,002 complete entries."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"not a UTF-8 JSON file ({err})") from err
    if not isinstance(data, list) or len(data) != ALPACA_SIZE:
        raise ValueError(
            f"expected a JSON list of {ALPACA_SIZE:,} entries, got {type(data).__name__} of {len(data) if isinstance(data, list) else '?'}"
        )
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) for k in ("instruction", "input", "output")
        ):
            raise ValueError(f"entry {i} is not a dict with string fields instruction, input and output")


ALPACA = register(
    Resource(
        name="alpaca",
        url="https://raw.githubusercontent.com/tatsu-lab/stanford_alpaca/main/alpaca_data.json",
        sha256=None,  # the project publishes no checksum: the structure check below stands in for it
        size=None,
        filename="alpaca_data.json",
        offline='the bundled set we generated: load_instructions("bundled")',
        check=check_alpaca,
    )
)


def load_instructions(source: str = "bundled") -> list[dict[str, str]]:
    """The instruction entries of ``source``: ``"bundled"`` (ours, offline) or ``"alpaca"`` (download).

    Alpaca entries get ``kind="alpaca"``. See ``ALPACA_NOTICE``: Alpaca is for non-commercial use only.
    """
    if source == "bundled":
        return json.loads(INSTRUCTIONS_PATH.read_text(encoding="utf-8"))
    if source == "alpaca":
        data = json.loads(fetch(ALPACA).read_text(encoding="utf-8"))
        return [
            {"instruction": e["instruction"], "input": e["input"], "output": e["output"], "kind": "alpaca"}
            for e in data
        ]
    raise ValueError(f'source must be "bundled" or "alpaca", got {source!r}')


_FIELDS = {"instruction": True, "input": False, "output": True, "kind": False}  # name -> required


def validate_entries(entries: Sequence[dict]) -> list[dict[str, str]]:
    """Check every entry and return clean copies with ``input`` (default ``""``) and ``kind``.

    Raises ``ValueError`` for a missing required field or an empty instruction, ``TypeError`` for
    a value that is not a string; both name the entry's index and the field.

    >>> validate_entries([{"instruction": "Hi", "output": "Hello"}])
    [{'instruction': 'Hi', 'input': '', 'output': 'Hello', 'kind': 'unknown'}]
    """
    clean = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise TypeError(
                f"entry {i} must be a dict with instruction/input/output, got {type(entry).__name__}"
            )
        for field, required in _FIELDS.items():
            if field not in entry or entry[field] is None:
                if required:
                    raise ValueError(
                        f"entry {i} is missing the field {field!r} (has: {', '.join(sorted(entry)) or 'nothing'}); "
                        "every entry needs 'instruction' and 'output'"
                    )
                continue
            if not isinstance(entry[field], str):
                raise TypeError(
                    f"entry {i}: field {field!r} must be a str, got {type(entry[field]).__name__} ({entry[field]!r})"
                )
        if not entry["instruction"].strip():
            raise ValueError(f"entry {i}: field 'instruction' is empty; write the task the model should do")
        clean.append(
            {
                "instruction": entry["instruction"],
                "input": entry.get("input") or "",
                "output": entry["output"],
                "kind": entry.get("kind") or "unknown",
            }
        )
    return clean


_PROMPT_WORD = re.compile(r"-?\d+|[^\W\d_]+")


def _prompt_key(entry: dict) -> str:
    """What makes two prompts 'the same question': the words and numbers of instruction + input,
    lower-cased, punctuation and spacing ignored, but a number's minus sign kept ("-10 °C" is not "10 °C").

    >>> _prompt_key({"instruction": "What is  -10 °C in Fahrenheit?", "input": ""})
    'what is -10 c in fahrenheit'
    """
    return " ".join(_PROMPT_WORD.findall(f"{entry['instruction']}\n{entry.get('input') or ''}".lower()))


@dataclass
class InstructionSplits:
    """The train / validation / test entries of ``split_instructions``."""

    train: list[dict[str, str]]
    val: list[dict[str, str]]
    test: list[dict[str, str]]

    def sizes(self) -> tuple[int, int, int]:
        return len(self.train), len(self.val), len(self.test)


def split_instructions(
    entries: Sequence[dict],
    fractions: tuple[float, float, float] = (0.85, 0.05, 0.10),
    *,
    seed: int = 123,
    closed_kinds: Collection[str] = tuple(CLOSED_KINDS),
) -> InstructionSplits:
    """A seeded split, stratified by ``kind`` (every kind lands in every split in proportion).

    Two leaks are ruled out. Duplicate prompts (the same words and numbers in instruction and
    input, see ``_prompt_key``) raise ``ValueError``: one copy in train and one in test would leak the
    answer. And entries of a kind whose answers are equal after normalization ("Lyon" asked of two
    records) form one group that goes to one split as a whole, so no test answer is a training
    answer the model could repeat from memory. Groups are dealt per kind in a seeded order: a group
    goes to test if it still fits there, else to validation if it fits, else to training (so large
    groups end up in training and test sizes stay exact). ``closed_kinds`` are split entry by entry,
    because their answers repeat by construction (see ``CLOSED_KINDS``).

    Each kind is shuffled by its own ``random.Random`` (seeded from ``seed`` and the kind), so
    adding a kind leaves the others' splits as they were.

    >>> data = [{"instruction": f"Add 1 to {i}.", "output": str(i + 1)} for i in range(20)]
    >>> split_instructions(data).sizes()
    (17, 1, 2)
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(
            f"fractions must be three non-negative numbers that sum to 1 (train, val, test), got {fractions}"
        )
    entries = validate_entries(entries)
    first_seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        key = _prompt_key(entry)
        if key in first_seen:
            raise ValueError(
                f"entries {first_seen[key]} and {i} have the same prompt; remove duplicates before splitting "
                "(a copy in train and one in test would leak the answer)"
            )
        first_seen[key] = i
    by_kind: dict[str, list[dict]] = {}
    for entry in entries:
        by_kind.setdefault(entry["kind"], []).append(entry)
    train, val, test = [], [], []
    for kind in sorted(by_kind):
        group_of: dict[str, list[dict]] = {}
        for i, entry in enumerate(by_kind[kind]):
            key = str(i) if kind in closed_kinds else normalize(entry["output"])
            group_of.setdefault(key, []).append(entry)
        groups = list(group_of.values())
        random.Random(f"{seed}:{kind}").shuffle(groups)
        n = len(by_kind[kind])
        n_test, n_val = round(n * fractions[2]), round(n * fractions[1])
        kind_test, kind_val = [], []
        for group in groups:
            if len(kind_test) + len(group) <= n_test:
                kind_test += group
            elif len(kind_val) + len(group) <= n_val:
                kind_val += group
            else:
                train += group
        test += kind_test
        val += kind_val
    rng = random.Random(seed)
    for part in (train, val, test):
        rng.shuffle(part)
    return InstructionSplits(train, val, test)
