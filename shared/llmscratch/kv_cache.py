"""The KV cache: keys and values of past tokens, kept so generation never recomputes them.

Generating token ``t+1`` needs every earlier token's key and value vector in every layer. Without
a cache the model recomputes all of them at each step (work grows with the square of the length);
with one it computes them once, so each new step only processes the one new token.

- ``LayerKVCache``: one layer's keys and values, ``(B, H, T, D)``, in a buffer allocated once.
- ``KVCache``: one ``LayerKVCache`` per transformer block; ``len(cache)`` tokens are cached.
- ``CachedMultiHeadAttention``: chapter 3's ``MultiHeadAttention`` (same weights, same names)
  whose ``forward`` also accepts a ``LayerKVCache``. Without one it *is* chapter 3's forward.

The cache is an explicit object passed through ``GPTModel.forward``, not hidden state inside the
modules: a model can serve several generations at once and a plain forward pass never sees a
stale cache. ``generate.py`` decides when to create, fill and reset it.
"""

from __future__ import annotations

import torch

from .attention import MultiHeadAttention


class LayerKVCache:
    """Keys and values of one attention layer, ``(B, H, T, D)``, for up to ``capacity`` positions.

    The buffer is allocated on the first ``append`` (when batch size, dtype and device are known)
    so appending is a copy into place, not a ``torch.cat`` that reallocates every step.
    """

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.length = 0
        self.keys: torch.Tensor | None = None  # (B, H, capacity, D) once allocated
        self.values: torch.Tensor | None = None

    def append(self, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store the new tokens' ``(B, H, T_new, D)`` keys/values; return all cached so far."""
        b, h, n_new, d = keys.shape
        end = self.length + n_new
        if end > self.capacity:
            raise ValueError(
                f"the KV cache holds {self.capacity} positions (the context length); {self.length} are "
                f"used and {n_new} more do not fit. Reset it and re-run the last {self.capacity} tokens."
            )
        if self.keys is None:
            self.keys = keys.new_empty(b, h, self.capacity, d)
            self.values = values.new_empty(b, h, self.capacity, d)
        elif self.keys.shape[0] != b:
            raise ValueError(f"the KV cache was filled with batch size {self.keys.shape[0]}, got {b}; use a new cache")
        self.keys[:, :, self.length : end] = keys
        self.values[:, :, self.length : end] = values
        self.length = end
        return self.keys[:, :, :end], self.values[:, :, :end]  # (B, H, T_past + T_new, D), views

    def reset(self) -> None:
        """Forget every cached token (the buffer is kept for reuse)."""
        self.length = 0


class KVCache:
    """One ``LayerKVCache`` per transformer block. ``len(cache)`` = number of tokens cached.

    Make one with ``model.new_kv_cache()`` and pass it to ``model(token_ids, kv_cache=cache)``.
    """

    def __init__(self, n_layers: int, capacity: int):
        self.layers = [LayerKVCache(capacity) for _ in range(n_layers)]
        self.capacity = capacity

    def __len__(self) -> int:
        return self.layers[-1].length  # the last layer is written last: all layers agree between passes

    def reset(self) -> None:
        for layer in self.layers:
            layer.reset()


class CachedMultiHeadAttention(MultiHeadAttention):
    """``MultiHeadAttention`` that can read and extend a ``LayerKVCache``.

    What changed compared with chapter 3's class (weights, names and the cache-free path are identical):

    1. only the *new* tokens are projected to queries, keys and values;
    2. their keys/values are appended to the cache, and the queries attend over all cached keys;
    3. the causal mask is the slice for rows ``past .. past + T_new``: a new token at position
       ``past + i`` may see keys ``0 .. past + i``.
    """

    def forward(self, x: torch.Tensor, cache: LayerKVCache | None = None) -> torch.Tensor:
        if cache is None:
            return super().forward(x)
        queries = self._split_heads(self.W_query(x))  # (B, T_new, C) -> (B, H, T_new, D)
        new_keys = self._split_heads(self.W_key(x))  # (B, H, T_new, D)
        new_values = self._split_heads(self.W_value(x))  # (B, H, T_new, D)
        keys, values = cache.append(new_keys, new_values)  # (B, H, T_all, D), T_all = past + T_new

        # The mask rows for the new tokens: position past + i may see keys 0 .. past + i.
        weights = self.dropout(self._weights(queries, keys))  # (B, H, T_new, T_all)
        context = weights @ values  # (B, H, T_new, T_all) @ (B, H, T_all, D) -> (B, H, T_new, D)
        return self.out_proj(self._merge_heads(context))  # (B, T_new, C)
