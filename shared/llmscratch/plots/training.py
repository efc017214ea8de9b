"""Figures of results: loss curves, decoding distributions, schedules, accuracies, scores per task kind.

- ``plot_losses()``, ``plot_token_distributions()``, ``plot_curves()``: chapter 5's loss curves,
  decoding and learning-rate schedules (``plot_losses`` also draws chapter 6's).
- ``plot_sampling_cutoff()``: which tokens top-k and top-p keep on one next-token distribution.
- ``plot_accuracy_comparison()``: chapter 6's accuracies, baselines next to fine-tuned models.
- ``plot_metrics_by_kind()``: chapter 7's scores per task kind, before and after fine-tuning.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..model.generate import check_sampling
from .text import show_token


def plot_losses(history, *, title: str = "", ylabel: str = "loss (nats per token)", ax=None):
    """Training and validation loss against epochs, with tokens seen on a second x axis (top).

    ``history`` is a ``History``; its evaluation points give both axes. ``ylabel`` names what the
    loss averages over (chapter 6's classification loss is per message, not per token).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    ax.plot(history.epochs, history.train_losses, "o-", ms=3, label="training loss")
    if any(v == v for v in history.val_losses):  # not all NaN
        ax.plot(history.epochs, history.val_losses, "s--", ms=3, label="validation loss")
    ax.set(xlabel="epoch", ylabel=ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    top = ax.twiny()  # same data against tokens seen: the x positions line up with the epochs
    top.plot(history.tokens_seen, history.train_losses, alpha=0)
    top.set_xlabel("tokens seen")
    ax.grid(alpha=0.3)
    return ax


def plot_token_distributions(distributions: dict, labels: Sequence[str], *, title: str = "", ax=None):
    """Grouped bars: one group per candidate token, one bar per setting (e.g. per temperature)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(max(7.0, 0.8 * len(labels)), 3.8))
    width = 0.8 / len(distributions)
    x = np.arange(len(labels))
    for i, (name, probs) in enumerate(distributions.items()):
        ax.bar(
            x + (i - (len(distributions) - 1) / 2) * width,
            np.asarray(probs, dtype=float),
            width,
            label=str(name),
        )
    ax.set_xticks(x, [show_token(t) for t in labels], rotation=45, ha="right")
    ax.set_ylabel("probability")
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


def plot_sampling_cutoff(
    logits,
    *,
    decode=None,
    top_k: int = 5,
    top_p: float = 0.9,
    n: int = 20,
    temperature: float = 1.0,
    title: str = "",
):
    """The ``n`` most likely next tokens, sorted, with what top-k and top-p (each on its own) keep.

    ``logits`` is one row, ``(V,)`` or ``(1, V)``; ``decode`` (``tokenizer.decode``) labels the bars,
    else they show token ids. Bars kept by top-k are blue; the line is the cumulative probability
    (right axis), with orange dots on the tokens top-p keeps: the smallest set, from the most likely
    down, whose probability reaches ``top_p`` (the rule ``next_token`` uses). When that set is
    larger than ``n``, the title says how large. Returns the figure.
    """
    row = torch.as_tensor(logits).detach().float().cpu()
    if row.ndim == 2 and row.shape[0] == 1:
        row = row[0]
    if row.ndim != 1:
        raise ValueError(f"logits must be one row, (V,) or (1, V), got shape {tuple(row.shape)}")
    if temperature <= 0:
        raise ValueError(
            f"temperature must be positive here (0 is greedy: nothing to cut), got {temperature}"
        )
    check_sampling(temperature, top_k, top_p)
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    probs, order = torch.sort(torch.softmax(row / temperature, dim=-1), descending=True)  # (V,) each
    cumulative = probs.cumsum(dim=0)
    kept_k = min(top_k, len(probs))
    kept_p = int(((cumulative - probs) < top_p).sum())  # ranked-before mass below top_p: kept
    n = min(n, len(probs))
    x = np.arange(n)
    fig, ax = plt.subplots(figsize=(max(7.0, 0.42 * n + 1.5), 4.0))
    colours = ["#3182bd" if i < kept_k else "#c6c6c6" for i in range(n)]
    ax.bar(x, probs[:n].numpy(), color=colours, edgecolor="#444444", lw=0.5)
    labels = [show_token(decode([int(i)])) if decode else str(int(i)) for i in order[:n]]
    ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=8, family="monospace")
    ax.set_ylabel("probability")
    if kept_k < n:
        ax.axvline(kept_k - 0.5, color="#3182bd", ls="--", lw=1.2)
    ax.text(
        kept_k - 0.6,
        ax.get_ylim()[1] * 0.97,
        f"top-k = {top_k}",
        ha="right",
        va="top",
        fontsize=9,
        color="#3182bd",
    )
    cum_ax = ax.twinx()
    cum_ax.plot(x, cumulative[:n].numpy(), "-", color="#e6550d", lw=1.2)
    shown = min(kept_p, n)
    cum_ax.scatter(x[:shown], cumulative[:shown].numpy(), color="#e6550d", s=22, zorder=3, gid="top_p_kept")
    cum_ax.axhline(top_p, color="#e6550d", ls=":", lw=1)
    side = "top" if cumulative[n - 1] >= top_p else "bottom"  # the side of the line the curve is not on
    cum_ax.text(n - 0.5, top_p, f"top-p = {top_p:g} ", ha="right", va=side, fontsize=9, color="#e6550d")
    cum_ax.set_ylim(0, 1.05)
    cum_ax.set_ylabel("cumulative probability", color="#e6550d")
    ax.spines["top"].set_visible(False)
    beyond = f", more than the {n} shown" if kept_p > n else ""
    ax.set_title(
        (title + "\n" if title else "")
        + f"top-k = {top_k} keeps {kept_k} tokens (blue); top-p = {top_p:g} keeps {kept_p:,} (orange dots{beyond})",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def plot_curves(
    curves: dict, *, xlabel: str = "step", ylabel: str = "", title: str = "", logy: bool = False, ax=None
):
    """Several named curves on one axis: learning-rate schedules, per-step losses, gradient norms."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    for name, values in curves.items():
        ax.plot(range(len(values)), list(values), label=str(name))
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_accuracy_comparison(
    results: dict[str, dict[str, float]], *, title: str = "", ylabel: str = "accuracy (%)", ax=None
):
    """Grouped bars: one group per model (``results`` key), one bar per split (train/val/test).

    ``results = {"majority class": {"test": 0.5}, "bag of words": {...}, "fine-tuned": {...}}``;
    each bar is labelled with its accuracy in percent (missing splits are left out). Splits other
    than train/val/test (or scores, e.g. ``{"correct": ..., "exact match": ...}``) follow in the
    order they first appear.
    """
    splits = [s for s in ("train", "val", "test") if any(s in r for r in results.values())]
    splits += [s for s in dict.fromkeys(s for r in results.values() for s in r) if s not in splits]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 + 1.4 * len(results), 3.6))
    width = 0.8 / max(1, len(splits))
    colours = ["#9ecae1", "#fdae6b", "#74c476", "#bcbddc"]
    for j, split in enumerate(splits):
        xs, ys = [], []
        for i, r in enumerate(results.values()):
            present = [s for s in splits if s in r]  # centre each group on its own bars
            if split in r:
                xs.append(i + (present.index(split) - (len(present) - 1) / 2) * width)
                ys.append(100 * r[split])
        bars = ax.bar(
            xs,
            ys,
            width * 0.95,
            label=split,
            color=colours[j % len(colours)],
            edgecolor="#444444",
            linewidth=0.6,
        )
        for bar, y in zip(bars, ys):
            ax.text(
                bar.get_x() + bar.get_width() / 2, y + 1, f"{y:.1f}", ha="center", va="bottom", fontsize=8
            )
    ax.set_xticks(range(len(results)), list(results), fontsize=9)
    ax.set_ylim(0, 122)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper center", ncol=len(splits), fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_metrics_by_kind(
    before: Sequence[dict],
    after: Sequence[dict],
    *,
    metric: str = "correct",
    labels: tuple[str, str] = ("before fine-tuning", "after fine-tuning"),
    ax=None,
):
    """Horizontal bars per task kind: one score (``metric``) before and after fine-tuning.

    ``before`` and ``after`` are ``llmscratch.finetune.metrics.metrics_by_kind`` rows for the same test
    entries; the overall row (last) is drawn at the bottom, set apart by a line.
    """
    if [r["kind"] for r in before] != [r["kind"] for r in after]:
        raise ValueError(
            "before and after must list the same kinds in the same order (score the same test entries)"
        )
    if metric not in before[0]:
        choices = ", ".join(k for k in before[0] if k not in ("kind", "n"))
        raise ValueError(f"metric {metric!r} is not in the rows; choose one of {choices}")
    kinds = [r["kind"] for r in before]
    y = np.arange(len(kinds))[::-1]  # first kind at the top
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.32 * len(kinds) + 1.2))
    height = 0.4
    ax.barh(y + height / 2, [r[metric] for r in before], height, label=labels[0], color="#b0b0b0")
    ax.barh(y - height / 2, [r[metric] for r in after], height, label=labels[1], color="#2b7bba")
    ax.set_yticks(y, [f"{r['kind']} (n={r['n']})" for r in before])
    ax.axhline(0.5, color="#333333", linewidth=0.8)  # separates the overall row (y = 0)
    ax.set_xlim(0, 1)
    name = {
        "correct": "share of correct answers",
        "exact_match": "exact match",
        "token_f1": "token F1",
        "rouge_l": "ROUGE-L",
    }.get(metric, metric)
    ax.set_xlabel(f"{name} (0 to 1, higher is better)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=9, frameon=False)
    return ax


def plot_seed_spread(results: dict[str, dict[str, Sequence[float]]], *, title: str = "", ax=None):
    """One dot per seed and a bar at the mean, per classifier (``results`` key) and test set.

    ``results = {"last block": {"test split": [0.83, 0.835, 0.875], "held-out kinds": [...]}, ...}``:
    the values of one classifier's seeds, in the same seed order for every test set. The mean is
    written above each group, so a reader sees the spread a single-seed number hides.
    """
    sets = list(dict.fromkeys(s for r in results.values() for s in r))
    if not sets or any(len(values) == 0 for r in results.values() for values in r.values()):
        raise ValueError("every classifier needs at least one value per test set it lists")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 + 1.5 * len(results), 3.8))
    width = 0.8 / len(sets)
    colours = ["#2b7bba", "#e6550d", "#31a354", "#756bb1"]
    for j, name in enumerate(sets):
        for i, r in enumerate(results.values()):
            if name not in r:
                continue
            x = i + (j - (len(sets) - 1) / 2) * width
            values = 100 * np.asarray(r[name], dtype=float)
            jitter = np.linspace(-0.15, 0.15, len(values)) * width if len(values) > 1 else np.zeros(1)
            ax.scatter(
                x + jitter,
                values,
                s=22,
                color=colours[j % len(colours)],
                zorder=3,
                edgecolor="white",
                linewidth=0.5,
                label=name if i == next(k for k, q in enumerate(results.values()) if name in q) else None,
            )
            mean = values.mean()
            ax.hlines(mean, x - 0.4 * width, x + 0.4 * width, color=colours[j % len(colours)], linewidth=2)
            ax.text(x, values.max() + 1.5, f"{mean:.1f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(results)), list(results), fontsize=9)
    ax.set_ylim(min(40, ax.get_ylim()[0]), 105)
    ax.set_ylabel("accuracy (%): dots = seeds, bar = mean")
    ax.legend(loc="lower left", ncol=len(sets), fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
