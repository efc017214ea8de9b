"""Sliding-window (local) attention: which keys a token may see, and a KV cache that forgets the rest.

In a *global* layer (everything so far in the package) token ``p`` attends to every earlier token.
In a *local* layer with window ``w`` it attends only to the last ``w`` tokens, itself included:
keys at positions ``p - w + 1 .. p``. Information from further back still arrives, but only
through the global layers (and through the residual stream of earlier local layers). Gemma 3
alternates five local layers (``w = 512`` in the 270M model) with one global layer.

- ``sliding_window_mask``: the ``(T_new, T_keys)`` mask of a local layer, True where attention
  is allowed (causal *and* within the window).
- ``SlidingLayerKVCache``: a local layer's cache. Between steps it keeps only the keys and values
  of the last ``w - 1`` positions (the next token brings its own key, so it sees exactly ``w``):
  its memory stays fixed however long the text grows, where ``kv_cache.LayerKVCache`` grows by
  one position per token. It has the same ``append`` / ``reset`` / ``keep_rows`` / ``length``
  interface, so ``llama.GroupedQueryAttention`` and the cache containers use either one.
"""

from __future__ import annotations

import torch


def sliding_window_mask(
    past: int, n_new: int, window: int, *, start: int = 0, device: torch.device | str | None = None
) -> torch.Tensor:
    """``(n_new, past + n_new - start)`` booleans, True where a new token may look at a key.

    The queries are positions ``past .. past + n_new - 1``; the keys are positions ``start ..
    past + n_new - 1`` (a sliding cache has dropped the ones before ``start``). Query ``q`` sees
    key ``k`` when ``0 <= q - k < window``.

    >>> sliding_window_mask(past=0, n_new=4, window=2).int().tolist()
    [[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]
    >>> sliding_window_mask(past=5, n_new=1, window=3, start=2).int().tolist()  # keys 2..5: 2 is too far
    [[0, 1, 1, 1]]
    """
    if window < 1:
        raise ValueError(f"window must be at least 1 (the token itself), got {window}")
    if not 0 <= start <= past:
        raise ValueError(f"start must be between 0 and past={past}, got {start}")
    q_pos = torch.arange(past, past + n_new, device=device).unsqueeze(1)  # (T_new, 1)
    k_pos = torch.arange(start, past + n_new, device=device).unsqueeze(0)  # (1, T_keys)
    distance = q_pos - k_pos  # (T_new, T_keys): how far back each key is
    return (distance >= 0) & (distance < window)


class SlidingLayerKVCache:
    """Keys and values of one local-attention layer: only the last ``window - 1`` positions.

    ``length`` counts every position seen (what ``len(cache)`` reports, as for a full cache);
    ``held`` is how many are stored (at most ``window - 1`` between calls) and ``start`` the
    position of the oldest stored one. ``append`` returns the stored keys followed by the new
    ones, ``(B, H, held + T_new, D)``, then keeps the last ``window - 1`` of them.
    """

    def __init__(self, window: int):
        if window < 1:
            raise ValueError(f"window must be at least 1 (the token itself), got {window}")
        self.window = window
        self.length = 0
        self.keys: torch.Tensor | None = None  # (B, H, held, D)
        self.values: torch.Tensor | None = None

    @property
    def held(self) -> int:
        """Positions stored right now (``min(length, window - 1)`` between calls)."""
        return 0 if self.keys is None else self.keys.shape[2]

    @property
    def start(self) -> int:
        """The position of the oldest stored key (0 until the window starts to slide)."""
        return self.length - self.held

    def append(self, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Add the new tokens' ``(B, H, T_new, D)`` keys/values; return the stored ones plus these."""
        n_new = keys.shape[2]
        if self.keys is not None:
            if self.keys.shape[0] != keys.shape[0]:
                raise ValueError(
                    f"the KV cache was filled with batch size {self.keys.shape[0]}, got {keys.shape[0]}; "
                    "use a new cache"
                )
            keys = torch.cat([self.keys, keys], dim=2)  # (B, H, held + T_new, D)
            values = torch.cat([self.values, values], dim=2)
        keep = min(self.window - 1, keys.shape[2])
        # Copies, so the longer tensors can be freed: the cache's memory is the window, never more.
        self.keys = keys[:, :, keys.shape[2] - keep :].clone()  # (B, H, keep, D)
        self.values = values[:, :, values.shape[2] - keep :].clone()
        self.length += n_new
        return keys, values

    def reset(self) -> None:
        """Forget every cached token."""
        self.length, self.keys, self.values = 0, None, None

    def keep_rows(self, rows: torch.Tensor, start: int = 0) -> None:
        """Keep batch rows ``rows`` and positions ``start ..`` (positions renumber from 0, as in ``LayerKVCache``)."""
        if not 0 <= start <= self.length:
            raise ValueError(f"start must be between 0 and the {self.length} cached tokens, got {start}")
        if self.keys is not None:
            drop = max(0, start - self.start)  # stored positions before ``start``
            self.keys = self.keys[rows, :, drop:].clone()
            self.values = self.values[rows, :, drop:].clone()
        self.length -= start
        if self.length == 0:
            self.keys = self.values = None
