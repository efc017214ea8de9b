"""Turning a model's next-token logits into text: greedy decoding, temperature, top-k, top-p.

``generate(model, token_ids, max_new_tokens)`` appends tokens one at a time. Each step picks a
token from the logits of the last position (``next_token``) and feeds the longer sequence back in.
Underneath is ``generate_stream``, an iterator that yields each step's ``(B, 1)`` new ids as soon as
they are picked (a chat prints them as they come); ``generate`` collects it. Both work for any model
with the shared interface (``cfg.context_length``, ``new_kv_cache()``, ``attention_mask``), and:

- a batch of prompts of different lengths is left-padded with an ``attention_mask``; each row gets
  the tokens it would get alone, and with ``eos_id`` each row stops on its own;
- a ``kv_cache`` from the previous call continues a conversation: pass only the new tokens.

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

import inspect
import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from .embeddings import check_token_ids


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
    check_sampling(temperature, top_k, top_p)
    _check_logits(logits)
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


def check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    """Raise ``ValueError`` for a sampling setting ``next_token`` cannot use."""
    if not isinstance(temperature, (int, float)) or math.isnan(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a number >= 0 (0 = greedy), got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")


def _check_logits(logits: torch.Tensor) -> None:
    """NaN / +inf logits, or a row with every logit -inf, leave nothing to pick: say so, not torch.multinomial."""
    broken = torch.isnan(logits).any(dim=-1) | torch.isposinf(logits).any(dim=-1)  # (B,)
    empty = torch.isneginf(logits).all(dim=-1)  # (B,)
    if bool((broken | empty).any()):  # one check, one sync
        if bool(broken.any()):
            row = int(broken.nonzero()[0])
            raise ValueError(
                f"logits row {row} contains NaN or +inf: the model's output is broken "
                "(look for NaN/inf in its weights or inputs, e.g. a training run that diverged)"
            )
        row = int(empty.nonzero()[0])
        raise ValueError(
            f"every logit in row {row} is -inf: no token is left to pick (a mask or filter removed them all)"
        )


@torch.no_grad()
def generate_stream(
    model: nn.Module,
    token_ids: torch.Tensor,
    max_new_tokens: int,
    *,
    temperature: float = 0.0,
    top_k: int | None = None,
    top_p: float | None = None,
    eos_id: int | None = None,
    attention_mask: torch.Tensor | None = None,
    kv_cache: Any = None,
    use_cache: bool = True,
    generator: torch.Generator | None = None,
) -> Iterator[torch.Tensor]:
    """Yield each step's new ids ``(B, 1)`` for the rows of ``token_ids`` ``(B, T)`` as soon as they are picked.

    The defaults are greedy decoding with the KV cache. ``temperature``/``top_k``/``top_p``/``generator``
    go to ``next_token``.

    - ``eos_id``: a row that produced it is padded with ``eos_id`` from then on, and generation
      stops early once every row has.
    - ``attention_mask`` ``(B, T)``: for a batch of prompts of different lengths, left-padded to
      ``T`` (1 = real token, 0 = padding). Each row then gets the tokens it would get on its own.
    - ``kv_cache``: continue a conversation. Pass the cache of the previous call and only the *new*
      tokens in ``token_ids``; on return the cache holds the whole conversation so far.
    - The model is in eval mode (no dropout) while the iterator runs and gets its train/eval mode
      back when it ends or is closed. Longer-than-context input is cropped (see the module docstring).
    """
    if not torch.is_tensor(token_ids) or token_ids.ndim != 2:
        shape = tuple(token_ids.shape) if torch.is_tensor(token_ids) else type(token_ids).__name__
        raise ValueError(
            f"token_ids must be a (batch, seq_len) tensor, got {shape}; for one prompt use ids.unsqueeze(0)"
        )
    if token_ids.shape[1] == 0:
        raise ValueError(
            "the prompt is empty: give at least one token id (e.g. EOT_ID to start from nothing)"
        )
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    check_sampling(temperature, top_k, top_p)
    check_token_ids(token_ids, model.cfg.vocab_size)  # on the CPU input, before the move: no device sync
    if attention_mask is not None and tuple(attention_mask.shape) != tuple(token_ids.shape):
        raise ValueError(
            f"attention_mask must have the shape of token_ids {tuple(token_ids.shape)}, got {tuple(attention_mask.shape)}"
        )
    if kv_cache is not None and not use_cache:
        raise ValueError("kv_cache was given but use_cache=False; drop one of them")
    context_length = model.cfg.context_length
    device = next(model.parameters()).device
    seq = token_ids.to(
        device
    )  # (B, T): everything the model should see (a passed cache's tokens + this prompt)
    mask = None if attention_mask is None else attention_mask.to(device=device, dtype=torch.bool)
    cache = kv_cache if kv_cache is not None else (model.new_kv_cache() if use_cache else None)
    n_unseen = (
        0  # tokens a passed cache holds whose ids generate cannot read back (a cache without ``token_ids``)
    )
    if cache is not None and len(cache) > 0:  # multi-turn: the cache already holds earlier turns
        held_ids, held_mask = getattr(cache, "token_ids", None), getattr(cache, "attention_mask", None)
        if held_ids is None:
            n_unseen = len(cache)
        else:
            if held_mask is not None or mask is not None:
                held_mask = torch.ones_like(held_ids, dtype=torch.bool) if held_mask is None else held_mask
                mask = torch.cat(
                    [held_mask, torch.ones_like(seq, dtype=torch.bool) if mask is None else mask], dim=1
                )
            seq = torch.cat([held_ids, seq], dim=1)
    generators = _row_generators(generator, seq.shape[0])
    # Rows still generating (indices into the batch). Finished rows leave seq, mask and an internal cache,
    # so they stop costing work; a cache the caller passed keeps every row (the caller continues them all).
    alive = torch.arange(seq.shape[0], device=device)
    shrink = (
        eos_id is not None
        and kv_cache is None
        and seq.shape[0] > 1
        and (cache is None or hasattr(cache, "keep_rows"))
    )
    finished = torch.zeros(seq.shape[0], dtype=torch.bool, device=device)
    was_training = model.training
    model.eval()
    try:
        for _ in range(max_new_tokens):
            logits = _step(model, seq, mask, cache, context_length, n_unseen)[:, -1, :]  # (B_alive, V)
            picked = _pick(logits, temperature, top_k, top_p, generator, generators)  # (B_alive, 1)
            if eos_id is None:
                new = picked
            else:
                new = torch.full((finished.shape[0], 1), eos_id, dtype=picked.dtype, device=device)
                new[alive] = picked.masked_fill(
                    finished[alive].unsqueeze(1), eos_id
                )  # (B, 1): finished rows get padding
                finished |= new.squeeze(1) == eos_id
            seq = torch.cat([seq, new[alive] if shrink else new], dim=1)  # (B_alive, T) -> (B_alive, T + 1)
            if mask is not None:
                mask = torch.cat([mask, torch.ones_like(seq[:, -1:], dtype=torch.bool)], dim=1)
            yield new
            if eos_id is not None and bool(finished.all()):
                break
            if shrink and bool(finished[alive].any()):
                keep = (~finished[alive]).nonzero().squeeze(1)  # (B_kept,) positions among the alive rows
                seq, mask, cache = _keep_rows(seq, mask, cache, keep)
                generators = None if generators is None else [generators[i] for i in keep.tolist()]
                alive = alive[keep]
        if kv_cache is not None and seq.shape[1] + n_unseen > len(kv_cache):
            # The caller will continue this conversation: run the last picked token too, so the cache
            # holds everything returned and the next call passes only what comes after it.
            _step(model, seq, mask, kv_cache, context_length, n_unseen)
    finally:
        model.train(was_training)


def _row_generators(generator, batch: int) -> list[torch.Generator] | None:
    """A list of per-row generators (checked against the batch size), or None for one shared generator."""
    if generator is None or isinstance(generator, torch.Generator):
        return None
    generators = list(generator)
    if len(generators) != batch or not all(isinstance(g, torch.Generator) for g in generators):
        raise ValueError(
            f"generator must be one torch.Generator or a list of one per row ({batch}), "
            f"got {len(generators)} items"
        )
    return generators


def _pick(logits, temperature, top_k, top_p, generator, generators) -> torch.Tensor:
    """``next_token`` for the batch; with per-row generators each row draws from its own (as if alone)."""
    if generators is None or temperature == 0:
        return next_token(logits, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator)
    return torch.cat(
        [
            next_token(logits[i : i + 1], temperature=temperature, top_k=top_k, top_p=top_p, generator=g)
            for i, g in enumerate(generators)
        ]
    )  # (B, 1)


def _keep_rows(seq: torch.Tensor, mask: torch.Tensor | None, cache: Any, keep: torch.Tensor):
    """Only rows ``keep`` of the running batch, without the columns that are now padding in all of them."""
    holds_prefix = (
        cache is not None and len(cache) == seq.shape[1] - 1
    )  # all but the newest token (no slide yet)
    seq, start = seq[keep], 0  # (B_kept, T)
    if mask is not None:
        mask = mask[keep]
        start = int(mask.any(dim=0).int().argmax())  # first column where some kept row has a real token
        seq, mask = seq[:, start:], mask[:, start:]
    if cache is not None:  # a cache rebuilt by a sliding window is emptied: the next step rebuilds it again
        cache.keep_rows(keep, start if holds_prefix else len(cache))
    return seq, mask, cache


def _step(
    model: nn.Module,
    seq: torch.Tensor,
    mask: torch.Tensor | None,
    cache: Any,
    context_length: int,
    n_unseen: int,
) -> torch.Tensor:
    """Last-position logits ``(B, 1, V)`` for the sequence, running only what the cache does not hold yet.

    The sequence is ``n_unseen`` tokens held by a passed cache that generate cannot read, then ``seq``.
    """
    window = lambda t, n: None if t is None else t[:, -n:]  # noqa: E731 - the last n columns
    if cache is None:
        return model(seq[:, -context_length:], attention_mask=window(mask, context_length), last_only=True)
    n_pending = n_unseen + seq.shape[1] - len(cache)
    if len(cache) + n_pending <= context_length:
        return model(seq[:, -n_pending:], cache, attention_mask=window(mask, n_pending), last_only=True)
    # The window slides: every position shifts, so the cached keys no longer apply. Re-run the window.
    if n_unseen:
        raise ValueError(
            f"the kv_cache is full ({len(cache)} of {context_length} positions) and does not record its tokens, "
            "so the window cannot slide; reset it and pass the whole conversation"
        )
    cache.reset()
    return model(seq[:, -context_length:], cache, attention_mask=window(mask, context_length), last_only=True)


def generate(model: nn.Module, token_ids: torch.Tensor, max_new_tokens: int, **options: Any) -> torch.Tensor:
    """``generate_stream`` collected: ``token_ids`` ``(B, T)`` -> ``(B, T + n)`` on the model's device.

    Takes exactly ``generate_stream``'s arguments (``help(generate)`` shows them).
    """
    new = list(generate_stream(model, token_ids, max_new_tokens, **options))
    device = next(model.parameters()).device
    return torch.cat([token_ids.to(device), *new], dim=1)  # (B, T) -> (B, T + n)


# One signature, written once (on generate_stream); generate shows it too.
generate.__signature__ = inspect.signature(generate_stream).replace(return_annotation=torch.Tensor)
