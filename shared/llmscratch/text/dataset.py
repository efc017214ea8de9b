"""Turning a token stream into (input, target) training pairs for next-token prediction.

``NextTokenDataset`` holds the whole text as *one* tensor of token ids and hands out windows as
views into it (``Tensor.unfold``), so a stride-1 dataset over a million tokens costs the 8 MB of
that one tensor rather than a copied tensor per window (which would be gigabytes).
``create_dataloader`` tokenizes text and wraps the dataset in a ``DataLoader``.

Targets are the inputs shifted one token to the left: position ``t`` learns to predict token ``t+1``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import DataLoader, Dataset

from ..constants import ENDOFTEXT
from .gpt2 import gpt2_encoding


class NextTokenDataset(Dataset):
    """Sliding windows of ``max_length`` tokens, ``stride`` tokens apart, with shifted targets.

    >>> ds = NextTokenDataset([0, 1, 2, 3, 4, 5], max_length=3, stride=2)
    >>> len(ds), ds[0], ds[1]
    (2, (tensor([0, 1, 2]), tensor([1, 2, 3])), (tensor([2, 3, 4]), tensor([3, 4, 5])))
    """

    def __init__(self, token_ids: Sequence[int] | torch.Tensor, max_length: int, stride: int):
        if max_length < 1:
            raise ValueError(f"max_length must be at least 1, got {max_length}")
        if stride < 1:
            raise ValueError(
                f"stride must be at least 1, got {stride} (1 = every position, max_length = no overlap)"
            )
        try:
            if isinstance(token_ids, str):
                raise TypeError("a str")
            ids = torch.as_tensor(token_ids, dtype=torch.long)
        except (TypeError, ValueError, RuntimeError) as err:  # e.g. strings: "too many dimensions 'str'"
            sample = token_ids if isinstance(token_ids, str) else next(iter(token_ids), None)
            raise TypeError(
                f"token_ids must be integer token ids, got {type(sample).__name__} values such as {sample!r:.40}; "
                "tokenize the text first (tokenizer.encode(text)) or use create_dataloader(text)"
            ) from err
        if ids.ndim != 1:
            raise ValueError(f"token_ids must be one flat sequence, got shape {tuple(ids.shape)}")
        if len(ids) == 0:
            raise ValueError("no tokens: the text is empty")
        if len(ids) < max_length + 1:
            raise ValueError(
                f"the text has {len(ids)} tokens but max_length={max_length} needs at least "
                f"{max_length + 1} (one window plus the shifted target); use more text or a smaller max_length"
            )
        self.token_ids = ids
        self.max_length, self.stride = max_length, stride
        # (num_windows, max_length + 1): a view, no copy. Row i covers ids[i*stride : i*stride + max_length + 1].
        self.windows = ids.unfold(0, max_length + 1, stride)

    def __len__(self) -> int:
        return self.windows.shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        window = self.windows[index]  # (max_length + 1,)
        return window[:-1], window[1:]


def create_dataloader(
    text: str,
    *,
    tokenizer=None,
    batch_size: int = 4,
    max_length: int = 256,
    stride: int = 128,
    shuffle: bool = True,
    drop_last: bool = True,
    num_workers: int = 0,
    generator: torch.Generator | None = None,
) -> DataLoader:
    """Tokenize ``text`` (GPT-2 BPE by default) and batch its sliding windows.

    Each batch is ``(inputs, targets)``, both of shape ``(batch_size, max_length)``.
    ``drop_last=True`` drops a short final batch (a tiny batch gives a noisy gradient step);
    pass a seeded ``generator`` for a reproducible shuffle order.
    """
    if not text:
        raise ValueError("text is empty: there is nothing to make training windows from")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if tokenizer is None:
        tokenizer = gpt2_encoding()
    if hasattr(tokenizer, "special_tokens_set"):  # a tiktoken encoding: keep <|endoftext|> as one token
        token_ids = tokenizer.encode(text, allowed_special={ENDOFTEXT})
    else:  # chapter 2's word tokenizers handle <|endoftext|> themselves
        token_ids = tokenizer.encode(text)
    dataset = NextTokenDataset(token_ids, max_length=max_length, stride=stride)
    if drop_last and len(dataset) < batch_size:
        raise ValueError(
            f"only {len(dataset)} window(s) of {max_length} tokens fit in the text, fewer than "
            f"batch_size={batch_size}, so drop_last=True would leave no batch at all; "
            "use a smaller batch_size, max_length or stride, or drop_last=False"
        )
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        num_workers=num_workers,
        generator=generator,
    )
