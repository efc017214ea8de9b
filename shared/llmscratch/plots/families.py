"""Figures of the later model families (chapter 5's bonus ``ch05_modern_architectures``): measured numbers.

- ``plot_qk_norm_runs()``: the same training run with and without QK-norm, the loss and the largest
  attention score (logit) side by side.
- ``plot_window_masks()``: a global layer's causal mask next to a local layer's sliding-window mask,
  and which layers are which.
- ``plot_cache_growth()``: KV-cache bytes as a text grows, one line per model (measured on real caches).
- ``plot_expert_load()``: the share of routed tokens each expert of each layer received.
- ``plot_cache_vs_context()``: KV-cache bytes against context length for several families.

Every function takes plain numbers (lists, arrays, dicts); the notebook measures, this module draws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap


def plot_qk_norm_runs(runs: Mapping[str, Mapping[str, Sequence[float]]]):
    """``runs``: ``{label: {"step": [...], "loss": [...], "max_logit": [...]}}``, one entry per model.

    Left, the training loss; right, the largest attention score ``q . k / sqrt(d)`` on a fixed probe
    text, on a log scale (without QK-norm it can grow by orders of magnitude).
    """
    if not runs:
        raise ValueError("need at least one run")
    for label, run in runs.items():
        missing = {"step", "loss", "max_logit"} - set(run)
        if missing:
            raise ValueError(f"run {label!r} lacks {sorted(missing)}")
        if not len(run["step"]) == len(run["loss"]) == len(run["max_logit"]):
            raise ValueError(f"run {label!r}: step, loss and max_logit need one value each per step")
    fig, (ax_loss, ax_logit) = plt.subplots(1, 2, figsize=(11, 3.6))
    for label, run in runs.items():
        (line,) = ax_loss.plot(run["step"], run["loss"], lw=1.4, label=label)
        ax_logit.plot(
            run["step"],
            run["max_logit"],
            lw=1.6,
            color=line.get_color(),
            label=f"{label} (last {run['max_logit'][-1]:.1f})",
        )
    ax_loss.set(xlabel="training step", ylabel="training loss (nats per byte)", title="loss")
    ax_logit.set(xlabel="training step", ylabel="largest |q . k| / sqrt(d)", yscale="log")
    ax_logit.set_title("largest attention score on a fixed text")
    for ax in (ax_loss, ax_logit):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_window_masks(masks: Mapping[str, np.ndarray], layer_kinds: str = ""):
    """Boolean ``(T, T)`` masks side by side (True: the query row may look at the key column).

    ``layer_kinds``, e.g. ``"LLLLLG"``, adds a strip showing which layers are local (L) and global (G).
    """
    if not masks:
        raise ValueError("need at least one mask")
    arrays = {name: np.asarray(m, dtype=bool) for name, m in masks.items()}
    for name, m in arrays.items():
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise ValueError(f"mask {name!r} must be a square (T, T) matrix, got shape {m.shape}")
    if set(layer_kinds) - {"L", "G"}:
        raise ValueError(f"layer_kinds may only hold 'L' (local) and 'G' (global), got {layer_kinds!r}")
    n = len(arrays) + bool(layer_kinds)
    widths = [1.0] * len(arrays) + ([0.55] if layer_kinds else [])
    fig, axes = plt.subplots(
        1, n, figsize=(4.2 * len(arrays) + 2.4 * bool(layer_kinds), 4.0), gridspec_kw={"width_ratios": widths}
    )
    axes = np.atleast_1d(axes)
    cmap = ListedColormap(["#f4f4f4", "#3b6ea5"])
    for ax, (name, m) in zip(axes, arrays.items()):
        t = m.shape[0]
        ax.imshow(m, cmap=cmap, vmin=0, vmax=1)
        ax.set_xticks(np.arange(-0.5, t, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, t, 1), minor=True)
        ax.grid(which="minor", color="white", lw=0.6)
        ax.tick_params(which="minor", length=0)
        ax.set(xlabel="key position", ylabel="query position")
        ax.set_title(f"{name}\n(each row sees {m.sum(axis=1).max()} keys at most)", fontsize=10)
    if layer_kinds:
        ax = axes[-1]
        for i, kind in enumerate(layer_kinds):
            ax.add_patch(
                plt.Rectangle((0, i), 1, 0.9, fc="#3b6ea5" if kind == "G" else "#9cc3e6", ec="white")
            )
            ax.text(
                0.5,
                i + 0.45,
                "global" if kind == "G" else "local",
                ha="center",
                va="center",
                color="white" if kind == "G" else "black",
                fontsize=9,
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(len(layer_kinds), 0)
        ax.set_yticks(np.arange(len(layer_kinds)) + 0.45, [f"layer {i}" for i in range(len(layer_kinds))])
        ax.set_xticks([])
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        ax.set_title("the layers", fontsize=10)
    fig.tight_layout()
    return fig


def plot_cache_growth(
    tokens: Sequence[int], cache_bytes: Mapping[str, Sequence[float]], *, window: int | None = None, ax=None
):
    """KV-cache size (KiB) after each of ``tokens`` for every model in ``cache_bytes`` ``{label: bytes}``.

    ``window``: draws a dotted line where a local layer's window is full.
    """
    steps = list(tokens)
    if not cache_bytes or any(len(v) != len(steps) for v in cache_bytes.values()):
        raise ValueError(f"need at least one curve, each with one value per token count ({len(steps)})")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 3.6))
    for label, values in cache_bytes.items():
        ax.plot(steps, np.asarray(values, dtype=float) / 1024, lw=1.8, label=label)
    if window is not None:
        ax.axvline(window, color="0.4", ls=":", lw=1.2, label=f"window = {window} tokens")
    ax.set(xlabel="tokens in the cache", ylabel="KV cache (KiB)", xlim=(0, max(steps)))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_expert_load(loads: Mapping[str, np.ndarray]):
    """One heatmap per entry of ``loads`` ``{title: (n_layers, n_experts) token counts}``.

    Each cell is the share of the layer's routed tokens that went to that expert (rows sum to 100%);
    a perfectly balanced router gives ``100 / n_experts`` % everywhere.
    """
    if not loads:
        raise ValueError("need at least one load matrix")
    arrays = {name: np.asarray(c, dtype=float) for name, c in loads.items()}
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(
            f"every load must be an (n_layers, n_experts) matrix of one shape, got {sorted(shapes)}"
        )
    if any((a < 0).any() or (a.sum(axis=1) == 0).any() for a in arrays.values()):
        raise ValueError("counts must be non-negative, and every layer must have routed some tokens")
    n_layers, n_experts = next(iter(shapes))
    fig, axes = plt.subplots(
        1,
        len(arrays),
        figsize=(0.6 * n_experts * len(arrays) + 2.5, 0.6 * n_layers + 1.9),
        layout="constrained",
    )
    axes = np.atleast_1d(axes)
    for k, (ax, (name, counts)) in enumerate(zip(axes, arrays.items())):
        share = 100 * counts / counts.sum(axis=1, keepdims=True)
        image = ax.imshow(share, cmap="Blues", vmin=0, vmax=50)
        for (i, j), v in np.ndenumerate(share):
            ax.text(
                j, i, f"{v:.0f}", ha="center", va="center", fontsize=8, color="white" if v > 30 else "black"
            )
        ax.set_xticks(range(n_experts))
        ax.set_yticks(range(n_layers), [f"MoE layer {i}" for i in range(n_layers)] if k == 0 else [])
        ax.set_xlabel("expert")
        ax.set_title(f"{name}\n(% of routed tokens; balanced = {100 / n_experts:.1f})", fontsize=10)
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="% of the layer's tokens")
    return fig


def plot_cache_vs_context(lengths: Sequence[int], cache_bytes: Mapping[str, Sequence[float]], *, ax=None):
    """KV-cache GiB against context length (log-log), one line per family ``{label: bytes per length}``.

    Families with exactly the same curve share one line, labelled ``"a = b"`` (else they would hide
    each other).
    """
    xs = np.asarray(list(lengths), dtype=float)
    if not cache_bytes or any(len(v) != len(xs) for v in cache_bytes.values()):
        raise ValueError(f"need at least one curve, each with one value per context length ({len(xs)})")
    if (xs <= 0).any():
        raise ValueError("context lengths must be positive (the axis is logarithmic)")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.2))
    merged: dict[tuple, list[str]] = {}
    for label, values in cache_bytes.items():
        merged.setdefault(tuple(float(v) for v in values), []).append(label)
    styles = ["-", "--", "-.", ":"]
    for i, (values, labels) in enumerate(merged.items()):
        ax.plot(xs, np.asarray(values) / 2**30, lw=2, ls=styles[i % len(styles)], label=" = ".join(labels))
    ax.set(
        xscale="log", yscale="log", xlabel="context length (tokens)", ylabel="KV cache (GiB, one sequence)"
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax
