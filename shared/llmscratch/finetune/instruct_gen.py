"""Chapter 7's bundled instruction set, generated here from templates and tables we wrote.

Every entry is ``{instruction, input, output, kind}``, made by ``generate_instructions()`` with a
seeded ``random.Random`` per kind, so the same code always writes the same file (a test regenerates
it and compares it with the committed ``assets/instructions.json``). Each answer is *computed* (a
sum, a sorted list, a table cell, a regular plural), so every output is checkable, and each question
is asked once, in one of several phrasings, so it never lands in two splits worded differently.
Regenerate the file with ``python -m llmscratch.finetune.instruct_gen``. Loading it (and Stanford
Alpaca) is ``instruct_data``'s job.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from ..fileio import atomic_write
from .instruct_data import INSTRUCTIONS_PATH
from .instruct_kinds import KINDS

SEED = 2026


def generate_instructions(seed: int = SEED) -> list[dict[str, str]]:
    """Every bundled entry, in a fixed order: ``{"instruction", "input", "output", "kind"}``.

    Each kind draws from its own ``random.Random`` (seeded from ``seed`` and the kind's name), so
    adding a kind never changes the others. A question that comes up twice is kept once.
    """
    entries: list[dict[str, str]] = []
    for kind, make in KINDS.items():
        rng = random.Random(f"{seed}:{kind}")
        seen: set[str] = set()
        for key, instruction, inp, output in make(rng):
            if key in seen:
                continue
            seen.add(key)
            entries.append({"instruction": instruction, "input": inp, "output": output, "kind": kind})
    return entries


def instructions_json(entries: list[dict[str, str]]) -> str:
    """The exact text of the committed file: one entry per line, UTF-8, newline at the end."""
    lines = ",\n".join(json.dumps(e, ensure_ascii=False) for e in entries)
    return "[\n" + lines + "\n]\n"


def write_instructions(path: str | Path = INSTRUCTIONS_PATH, seed: int = SEED) -> Path:
    """Regenerate the bundled file (``python -m llmscratch.finetune.instruct_gen``)."""
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(instructions_json(generate_instructions(seed)))
    return Path(path)


if __name__ == "__main__":
    target = write_instructions(sys.argv[1] if len(sys.argv) > 1 else INSTRUCTIONS_PATH)
    print(f"wrote {len(generate_instructions())} entries to {target}")
