"""Figures of chapter 6's fine-tuning: a padded batch, which parameters train, and LoRA's update.

- ``plot_padded_batch_mask()``: a padded batch of messages next to the causal mask of one row, with
  the position whose output the classifier reads (the last *real* token) against the last position.
- ``plot_trainable_layers()``: frozen and trainable parameters per module of a real model (the
  last-block recipe, LoRA, full fine-tuning all look different here).
- ``plot_lora_update()``: a frozen weight beside LoRA's two thin matrices, shapes and counts taken
  from a real layer, and the learned update as a heatmap once it is no longer zero.

The other figures of chapter 6 (its stages, the accuracies) are in ``course`` and ``training``.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter
from torch import nn

from ..finetune.classify import last_token_index
from ..model.lora import LinearWithLoRA
from .style import BLUE, GREY
from .text import show_token

READ_EDGE, PITFALL_EDGE = "#2ca02c", "#d62728"  # the position we read / the last position (padding)
SEES_REAL, SEES_PAD = "#a1d99b", "#fdae6b"


def _as_matrix(values, name: str) -> np.ndarray:
    array = np.asarray(values.tolist() if isinstance(values, torch.Tensor) else values, dtype=object)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a (batch, seq_len) batch of equal-length rows, got {array.shape}")
    return array.astype(np.int64)


def _token_texts(token_ids: np.ndarray, decode: Callable[[list[int]], str] | None) -> list[list[str]]:
    return [[show_token(decode([int(i)])) if decode else str(int(i)) for i in row] for row in token_ids]


def plot_padded_batch_mask(
    token_ids,
    attention_mask=None,
    *,
    pad_id: int | None = None,
    decode: Callable[[list[int]], str] | None = None,
    row: int | None = None,
):
    """A padded batch (left) and the causal mask of one of its rows (right).

    ``token_ids`` is ``(B, T)`` (``pad_batch`` output); ``attention_mask`` marks real tokens with 1.
    Without it, the padding is taken to be every ``pad_id`` (fine unless a message contains that
    id). ``decode`` (``tokenizer.decode``) writes the tokens in the cells, else their ids.

    Left: the cell each row's output is read from (the last real token, green) and, where it is
    padding, the last position (red). Right: for ``row`` (default: the row with the most padding),
    query ``q`` may attend to key ``k <= q``; keys that are padding are orange. With right padding
    (what the package's classifier uses) only padding queries see padding, so the last real token has
    seen the whole message and nothing else; with left padding every real token would see padding
    unless the attention mask reaches the model.
    """
    ids = _as_matrix(token_ids, "token_ids")
    if attention_mask is None:
        if pad_id is None:
            raise ValueError("pass attention_mask or pad_id, so the figure knows which cells are padding")
        mask = (ids != pad_id).astype(np.int64)
    else:
        mask = _as_matrix(attention_mask, "attention_mask")
        if mask.shape != ids.shape:
            raise ValueError(
                f"attention_mask {mask.shape} and token_ids {ids.shape} must have the same shape"
            )
    n_rows, T = ids.shape
    for b, m in enumerate(mask):
        real = np.flatnonzero(m)
        if len(real) == 0:
            raise ValueError(f"row {b} has no real token (all padding)")
        if real[-1] - real[0] + 1 != len(real):
            raise ValueError(f"row {b}: the real tokens must be contiguous (padding only at one end)")
    last = last_token_index(torch.as_tensor(mask)).tolist()
    side = "left" if (mask[:, 0] == 0).any() else "right"
    if row is None:
        row = int(np.argmin(mask.sum(axis=1)))
    if not 0 <= row < n_rows:
        raise ValueError(f"row must be in 0..{n_rows - 1}, got {row}")
    texts = _token_texts(ids, decode)
    texts = [[text if mask[b, t] else "pad" for t, text in enumerate(r)] for b, r in enumerate(texts)]
    cell = max(1.0, 0.16 * max(len(t) for r in texts for t in r) + 0.3)  # wide enough for the token text
    fig, (left, right) = plt.subplots(
        1,
        2,
        figsize=(0.75 * (cell * T + 2.5) + 0.45 * T + 2, max(3.2, 0.4 * T + 1.6)),
        gridspec_kw={"width_ratios": [cell * T + 2.5, T + 2]},
    )
    for b in range(n_rows):
        y = n_rows - 1 - b
        left.text(-0.2, y + 0.45, f"row {b}", ha="right", va="center", fontsize=9)
        for t in range(T):
            pad = not mask[b, t]
            left.add_patch(Rectangle((cell * t, y), cell - 0.08, 0.9, fc=GREY if pad else BLUE, ec="#999999"))
            left.text(
                cell * t + cell / 2 - 0.04,
                y + 0.45,
                texts[b][t],
                ha="center",
                va="center",
                fontsize=8,
                family="monospace",
                color="#888888" if pad else "black",
            )
        read = Rectangle((cell * last[b], y), cell - 0.08, 0.9, fill=False, ec=READ_EDGE, lw=2.6)
        read.set_gid("last_real")
        left.add_patch(read)
        if last[b] != T - 1:
            pitfall = Rectangle(
                (cell * (T - 1), y), cell - 0.08, 0.9, fill=False, ec=PITFALL_EDGE, lw=2, ls="--"
            )
            pitfall.set_gid("last_position")
            left.add_patch(pitfall)
    for t in range(T):
        left.text(
            cell * t + cell / 2, n_rows + 0.1, str(t), ha="center", va="bottom", fontsize=8, color="#555555"
        )
    left.plot([], [], "s", mfc="none", mec=READ_EDGE, mew=2, ms=10, label="read here: last real token")
    if any(i != T - 1 for i in last):
        left.plot(
            [], [], "s", mfc="none", mec=PITFALL_EDGE, mew=2, ms=10, label="last position, padding here"
        )
    left.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8, frameon=False)
    left.set_xlim(-1.6, cell * T)
    left.set_ylim(-0.2, n_rows + 0.6)
    left.axis("off")
    left.set_title(f"{side}-padded batch (grey: padding)", fontsize=10)
    seen = int(mask[row, : last[row] + 1].sum())
    if side == "right":
        note = (
            f"Row {row}: its last real token (position {last[row]}) has seen the {seen} real token(s) and no padding"
            + (
                f"; the last position ({T - 1}) has seen {T - seen} padding token(s) too."
                if last[row] != T - 1
                else "."
            )
        )
    else:
        note = (
            f"Left padding: the last real token is the last position, but it attends to the padding before it "
            f"unless the attention mask reaches the model (row {row}: {T - seen} padding key(s))."
        )
    fig.text(0.5, 0.01, note, ha="center", va="bottom", fontsize=9)

    for q in range(T):  # the causal mask of one row: query q (row), key k (column)
        for k in range(T):
            allowed = k <= q
            colour = "white" if not allowed else (SEES_PAD if not mask[row, k] else SEES_REAL)
            right.add_patch(Rectangle((k, T - 1 - q), 1, 1, fc=colour, ec="#cccccc", lw=0.6))
    for q, edge, gid in ((last[row], READ_EDGE, "read_row"), (T - 1, PITFALL_EDGE, "last_row")):
        if gid == "last_row" and q == last[row]:
            continue
        outline = Rectangle(
            (0, T - 1 - q), T, 1, fill=False, ec=edge, lw=2.2, ls="-" if gid == "read_row" else "--"
        )
        outline.set_gid(gid)
        right.add_patch(outline)
    labels = texts[row]
    right.set_xticks(np.arange(T) + 0.5, labels, rotation=60, ha="right", fontsize=8, family="monospace")
    right.set_yticks(np.arange(T) + 0.5, labels[::-1], fontsize=8, family="monospace")
    right.set(xlim=(0, T), ylim=(0, T), xlabel="key (attended to)", ylabel="query")
    right.tick_params(length=0)
    right.plot([], [], "s", color=SEES_REAL, ms=9, label="attends to a real token")
    right.plot([], [], "s", color=SEES_PAD, ms=9, label="attends to padding")
    right.plot([], [], "s", mfc="white", mec="#999999", ms=9, label="masked (future)")
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2, fontsize=8, frameon=False)
    right.set_title(f"causal mask of row {row}", fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def _parameter_groups(model: nn.Module, group_repeats: bool) -> list[tuple[str, int, int]]:
    """``(label, total, trainable)`` per top-level module, one entry per block; shared tensors count once."""
    groups: dict[str, list[int]] = {}
    for name, param in model.named_parameters():  # a tied weight is listed once (under its first name)
        parts = name.split(".")
        key = f"block {parts[1]}" if parts[0] == "blocks" and len(parts) > 2 else parts[0]
        total, trainable = groups.setdefault(key, [0, 0])
        groups[key] = [total + param.numel(), trainable + (param.numel() if param.requires_grad else 0)]
    rows = [(key, total, trainable) for key, (total, trainable) in groups.items()]
    if not group_repeats:
        return rows
    merged: list[tuple[str, int, int]] = []
    run: list[tuple[str, int, int]] = []
    for entry in [*rows, ("", -1, -1)]:  # a sentinel flushes the last run
        is_block = entry[0].startswith("block ")
        if run and is_block and entry[1:] == run[-1][1:]:
            run.append(entry)
            continue
        if len(run) > 1:
            first, last = run[0][0].split()[1], run[-1][0].split()[1]
            merged.append((f"blocks {first}-{last} (one of {len(run)})", run[0][1], run[0][2]))
        elif run:
            merged.append(run[0])
        run = [entry] if is_block else []
        if not is_block and entry[1] >= 0:
            merged.append(entry)
    return merged


def _millions(value: float, _position=None) -> str:
    return f"{value / 1e6:g}M" if value else "0"


def plot_trainable_layers(model: nn.Module, *, group_repeats: bool = True, title: str = "", ax=None):
    """Horizontal bars per module of ``model``: trainable parameters (green) and frozen ones (grey).

    One bar per top-level module (embeddings, ``final_norm``, ``out_head``) and per transformer block;
    with ``group_repeats`` consecutive blocks with the same counts share one bar (its length is one
    block's). Each bar says how much of it trains. Shared (tied) tensors are counted once.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"plot_trainable_layers takes an nn.Module, got {type(model).__name__}")
    rows = _parameter_groups(model, group_repeats)
    if not rows:
        raise ValueError(f"{type(model).__name__} has no parameters")
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    own_figure = ax is None
    if own_figure:
        _, ax = plt.subplots(figsize=(9, 0.42 * len(rows) + 1.3))
    y = np.arange(len(rows))[::-1]  # first module at the top
    sizes = np.array([r[1] for r in rows], dtype=float)
    trained = np.array([r[2] for r in rows], dtype=float)
    ax.barh(y, trained, color="#41ab5d", edgecolor="#333333", lw=0.5, label="trainable", gid="trainable")
    ax.barh(y, sizes - trained, left=trained, color="#d0d0d0", edgecolor="#333333", lw=0.5, label="frozen")
    for yi, size, part in zip(y, sizes, trained):
        share = "frozen" if part == 0 else f"{100 * part / size:.3g}% trainable ({int(part):,})"
        ax.text(size + sizes.max() * 0.01, yi, f"{int(size):,}: {share}", va="center", fontsize=8)
    ax.set_yticks(y, [r[0] for r in rows], fontsize=9)
    ax.set_xlim(0, sizes.max() * 1.6)  # room for the labels
    ax.xaxis.set_major_formatter(FuncFormatter(_millions))
    repeated = len(rows) < len(_parameter_groups(model, False))
    ax.set_xlabel("parameters (a bar of repeated blocks is one block)" if repeated else "parameters")
    ax.legend(loc="lower right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(
        title or f"trainable: {trainable:,} of {total:,} parameters ({100 * trainable / total:.2g}%)",
        fontsize=10,
    )
    if own_figure:
        ax.figure.tight_layout()
    return ax.figure


def plot_lora_update(
    layer: nn.Module, *, rank: int | None = None, alpha: float | None = None, name: str = ""
):
    """LoRA on one real linear layer: ``x W^T`` (frozen) plus ``(alpha / r) x A B`` (trained).

    ``layer`` is an ``nn.Linear`` (then give ``rank``; ``alpha`` defaults to ``2 * rank``) or a
    ``LinearWithLoRA`` (rank and alpha are read from it). The matrices are drawn as the package
    stores them, in the order ``x`` meets them: ``W^T`` is ``(d_in, d_out)``, ``A`` is ``(d_in, r)``
    and ``B`` is ``(r, d_out)``; the thin side is widened so it stays visible, the labels give the
    true shapes and counts. When the layer's update is not zero (after training), a second panel
    shows ``delta_weight()`` (``(d_out, d_in)``, like ``layer.weight``) and its rank.
    """
    if isinstance(layer, LinearWithLoRA):
        rank, alpha, base = layer.lora.rank, layer.lora.alpha, layer.linear
    elif isinstance(layer, nn.Linear):
        if rank is None:
            raise ValueError("a plain nn.Linear has no LoRA rank: pass rank=..., or a LinearWithLoRA")
        base = layer
    else:
        raise TypeError(
            f"plot_lora_update takes an nn.Linear or a LinearWithLoRA, got {type(layer).__name__}"
        )
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise ValueError(f"rank must be a positive integer, got {rank!r}")
    alpha = 2 * rank if alpha is None else alpha
    d_in, d_out = base.in_features, base.out_features
    delta = layer.lora.delta_weight().detach().float().cpu() if isinstance(layer, LinearWithLoRA) else None
    trained = delta is not None and bool(delta.abs().max() > 0)
    fig, axes = plt.subplots(
        1,
        2 if trained else 1,
        figsize=(13 if trained else 9, 4.2),
        gridspec_kw={"width_ratios": [2, 1]} if trained else None,
    )
    ax = axes[0] if trained else axes
    unit = 3.0 / max(d_in, d_out)  # drawing units per row/column
    thin = max(rank * unit, 0.28)
    h_w, w_w = d_in * unit, d_out * unit
    lora_count = rank * (d_in + d_out)
    shapes = [  # (label, height, width, colour, numbers, gid)
        (f"$W^T$ (frozen)\n{d_in} × {d_out}\n{d_in * d_out:,}", h_w, w_w, "#d0d0d0", d_in * d_out, "W"),
        (f"A\n{d_in} × {rank}\n{d_in * rank:,}", h_w, thin, "#41ab5d", d_in * rank, "A"),
        (f"B\n{rank} × {d_out}\n{rank * d_out:,}", thin, w_w, "#41ab5d", rank * d_out, "B"),
    ]
    x = 0.0
    for i, (label, h, w, colour, _, gid) in enumerate(shapes):
        patch = Rectangle((x, -h / 2), w, h, fc=colour, ec="#333333", lw=1)
        patch.set_gid(gid)
        ax.add_patch(patch)
        inside = h > 0.8 and w > 0.8
        ax.text(
            x + w / 2,
            0 if inside else -h / 2 - 0.12,
            label,
            ha="center",
            va="center" if inside else "top",
            fontsize=9,
        )
        x += w
        if i == 0:
            ax.text(x + 0.8, 0, f"+ ({alpha:g}/{rank}) ×", ha="center", va="center", fontsize=12)
            x += 1.6
        elif i == 1:
            ax.text(x + 0.25, 0, "·", ha="center", va="center", fontsize=18)
            x += 0.5
    ax.set_xlim(-0.2, x + 0.2)
    ax.set_ylim(-h_w / 2 - 1.1, h_w / 2 + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        f"{name + ': ' if name else ''}y = x $W^T$ + ({alpha:g}/{rank}) x A B\n"
        f"frozen {d_in * d_out:,} weights; LoRA trains r·(d_in + d_out) = {lora_count:,} "
        f"({100 * lora_count / (d_in * d_out):.2g}% of W)",
        fontsize=10,
    )
    if trained:
        heat = axes[1]
        limit = (
            float(delta.abs().flatten().quantile(0.99))
            if delta.numel() <= 2**24
            else float(delta.abs().max())
        )
        image = heat.imshow(delta.numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        heat.set(xlabel=f"input feature (d_in = {d_in})", ylabel=f"output feature (d_out = {d_out})")
        heat.set_title(
            f"the update ΔW = ({alpha:g}/{rank}) (A B)$^T$, rank {int(torch.linalg.matrix_rank(delta))}",
            fontsize=10,
        )
        plt.colorbar(image, ax=heat, fraction=0.046)
    fig.tight_layout()
    return fig
