"""Figures of attention (chapter 3): weights as heatmaps, queries/keys/values, heads.

- ``plot_token_heatmap()``: a labelled square matrix (attention weights or token similarities).
- ``plot_rnn_vs_attention()``, ``plot_head_split()``, ``plot_qkv_attention()``,
  ``plot_attention_weights()``: chapter 3's pictures of attention.
- ``plot_attention_heads()``: one small weight matrix per head, side by side.
- ``plot_score_scaling()``: why scores are divided by sqrt(d_k): their spread against head size,
  and one softmax row with and without the division.
- ``plot_rope()``: rotary position embeddings, the angle of every pair and the score against distance.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .text import show_token


def plot_token_heatmap(
    matrix,
    labels: Sequence[str],
    *,
    title: str = "",
    ax=None,
    cmap: str = "viridis",
    fmt: str | None = "{:.2f}",
):
    """Show a (T, T) matrix with token labels on both axes; values printed in cells if ``fmt``."""
    values = np.asarray(matrix, dtype=float)
    if ax is None:
        size = max(4.0, 0.55 * len(labels))
        _, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(values, cmap=cmap)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("attends to (key)")
    ax.set_ylabel("token (query)")
    if title:
        ax.set_title(title)
    if fmt and len(labels) <= 12:
        for (i, j), v in np.ndenumerate(values):
            ax.text(
                j,
                i,
                fmt.format(v),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if v < values.max() * 0.6 else "black",
            )
    plt.colorbar(image, ax=ax, fraction=0.046)
    return ax


def plot_rnn_vs_attention(words: Sequence[str], weights: Sequence[float]):
    """A recurrent network's chain of states next to self-attention's direct links (line width = weight)."""
    n = len(words)
    if len(weights) != n:
        raise ValueError(f"need one weight per word: {n} words but {len(weights)} weights")
    fig, (ax_rnn, ax_att) = plt.subplots(1, 2, figsize=(12, 3.8))
    for ax in (ax_rnn, ax_att):
        ax.set_xlim(-0.7, n - 0.3)
        ax.set_ylim(-0.9, 2.6)
        ax.axis("off")
        for i, word in enumerate(words):
            ax.text(i, -0.55, word, ha="center", va="center", fontsize=11)
        ax.add_patch(plt.Rectangle((n - 1.45, 1.75), 0.9, 0.5, fc="#fde2c8", ec="#c4661f"))
        ax.text(n - 1, 2.0, "output", ha="center", va="center")
    arrow = dict(arrowstyle="->", color="0.3", lw=1.2)
    for i in range(n):  # RNN: token -> state, state -> next state
        ax_rnn.add_patch(plt.Rectangle((i - 0.3, 0.35), 0.6, 0.5, fc="#dbe9f6", ec="#3b6ea5"))
        ax_rnn.text(i, 0.6, f"$h_{i + 1}$", ha="center", va="center")
        ax_rnn.annotate("", xy=(i, 0.35), xytext=(i, -0.35), arrowprops=arrow)
        if i:
            ax_rnn.annotate("", xy=(i - 0.3, 0.6), xytext=(i - 0.7, 0.6), arrowprops=arrow)
    ax_rnn.annotate("", xy=(n - 1, 1.75), xytext=(n - 1, 0.85), arrowprops=arrow)
    ax_rnn.set_title(
        f"Recurrent: one state carries everything\n'{words[0]}' reaches the output through {n - 1} state updates"
    )
    for i, w in enumerate(weights):  # attention: a direct, weighted link from every token
        ax_att.plot(
            [i, n - 1], [-0.35, 1.75], color="#c4661f", lw=1 + 12 * w, alpha=0.75, solid_capstyle="round"
        )
    ax_att.set_title(
        "Self-attention: a direct link to every earlier token\nline width = attention weight (illustrative)"
    )
    fig.tight_layout()
    return fig


def plot_head_split(n_tokens: int = 4, n_heads: int = 3, head_dim: int = 2):
    """How ``(T, d_out)`` projections regroup into ``(H, T, D)``: head h gets columns h*D .. h*D + D - 1."""
    colours = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b2", "#937860"]
    fig, ax = plt.subplots(figsize=(10, 3.2))
    for t in range(n_tokens):  # left: (T, d_out), columns coloured by the head they belong to
        for c in range(n_heads * head_dim):
            ax.add_patch(
                plt.Rectangle(
                    (c, n_tokens - 1 - t),
                    1,
                    1,
                    fc=colours[(c // head_dim) % len(colours)],
                    ec="white",
                    alpha=0.85,
                )
            )
    ax.text(n_heads * head_dim / 2, n_tokens + 0.4, "W_query(x): (T, d_out)", ha="center")
    for t in range(n_tokens):
        ax.text(-0.3, n_tokens - 0.5 - t, f"token {t}", ha="right", va="center", fontsize=9)
    left = n_heads * head_dim + 3
    ax.annotate(
        "",
        xy=(left - 0.6, n_tokens / 2),
        xytext=(n_heads * head_dim + 0.6, n_tokens / 2),
        arrowprops=dict(arrowstyle="->", lw=1.5),
    )
    ax.text(
        n_heads * head_dim + 1.8,
        n_tokens / 2 + 0.3,
        ".view(T, H, D)\n.transpose(0, 1)",
        ha="center",
        fontsize=9,
    )
    for h in range(n_heads):  # right: (H, T, D), one small matrix per head
        x0 = left + h * (head_dim + 1)
        for t in range(n_tokens):
            for d in range(head_dim):
                ax.add_patch(
                    plt.Rectangle(
                        (x0 + d, n_tokens - 1 - t), 1, 1, fc=colours[h % len(colours)], ec="white", alpha=0.85
                    )
                )
        ax.text(x0 + head_dim / 2, -0.5, f"head {h}", ha="center", va="center")
    ax.text(
        left + (n_heads * (head_dim + 1) - 1) / 2,
        n_tokens + 0.4,
        "(H, T, D): each head its own matrix",
        ha="center",
    )
    ax.set_xlim(-2, left + n_heads * (head_dim + 1))
    ax.set_ylim(-1, n_tokens + 1)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def plot_qkv_attention(queries, keys, values, weights, tokens: Sequence[str], *, title: str = ""):
    """Queries, keys and values of a sequence, the attention-weight matrix, and the context vectors.

    ``queries``, ``keys``, ``values`` are ``(T, D)``; ``weights`` is ``(T, T)`` (rows sum to 1). Each
    panel is labelled with how it is computed, so the figure reads left to right:
    Q, K -> weights = softmax(Q K^T / sqrt(D)) -> context = weights @ V.
    """
    q, k, v, w = (np.asarray(a, dtype=float) for a in (queries, keys, values, weights))
    context = w @ v
    labels = [show_token(t) for t in tokens]
    fig, axes = plt.subplots(
        1,
        5,
        figsize=(15, 3.9),
        gridspec_kw={"width_ratios": [q.shape[1], k.shape[1], w.shape[1] * 1.1, v.shape[1], v.shape[1]]},
    )
    panels = [
        (q, "queries Q = X W_q\n(T, D): what each token looks for", "Blues"),
        (k, "keys K = X W_k\n(T, D): what each token offers", "Greens"),
        (
            w,
            "weights = softmax(Q K^T / sqrt(D))\n(T, T): row i = how much token i\nreads from each token",
            "viridis",
        ),
        (v, "values V = X W_v\n(T, D): what each\ntoken passes on", "Oranges"),
        (context, "context = weights @ V\n(T, D): one new vector\nper token", "Purples"),
    ]
    for ax, (matrix, label, cmap) in zip(axes, panels):
        scale = (
            {"vmin": 0.0, "vmax": 1.0} if matrix is w else {}
        )  # weights on their full 0..1 range: near-uniform rows look uniform
        ax.imshow(matrix, cmap=cmap, aspect="auto", **scale)
        ax.set_title(label, fontsize=9)
        ax.set_yticks(
            range(len(labels)), labels if ax is axes[0] or matrix is w else [""] * len(labels), fontsize=8
        )
        if matrix is w:
            ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
            for (i, j), value in np.ndenumerate(matrix):
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if value < 0.6 else "black",
                )
        else:
            ax.set_xticks(range(matrix.shape[1]), [f"d{j}" for j in range(matrix.shape[1])], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_attention_weights(weights, tokens: Sequence[str], *, title: str = ""):
    """A causal ``(T, T)`` attention-weight matrix: query rows, key columns, values written in the lower triangle."""
    values = np.asarray(weights, dtype=float)
    labels = [repr(t.strip()) if t.strip() else repr(t) for t in tokens]  # show a bare space as ' '
    fig, ax = plt.subplots(figsize=(8, 7))
    image = ax.imshow(values, cmap="viridis", vmin=0)
    ax.set_xticks(range(len(tokens)), labels, rotation=60, ha="right")
    ax.set_yticks(range(len(tokens)), labels)
    ax.set_xlabel("key: the token attended to")
    ax.set_ylabel("query: the token attending")
    for i in range(len(tokens)):
        for j in range(i + 1):
            ax.text(
                j,
                i,
                f"{values[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if values[i, j] < 0.5 else "black",
            )
    fig.colorbar(image, ax=ax, shrink=0.8, label="attention weight")
    if title:
        ax.set_title(title)
    fig.tight_layout()
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


def plot_attention_heads(weights, tokens: Sequence[str], *, n_cols: int = 6, title: str = ""):
    """Every head's ``(T, T)`` weights of one sequence, ``weights`` of shape ``(H, T, T)``, in a grid.

    All heads share one colour scale, so brighter means more attention in every panel. The scale
    ends at the largest weight outside row 0 (the first token can only attend to itself, so its
    weight is always 1 and would make every other cell dark); the token labels are written on the
    first column and the last row only.
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim != 3 or w.shape[1] != w.shape[2] or w.shape[1] != len(tokens):
        raise ValueError(
            f"weights must be (H, T, T) with T = len(tokens) = {len(tokens)}, got shape {w.shape}"
        )
    n_heads = w.shape[0]
    n_rows = -(-n_heads // n_cols)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(2.5 * n_cols, 2.6 * n_rows + 0.6), squeeze=False, layout="constrained"
    )
    top = w[:, 1:].max() if w.shape[1] > 1 else 1.0
    labels = [show_token(t) for t in tokens]
    for h, ax in enumerate(axes.flat):
        if h >= n_heads:
            ax.axis("off")
            continue
        image = ax.imshow(w[h], cmap="viridis", vmin=0, vmax=top)
        ax.set_title(f"head {h}", fontsize=9)
        row, col = divmod(h, n_cols)
        last_row = row == n_rows - 1 or h + n_cols >= n_heads
        ax.set_xticks(range(len(labels)), labels if last_row else [], rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels if col == 0 else [], fontsize=7)
    fig.colorbar(image, ax=axes, shrink=0.6, label="attention weight (row 0 = 1, beyond the scale)")
    fig.suptitle(title or f"{n_heads} heads, rows = queries, columns = keys", fontsize=10)
    return fig


def plot_score_scaling(
    d_ks: Sequence[int], std_unscaled: Sequence[float], std_scaled: Sequence[float], row_unscaled, row_scaled
):
    """Left: the standard deviation of query-key dot products against the head size ``d_k``, with
    and without dividing by sqrt(d_k). Right: the softmax of one row of scores both ways.
    """
    if not len(d_ks) == len(std_unscaled) == len(std_scaled) or not len(d_ks):
        raise ValueError(
            f"need one std per head size: got {len(d_ks)} sizes, {len(std_unscaled)} and {len(std_scaled)} stds"
        )
    a, b = np.asarray(row_unscaled, dtype=float), np.asarray(row_scaled, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"the two softmax rows must be 1-D and of the same length, got {a.shape} and {b.shape}"
        )
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    left.plot(d_ks, std_unscaled, "o-", label="q . k")
    left.plot(d_ks, std_scaled, "s-", label="q . k / sqrt(d_k)")
    left.plot(d_ks, np.sqrt(d_ks), ":", color="grey", label="sqrt(d_k)")
    left.set_xscale("log", base=2)
    left.set(xlabel="head size d_k (random unit-variance q, k)", ylabel="std of the score")
    left.set_title("Unscaled scores spread like sqrt(d_k); scaled ones stay at 1", fontsize=10)
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    x = np.arange(len(a))
    right.bar(x - 0.2, a, 0.4, label="softmax(scores)")
    right.bar(x + 0.2, b, 0.4, label="softmax(scores / sqrt(d_k))")
    right.set_xticks(x, [f"key {i}" for i in x])
    right.set(ylabel="attention weight", ylim=(0, 1))
    right.set_title("One row of weights: unscaled, a few keys take everything", fontsize=10)
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig
