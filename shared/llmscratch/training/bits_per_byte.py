"""Comparing language models that use different tokenizers: bits per byte.

A model's loss per *token* depends on its tokenizer (a tokenizer with longer tokens has fewer,
harder predictions), so chapter 5's GPT (GPT-2 tokens) and SmolLM2 (its own 49k vocabulary) cannot
be compared by loss or perplexity. Bits per byte can: the total number of bits the model needs to
encode the text (the sum of ``-log2 p(token)``) divided by the text's length in UTF-8 bytes. It is
independent of how the text was cut into tokens. A model that knew nothing would need 8 bits per byte.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from tqdm import tqdm  # plain tqdm: tqdm.auto warns in notebooks without ipywidgets


@torch.no_grad()
def total_nll(model, token_ids, *, window: int | None = None, progress: bool = False) -> tuple[float, int]:
    """Sum of ``-ln p(token)`` over tokens ``1 .. N-1`` of a 1-D ``token_ids``, and how many were scored.

    The text is cut into consecutive windows of ``window + 1`` tokens (default: the model's
    ``context_length``) that overlap by one token, so every token after the first is predicted
    exactly once, from the tokens before it in its window.
    """
    ids = torch.as_tensor(token_ids, dtype=torch.long).flatten()
    if ids.numel() < 2:
        raise ValueError(
            f"token_ids must hold at least 2 tokens (one to predict from, one to predict), got {ids.numel()}"
        )
    window = window or model.cfg.context_length
    if not 1 <= window <= model.cfg.context_length:
        raise ValueError(f"window must be in 1..context_length={model.cfg.context_length}, got {window}")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    starts = range(0, ids.numel() - 1, window)
    if progress:
        starts = tqdm(starts, desc="scoring", unit="window")
    total, count = 0.0, 0
    try:
        for start in starts:
            chunk = ids[start : start + window + 1].to(device)  # (T + 1,)
            logits = model(chunk[:-1].unsqueeze(0))  # (1, T, V)
            total += F.cross_entropy(logits[0].float(), chunk[1:], reduction="sum").item()
            count += chunk.numel() - 1
    finally:
        model.train(was_training)
    return total, count


def bits_per_byte(
    model, token_ids, n_bytes: int, *, window: int | None = None, progress: bool = False
) -> float:
    """Bits the model needs per UTF-8 byte of the text that ``token_ids`` encodes.

    Start ``token_ids`` with a document-start token (``<|endoftext|>`` for GPT-2, ``<|im_start|>``
    or ``<|endoftext|>`` for SmolLM2) so that every byte of the text is predicted; ``n_bytes`` is
    ``len(text.encode("utf-8"))``.
    """
    if n_bytes < 1:
        raise ValueError(f"n_bytes must be the text's length in UTF-8 bytes (>= 1), got {n_bytes}")
    nll, _ = total_nll(model, token_ids, window=window, progress=progress)
    return nll / math.log(2) / n_bytes
