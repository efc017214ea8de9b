"""Turning a model's next-token logits into text: greedy decoding, temperature, top-k, top-p.

``generate(model, token_ids, max_new_tokens)`` appends tokens one at a time. Each step picks a
token from the logits of the last position (``next_token``) and feeds the longer sequence back in.

Two ways to run that loop, giving exactly the same tokens (the tests prove it):

- ``use_cache=False``: re-run the whole sequence every step (simple; work grows with its square);
- ``use_cache=True`` (default): run the prompt once to fill a ``KVCache``, then only the new token
  per step, attending over the cached keys and values.

**Context length: we crop, never refuse.** The model has ``context_length`` position vectors, so it
only ever sees the last ``context_length`` tokens: a longer prompt is cropped to its tail, and once
the sequence outgrows the window it slides. The returned tensor still holds the whole prompt and
every new token. With the cache, a sliding window shifts every token's position, so cached keys no
longer apply: from then on the cache is rebuilt from the window at each step (still exact, no
longer faster).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from .model import GPTModel


def next_token(
    logits: torch.Tensor,
    *,
    temperature: float = 0.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Pick one token per row from last-position logits ``(B, V)``; returns ``(B, 1)`` ids.

    ``temperature=0`` is greedy (argmax; ``top_k``/``top_p`` then change nothing). Otherwise the
    logits are divided by ``temperature`` (below 1 sharpens, above 1 flattens), optionally limited
    to the ``top_k`` highest and/or the smallest set whose probability reaches ``top_p``, and a
    token is sampled from the softmax.

    >>> next_token(torch.tensor([[0.1, 2.0, -1.0]]))
    tensor([[1]])
    """
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (batch, vocab_size), got {tuple(logits.shape)}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0 (0 = greedy), got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)  # (B, V) -> (B, 1)
    logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth_best = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth_best, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)  # (B, V) each
        sorted_probs = torch.softmax(sorted_logits, dim=-1)
        # Drop a token when the tokens ranked *before* it already reach top_p (the best one always stays).
        drop_sorted = sorted_probs.cumsum(dim=-1) - sorted_probs >= top_p  # (B, V), in sorted order
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)  # back to vocabulary order
        logits = logits.masked_fill(drop, float("-inf"))
    probs = torch.softmax(logits, dim=-1)  # (B, V)
    return torch.multinomial(probs, num_samples=1, generator=generator)  # (B, 1)


@torch.no_grad()
def generate(
    model: GPTModel,
    token_ids: torch.Tensor,
    max_new_tokens: int,
    *,
    temperature: float = 0.0,
    top_k: int | None = None,
    top_p: float | None = None,
    eos_id: int | None = None,
    use_cache: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Append up to ``max_new_tokens`` tokens to each row of ``token_ids`` ``(B, T)``.

    Returns ``(B, T + n)`` ids on the model's device. The defaults are greedy decoding with the KV
    cache. With ``eos_id``, a row that produced it is padded with ``eos_id`` and generation stops
    early once every row has. Dropout is off while generating (the model's train/eval mode is
    restored afterwards). Longer-than-context input is cropped (see the module docstring).
    """
    if not torch.is_tensor(token_ids) or token_ids.ndim != 2:
        shape = tuple(token_ids.shape) if torch.is_tensor(token_ids) else type(token_ids).__name__
        raise ValueError(f"token_ids must be a (batch, seq_len) tensor, got {shape}; for one prompt use ids.unsqueeze(0)")
    if token_ids.shape[1] == 0:
        raise ValueError("the prompt is empty: give at least one token id (e.g. EOT_ID to start from nothing)")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    context_length = model.cfg.context_length
    token_ids = token_ids.to(next(model.parameters()).device)
    finished = torch.zeros(token_ids.shape[0], dtype=torch.bool, device=token_ids.device)
    was_training = model.training
    model.eval()
    try:
        cache = model.new_kv_cache() if use_cache else None
        for step in range(max_new_tokens):
            if cache is None:
                logits = model(token_ids[:, -context_length:], last_only=True)  # whole window every step
            elif step > 0 and len(cache) < context_length:
                logits = model(token_ids[:, -1:], cache, last_only=True)  # only the newest token
            else:  # first step, or the window slid: (re)fill the cache from the window
                cache.reset()
                logits = model(token_ids[:, -context_length:], cache, last_only=True)
            new = next_token(logits[:, -1, :], temperature=temperature, top_k=top_k, top_p=top_p, generator=generator)
            if eos_id is not None:
                new = new.masked_fill(finished.unsqueeze(1), eos_id)  # (B, 1): finished rows keep padding
                finished |= new.squeeze(1) == eos_id
            token_ids = torch.cat([token_ids, new], dim=1)  # (B, T) -> (B, T + 1)
            if eos_id is not None and bool(finished.all()):
                break
    finally:
        model.train(was_training)
    return token_ids
