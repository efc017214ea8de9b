"""Figures of tokens (chapter 2): how texts split into tokens and the (input, target) windows.

- ``plot_token_rows()``: one row of coloured boxes per tokenizer or step; ``show_token`` makes
  whitespace visible.
- ``plot_sliding_windows()``: chapter 2's (input, target) windows over a token row.
- ``plot_tokenization()``: text -> tokens -> ids, one row per tokenizer, unknown tokens in red.
- ``plot_shifted_batch()``: a batch's inputs over its targets, the shift by one drawn as arrows.
- ``plot_vocab_growth()``, ``plot_token_lengths()``: a word vocabulary grows and misses words,
  BPE does neither; how many characters a token holds.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle


def plot_sliding_windows(tokens: Sequence[str], *, max_length: int, stride: int, n_windows: int = 3, ax=None):
    """Draw a row of tokens and the first ``n_windows`` (input, target) windows over it.

    Inputs are blue bars, targets (the same window shifted one token right) orange bars, so the
    reader sees both the shift-by-one and how ``stride`` moves the window and controls overlap.
    """
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
    ax.set_title(
        f"max_length={max_length}, stride={stride}: each input window predicts the window shifted by one token"
    )
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
    colours = ["#c6dbef", "#fdd0a2", "#c7e9c0", "#dadaeb", "#fcbba1"]
    width = max(sum(len(t) or 1 for t in tokens) for _, tokens in rows)
    if ax is None:
        _, ax = plt.subplots(figsize=(min(16.0, 1.5 + 0.16 * width), 0.3 + 0.55 * len(rows)))
    for r, (label, tokens) in enumerate(rows):
        y, x = -r, 0.0
        for i, token in enumerate(tokens):
            w = len(token) or 1
            ax.add_patch(Rectangle((x, y), w, 0.8, fc=colours[i % len(colours)], ec="#555555", lw=0.6))
            ax.text(
                x + w / 2,
                y + 0.4,
                show_token(token),
                ha="center",
                va="center",
                fontsize=9,
                family="monospace",
            )
            x += w
        ax.text(-0.5, y + 0.4, f"{label} ({len(tokens)})", ha="right", va="center", fontsize=9)
    ax.set_xlim(-0.5, width + 0.5)
    ax.set_ylim(-len(rows) + 0.9, 0.9)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_tokenization(
    text: str, rows: Sequence[tuple[str, Sequence[str], Sequence[int]]], *, unknown: str = "<|unk|>"
):
    """The pipeline text -> tokens -> ids for one text, one row per tokenizer.

    ``rows = [(label, tokens, ids), ...]``: each token is a box with its text on top and its id
    below; a token equal to ``unknown`` is red, because its id no longer says which word it was.
    """
    for label, tokens, ids in rows:
        if len(tokens) != len(ids):
            raise ValueError(
                f"row {label!r}: need one id per token, got {len(tokens)} tokens and {len(ids)} ids"
            )
    widths = [
        [max(len(show_token(t)), len(f"{i}")) + 1 for t, i in zip(tokens, ids)] for _, tokens, ids in rows
    ]
    total = max(sum(w) for w in widths)
    fig, ax = plt.subplots(figsize=(min(18.0, 2.5 + 0.13 * total), 1.0 + 1.25 * len(rows)))
    ax.text(0, 0.75, f"text: {text!r}", fontsize=10, family="monospace", va="center")
    for r, ((label, tokens, ids), row_widths) in enumerate(zip(rows, widths)):
        y, x = -1.25 * r - 0.2, 0.0
        for k, (token, token_id, w) in enumerate(zip(tokens, ids, row_widths)):
            colour = "#f4a3a3" if token == unknown else ("#c6dbef" if k % 2 == 0 else "#fdd0a2")
            ax.add_patch(Rectangle((x, y - 0.45), w - 0.15, 0.45, fc=colour, ec="#555555", lw=0.6))
            ax.text(
                x + (w - 0.15) / 2,
                y - 0.22,
                show_token(token),
                ha="center",
                va="center",
                fontsize=8,
                family="monospace",
            )
            ax.text(
                x + (w - 0.15) / 2,
                y - 0.7,
                f"{token_id}",
                ha="center",
                va="center",
                fontsize=7,
                family="monospace",
                color="#2b5d8a",
            )
            x += w
        n_unknown = sum(t == unknown for t in tokens)
        extra = f", {n_unknown} unknown" if n_unknown else ""
        ax.text(-0.6, y - 0.22, f"{label}\n{len(tokens)} tokens{extra}", ha="right", va="center", fontsize=9)
        ax.text(-0.6, y - 0.7, "ids", ha="right", va="center", fontsize=8, color="#2b5d8a")
    ax.set_xlim(-13, total + 0.5)
    ax.set_ylim(-1.25 * len(rows) - 0.1, 1.1)
    ax.axis("off")
    return fig


def plot_shifted_batch(inputs: Sequence[Sequence[str]], targets: Sequence[Sequence[str]], *, title: str = ""):
    """A batch of windows as tokens: each input row above its target row, with an arrow from
    ``target[t]`` to ``input[t + 1]`` (the same token): position ``t`` learns to predict what follows it.
    """
    if len(inputs) != len(targets) or any(len(a) != len(b) for a, b in zip(inputs, targets)):
        raise ValueError("inputs and targets must have the same shape (batch_size rows of max_length tokens)")
    n_rows, length = len(inputs), max(len(row) for row in inputs)
    cell = 1.6
    fig, ax = plt.subplots(figsize=(2.2 + 1.25 * length, 0.6 + 1.5 * n_rows))
    for r, (row_in, row_out) in enumerate(zip(inputs, targets)):
        y = -2.0 * r
        ax.text(-0.2, y + 0.3, f"input {r}", ha="right", va="center", fontsize=9, color="#3182bd")
        ax.text(-0.2, y - 0.6, f"target {r}", ha="right", va="center", fontsize=9, color="#e6550d")
        for t, (a, b) in enumerate(zip(row_in, row_out)):
            ax.add_patch(Rectangle((cell * t, y), cell - 0.15, 0.6, fc="#9ecae1", ec="#3182bd"))
            ax.text(
                cell * t + (cell - 0.15) / 2,
                y + 0.3,
                show_token(a),
                ha="center",
                va="center",
                fontsize=8,
                family="monospace",
            )
            ax.add_patch(Rectangle((cell * t, y - 0.9), cell - 0.15, 0.6, fc="#fdd0a2", ec="#e6550d"))
            ax.text(
                cell * t + (cell - 0.15) / 2,
                y - 0.6,
                show_token(b),
                ha="center",
                va="center",
                fontsize=8,
                family="monospace",
            )
            if t + 1 < len(row_in):
                ax.annotate(
                    "",
                    xy=(cell * (t + 1) + 0.2, y),
                    xytext=(cell * t + cell - 0.35, y - 0.3),
                    arrowprops=dict(arrowstyle="-", color="#888888", lw=0.8, ls=":"),
                )
    ax.set_xlim(-1.8, cell * length + 0.2)
    ax.set_ylim(-2.0 * n_rows + 0.9, 1.0)
    ax.axis("off")
    ax.set_title(
        title
        or "target[t] = input[t + 1] (dotted: the same token): position t learns to predict the token after it",
        fontsize=9,
    )
    return fig


def plot_vocab_growth(
    words_read: Sequence[int],
    vocab_sizes: Sequence[int],
    unknown_rates: Sequence[float],
    *,
    bpe_vocab_size: int,
):
    """Two panels against the number of words a word vocabulary was built from: its size, which keeps
    growing, and the share of the words of a held-out text it does not know (each would become
    ``<|unk|>``).

    BPE is drawn for comparison: its vocabulary size is fixed and it never needs an unknown token.
    """
    if not len(words_read) == len(vocab_sizes) == len(unknown_rates) or not len(words_read):
        raise ValueError(
            f"need one vocabulary size and one unknown rate per point: got {len(words_read)}, {len(vocab_sizes)}, {len(unknown_rates)}"
        )
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    left.plot(words_read, vocab_sizes, "o-", label="word vocabulary (grows with the text)")
    left.set(xlabel="words of the story the vocabulary was built from", ylabel="vocabulary size (entries)")
    left.set_title(f"Vocabulary size (BPE: {bpe_vocab_size:,}, fixed, for any text)", fontsize=10)
    left.legend(fontsize=8)
    right.plot(
        words_read,
        100 * np.asarray(unknown_rates, dtype=float),
        "o-",
        color="#c44e52",
        label="word vocabulary",
    )
    right.axhline(0, color="#55a868", lw=2, label="BPE: 0% (any text is spelled in bytes)")
    right.set(
        xlabel="words of the story the vocabulary was built from", ylabel="unknown words in held-out text (%)"
    )
    right.set_title("Words of a held-out text that would become <|unk|>", fontsize=10)
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_token_lengths(lengths: dict[str, Sequence[int]], *, max_length: int = 12, ax=None):
    """Histogram of characters per token, one set of bars per tokenizer (``{name: [len, ...]}``).

    Lengths above ``max_length`` are counted in the last bar; each legend entry gives the mean.
    """
    if not lengths or any(len(v) == 0 for v in lengths.values()):
        raise ValueError("need at least one tokenizer with at least one token length")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.4))
    bins = np.arange(0, max_length + 1)
    width = 0.8 / len(lengths)
    for i, (name, values) in enumerate(lengths.items()):
        v = np.minimum(np.asarray(values), max_length)
        counts = np.bincount(v, minlength=max_length + 1)[bins]
        ax.bar(
            bins + (i - (len(lengths) - 1) / 2) * width,
            100 * counts / len(v),
            width,
            label=f"{name}: mean {np.mean(values):.2f} characters per token",
        )
    ax.set_xticks(bins, [str(b) for b in bins[:-1]] + [f"{max_length}+"])
    ax.set(xlabel="characters in the token (a leading space counts)", ylabel="share of tokens (%)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return ax
