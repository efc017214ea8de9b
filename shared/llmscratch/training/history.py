"""``History``: the record a training run returns, and ``Position``: where a run is.

Kept apart from the loop (``loop``) so that checkpoints can store and restore a history without
knowing how training works.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass
class Position:
    """Where a run is: enough to resume it exactly (with the RNG states the checkpoint saves)."""

    step: int = 0  # optimizer steps done
    epoch: int = 0  # the epoch in progress (0-based)
    batch_in_epoch: int = 0  # batches of that epoch already consumed
    tokens_seen: int = 0  # input tokens trained on, over all ranks


@dataclass
class History:
    """What happened during training. Eval-point lists are parallel; per-step lists are too.

    At evaluation points: ``steps``, ``tokens_seen``, ``epochs`` (fractional), ``train_losses``,
    ``val_losses`` (NaN without a validation loader), ``metrics`` (name -> values, from
    ``evaluate``) and ``samples`` (``(step, text)``). At every step: ``step_losses`` (the
    training loss of that batch), ``lrs`` (the learning rate used) and ``grad_norms`` (the
    gradient norm before clipping). ``seconds`` is the training wall time so far.
    """

    steps: list[int] = field(default_factory=list)
    tokens_seen: list[int] = field(default_factory=list)
    epochs: list[float] = field(default_factory=list)
    train_losses: list[float] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    samples: list[tuple[int, str]] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    position: Position = field(default_factory=Position)

    def to_dict(self) -> dict:
        """Plain JSON-ready data (a checkpoint stores it in its metadata)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> History:
        d = dict(d)
        d["position"] = Position(**d.get("position", {}))
        d["samples"] = [tuple(s) for s in d.get("samples", [])]
        return cls(**d)
