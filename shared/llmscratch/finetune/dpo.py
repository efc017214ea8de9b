"""Direct preference optimization (DPO): tune a model to prefer the chosen answer of each pair.

DPO (Rafailov et al., 2023) starts from the Bradley-Terry model of a preference: the chance that
people prefer answer ``y_w`` to ``y_l`` is ``sigmoid(r(x, y_w) - r(x, y_l))`` for some reward ``r``.
The optimal policy of reward maximization with a KL penalty ``beta`` to a frozen reference model
gives the reward back as ``r(x, y) = beta * (log pi(y|x) - log pi_ref(y|x))`` (plus a term that
depends on ``x`` only and cancels in the difference). Maximizing the likelihood of the observed
preferences is then a loss on the policy alone:

    h    = (log pi(y_w|x) - log pi_ref(y_w|x)) - (log pi(y_l|x) - log pi_ref(y_l|x))
    loss = -log sigmoid(beta * h)                                   (mean over pairs)

At the start (policy = reference) ``h = 0`` and the loss is ``log 2``. Options:

- ``label_smoothing = eps`` (conservative DPO: each label is wrong with probability ``eps``):
  ``-(1 - eps) log sigmoid(beta h) - eps log sigmoid(-beta h)``;
- ``loss_type="ipo"`` (Azar et al., 2023): ``(h - 1 / (2 beta))**2``, which stops pushing once the
  margin reaches ``1 / (2 beta)`` instead of driving it to infinity. The squared margin grows with
  the answer's length when log-probs are summed, so IPO is usually run on per-token means
  (``average=True``; TRL's trainer does the same).

The pieces: ``PreferenceDataset`` (chosen and rejected rows tokenized with chapter 7's
``InstructionDataset``), ``collate_pairs`` (chapter 7's ``collate`` with the prompt masked, chosen
rows first), ``sequence_logprobs`` (the response tokens' log-probabilities, summed or averaged),
``dpo_loss`` (returns a ``DPOLoss``: loss, rewards, margin, accuracy), and ``DPOObjective``, the
``batch_loss`` chapter 5's ``training.loop.train`` calls, with ``evaluate`` for its metrics.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ..constants import EOT_ID, IGNORE_INDEX
from .instruct import Encoded, InstructionDataset, collate
from .preference_data import validate_pairs

__all__ = [
    "LOSS_TYPES",
    "DPOLoss",
    "DPOObjective",
    "PreferenceBatch",
    "PreferenceDataset",
    "PreferenceItem",
    "add_reference_logprobs",
    "collate_pairs",
    "create_preference_dataloader",
    "dpo_loss",
    "frozen_reference",
    "sequence_logprobs",
]

LOSS_TYPES = ("sigmoid", "ipo")


class PreferenceItem(NamedTuple):
    """One tokenized pair; ``reference`` holds the reference model's (chosen, rejected) log-probs if precomputed."""

    chosen: Encoded
    rejected: Encoded
    reference: tuple[float, float] | None = None


class PreferenceBatch(NamedTuple):
    """``inputs`` and ``targets`` (2B, T): rows 0..B-1 chosen, B..2B-1 rejected (same order of pairs).

    ``reference_logprobs`` (2B,) in the same order, or ``None`` (then a reference model computes them).
    ``batch[0]`` is ``inputs``, so the loop's default token count works unchanged.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    reference_logprobs: torch.Tensor | None = None


class PreferenceDataset(Dataset):
    """Pairs tokenized once: ``ds[i]`` is a ``PreferenceItem`` (chosen and rejected ``Encoded`` rows).

    Each side is an ``InstructionDataset`` whose outputs are the chosen (or rejected) answers, so
    the prompt format, ``max_length`` truncation and its warning are chapter 7's.
    """

    def __init__(
        self,
        pairs: Sequence[dict],
        encode: Callable[[str], list[int]],
        *,
        max_length: int | None = None,
        style: str = "alpaca",
    ):
        self.pairs = validate_pairs(pairs)
        self.chosen, self.rejected = (
            InstructionDataset(
                [
                    {"instruction": p["instruction"], "input": p["input"], "output": p[side]}
                    for p in self.pairs
                ],
                encode,
                max_length=max_length,
                style=style,
            )
            for side in ("chosen", "rejected")
        )
        self.reference: torch.Tensor | None = None  # (N, 2), set by add_reference_logprobs

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> PreferenceItem:
        reference = None if self.reference is None else tuple(self.reference[index].tolist())
        return PreferenceItem(self.chosen[index], self.rejected[index], reference)


def collate_pairs(
    batch: Sequence[PreferenceItem],
    *,
    pad_id: int = EOT_ID,
    allowed_max_length: int | None = None,
    device: torch.device | str | None = None,
) -> PreferenceBatch:
    """Chapter 7's ``collate(mask_prompt=True)`` over the chosen rows, then the rejected rows.

    Both halves are padded to one width, so one forward pass scores all ``2B`` rows. Prompt targets
    and padding targets are ``IGNORE_INDEX``; the end-of-text after each answer stays a target.
    Reference log-probs go along only if every item has them.
    """
    if len(batch) == 0:
        raise ValueError("collate_pairs got an empty batch")
    if not all(isinstance(item, PreferenceItem) for item in batch):
        raise TypeError("collate_pairs takes PreferenceItem entries (from PreferenceDataset)")
    rows = [item.chosen for item in batch] + [item.rejected for item in batch]
    inputs, targets = collate(
        rows, pad_id=pad_id, allowed_max_length=allowed_max_length, mask_prompt=True, device=device
    )
    reference = None
    if all(item.reference is not None for item in batch):
        chosen, rejected = zip(*(item.reference for item in batch))
        reference = torch.tensor(chosen + rejected, dtype=torch.float32, device=device)  # (2B,)
    return PreferenceBatch(inputs, targets, reference)


def create_preference_dataloader(
    dataset: PreferenceDataset,
    *,
    batch_size: int = 4,
    shuffle: bool = False,
    seed: int = 123,
    **collate_kwargs,
) -> DataLoader:
    """A ``DataLoader`` over ``dataset`` with ``collate_pairs``; shuffling has its own seeded generator."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=torch.Generator().manual_seed(seed),
        collate_fn=functools.partial(collate_pairs, **collate_kwargs),
    )


def sequence_logprobs(logits: torch.Tensor, targets: torch.Tensor, *, average: bool = False) -> torch.Tensor:
    """Log-probability of each row's kept targets (not ``IGNORE_INDEX``): summed, or averaged per token.

    ``logits`` (B, T, V), ``targets`` (B, T) -> (B,), in float32. A row with no kept target (its
    whole answer truncated away, say) raises ``ValueError``: it has no answer to score.

    >>> import math
    >>> logits = torch.zeros(1, 3, 4)  # uniform over 4 tokens: each kept target costs log 4
    >>> logp = sequence_logprobs(logits, torch.tensor([[IGNORE_INDEX, 1, 2]]))
    >>> abs(logp.item() - (-2 * math.log(4))) < 1e-6
    True
    """
    if logits.ndim != 3 or targets.shape != logits.shape[:2]:
        raise ValueError(
            f"logits must be (batch, seq_len, vocab_size) and targets (batch, seq_len); got "
            f"{tuple(logits.shape)} and {tuple(targets.shape)}"
        )
    kept = targets != IGNORE_INDEX  # (B, T)
    empty = (~kept.any(dim=1)).nonzero().flatten().tolist()
    if empty:
        raise ValueError(f"rows {empty} have no response token to score (all targets are IGNORE_INDEX)")
    # log p(target) per position = -cross-entropy, one row per position: (B, T, V) -> (B*T, V) -> (B, T)
    picked = -F.cross_entropy(
        logits.float().flatten(0, 1), targets.clamp(min=0).flatten(), reduction="none"
    ).view(targets.shape)
    total = (picked * kept).sum(dim=1)  # (B,)
    return total / kept.sum(dim=1) if average else total


@dataclass
class DPOLoss:
    """What ``dpo_loss`` returns: the loss to minimize and the implicit rewards it is made of.

    ``chosen_rewards`` / ``rejected_rewards`` (B,) are ``beta * (policy - reference)`` log-probs,
    detached; ``reward_margin`` their mean difference and ``reward_accuracy`` the share of pairs
    whose chosen reward is strictly larger (0.0 at the start, where all rewards are 0).
    """

    loss: torch.Tensor
    chosen_rewards: torch.Tensor
    rejected_rewards: torch.Tensor

    @property
    def reward_margin(self) -> float:
        return float((self.chosen_rewards - self.rejected_rewards).mean())

    @property
    def reward_accuracy(self) -> float:
        return float((self.chosen_rewards > self.rejected_rewards).float().mean())


def dpo_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    reference_chosen: torch.Tensor,
    reference_rejected: torch.Tensor,
    *,
    beta: float = 0.1,
    label_smoothing: float = 0.0,
    loss_type: str = "sigmoid",
) -> DPOLoss:
    """The DPO loss (or IPO's) of B pairs from their sequence log-probs, each (B,); see the module docstring.

    >>> import math
    >>> zero = torch.zeros(3)
    >>> round(dpo_loss(zero, zero, zero, zero).loss.item(), 6) == round(math.log(2), 6)
    True
    """
    if not beta > 0:
        raise ValueError(
            f"beta must be positive (the strength of the pull towards the reference), got {beta}"
        )
    if not 0 <= label_smoothing < 0.5:
        raise ValueError(
            f"label_smoothing must be in [0, 0.5) (the chance a label is wrong), got {label_smoothing}"
        )
    if loss_type not in LOSS_TYPES:
        raise ValueError(f"loss_type must be one of {LOSS_TYPES}, got {loss_type!r}")
    if loss_type == "ipo" and label_smoothing:
        raise ValueError("label_smoothing applies to the sigmoid loss only; IPO has no labels to smooth")
    tensors = (policy_chosen, policy_rejected, reference_chosen, reference_rejected)
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) != 1 or policy_chosen.ndim != 1 or policy_chosen.numel() == 0:
        raise ValueError(
            "the four log-prob tensors must be 1-D with one value per pair and the same length; got shapes "
            f"{[tuple(t.shape) for t in tensors]}"
        )
    chosen_ratio = policy_chosen - reference_chosen  # (B,): log pi/pi_ref of the chosen answer
    rejected_ratio = policy_rejected - reference_rejected  # (B,)
    h = chosen_ratio - rejected_ratio  # (B,)
    if loss_type == "sigmoid":
        losses = -(1 - label_smoothing) * F.logsigmoid(beta * h) - label_smoothing * F.logsigmoid(-beta * h)
    else:
        losses = (h - 1 / (2 * beta)) ** 2
    return DPOLoss(losses.mean(), beta * chosen_ratio.detach(), beta * rejected_ratio.detach())


def frozen_reference(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` in eval mode whose parameters need no gradient: DPO's reference."""
    reference = copy.deepcopy(model).eval()
    reference.requires_grad_(False)
    return reference


@torch.no_grad()
def add_reference_logprobs(
    dataset: PreferenceDataset,
    reference: nn.Module,
    *,
    batch_size: int = 8,
    average: bool = False,
    pad_id: int = EOT_ID,
    device: torch.device | str | None = None,
) -> PreferenceDataset:
    """Score every pair once with ``reference`` and keep the log-probs in ``dataset`` (returned).

    Then a ``DPOObjective`` without a reference model reads them from the batch: one forward pass
    per step instead of two. ``average`` must match the objective's.
    """
    device = device or next(reference.parameters()).device
    was_training = reference.training
    reference.eval()
    rows = []
    items = [PreferenceItem(dataset.chosen[i], dataset.rejected[i]) for i in range(len(dataset))]
    for start in range(0, len(items), batch_size):
        batch = collate_pairs(items[start : start + batch_size], pad_id=pad_id, device=device)
        logps = sequence_logprobs(reference(batch.inputs), batch.targets, average=average)  # (2B,)
        rows.append(torch.stack(logps.chunk(2), dim=1).cpu())  # (B, 2): chosen, rejected
    reference.train(was_training)
    dataset.reference = torch.cat(rows)  # (N, 2)
    return dataset


@dataclass
class DPOObjective:
    """DPO as a ``batch_loss`` for ``training.loop.train``: ``objective(model, batch, device) -> loss``.

    The reference log-probs come from the batch (``add_reference_logprobs``) if it has them, else
    from ``reference`` (make it with ``frozen_reference(model)`` before training). ``last`` keeps
    the latest ``DPOLoss``; ``evaluate(model, loader)`` gives the loop's ``evaluate`` metrics.

    >>> # train(model, opt, loader, batch_loss=objective, evaluate=lambda m: objective.evaluate(m, val_loader))
    """

    reference: nn.Module | None = None
    beta: float = 0.1
    label_smoothing: float = 0.0
    loss_type: str = "sigmoid"
    average: bool = False  # sum the answer's token log-probs (the paper); True: mean per token
    last: DPOLoss | None = None

    def losses(self, model: nn.Module, batch: PreferenceBatch, device: torch.device) -> DPOLoss:
        inputs, targets = batch.inputs.to(device), batch.targets.to(device)
        policy = sequence_logprobs(model(inputs), targets, average=self.average)  # (2B,)
        if batch.reference_logprobs is not None:
            reference = batch.reference_logprobs.to(device)
        elif self.reference is not None:
            with torch.no_grad():
                reference = sequence_logprobs(self.reference(inputs), targets, average=self.average)
        else:
            raise ValueError(
                "no reference log-probs: pass reference=frozen_reference(model) or precompute them "
                "with add_reference_logprobs(dataset, reference)"
            )
        policy_chosen, policy_rejected = policy.chunk(2)  # (B,) each
        reference_chosen, reference_rejected = reference.chunk(2)
        self.last = dpo_loss(
            policy_chosen,
            policy_rejected,
            reference_chosen,
            reference_rejected,
            beta=self.beta,
            label_smoothing=self.label_smoothing,
            loss_type=self.loss_type,
        )
        return self.last

    def __call__(self, model: nn.Module, batch: PreferenceBatch, device: torch.device) -> torch.Tensor:
        return self.losses(model, batch, device).loss

    @torch.no_grad()
    def evaluate(
        self, model: nn.Module, loader: Iterable, *, max_batches: int | None = None
    ) -> dict[str, float]:
        """Mean loss, reward accuracy, reward margin and chosen/rejected rewards over (part of) ``loader``, in eval mode.

        With ``"loss"`` among them, the loop needs no ``val_loader`` for the validation loss: one
        pass over the validation pairs gives every number.
        """
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        sums = dict.fromkeys(
            ("loss", "reward_accuracy", "reward_margin", "chosen_reward", "rejected_reward"), 0.0
        )
        n = 0
        try:
            for i, batch in enumerate(loader):
                if max_batches is not None and i >= max_batches:
                    break
                out = self.losses(model, batch, device)
                sums["loss"] += float(out.loss)
                sums["reward_accuracy"] += out.reward_accuracy
                sums["reward_margin"] += out.reward_margin
                sums["chosen_reward"] += float(out.chosen_rewards.mean())
                sums["rejected_reward"] += float(out.rejected_rewards.mean())
                n += 1
        finally:
            model.train(was_training)
        if n == 0:
            raise ValueError("evaluate got an empty loader")
        return {name: value / n for name, value in sums.items()}
