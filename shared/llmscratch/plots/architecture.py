"""Diagrams of what the course builds: the pipeline, the GPT model, its block, embeddings, KV cache, RoPE.

- ``plot_llm_pipeline()``: chapter 1's map of how an LLM is built, one box per chapter.
- ``plot_embedding_lookup()``: token + position embeddings as two table lookups, added.
- ``plot_gpt_model()``, ``plot_transformer_block()``, ``plot_kv_cache_steps()``: chapter 4's model,
  block and KV cache.
- ``plot_rope()``: rotary position embeddings, the angle of every pair and the score against distance.
- ``plot_classification_stages()``: chapter 6's three stages (data, model, fine-tuning).

Drawn with matplotlib alone (no remote images); each returns the axes or figure it drew on.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from .text import show_token

_BLUE, _ORANGE, _GREEN, _GREY, _RED = "#dbe9f6", "#fde2c8", "#d8f0d2", "#eeeeee", "#f6d5d5"


def plot_llm_pipeline(ax=None):
    """Draw the stages of building an LLM (data -> architecture -> pretraining -> fine-tuning)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 4.2))
    ax.set_xlim(0, 11)
    ax.set_ylim(0, 4.2)
    ax.axis("off")
    stages = [
        (0.2, 2.4, "Text data &\ntokenization", "ch 2", "#dbe9f6"),
        (2.3, 2.4, "Attention", "ch 3", "#dbe9f6"),
        (4.4, 2.4, "GPT model", "ch 4", "#dbe9f6"),
        (6.5, 2.4, "Pretraining on\nunlabelled text", "ch 5", "#fde8c8"),
        (8.9, 3.2, "Classifier\n(spam or not)", "ch 6", "#d8f0d2"),
        (8.9, 1.5, "Assistant that\nfollows instructions", "ch 7", "#d8f0d2"),
    ]
    boxes = {}
    for x, y, label, chapter, colour in stages:
        w, h = (1.9, 1.0) if x < 8 else (1.95, 0.95)
        ax.add_patch(FancyBboxPatch((x, y - h / 2), w, h, boxstyle="round,pad=0.05", fc=colour, ec="#333333"))
        ax.text(x + w / 2, y + 0.06, label, ha="center", va="center", fontsize=10)
        ax.text(x + w / 2, y - h / 2 - 0.22, chapter, ha="center", va="center", fontsize=9, color="#555555")
        boxes[chapter] = (x, y, w)
    for a, b in [("ch 2", "ch 3"), ("ch 3", "ch 4"), ("ch 4", "ch 5"), ("ch 5", "ch 6"), ("ch 5", "ch 7")]:
        (xa, ya, wa), (xb, yb, _) = boxes[a], boxes[b]
        ax.add_patch(FancyArrowPatch((xa + wa + 0.08, ya), (xb - 0.08, yb), arrowstyle="-|>", mutation_scale=14, color="#333333"))
    ax.text(1.1, 0.55, "Stage 1: build the model", ha="left", fontsize=11, weight="bold", color="#2b5d8a")
    ax.text(6.5, 0.55, "Stage 2: pretrain", ha="left", fontsize=11, weight="bold", color="#a0621a")
    ax.text(8.9, 0.55, "Stage 3: fine-tune", ha="left", fontsize=11, weight="bold", color="#3d7a31")
    ax.text(7.45, 3.55, "-> a foundation model", ha="center", fontsize=9, style="italic")
    return ax


def _box(ax, x, y, w, h, text, colour=_BLUE, *, fontsize=10, edge="#333333", **text_kw):
    """A rounded box centred at ``(x, y)`` with ``text`` in the middle."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=colour, ec=edge, lw=1.1))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, **text_kw)


def _arrow(ax, start, end, *, colour="#333333", lw=1.2, style="-|>", **kw):

    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, color=colour, lw=lw, shrinkA=0, shrinkB=0, **kw))


def plot_gpt_model(*, vocab_size: int = 50257, context_length: int = 1024, emb_dim: int = 768, n_layers: int = 12, ax=None):
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
        (9.7, "token ids", _GREY, 0.55),
        (8.45, f"token embedding: table lookup\n{vocab_size:,} rows x {emb_dim}", _BLUE, 0.8),
        (7.05, "+ position embedding\n(row t of a table with " + f"{context_length:,} rows)", _BLUE, 0.8),
        (5.85, "dropout", _GREY, 0.5),
        (4.35, f"transformer block\n(attention + feed-forward)\nx {n_layers}", _ORANGE, 1.35),
        (2.85, "final LayerNorm", _GREEN, 0.5),
        (1.75, f"output head: Linear {emb_dim} -> {vocab_size:,}\n(tied to the token table in GPT-2)", _GREEN, 0.8),
        (0.35, "logits: a score for every token\nof the vocabulary, at every position", _GREY, 0.8),
    ]
    shapes = ["(B, T)", f"(B, T, {emb_dim})", f"(B, T, {emb_dim})", f"(B, T, {emb_dim})", f"(B, T, {emb_dim})", f"(B, T, {emb_dim})", f"(B, T, {vocab_size:,})"]
    for (y, text, colour, h) in layers:
        _box(ax, x, y, w, h, text, colour)
    for k in range(len(layers) - 1):
        (y0, _, _, h0), (y1, _, _, h1) = layers[k], layers[k + 1]
        _arrow(ax, (x, y0 - h0 / 2 - 0.04), (x, y1 + h1 / 2 + 0.04))
        ax.text(x + 0.2, (y0 - h0 / 2 + y1 + h1 / 2) / 2, shapes[k], ha="left", va="center", fontsize=9, family="monospace", color="#2b5d8a")
    ax.text(x + w / 2 + 0.35, 4.35, "each block reads and\nwrites (B, T, C): blocks\nstack because the shape\nnever changes", ha="left", va="center", fontsize=9, color="#555555")
    ax.text(x + w / 2 + 0.35, 0.35, "position t scores\ncandidates for token t+1", ha="left", va="center", fontsize=9, color="#555555")
    ax.text(0.05, 10.25, f"B = batch size, T = tokens per text (at most {context_length:,}), C = emb_dim = {emb_dim}", fontsize=9, color="#555555")
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
    ax.text(x, -0.05, f"x: (B, T, {emb_dim}) from the embeddings or the previous block", ha="center", fontsize=9)
    stack = [  # (y, text, colour)
        (1.2, "LayerNorm 1", _GREEN),
        (2.3, "masked multi-head attention\n(tokens exchange information)", _ORANGE),
        (3.35, "dropout", _GREY),
        (6.0, "LayerNorm 2", _GREEN),
        (7.25, f"feed-forward (each token on its own):\nLinear {emb_dim} -> {4 * emb_dim}, GELU, Linear {4 * emb_dim} -> {emb_dim}", _ORANGE),
        (8.3, "dropout", _GREY),
    ]
    heights = [h, 0.85, 0.5, h, 0.85, 0.5]
    adds = [4.45, 9.4]
    for (y, text, colour), hh in zip(stack, heights):
        _box(ax, x, y, w, hh, text, colour)
    for k in (0, 1, 3, 4):
        (y0, _, _), (y1, _, _) = stack[k], stack[k + 1]
        _arrow(ax, (x, y0 + heights[k] / 2), (x, y1 - heights[k + 1] / 2))
    for add, top_of_sublayer, start_y in [(adds[0], stack[2][0] + heights[2] / 2, 0.25), (adds[1], stack[5][0] + heights[5] / 2, adds[0] + 0.25)]:
        ax.add_patch(plt.Circle((x, add), 0.25, fc="white", ec="#333333", lw=1.2))
        ax.text(x, add, "+", ha="center", va="center", fontsize=14)
        _arrow(ax, (x, top_of_sublayer), (x, add - 0.25))
        # the shortcut: from below the norm, around the left, into the add
        branch = start_y + 0.35
        ax.plot([x, 1.3, 1.3], [branch, branch, add], color="#2b5d8a", lw=1.8)
        _arrow(ax, (1.3, add), (x - 0.25, add), colour="#2b5d8a", lw=1.8)
        ax.add_patch(plt.Circle((x, branch), 0.05, color="#2b5d8a"))
    _arrow(ax, (x, 0.25), (x, stack[0][0] - h / 2))
    _arrow(ax, (x, adds[0] + 0.25), (x, stack[3][0] - h / 2))
    _arrow(ax, (x, adds[1] + 0.25), (x, 10.35))
    ax.text(x, 10.6, f"output: (B, T, {emb_dim}), the same shape, to the next block", ha="center", fontsize=9)
    ax.text(1.15, (0.6 + adds[0]) / 2, "shortcut", rotation=90, ha="right", va="center", fontsize=9, color="#2b5d8a")
    ax.text(1.15, (adds[0] + adds[1]) / 2 + 0.3, "shortcut", rotation=90, ha="right", va="center", fontsize=9, color="#2b5d8a")
    ax.text(9.9, 2.3, "sub-layer 1", ha="right", va="center", fontsize=9, color="#a0621a", weight="bold")
    ax.text(9.9, 7.25, "sub-layer 2", ha="right", va="center", fontsize=9, color="#a0621a", weight="bold")
    return ax


def plot_embedding_lookup(token_ids: Sequence[int], tokens: Sequence[str], *, vocab_size: int, context_length: int, emb_dim: int):
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
            ax.add_patch(Rectangle((x + 0.45 * c, y), 0.45, 0.45, fc="white" if last else colour, ec="#555555", alpha=1 if last else alpha))
        ax.text(x + 0.45 * (cells - 1) + 0.22, y + 0.22, "...", ha="center", va="center", fontsize=8)

    x_tok, x_pos, x_sum = 4.6, 9.0, 12.4
    width = 0.45 * cells
    titles = [(1.3, "text token = id"), (x_tok + width / 2, f"token embedding table\n{vocab_size:,} rows x {emb_dim}"),
              (x_pos + width / 2, f"position embedding table\n{context_length:,} rows x {emb_dim}"), (x_sum + width / 2, "input to the model\none row per token")]
    for x, title in titles:
        ax.text(x, 0.75, title, ha="center", va="bottom", fontsize=10)
    for t, (token_id, token) in enumerate(zip(token_ids, tokens)):
        y, colour = -0.7 * t, colours[t % len(colours)]
        ax.text(2.3, y + 0.22, f"{show_token(token)!r} = {token_id:,}", ha="right", va="center", fontsize=9, family="monospace", color=colour)
        _arrow(ax, (2.45, y + 0.22), (3.15, y + 0.22), colour="#777777")
        ax.text(x_tok - 0.1, y + 0.22, f"row {token_id:,}", ha="right", va="center", fontsize=8, family="monospace")
        row(x_tok, y, colour)
        ax.text(x_tok + width + 0.55, y + 0.22, "+", ha="center", va="center", fontsize=13)
        ax.text(x_pos - 0.1, y + 0.22, f"row {t}", ha="right", va="center", fontsize=8, family="monospace")
        row(x_pos, y, "#999999", alpha=0.3 + 0.6 * t / max(n - 1, 1))
        ax.text(x_pos + width + 0.5, y + 0.22, "=", ha="center", va="center", fontsize=13)
        row(x_sum, y, colour)
    ax.text(x_tok + width / 2, -0.7 * n + 0.2, f"(the other {vocab_size - len(set(token_ids)):,} rows are not read)", ha="center", fontsize=8, color="#777777")
    unread = f"(rows {n} .. {context_length - 1:,} are not read)" if n < context_length else f"(all {context_length:,} rows are read)"
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
        ax.text(-0.2, y + 0.3, "step 0 (prompt)" if s == 0 else f"step {s}", ha="right", va="center", fontsize=9)
        for t in range(end):
            fresh = t in new
            ax.add_patch(Rectangle((1.15 * t, y), 1.05, 0.6, fc="#fdd0a2" if fresh else "#dddddd", ec="#e6550d" if fresh else "#999999"))
            ax.text(1.15 * t + 0.52, y + 0.3, show_token(tokens[t]), ha="center", va="center", fontsize=8, family="monospace")
        what = f"compute K, V for {len(new)} tokens" if s == 0 else f"compute K, V for 1 token; its query reads {end} keys"
        ax.text(1.15 * len(tokens) + 0.2, y + 0.3, what, ha="left", va="center", fontsize=9)
    ax.text(0, 0.95, "keys and values in the cache after each step (orange: computed in this step; grey: read from the cache)", fontsize=9)
    ax.set_xlim(-2.3, 1.15 * len(tokens) + 5.2)
    ax.set_ylim(-0.85 * (steps - 1) - 0.15, 1.3)
    return fig


def plot_rope(head_dim: int = 64, base: float = 10_000.0, n_positions: int = 64, *, seed: int = 0):
    """RoPE in two panels: the rotation angle of every pair at every position (left), and the
    attention score of one query/key pair as their distance grows, from two different starting
    positions (right: the curves coincide, because the score only depends on the distance).
    """
    pairs = np.arange(head_dim // 2)
    inv_freq = base ** (-2 * pairs / head_dim)  # (D/2,)
    positions = np.arange(n_positions)
    angles = positions[:, None] * inv_freq[None, :]  # (P, D/2)

    def rotate(v, pos):  # rotate the pairs (i, i + D/2) of v by their angles at position pos
        a = pos * inv_freq
        x1, x2 = v[: head_dim // 2], v[head_dim // 2 :]
        return np.concatenate([x1 * np.cos(a) - x2 * np.sin(a), x1 * np.sin(a) + x2 * np.cos(a)])

    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal(head_dim), rng.standard_normal(head_dim)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8))
    im = ax1.imshow(np.cos(angles).T, aspect="auto", cmap="RdBu", origin="lower", vmin=-1, vmax=1)
    ax1.set_xlabel("position in the text")
    ax1.set_ylabel("pair i (dims i and i + head_dim/2)")
    ax1.set_title("cos(position x base^(-2i/head_dim)): early pairs spin fast, late ones slowly", fontsize=9)
    fig.colorbar(im, ax=ax1, fraction=0.04)
    distances = np.arange(n_positions)
    for start, style in [(0, "-"), (500, "--")]:
        scores = [rotate(q, start + d) @ rotate(k, start) for d in distances]
        ax2.plot(distances, scores, style, label=f"key at position {start}")
    ax2.set_xlabel("distance between query and key (tokens)")
    ax2.set_ylabel("q . k after rotation")
    ax2.set_title("the score depends only on the distance", fontsize=9)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_classification_stages(ax=None):
    """Chapter 6's plan: three stages (data, model, fine-tuning), each a row of steps left to right."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.6))
    stages = [
        ("1. data", ["load the messages", "balance the classes\n(undersample ham)", "split 70/10/20\n(seeded)", "pad batches to\nthe longest message"], _BLUE),
        ("2. model", ["load a pretrained\nLLM (backbone)", "swap the output head\nfor 2 classes", "freeze all but the\nlast block, norm, head", "read the output at the\nlast real token"], "#fdd0a2"),
        ("3. fine-tuning", ["loss and accuracy\nbefore training", "train with chapter 5's\nloop (cls_loss)", "compare with\nbaselines", "classify new\nmessages, save"], "#c7e9c0"),
    ]
    w, h, gap = 2.3, 0.8, 0.45
    for row, (name, steps, colour) in enumerate(stages):
        y = (2 - row) * 1.15 + h / 2  # box centre
        ax.text(-0.2, y, name, ha="right", va="center", fontsize=10, fontweight="bold")
        for col, step in enumerate(steps):
            x = col * (w + gap) + w / 2
            _box(ax, x, y, w, h, step, colour, fontsize=8)
            if col:
                _arrow(ax, (x - w / 2 - gap, y), (x - w / 2, y))
    ax.set_xlim(-1.9, 4 * (w + gap))
    ax.set_ylim(-0.1, 3.2)
    ax.set_axis_off()
    return ax
