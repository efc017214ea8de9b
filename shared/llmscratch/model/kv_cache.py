"""The KV cache: keys and values of past tokens, kept so generation never recomputes them.

Generating token ``t+1`` needs every earlier token's key and value vector in every layer. Without
a cache the model recomputes all of them at each step (work grows with the square of the length);
with one it computes them once, so each new step only processes the one new token.

- ``LayerKVCache``: one layer's keys and values, ``(B, H, T, D)``, in a buffer allocated once.
- ``KVCache``: one ``LayerKVCache`` per transformer block; ``len(cache)`` tokens are cached. It
  also remembers the cached token ids and which of them are left padding.
- ``CachedMultiHeadAttention``: chapter 3's ``MultiHeadAttention`` (same weights, same names)
  whose ``forward`` also accepts a ``LayerKVCache`` and a padding-aware mask, and runs either the
  teaching arithmetic or ``F.scaled_dot_product_attention`` (``impl``). ``GPTModel``'s blocks use it.

The cache is an explicit object passed through ``GPTModel.forward``, not hidden state inside the
modules: a model can serve several generations at once and a plain forward pass never sees a
stale cache. ``generate.py`` decides when to create, fill and reset it.
"""

from __future__ import annotations

import torch

from .attention import ATTN_IMPLS, MultiHeadAttention, attend, check_attention_input


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
            raise ValueError(
                f"the KV cache was filled with batch size {self.keys.shape[0]}, got {b}; use a new cache"
            )
        self.keys[:, :, self.length : end] = keys
        self.values[:, :, self.length : end] = values
        self.length = end
        return self.keys[:, :, :end], self.values[:, :, :end]  # (B, H, T_past + T_new, D), views

    def reset(self) -> None:
        """Forget every cached token (the buffer is kept for reuse)."""
        self.length = 0

    def keep_rows(self, rows: torch.Tensor, start: int = 0) -> None:
        """Keep only batch rows ``rows`` and cached positions ``start ..`` (a new buffer, same capacity)."""
        if self.keys is None:
            return
        keys = self.keys[rows, :, start : self.length]  # (B_kept, H, T_kept, D)
        values = self.values[rows, :, start : self.length]
        self.keys, self.values, self.length = None, None, 0
        self.append(keys, values)


class KVCache:
    """One ``LayerKVCache`` per transformer block. ``len(cache)`` = number of tokens cached.

    Make one with ``model.new_kv_cache()`` and pass it to ``model(token_ids, kv_cache=cache)``.
    ``GPTModel`` also records here, for every cached position, the token id and whether it is a real
    token or left padding (``token_ids``, ``attention_mask``): later calls then pass only the new
    tokens (and their mask, or none when they are all real), and ``generate`` can rebuild the cache
    from its own record when the context window slides.
    """

    def __init__(self, n_layers: int, capacity: int):
        self.layers = [LayerKVCache(capacity) for _ in range(n_layers)]
        self.capacity = capacity
        self._ids: torch.Tensor | None = None  # (B, capacity) token ids
        self._real: torch.Tensor | None = None  # (B, capacity) True = real token; None while all are real

    def __len__(self) -> int:
        return self.layers[-1].length  # the last layer is written last: all layers agree between passes

    @property
    def token_ids(self) -> torch.Tensor | None:
        """The ``(B, len(cache))`` ids the cache holds (None before the first pass)."""
        return None if self._ids is None else self._ids[:, : len(self)]

    @property
    def attention_mask(self) -> torch.Tensor | None:
        """``(B, len(cache))`` booleans, True = real token, False = padding; None if all are real."""
        return None if self._real is None else self._real[:, : len(self)]

    def record(self, token_ids: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor | None:
        """Note the new tokens ``(B, T_new)`` and their mask; return the mask of cached + new tokens.

        Called by the model before its layers append keys and values. Returns ``(B, len + T_new)``
        booleans (True = real), or None when every token so far is real.
        """
        past, (b, n_new) = len(self), token_ids.shape
        end = past + n_new
        if end > self.capacity:  # the layers would refuse too; say it before anything changes
            raise ValueError(
                f"input has {n_new} tokens after {past} cached tokens but context_length is {self.capacity}; "
                f"crop it to the last {self.capacity} tokens (or reset the cache)"
            )
        if self._ids is None or past == 0:
            self._ids = token_ids.new_empty(b, self.capacity)
            self._real = None
        elif self._ids.shape[0] != b:
            raise ValueError(
                f"the KV cache was filled with batch size {self._ids.shape[0]}, got {b}; use a new cache"
            )
        self._ids[:, past:end] = token_ids
        if attention_mask is not None and self._real is None:
            self._real = torch.ones(b, self.capacity, dtype=torch.bool, device=token_ids.device)
        if self._real is not None:
            self._real[:, past:end] = True if attention_mask is None else attention_mask
        return self.attention_mask if self._real is None else self._real[:, :end]

    def reset(self) -> None:
        for layer in self.layers:
            layer.reset()
        self._real = None

    def keep_rows(self, rows: torch.Tensor, start: int = 0) -> None:
        """Keep only batch rows ``rows`` (indices), and cached positions from ``start`` on.

        Batched generation calls it when some rows have finished, so they stop costing work; ``start``
        drops leading columns that are padding in every kept row (positions count real tokens only,
        so the kept rows' keys, values and positions do not change).
        """
        if not 0 <= start <= len(self):
            raise ValueError(f"start must be between 0 and the {len(self)} cached tokens, got {start}")
        end = len(self)
        for layer in self.layers:
            layer.keep_rows(rows, start)
        if self._ids is not None:
            ids = self._ids[rows]  # (B_kept, capacity)
            self._ids = ids.new_empty(ids.shape)
            self._ids[:, : end - start] = ids[:, start:end]
        if self._real is not None:
            real = self._real[rows]
            self._real = real.new_ones(real.shape)
            self._real[:, : end - start] = real[:, start:end]

    def crop(self, length: int) -> None:
        """Keep only the first ``length`` cached tokens (a chat reuses the part of the conversation that did not change)."""
        if not 0 <= length <= len(self):
            raise ValueError(f"length must be between 0 and the {len(self)} cached tokens, got {length}")
        if length == 0:
            self.reset()
            return
        for layer in self.layers:
            layer.length = length


class CachedMultiHeadAttention(MultiHeadAttention):
    """``MultiHeadAttention`` that can read and extend a ``LayerKVCache``, and run on either implementation.

    What changed compared with chapter 3's class (weights, names and the cache-free maths are identical):

    1. only the *new* tokens are projected to queries, keys and values;
    2. their keys/values are appended to the cache, and the queries attend over all cached keys;
    3. the mask of hidden positions comes from the caller (``GPTModel`` builds one per forward pass
       for all its blocks: causal rows ``past .. past + T_new``, plus left padding); without one it
       is the causal mask for the new tokens, made on the fly, so the module owns no mask buffer;
    4. ``impl`` picks the arithmetic (``attention.attend``): ``"teaching"``, chapter 3's masked
       softmax, or ``"sdpa"``, ``F.scaled_dot_product_attention``. Same parameters, same outputs up
       to float rounding, so state dicts move freely between the two.
    """

    owns_mask = False

    def __init__(self, *args, impl: str = "teaching", **kwargs):
        super().__init__(*args, **kwargs)
        if impl not in ATTN_IMPLS:
            raise ValueError(f"impl must be one of {ATTN_IMPLS}, got {impl!r}")
        self.impl = impl

    def forward(
        self, x: torch.Tensor, cache: LayerKVCache | None = None, hidden: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_attention_input(x, self.d_in, self.context_length)
        queries = self._split_heads(self.W_query(x))  # (B, T_new, C) -> (B, H, T_new, D)
        keys = self._split_heads(self.W_key(x))  # (B, H, T_new, D)
        values = self._split_heads(self.W_value(x))  # (B, H, T_new, D)
        if cache is not None:
            keys, values = cache.append(keys, values)  # (B, H, T_all, D), T_all = past + T_new
        context = attend(
            queries, keys, values, hidden, impl=self.impl, dropout=self.dropout
        )  # (B, H, T_new, D)
        return self.out_proj(self._merge_heads(context))  # (B, T_new, C)
