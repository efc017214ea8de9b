"""Diagrams of the model (chapters 2-4): the GPT model, its block, the embeddings, the KV cache.

- ``plot_embedding_lookup()``: token + position embeddings as two table lookups, added.
- ``plot_gpt_model()``, ``plot_transformer_block()``, ``plot_kv_cache_steps()``: chapter 4's model,
  block and KV cache.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from .style import BLUE, GREEN, GREY, ORANGE, arrow, box
from .text import show_token


def plot_gpt_model(
    *, vocab_size: int = 50257, context_length: int = 1024, emb_dim: int = 768, n_layers: int = 12, ax=None
):
    """The GPT model from token ids to logits, one box per layer, with the tensor shape between layers.

    The numbers are a ``GPTConfig``'s (GPT-2 small by default), so the figure matches the model built.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 8.2))
    ax.set_xlim(0, 10)
    ax.set_ylim(-0.4, 10.4)
    ax.axis("off")
    x, w = 3.6, 4.6
    layers = [  # (y, text, colour, height)
        (9.7, "token ids", GREY, 0.55),
        (8.45, f"token embedding: table lookup\n{vocab_size:,} rows x {emb_dim}", BLUE, 0.8),
        (7.05, "+ position embedding\n(row t of a table with " + f"{context_length:,} rows)", BLUE, 0.8),
        (5.85, "dropout", GREY, 0.5),
        (4.35, f"transformer block\n(attention + feed-forward)\nx {n_layers}", ORANGE, 1.35),
        (2.85, "final LayerNorm", GREEN, 0.5),
        (
            1.75,
            f"output head: Linear {emb_dim} -> {vocab_size:,}\n(tied to the token table in GPT-2)",
            GREEN,
            0.8,
        ),
        (0.35, "logits: a score for every token\nof the vocabulary, at every position", GREY, 0.8),
    ]
    shapes = [
        "(B, T)",
        f"(B, T, {emb_dim})",
        f"(B, T, {emb_dim})",
        f"(B, T, {emb_dim})",
        f"(B, T, {emb_dim})",
        f"(B, T, {emb_dim})",
        f"(B, T, {vocab_size:,})",
    ]
    for y, text, colour, h in layers:
        box(ax, x, y, w, h, text, colour)
    for k in range(len(layers) - 1):
        (y0, _, _, h0), (y1, _, _, h1) = layers[k], layers[k + 1]
        arrow(ax, (x, y0 - h0 / 2 - 0.04), (x, y1 + h1 / 2 + 0.04))
        ax.text(
            x + 0.2,
            (y0 - h0 / 2 + y1 + h1 / 2) / 2,
            shapes[k],
            ha="left",
            va="center",
            fontsize=9,
            family="monospace",
            color="#2b5d8a",
        )
    ax.text(
        x + w / 2 + 0.35,
        4.35,
        "each block reads and\nwrites (B, T, C): blocks\nstack because the shape\nnever changes",
        ha="left",
        va="center",
        fontsize=9,
        color="#555555",
    )
    ax.text(
        x + w / 2 + 0.35,
        0.35,
        "position t scores\ncandidates for token t+1",
        ha="left",
        va="center",
        fontsize=9,
        color="#555555",
    )
    ax.text(
        0.05,
        10.25,
        f"B = batch size, T = tokens per text (at most {context_length:,}), C = emb_dim = {emb_dim}",
        fontsize=9,
        color="#555555",
    )
    return ax


def plot_transformer_block(*, emb_dim: int = 768, ax=None):
    """A pre-norm transformer block: two sub-layers, each ``x + Dropout(SubLayer(LayerNorm(x)))``.

    Drawn bottom (input) to top (output); the shortcut paths run on the left, straight into the adds.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 9))
    ax.set_xlim(0, 10)
    ax.set_ylim(-0.3, 11.3)
    ax.axis("off")
    x, w, h = 4.9, 5.8, 0.6
    ax.text(
        x, -0.05, f"x: (B, T, {emb_dim}) from the embeddings or the previous block", ha="center", fontsize=9
    )
    stack = [  # (y, text, colour)
        (1.2, "LayerNorm 1", GREEN),
        (2.3, "masked multi-head attention\n(tokens exchange information)", ORANGE),
        (3.35, "dropout", GREY),
        (6.0, "LayerNorm 2", GREEN),
        (
            7.25,
            f"feed-forward (each token on its own):\nLinear {emb_dim} -> {4 * emb_dim}, GELU, Linear {4 * emb_dim} -> {emb_dim}",
            ORANGE,
        ),
        (8.3, "dropout", GREY),
    ]
    heights = [h, 0.85, 0.5, h, 0.85, 0.5]
    adds = [4.45, 9.4]
    for (y, text, colour), hh in zip(stack, heights):
        box(ax, x, y, w, hh, text, colour)
    for k in (0, 1, 3, 4):
        (y0, _, _), (y1, _, _) = stack[k], stack[k + 1]
        arrow(ax, (x, y0 + heights[k] / 2), (x, y1 - heights[k + 1] / 2))
    for add, top_of_sublayer, start_y in [
        (adds[0], stack[2][0] + heights[2] / 2, 0.25),
        (adds[1], stack[5][0] + heights[5] / 2, adds[0] + 0.25),
    ]:
        ax.add_patch(plt.Circle((x, add), 0.25, fc="white", ec="#333333", lw=1.2))
        ax.text(x, add, "+", ha="center", va="center", fontsize=14)
        arrow(ax, (x, top_of_sublayer), (x, add - 0.25))
        # the shortcut: from below the norm, around the left, into the add
        branch = start_y + 0.35
        ax.plot([x, 1.3, 1.3], [branch, branch, add], color="#2b5d8a", lw=1.8)
        arrow(ax, (1.3, add), (x - 0.25, add), colour="#2b5d8a", lw=1.8)
        ax.add_patch(plt.Circle((x, branch), 0.05, color="#2b5d8a"))
    arrow(ax, (x, 0.25), (x, stack[0][0] - h / 2))
    arrow(ax, (x, adds[0] + 0.25), (x, stack[3][0] - h / 2))
    arrow(ax, (x, adds[1] + 0.25), (x, 10.35))
    ax.text(x, 10.6, f"output: (B, T, {emb_dim}), the same shape, to the next block", ha="center", fontsize=9)
    ax.text(
        1.15,
        (0.6 + adds[0]) / 2,
        "shortcut",
        rotation=90,
        ha="right",
        va="center",
        fontsize=9,
        color="#2b5d8a",
    )
    ax.text(
        1.15,
        (adds[0] + adds[1]) / 2 + 0.3,
        "shortcut",
        rotation=90,
        ha="right",
        va="center",
        fontsize=9,
        color="#2b5d8a",
    )
    ax.text(9.9, 2.3, "sub-layer 1", ha="right", va="center", fontsize=9, color="#a0621a", weight="bold")
    ax.text(9.9, 7.25, "sub-layer 2", ha="right", va="center", fontsize=9, color="#a0621a", weight="bold")
    return ax


def plot_embedding_lookup(
    token_ids: Sequence[int], tokens: Sequence[str], *, vocab_size: int, context_length: int, emb_dim: int
):
    """Token and position embeddings as two table lookups whose rows are added.

    The token table has ``vocab_size`` rows and the position table ``context_length`` rows, both
    ``emb_dim`` wide; token ``t`` of the text reads row ``token_ids[t]`` of the first and row ``t``
    of the second, and the model's input for that token is their sum. Only the rows read are drawn.
    """
    n = len(token_ids)
    if n != len(tokens):
        raise ValueError(f"need one token string per id: {n} ids but {len(tokens)} tokens")
    colours = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b2", "#937860", "#da8bc3", "#8c8c8c"]
    cells = 5  # squares drawn per row; the last one stands for the rest of the emb_dim columns
    fig, ax = plt.subplots(figsize=(13, 1.7 + 0.7 * n))
    ax.axis("off")

    def row(x, y, colour, alpha=0.8):
        for c in range(cells):
            last = c == cells - 1
            ax.add_patch(
                Rectangle(
                    (x + 0.45 * c, y),
                    0.45,
                    0.45,
                    fc="white" if last else colour,
                    ec="#555555",
                    alpha=1 if last else alpha,
                )
            )
        ax.text(x + 0.45 * (cells - 1) + 0.22, y + 0.22, "...", ha="center", va="center", fontsize=8)

    x_tok, x_pos, x_sum = 4.6, 9.0, 12.4
    width = 0.45 * cells
    titles = [
        (1.3, "text token = id"),
        (x_tok + width / 2, f"token embedding table\n{vocab_size:,} rows x {emb_dim}"),
        (x_pos + width / 2, f"position embedding table\n{context_length:,} rows x {emb_dim}"),
        (x_sum + width / 2, "input to the model\none row per token"),
    ]
    for x, title in titles:
        ax.text(x, 0.75, title, ha="center", va="bottom", fontsize=10)
    for t, (token_id, token) in enumerate(zip(token_ids, tokens)):
        y, colour = -0.7 * t, colours[t % len(colours)]
        ax.text(
            2.3,
            y + 0.22,
            f"{show_token(token)!r} = {token_id:,}",
            ha="right",
            va="center",
            fontsize=9,
            family="monospace",
            color=colour,
        )
        arrow(ax, (2.45, y + 0.22), (3.15, y + 0.22), colour="#777777")
        ax.text(
            x_tok - 0.1,
            y + 0.22,
            f"row {token_id:,}",
            ha="right",
            va="center",
            fontsize=8,
            family="monospace",
        )
        row(x_tok, y, colour)
        ax.text(x_tok + width + 0.55, y + 0.22, "+", ha="center", va="center", fontsize=13)
        ax.text(x_pos - 0.1, y + 0.22, f"row {t}", ha="right", va="center", fontsize=8, family="monospace")
        row(x_pos, y, "#999999", alpha=0.3 + 0.6 * t / max(n - 1, 1))
        ax.text(x_pos + width + 0.5, y + 0.22, "=", ha="center", va="center", fontsize=13)
        row(x_sum, y, colour)
    ax.text(
        x_tok + width / 2,
        -0.7 * n + 0.2,
        f"(the other {vocab_size - len(set(token_ids)):,} rows are not read)",
        ha="center",
        fontsize=8,
        color="#777777",
    )
    unread = (
        f"(rows {n} .. {context_length - 1:,} are not read)"
        if n < context_length
        else f"(all {context_length:,} rows are read)"
    )
    ax.text(x_pos + width / 2, -0.7 * n + 0.2, unread, ha="center", fontsize=8, color="#777777")
    ax.set_xlim(-0.3, 15.2)
    ax.set_ylim(-0.7 * n - 0.1, 1.6)
    return fig


def plot_kv_cache_steps(tokens: Sequence[str], n_prompt: int):
    """What the KV cache holds at each generation step, and what each step computes.

    Step 0 runs the ``n_prompt`` prompt tokens and stores their keys and values; every later step
    runs one new token: its key and value are computed and appended (orange), its query attends over
    every cached key (grey = read from the cache, not recomputed).
    """
    if not 1 <= n_prompt <= len(tokens):
        raise ValueError(f"n_prompt must be between 1 and len(tokens)={len(tokens)}, got {n_prompt}")
    steps = len(tokens) - n_prompt + 1
    fig, ax = plt.subplots(figsize=(max(10.0, 2.2 + 1.15 * len(tokens) + 4.2), 1.2 + 0.85 * steps))
    ax.axis("off")
    for s in range(steps):
        y = -0.85 * s
        end = n_prompt + s  # tokens in the cache after this step
        new = range(0, n_prompt) if s == 0 else range(end - 1, end)
        ax.text(
            -0.2, y + 0.3, "step 0 (prompt)" if s == 0 else f"step {s}", ha="right", va="center", fontsize=9
        )
        for t in range(end):
            fresh = t in new
            ax.add_patch(
                Rectangle(
                    (1.15 * t, y),
                    1.05,
                    0.6,
                    fc="#fdd0a2" if fresh else "#dddddd",
                    ec="#e6550d" if fresh else "#999999",
                )
            )
            ax.text(
                1.15 * t + 0.52,
                y + 0.3,
                show_token(tokens[t]),
                ha="center",
                va="center",
                fontsize=8,
                family="monospace",
            )
        what = (
            f"compute K, V for {len(new)} tokens"
            if s == 0
            else f"compute K, V for 1 token; its query reads {end} keys"
        )
        ax.text(1.15 * len(tokens) + 0.2, y + 0.3, what, ha="left", va="center", fontsize=9)
    ax.text(
        0,
        0.95,
        "keys and values in the cache after each step (orange: computed in this step; grey: read from the cache)",
        fontsize=9,
    )
    ax.set_xlim(-2.3, 1.15 * len(tokens) + 5.2)
    ax.set_ylim(-0.85 * (steps - 1) - 0.15, 1.3)
    return fig
