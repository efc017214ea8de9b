"""Small matrices side by side, as heatmaps with their values written in (chapters 2-3).

- ``plot_matrices()``: a row of labelled heatmaps joined by operators (``@``, ``+``, ``=``, ``->``),
  so an equation on tensors reads left to right: one-hot @ table = rows picked, token + position
  = input, scores -> masked scores -> weights. Masked entries (``-inf`` or NaN) are drawn grey and
  labelled, so a causal mask is visible as what it is: entries that do not exist for the softmax.

Unlike ``attention.plot_token_heatmap`` (one square token-by-token matrix with a colour bar), each
panel here may have its own shape and the panels share nothing but the row labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def plot_matrices(
    panels: Sequence[tuple],
    *,
    ops: Sequence[str] | None = None,
    fmt: str | None = "{:.2f}",
    cmap: str = "viridis",
    shared_scale: bool = False,
    title: str = "",
):
    """Draw ``panels`` in a row, with ``ops[i]`` written between panel i and i + 1.

    A panel is ``(matrix, title)`` or ``(matrix, title, row_labels, col_labels)`` (either label
    list may be None). Every matrix is 2-D (``(rows, cols)``); a 1-D vector is drawn as one row.
    Entries that are ``-inf`` or NaN are drawn grey and written as ``-inf`` / ``masked``.
    ``shared_scale`` gives every panel the same colour range (for panels of comparable numbers).

    >>> fig = plot_matrices([(np.eye(2), "I"), (np.ones((2, 3)), "B")], ops=["@"])  # doctest: +SKIP
    """
    if not panels:
        raise ValueError("plot_matrices needs at least one (matrix, title) panel")
    if any(len(p) not in (2, 4) for p in panels):
        raise ValueError("each panel is (matrix, title) or (matrix, title, row_labels, col_labels)")
    matrices = [np.atleast_2d(np.asarray(p[0], dtype=float)) for p in panels]
    if any(m.ndim != 2 for m in matrices):
        raise ValueError(
            f"every panel must be a 1-D or 2-D matrix, got shapes {[np.shape(p[0]) for p in panels]}"
        )
    labels = [(p[2], p[3]) if len(p) == 4 else (None, None) for p in panels]
    for m, (rows, cols), p in zip(matrices, labels, panels):
        if (rows is not None and len(rows) != m.shape[0]) or (cols is not None and len(cols) != m.shape[1]):
            raise ValueError(f"panel {p[1]!r}: labels do not match its shape {m.shape}")
    ops = list(ops or [])
    if ops and len(ops) != len(panels) - 1:
        raise ValueError(
            f"need one operator between each pair of panels: {len(panels)} panels but {len(ops)} ops"
        )
    finite = [m[np.isfinite(m)] for m in matrices]
    if shared_scale:
        values = np.concatenate([f for f in finite if f.size]) if any(f.size for f in finite) else np.zeros(1)
        scales = [(values.min(), values.max())] * len(matrices)
    else:
        scales = [(f.min(), f.max()) if f.size else (0.0, 1.0) for f in finite]
    widths = [m.shape[1] for m in matrices]
    height = max(m.shape[0] for m in matrices)
    fig, axes = plt.subplots(
        1,
        len(matrices),
        figsize=(max(6.0, 0.45 * sum(widths) + 1.3 * len(matrices) + 1.0), 1.5 + 0.45 * height),
        gridspec_kw={
            "width_ratios": widths,
            "wspace": 0.7 if any(r is not None for r, _ in labels) else 0.35,
        },
        squeeze=False,
    )
    axes = axes[0]
    colours = plt.get_cmap(cmap).with_extremes(bad="#d9d9d9")  # masked entries in grey
    for ax, m, panel, (rows, cols), (lo, hi) in zip(axes, matrices, panels, labels, scales):
        shown = np.where(np.isfinite(m), m, np.nan)
        ax.imshow(
            np.ma.masked_invalid(shown), cmap=colours, vmin=lo, vmax=hi if hi > lo else lo + 1, aspect="equal"
        )
        ax.set_title(f"{panel[1]}\n{m.shape[0]} x {m.shape[1]}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        if cols is not None:
            ax.set_xticks(range(m.shape[1]), list(cols), rotation=60, ha="right", fontsize=8)
        if rows is not None:
            ax.set_yticks(range(m.shape[0]), list(rows), fontsize=8)
        if fmt:
            for (r, c), v in np.ndenumerate(m):
                if np.isnan(v):
                    text, colour = "masked", "#555555"
                elif np.isinf(v):
                    text, colour = ("-inf" if v < 0 else "inf"), "#555555"
                else:
                    r_, g_, b_, _ = colours((v - lo) / (hi - lo) if hi > lo else 0.0)
                    text, colour = (
                        fmt.format(v),
                        "white" if 0.299 * r_ + 0.587 * g_ + 0.114 * b_ < 0.5 else "black",
                    )  # on dark cells
                ax.text(c, r, text, ha="center", va="center", fontsize=7, color=colour)
    if ops:
        fig.canvas.draw()  # equal-aspect panels shrink when drawn: place the operators in the final gaps
    for i, op in enumerate(ops):  # centred between the left panel and the right panel's row labels
        left = axes[i].get_position()
        right_x0 = fig.transFigure.inverted().transform(axes[i + 1].get_tightbbox().p0)[0]
        fig.text((left.x1 + right_x0) / 2, (left.y0 + left.y1) / 2, op, ha="center", va="center", fontsize=15)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
