"""Figures the notebooks draw (matplotlib only, no remote images), so notebook cells stay short.

- ``plot_llm_pipeline()``: chapter 1's map of how an LLM is built, one box per chapter.
- ``plot_token_heatmap()``: a labelled square matrix (e.g. attention weights or token similarities).
- ``plot_token_rows()``: how texts split into tokens, one row of coloured boxes per tokenizer or step.
- ``plot_sliding_windows()``: chapter 2's (input, target) windows over a token row.
- ``plot_embedding_lookup()``: token + position embeddings as two table lookups, added.
- ``plot_rnn_vs_attention()``, ``plot_head_split()``, ``plot_qkv_attention()``,
  ``plot_attention_weights()``: chapter 3's pictures of attention.
- ``plot_gpt_model()``, ``plot_transformer_block()``, ``plot_kv_cache_steps()``: chapter 4's model,
  block and KV cache.
- ``plot_rope()``: rotary position embeddings, the angle of every pair and the score against distance.
- ``plot_losses()``, ``plot_token_distributions()``, ``plot_curves()``: chapter 5's loss curves,
  decoding and learning-rate schedules.
- ``plot_metrics_by_kind()``: chapter 7's scores per task kind, before and after fine-tuning.
- ``plot_accuracy_comparison()``: chapter 6's accuracies, baselines next to fine-tuned models.

Every function draws with matplotlib alone and returns the axes or figure it drew on.
"""

from __future__ import annotations

from typing import Sequence


def plot_llm_pipeline(ax=None):
    """Draw the stages of building an LLM (data -> architecture -> pretraining -> fine-tuning)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

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


def plot_token_heatmap(matrix, labels: Sequence[str], *, title: str = "", ax=None, cmap: str = "viridis", fmt: str | None = "{:.2f}"):
    """Show a (T, T) matrix with token labels on both axes; values printed in cells if ``fmt``."""
    import matplotlib.pyplot as plt
    import numpy as np

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
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8, color="white" if v < values.max() * 0.6 else "black")
    plt.colorbar(image, ax=ax, fraction=0.046)
    return ax


def plot_sliding_windows(tokens: Sequence[str], *, max_length: int, stride: int, n_windows: int = 3, ax=None):
    """Draw a row of tokens and the first ``n_windows`` (input, target) windows over it.

    Inputs are blue bars, targets (the same window shifted one token right) orange bars, so the
    reader sees both the shift-by-one and how ``stride`` moves the window and controls overlap.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    n = len(tokens)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(8.0, 0.9 * n), 1.2 + 0.9 * n_windows))
    for i, tok in enumerate(tokens):
        ax.add_patch(Rectangle((i, 0), 0.95, 0.8, fc="#eeeeee", ec="#999999"))
        ax.text(i + 0.47, 0.4, tok.replace(" ", "\u2423"), ha="center", va="center", fontsize=9)
    for w in range(n_windows):
        start = w * stride
        if start + max_length + 1 > n:
            break
        y = -0.7 - 1.0 * w
        ax.add_patch(Rectangle((start, y), max_length - 0.05, 0.35, fc="#9ecae1", ec="#3182bd"))
        ax.add_patch(Rectangle((start + 1, y - 0.42), max_length - 0.05, 0.35, fc="#fdd0a2", ec="#e6550d"))
        ax.text(start - 0.15, y + 0.17, f"input {w}", ha="right", va="center", fontsize=8, color="#3182bd")
        ax.text(start + 0.85, y - 0.25, f"target {w}", ha="right", va="center", fontsize=8, color="#e6550d")
    ax.set_xlim(-1.6, n + 0.2)
    ax.set_ylim(-0.9 - 1.0 * n_windows, 1.0)
    ax.axis("off")
    ax.set_title(f"max_length={max_length}, stride={stride}: each input window predicts the window shifted by one token")
    return ax


def show_token(text: str) -> str:
    """A token's text made visible: a space is shown as ``␣``, a newline as ``↵``, a tab as ``→``."""
    return text.replace(" ", "\u2423").replace("\n", "\u21b5").replace("\t", "\u2192")


def plot_token_rows(rows: Sequence[tuple[str, Sequence[str]]], *, title: str = "", ax=None):
    """Draw each ``(label, tokens)`` row as adjacent boxes, one box per token, width = its length.

    Alternating colours show where one token ends and the next begins; whitespace is made visible
    (``show_token``). Rows line up character by character, so two tokenizations of the same text
    can be compared at a glance.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    colours = ["#c6dbef", "#fdd0a2", "#c7e9c0", "#dadaeb", "#fcbba1"]
    width = max(sum(len(t) or 1 for t in tokens) for _, tokens in rows)
    if ax is None:
        _, ax = plt.subplots(figsize=(min(16.0, 1.5 + 0.16 * width), 0.3 + 0.55 * len(rows)))
    for r, (label, tokens) in enumerate(rows):
        y, x = -r, 0.0
        for i, token in enumerate(tokens):
            w = len(token) or 1
            ax.add_patch(Rectangle((x, y), w, 0.8, fc=colours[i % len(colours)], ec="#555555", lw=0.6))
            ax.text(x + w / 2, y + 0.4, show_token(token), ha="center", va="center", fontsize=9, family="monospace")
            x += w
        ax.text(-0.5, y + 0.4, f"{label} ({len(tokens)})", ha="right", va="center", fontsize=9)
    ax.set_xlim(-0.5, width + 0.5)
    ax.set_ylim(-len(rows) + 0.9, 0.9)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


# --- diagrams of the model (chapters 2-4) ---------------------------------------------------------

_BLUE, _ORANGE, _GREEN, _GREY, _RED = "#dbe9f6", "#fde2c8", "#d8f0d2", "#eeeeee", "#f6d5d5"


def _box(ax, x, y, w, h, text, colour=_BLUE, *, fontsize=10, edge="#333333", **text_kw):
    """A rounded box centred at ``(x, y)`` with ``text`` in the middle."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=colour, ec=edge, lw=1.1))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, **text_kw)


def _arrow(ax, start, end, *, colour="#333333", lw=1.2, style="-|>", **kw):
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, color=colour, lw=lw, shrinkA=0, shrinkB=0, **kw))


def plot_gpt_model(*, vocab_size: int = 50257, context_length: int = 1024, emb_dim: int = 768, n_layers: int = 12, ax=None):
    """The GPT model from token ids to logits, one box per layer, with the tensor shape between layers.

    The numbers are a ``GPTConfig``'s (GPT-2 small by default), so the figure matches the model built.
    """
    import matplotlib.pyplot as plt

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
    import matplotlib.pyplot as plt

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


def plot_qkv_attention(queries, keys, values, weights, tokens: Sequence[str], *, title: str = ""):
    """Queries, keys and values of a sequence, the attention-weight matrix, and the context vectors.

    ``queries``, ``keys``, ``values`` are ``(T, D)``; ``weights`` is ``(T, T)`` (rows sum to 1). Each
    panel is labelled with how it is computed, so the figure reads left to right:
    Q, K -> weights = softmax(Q K^T / sqrt(D)) -> context = weights @ V.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    q, k, v, w = (np.asarray(a, dtype=float) for a in (queries, keys, values, weights))
    context = w @ v
    labels = [show_token(t) for t in tokens]
    fig, axes = plt.subplots(1, 5, figsize=(15, 3.9), gridspec_kw={"width_ratios": [q.shape[1], k.shape[1], w.shape[1] * 1.1, v.shape[1], v.shape[1]]})
    panels = [
        (q, "queries Q = X W_q\n(T, D): what each token looks for", "Blues"),
        (k, "keys K = X W_k\n(T, D): what each token offers", "Greens"),
        (w, "weights = softmax(Q K^T / sqrt(D))\n(T, T): row i = how much token i\nreads from each token", "viridis"),
        (v, "values V = X W_v\n(T, D): what each\ntoken passes on", "Oranges"),
        (context, "context = weights @ V\n(T, D): one new vector\nper token", "Purples"),
    ]
    for ax, (matrix, label, cmap) in zip(axes, panels):
        scale = {"vmin": 0.0, "vmax": 1.0} if matrix is w else {}  # weights on their full 0..1 range: near-uniform rows look uniform
        ax.imshow(matrix, cmap=cmap, aspect="auto", **scale)
        ax.set_title(label, fontsize=9)
        ax.set_yticks(range(len(labels)), labels if ax is axes[0] or matrix is w else [""] * len(labels), fontsize=8)
        if matrix is w:
            ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
            for (i, j), value in np.ndenumerate(matrix):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color="white" if value < 0.6 else "black")
        else:
            ax.set_xticks(range(matrix.shape[1]), [f"d{j}" for j in range(matrix.shape[1])], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_embedding_lookup(token_ids: Sequence[int], tokens: Sequence[str], *, vocab_size: int, context_length: int, emb_dim: int):
    """Token and position embeddings as two table lookups whose rows are added.

    The token table has ``vocab_size`` rows and the position table ``context_length`` rows, both
    ``emb_dim`` wide; token ``t`` of the text reads row ``token_ids[t]`` of the first and row ``t``
    of the second, and the model's input for that token is their sum. Only the rows read are drawn.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

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
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

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


def plot_rnn_vs_attention(words: Sequence[str], weights: Sequence[float]):
    """A recurrent network's chain of states next to self-attention's direct links (line width = weight)."""
    import matplotlib.pyplot as plt

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
    ax_rnn.set_title(f"Recurrent: one state carries everything\n'{words[0]}' reaches the output through {n - 1} state updates")
    for i, w in enumerate(weights):  # attention: a direct, weighted link from every token
        ax_att.plot([i, n - 1], [-0.35, 1.75], color="#c4661f", lw=1 + 12 * w, alpha=0.75, solid_capstyle="round")
    ax_att.set_title("Self-attention: a direct link to every earlier token\nline width = attention weight (illustrative)")
    fig.tight_layout()
    return fig


def plot_head_split(n_tokens: int = 4, n_heads: int = 3, head_dim: int = 2):
    """How ``(T, d_out)`` projections regroup into ``(H, T, D)``: head h gets columns h*D .. h*D + D - 1."""
    import matplotlib.pyplot as plt

    colours = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b2", "#937860"]
    fig, ax = plt.subplots(figsize=(10, 3.2))
    for t in range(n_tokens):  # left: (T, d_out), columns coloured by the head they belong to
        for c in range(n_heads * head_dim):
            ax.add_patch(plt.Rectangle((c, n_tokens - 1 - t), 1, 1, fc=colours[(c // head_dim) % len(colours)], ec="white", alpha=0.85))
    ax.text(n_heads * head_dim / 2, n_tokens + 0.4, "W_query(x): (T, d_out)", ha="center")
    for t in range(n_tokens):
        ax.text(-0.3, n_tokens - 0.5 - t, f"token {t}", ha="right", va="center", fontsize=9)
    left = n_heads * head_dim + 3
    ax.annotate("", xy=(left - 0.6, n_tokens / 2), xytext=(n_heads * head_dim + 0.6, n_tokens / 2), arrowprops=dict(arrowstyle="->", lw=1.5))
    ax.text(n_heads * head_dim + 1.8, n_tokens / 2 + 0.3, ".view(T, H, D)\n.transpose(0, 1)", ha="center", fontsize=9)
    for h in range(n_heads):  # right: (H, T, D), one small matrix per head
        x0 = left + h * (head_dim + 1)
        for t in range(n_tokens):
            for d in range(head_dim):
                ax.add_patch(plt.Rectangle((x0 + d, n_tokens - 1 - t), 1, 1, fc=colours[h % len(colours)], ec="white", alpha=0.85))
        ax.text(x0 + head_dim / 2, -0.5, f"head {h}", ha="center", va="center")
    ax.text(left + (n_heads * (head_dim + 1) - 1) / 2, n_tokens + 0.4, "(H, T, D): each head its own matrix", ha="center")
    ax.set_xlim(-2, left + n_heads * (head_dim + 1))
    ax.set_ylim(-1, n_tokens + 1)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def plot_attention_weights(weights, tokens: Sequence[str], *, title: str = ""):
    """A causal ``(T, T)`` attention-weight matrix: query rows, key columns, values written in the lower triangle."""
    import matplotlib.pyplot as plt
    import numpy as np

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
            ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=7, color="white" if values[i, j] < 0.5 else "black")
    fig.colorbar(image, ax=ax, shrink=0.8, label="attention weight")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


# --- evaluation (chapter 7) ------------------------------------------------------------------------

def plot_metrics_by_kind(before: Sequence[dict], after: Sequence[dict], *, metric: str = "correct",
                         labels: tuple[str, str] = ("before fine-tuning", "after fine-tuning"), ax=None):
    """Horizontal bars per task kind: one score (``metric``) before and after fine-tuning.

    ``before`` and ``after`` are ``llmscratch.metrics.metrics_by_kind`` rows for the same test
    entries; the overall row (last) is drawn at the bottom, set apart by a line.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if [r["kind"] for r in before] != [r["kind"] for r in after]:
        raise ValueError("before and after must list the same kinds in the same order (score the same test entries)")
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
    name = {"correct": "share of correct answers", "exact_match": "exact match", "token_f1": "token F1",
            "rouge_l": "ROUGE-L"}.get(metric, metric)
    ax.set_xlabel(f"{name} (0 to 1, higher is better)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=9, frameon=False)
    return ax


# --- rotary position embeddings (chapter 5's Llama notebook) ---------------------------------------

def plot_rope(head_dim: int = 64, base: float = 10_000.0, n_positions: int = 64, *, seed: int = 0):
    """RoPE in two panels: the rotation angle of every pair at every position (left), and the
    attention score of one query/key pair as their distance grows, from two different starting
    positions (right: the curves coincide, because the score only depends on the distance).
    """
    import matplotlib.pyplot as plt
    import numpy as np

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


def plot_accuracy_comparison(results: dict[str, dict[str, float]], *, title: str = "", ax=None):
    """Grouped bars: one group per model (``results`` key), one bar per split (train/val/test).

    ``results = {"majority class": {"test": 0.5}, "bag of words": {...}, "fine-tuned": {...}}``;
    each bar is labelled with its accuracy in percent (missing splits are left out).
    """
    import matplotlib.pyplot as plt

    splits = [s for s in ("train", "val", "test") if any(s in r for r in results.values())]
    splits += sorted({s for r in results.values() for s in r} - set(splits))
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
        bars = ax.bar(xs, ys, width * 0.95, label=split, color=colours[j % len(colours)], edgecolor="#444444", linewidth=0.6)
        for bar, y in zip(bars, ys):
            ax.text(bar.get_x() + bar.get_width() / 2, y + 1, f"{y:.1f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(results)), list(results), fontsize=9)
    ax.set_ylim(0, 122)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("accuracy (%)")
    ax.legend(loc="upper center", ncol=len(splits), fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


# --- Chapter 5: training curves, decoding, schedules ------------------------------------------


def plot_losses(history, *, title: str = "", ylabel: str = "loss (nats per token)", ax=None):
    """Training and validation loss against epochs, with tokens seen on a second x axis (top).

    ``history`` is a ``train.History``; its evaluation points give both axes. ``ylabel`` names what the
    loss averages over (chapter 6's classification loss is per message, not per token).
    """
    import matplotlib.pyplot as plt

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
    import matplotlib.pyplot as plt
    import numpy as np

    if ax is None:
        _, ax = plt.subplots(figsize=(max(7.0, 0.8 * len(labels)), 3.8))
    width = 0.8 / len(distributions)
    x = np.arange(len(labels))
    for i, (name, probs) in enumerate(distributions.items()):
        ax.bar(x + (i - (len(distributions) - 1) / 2) * width, np.asarray(probs, dtype=float), width, label=str(name))
    ax.set_xticks(x, [show_token(t) for t in labels], rotation=45, ha="right")
    ax.set_ylabel("probability")
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


def plot_curves(curves: dict, *, xlabel: str = "step", ylabel: str = "", title: str = "", logy: bool = False, ax=None):
    """Several named curves on one axis: learning-rate schedules, per-step losses, gradient norms."""
    import matplotlib.pyplot as plt

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


# --- Chapter 6: classification fine-tuning -----------------------------------------------------


def plot_classification_stages(ax=None):
    """Chapter 6's plan: three stages (data, model, fine-tuning), each a row of steps left to right."""
    import matplotlib.pyplot as plt

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
