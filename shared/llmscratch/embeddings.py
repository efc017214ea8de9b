"""The input layer of a GPT: token embeddings plus learned absolute position embeddings.

Token ids ``(B, T)`` become vectors ``(B, T, emb_dim)``: row ``token_ids[b, t]`` of the token
table plus row ``start_pos + t`` of the position table. Chapter 2 builds this by hand; ``GPTModel``
uses this module as its first layer. ``start_pos`` is 0 except when generating with a KV cache,
where the new tokens continue a sequence whose first ``start_pos`` tokens are already cached.
"""

from __future__ import annotations

import torch
from torch import nn


class GPTEmbedding(nn.Module):
    """``tok_emb(token_ids) + pos_emb(positions)``; clear errors for bad ids or too-long input."""

    def __init__(self, vocab_size: int, context_length: int, emb_dim: int):
        super().__init__()
        self.vocab_size, self.context_length = vocab_size, context_length
        self.tok_emb = nn.Embedding(vocab_size, emb_dim)
        self.pos_emb = nn.Embedding(context_length, emb_dim)

    def forward(self, token_ids: torch.Tensor, start_pos: int = 0) -> torch.Tensor:
        if token_ids.ndim != 2:
            raise ValueError(f"token_ids must have shape (batch, seq_len), got {tuple(token_ids.shape)}")
        seq_len = token_ids.shape[1]
        if start_pos + seq_len > self.context_length:
            already = f" after {start_pos} cached tokens" if start_pos else ""
            raise ValueError(
                f"input has {seq_len} tokens{already} but context_length is {self.context_length}; "
                f"crop it to the last {self.context_length} tokens"
            )
        # One reduction; on a GPU an out-of-range id would otherwise be an opaque device assert.
        lo, hi = int(token_ids.min()), int(token_ids.max())
        if lo < 0 or hi >= self.vocab_size:
            bad = hi if hi >= self.vocab_size else lo
            raise ValueError(f"token id {bad} is outside the vocabulary [0, {self.vocab_size})")
        positions = torch.arange(start_pos, start_pos + seq_len, device=token_ids.device)  # (T,)
        return self.tok_emb(token_ids) + self.pos_emb(positions)  # (B, T, C) + (T, C) -> (B, T, C)
