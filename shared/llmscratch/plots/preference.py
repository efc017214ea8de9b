"""Figures of preference tuning (chapter 7's DPO notebook): the loss as a function of the margin, training curves.

- ``plot_dpo_loss()``: DPO's loss ``-log sigmoid(beta * h)`` against the log-ratio margin ``h`` for a
  few values of ``beta`` (and IPO's ``(h - 1/(2 beta))**2`` if asked): where the gradient lives.
- ``plot_preference_training()``: a ``History`` from ``training.loop.train`` with
  ``finetune.dpo.DPOObjective.evaluate`` metrics: loss, reward margin and reward accuracy per step.

Scores per variant before and after use ``training.plot_metrics_by_kind`` (rows keyed by ``kind``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def plot_dpo_loss(
    betas: Sequence[float] = (0.1, 0.5),
    *,
    h_range: tuple[float, float] = (-30.0, 30.0),
    ipo: bool = False,
    ax=None,
):
    """DPO's loss per pair against ``h`` (chosen minus rejected log-ratio, in nats), one curve per ``beta``.

    At ``h = 0`` (policy = reference) every curve passes through ``log 2``; the slope there is
    ``-beta / 2``, and it flattens once ``beta * h`` is a few units: a pair already well ordered
    stops pulling. With ``ipo`` the dashed curves are IPO's ``(h - 1/(2 beta))**2``, zero at its
    target margin. Raises ``ValueError`` for an empty ``betas`` or a beta that is not positive.
    """
    if not betas or any(not b > 0 for b in betas):
        raise ValueError(f"betas must be a non-empty list of positive numbers, got {list(betas)}")
    if not h_range[0] < 0 < h_range[1]:
        raise ValueError(f"h_range must contain 0 inside it, got {h_range}")
    h = np.linspace(*h_range, 401)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    for i, beta in enumerate(betas):
        colour = f"C{i}"
        ax.plot(h, np.logaddexp(0.0, -beta * h), color=colour, label=f"DPO, beta = {beta:g}")
        if ipo:
            ax.plot(h, (h - 1 / (2 * beta)) ** 2, "--", color=colour, label=f"IPO, beta = {beta:g}")
    ax.axhline(math.log(2), color="#777777", linewidth=0.8, linestyle=":")
    ax.axvline(0, color="#777777", linewidth=0.8, linestyle=":")
    ax.annotate(
        "log 2: policy = reference",
        (0, math.log(2)),
        xytext=(-6, 6),
        textcoords="offset points",
        ha="right",
        fontsize=8,
    )
    top = max(np.logaddexp(0.0, -min(betas) * h_range[0]), 1.0)
    ax.set_ylim(0, top * 1.05)
    ax.set(
        xlabel="h = chosen log-ratio - rejected log-ratio (nats)",
        ylabel="loss per pair",
        title="IPO stops at its target margin 1/(2 beta); DPO keeps pulling"
        if ipo
        else "Lower loss = chosen answer gained on the rejected one",
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def plot_preference_training(history, *, title: str = ""):
    """Three panels from one DPO run: loss, reward margin, reward accuracy against optimizer steps.

    ``history.step_losses`` (each training batch, thin) and the evaluation points'
    ``history.metrics`` from ``DPOObjective.evaluate`` (``loss``, ``reward_margin``,
    ``reward_accuracy``: the validation pairs). Raises ``ValueError`` if those metrics are missing.
    """
    missing = [m for m in ("loss", "reward_margin", "reward_accuracy") if m not in history.metrics]
    if missing:
        raise ValueError(
            f"history.metrics lacks {missing}: train with evaluate=lambda m: objective.evaluate(m, val_loader)"
        )
    steps = history.steps
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    loss_ax, margin_ax, acc_ax = axes
    if history.step_losses:
        loss_ax.plot(
            range(1, len(history.step_losses) + 1),
            history.step_losses,
            color="#9ecae1",
            lw=0.8,
            label="training batch",
        )
    loss_ax.plot(steps, history.metrics["loss"], "o-", color="#2b7bba", ms=4, label="validation pairs")
    loss_ax.axhline(math.log(2), color="#777777", lw=0.8, ls=":")
    loss_ax.set(xlabel="step", ylabel="DPO loss", title="loss (log 2 at the start)")
    loss_ax.legend(fontsize=8)
    margin_ax.plot(steps, history.metrics["reward_margin"], "o-", color="#e6550d", ms=4)
    margin_ax.axhline(0, color="#777777", lw=0.8, ls=":")
    margin_ax.set(xlabel="step", ylabel="chosen - rejected reward", title="reward margin (validation)")
    acc_ax.plot(steps, history.metrics["reward_accuracy"], "o-", color="#31a354", ms=4)
    acc_ax.axhline(0.5, color="#777777", lw=0.8, ls=":")
    acc_ax.set_ylim(-0.02, 1.02)
    acc_ax.set(xlabel="step", ylabel="share of pairs", title="reward accuracy (validation)")
    for ax in axes:
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
