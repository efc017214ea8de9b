"""Figures of tokens (chapter 2): how texts split into tokens and the (input, target) windows.

- ``plot_token_rows()``: one row of coloured boxes per tokenizer or step; ``show_token`` makes
  whitespace visible.
- ``plot_sliding_windows()``: chapter 2's (input, target) windows over a token row.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
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
