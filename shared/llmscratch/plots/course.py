"""Diagrams of the course itself: how an LLM is built (chapter 1) and chapter 6's three stages.

- ``plot_llm_pipeline()``: one box per chapter, from text data to a fine-tuned model.
- ``plot_classification_stages()``: data, model and fine-tuning of the spam classifier.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .style import BLUE, arrow, box


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
        ax.add_patch(
            FancyArrowPatch(
                (xa + wa + 0.08, ya), (xb - 0.08, yb), arrowstyle="-|>", mutation_scale=14, color="#333333"
            )
        )
    ax.text(1.1, 0.55, "Stage 1: build the model", ha="left", fontsize=11, weight="bold", color="#2b5d8a")
    ax.text(6.5, 0.55, "Stage 2: pretrain", ha="left", fontsize=11, weight="bold", color="#a0621a")
    ax.text(8.9, 0.55, "Stage 3: fine-tune", ha="left", fontsize=11, weight="bold", color="#3d7a31")
    ax.text(7.45, 3.55, "-> a foundation model", ha="center", fontsize=9, style="italic")
    return ax


def plot_classification_stages(ax=None):
    """Chapter 6's plan: three stages (data, model, fine-tuning), each a row of steps left to right."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.6))
    stages = [
        (
            "1. data",
            [
                "load the messages",
                "balance the classes\n(undersample ham)",
                "split 70/10/20\n(seeded)",
                "pad batches to\nthe longest message",
            ],
            BLUE,
        ),
        (
            "2. model",
            [
                "load a pretrained\nLLM (backbone)",
                "swap the output head\nfor 2 classes",
                "freeze all but the\nlast block, norm, head",
                "read the output at the\nlast real token",
            ],
            "#fdd0a2",
        ),
        (
            "3. fine-tuning",
            [
                "loss and accuracy\nbefore training",
                "train with chapter 5's\nloop (cls_loss)",
                "compare with\nbaselines",
                "classify new\nmessages, save",
            ],
            "#c7e9c0",
        ),
    ]
    w, h, gap = 2.3, 0.8, 0.45
    for row, (name, steps, colour) in enumerate(stages):
        y = (2 - row) * 1.15 + h / 2  # box centre
        ax.text(-0.2, y, name, ha="right", va="center", fontsize=10, fontweight="bold")
        for col, step in enumerate(steps):
            x = col * (w + gap) + w / 2
            box(ax, x, y, w, h, step, colour, fontsize=8)
            if col:
                arrow(ax, (x - w / 2 - gap, y), (x - w / 2, y))
    ax.set_xlim(-1.9, 4 * (w + gap))
    ax.set_ylim(-0.1, 3.2)
    ax.set_axis_off()
    return ax
