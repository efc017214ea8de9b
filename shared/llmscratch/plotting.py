"""Figures the notebooks draw (matplotlib only, no remote images), so notebook cells stay short.

- ``plot_llm_pipeline()``: chapter 1's map of how an LLM is built, one box per chapter.
- ``plot_token_heatmap()``: a labelled square matrix (e.g. attention weights or token similarities).
- ``plot_token_rows()``: how texts split into tokens, one row of coloured boxes per tokenizer or step.
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


# --- Chapter 5: training curves, decoding, schedules ------------------------------------------


def plot_losses(history, *, title: str = "", ax=None):
    """Training and validation loss against epochs, with tokens seen on a second x axis (top).

    ``history`` is a ``train.History``; its evaluation points give both axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    ax.plot(history.epochs, history.train_losses, "o-", ms=3, label="training loss")
    if any(v == v for v in history.val_losses):  # not all NaN
        ax.plot(history.epochs, history.val_losses, "s--", ms=3, label="validation loss")
    ax.set(xlabel="epoch", ylabel="loss (nats per token)")
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
