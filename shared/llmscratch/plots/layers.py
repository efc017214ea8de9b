"""Figures of what the GPT's layers do to numbers (chapter 4): measured values, not diagrams.

- ``plot_layernorm_effect()``: the values of a few token vectors before and after LayerNorm.
- ``plot_activation_gradients()``: the derivative of activation functions (what each passes back).
- ``plot_per_layer()``: one value per layer for several variants (gradient or activation sizes).
- ``plot_parameter_breakdown()``: where a model's parameters are, as one stacked bar.
- ``plot_logit_distributions()``: an untrained model's next-token logits and probabilities.

``architecture`` draws the model's boxes and arrows; this module draws numbers measured on it.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def plot_layernorm_effect(before, after, *, labels: Sequence[str] | None = None):
    """Histograms of each row of ``before`` and ``after`` (``(N, C)``: N token vectors of C features).

    Left, the raw vectors (each with its own mean and spread); right, the same vectors after
    LayerNorm: every row centred on 0 with variance 1, so the histograms lie on top of each other.
    """
    a, b = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(
            f"before and after must be (N, C) matrices of the same shape, got {a.shape} and {b.shape}"
        )
    labels = list(labels) if labels is not None else [f"token {i}" for i in range(a.shape[0])]
    if len(labels) != a.shape[0]:
        raise ValueError(f"need one label per row: {a.shape[0]} rows but {len(labels)} labels")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    for ax, m, name in [(axes[0], a, "before LayerNorm"), (axes[1], b, "after LayerNorm")]:
        bins = np.linspace(m.min(), m.max(), 40)
        for row, label in zip(m, labels):
            ax.hist(
                row,
                bins=bins,
                histtype="step",
                lw=1.5,
                label=f"{label}: mean {round(row.mean(), 2) + 0.0:.2f}, std {row.std():.2f}",
            )  # + 0.0: no "-0.00"
        ax.set(xlabel="feature value", ylabel="features")
        ax.set_title(f"{name} ({m.shape[1]} features per token)", fontsize=10)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_activation_gradients(xs, gradients: dict, *, ax=None):
    """The derivative of each activation (``{name: d activation / dx at xs}``) against ``x``."""
    x = np.asarray(xs, dtype=float)
    if not gradients or any(np.shape(g) != x.shape for g in gradients.values()):
        raise ValueError(f"need at least one gradient curve, each of the same shape as xs {x.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.2))
    for name, g in gradients.items():
        ax.plot(x, np.asarray(g, dtype=float), label=f"d {name}(x) / dx")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set(xlabel="x (input to the activation)", ylabel="derivative")
    ax.set_title("The gradient each activation passes back to its input", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def plot_per_layer(
    values: dict,
    *,
    ylabel: str,
    xlabel: str = "layer",
    title: str = "",
    log: bool = True,
    layer_names: Sequence[str] | None = None,
    ax=None,
):
    """Grouped bars: one group per layer, one bar per variant (``{variant: [value per layer]}``)."""
    lengths = {len(v) for v in values.values()}
    if not values or len(lengths) != 1:
        raise ValueError(
            f"need at least one variant, all with one value per layer; got lengths {sorted(lengths)}"
        )
    n = lengths.pop()
    names = list(layer_names) if layer_names is not None else [str(i + 1) for i in range(n)]
    if len(names) != n:
        raise ValueError(f"need one name per layer: {n} layers but {len(names)} names")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(7.0, 0.5 * n + 2), 3.4))
    width = 0.8 / len(values)
    x = np.arange(n)
    for i, (variant, v) in enumerate(values.items()):
        ax.bar(x + (i - (len(values) - 1) / 2) * width, np.asarray(v, dtype=float), width, label=str(variant))
    if log:
        ax.set_yscale("log")
    ax.set_xticks(x, names, fontsize=8, rotation=0 if n <= 16 else 90)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title, fontsize=10, pad=24)
    ax.legend(
        fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(values), frameon=False
    )  # above the bars
    ax.grid(alpha=0.3, axis="y")
    return ax


def plot_parameter_breakdown(counts: dict[str, int], *, title: str = "", ax=None):
    """One horizontal bar split into parts (``{part: parameters}``), each labelled with its share."""
    if not counts or any(v < 0 for v in counts.values()):
        raise ValueError("need at least one part, and no negative counts")
    total = sum(counts.values())
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 2.2))
    colours = ["#4c72b0", "#9ecae1", "#dd8452", "#55a868", "#c44e52", "#8172b2", "#937860"]
    left = 0
    for i, (part, n) in enumerate(counts.items()):
        ax.barh(
            0,
            n,
            height=0.6,
            left=left,
            color=colours[i % len(colours)],
            edgecolor="white",
            label=f"{part}: {n:,} ({100 * n / total:.1f}%)",
        )
        if n / total > 0.06:
            ax.text(
                left + n / 2,
                0,
                f"{100 * n / total:.1f}%",
                ha="center",
                va="center",
                color="white",
                fontsize=10,
                weight="bold",
            )
        left += n
    ax.set_xlim(0, total)
    ax.set_yticks([])
    ax.xaxis.set_major_formatter(lambda v, _: f"{v / 1e6:g}M")
    ax.set_xlabel("parameters (millions)")
    ax.set_title(title or f"{total:,} parameters", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.5), ncol=2, fontsize=8, frameon=False)
    return ax


def plot_logit_distributions(logits: dict, *, vocab_size: int):
    """Left: histogram of next-token logits per model (``{name: (N, V) or (V,)}``). Right: the
    probabilities after softmax, sorted, for the first row of each: against 1 / vocab_size, a
    model that knows nothing should be flat, not put almost everything on a few tokens.
    """
    rows = {name: np.atleast_2d(np.asarray(v, dtype=float)) for name, v in logits.items()}
    if not rows or any(r.shape[-1] != vocab_size for r in rows.values()):
        raise ValueError(
            f"need at least one model, each with logits of last dimension vocab_size={vocab_size}, "
            f"got {[r.shape for r in rows.values()]}"
        )
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    for name, r in rows.items():
        flat = r.ravel()
        left.hist(
            flat, bins=80, histtype="step", lw=1.5, density=True, label=f"{name} (std {flat.std():.2f})"
        )
        z = r[0] - r[0].max()
        probs = np.sort(np.exp(z) / np.exp(z).sum())[::-1]
        right.loglog(np.arange(1, vocab_size + 1), probs, label=f"{name} (top token {probs[0]:.2g})")
    left.set_yscale("log")
    left.set(xlabel="logit", ylabel="density (log scale)")
    left.set_title("Next-token logits of untrained models", fontsize=10)
    left.legend(fontsize=7)
    right.axhline(1 / vocab_size, color="grey", ls=":", label=f"uniform: 1/{vocab_size:,}")
    right.set_ylim(1e-3 / vocab_size, 2.0)  # far below uniform is "never": no need to draw 1e-30
    right.set(xlabel="candidate tokens, most likely first (rank)", ylabel="probability")
    right.set_title("Softmax probabilities at one position, sorted", fontsize=10)
    right.legend(fontsize=7)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
