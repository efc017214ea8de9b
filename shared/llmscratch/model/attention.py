"""Causal multi-head self-attention: the teaching version and a fast version that computes the same thing.

- ``MultiHeadAttention`` (the teaching version, derived step by step in chapter 3) projects the input
  to queries, keys and values with three ``nn.Linear`` layers, splits them into ``n_heads`` heads,
  applies scaled dot-product attention with a causal mask (a token attends only to itself and
  earlier tokens), and merges the heads through ``out_proj``. Every operation is written out, and
  ``attention_weights(x)`` returns the ``(B, H, T, T)`` weights for plotting.
- ``MultiHeadAttentionFast`` gives the same outputs (up to float rounding) with one fused ``qkv``
  projection and PyTorch's fused ``F.scaled_dot_product_attention``; its docstring lists exactly
  what changed. ``MultiHeadAttentionFast.from_teaching(mha)`` and ``fuse_qkv_state_dict`` copy
  teaching weights into it.

Both modules take ``x`` of shape ``(B, T, d_in)`` and return ``(B, T, d_out)``, with clear errors for
a ``d_out`` that does not split evenly into heads and for input longer than ``context_length``.

The arithmetic itself is written once, in two functions that every attention module of the package
calls (these modules, the cache-aware one in ``kv_cache.py`` and hence ``GPTModel``):

- ``attend(queries, keys, values, hidden, impl=...)``: per-head context vectors, either by the
  hand-written masked softmax (``impl="teaching"``) or by ``F.scaled_dot_product_attention``
  (``impl="sdpa"``); ``hidden`` is a boolean mask, True where a query may *not* look;
- ``hidden_positions(future, key_padding)``: that mask for a batch with left padding (the causal
  mask, plus the padding keys, minus each query's own key so a padding row never becomes all -inf).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..constants import ATTN_IMPLS

QKV_NAMES = (
    "W_query",
    "W_key",
    "W_value",
)  # also the order of the blocks of a fused qkv / GPT-2 c_attn weight


def future_mask(n_queries: int, n_keys: int, device: torch.device | str | None = None) -> torch.Tensor:
    """``(T_q, T_k)`` booleans, True where a query would look at a later token.

    The queries are the *last* ``T_q`` of the ``T_k`` tokens (with a KV cache the earlier ones are
    cached), so query ``i`` is token ``T_k - T_q + i`` and may see keys ``0 .. T_k - T_q + i``.

    >>> future_mask(2, 3).int().tolist()
    [[0, 0, 1], [0, 0, 0]]
    """
    return torch.ones(n_queries, n_keys, dtype=torch.bool, device=device).triu(
        diagonal=n_keys - n_queries + 1
    )


def hidden_positions(future: torch.Tensor, key_padding: torch.Tensor | None) -> torch.Tensor:
    """The keys each query may not see: the ``(T_q, T_k)`` causal mask ``future``, plus padding keys.

    ``key_padding`` ``(B, T_k)`` is True at (left) padding tokens, or None for none. Every query still
    sees its own key, so a padding query's row is never all hidden (an all ``-inf`` softmax row is
    NaN); real queries never see padding, because it comes before them and it is hidden. Returns
    ``(T_q, T_k)`` without padding, else ``(B, 1, T_q, T_k)`` (one mask for all heads).
    """
    if key_padding is None:
        return future
    n_queries, n_keys = future.shape
    keys = torch.arange(n_keys, device=future.device)  # (T_k,)
    own = (
        keys == torch.arange(n_keys - n_queries, n_keys, device=future.device)[:, None]
    )  # (T_q, T_k): query i is token T_k - T_q + i
    return (future | key_padding[:, None, None, :]) & ~own  # (B, 1, T_q, T_k)


def masked_softmax(queries: torch.Tensor, keys: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """Attention weights ``(B, H, T_q, T_k)``: softmax of the scaled scores, ``hidden`` ones at -inf."""
    scores = queries @ keys.transpose(-2, -1)  # (B, H, T_q, D) @ (B, H, D, T_k) -> (B, H, T_q, T_k)
    scores = scores.masked_fill(hidden, float("-inf"))  # hide the future (and padding)
    return torch.softmax(scores / math.sqrt(queries.shape[-1]), dim=-1)  # rows sum to 1


def attend(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    hidden: torch.Tensor | None,
    *,
    impl: str,
    dropout: nn.Dropout,
) -> torch.Tensor:
    """Per-head context vectors ``(B, H, T_q, D)`` from queries ``(B, H, T_q, D)`` and keys/values ``(B, H, T_k, D)``.

    ``hidden`` (broadcastable to ``(B, H, T_q, T_k)``, True = may not attend) or None for plain
    causal attention (``future_mask``). ``impl="teaching"`` computes ``dropout(masked_softmax) @ values``
    as in chapter 3; ``impl="sdpa"`` calls ``F.scaled_dot_product_attention`` (same maths, fused
    kernels that never store the ``T_q x T_k`` weights where they apply; ``hidden=None`` lets it use
    ``is_causal``, the fastest case). ``dropout`` is applied to the weights in training mode (the
    random pattern differs between the two implementations; everything else is the same).
    """
    n_queries, n_keys = queries.shape[-2], keys.shape[-2]
    if impl == "sdpa":
        if hidden is None and n_queries not in (
            1,
            n_keys,
        ):  # queries after a cached prefix: offset causal mask
            hidden = future_mask(n_queries, n_keys, queries.device)
        dropout_p = dropout.p if dropout.training else 0.0
        return F.scaled_dot_product_attention(
            queries,
            keys,
            values,
            attn_mask=None
            if hidden is None
            else ~hidden,  # SDPA's boolean mask is True where attention is allowed
            dropout_p=dropout_p,
            is_causal=hidden is None and n_queries > 1,
        )  # (B, H, T_q, D)
    if impl != "teaching":
        raise ValueError(f"impl must be one of {ATTN_IMPLS}, got {impl!r}")
    if hidden is None:
        hidden = future_mask(n_queries, n_keys, queries.device)
    weights = dropout(masked_softmax(queries, keys, hidden))  # (B, H, T_q, T_k)
    return weights @ values  # (B, H, T_q, T_k) @ (B, H, T_k, D) -> (B, H, T_q, D)


def _check_config(d_out: int, n_heads: int) -> None:
    if n_heads < 1:
        raise ValueError(f"n_heads must be at least 1, got {n_heads}")
    if d_out % n_heads != 0:
        raise ValueError(
            f"d_out={d_out} must be divisible by n_heads={n_heads} (each head gets d_out / n_heads dims); "
            f"e.g. n_heads={_nearest_divisor(d_out, n_heads)} would work"
        )


def _nearest_divisor(d_out: int, n_heads: int) -> int:
    divisors = [h for h in range(1, d_out + 1) if d_out % h == 0]
    return min(divisors, key=lambda h: (abs(h - n_heads), h))


def check_attention_input(x: torch.Tensor, d_in: int, context_length: int) -> None:
    """Raise ``ValueError`` unless ``x`` is ``(batch, num_tokens <= context_length, d_in)``."""
    if x.ndim != 3:
        raise ValueError(f"x must have shape (batch, num_tokens, d_in={d_in}), got {tuple(x.shape)}")
    if x.shape[-1] != d_in:
        raise ValueError(f"x has {x.shape[-1]} features per token but the module expects d_in={d_in}")
    if x.shape[1] > context_length:
        raise ValueError(
            f"input has {x.shape[1]} tokens but context_length is {context_length}; "
            f"crop it to the last {context_length} tokens"
        )


class MultiHeadAttention(nn.Module):
    """Causal multi-head attention, written out operation by operation.

    Parameters follow the house vocabulary: ``d_in`` input width, ``d_out`` output width
    (split evenly across ``n_heads``), ``context_length`` longest sequence (size of the causal
    mask), ``drop_rate`` dropout on the attention weights, ``qkv_bias`` bias in the q/k/v projections.

    >>> mha = MultiHeadAttention(d_in=8, d_out=12, context_length=5, drop_rate=0.0, n_heads=3)
    >>> mha(torch.randn(2, 5, 8)).shape
    torch.Size([2, 5, 12])
    """

    owns_mask = True  # chapter 3's module keeps its causal mask; GPTModel's blocks share one (kv_cache.py)

    def __init__(
        self,
        d_in: int,
        d_out: int,
        context_length: int,
        drop_rate: float,
        n_heads: int,
        qkv_bias: bool = False,
    ):
        super().__init__()
        _check_config(d_out, n_heads)
        self.d_in, self.d_out, self.n_heads, self.head_dim = d_in, d_out, n_heads, d_out // n_heads
        self.context_length = context_length
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.out_proj = nn.Linear(d_out, d_out)  # mixes the heads' outputs back together
        self.dropout = nn.Dropout(drop_rate)
        # True above the diagonal = "future" positions to hide. Not a weight: kept out of state_dict
        # (it is rebuilt from context_length), but it moves with .to(device) like a parameter.
        mask = future_mask(context_length, context_length) if self.owns_mask else None
        self.register_buffer("mask", mask, persistent=False)

    def _split_heads(self, t: torch.Tensor) -> torch.Tensor:
        b, n_tokens, _ = t.shape
        return t.view(b, n_tokens, self.n_heads, self.head_dim).transpose(1, 2)  # (B, T, C) -> (B, H, T, D)

    def _merge_heads(self, context: torch.Tensor) -> torch.Tensor:
        b, _, n_tokens, _ = context.shape
        return context.transpose(1, 2).reshape(b, n_tokens, self.d_out)  # (B, H, T, D) -> (B, T, C)

    def _future(self, n_queries: int, n_keys: int, device: torch.device) -> torch.Tensor:
        """The causal mask rows for the last ``n_queries`` of ``n_keys`` tokens: ``(T_q, T_k)``."""
        if self.mask is None:
            return future_mask(n_queries, n_keys, device)
        return self.mask[n_keys - n_queries : n_keys, :n_keys]

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The ``(B, H, T, T)`` attention weights for ``x`` (no dropout): row ``t`` of head ``h``
        says how much token ``t`` takes from each token ``<= t``. For plots and inspection."""
        check_attention_input(x, self.d_in, self.context_length)
        queries, keys = self._split_heads(self.W_query(x)), self._split_heads(self.W_key(x))
        return masked_softmax(queries, keys, self._future(x.shape[1], x.shape[1], x.device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_attention_input(x, self.d_in, self.context_length)
        queries = self._split_heads(self.W_query(x))  # (B, H, T, D)
        keys = self._split_heads(self.W_key(x))  # (B, H, T, D)
        values = self._split_heads(self.W_value(x))  # (B, H, T, D)
        hidden = self._future(x.shape[1], x.shape[1], x.device)  # (T, T)
        context = attend(queries, keys, values, hidden, impl="teaching", dropout=self.dropout)  # (B, H, T, D)
        return self.out_proj(self._merge_heads(context))  # (B, T, C)


class MultiHeadAttentionFast(nn.Module):
    """The same causal multi-head attention as ``MultiHeadAttention``, with fused kernels.

    Same constructor arguments, same input and output shapes, same outputs up to float rounding
    (the tests assert it). Exactly what changed:

    1. One fused ``qkv`` projection, ``nn.Linear(d_in, 3 * d_out)``, replaces ``W_query``, ``W_key``
       and ``W_value``: one matrix multiply instead of three. Its weight is the three teaching
       weights stacked in the order query, key, value (see ``fuse_qkv_state_dict``).
    2. ``F.scaled_dot_product_attention(q, k, v, is_causal=True)`` replaces the hand-written
       scores / mask / softmax / weighted sum. PyTorch picks a fused kernel where one applies
       (FlashAttention or memory-efficient attention on GPUs, a flash-style kernel on CPUs) that
       never stores the full ``(B, H, T, T)`` weight matrix, so memory grows with ``T`` rather than
       ``T**2``. Where none applies (e.g. dropout in training on a CPU, in torch 2.13) it falls back
       to the same arithmetic as the teaching version, in C++.
    3. Hence no ``mask`` buffer (``is_causal`` builds the mask on the fly), and dropout on the
       attention weights is the kernel's ``dropout_p``, passed only in training mode. In training mode the random dropout pattern differs from the teaching
       version's, so outputs match only in eval mode (or with ``drop_rate=0``).

    ``out_proj`` and the error checks are unchanged.
    """

    def __init__(
        self,
        d_in: int,
        d_out: int,
        context_length: int,
        drop_rate: float,
        n_heads: int,
        qkv_bias: bool = False,
    ):
        super().__init__()
        _check_config(d_out, n_heads)
        if not 0.0 <= drop_rate <= 1.0:
            raise ValueError(f"drop_rate must be between 0 and 1, got {drop_rate}")
        self.d_in, self.d_out, self.n_heads, self.head_dim = d_in, d_out, n_heads, d_out // n_heads
        self.context_length, self.drop_rate = context_length, drop_rate
        self.qkv = nn.Linear(d_in, 3 * d_out, bias=qkv_bias)  # [W_query; W_key; W_value] stacked
        self.out_proj = nn.Linear(d_out, d_out)
        self.dropout = nn.Dropout(
            drop_rate
        )  # no parameters; ``attend`` hands its p to the kernel in training

    @classmethod
    def from_teaching(cls, mha: MultiHeadAttention) -> MultiHeadAttentionFast:
        """A fast module with the same configuration and weights as a teaching ``MultiHeadAttention``.

        The new module is on the same device and dtype, and in the same train/eval mode, as ``mha``.
        """
        fast = cls(
            mha.d_in,
            mha.d_out,
            mha.context_length,
            mha.dropout.p,
            mha.n_heads,
            qkv_bias=mha.W_query.bias is not None,
        )
        weight = mha.W_query.weight
        fast.to(device=weight.device, dtype=weight.dtype)
        fast.load_state_dict(fuse_qkv_state_dict(mha.state_dict()), strict=True)
        return fast.train(mha.training)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_attention_input(x, self.d_in, self.context_length)
        b, n_tokens, _ = x.shape
        qkv = self.qkv(x).view(b, n_tokens, 3, self.n_heads, self.head_dim)  # (B, T, 3C) -> (B, T, 3, H, D)
        queries, keys, values = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # (B, T, 3, H, D) -> 3 x (B, H, T, D)
        context = attend(
            queries, keys, values, None, impl="sdpa", dropout=self.dropout
        )  # (B, H, T, D), is_causal
        context = context.transpose(1, 2).reshape(b, n_tokens, self.d_out)  # (B, H, T, D) -> (B, T, C)
        return self.out_proj(context)


def fuse_qkv_state_dict(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Turn teaching-attention weights into fast-attention weights, for one module or a whole model.

    Every ``<prefix>W_query.*``, ``<prefix>W_key.*``, ``<prefix>W_value.*`` triple becomes one
    ``<prefix>qkv.*`` entry, the three tensors stacked along dim 0 in that order (an ``nn.Linear``
    weight is ``(out, in)``, so stacking outputs is stacking rows). All other entries pass through
    unchanged, so a model's state dict converts in one call.

    >>> sd = {"W_query.weight": torch.zeros(2, 3), "W_key.weight": torch.ones(2, 3),
    ...       "W_value.weight": torch.full((2, 3), 2.0), "out_proj.bias": torch.zeros(2)}
    >>> fused = fuse_qkv_state_dict(sd)
    >>> sorted(fused), fused["qkv.weight"][:, 0].tolist()
    (['out_proj.bias', 'qkv.weight'], [0.0, 0.0, 1.0, 1.0, 2.0, 2.0])
    """
    fused: dict[str, torch.Tensor] = {}
    groups: dict[tuple[str, str], dict[str, torch.Tensor]] = {}  # (prefix, "weight"/"bias") -> {name: tensor}
    for key, tensor in state_dict.items():
        prefix, _, leaf = key.rpartition(
            "."
        )  # "blocks.0.att.W_query.weight" -> ("blocks.0.att.W_query", "weight")
        head, _, name = prefix.rpartition(".")
        if name in QKV_NAMES:
            groups.setdefault((f"{head}." if head else "", leaf), {})[name] = tensor
        else:
            fused[key] = tensor
    for (prefix, leaf), parts in groups.items():
        missing = [n for n in QKV_NAMES if n not in parts]
        if missing:
            raise KeyError(
                f"{prefix}{leaf}: found {sorted(parts)} but not {missing}; cannot fuse an incomplete q/k/v set"
            )
        fused[f"{prefix}qkv.{leaf}"] = torch.cat([parts[n] for n in QKV_NAMES], dim=0)
    return fused
