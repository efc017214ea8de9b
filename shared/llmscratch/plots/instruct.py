"""Figures of chapter 7's instruction data: one prompt's tokens by section, and a collated batch.

- ``plot_prompt_template()``: the tokens of one formatted entry (prompt + response + end-of-text),
  laid out line by line like the text and coloured by the section each token belongs to.
- ``plot_collate_mask()``: ``collate``'s inputs and targets as grids: padding, the end-of-text target
  each row keeps, the ``IGNORE_INDEX`` targets the loss skips (and, optionally, the masked prompt).

Chapter 7's scores per task kind are drawn by ``training.plot_metrics_by_kind``.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Patch, Rectangle

from ..constants import IGNORE_INDEX
from ..finetune.prompts import format_prompt
from .text import show_token

SECTIONS = {  # section -> colour, in the order they appear in an entry
    "preamble": "#e0e0e0",
    "instruction": "#9ecae1",
    "input": "#c7e9c0",
    "response marker": "#fdd0a2",
    "response": "#dadaeb",
    "end-of-text": "#f4a3a3",
}


def _sections_of_prompt(prompt: str, entry: dict) -> list[str]:
    """The section of every character of ``prompt``: template text before the instruction is the
    preamble, template text after the last filled-in field is the response marker."""
    instruction, inp = entry["instruction"], entry.get("input") or ""
    start = prompt.find(instruction)
    if not instruction or start < 0:
        raise ValueError("the formatted prompt does not contain the entry's instruction text")
    end = start + len(instruction)
    labels = ["preamble"] * start + ["instruction"] * len(instruction)
    if inp:
        input_end = prompt.find(inp, end)
        if input_end < 0:
            raise ValueError("the formatted prompt does not contain the entry's input text")
        input_end += len(inp)
        labels += ["input"] * (input_end - end)  # the input's header belongs to it
        end = input_end
    return labels + ["response marker"] * (len(prompt) - end)


def plot_prompt_template(entry: dict, tokenizer, *, formatter: Callable[[dict], str] = format_prompt):
    """One entry's training sequence as tokens: ``formatter(entry)``, the response, end-of-text.

    ``tokenizer`` has ``encode``, ``decode`` and ``eos_id`` (the package's tokenizers do). Prompt
    and response are encoded separately and joined, as ``InstructionDataset`` does, and ``collate``
    adds the end-of-text. Each token is a box as wide as its text, coloured by its section
    (preamble, instruction, input, response marker, response, end-of-text; a token that spans two
    takes the one most of its characters are in); a line ends after a token holding a newline.
    """
    missing = [key for key in ("instruction", "output") if key not in entry]
    if missing:
        raise ValueError(f"entry needs the keys 'instruction' and 'output' (missing: {', '.join(missing)})")
    prompt = formatter(entry)
    prompt_ids = list(tokenizer.encode(prompt))
    char_sections = _sections_of_prompt(prompt, entry)
    tokens: list[tuple[str, str]] = []  # (text, section)
    done = ""
    for i in range(len(prompt_ids)):  # character offsets from decoding ever longer prefixes
        text = tokenizer.decode(prompt_ids[: i + 1])
        piece, span = text[len(done) :], char_sections[len(done) : len(text)] or ["response marker"]
        tokens.append((piece, max(SECTIONS, key=span.count)))
        done = text
    tokens += [(tokenizer.decode([i]), "response") for i in tokenizer.encode(entry["output"])]
    tokens.append((tokenizer.decode([tokenizer.eos_id]), "end-of-text"))

    lines: list[list[tuple[str, str]]] = [[]]
    for piece, section in tokens:
        lines[-1].append((piece, section))
        if "\n" in piece:
            lines.append([])
    lines = [line for line in lines if line]
    widths = [[len(show_token(p)) * 0.62 + 0.5 for p, _ in line] for line in lines]
    total = max(sum(w) for w in widths)
    fig, ax = plt.subplots(figsize=(min(18.0, 1.5 + 0.15 * total), 1.2 + 0.36 * len(lines)))
    for r, (line, line_widths) in enumerate(zip(lines, widths)):
        x, y = 0.0, -r
        for (piece, section), w in zip(line, line_widths):
            box = Rectangle((x, y), w - 0.1, 0.8, fc=SECTIONS[section], ec="#666666", lw=0.5)
            box.set_gid(section)
            ax.add_patch(box)
            ax.text(
                x + (w - 0.1) / 2,
                y + 0.4,
                show_token(piece),
                ha="center",
                va="center",
                fontsize=8,
                family="monospace",
            )
            x += w
    counts = {s: sum(sec == s for _, sec in tokens) for s in SECTIONS}
    ax.legend(
        handles=[
            Patch(fc=c, ec="#666666", label=f"{s} ({counts[s]})") for s, c in SECTIONS.items() if counts[s]
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=3,
        fontsize=9,
        frameon=False,
    )
    ax.set_xlim(-0.2, total + 0.2)
    ax.set_ylim(-len(lines) + 0.8, 0.95)
    ax.axis("off")
    ax.set_title(
        f"{len(prompt_ids)} prompt tokens + {counts['response']} response tokens + 1 end-of-text "
        "(↵ newline, ␣ space)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def _grid(values, name: str) -> np.ndarray:
    array = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a (batch, seq_len) grid, got shape {array.shape}")
    return array.astype(np.int64)


def plot_collate_mask(
    inputs,
    targets,
    *,
    pad_id: int,
    ignore_index: int = IGNORE_INDEX,
    masked_targets=None,
    decode: Callable[[list[int]], str] | None = None,
):
    """``collate``'s output as grids of ids: inputs above targets (and ``masked_targets`` below them).

    A row's length is read from its targets by position: the last target that is not
    ``ignore_index`` is its end-of-text, which stays (green: the model learns to stop). Inputs at
    and after that length are padding (grey); targets equal to ``ignore_index`` are shaded red
    (``F.cross_entropy`` skips them). ``masked_targets`` (``collate(..., mask_prompt=True)``)
    shades the prompt targets it adds in purple. ``decode`` writes tokens instead of ids.
    """
    x, y = _grid(inputs, "inputs"), _grid(targets, "targets")
    grids = [("inputs", x), ("targets", y)]
    if masked_targets is not None:
        grids.append(("masked", _grid(masked_targets, "masked_targets")))
    titles = {"inputs": "inputs", "targets": "targets", "masked": "targets with the prompt masked"}
    if any(g.shape != x.shape for _, g in grids):
        raise ValueError(f"inputs and targets must have the same shape, got {[g.shape for _, g in grids]}")
    n_rows, T = x.shape
    if T > 40:
        raise ValueError(f"{T} positions are too many to read; slice the batch first, e.g. inputs[:, :20]")
    kept = [np.flatnonzero(row != ignore_index) for row in y]
    lengths = [int(k[-1]) + 1 if len(k) else T for k in kept]
    texts = {
        name: [
            [show_token(decode([int(i)])) if decode and i != ignore_index else str(int(i)) for i in row]
            for row in g
        ]
        for name, g in grids
    }
    cell = max(1.0, 0.14 * max(len(t) for rows in texts.values() for r in rows for t in r) + 0.35)
    side_by_side = T <= 8  # short rows: panels next to each other, else one above the other
    step_x, step_y = (cell * T + 1.2, 0.0) if side_by_side else (0.0, n_rows + 1.3)
    width = cell * T + step_x * (len(grids) - 1)
    height = n_rows + 1 + step_y * (len(grids) - 1)
    fig, ax = plt.subplots(figsize=(max(6.5, 1.2 + 0.62 * width), 0.9 + 0.5 * height))
    for k, (name, g) in enumerate(grids):
        left, top = k * step_x, -k * step_y
        ax.text(left, top + 0.3, titles[name], ha="left", va="bottom", fontsize=10, weight="bold")
        for b in range(n_rows):
            yb = top - 1 - b
            if k == 0 or not side_by_side:
                ax.text(left - 0.3, yb + 0.45, f"row {b}", ha="right", va="center", fontsize=8)
            for t in range(T):
                value, fc, ec, lw, gid = g[b, t], "#dbe9f6", "#999999", 0.6, None
                if name == "inputs" and t >= lengths[b]:
                    fc, gid = "#d9d9d9", "input_pad"
                elif name != "inputs" and value == ignore_index:
                    prompt = name == "masked" and y[b, t] != ignore_index
                    fc, gid = ("#cbb8e0", "prompt") if prompt else ("#f4a3a3", "ignored")
                elif name != "inputs" and t == lengths[b] - 1 and value == pad_id:
                    fc, ec, lw, gid = "#a1d99b", "#2ca02c", 2.0, "kept_eot"
                box = Rectangle((left + cell * t, yb), cell - 0.08, 0.9, fc=fc, ec=ec, lw=lw)
                box.set_gid(f"{name}:{gid}" if gid else None)  # e.g. "targets:ignored", for tests
                ax.add_patch(box)
                ax.text(
                    left + cell * t + cell / 2 - 0.04,
                    yb + 0.45,
                    texts[name][b][t],
                    ha="center",
                    va="center",
                    fontsize=8,
                    family="monospace",
                )
    handles = [
        Patch(fc="#d9d9d9", ec="#999999", label=f"padding (pad_id = {pad_id})"),
        Patch(fc="#a1d99b", ec="#2ca02c", label="first end-of-text: kept as a target"),
        Patch(fc="#f4a3a3", ec="#999999", label=f"ignored: {ignore_index} (no loss)"),
    ]
    if masked_targets is not None:
        handles.append(Patch(fc="#cbb8e0", ec="#999999", label=f"prompt masked: {ignore_index}"))
    ax.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8, frameon=False
    )
    ax.set_xlim(-1.4, width)
    ax.set_ylim(-height - 0.1, 1.0)
    ax.axis("off")
    fig.tight_layout()
    return fig
