"""The pretraining CLI's data: text files -> GPT-2 token ids -> train/validation loaders for this rank.

``read_corpus`` joins one file or a folder of ``.txt``/``.md`` files with ``<|endoftext|>``;
``split_tokens`` holds out the last share for validation; ``make_loaders`` cuts both into windows
(``text.dataset.NextTokenDataset``) behind a ``DistributedSampler``, so every ``torchrun`` rank
trains on its own share, and says in one error how much text is missing when the corpus is too small.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from torch.utils.data import DataLoader, DistributedSampler

from ..assets import read_text
from ..constants import ENDOFTEXT
from ..text.dataset import NextTokenDataset
from ..text.gpt2 import gpt2_encoding
from . import distributed

TEXT_SUFFIXES = (".txt", ".md")


def read_corpus(path: Path) -> str:
    """One text file, or every .txt/.md file under a folder (sorted), joined with ``<|endoftext|>``."""
    files = (
        [path]
        if path.is_file()
        else sorted(p for p in path.rglob("*") if p.suffix in TEXT_SUFFIXES and p.is_file())
    )
    if not files:
        raise ValueError(f"{path} holds no .txt or .md files")
    return ENDOFTEXT.join(read_text(f) for f in files)


def split_tokens(token_ids: list[int], val_fraction: float) -> tuple[list[int], list[int]]:
    """The first ``1 - val_fraction`` of the tokens for training, the rest for validation."""
    n_train = int(round(len(token_ids) * (1.0 - val_fraction)))
    return token_ids[:n_train], token_ids[n_train:]


def tokens_needed(n_windows: int, context_length: int, stride: int) -> int:
    """Tokens needed for ``n_windows`` windows of ``context_length`` (+1 for the last target), ``stride`` apart."""
    return (n_windows - 1) * stride + context_length + 1


def check_corpus_size(
    n_tokens: int, *, windows: int, context_length: int, stride: int, split: str, hint: str
) -> None:
    """Raise ``ValueError`` with both numbers when ``n_tokens`` cannot fill ``windows`` windows."""
    need = tokens_needed(windows, context_length, stride)
    if n_tokens < need:
        raise ValueError(
            f"corpus too small: the {split} split has {n_tokens:,} tokens, but {windows} window(s) of {context_length} "
            f"tokens (stride {stride}) need at least {need:,}; {hint}"
        )


def make_loaders(args: argparse.Namespace, context_length: int, ctx: distributed.DistContext):
    """Tokenize the corpus and build the train (and validation) loaders for this rank."""
    token_ids = gpt2_encoding().encode(read_corpus(args.data), allowed_special={ENDOFTEXT})
    train_ids, val_ids = split_tokens(token_ids, args.val_fraction)
    stride = args.stride or context_length
    hint = "use more text, or a smaller --batch-size, --context-length or --stride (or fewer processes)"
    check_corpus_size(
        len(train_ids),
        windows=args.batch_size * ctx.world_size,
        context_length=context_length,
        stride=stride,
        split="training",
        hint=hint,
    )
    train_ds = NextTokenDataset(train_ids, context_length, stride)
    sampler = DistributedSampler(
        train_ds, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=args.seed, drop_last=True
    )
    train_loader = DataLoader(train_ds, batch_size=args.batch_size, sampler=sampler, drop_last=True)
    val_loader = None
    if args.val_fraction > 0:
        check_corpus_size(
            len(val_ids),
            windows=ctx.world_size,
            context_length=context_length,
            stride=stride,
            split="validation",
            hint="use more text, a larger --val-fraction, or --val-fraction 0",
        )
        val_ds = NextTokenDataset(val_ids, context_length, stride)
        val_sampler = DistributedSampler(
            val_ds, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=False, drop_last=True
        )
        val_loader = DataLoader(val_ds, batch_size=args.batch_size, sampler=val_sampler)
    return train_loader, val_loader, len(train_ids), len(val_ids)
