"""Causal multi-head self-attention: the teaching version.

``MultiHeadAttention`` projects the input to queries, keys and values with three ``nn.Linear``
layers, splits them into ``n_heads`` heads, applies scaled dot-product attention with a causal
mask (a token attends only to itself and earlier tokens), and merges the heads through
``out_proj``. Chapter 3 derives it step by step from a plain dot product.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class MultiHeadAttention(nn.Module):
    """Causal multi-head attention, written out operation by operation.

    Parameters follow the house vocabulary: ``d_in`` input width, ``d_out`` output width
    (split evenly across ``n_heads``), ``context_length`` longest sequence (size of the causal
    mask), ``drop_rate`` dropout on the attention weights, ``qkv_bias`` bias in the q/k/v projections.
    """

    def __init__(self, d_in: int, d_out: int, context_length: int, drop_rate: float, n_heads: int, qkv_bias: bool = False):
        super().__init__()
        if d_out % n_heads != 0:
            raise ValueError(f"d_out={d_out} must be divisible by n_heads={n_heads} (each head gets d_out / n_heads dims)")
        self.d_out, self.n_heads, self.head_dim = d_out, n_heads, d_out // n_heads
        self.context_length = context_length
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.out_proj = nn.Linear(d_out, d_out)  # mixes the heads' outputs back together
        self.dropout = nn.Dropout(drop_rate)
        # True above the diagonal = "future" positions to hide. Not a weight: kept out of state_dict.
        mask = torch.triu(torch.ones(context_length, context_length, dtype=torch.bool), diagonal=1)
        self.register_buffer("mask", mask, persistent=False)

    def _split_heads(self, t: torch.Tensor) -> torch.Tensor:
        b, n_tokens, _ = t.shape
        return t.view(b, n_tokens, self.n_heads, self.head_dim).transpose(1, 2)  # (B, T, C) -> (B, H, T, D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n_tokens, _ = x.shape
        if n_tokens > self.context_length:
            raise ValueError(f"input has {n_tokens} tokens but context_length is {self.context_length}")
        queries = self._split_heads(self.W_query(x))  # (B, H, T, D)
        keys = self._split_heads(self.W_key(x))  # (B, H, T, D)
        values = self._split_heads(self.W_value(x))  # (B, H, T, D)

        scores = queries @ keys.transpose(2, 3)  # (B, H, T, D) @ (B, H, D, T) -> (B, H, T, T)
        scores = scores.masked_fill(self.mask[:n_tokens, :n_tokens], float("-inf"))
        weights = torch.softmax(scores / math.sqrt(self.head_dim), dim=-1)  # rows sum to 1
        weights = self.dropout(weights)

        context = weights @ values  # (B, H, T, T) @ (B, H, T, D) -> (B, H, T, D)
        context = context.transpose(1, 2).reshape(b, n_tokens, self.d_out)  # (B, H, T, D) -> (B, T, C)
        return self.out_proj(context)
