"""What the diagrams share: a few colours, a rounded box with text, an arrow."""

from __future__ import annotations

from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

BLUE, ORANGE, GREEN, GREY, RED = "#dbe9f6", "#fde2c8", "#d8f0d2", "#eeeeee", "#f6d5d5"


def box(ax, x, y, w, h, text, colour=BLUE, *, fontsize=10, edge="#333333", **text_kw):
    """A rounded box centred at ``(x, y)`` with ``text`` in the middle."""
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            fc=colour,
            ec=edge,
            lw=1.1,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, **text_kw)


def arrow(ax, start, end, *, colour="#333333", lw=1.2, style="-|>", **kw):
    """An arrow from ``start`` to ``end`` (data coordinates)."""

    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle=style, mutation_scale=12, color=colour, lw=lw, shrinkA=0, shrinkB=0, **kw
        )
    )
