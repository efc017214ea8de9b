"""Losses, each named for what it measures.

- ``lm_loss(logits, targets)``: the *language-modelling* loss, next-token cross-entropy averaged
  over every position whose target is not ``IGNORE_INDEX`` (chapter 5's pretraining, chapter 7's
  instruction tuning, where prompt and padding tokens are masked out).
- ``lm_batch_loss(model, batch, device)``: run the model on an ``(inputs, targets)`` batch and
  return ``lm_loss``. This is the default ``batch_loss`` of ``loop.train``.
- ``loss_over_loader(model, loader, batch_loss)``: the mean of any batch loss over (part of) a
  loader, in eval mode without gradients; ``lm_loss_over_loader`` is it with ``lm_batch_loss``.

Chapter 6 adds a *classification* loss (``cls_loss``: one label per sequence, read from the last
token) under its own name; the two are never called the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..constants import IGNORE_INDEX

BatchLoss = Callable[[nn.Module, Any, torch.device], torch.Tensor]


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy of ``logits`` (B, T, V) against ``targets`` (B, T).

    Positions whose target is ``IGNORE_INDEX`` (-100) are left out of the mean. Equal to
    ``-mean(log softmax(logits)[target])`` over the kept positions; computed in float32 even under
    bfloat16 autocast (the log-sum-exp over 50k logits needs the precision).

    >>> lm_loss(torch.zeros(1, 2, 4), torch.tensor([[1, 3]])).item() == torch.log(torch.tensor(4.0)).item()
    True
    """
    if logits.ndim != 3 or targets.shape != logits.shape[:2]:
        raise ValueError(
            f"logits must be (batch, seq_len, vocab_size) and targets (batch, seq_len); got "
            f"{tuple(logits.shape)} and {tuple(targets.shape)}"
        )
    if not bool((targets != IGNORE_INDEX).any()):
        raise ValueError(
            f"every target is IGNORE_INDEX={IGNORE_INDEX}: there is no token to compute a loss on"
        )
    # (B, T, V) -> (B*T, V) and (B, T) -> (B*T,): cross_entropy wants one row per prediction
    return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=IGNORE_INDEX)


def lm_batch_loss(
    model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor], device: torch.device
) -> torch.Tensor:
    """``lm_loss`` of ``model`` on one ``(inputs, targets)`` batch, moved to ``device``."""
    inputs, targets = batch
    inputs, targets = inputs.to(device), targets.to(device)
    return lm_loss(model(inputs), targets)


@torch.no_grad()
def loss_over_loader(
    model: nn.Module,
    loader: Iterable,
    batch_loss: BatchLoss = lm_batch_loss,
    *,
    device: torch.device | None = None,
    max_batches: int | None = None,
) -> float:
    """Mean of ``batch_loss`` over the first ``max_batches`` batches of ``loader`` (all if None).

    The model is put in eval mode (no dropout) and restored afterwards. Each batch counts once,
    whatever its size (the usual convention; with equal batch sizes it is the mean over windows).
    Raises ``ValueError`` for an empty loader instead of returning NaN.
    """
    if max_batches is not None and max_batches < 1:
        raise ValueError(f"max_batches must be at least 1 (or None for the whole loader), got {max_batches}")
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    total, n = 0.0, 0
    try:
        for i, batch in enumerate(loader):
            if max_batches is not None and i >= max_batches:
                break
            total += batch_loss(model, batch, device).item()
            n += 1
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError(
            "the loader yielded no batches: the text is too short for one batch (or drop_last dropped it)"
        )
    return total / n


def lm_loss_over_loader(
    model: nn.Module, loader: Iterable, *, device: torch.device | None = None, max_batches: int | None = None
) -> float:
    """Mean ``lm_loss`` over (the first ``max_batches`` batches of) a next-token loader."""
    return loss_over_loader(model, loader, lm_batch_loss, device=device, max_batches=max_batches)
