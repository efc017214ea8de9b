"""Several seeds of one fine-tuning method: the spread of every accuracy, so a comparison is never one draw.

``spam_finetune.run`` measures one seed; ``spam_finetune.over_seeds`` collects one ``run`` result per
seed into a ``SeedRuns``, whose ``table()`` reports each classifier's mean, sample standard
deviation and range on both test sets (``Spread``), and the per-seed gap between the fine-tuned
model and the bag-of-words baseline. Nothing here trains: it only summarizes result dicts.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Spread:
    """Mean, sample standard deviation and range of one number over seeds.

    >>> str(Spread.of([0.8, 0.9, 1.0]))
    '90.0% ± 10.0 [80.0, 100.0], 3 seeds'
    """

    mean: float
    std: float  # sample standard deviation (n - 1); 0.0 for a single seed
    min: float
    max: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("no values: a spread needs at least one seed")
        values = [float(v) for v in values]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        return cls(statistics.fmean(values), std, min(values), max(values), len(values))

    def __str__(self) -> str:
        return f"{100 * self.mean:.1f}% ± {100 * self.std:.1f} [{100 * self.min:.1f}, {100 * self.max:.1f}], {self.n} seed{'s' * (self.n != 1)}"


ROWS = (
    ("fine-tuned LLM", "test_accuracy", "heldout_accuracy"),
    ("bag of words", "bow_test_accuracy", "bow_heldout_accuracy"),
    ("majority class", "majority_test_accuracy", "majority_heldout_accuracy"),
)


@dataclass
class SeedRuns:
    """The results of one method over several seeds (one ``run`` dict per seed)."""

    method: str
    runs: list[dict] = field(default_factory=list)

    def spread(self, key: str) -> Spread:
        """``Spread`` of ``run()[key]`` over the seeds, e.g. ``spread("heldout_accuracy")``."""
        missing = [r.get("seed") for r in self.runs if key not in r]
        if missing:
            raise KeyError(f"{key!r} is not in the results of seed(s) {missing}")
        return Spread.of([r[key] for r in self.runs])

    def gap(self, key: str = "heldout_accuracy", baseline: str = "bow_heldout_accuracy") -> Spread:
        """``Spread`` of the per-seed difference ``key - baseline`` (same seed, same training messages)."""
        return Spread.of([r[key] - r[baseline] for r in self.runs])

    def table(self) -> str:
        """Mean ± std [min, max] of each classifier on both test sets, then the per-seed LLM - bag-of-words gap."""
        seeds = ", ".join(str(r.get("seed")) for r in self.runs)
        first = self.runs[0]
        lines = [
            (
                f"{self.method}: seeds {seeds}; {first['train_messages']} training messages; "
                f"test split {first['test_messages']} messages, held-out kinds {first['heldout_messages']}"
            ),
            f"{'':<16} {'test split (kinds seen in training)':<36} held-out kinds",
        ]
        for name, test_key, heldout_key in ROWS:
            lines.append(f"{name:<16} {self.spread(test_key)!s:<36} {self.spread(heldout_key)}")
        lines.append(f"{'LLM - bag':<16} {self.gap('test_accuracy', 'bow_test_accuracy')!s:<36} {self.gap()}")
        return "\n".join(lines)
