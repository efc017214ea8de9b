"""The input layer of a GPT: token embeddings plus learned absolute position embeddings.

Token ids ``(B, T)`` become vectors ``(B, T, emb_dim)``: row ``token_ids[b, t]`` of the token
table plus row ``start_pos + t`` of the position table. Chapter 2 builds this by hand; ``GPTModel``
uses this module as its first layer. ``start_pos`` is 0 except when generating with a KV cache,
where the new tokens continue a sequence whose first ``start_pos`` tokens are already cached.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def check_token_ids(token_ids: torch.Tensor, vocab_size: int, *, name: str = "token_ids") -> None:
    """Clear errors for ids a model cannot embed: wrong shape, not integers, empty, out of range.

    The range check reads the ids' minimum and maximum, which for a tensor on a GPU means waiting
    for the device (a device-to-host sync) and which ``torch.compile`` cannot trace. So it runs only
    on CPU tensors, and not while compiling; on a GPU an out-of-range id still fails (as a
    device-side assert in the lookup), and ``generate`` checks its prompt on the CPU before moving it.
    The shape, dtype and emptiness checks read only metadata and always run.
    """
    if not torch.is_tensor(token_ids) or token_ids.ndim != 2:
        shape = tuple(token_ids.shape) if torch.is_tensor(token_ids) else type(token_ids).__name__
        raise ValueError(
            f"{name} must be a (batch, seq_len) tensor, got {shape}; for one sequence use ids.unsqueeze(0)"
        )
    if token_ids.dtype.is_floating_point or token_ids.dtype.is_complex or token_ids.dtype == torch.bool:
        raise TypeError(
            f"{name} must hold integer token ids (torch.long), got {token_ids.dtype}; convert with {name}.long()"
        )
    if token_ids.shape[1] == 0:
        raise ValueError(
            f"{name} is empty (shape {tuple(token_ids.shape)}): give at least one token id per row"
        )
    if token_ids.device.type == "cpu" and not torch.compiler.is_compiling():
        lo, hi = int(token_ids.min()), int(token_ids.max())
        if lo < 0 or hi >= vocab_size:
            bad = hi if hi >= vocab_size else lo
            raise ValueError(f"token id {bad} is outside the vocabulary [0, {vocab_size})")


class GPTEmbedding(nn.Module):
    """``tok_emb(token_ids) + pos_emb(positions)``; clear errors for bad ids or too-long input.

    Positions are ``start_pos, start_pos + 1, ...`` for every row, or, for a batch with left
    padding, a ``(B, T)`` tensor ``positions`` counting only each row's real tokens (``GPTModel``
    computes it from the attention mask), so a padded row is embedded like the same row unpadded.
    """

    def __init__(self, vocab_size: int, context_length: int, emb_dim: int):
        super().__init__()
        self.vocab_size, self.context_length = vocab_size, context_length
        self.tok_emb = nn.Embedding(vocab_size, emb_dim)
        self.pos_emb = nn.Embedding(context_length, emb_dim)

    def forward(
        self,
        token_ids: torch.Tensor,
        start_pos: int = 0,
        *,
        positions: torch.Tensor | None = None,
        sparse_grad: bool = False,
    ) -> torch.Tensor:
        """``sparse_grad=True``: the token table's gradient from this lookup is a sparse tensor (the
        rows of the looked-up ids only) instead of a dense zero table with those rows filled in.
        ``GPTModel`` asks for it when the table is shared with its output layer, whose dense gradient
        then absorbs the few rows in place (see ``GPTModel.forward``)."""
        check_token_ids(token_ids, self.vocab_size)
        seq_len = token_ids.shape[1]
        if start_pos + seq_len > self.context_length:
            already = f" after {start_pos} cached tokens" if start_pos else ""
            raise ValueError(
                f"input has {seq_len} tokens{already} but context_length is {self.context_length}; "
                f"crop it to the last {self.context_length} tokens"
            )
        if positions is None:
            positions = torch.arange(start_pos, start_pos + seq_len, device=token_ids.device)  # (T,)
        tokens = (
            F.embedding(token_ids, self.tok_emb.weight, sparse=True)
            if sparse_grad
            else self.tok_emb(token_ids)
        )  # (B, T, C)
        return tokens + self.pos_emb(positions)  # (B, T, C) + (T, C) or (B, T, C) -> (B, T, C)
