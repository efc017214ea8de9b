"""Learning-rate schedules as pure functions of the step number.

A schedule here is a callable ``step -> learning rate``, with no state of its own: resuming a run
only needs the step count, and plotting one is ``[schedule(s) for s in range(n)]``.

- ``WarmupCosine``: linear warmup from ``initial_lr`` to ``max_lr`` over ``warmup_steps``, then
  a cosine decay to ``min_lr`` at ``total_steps`` (and ``min_lr`` after it). Warmup keeps the first
  updates small while Adam's moment estimates are still noise; the slow decay lets the weights
  settle into a minimum at the end instead of bouncing around it.
- ``Constant``: the same rate at every step (the no-schedule baseline).

Both are frozen dataclasses, so a checkpoint stores them as a small dict (``to_dict`` /
``schedule_from_dict``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Constant:
    """``lr`` at every step.

    >>> Constant(1e-3)(500)
    0.001
    """

    lr: float

    def __post_init__(self) -> None:
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")

    def __call__(self, step: int) -> float:
        return self.lr

    def to_dict(self) -> dict:
        return {"kind": "Constant", **dataclasses.asdict(self)}


@dataclass(frozen=True)
class WarmupCosine:
    """Linear warmup to ``max_lr``, then cosine decay to ``min_lr`` at ``total_steps``.

    Step 0 uses ``initial_lr`` (a first update of exactly zero would be wasted), step
    ``warmup_steps`` reaches ``max_lr``, step ``total_steps`` reaches ``min_lr``.

    >>> s = WarmupCosine(max_lr=1.0, warmup_steps=10, total_steps=110, min_lr=0.0)
    >>> s(0), s(5), s(10), round(s(60), 6), s(110), s(200)
    (0.0, 0.5, 1.0, 0.5, 0.0, 0.0)
    """

    max_lr: float
    warmup_steps: int
    total_steps: int
    min_lr: float = 0.0
    initial_lr: float = 0.0

    def __post_init__(self) -> None:
        if not self.max_lr > 0:
            raise ValueError(f"max_lr must be positive, got {self.max_lr}")
        if not 0 <= self.min_lr <= self.max_lr or not 0 <= self.initial_lr <= self.max_lr:
            raise ValueError(
                f"need 0 <= min_lr, initial_lr <= max_lr; got min_lr={self.min_lr}, initial_lr={self.initial_lr}, max_lr={self.max_lr}"
            )
        if self.warmup_steps < 0 or self.total_steps < 1 or self.warmup_steps > self.total_steps:
            raise ValueError(
                f"need 0 <= warmup_steps <= total_steps and total_steps >= 1; got warmup_steps={self.warmup_steps}, "
                f"total_steps={self.total_steps}"
            )

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.initial_lr + (self.max_lr - self.initial_lr) * step / self.warmup_steps
        if step >= self.total_steps:
            return self.min_lr
        progress = (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps)  # 0 -> 1
        return self.min_lr + 0.5 * (self.max_lr - self.min_lr) * (1.0 + math.cos(math.pi * progress))

    def to_dict(self) -> dict:
        return {"kind": "WarmupCosine", **dataclasses.asdict(self)}


_KINDS = {"Constant": Constant, "WarmupCosine": WarmupCosine}


def schedule_from_dict(d: dict):
    """Rebuild a schedule saved with ``to_dict()``."""
    d = dict(d)
    kind = d.pop("kind", None)
    if kind not in _KINDS:
        raise ValueError(f"unknown schedule kind {kind!r}; known: {sorted(_KINDS)}")
    return _KINDS[kind](**d)
